use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;
use ballast_risk::fixed::{Rounding, BPS, WAD};
use ballast_risk::interest::debt_for_shares;
use ballast_risk::interest::utilization;

use crate::error::BallastError;
use crate::events::PoolStatus;
use crate::state::Reserve;

/// A reserve's figures as of now (interest accrued in the view, nothing written).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ReserveStatus {
    pub available_liquidity: u64,
    /// What all deposit shares are worth, in tokens.
    pub total_deposit_assets: u64,
    pub total_deposit_shares: u64,
    /// What all borrowers owe, rounded up.
    pub total_debt: u64,
    pub utilization_bps: u32,
    pub borrow_apr_bps: u32,
    /// The protocol's share of interest not yet collected.
    pub pending_fees: u64,
    pub pool: PoolStatus,
}

#[derive(Accounts)]
pub struct ReserveView<'info> {
    pub reserve: AccountLoader<'info, Reserve>,
    #[account(address = reserve.load()?.insurance_vault @ BallastError::WrongVault)]
    pub insurance_vault: InterfaceAccount<'info, TokenAccount>,
}

/// Read-only view (simulate it): liquidity, debt, rates and the insurance pool's balance,
/// target and coverage.
pub fn handler(ctx: Context<ReserveView>) -> Result<ReserveStatus> {
    let now = Clock::get()?.unix_timestamp;
    let reserve = ctx.accounts.reserve.load()?;
    let accrued = reserve.accrued(now)?;
    let total_debt = debt_for_shares(reserve.total_borrow_shares, accrued.borrow_index, Rounding::Up)
        .map_err(BallastError::from)?;
    let util = utilization(total_debt, reserve.available_liquidity);
    let to_bps = |wad: u128| (wad * BPS / WAD).min(u32::MAX as u128) as u32;
    Ok(ReserveStatus {
        available_liquidity: reserve.available_liquidity,
        total_deposit_assets: reserve.deposit_assets_at(accrued.borrow_index, accrued.pending_fees)?,
        total_deposit_shares: reserve.total_deposit_shares,
        total_debt,
        utilization_bps: to_bps(util),
        borrow_apr_bps: to_bps(reserve.interest.curve().borrow_apr(util)),
        pending_fees: accrued.pending_fees,
        pool: PoolStatus::new(&reserve, reserve.pool_balance(ctx.accounts.insurance_vault.amount)?, now),
    })
}
