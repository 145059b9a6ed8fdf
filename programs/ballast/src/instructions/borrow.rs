use anchor_lang::prelude::*;
use ballast_risk::fixed::Rounding;
use ballast_risk::interest::{debt_for_shares, shares_for_debt};

use crate::error::BallastError;
use crate::events::Borrowed;
use crate::health::require_initial_health;
use crate::instructions::reserve_tokens::*;
use crate::oracle::{self, EmaLevel};
use crate::state::LazyMarket;

/// Borrows `amount` to the user's token account; the position must pass initial health
/// afterwards, with every slot priced fresh and in band.
pub fn handler<'info>(ctx: Context<'info, PositionTokens<'info>>, amount: u64) -> Result<()> {
    ballast_risk::cu_phase!("marker overhead"); // back to back with the next: one marker's own cost
    ballast_risk::cu_phase!("mint refresh");
    require!(amount > 0, BallastError::ZeroAmount);
    let now = Clock::get()?.unix_timestamp;
    let reserve_key = ctx.accounts.tokens.reserve.key();

    let (shares_minted, reserve_after, position_after) = {
        let mut reserve = ctx.accounts.tokens.reserve.load_mut()?;
        ctx.accounts.tokens.refresh_mint(&mut reserve, now)?;
        ballast_risk::cu_phase!("state updates");
        ReserveTokens::require_not_paused(*ctx.accounts.market.load_paused()?, &reserve)?;
        reserve.accrue(now)?;
        reserve.record_volume(now, amount);
        require!(reserve.risk.borrow_enabled != 0, BallastError::BorrowDisabled);
        reserve.require_mint_unimpaired()?;
        require!(amount <= reserve.available_liquidity, BallastError::InsufficientLiquidity);
        let debt_after = reserve.total_debt()?.checked_add(amount).ok_or(BallastError::MathOverflow)?;
        require!(debt_after <= reserve.borrow_cap, BallastError::BorrowCapExceeded);

        let index = reserve.borrow_index.get();
        let minted = shares_for_debt(amount, index, Rounding::Up).map_err(BallastError::from)?;
        reserve.total_borrow_shares =
            reserve.total_borrow_shares.checked_add(minted).ok_or(BallastError::MathOverflow)?;
        reserve.available_liquidity -= amount; // checked above

        let mut position = ctx.accounts.position.load_mut()?;
        let i = position.find_or_claim_slot(&reserve_key)?;
        let slot = &mut position.slots[i];
        // A slot never both lends and owes the same asset (docs/decisions.md): withdraw instead.
        require!(slot.deposit_shares == 0, BallastError::BorrowAgainstOwnDeposit);
        slot.borrow_shares = slot.borrow_shares.checked_add(minted).ok_or(BallastError::MathOverflow)?;
        // Concentration: one position's debt stays within its share of the borrow cap.
        let slot_debt =
            debt_for_shares(slot.borrow_shares, index, Rounding::Up).map_err(BallastError::from)?;
        require!(
            slot_debt <= reserve.per_position_cap(reserve.borrow_cap),
            BallastError::ConcentrationLimitExceeded
        );
        // Copies on the heap: two accounts' worth would overflow the 4 KiB SBF stack frame.
        (minted, Box::new(*reserve), Box::new(*position))
    };

    ballast_risk::cu_phase!("borrowed asset's oracle");
    // No new borrow of an asset whose price has left its EMA past the pause level.
    let oracle_info = ctx
        .remaining_accounts
        .chunks_exact(2)
        .find(|pair| *pair[0].key == reserve_key)
        .map(|pair| &pair[1])
        .ok_or(BallastError::RemainingAccountsMismatch)?;
    require!(reserve_after.session.is_open(now), BallastError::MarketClosed);
    require!(!reserve_after.in_multiplier_change_window(now), BallastError::MultiplierChangeWindow);
    let price = oracle::read(&reserve_key, &reserve_after.effective_oracle(now), oracle_info, now)?;
    require!(price.ema_level < EmaLevel::Pause, BallastError::EmaBreakerPaused);

    require_initial_health(
        &position_after,
        ctx.remaining_accounts,
        now,
        &*ctx.accounts.market.load_stress_shocks_bps()?,
    )?;
    ballast_risk::cu_phase!("transfer: borrowed to owner");
    ctx.accounts.tokens.transfer_out(&reserve_after, amount)?;
    ballast_risk::cu_phase!("event");

    emit!(Borrowed {
        position: ctx.accounts.position.key(),
        reserve: reserve_key,
        amount,
        shares_minted,
        reserve_total_debt: reserve_after.total_debt()?,
    });
    ballast_risk::cu_phase!("exit");
    Ok(())
}
