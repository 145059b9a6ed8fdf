//! Anchor events: one per state change, so indexers and keepers can follow along.
use anchor_lang::prelude::*;

use crate::instructions::{InterestParams, OracleParams, RiskParams};

#[event]
pub struct MarketInitialized {
    pub market: Pubkey,
    pub admin: Pubkey,
    pub market_id: u64,
    pub fee_receiver: Pubkey,
}

#[event]
pub struct ReserveAdded {
    pub market: Pubkey,
    pub reserve: Pubkey,
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub asset_class: u8,
    pub deposit_cap: u64,
    pub borrow_cap: u64,
}

#[event]
pub struct PositionOpened {
    pub market: Pubkey,
    pub position: Pubkey,
    pub owner: Pubkey,
    pub index: u32,
}

#[event]
pub struct Deposited {
    pub position: Pubkey,
    pub reserve: Pubkey,
    pub amount: u64,
    pub shares_minted: u64,
    pub reserve_total_assets: u64,
    pub reserve_total_shares: u64,
}

#[event]
pub struct Withdrawn {
    pub position: Pubkey,
    pub reserve: Pubkey,
    pub amount: u64,
    pub shares_burned: u64,
    pub reserve_total_assets: u64,
    pub reserve_total_shares: u64,
}

#[event]
pub struct ReserveConfigured {
    pub reserve: Pubkey,
    pub oracle: OracleParams,
    pub risk: RiskParams,
    pub interest: InterestParams,
}

/// The price of a reserve diverged from its EMA past the warn level (SPEC §2).
#[event]
pub struct EmaDivergenceWarning {
    pub reserve: Pubkey,
    pub divergence_bps: u64,
}

#[event]
pub struct Borrowed {
    pub position: Pubkey,
    pub reserve: Pubkey,
    pub amount: u64,
    pub shares_minted: u64,
    pub reserve_total_debt: u64,
}

#[event]
pub struct Repaid {
    pub position: Pubkey,
    pub reserve: Pubkey,
    pub payer: Pubkey,
    pub amount: u64,
    pub shares_burned: u64,
    pub reserve_total_debt: u64,
}

#[event]
pub struct FeesCollected {
    pub reserve: Pubkey,
    pub to_insurance_pool: u64,
    pub to_fee_receiver: u64,
    /// Insurance pool balance after the transfer.
    pub pool_balance: u64,
    /// `insurance_target_bps` × 24 h volume / 10 000.
    pub pool_target: u64,
    pub volume_24h: u64,
}
