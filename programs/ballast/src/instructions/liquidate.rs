use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::*;
use ballast_risk::fixed::Rounding;
use ballast_risk::interest::debt_for_shares;
use ballast_risk::liquidation::{self, LiquidationError};
use ballast_risk::shares::{amount_for_shares, shares_for_deposit};

use crate::error::BallastError;
use crate::events::{Liquidated, PoolStatus};
use crate::health::{maintenance_health_and_pair, market_liquidation_params, price_slots, PricedSlot};
use crate::instructions::reserve_tokens::*;
use crate::keys::{require_same_key, same_key};
use crate::state::{LazyMarket, Market, Position, Reserve};

#[derive(Accounts)]
pub struct Liquidate<'info> {
    /// Any signer: pays the debt from `repay.user_token_account`, receives the collateral in
    /// `seize.user_token_account`.
    pub liquidator: Signer<'info>,
    // The pool's account is read for its balance: never also the keeper's source or destination.
    #[account(
        constraint = distinct(&[
            repay.user_token_account.key,
            seize.user_token_account.key,
            insurance_vault.key,
        ]) @ ErrorCode::ConstraintDuplicateMutableAccount,
        constraint = reserves_belong(&repay.reserve, &seize.reserve, &market.key(), insurance_vault.key)?,
    )]
    /// Read field by field (`LazyAccount`: owner and discriminator checked, nothing else
    /// deserialized).
    pub market: LazyAccount<'info, Market>,
    #[account(mut, constraint = same_key(&position.load()?.market, &market.key()) @ BallastError::WrongMarket)]
    pub position: AccountLoader<'info, Position>,
    /// The debt being repaid; `user_token_account` is the liquidator's source.
    pub repay: ReserveTokens<'info>,
    /// The collateral being seized; `user_token_account` is the liquidator's destination.
    pub seize: ReserveTokens<'info>,
    /// The seized asset's insurance pool: its balance decides how much of the fee the pool takes
    /// (the fee is booked in the vault, not transferred).
    /// CHECK: the token account the seized reserve created for its pool (`reserves_belong`).
    pub insurance_vault: UncheckedAccount<'info>,
    /// Optional: the liquidator's own position in this market. Given, and the vault short of the
    /// seizure, the seizure is credited to it as deposit shares of the seized reserve instead of
    /// paid out of the vault: how collateral in a reserve borrowed dry is still liquidated
    /// (redeem later by withdraw). With enough liquidity the seizure is paid in tokens anyway.
    /// Never the liquidated position itself: Anchor's duplicate-account check does not cover
    /// zero-copy loaders, and the two would be loaded mutably at once.
    #[account(
        mut,
        constraint = !same_key(liquidator_position.to_account_info().key, position.to_account_info().key)
            @ BallastError::LiquidatorPositionIsTarget,
    )]
    pub liquidator_position: Option<AccountLoader<'info, Position>>,
    // remaining accounts: (reserve, oracle) for every occupied slot, in slot order
}

/// The two reserves, each read once: both of `market` (`WrongMarket`), not one reserve twice
/// (`SameRepayAndSeizeReserve`), and `insurance_vault` the seized reserve's pool (`WrongVault`).
fn reserves_belong(
    repay: &AccountLoader<Reserve>,
    seize: &AccountLoader<Reserve>,
    market: &Pubkey,
    insurance_vault: &Pubkey,
) -> Result<bool> {
    require_same_key(&repay.load()?.market, market, BallastError::WrongMarket)?;
    let seize_reserve = seize.load()?;
    require_same_key(&seize_reserve.market, market, BallastError::WrongMarket)?;
    let (repay_key, seize_key) = (repay.to_account_info().key, seize.to_account_info().key);
    require!(!same_key(repay_key, seize_key), BallastError::SameRepayAndSeizeReserve);
    require_same_key(&seize_reserve.insurance_vault, insurance_vault, BallastError::WrongVault)?;
    Ok(true)
}

impl From<LiquidationError> for BallastError {
    fn from(e: LiquidationError) -> Self {
        match e {
            LiquidationError::NotLiquidatable => BallastError::NotLiquidatable,
            LiquidationError::TooSmall => BallastError::LiquidationTooSmall,
            LiquidationError::WorsensHealth => BallastError::LiquidationWorsensHealth,
            LiquidationError::Math(m) => m.into(),
        }
    }
}

/// Where `reserve`'s priced slot is, if the position holds it.
fn slot_of(priced: &[PricedSlot], reserve: &Pubkey) -> Option<usize> {
    priced.iter().position(|s| crate::keys::same_key(&s.reserve, reserve))
}

