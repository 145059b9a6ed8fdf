use anchor_lang::prelude::*;

use crate::error::BallastError;
use crate::events::ReserveConfigResolved;
use crate::instructions::configure_reserve::ReserveConfig;
use crate::state::Reserve;

#[derive(Accounts)]
pub struct ApplyReserveConfig<'info> {
    #[account(mut)]
    pub reserve: AccountLoader<'info, Reserve>,
}

/// Permissionless once the timelock has passed: the queued configuration takes effect.
pub fn apply_reserve_config(ctx: Context<ApplyReserveConfig>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let key = ctx.accounts.reserve.key();
    let mut reserve = ctx.accounts.reserve.load_mut()?;
    require!(reserve.pending_eta != 0, BallastError::NoPendingChange);
    if now < reserve.pending_eta {
        msg!("the change applies from {}; it is {}", reserve.pending_eta, now);
        return err!(BallastError::TimelockNotElapsed);
    }
    reserve.accrue(now)?;
    let pending = ReserveConfig::pending_of(&reserve);
    pending.write(&mut reserve);
    reserve.pending_eta = 0;
    // The parameters were announced by `ReserveConfigQueued`.
    emit!(ReserveConfigResolved { reserve: key, applied: true });
    Ok(())
}
