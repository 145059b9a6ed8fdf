use anchor_lang::prelude::*;

use crate::error::BallastError;
use crate::events::MintRefreshed;
use crate::state::Reserve;

#[derive(Accounts)]
pub struct RefreshMint<'info> {
    #[account(mut, has_one = mint @ BallastError::WrongMint)]
    pub reserve: AccountLoader<'info, Reserve>,
    /// CHECK: equal to `reserve.mint` (has_one above); decoded by `mint_rules::inspect_mint`.
    pub mint: UncheckedAccount<'info>,
}

/// Permissionless crank: re-reads the reserve's mint (ScaledUiAmount schedule, pause flag), so a
/// change the issuer made is valued even before a deposit or withdrawal of the asset touches it.
/// A mint whose issuer has since set a transfer fee or hook is recorded as impaired (no new
/// exposure; repay, withdraw and liquidation go on, see `Reserve::mint_impaired`).
pub fn handler(ctx: Context<RefreshMint>) -> Result<()> {
    let traits = crate::mint_rules::inspect_mint(&ctx.accounts.mint.try_borrow_data()?)?;
    let mut reserve = ctx.accounts.reserve.load_mut()?;
    reserve.set_mint_traits(&traits, Clock::get()?.unix_timestamp);
    emit!(MintRefreshed {
        reserve: ctx.accounts.reserve.key(),
        multiplier: traits.multiplier.multiplier,
        new_multiplier: traits.multiplier.new_multiplier,
        multiplier_effective_ts: traits.multiplier.effective_ts,
        paused: traits.paused,
        impaired: traits.impairment(),
    });
    Ok(())
}
