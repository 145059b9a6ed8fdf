//! The accounts every instruction needs to move a reserve's tokens between a user and the
//! reserve's vault, validated once here for all of them.
use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;
#[cfg(not(target_os = "solana"))]
use anchor_spl::token_interface::{transfer_checked, TransferChecked};

use crate::error::BallastError;
use crate::keys::{require_same_key, same_key};
use crate::state::{Market, Position, Reserve};

#[derive(Accounts)]
pub struct ReserveTokens<'info> {
    #[account(mut, constraint = reserve_accounts_match(&reserve, mint.key, vault.key, token_program.key)?)]
    pub reserve: AccountLoader<'info, Reserve>,
    /// CHECK: equal to `reserve.mint` (checked above); the reserve validated it at listing.
    pub mint: UncheckedAccount<'info>,
    /// CHECK: equal to `reserve.vault` (checked above), a PDA token account the reserve created.
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: the user's side of the transfer: any token account of the reserve's mint under its
    /// token program except the vault (read by [`token_account`]).
    #[account(
        mut,
        constraint = same_key(&token_account(&user_token_account, token_program.key)?.mint, mint.key) @ BallastError::WrongMint,
        constraint = !same_key(user_token_account.key, vault.key) @ BallastError::VaultAsUserAccount,
    )]
    pub user_token_account: UncheckedAccount<'info>,
    pub token_program: Interface<'info, TokenInterface>,
}

/// The accounts of deposit, withdraw and borrow: the position's owner signs, and the market, the
/// position and the reserve belong together.
#[derive(Accounts)]
pub struct PositionTokens<'info> {
    pub owner: Signer<'info>,
    /// Read for its pause switch and stress shocks, field by field (`LazyAccount`: owner and
    /// discriminator checked, nothing else deserialized).
    #[account(constraint = tokens.reserve.load()?.market == market.key() @ BallastError::WrongMarket)]
    pub market: LazyAccount<'info, Market>,
    #[account(mut, constraint = position_belongs(&position, owner.key, &market.key())?)]
    pub position: AccountLoader<'info, Position>,
    pub tokens: ReserveTokens<'info>,
    // borrow, and withdraw from a position with debt: remaining accounts are (reserve, oracle)
    // for every occupied slot, in slot order
}

/// The reserve's own mint, vault and token program, in one read of the reserve (a `has_one`
/// each would load it three times).
fn reserve_accounts_match(
    reserve: &AccountLoader<Reserve>,
    mint: &Pubkey,
    vault: &Pubkey,
    token_program: &Pubkey,
) -> Result<bool> {
    let reserve = reserve.load()?;
    require_same_key(&reserve.mint, mint, BallastError::WrongMint)?;
    require_same_key(&reserve.vault, vault, BallastError::WrongVault)?;
    require_same_key(&reserve.token_program, token_program, BallastError::WrongTokenProgram)?;
    Ok(true)
}

/// The position's owner and market, in one read of the position.
fn position_belongs(position: &AccountLoader<Position>, owner: &Pubkey, market: &Pubkey) -> Result<bool> {
    let position = position.load()?;
    require_keys_eq!(position.owner, *owner, BallastError::NotPositionOwner);
    require_keys_eq!(position.market, *market, BallastError::WrongMarket);
    Ok(true)
}

impl<'info> ReserveTokens<'info> {
    /// Deposits and borrows stop while the market (`market_paused`) or the reserve is paused
    /// (SPEC §7).
    pub fn require_not_paused(market_paused: bool, reserve: &Reserve) -> Result<()> {
        require!(!market_paused, BallastError::MarketPaused);
        require!(reserve.paused == 0, BallastError::ReservePaused);
        Ok(())
    }

    /// Re-reads the reserve's mint when its state can change (ScaledUiAmount schedule, pause),
    /// stamped with the instruction's clock `now`.
    pub fn refresh_mint(&self, reserve: &mut Reserve, now: i64) -> Result<()> {
        reserve.refresh_mint(&self.mint.to_account_info(), now)
    }

    /// A frozen vault (the issuer's freeze authority at work) is a named error, before any
    /// transfer is attempted.
    fn require_vault_not_frozen(&self) -> Result<()> {
        let data = self.vault.try_borrow_data()?;
        // Token account state (SPL Token and Token-2022 alike) sits at byte 108: 2 = Frozen.
        require!(data.get(108).copied() != Some(2), BallastError::VaultFrozen);
        Ok(())
    }

