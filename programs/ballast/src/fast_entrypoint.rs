//! The deployed program's entrypoint (feature `fast-entrypoint`, set by `scripts/build-sbf.sh`;
//! docs/decisions.md "Compute and program size").
//!
//! It hands Anchor's `entry` the same `AccountInfo`s the SDK's `entrypoint!` builds, for less:
//! the accounts are read from the loader's input in one tight pass, and the list is leaked
//! instead of dropped (the heap is a bump allocator that never frees, so dropping each
//! account's two `Rc`s was pure cost). About 75 compute units less per account, i.e. per
//! instruction and, with a `(reserve, oracle)` pair per position slot, per slot.
//!
//! The feature turns Anchor's own entrypoint off (`no-entrypoint`), so a build without it (a
//! plain `anchor build`) is the same program behind the SDK's entrypoint. The reader is compiled
//! on the host too, where a test holds it to the SDK's own on the same input.
use std::cell::RefCell;
use std::rc::Rc;

use anchor_lang::prelude::*;
use anchor_lang::solana_program::entrypoint::{MAX_PERMITTED_DATA_INCREASE, NON_DUP_MARKER};

/// Byte offsets inside one serialized account (the loader's aligned layout, ABI v1): a
/// duplicate marker, three flags, four bytes the program may use (the SDK, and this entrypoint,
/// keep the original data length there for `AccountInfo::resize`), key, owner, lamports, data
/// length, then the data, room to grow it, and the rent epoch, padded to 8 bytes.
const IS_SIGNER: usize = 1;
const IS_WRITABLE: usize = 2;
const EXECUTABLE: usize = 3;
const ORIGINAL_DATA_LEN: usize = 4;
const KEY: usize = 8;
const OWNER: usize = 40;
const LAMPORTS: usize = 72;
const DATA_LEN: usize = 80;
const DATA: usize = 88;
/// After the data: the room to grow it and the rent epoch.
const DATA_TAIL: usize = MAX_PERMITTED_DATA_INCREASE + 8;
/// A duplicate is its marker (the index of the first occurrence) and 7 bytes of padding.
const DUPLICATE: usize = 8;

#[cfg(all(target_os = "solana", feature = "fast-entrypoint"))]
mod sbf {
    // The heap and the panic handler the SDK's `entrypoint!` would have declared.
    anchor_lang::solana_program::entrypoint::custom_heap_default!();
    anchor_lang::solana_program::entrypoint::custom_panic_default!();

    /// # Safety
    /// Called by the SBF loader only, with its serialized input.
    #[no_mangle]
    pub unsafe extern "C" fn entrypoint(input: *mut u8) -> u64 {
        let result = super::deserialize(input)
            .and_then(|(program_id, accounts, data)| crate::entry(program_id, accounts, data));
        match result {
            Ok(()) => anchor_lang::solana_program::entrypoint::SUCCESS,
            Err(error) => error.into(),
        }
    }
}

