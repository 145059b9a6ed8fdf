use anchor_lang::prelude::*;

use crate::events::AdminProposed;
use crate::instructions::admin::MarketAdmin;

/// Admin: proposes `new_admin` (any key, e.g. a Squads multisig vault); nothing changes until
/// it accepts. Proposing the default key withdraws a proposal.
pub fn propose_admin(ctx: Context<MarketAdmin>, new_admin: Pubkey) -> Result<()> {
    let market = &mut ctx.accounts.market;
    market.pending_admin = new_admin;
    emit!(AdminProposed { market: market.key(), admin: market.admin, pending_admin: new_admin });
    Ok(())
}