    /// Moves tokens from the user's account into the vault so that exactly `net` arrive (a
    /// repayment): for a mint whose issuer has since set a transfer fee, the payer sends the fee
    /// on top, and the vault's balance is checked to have grown by `net` at least.
    pub fn transfer_in(&self, owner: &Signer<'info>, net: u64, reserve: &Reserve) -> Result<()> {
        if reserve.mint_impaired == crate::mint_rules::MINT_IMPAIRED_NONE {
            return self.transfer_in_exact(owner, net, reserve.decimals);
        }
        let epoch = Clock::get()?.epoch;
        let gross = crate::mint_rules::gross_for_net(&self.mint.try_borrow_data()?, epoch, net)?;
        let before = token_balance(&self.vault)?;
        self.transfer_in_exact(owner, gross, reserve.decimals)?;
        let received = token_balance(&self.vault)?.saturating_sub(before);
        if received < net {
            msg!("sent {} for {} to arrive, {} arrived", gross, net, received);
            return err!(BallastError::MintTransferFee);
        }
        Ok(())
    }

    /// Moves `amount` from the user's token account into the vault; `owner` signs.
    pub fn transfer_in_exact(&self, owner: &Signer<'info>, amount: u64, decimals: u8) -> Result<()> {
        self.require_vault_not_frozen()?;
        token_transfer(
            self.token_program.key,
            [&self.user_token_account, &self.mint, &self.vault, owner],
            amount,
            decimals,
            &[],
        )
    }

    /// Moves `amount` from the vault to the user's token account; the reserve PDA signs.
    pub fn transfer_out(&self, reserve: &Reserve, amount: u64) -> Result<()> {
        self.transfer_from_vault(reserve, &self.user_token_account, amount)
    }

    /// Moves `amount` from the vault to `to` (an account of the reserve's mint); the reserve PDA
    /// signs.
    pub fn transfer_from_vault(&self, reserve: &Reserve, to: &AccountInfo<'info>, amount: u64) -> Result<()> {
        self.require_vault_not_frozen()?;
        transfer_as_reserve(
            reserve,
            self.reserve.as_ref(),
            &self.mint,
            self.token_program.key,
            &self.vault,
            to,
            amount,
        )
    }
}

/// Moves `amount` between two token accounts whose authority is the reserve PDA (its vault and
/// its insurance pool) or from one of them; the reserve signs. The accounts are borrowed, not
/// cloned: a clone and its drop cost ~60 units per account.
pub fn transfer_as_reserve<'info>(
    reserve: &Reserve,
    reserve_info: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    token_program: &Pubkey,
    from: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    amount: u64,
) -> Result<()> {
    reserve.with_signer_seeds(|seeds| {
        token_transfer(token_program, [from, mint, to, reserve_info], amount, reserve.decimals, seeds)
    })
}

/// The token program's `TransferChecked` (SPL Token and Token-2022 alike) of `amount` from
/// `accounts[0]` to `accounts[2]` (mint `accounts[1]`, authority `accounts[3]`), signed by
/// `seeds` when the authority is a PDA. On chain through the C-ABI invoke syscall with the
/// instruction and account infos on the stack: the runtime charges the same (946 units and the
/// account bytes) as for `anchor_spl::transfer_checked`, which first builds the instruction's
/// vectors, clones them into a stable layout, checks every `RefCell` and clones every
/// `AccountInfo`: about 700 units per transfer that bought nothing here (no account data is
/// borrowed across a transfer; the runtime checks privileges and ownership itself).
/// docs/decisions.md, issue 28. Off chain (native tests) the same instruction goes through
/// Anchor's CPI.
pub fn token_transfer(
    token_program: &Pubkey,
    accounts: [&AccountInfo; 4],
    amount: u64,
    decimals: u8,
    seeds: &[&[&[u8]]],
) -> Result<()> {
    let mut data = [0u8; 10];
    data[0] = TRANSFER_CHECKED;
    data[1..9].copy_from_slice(&amount.to_le_bytes());
    data[9] = decimals;
    #[cfg(target_os = "solana")]
    {
        // from and to writable; the authority signs (the user, or the reserve PDA by `seeds`).
        raw_cpi::invoke(
            token_program,
            &accounts,
            &[true, false, true, false],
            &[false, false, false, true],
            &data,
            seeds,
        )
    }
    #[cfg(not(target_os = "solana"))]
    {
        let [from, mint, to, authority] = accounts;
        let accounts = TransferChecked {
            from: from.clone(),
            mint: mint.clone(),
            to: to.clone(),
            authority: authority.clone(),
        };
        let _ = data;
        transfer_checked(CpiContext::new_with_signer(*token_program, accounts, seeds), amount, decimals)
    }
}

/// SPL Token's and Token-2022's `TransferChecked` instruction tag.
const TRANSFER_CHECKED: u8 = 12;

