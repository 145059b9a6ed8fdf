use anchor_lang::prelude::*;

use crate::constants::RESERVE_SEED;
use crate::error::BallastError;

/// What a reserve's token represents; equities get session rules later (SPEC §6).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssetClass {
    Crypto,
    Equity,
}

/// One listed asset of a market. Zero-copy: it is read and written by every instruction that
/// touches the asset, and (from the risk issue on) several reserves are loaded per instruction.
/// Every field is at most 8-byte aligned and the layout has no implicit padding.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Reserve {
    pub market: Pubkey,
    pub mint: Pubkey,
    /// SPL Token or Token-2022: the program that owns `mint`; every CPI goes to it.
    pub token_program: Pubkey,
    /// PDA token account `[VAULT_SEED, reserve]` holding depositors' liquidity; authority = reserve.
    pub vault: Pubkey,
    /// PDA token account `[INSURANCE_SEED, reserve]`; authority = reserve.
    pub insurance_vault: Pubkey,
    /// Depositors' tokens held in the vault (tracked, not read from the vault, so a donation to
    /// the vault cannot move the share price).
    pub available_liquidity: u64,
    /// Deposit shares outstanding across all positions.
    pub total_deposit_shares: u64,
    /// Maximum total deposits, in token units.
    pub deposit_cap: u64,
    /// Maximum total borrows, in token units (enforced by borrow).
    pub borrow_cap: u64,
    pub decimals: u8,
    /// `AssetClass` as u8.
    pub asset_class: u8,
    pub bump: u8,
    pub vault_bump: u8,
    pub insurance_vault_bump: u8,
    pub _padding: [u8; 3],
}

impl Reserve {
    /// Token units owned by depositors (the value of all deposit shares).
    pub fn total_deposit_assets(&self) -> u64 {
        self.available_liquidity
    }

    /// Rejects `token_program` unless it is the one that owns the reserve's mint.
    pub fn check_token_program(&self, token_program: &Pubkey) -> Result<()> {
        require_keys_eq!(*token_program, self.token_program, BallastError::WrongTokenProgram);
        Ok(())
    }

    /// Runs `f` with the reserve's PDA signer seeds (the reserve is its vaults' token authority).
    pub fn with_signer_seeds<R>(&self, f: impl FnOnce(&[&[&[u8]]]) -> R) -> R {
        let bump = [self.bump];
        let seeds: [&[u8]; 4] = [RESERVE_SEED, self.market.as_ref(), self.mint.as_ref(), &bump];
        f(&[&seeds])
    }
}
