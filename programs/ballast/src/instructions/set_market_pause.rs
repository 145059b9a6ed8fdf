use anchor_lang::prelude::*;

use crate::events::PauseSet;
use crate::instructions::admin::MarketAdmin;

/// Admin: pauses (or resumes) deposits and borrows market-wide.
pub fn set_market_pause(ctx: Context<MarketAdmin>, paused: bool) -> Result<()> {
    ctx.accounts.market.paused = paused;
    emit!(PauseSet { market: ctx.accounts.market.key(), reserve: Pubkey::default(), paused });
    Ok(())
}
