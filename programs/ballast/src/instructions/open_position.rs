use anchor_lang::prelude::*;

use crate::constants::POSITION_SEED;
use crate::events::PositionOpened;
use crate::state::{Market, Position};

#[derive(Accounts)]
#[instruction(index: u32)]
pub struct OpenPosition<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,
    pub market: Account<'info, Market>,
    #[account(
        init,
        payer = owner,
        space = 8 + core::mem::size_of::<Position>(),
        seeds = [POSITION_SEED, market.key().as_ref(), owner.key().as_ref(), &index.to_le_bytes()],
        bump,
    )]
    pub position: AccountLoader<'info, Position>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<OpenPosition>, index: u32) -> Result<()> {
    let mut position = ctx.accounts.position.load_init()?;
    position.market = ctx.accounts.market.key();
    position.owner = ctx.accounts.owner.key();
    position.index = index;
    position.bump = ctx.bumps.position;
    emit!(PositionOpened {
        market: position.market,
        position: ctx.accounts.position.key(),
        owner: position.owner,
        index,
    });
    Ok(())
}