/// A cross-program invocation through `sol_invoke_signed_c`, with every structure on the stack.
#[cfg(target_os = "solana")]
mod raw_cpi {
    use anchor_lang::prelude::*;
    use anchor_lang::solana_program::program::syscalls::sol_invoke_signed_c;

    // The C ABI's structures (the runtime's `SolInstruction`, `SolAccountMeta`,
    // `SolAccountInfo`, `SolSignerSeed(s)`).
    #[repr(C)]
    struct Meta {
        pubkey: *const Pubkey,
        is_writable: bool,
        is_signer: bool,
    }
    #[repr(C)]
    struct Instruction {
        program_id: *const Pubkey,
        accounts: *const Meta,
        accounts_len: u64,
        data: *const u8,
        data_len: u64,
    }
    #[repr(C)]
    struct Info {
        key: *const Pubkey,
        lamports: *mut u64,
        data_len: u64,
        data: *mut u8,
        owner: *const Pubkey,
        rent_epoch: u64,
        is_signer: bool,
        is_writable: bool,
        executable: bool,
    }
    #[repr(C)]
    struct Slice {
        addr: *const u8,
        len: u64,
    }

    /// Invokes `program` with `accounts` (writable and signing as `writable` and `signer` say:
    /// a signer signed this instruction or is the PDA of `seeds`) and `data`.
    pub fn invoke<const N: usize>(
        program: &Pubkey,
        accounts: &[&AccountInfo; N],
        writable: &[bool; N],
        signer: &[bool; N],
        data: &[u8],
        seeds: &[&[&[u8]]],
    ) -> Result<()> {
        // The account infos point at the loader's input (lamports and data in place): the
        // runtime reads and updates them there, as it does through the Rust ABI's `RefCell`s.
        let infos: [Info; N] = core::array::from_fn(|i| {
            let a = accounts[i];
            // SAFETY: the `RefCell`s hold pointers into the input buffer; no borrow is taken.
            let (lamports, data) =
                unsafe { (&mut **a.lamports.as_ptr() as *mut u64, &mut **a.data.as_ptr()) };
            Info {
                key: a.key,
                lamports,
                data_len: data.len() as u64,
                data: data.as_mut_ptr(),
                owner: a.owner,
                rent_epoch: 0,
                is_signer: a.is_signer,
                is_writable: a.is_writable,
                executable: a.executable,
            }
        });
        let metas: [Meta; N] = core::array::from_fn(|i| Meta {
            pubkey: accounts[i].key,
            is_writable: writable[i],
            is_signer: signer[i],
        });
        let instruction = Instruction {
            program_id: program,
            accounts: metas.as_ptr(),
            accounts_len: N as u64,
            data: data.as_ptr(),
            data_len: data.len() as u64,
        };
        // `&[&[&[u8]]]` as the C ABI's nested (pointer, length) pairs: a slice reference is
        // exactly that pair on SBF, so the seeds are passed as they are.
        let seed_sets = seeds.as_ptr() as *const Slice;
        // SAFETY: every pointer is valid for the call; the runtime checks the rest.
        let result = unsafe {
            sol_invoke_signed_c(
                &instruction as *const Instruction as *const u8,
                infos.as_ptr() as *const u8,
                N as u64,
                seed_sets as *const u8,
                seeds.len() as u64,
            )
        };
        match result {
            0 => Ok(()),
            code => Err(ProgramError::from(code).into()),
        }
    }
}

/// What Ballast reads of a token account: its mint, its owner and its balance.
#[derive(Debug, Clone, Copy)]
pub struct TokenAccountFields {
    pub mint: Pubkey,
    pub owner: Pubkey,
    pub amount: u64,
}

/// Anchor's duplicate-mutable-account check, which covers `InterfaceAccount` but not the token
/// accounts read in place by [`token_account`]: true when no two of `keys` are the same.
pub fn distinct(keys: &[&Pubkey]) -> bool {
    keys.iter().enumerate().all(|(i, k)| keys[i + 1..].iter().all(|other| !same_key(other, k)))
}

/// SPL Token's account size; Token-2022 accounts with extensions are longer.
const TOKEN_ACCOUNT_LEN: usize = 165;
/// Token-2022's multisig size: longer than an account, and never one.
const MULTISIG_LEN: usize = 355;
/// Token-2022's account-type byte after the base state: 2 marks a token account.
const ACCOUNT_TYPE_ACCOUNT: u8 = 2;

