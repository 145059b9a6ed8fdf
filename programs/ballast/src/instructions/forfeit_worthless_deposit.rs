use anchor_lang::prelude::*;

use crate::error::BallastError;
use crate::events::DepositDustForfeited;
use crate::state::{Position, Reserve};

#[derive(Accounts)]
pub struct ForfeitWorthlessDeposit<'info> {
    #[account(mut, constraint = position.load()?.market == reserve.load()?.market @ BallastError::WrongMarket)]
    pub position: AccountLoader<'info, Position>,
    #[account(mut)]
    pub reserve: AccountLoader<'info, Reserve>,
}

/// Permissionless: burns a position's deposit shares of `reserve` when they are worth zero
/// tokens. After bad debt wipes out a reserve's depositors (assets 0, shares left), no deposit
/// can be priced against the worthless shares (`SharesWithoutAssets`); cranking this over the
/// positions that hold them brings the share count to zero, and deposits start afresh at 1:1.
/// Nobody loses anything: the shares are worth nothing, and their owner's signature is not
/// needed, so no holder can keep the reserve shut.
pub fn handler(ctx: Context<ForfeitWorthlessDeposit>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let reserve_key = ctx.accounts.reserve.key();
    let mut reserve = ctx.accounts.reserve.load_mut()?;
    reserve.accrue(now)?;
    let mut position = ctx.accounts.position.load_mut()?;
    let i = position
        .find_slot(&reserve_key)
        .filter(|i| position.slots[*i].deposit_shares > 0)
        .ok_or(BallastError::NoDepositInReserve)?;
    let shares = position.slots[i].deposit_shares;
    let worth = ballast_risk::shares::amount_for_shares(
        shares,
        reserve.total_deposit_shares,
        reserve.total_deposit_assets()?,
    )
    .map_err(BallastError::from)?;
    require!(worth == 0, BallastError::PositionHasDeposits);
    reserve.burn_deposit_shares(shares)?;
    position.slots[i].deposit_shares = 0;
    position.release_slot_if_empty(i);
    emit!(DepositDustForfeited {
        position: ctx.accounts.position.key(),
        reserve: reserve_key,
        shares,
        amount: 0
    });
    Ok(())
}