/// Permissionless partial liquidation (SPEC §5). Every slot is priced fresh under maintenance
/// rules; the amounts come from `ballast_risk::liquidation::plan`; the position's maintenance
/// surplus must not fall. `max_repay == u64::MAX`: as much as allowed.
// Not inlined into Anchor's dispatcher: the accounts parser and this handler each need most of
// a 4 KiB SBF stack frame.
#[inline(never)]
pub fn handler<'info>(ctx: Context<'info, Liquidate<'info>>, max_repay: u64) -> Result<()> {
    ballast_risk::cu_phase!("marker overhead"); // back to back with the next: one marker's own cost
    ballast_risk::cu_phase!("mint refresh");
    require!(max_repay > 0, BallastError::ZeroAmount);
    let now = Clock::get()?.unix_timestamp;
    let (repay_key, seize_key) = (ctx.accounts.repay.reserve.key(), ctx.accounts.seize.reserve.key());

    // Both mints are in the accounts: price with their current state (multiplier, pause), not
    // the cache.
    for side in [&ctx.accounts.repay, &ctx.accounts.seize] {
        side.refresh_mint(&mut *side.reserve.load_mut()?, now)?;
    }
    // Priced in place: the position's borrow ends with the statement (no 848-byte copy).
    let priced = price_slots(&*ctx.accounts.position.load()?, ctx.remaining_accounts, now)?;
    ballast_risk::cu_phase!("health");
    // Maintenance figures only: the initial ones play no part in a liquidation. The two slots'
    // terms come with them, for the planner.
    let (debt_at, collateral_at) = (slot_of(&priced, &repay_key), slot_of(&priced, &seize_key));
    let (before, pair) = maintenance_health_and_pair(&priced, debt_at, collateral_at)?;
    if !before.is_liquidatable() {
        msg!("maintenance collateral {} ≥ maintenance debt {}", before.maint_collateral, before.maint_debt);
        return err!(BallastError::NotLiquidatable);
    }
    let debt_slot =
        debt_at.map(|i| &priced[i]).filter(|s| s.debt_amount > 0).ok_or(BallastError::NoDebtInReserve)?;
    let collateral_slot = collateral_at
        .map(|i| &priced[i])
        .filter(|s| s.deposit_amount > 0)
        .ok_or(BallastError::NoDepositInReserve)?;
    // Other slots may stand at a fallback price; the two that move must be priced fresh.
    debt_slot.require_fresh()?;
    collateral_slot.require_fresh()?;

    ballast_risk::cu_phase!("plan");
    let market = &ctx.accounts.market;
    // One statement per field: a field's first load writes the lazy copy, so no other field's
    // reference may be alive then.
    let target_health_bps = *market.load_liquidation_target_health_bps()?;
    let dust_debt_usd = *market.load_dust_debt_usd()?;
    let params = market_liquidation_params(target_health_bps, dust_debt_usd, debt_slot, collateral_slot);
    let (repay_side, seize_side) = (debt_slot.repay_side(), collateral_slot.seize_side());
    let planned = liquidation::plan_from_terms(&before, &pair, &repay_side, &seize_side, &params, max_repay)
        .map_err(BallastError::from)?;
    let plan = planned.liquidation;
    ballast_risk::cu_phase!("state updates");
    // State: the debt shrinks, the deposit shrinks.
    {
        let mut reserve = ctx.accounts.repay.reserve.load_mut()?;
        reserve.accrue(now)?;
        let mut position = ctx.accounts.position.load_mut()?;
        let i = position.find_slot(&repay_key).ok_or(BallastError::NoDebtInReserve)?;
        let held = position.slots[i].borrow_shares;
        let (_, burned) = reserve.repay_debt(held, plan.repay, now)?; // plan.repay ≤ the debt
        position.slots[i].borrow_shares = held - burned;
        position.release_slot_if_empty(i);
    }
    let (mut credited_shares, mut paid_in_shares) = (0, false);
    let (pool, to_pool, to_receiver) = {
        let mut reserve = ctx.accounts.seize.reserve.load_mut()?;
        reserve.accrue(now)?;
        let mut position = ctx.accounts.position.load_mut()?;
        let i = position.find_slot(&seize_key).ok_or(BallastError::NoDepositInReserve)?;
        let held = position.slots[i].deposit_shares;
        // Seizing the slot's whole value burns all its shares; otherwise the shares the tokens
        // are worth, rounded up (≤ held, as `seize` ≤ the slot's value).
        let burned = if plan.seize >= seize_side.deposit {
            held
        } else {
            reserve.deposit_shares_for(plan.seize)?.min(held)
        };
        position.slots[i].deposit_shares = held - burned;
        position.release_slot_if_empty(i);
        // Shares only when the vault cannot pay: otherwise tokens, and the fee reaches the pool.
        let in_shares =
            ctx.accounts.liquidator_position.as_ref().filter(|_| plan.seize > reserve.available_liquidity);
        match in_shares {
            None => reserve.pay_out_deposit(burned, plan.seize, now)?,
            Some(loader) => {
                paid_in_shares = true;
                // The keeper's part as shares, rounded down (≤ burned); the fee's shares and the
                // rounding are burned: their tokens stay with the reserve's depositors.
                let (shares, assets) = (reserve.total_deposit_shares, reserve.total_deposit_assets()?);
                credited_shares = shares_for_deposit(plan.to_keeper, shares, assets)
                    .map_err(BallastError::from)?
                    .min(burned);
                reserve.burn_deposit_shares(burned - credited_shares)?; // credited ≤ burned
                credit_liquidator(
                    loader,
                    &ctx.accounts.liquidator.key(),
                    &ctx.accounts.market.key(),
                    &seize_key,
                    credited_shares,
                )?;
            }
        }
        // The fee stays in the vault (no transfer): the pool's part, up to its target, booked to
        // the pool; the rest pending for the fee receiver (`collect_fees` moves both).
        let balance = reserve.pool_balance(token_balance(&ctx.accounts.insurance_vault)?)?;
        let pool = PoolStatus::new(&reserve, balance, now);
        let (to_pool, to_receiver) =
            if paid_in_shares { (0, 0) } else { liquidation::split_to_pool(plan.fee, balance, pool.target) };
        reserve.book_liquidation_fee(to_pool, to_receiver)?;
        (pool, to_pool, to_receiver)
    };
    // The two slots as the state now holds them (share rounding included): the rest of the
    // position is unchanged. `plan` guarantees both bounds for its amounts; whole-share rounding
    // must not break them either.
    // Read in place from here on (a copy of each reserve cost more than these two reads).
    let (repay_reserve, seize_reserve) =
        (ctx.accounts.repay.reserve.load()?, ctx.accounts.seize.reserve.load()?);
    let (debt_left, deposit_left) = {
        let position = ctx.accounts.position.load()?;
        let shares = |key: &Pubkey| position.find_slot(key).map(|i| position.slots[i]).unwrap_or_default();
        let debt =
            debt_for_shares(shares(&repay_key).borrow_shares, repay_reserve.borrow_index.get(), Rounding::Up)
                .map_err(BallastError::from)?;
        let (total, assets) = (seize_reserve.total_deposit_shares, seize_reserve.total_deposit_assets()?);
        let deposit = amount_for_shares(shares(&seize_key).deposit_shares, total, assets)
            .map_err(BallastError::from)?;
        (debt, deposit)
    };
    ballast_risk::cu_phase!("health after");
    // Left exactly as planned: the plan's own figures, which `plan_from_terms` returns only once
    // they passed both checks below (the surplus does not fall; nor, for a solvent position, the
    // health factor). Otherwise the two slots are re-valued as booked and checked here.
    let as_planned =
        debt_left == repay_side.debt - plan.repay && deposit_left == seize_side.deposit - plan.seize;
    let after = if as_planned {
        planned.after
    } else {
        let after =
            liquidation::maint_after(&before, &pair, &repay_side, &seize_side, debt_left, deposit_left)
                .map_err(BallastError::from)?;
        require!(after.maint_surplus_at_least(&before), BallastError::LiquidationWorsensHealth);
        require!(
            !before.is_solvent() || after.health_factor_at_least(&before),
            BallastError::LiquidationWorsensHealth
        );
        after
    };
    let accounts = &ctx.accounts;
    ballast_risk::cu_phase!("transfer: repay");
    accounts.repay.transfer_in(&accounts.liquidator, plan.repay, &repay_reserve)?;
    ballast_risk::cu_phase!("transfer: seized to liquidator");
    if plan.to_keeper > 0 && !paid_in_shares {
        accounts.seize.transfer_out(&seize_reserve, plan.to_keeper)?;
    }
    ballast_risk::cu_phase!("event");
    let hf_before = planned.health_factor_before;
    let hf_after = after.health_factor();
    let pool_after = pool.with_balance(pool.balance + to_pool); // ≤ target: no overflow
    Liquidated {
        position: accounts.position.key(),
        liquidator: accounts.liquidator.key(),
        repay_reserve: repay_key,
        seize_reserve: seize_key,
        repaid: plan.repay,
        seized: plan.seize,
        to_liquidator: plan.to_keeper,
        to_liquidator_shares: credited_shares,
        fee_to_insurance_pool: to_pool,
        fee_to_fee_receiver: to_receiver,
        bonus_bps: plan.bonus_bps,
        health_factor_before: hf_before,
        health_factor_after: hf_after,
        pool: pool_after,
    }
    .emit();
    ballast_risk::cu_phase!("exit");
    Ok(())
}

/// Credits `shares` of `reserve` to the liquidator's own position (`loader`): it must belong to
/// the liquidator and this market, and must not owe that reserve (a slot never lends and owes
/// the same asset).
fn credit_liquidator(
    loader: &AccountLoader<Position>,
    liquidator: &Pubkey,
    market: &Pubkey,
    reserve: &Pubkey,
    shares: u64,
) -> Result<()> {
    let mut position = loader.load_mut()?;
    require_keys_eq!(position.owner, *liquidator, BallastError::NotPositionOwner);
    require_keys_eq!(position.market, *market, BallastError::WrongMarket);
    let j = position.find_or_claim_slot(reserve)?;
    let slot = &mut position.slots[j];
    require!(slot.borrow_shares == 0, BallastError::DepositIntoOwnDebt);
    slot.deposit_shares = slot.deposit_shares.checked_add(shares).ok_or(BallastError::MathOverflow)?;
    Ok(())
}
