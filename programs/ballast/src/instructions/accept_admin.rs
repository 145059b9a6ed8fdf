use anchor_lang::prelude::*;

use crate::error::BallastError;
use crate::events::AdminChanged;
use crate::state::Market;

#[derive(Accounts)]
pub struct AcceptAdmin<'info> {
    pub new_admin: Signer<'info>,
    #[account(mut, constraint = market.pending_admin == new_admin.key() @ BallastError::NotPendingAdmin)]
    pub market: Account<'info, Market>,
}

/// The proposed admin takes over.
pub fn accept_admin(ctx: Context<AcceptAdmin>) -> Result<()> {
    let market = &mut ctx.accounts.market;
    let previous = market.admin;
    market.admin = ctx.accounts.new_admin.key();
    market.pending_admin = Pubkey::default();
    emit!(AdminChanged { market: market.key(), previous, admin: market.admin });
    Ok(())
}
