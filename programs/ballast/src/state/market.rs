use anchor_lang::prelude::*;

/// One lending market. Small and rarely written, so it is a plain (Borsh) account.
#[account]
#[derive(InitSpace)]
pub struct Market {
    /// Signs listings and parameter changes.
    pub admin: Pubkey,
    /// Proposed by the admin, becomes admin when it signs `accept_admin` (two-step transfer).
    pub pending_admin: Pubkey,
    /// Signer of `init_market`; part of the PDA seeds, never changes.
    pub creator: Pubkey,
    /// Owner of the token accounts that receive protocol fees.
    pub fee_receiver: Pubkey,
    /// Chosen at creation; part of the PDA seeds.
    pub market_id: u64,
    /// Reserves listed so far.
    pub reserve_count: u32,
    /// Health factor (bps) a liquidation restores and does not go past.
    pub liquidation_target_health_bps: u16,
    /// A position whose total debt is worth less than this (whole USD) may be closed out in full.
    pub dust_debt_usd: u32,
    /// Delay before a loosening parameter change can be applied (default 24 h).
    pub timelock_secs: u32,
    /// The joint stress test's move per stress group, bps of price (index 0 unused, always 0).
    pub stress_shocks_bps: [u16; 8],
    /// Lower shocks wait for the timelock: these apply from `stress_shocks_eta` (0: none).
    pub pending_stress_shocks_bps: [u16; 8],
    pub stress_shocks_eta: i64,
    /// Loosened market parameters waiting for the timelock: they apply from `market_config_eta`
    /// (0: none).
    pub pending_liquidation_target_health_bps: u16,
    pub pending_dust_debt_usd: u32,
    pub pending_timelock_secs: u32,
    pub market_config_eta: i64,
    /// Market-wide pause: no deposits and no borrows; repay, withdraw and liquidation stay open.
    pub paused: bool,
    pub bump: u8,
}
