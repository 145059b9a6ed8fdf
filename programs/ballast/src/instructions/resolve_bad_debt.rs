use anchor_lang::prelude::*;
use anchor_spl::token_interface::{TokenAccount, TokenInterface};
use ballast_risk::fixed::Rounding;
use ballast_risk::interest::debt_for_shares;

use crate::error::BallastError;
use crate::events::{BadDebtCoveredByPool, BadDebtSocialized, PoolStatus};
use crate::instructions::reserve_tokens::transfer_as_reserve;
use crate::state::{Position, Reserve};

#[derive(Accounts)]
pub struct ResolveBadDebt<'info> {
    #[account(mut, constraint = position.load()?.market == reserve.load()?.market @ BallastError::WrongMarket)]
    pub position: AccountLoader<'info, Position>,
    /// The reserve the position still owes.
    #[account(
        mut,
        has_one = mint @ BallastError::WrongMint,
        has_one = vault @ BallastError::WrongVault,
        has_one = insurance_vault @ BallastError::WrongVault,
        has_one = token_program @ BallastError::WrongTokenProgram,
    )]
    pub reserve: AccountLoader<'info, Reserve>,
    /// CHECK: equal to `reserve.mint` (has_one above).
    pub mint: UncheckedAccount<'info>,
    /// CHECK: equal to `reserve.vault` (has_one above).
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    #[account(mut)]
    pub insurance_vault: InterfaceAccount<'info, TokenAccount>,
    pub token_program: Interface<'info, TokenInterface>,
}

/// Permissionless (SPEC §5): a position that owes `reserve` and holds no deposit at all has bad
/// debt. The reserve's insurance pool pays as much of it as it holds into the vault; the rest is
/// written off against the reserve's depositors (their share value drops). Uncollected protocol
/// fees the depositors can no longer back are written off with it.
pub fn handler(ctx: Context<ResolveBadDebt>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let reserve_key = ctx.accounts.reserve.key();
    let pool_balance = ctx.accounts.insurance_vault.amount;

    let (debt, from_pool, socialized, reserve_after) = {
        let mut position = ctx.accounts.position.load_mut()?;
        require!(position.slots.iter().all(|s| s.deposit_shares == 0), BallastError::PositionHasDeposits);
        let i = position
            .find_slot(&reserve_key)
            .filter(|i| position.slots[*i].borrow_shares > 0)
            .ok_or(BallastError::NoDebtInReserve)?;
        let held = position.slots[i].borrow_shares;

        let mut reserve = ctx.accounts.reserve.load_mut()?;
        reserve.accrue(now)?;
        let debt =
            debt_for_shares(held, reserve.borrow_index.get(), Rounding::Up).map_err(BallastError::from)?;
        let from_pool = debt.min(pool_balance);
        let assets_before = reserve.total_deposit_assets()?;
        reserve.total_borrow_shares -= held; // held ≤ total
        reserve.available_liquidity =
            reserve.available_liquidity.checked_add(from_pool).ok_or(BallastError::MathOverflow)?;
        let remaining_debt =
            debt_for_shares(reserve.total_borrow_shares, reserve.borrow_index.get(), Rounding::Down)
                .map_err(BallastError::from)?;
        let backing =
            reserve.available_liquidity.checked_add(remaining_debt).ok_or(BallastError::MathOverflow)?;
        reserve.pending_fees = reserve.pending_fees.min(backing);
        let socialized = assets_before.saturating_sub(reserve.total_deposit_assets()?);
        position.slots[i].borrow_shares = 0;
        position.release_slot_if_empty(i);
        (debt, from_pool, socialized, *reserve)
    };

    if from_pool > 0 {
        let a = &ctx.accounts;
        transfer_as_reserve(
            &reserve_after,
            a.reserve.to_account_info(),
            a.mint.to_account_info(),
            a.token_program.key(),
            a.insurance_vault.to_account_info(),
            a.vault.to_account_info(),
            from_pool,
        )?;
        emit!(BadDebtCoveredByPool {
            position: a.position.key(),
            reserve: reserve_key,
            amount: from_pool,
            pool: PoolStatus::new(&reserve_after, pool_balance - from_pool, now),
        });
    }
    if debt > from_pool {
        emit!(BadDebtSocialized {
            position: ctx.accounts.position.key(),
            reserve: reserve_key,
            amount: socialized,
            reserve_total_assets: reserve_after.total_deposit_assets()?,
            reserve_total_shares: reserve_after.total_deposit_shares,
        });
    }
    Ok(())
}
