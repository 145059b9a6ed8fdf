use anchor_lang::prelude::*;

use ballast_risk::shares::{amount_for_shares, shares_for_deposit};

use crate::error::BallastError;
use crate::events::Deposited;
use crate::instructions::reserve_tokens::*;
use crate::state::LazyMarket;

/// Needs no price (SPEC §2 action matrix): a stale oracle never blocks a deposit.
pub fn handler(ctx: Context<PositionTokens>, amount: u64) -> Result<()> {
    ballast_risk::cu_phase!("marker overhead"); // back to back with the next: one marker's own cost
    ballast_risk::cu_phase!("mint refresh");
    require!(amount > 0, BallastError::ZeroAmount);
    let reserve_key = ctx.accounts.tokens.reserve.key();
    let now = Clock::get()?.unix_timestamp;

    let (shares_minted, total_assets, total_shares, decimals) = {
        let mut reserve = ctx.accounts.tokens.reserve.load_mut()?;
        ctx.accounts.tokens.refresh_mint(&mut reserve, now)?;
        ballast_risk::cu_phase!("state updates");
        ReserveTokens::require_not_paused(*ctx.accounts.market.load_paused()?, &reserve)?;
        // A slot no oracle can price would block every health check of the position, its
        // liquidation included: nothing enters a reserve before its oracle is configured.
        require!(reserve.oracle.source != 0, BallastError::OracleNotConfigured);
        require!(reserve.mint_paused == 0, BallastError::MintPaused);
        reserve.require_mint_unimpaired()?;
        reserve.accrue(now)?;
        reserve.record_volume(now, amount);
        if reserve.total_deposit_shares == 0 {
            reserve.sweep_unowned_assets()?;
        }
        let assets_before = reserve.total_deposit_assets()?;
        let assets_after = assets_before.checked_add(amount).ok_or(BallastError::MathOverflow)?;
        require!(assets_after <= reserve.deposit_cap, BallastError::DepositCapExceeded);

        let minted = shares_for_deposit(amount, reserve.total_deposit_shares, assets_before)
            .map_err(BallastError::from)?;
        require!(minted > 0, BallastError::DepositTooSmall);
        reserve.available_liquidity =
            reserve.available_liquidity.checked_add(amount).ok_or(BallastError::MathOverflow)?;
        reserve.total_deposit_shares =
            reserve.total_deposit_shares.checked_add(minted).ok_or(BallastError::MathOverflow)?;

        let mut position = ctx.accounts.position.load_mut()?;
        let i = position.find_or_claim_slot(&reserve_key)?;
        let slot = &mut position.slots[i];
        // A slot never both lends and owes the same asset: repay instead. (Such a slot could
        // be neither liquidated nor written off, and dust deposited into a debt's own reserve
        // would block bad-debt resolution.)
        require!(slot.borrow_shares == 0, BallastError::DepositIntoOwnDebt);
        slot.deposit_shares = slot.deposit_shares.checked_add(minted).ok_or(BallastError::MathOverflow)?;
        // Concentration: one position's deposit stays within its share of the deposit cap
        // (a reserve without a cap or with a 100 % share has no such limit).
        if reserve.risk.position_cap_bps != 0 && reserve.deposit_cap != u64::MAX {
            let held = amount_for_shares(slot.deposit_shares, reserve.total_deposit_shares, assets_after)
                .map_err(BallastError::from)?;
            require!(
                held <= reserve.per_position_cap(reserve.deposit_cap),
                BallastError::ConcentrationLimitExceeded
            );
        }

        // The vault's liquidity grew by `amount`, nothing else moved: the assets are `assets_after`.
        (minted, assets_after, reserve.total_deposit_shares, reserve.decimals)
    };

    ballast_risk::cu_phase!("transfer: deposit to vault");
    // The mint passed inspection above: no transfer fee, what is sent arrives.
    ctx.accounts.tokens.transfer_in_exact(&ctx.accounts.owner, amount, decimals)?;
    ballast_risk::cu_phase!("event");

    emit!(Deposited {
        position: ctx.accounts.position.key(),
        reserve: reserve_key,
        amount,
        shares_minted,
        reserve_total_assets: total_assets,
        reserve_total_shares: total_shares,
    });
    ballast_risk::cu_phase!("exit");
    Ok(())
}
