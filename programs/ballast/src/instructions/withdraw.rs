use anchor_lang::prelude::*;

use ballast_risk::shares::amount_for_shares;

use crate::error::BallastError;
use crate::events::Withdrawn;
use crate::health::require_initial_health;
use crate::instructions::reserve_tokens::*;
use crate::state::LazyMarket;

/// Withdraws `amount` (`u64::MAX`: everything the slot's shares are worth, freeing the slot).
/// A position with debt passes remaining accounts as for borrow and must stay healthy.
pub fn handler<'info>(ctx: Context<'info, PositionTokens<'info>>, amount: u64) -> Result<()> {
    require!(amount > 0, BallastError::ZeroAmount);
    let reserve_key = ctx.accounts.tokens.reserve.key();

    let now = Clock::get()?.unix_timestamp;
    let (paid_out, shares_burned, reserve_after, position_after) = {
        let mut position = ctx.accounts.position.load_mut()?;
        let i = position.find_slot(&reserve_key).ok_or(BallastError::NoDepositInReserve)?;
        let held = position.slots[i].deposit_shares;

        let mut reserve = ctx.accounts.tokens.reserve.load_mut()?;
        ctx.accounts.tokens.refresh_mint(&mut reserve, now)?;
        reserve.accrue(now)?;
        let (paid_out, burned) = if amount == u64::MAX {
            let (total_shares, total_assets) =
                (reserve.total_deposit_shares, reserve.total_deposit_assets()?);
            (amount_for_shares(held, total_shares, total_assets).map_err(BallastError::from)?, held)
        } else {
            (amount, reserve.deposit_shares_for(amount)?)
        };
        require!(burned <= held, BallastError::InsufficientDeposit);
        reserve.pay_out_deposit(burned, paid_out, now)?;
        position.slots[i].deposit_shares = held - burned;
        position.release_slot_if_empty(i);
        // Copies on the heap: two accounts' worth would overflow the 4 KiB SBF stack frame.
        (paid_out, burned, Box::new(*reserve), Box::new(*position))
    };

    // With debt, what is left must pass initial health at fresh, in-band prices. A debt-free
    // position needs no price.
    if position_after.has_debt() {
        require_initial_health(
            &position_after,
            ctx.remaining_accounts,
            now,
            &*ctx.accounts.market.load_stress_shocks_bps()?,
        )?;
    }

    if paid_out > 0 {
        ctx.accounts.tokens.transfer_out(&reserve_after, paid_out)?;
    }

    emit!(Withdrawn {
        position: ctx.accounts.position.key(),
        reserve: reserve_key,
        amount: paid_out,
        shares_burned,
        reserve_total_assets: reserve_after.total_deposit_assets()?,
        reserve_total_shares: reserve_after.total_deposit_shares,
    });
    Ok(())
}
