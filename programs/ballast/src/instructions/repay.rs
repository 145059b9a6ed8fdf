use anchor_lang::prelude::*;

use crate::error::BallastError;
use crate::events::Repaid;
use crate::instructions::reserve_tokens::*;
use crate::state::Position;

#[derive(Accounts)]
pub struct Repay<'info> {
    /// Pays from its own token account; anyone may repay any position's debt.
    pub payer: Signer<'info>,
    #[account(
        mut,
        constraint = position.load()?.market == tokens.reserve.load()?.market @ BallastError::WrongMarket,
    )]
    pub position: AccountLoader<'info, Position>,
    pub tokens: ReserveTokens<'info>,
}

/// Repays up to `amount` (`u64::MAX`: all) of the position's debt in the reserve. Needs no
/// price: a stale or paused oracle never blocks a repay.
pub fn handler(ctx: Context<Repay>, amount: u64) -> Result<()> {
    require!(amount > 0, BallastError::ZeroAmount);
    let now = Clock::get()?.unix_timestamp;
    let reserve_key = ctx.accounts.tokens.reserve.key();

    let (paid, burned, reserve_after) = {
        let mut reserve = ctx.accounts.tokens.reserve.load_mut()?;
        ctx.accounts.tokens.refresh_mint(&mut reserve, now)?;
        reserve.accrue(now)?;
        let mut position = ctx.accounts.position.load_mut()?;
        let i = position.find_slot(&reserve_key).ok_or(BallastError::NoDebtInReserve)?;
        let held = position.slots[i].borrow_shares;
        require!(held > 0, BallastError::NoDebtInReserve);
        let (paid, burned) = reserve.repay_debt(held, amount, now)?;
        position.slots[i].borrow_shares = held - burned;
        position.release_slot_if_empty(i);
        (paid, burned, *reserve)
    };

    ctx.accounts.tokens.transfer_in(&ctx.accounts.payer, paid, &reserve_after)?;
    emit!(Repaid {
        position: ctx.accounts.position.key(),
        reserve: reserve_key,
        payer: ctx.accounts.payer.key(),
        amount: paid,
        shares_burned: burned,
        reserve_total_debt: reserve_after.total_debt()?,
    });
    Ok(())
}
