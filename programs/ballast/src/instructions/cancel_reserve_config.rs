use anchor_lang::prelude::*;

use crate::error::BallastError;
use crate::events::ReserveConfigResolved;
use crate::instructions::admin::ReserveAdmin;

/// Admin: drops the queued configuration and the queued session change.
pub fn cancel_reserve_config(ctx: Context<ReserveAdmin>) -> Result<()> {
    let key = ctx.accounts.reserve.key();
    let mut reserve = ctx.accounts.reserve.load_mut()?;
    require!(reserve.pending_eta != 0 || reserve.pending_session_eta != 0, BallastError::NoPendingChange);
    reserve.pending_eta = 0;
    reserve.pending_session_eta = 0;
    emit!(ReserveConfigResolved { reserve: key, applied: false });
    Ok(())
}
