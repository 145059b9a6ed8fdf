use anchor_lang::prelude::*;
use anchor_spl::token_interface::{transfer_checked, TokenAccount, TokenInterface, TransferChecked};

use crate::error::BallastError;
use crate::events::FeesCollected;
use crate::state::{Market, Reserve};

#[derive(Accounts)]
pub struct CollectFees<'info> {
    pub market: Account<'info, Market>,
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
    /// The fee receiver's token account of the reserve's mint.
    #[account(
        mut,
        constraint = fee_destination.owner == market.fee_receiver @ BallastError::WrongFeeReceiver,
        constraint = fee_destination.mint == mint.key() @ BallastError::WrongMint,
    )]
    pub fee_destination: InterfaceAccount<'info, TokenAccount>,
    pub token_program: Interface<'info, TokenInterface>,
}

/// Permissionless crank (SPEC §4): moves the protocol's share of interest out of the vault,
/// into the reserve's insurance pool while the pool is below its target (2 % of the 24 h
/// volume by default), the rest to the fee receiver. Only fees already paid in (free liquidity)
/// move; the split is exact, no unit lost.
pub fn handler<'info>(ctx: Context<'info, CollectFees<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let pool_balance = ctx.accounts.insurance_vault.amount;
    let (to_pool, to_receiver, target, volume, reserve) = {
        let mut reserve = ctx.accounts.reserve.load_mut()?;
        reserve.accrue(now)?;
        let collectable = reserve.pending_fees.min(reserve.available_liquidity);
        let target = reserve.insurance_target(now);
        let to_pool = collectable.min(target.saturating_sub(pool_balance));
        reserve.pending_fees -= collectable;
        reserve.available_liquidity -= collectable;
        (to_pool, collectable - to_pool, target, reserve.volume_24h(now), *reserve)
    };

    let send = |to: AccountInfo<'info>, amount: u64| -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        let accounts = TransferChecked {
            from: ctx.accounts.vault.to_account_info(),
            mint: ctx.accounts.mint.to_account_info(),
            to,
            authority: ctx.accounts.reserve.to_account_info(),
        };
        reserve.with_signer_seeds(|seeds| {
            transfer_checked(
                CpiContext::new_with_signer(ctx.accounts.token_program.key(), accounts, seeds),
                amount,
                reserve.decimals,
            )
        })
    };
    send(ctx.accounts.insurance_vault.to_account_info(), to_pool)?;
    send(ctx.accounts.fee_destination.to_account_info(), to_receiver)?;

    emit!(FeesCollected {
        reserve: ctx.accounts.reserve.key(),
        to_insurance_pool: to_pool,
        to_fee_receiver: to_receiver,
        pool_balance: pool_balance + to_pool,
        pool_target: target,
        volume_24h: volume,
    });
    Ok(())
}
