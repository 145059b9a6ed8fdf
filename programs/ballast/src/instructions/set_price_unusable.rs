use anchor_lang::prelude::*;

use crate::events::PriceUsabilitySet;
use crate::instructions::admin::ReserveAdmin;

/// Admin, instant (the emergency path, SPEC §7): marks a reserve's price unusable, or usable
/// again. Marked, its deposits count nothing (nothing new relies on them, and liquidations of a
/// position's other slots go on without them), its debts stand at the account's last price,
/// and no liquidation repays or seizes it at that price. Unmarking restores the configuration
/// depositors already accepted; replacing the feed is `configure_reserve`, timelocked.
pub fn set_price_unusable(ctx: Context<ReserveAdmin>, unusable: bool) -> Result<()> {
    ctx.accounts.reserve.load_mut()?.price_unusable = unusable as u8;
    emit!(PriceUsabilitySet {
        market: ctx.accounts.market.key(),
        reserve: ctx.accounts.reserve.key(),
        unusable
    });
    Ok(())
}
