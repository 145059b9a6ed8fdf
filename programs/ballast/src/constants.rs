//! PDA seeds and fixed sizes.

/// Market PDA: `[MARKET_SEED, creator, market_id (u64 LE)]`.
pub const MARKET_SEED: &[u8] = b"market";
/// Reserve PDA: `[RESERVE_SEED, market, mint]`. The reserve is also the token authority of its
/// vault and insurance pool.
pub const RESERVE_SEED: &[u8] = b"reserve";
/// Vault token account PDA: `[VAULT_SEED, reserve]`.
pub const VAULT_SEED: &[u8] = b"vault";
/// Insurance-pool token account PDA: `[INSURANCE_SEED, reserve]`.
pub const INSURANCE_SEED: &[u8] = b"insurance";
/// Position PDA: `[POSITION_SEED, market, owner, index (u32 LE)]`.
pub const POSITION_SEED: &[u8] = b"position";

/// Distinct reserves one position can hold (deposits and borrows together).
pub const MAX_POSITION_SLOTS: usize = 16;

/// Insurance-pool target of a new reserve: 2 % of its rolling 24 h volume (SPEC §5).
pub const DEFAULT_INSURANCE_TARGET_BPS: u16 = 200;

/// EMA divergence levels of a new reserve (SPEC §2): warn, pause, force, in bps of the EMA.
pub const DEFAULT_EMA_WARN_BPS: u16 = 80;
pub const DEFAULT_EMA_PAUSE_BPS: u16 = 120;
pub const DEFAULT_EMA_FORCE_BPS: u16 = 150;

/// Liquidations of a new market restore a health factor of 1.05 and stop there (SPEC §5).
pub const DEFAULT_LIQUIDATION_TARGET_HEALTH_BPS: u16 = 10_500;
/// Positions owing less than $10 in total may be closed out in one liquidation.
pub const DEFAULT_DUST_DEBT_USD: u32 = 10;

/// Loosening parameter changes wait this long by default (SPEC §7).
pub const DEFAULT_TIMELOCK_SECS: u32 = 24 * 3600;

/// Stress groups per market (index 0 is "no group", shock always 0).
pub const STRESS_GROUPS: usize = 8;
