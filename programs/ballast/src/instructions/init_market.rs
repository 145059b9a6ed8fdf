use anchor_lang::prelude::*;

use crate::constants::{
    DEFAULT_DUST_DEBT_USD, DEFAULT_LIQUIDATION_TARGET_HEALTH_BPS, DEFAULT_TIMELOCK_SECS, MARKET_SEED,
};
use crate::events::MarketInitialized;
use crate::state::Market;

#[derive(Accounts)]
#[instruction(market_id: u64)]
pub struct InitMarket<'info> {
    /// Pays for the market and becomes its admin.
    #[account(mut)]
    pub creator: Signer<'info>,
    #[account(
        init,
        payer = creator,
        space = 8 + Market::INIT_SPACE,
        seeds = [MARKET_SEED, creator.key().as_ref(), &market_id.to_le_bytes()],
        bump,
    )]
    pub market: Account<'info, Market>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<InitMarket>, market_id: u64, fee_receiver: Pubkey) -> Result<()> {
    let market = &mut ctx.accounts.market;
    market.admin = ctx.accounts.creator.key();
    market.creator = ctx.accounts.creator.key();
    market.fee_receiver = fee_receiver;
    market.market_id = market_id;
    market.reserve_count = 0;
    market.liquidation_target_health_bps = DEFAULT_LIQUIDATION_TARGET_HEALTH_BPS;
    market.dust_debt_usd = DEFAULT_DUST_DEBT_USD;
    market.timelock_secs = DEFAULT_TIMELOCK_SECS;
    market.pending_admin = Pubkey::default();
    market.paused = false;
    market.bump = ctx.bumps.market;
    emit!(MarketInitialized { market: market.key(), admin: market.admin, market_id, fee_receiver });
    Ok(())
}