/// The program id, accounts and instruction data in the loader's serialized `input`. The
/// account list is leaked: it lives as long as the instruction.
///
/// # Safety
/// `input` is the loader's serialized input (8-byte aligned), or a buffer laid out the same.
#[inline(always)]
#[cfg_attr(not(target_os = "solana"), allow(dead_code))]
pub unsafe fn deserialize<'a>(
    input: *mut u8,
) -> std::result::Result<(&'a Pubkey, &'a [AccountInfo<'a>], &'a [u8]), ProgramError> {
    let count = *(input as *const u64) as usize;
    let mut at = 8;
    let mut accounts: Vec<AccountInfo> = Vec::with_capacity(count);
    let list = accounts.as_mut_ptr();
    for i in 0..count {
        let account = input.add(at);
        let marker = *account;
        let info = if marker == NON_DUP_MARKER {
            let len = *(account.add(DATA_LEN) as *const u64) as usize;
            // The runtime caps account data far below 4 GiB (10 MiB), so the length fits.
            *(account.add(ORIGINAL_DATA_LEN) as *mut u32) = len as u32;
            // Wrapping: the loader's buffer is far smaller than the address space, and an overflow
            // check here cost ~15 compute units per account.
            at = at.wrapping_add(DATA.wrapping_add(len).wrapping_add(DATA_TAIL + 7) & !7);
            #[allow(deprecated)] // `_unused` is the old rent epoch; the layout still has it.
            AccountInfo {
                key: &*(account.add(KEY) as *const Pubkey),
                lamports: Rc::new(RefCell::new(&mut *(account.add(LAMPORTS) as *mut u64))),
                data: Rc::new(RefCell::new(std::slice::from_raw_parts_mut(account.add(DATA), len))),
                owner: &*(account.add(OWNER) as *const Pubkey),
                _unused: 0,
                is_signer: *account.add(IS_SIGNER) != 0,
                is_writable: *account.add(IS_WRITABLE) != 0,
                executable: *account.add(EXECUTABLE) != 0,
            }
        } else {
            at += DUPLICATE;
            // The loader marks a repeat with the index of its first occurrence, an earlier one:
            // the copy shares that account's cells, so a second mutable borrow still fails.
            let first = marker as usize;
            if first >= i {
                return Err(ProgramError::InvalidAccountData);
            }
            (*list.add(first)).clone()
        };
        list.add(i).write(info);
    }
    accounts.set_len(count);
    let data_len = *(input.add(at) as *const u64) as usize;
    let data = std::slice::from_raw_parts(input.add(at + 8), data_len);
    let program_id = &*(input.add(at + 8 + data_len) as *const Pubkey);
    Ok((program_id, accounts.leak(), data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::solana_program::entrypoint::deserialize as sdk_deserialize;

    enum Entry {
        Account { key: Pubkey, owner: Pubkey, lamports: u64, data: Vec<u8>, flags: [bool; 3] },
        Duplicate(u8),
    }

    /// The loader's aligned serialization of `entries`, instruction data and program id, in
    /// 8-byte aligned memory as the runtime hands it over.
    fn serialize(entries: &[Entry], ix_data: &[u8], program_id: &Pubkey) -> Vec<u64> {
        let mut b = (entries.len() as u64).to_le_bytes().to_vec();
        for entry in entries {
            match entry {
                Entry::Duplicate(first) => {
                    b.push(*first);
                    b.extend([0; 7]);
                }
                Entry::Account { key, owner, lamports, data, flags } => {
                    b.push(NON_DUP_MARKER);
                    b.extend(flags.map(u8::from));
                    b.extend([0; 4]);
                    b.extend(key.as_ref());
                    b.extend(owner.as_ref());
                    b.extend(lamports.to_le_bytes());
                    b.extend((data.len() as u64).to_le_bytes());
                    b.extend(data);
                    b.resize(b.len() + MAX_PERMITTED_DATA_INCREASE, 0);
                    b.resize(b.len().next_multiple_of(8), 0);
                    b.extend(u64::MAX.to_le_bytes()); // rent epoch
                }
            }
        }
        b.extend((ix_data.len() as u64).to_le_bytes());
        b.extend(ix_data);
        b.extend(program_id.as_ref());
        let mut words = vec![0u64; b.len().div_ceil(8)];
        bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..b.len()].copy_from_slice(&b);
        words
    }

    fn account(len: usize, flags: [bool; 3]) -> Entry {
        let data = (0..len).map(|i| i as u8 ^ 0x5a).collect();
        Entry::Account {
            key: Pubkey::new_unique(),
            owner: Pubkey::new_unique(),
            lamports: 7 * len as u64 + 1,
            data,
            flags,
        }
    }

    /// Reads `entries` (and `ix_data`) with both readers and holds ours to the SDK's: the same
    /// accounts over the same input bytes, and the same bytes written back. Returns ours.
    fn read_like_the_sdk(entries: &[Entry], ix_data: &[u8]) -> &'static [AccountInfo<'static>] {
        let program_id = Pubkey::new_unique();
        // Leaked, as the loader's buffer outlives the instruction.
        let sdk_input = Box::leak(serialize(entries, ix_data, &program_id).into_boxed_slice());
        let input = Box::leak(sdk_input.to_vec().into_boxed_slice());
        let (sdk_id, sdk_accounts, sdk_data) = unsafe { sdk_deserialize(sdk_input.as_mut_ptr() as *mut u8) };
        let (id, accounts, data) = unsafe { deserialize(input.as_mut_ptr() as *mut u8) }.unwrap();
        assert_eq!((id, data), (sdk_id, sdk_data));
        assert_eq!(accounts.len(), sdk_accounts.len());
        let (base, sdk_base) = (input.as_ptr() as usize, sdk_input.as_ptr() as usize);
        let at = |p: *const u8, base: usize| p as usize - base;
        for (ours, sdk) in accounts.iter().zip(&sdk_accounts) {
            assert_eq!((ours.key, ours.owner), (sdk.key, sdk.owner));
            assert_eq!(
                (ours.is_signer, ours.is_writable, ours.executable),
                (sdk.is_signer, sdk.is_writable, sdk.executable)
            );
            assert_eq!(ours.lamports(), sdk.lamports());
            assert_eq!(*ours.data.borrow(), *sdk.data.borrow());
            // The same bytes of the input, not copies.
            assert_eq!(at(ours.data.borrow().as_ptr(), base), at(sdk.data.borrow().as_ptr(), sdk_base));
            assert_eq!(at(ours.key.as_ref().as_ptr(), base), at(sdk.key.as_ref().as_ptr(), sdk_base));
            assert_eq!(at(ours.owner.as_ref().as_ptr(), base), at(sdk.owner.as_ref().as_ptr(), sdk_base));
            let lamports = |a: &AccountInfo| &**a.lamports.borrow() as *const u64 as *const u8;
            assert_eq!(at(lamports(ours), base), at(lamports(sdk), sdk_base));
        }
        // Both wrote the original data lengths into the same padding bytes.
        assert_eq!(input, sdk_input);
        accounts
    }

    #[test]
    fn reads_the_loader_input_as_the_sdk_does() {
        // Data lengths on and off the 8-byte grid, every flag, duplicates of the first and of a
        // later account, and empty instruction data as well as some.
        let entries = [
            account(165, [true, true, false]),
            account(0, [false, false, true]),
            Entry::Duplicate(0),
            account(1_032, [false, true, false]),
            account(7, [true, false, false]),
            Entry::Duplicate(3),
            account(1, [false, false, false]),
        ];
        for ix_data in [&[][..], &[9, 8, 7, 6, 5, 4, 3, 2, 1][..]] {
            let accounts = read_like_the_sdk(&entries, ix_data);
            // A duplicate shares its first occurrence's cells: one mutable borrow at a time.
            assert!(Rc::ptr_eq(&accounts[2].data, &accounts[0].data));
            assert!(Rc::ptr_eq(&accounts[5].lamports, &accounts[3].lamports));
            let _held = accounts[0].try_borrow_mut_data().unwrap();
            assert!(accounts[2].try_borrow_mut_data().is_err());
        }
        // An instruction without accounts.
        assert!(read_like_the_sdk(&[], &[1, 2, 3]).is_empty());
    }

    #[test]
    fn a_duplicate_of_a_later_account_is_refused() {
        let entries = [account(8, [false; 3]), Entry::Duplicate(1), account(8, [false; 3])];
        let mut input = serialize(&entries, &[], &Pubkey::new_unique());
        let result = unsafe { deserialize(input.as_mut_ptr() as *mut u8) };
        assert_eq!(result.err(), Some(ProgramError::InvalidAccountData));
    }
}
