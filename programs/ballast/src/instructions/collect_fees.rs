use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::error::BallastError;
use ballast_risk::liquidation::split_to_pool;

use crate::events::{FeesCollected, PoolStatus};
use crate::instructions::reserve_tokens::*;
use crate::state::Market;

#[derive(Accounts)]
pub struct CollectFees<'info> {
    #[account(
        constraint = distinct(&[tokens.user_token_account.key, &insurance_vault.key()])
            @ ErrorCode::ConstraintDuplicateMutableAccount,
        constraint = tokens.reserve.load()?.market == market.key() @ BallastError::WrongMarket,
        constraint = token_account(&tokens.user_token_account, tokens.token_program.key)?.owner == market.fee_receiver
            @ BallastError::WrongFeeReceiver,
    )]
    pub market: Account<'info, Market>,
    /// `user_token_account` is the fee receiver's token account of the reserve's mint.
    pub tokens: ReserveTokens<'info>,
    #[account(mut, address = tokens.reserve.load()?.insurance_vault @ BallastError::WrongVault)]
    pub insurance_vault: InterfaceAccount<'info, TokenAccount>,
}

/// Permissionless crank (SPEC §4): moves the protocol's fees out of the vault, into the
/// reserve's insurance pool while the pool is below its target (2 % of the 24 h volume by
/// default), the rest to the fee receiver. Only fees already paid in (free liquidity) move; the
/// split is exact, no unit lost. The liquidation fees booked to the pool in the vault move to the
/// insurance vault with them (the pool's balance does not change).
pub fn handler<'info>(ctx: Context<'info, CollectFees<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let (pool_balance, to_pool, to_receiver, booked, reserve) = {
        let mut reserve = ctx.accounts.tokens.reserve.load_mut()?;
        reserve.accrue(now)?;
        let pool_balance = reserve.pool_balance(ctx.accounts.insurance_vault.amount)?;
        let collectable = reserve.pending_fees.min(reserve.available_liquidity);
        let (to_pool, to_receiver) = split_to_pool(collectable, pool_balance, reserve.insurance_target(now));
        reserve.pending_fees -= collectable;
        reserve.available_liquidity -= collectable;
        let booked = std::mem::take(&mut reserve.insurance_booked);
        (pool_balance, to_pool, to_receiver, booked, *reserve)
    };

    let tokens = &ctx.accounts.tokens;
    // One transfer for the pool: its share of the fees and what it already held in the vault.
    let into_pool = to_pool.checked_add(booked).ok_or(BallastError::MathOverflow)?;
    if into_pool > 0 {
        tokens.transfer_from_vault(&reserve, ctx.accounts.insurance_vault.as_ref(), into_pool)?;
    }
    if to_receiver > 0 {
        tokens.transfer_out(&reserve, to_receiver)?;
    }

    emit!(FeesCollected {
        reserve: tokens.reserve.key(),
        to_insurance_pool: to_pool,
        to_fee_receiver: to_receiver,
        pool: PoolStatus::new(&reserve, pool_balance + to_pool, now), // ≤ target: cannot overflow
    });
    Ok(())
}
