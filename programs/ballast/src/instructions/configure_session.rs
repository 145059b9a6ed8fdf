use anchor_lang::prelude::*;

use crate::error::BallastError;
use crate::events::{ReserveConfigResolved, SessionConfigured};
use crate::instructions::admin::ReserveAdmin;
use crate::state::{AssetClass, SessionConfig, MAX_EARLY_CLOSES, MAX_HOLIDAYS};

/// An equity reserve's market session (SPEC §6), New York time.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct SessionParams {
    /// Bit 0 = Sunday … bit 6 = Saturday (NYSE: 0b0111110).
    pub weekday_mask: u8,
    /// Minutes after local midnight (NYSE: 570 to 960).
    pub open_minute: u16,
    pub close_minute: u16,
    /// Outside the session the last price is accepted up to this age (≤ 4 days).
    pub closed_max_age_secs: u32,
    /// Extra maintenance haircut outside the session (≤ 50 %).
    pub gap_haircut_bps: u16,
    /// Local dates (days since 1970-01-01) the market is closed, at most 16.
    pub holidays: Vec<u32>,
    /// Local dates the market closes early (half-days), at most 8, at `early_close_minute`
    /// (NYSE: 780, 13:00).
    pub early_closes: Vec<u32>,
    pub early_close_minute: u16,
}

impl SessionParams {
    pub fn to_config(&self) -> Result<SessionConfig> {
        let bound = |ok: bool, name: &str| {
            if !ok {
                msg!("parameter {} is out of bounds", name);
                return err!(BallastError::ParameterOutOfBounds);
            }
            Ok(())
        };
        bound((1..=4 * 86_400).contains(&self.closed_max_age_secs), "closed_max_age_secs")?;
        bound(self.gap_haircut_bps <= 5_000, "gap_haircut_bps")?;
        bound(self.holidays.len() <= MAX_HOLIDAYS, "holidays")?;
        bound(self.early_closes.len() <= MAX_EARLY_CLOSES, "early_closes")?;
        let mut holidays = [0u32; MAX_HOLIDAYS];
        holidays[..self.holidays.len()].copy_from_slice(&self.holidays);
        let mut early_closes = [0u32; MAX_EARLY_CLOSES];
        early_closes[..self.early_closes.len()].copy_from_slice(&self.early_closes);
        let schedule = ballast_risk::session::Session {
            weekday_mask: self.weekday_mask,
            open_minute: self.open_minute,
            close_minute: self.close_minute,
            holidays: &self.holidays,
            early_closes: &self.early_closes,
            early_close_minute: self.early_close_minute,
        };
        if let Err(e) = schedule.validate() {
            msg!("session refused: {}", e);
            return err!(BallastError::ParameterOutOfBounds);
        }
        Ok(SessionConfig {
            holidays,
            early_closes,
            closed_max_age_secs: self.closed_max_age_secs,
            open_minute: self.open_minute,
            close_minute: self.close_minute,
            gap_haircut_bps: self.gap_haircut_bps,
            weekday_mask: self.weekday_mask,
            holiday_count: self.holidays.len() as u8,
            enabled: 1,
            early_close_minute: self.early_close_minute,
            early_close_count: self.early_closes.len() as u8,
        })
    }
}

/// Admin: sets (or, with `None`, removes) an equity reserve's market session. A session also
/// relaxes the oracle outside market hours (older prices, no lag band), so every change waits
/// for the market timelock (`apply_session`, `cancel_reserve_config`), even on an empty reserve
/// when it is (or is queued to become) collateral (SPEC §7); only an empty reserve that is not
/// collateral takes it at once.
pub fn handler(ctx: Context<ReserveAdmin>, session: Option<SessionParams>) -> Result<()> {
    let config = match &session {
        Some(s) => s.to_config()?,
        None => SessionConfig::default(),
    };
    let now = Clock::get()?.unix_timestamp;
    let mut reserve = ctx.accounts.reserve.load_mut()?;
    require!(
        session.is_none() || reserve.asset_class == AssetClass::Equity as u8,
        BallastError::ParameterOutOfBounds
    );
    require!(reserve.pending_session_eta == 0, BallastError::ChangePending);
    config.check_gap_within_initial(&reserve.risk)?;
    if reserve.pending_eta != 0 {
        config.check_gap_within_initial(&reserve.pending_risk)?;
    }
    let empty = reserve.total_deposit_shares == 0 && reserve.total_borrow_shares == 0;
    let collateral = reserve.risk.collateral_enabled != 0
        || (reserve.pending_eta != 0 && reserve.pending_risk.collateral_enabled != 0);
    let applies_at = if (empty && !collateral) || ctx.accounts.market.timelock_secs == 0 {
        reserve.session = config;
        now
    } else {
        let eta =
            now.checked_add(ctx.accounts.market.timelock_secs as i64).ok_or(BallastError::MathOverflow)?;
        reserve.pending_session = config;
        reserve.pending_session_eta = eta;
        eta
    };
    emit!(SessionConfigured { reserve: ctx.accounts.reserve.key(), session, applies_at });
    Ok(())
}

#[derive(Accounts)]
pub struct ApplySession<'info> {
    #[account(mut)]
    pub reserve: AccountLoader<'info, crate::state::Reserve>,
}

/// Permissionless once the timelock has passed: the queued session takes effect.
pub fn apply_session(ctx: Context<ApplySession>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let mut reserve = ctx.accounts.reserve.load_mut()?;
    require!(reserve.pending_session_eta != 0, BallastError::NoPendingChange);
    require!(now >= reserve.pending_session_eta, BallastError::TimelockNotElapsed);
    reserve.session = reserve.pending_session;
    reserve.pending_session_eta = 0;
    emit!(ReserveConfigResolved { reserve: ctx.accounts.reserve.key(), applied: true });
    Ok(())
}
