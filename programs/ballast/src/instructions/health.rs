use anchor_lang::prelude::*;

use crate::error::BallastError;
use crate::health::{health_with_shocks, liquidation_price, price_slots};
use crate::state::{Market, Position};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct SlotReport {
    pub reserve: Pubkey,
    pub deposit_amount: u64,
    pub debt_amount: u64,
    /// Oracle price (mantissa, with `expo`) and its lag band.
    pub price: u64,
    pub band: u64,
    pub expo: i32,
    pub age_secs: u64,
    pub ema_divergence_bps: u64,
    /// Price of this asset at which the position becomes liquidatable, others unchanged.
    pub liquidation_price: Option<u64>,
}

/// The figures of SPEC §3; USD values WAD-scaled (1e18 = $1), ratios scaled by 1e9.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct HealthReport {
    pub init_collateral: u128,
    pub init_debt: u128,
    pub maint_collateral: u128,
    pub maint_debt: u128,
    pub collateral_value: u128,
    pub debt_value: u128,
    pub health_factor: Option<u128>,
    pub leverage: Option<u128>,
    pub liquidatable: bool,
    /// `init_collateral` under the market's joint stress shock (every stress group at once), as
    /// borrow and withdraw see it.
    pub stressed_init_collateral: u128,
    /// Whether the position passes initial health, stress shock included: it may borrow or
    /// withdraw more.
    pub passes_initial: bool,
    pub slots: Vec<SlotReport>,
}

#[derive(Accounts)]
pub struct PositionHealth<'info> {
    pub position: AccountLoader<'info, Position>,
    /// The position's market (its stress shocks).
    #[account(address = position.load()?.market @ BallastError::WrongMarket)]
    pub market: Account<'info, Market>,
    // remaining accounts: (reserve, oracle) for every occupied slot, in slot order
}

/// Read-only view (simulate it): the position's health figures at fresh prices.
pub fn handler<'info>(ctx: Context<'info, PositionHealth<'info>>) -> Result<HealthReport> {
    let now = Clock::get()?.unix_timestamp;
    let position = *ctx.accounts.position.load()?;
    let priced = price_slots(&position, ctx.remaining_accounts, now)?;
    let h = health_with_shocks(&priced, &ctx.accounts.market.stress_shocks_bps)?;
    let slots = priced
        .iter()
        .map(|s| SlotReport {
            reserve: s.reserve,
            deposit_amount: s.deposit_amount,
            debt_amount: s.debt_amount,
            price: s.price.price,
            band: s.price.band,
            expo: s.price.expo,
            age_secs: s.price.age_secs,
            ema_divergence_bps: s.price.ema_divergence_bps,
            liquidation_price: liquidation_price(&h, s),
        })
        .collect();
    Ok(HealthReport {
        init_collateral: h.init_collateral,
        init_debt: h.init_debt,
        maint_collateral: h.maint_collateral,
        maint_debt: h.maint_debt,
        collateral_value: h.collateral_value,
        debt_value: h.debt_value,
        health_factor: h.health_factor(),
        leverage: h.leverage(),
        liquidatable: h.is_liquidatable(),
        stressed_init_collateral: h.stressed_init_collateral,
        passes_initial: h.passes_initial(),
        slots,
    })
}
