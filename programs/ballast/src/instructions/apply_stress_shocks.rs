use anchor_lang::prelude::*;

use crate::error::BallastError;
use crate::events::StressShocksSet;
use crate::state::Market;

#[derive(Accounts)]
pub struct ApplyStressShocks<'info> {
    #[account(mut)]
    pub market: Account<'info, Market>,
}

/// Permissionless once the timelock has passed: the queued (lower) stress shocks take effect.
pub fn apply_stress_shocks(ctx: Context<ApplyStressShocks>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let market = &mut ctx.accounts.market;
    require!(market.stress_shocks_eta != 0, BallastError::NoPendingChange);
    require!(now >= market.stress_shocks_eta, BallastError::TimelockNotElapsed);
    market.stress_shocks_bps = market.pending_stress_shocks_bps;
    market.stress_shocks_eta = 0;
    emit!(StressShocksSet { market: market.key(), shocks: market.stress_shocks_bps, applies_at: now });
    Ok(())
}
