use anchor_lang::prelude::*;

use crate::events::PauseSet;
use crate::instructions::admin::ReserveAdmin;

/// Admin: pauses (or resumes) deposits and borrows of one reserve.
pub fn set_reserve_pause(ctx: Context<ReserveAdmin>, paused: bool) -> Result<()> {
    ctx.accounts.reserve.load_mut()?.paused = paused as u8;
    emit!(PauseSet { market: ctx.accounts.market.key(), reserve: ctx.accounts.reserve.key(), paused });
    Ok(())
}
