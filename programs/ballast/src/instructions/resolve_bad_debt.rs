use anchor_lang::prelude::*;
use anchor_spl::token_interface::{TokenAccount, TokenInterface};

use crate::error::BallastError;
use crate::events::{BadDebtCoveredByPool, BadDebtSocialized, DepositDustForfeited, PoolStatus};
use crate::health::{deposits_are_dust, price_slots};
use crate::instructions::reserve_tokens::{token_balance, transfer_as_reserve};
use crate::state::{Market, Position, Reserve};

#[derive(Accounts)]
pub struct ResolveBadDebt<'info> {
    pub market: Box<Account<'info, Market>>,
    #[account(mut, constraint = position.load()?.market == market.key() @ BallastError::WrongMarket)]
    pub position: AccountLoader<'info, Position>,
    /// The reserve the position still owes.
    #[account(
        mut,
        has_one = market @ BallastError::WrongMarket,
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
    // remaining accounts: (reserve, oracle) for every occupied slot, in slot order; the
    // reserves of deposit slots writable (their dust is forfeited to their depositors)
}

/// Permissionless (SPEC §5): a position that owes `reserve` and whose deposits are dust (worth
/// less than the market's dust threshold and less than its debts, at maintenance prices; a
/// deposit with no usable price counts nothing) has bad debt. Its dust is forfeited to the
/// depositors of the reserves that hold it, so no leftover, and no deposit the owner adds,
/// can keep the debt booked. The debt reserve's insurance pool then pays as much of the debt as
/// it holds into the vault; the rest is written off against the reserve's depositors (their
/// share value drops). Uncollected protocol fees the depositors can no longer back are written
/// off with it.
pub fn handler<'info>(ctx: Context<'info, ResolveBadDebt<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let reserve_key = ctx.accounts.reserve.key();
    let vault_pool = ctx.accounts.insurance_vault.amount;

    let position_before = Box::new(*ctx.accounts.position.load()?);
    if position_before.slots.iter().any(|s| s.deposit_shares > 0) {
        let priced = price_slots(&position_before, ctx.remaining_accounts, now)?;
        let dust_value = ctx.accounts.market.dust_debt_usd as u128 * ballast_risk::fixed::WAD;
        require!(deposits_are_dust(&priced, dust_value)?, BallastError::PositionHasDeposits);
        forfeit_deposits(&ctx, now)?;
    }

    let (debt, socialized, from_pool, from_vault, pool_balance, reserve_after) = {
        let mut position = ctx.accounts.position.load_mut()?;
        let i = position
            .find_slot(&reserve_key)
            .filter(|i| position.slots[*i].borrow_shares > 0)
            .ok_or(BallastError::NoDebtInReserve)?;
        let held = position.slots[i].borrow_shares;

        let mut reserve = ctx.accounts.reserve.load_mut()?;
        reserve.accrue(now)?;
        let pool_balance = reserve.pool_balance(vault_pool)?;
        let (debt, from_pool, socialized) = reserve.write_off_debt(held, pool_balance)?;
        let from_vault = reserve.draw_pool(from_pool);
        position.slots[i].borrow_shares = 0;
        position.release_slot_if_empty(i);
        (debt, socialized, from_pool, from_vault, pool_balance, *reserve)
    };

    let mut shortfall = 0;
    if from_vault > 0 {
        let a = &ctx.accounts;
        let before = token_balance(&a.vault)?;
        transfer_as_reserve(
            &reserve_after,
            a.reserve.as_ref(),
            &a.mint,
            a.token_program.key,
            a.insurance_vault.as_ref(),
            &a.vault,
            from_vault,
        )?;
        // A transfer fee the issuer set since listing: what did not arrive is the depositors' loss.
        shortfall = from_vault.saturating_sub(token_balance(&a.vault)?.saturating_sub(before));
        if shortfall > 0 {
            let mut reserve = a.reserve.load_mut()?;
            reserve.available_liquidity =
                reserve.available_liquidity.checked_sub(shortfall).ok_or(BallastError::MathOverflow)?;
            reserve.write_off_unbacked_fees()?;
        }
    }
    if from_pool > 0 {
        let a = &ctx.accounts;
        emit!(BadDebtCoveredByPool {
            position: a.position.key(),
            reserve: reserve_key,
            amount: from_pool,
            pool: PoolStatus::new(&reserve_after, pool_balance - from_pool, now),
        });
    }
    if debt > from_pool || shortfall > 0 {
        let reserve = ctx.accounts.reserve.load()?;
        emit!(BadDebtSocialized {
            position: ctx.accounts.position.key(),
            reserve: reserve_key,
            amount: socialized + shortfall,
            reserve_total_assets: reserve.total_deposit_assets()?,
            reserve_total_shares: reserve.total_deposit_shares,
        });
    }
    Ok(())
}

/// Burns every deposit share the position still holds: the tokens stay in their reserves and
/// now belong to those reserves' other depositors (their share value rises by the dust).
fn forfeit_deposits<'info>(ctx: &Context<'info, ResolveBadDebt<'info>>, now: i64) -> Result<()> {
    let mut position = ctx.accounts.position.load_mut()?;
    for pair in ctx.remaining_accounts.chunks_exact(2) {
        let Some(i) = position.find_slot(pair[0].key) else { continue };
        let shares = position.slots[i].deposit_shares;
        if shares == 0 {
            continue;
        }
        let loader = AccountLoader::<Reserve>::try_from(&pair[0])?;
        let mut reserve = loader.load_mut()?;
        reserve.accrue(now)?;
        let assets = reserve.total_deposit_assets()?;
        let amount = ballast_risk::shares::amount_for_shares(shares, reserve.total_deposit_shares, assets)
            .map_err(BallastError::from)?;
        reserve.burn_deposit_shares(shares)?;
        position.slots[i].deposit_shares = 0;
        position.release_slot_if_empty(i);
        emit!(DepositDustForfeited {
            position: ctx.accounts.position.key(),
            reserve: *pair[0].key,
            shares,
            amount
        });
    }
    Ok(())
}
