//! The deployed program's entrypoint (feature `fast-entrypoint`, set by `scripts/build-sbf.sh`;
//! docs/decisions.md "Compute and program size").
//!
//! It hands Anchor's `entry` the same `AccountInfo`s the SDK's `entrypoint!` builds, for less:
//! the accounts are read from the loader's input in one tight pass, and the list is leaked
//! instead of dropped (the heap is a bump allocator that never frees, so dropping each
//! account's two `Rc`s was pure cost). About 90 compute units less per account, i.e. per
//! instruction and, with a `(reserve, oracle)` pair per position slot, per slot.
//!
//! The feature turns Anchor's own entrypoint off (`no-entrypoint`), so a build without it (a
//! plain `anchor build`) is the same program behind the SDK's entrypoint.
use std::cell::RefCell;
use std::rc::Rc;

use anchor_lang::prelude::*;
use anchor_lang::solana_program::entrypoint::{MAX_PERMITTED_DATA_INCREASE, NON_DUP_MARKER, SUCCESS};

// The heap and the panic handler the SDK's `entrypoint!` would have declared.
anchor_lang::solana_program::entrypoint::custom_heap_default!();
anchor_lang::solana_program::entrypoint::custom_panic_default!();

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

/// # Safety
/// Called by the SBF loader only, with its serialized input.
#[no_mangle]
pub unsafe extern "C" fn entrypoint(input: *mut u8) -> u64 {
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
                return ProgramError::InvalidAccountData.into();
            }
            (*list.add(first)).clone()
        };
        list.add(i).write(info);
    }
    accounts.set_len(count);
    let data_len = *(input.add(at) as *const u64) as usize;
    let data = std::slice::from_raw_parts(input.add(at + 8), data_len);
    let program_id = &*(input.add(at + 8 + data_len) as *const Pubkey);
    match crate::entry(program_id, accounts.leak(), data) {
        Ok(()) => SUCCESS,
        Err(error) => error.into(),
    }
}