/// Reads the token account `info` of `token_program` in place, with the checks Anchor's
/// `InterfaceAccount<TokenAccount>` made (owner program, layout, initialized) and the same
/// errors, without unpacking its Token-2022 extensions: the transfer itself is checked in full
/// by the token program. The base layout is shared by SPL Token and Token-2022: mint
/// `[0..32]`, owner `[32..64]`, amount `[64..72]`, state at 108 (0 uninitialized).
pub fn token_account(info: &AccountInfo, token_program: &Pubkey) -> Result<TokenAccountFields> {
    if info.owner != token_program {
        return Err(error!(ErrorCode::AccountOwnedByWrongProgram).with_pubkeys((*info.owner, *token_program)));
    }
    let data = info.try_borrow_data()?;
    let is_account = match data.len() {
        TOKEN_ACCOUNT_LEN => true,
        MULTISIG_LEN => false,
        len => {
            len > TOKEN_ACCOUNT_LEN
                && *token_program != anchor_spl::token::ID
                && data[TOKEN_ACCOUNT_LEN] == ACCOUNT_TYPE_ACCOUNT
        }
    };
    if !is_account || data[108] == 0 {
        return err!(ErrorCode::AccountDidNotDeserialize);
    }
    let key = |at: usize| Pubkey::new_from_array(data[at..at + 32].try_into().expect("32 bytes"));
    Ok(TokenAccountFields {
        mint: key(0),
        owner: key(32),
        amount: u64::from_le_bytes(data[64..72].try_into().expect("8 bytes")),
    })
}

/// A token account's balance (bytes 64..72, SPL Token and Token-2022 alike).
pub fn token_balance(account: &AccountInfo) -> Result<u64> {
    let data = account.try_borrow_data()?;
    let bytes = data.get(64..72).ok_or(BallastError::WrongVault)?;
    Ok(u64::from_le_bytes(bytes.try_into().expect("8 bytes")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_refuses_any_repeated_key() {
        let (a, b, c) = (Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique());
        assert!(distinct(&[&a, &b, &c]));
        assert!(!distinct(&[&a, &b, &a]));
        assert!(!distinct(&[&a, &c, &c]));
        assert!(distinct(&[]));
    }

    /// `token_account` on `data` owned by `program`: the Anchor error code, or the fields.
    fn read(
        program: Pubkey,
        expected: Pubkey,
        mut data: Vec<u8>,
    ) -> std::result::Result<TokenAccountFields, u32> {
        let (key, mut lamports) = (Pubkey::new_unique(), 1);
        let info = AccountInfo::new(&key, false, true, &mut lamports, &mut data, &program, false);
        token_account(&info, &expected).map_err(|e| match e {
            Error::AnchorError(e) => e.error_code_number,
            other => panic!("{other:?}"),
        })
    }

    fn account(len: usize) -> Vec<u8> {
        let mut data = vec![0u8; len];
        data[0..32].copy_from_slice(&[7; 32]); // mint
        data[32..64].copy_from_slice(&[9; 32]); // owner
        data[64..72].copy_from_slice(&42u64.to_le_bytes());
        data[108] = 1; // initialized
        if len > TOKEN_ACCOUNT_LEN {
            data[TOKEN_ACCOUNT_LEN] = ACCOUNT_TYPE_ACCOUNT;
        }
        data
    }

    #[test]
    fn token_accounts_are_read_with_anchors_checks() {
        let (spl, t22) = (anchor_spl::token::ID, anchor_spl::token_2022::ID);
        let ok = read(spl, spl, account(165)).unwrap();
        assert_eq!(
            (ok.mint, ok.owner, ok.amount),
            (Pubkey::new_from_array([7; 32]), Pubkey::new_from_array([9; 32]), 42)
        );
        assert_eq!(read(t22, t22, account(170)).unwrap().amount, 42, "a Token-2022 account with extensions");
        let owned_by_wrong_program = ErrorCode::AccountOwnedByWrongProgram as u32;
        assert_eq!(read(t22, spl, account(165)).unwrap_err(), owned_by_wrong_program);
        assert_eq!(read(Pubkey::new_unique(), spl, account(165)).unwrap_err(), owned_by_wrong_program);
        let not_an_account = ErrorCode::AccountDidNotDeserialize as u32;
        let mut uninitialized = account(165);
        uninitialized[108] = 0;
        assert_eq!(read(spl, spl, uninitialized).unwrap_err(), not_an_account);
        assert_eq!(
            read(spl, spl, account(170)).unwrap_err(),
            not_an_account,
            "SPL Token accounts are 165 bytes"
        );
        assert_eq!(read(t22, t22, account(MULTISIG_LEN)).unwrap_err(), not_an_account, "a multisig");
        let mut mint = account(200);
        mint[TOKEN_ACCOUNT_LEN] = 1; // Token-2022's account type of a mint
        assert_eq!(read(t22, t22, mint).unwrap_err(), not_an_account, "a mint with extensions");
        assert_eq!(read(spl, spl, vec![0; 82]).unwrap_err(), not_an_account, "a mint");
    }
}
