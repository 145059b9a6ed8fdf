//! Administration (SPEC §7): queued configuration, two-step admin transfer, pause switches.
use anchor_lang::prelude::*;

use crate::constants::STRESS_GROUPS;
use crate::error::BallastError;
use crate::events::{AdminChanged, AdminProposed, PauseSet, ReserveConfigResolved, StressShocksSet};
use crate::instructions::configure_reserve::ReserveConfig;
use crate::state::{Market, Reserve};

#[derive(Accounts)]
pub struct ApplyReserveConfig<'info> {
    #[account(mut)]
    pub reserve: AccountLoader<'info, Reserve>,
}

/// Permissionless once the timelock has passed: the queued configuration takes effect.
pub fn apply_reserve_config(ctx: Context<ApplyReserveConfig>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let key = ctx.accounts.reserve.key();
    let mut reserve = ctx.accounts.reserve.load_mut()?;
    require!(reserve.pending_eta != 0, BallastError::NoPendingChange);
    if now < reserve.pending_eta {
        msg!("the change applies from {}; it is {}", reserve.pending_eta, now);
        return err!(BallastError::TimelockNotElapsed);
    }
    reserve.accrue(now)?;
    let pending = ReserveConfig::pending_of(&reserve);
    pending.write(&mut reserve);
    reserve.pending_eta = 0;
    // The parameters were announced by `ReserveConfigQueued`.
    emit!(ReserveConfigResolved { reserve: key, applied: true });
    Ok(())
}

#[derive(Accounts)]
pub struct ReserveAdmin<'info> {
    pub admin: Signer<'info>,
    #[account(has_one = admin @ BallastError::NotMarketAdmin)]
    pub market: Account<'info, Market>,
    #[account(mut, has_one = market @ BallastError::WrongMarket)]
    pub reserve: AccountLoader<'info, Reserve>,
}

/// Admin: drops the queued configuration and the queued session change.
pub fn cancel_reserve_config(ctx: Context<ReserveAdmin>) -> Result<()> {
    let key = ctx.accounts.reserve.key();
    let mut reserve = ctx.accounts.reserve.load_mut()?;
    require!(reserve.pending_eta != 0 || reserve.pending_session_eta != 0, BallastError::NoPendingChange);
    reserve.pending_eta = 0;
    reserve.pending_session_eta = 0;
    emit!(ReserveConfigResolved { reserve: key, applied: false });
    Ok(())
}

/// Admin: pauses (or resumes) deposits and borrows of one reserve.
pub fn set_reserve_pause(ctx: Context<ReserveAdmin>, paused: bool) -> Result<()> {
    ctx.accounts.reserve.load_mut()?.paused = paused as u8;
    emit!(PauseSet { market: ctx.accounts.market.key(), reserve: ctx.accounts.reserve.key(), paused });
    Ok(())
}

#[derive(Accounts)]
pub struct MarketAdmin<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ BallastError::NotMarketAdmin)]
    pub market: Account<'info, Market>,
}

/// Admin: pauses (or resumes) deposits and borrows market-wide.
pub fn set_market_pause(ctx: Context<MarketAdmin>, paused: bool) -> Result<()> {
    ctx.accounts.market.paused = paused;
    emit!(PauseSet { market: ctx.accounts.market.key(), reserve: Pubkey::default(), paused });
    Ok(())
}

/// Admin: proposes `new_admin` (any key, e.g. a Squads multisig vault); nothing changes until
/// it accepts. Proposing the default key withdraws a proposal.
pub fn propose_admin(ctx: Context<MarketAdmin>, new_admin: Pubkey) -> Result<()> {
    let market = &mut ctx.accounts.market;
    market.pending_admin = new_admin;
    emit!(AdminProposed { market: market.key(), admin: market.admin, pending_admin: new_admin });
    Ok(())
}

#[derive(Accounts)]
pub struct AcceptAdmin<'info> {
    pub new_admin: Signer<'info>,
    #[account(mut, constraint = market.pending_admin == new_admin.key() @ BallastError::NotPendingAdmin)]
    pub market: Account<'info, Market>,
}

/// The proposed admin takes over.
pub fn accept_admin(ctx: Context<AcceptAdmin>) -> Result<()> {
    let market = &mut ctx.accounts.market;
    let previous = market.admin;
    market.admin = ctx.accounts.new_admin.key();
    market.pending_admin = Pubkey::default();
    emit!(AdminChanged { market: market.key(), previous, admin: market.admin });
    Ok(())
}

/// Admin: the joint stress test's move per stress group (bps of price, ≤ 50 %; index 0 must be
/// 0). Higher or equal shocks apply at once (and drop a queued change); any lower shock waits
/// for the timelock (`apply_stress_shocks`).
pub fn set_stress_shocks(ctx: Context<MarketAdmin>, shocks: [u16; STRESS_GROUPS]) -> Result<()> {
    if shocks[0] != 0 || shocks.iter().any(|s| *s > 5_000) {
        msg!("stress shocks {:?}: group 0 must be 0 and every shock at most 5000 bps", shocks);
        return err!(BallastError::ParameterOutOfBounds);
    }
    let now = Clock::get()?.unix_timestamp;
    let market = &mut ctx.accounts.market;
    let tightening = shocks.iter().zip(market.stress_shocks_bps.iter()).all(|(new, old)| new >= old);
    if tightening {
        market.stress_shocks_bps = shocks;
        market.stress_shocks_eta = 0;
    } else {
        market.pending_stress_shocks_bps = shocks;
        market.stress_shocks_eta =
            now.checked_add(market.timelock_secs as i64).ok_or(BallastError::MathOverflow)?;
    }
    emit!(StressShocksSet {
        market: market.key(),
        shocks,
        applies_at: if tightening { now } else { market.stress_shocks_eta }
    });
    Ok(())
}

#[derive(Accounts)]
pub struct ApplyStressShocks<'info> {
    #[account(mut)]
    pub market: Account<'info, Market>,
}

/// Permissionless once the timelock has passed: the queued (lower) stress shocks take effect.
pub fn apply_stress_shocks(ctx: Context<ApplyStressShocks>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let market = &mut ctx.accounts.market;
    require!(market.stress_shocks_eta != 0, BallastError::NoPendingChange);
    require!(now >= market.stress_shocks_eta, BallastError::TimelockNotElapsed);
    market.stress_shocks_bps = market.pending_stress_shocks_bps;
    market.stress_shocks_eta = 0;
    emit!(StressShocksSet { market: market.key(), shocks: market.stress_shocks_bps, applies_at: now });
    Ok(())
}
