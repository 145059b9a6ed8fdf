//! Per-reserve oracle, risk and interest parameters (zero-copy parts of `Reserve`).
use anchor_lang::prelude::*;

/// Where a reserve's price comes from.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OracleSource {
    /// A Pyth legacy price account (`price_account`), owned by the Pyth oracle program.
    PythLegacy,
    /// The pinned `PriceUpdateV2` account `price_account` (on mainnet the push oracle's
    /// sponsored feed PDA), owned by the Pyth receiver program and carrying `feed_id`.
    PythPull,
}

impl OracleSource {
    /// Stored as `1 + variant` so that zero means "not configured".
    pub fn to_u8(self) -> u8 {
        match self {
            OracleSource::PythLegacy => 1,
            OracleSource::PythPull => 2,
        }
    }

    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(OracleSource::PythLegacy),
            2 => Some(OracleSource::PythPull),
            _ => None,
        }
    }
}

#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OracleConfig {
    /// The price account every read must use: the legacy price account, or the pinned
    /// `PriceUpdateV2` account of a pull feed.
    pub price_account: Pubkey,
    /// The Pyth feed id (PythPull); unused for PythLegacy.
    pub feed_id: [u8; 32],
    pub max_age_secs: u32,
    pub max_conf_bps: u16,
    /// How fast the band widens with the price's age (SPEC §2).
    pub lag_bps_per_sec: u16,
    /// Beyond this band (bps of price) the price is refused.
    pub max_band_bps: u16,
    pub ema_warn_bps: u16,
    pub ema_pause_bps: u16,
    pub ema_force_bps: u16,
    /// Added to the maintenance haircut while the EMA breaker is at "force".
    pub stress_addon_bps: u16,
    /// PythPull: the push oracle's shard whose feed account `price_account` is (checked at
    /// configuration outside localnet builds).
    pub push_shard: u16,
    /// `OracleSource::to_u8`; 0 = not configured.
    pub source: u8,
    pub _padding: [u8; 3],
}

#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RiskConfig {
    /// Per-asset leverage cap in bps (30 000 = 3×); never above 50 000.
    pub max_leverage_bps: u32,
    pub init_haircut_bps: u16,
    pub maint_haircut_bps: u16,
    /// Debt weight, ≥ 10 000.
    pub borrow_factor_bps: u16,
    /// Largest share of the reserve's deposits one position may hold (10 000 = no limit).
    pub position_cap_bps: u16,
    /// Keeper bonus range when this asset is seized (SPEC §5), ≤ 15 %.
    pub liquidation_bonus_min_bps: u16,
    pub liquidation_bonus_max_bps: u16,
    /// Protocol's share of collateral seized from this asset (insurance pool, then fee receiver).
    pub liquidation_fee_bps: u16,
    /// Share of a debt in this asset that one liquidation may repay.
    pub close_factor_bps: u16,
    pub collateral_enabled: u8,
    pub borrow_enabled: u8,
    /// Stress group (1–7; 0: none) whose market-wide shock applies in the joint stress test.
    pub stress_group: u8,
    pub _padding: [u8; 1],
}

#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct InterestConfig {
    pub optimal_utilization_bps: u32,
    pub base_rate_bps: u32,
    pub optimal_rate_bps: u32,
    pub max_rate_bps: u32,
    /// Share of interest kept by the protocol (insurance pool, then fee receiver).
    pub reserve_factor_bps: u16,
    /// Insurance-pool target as a share of the rolling 24 h volume (default 200 = 2 %).
    pub insurance_target_bps: u16,
    pub _padding: [u8; 4],
}

impl InterestConfig {
    pub fn curve(&self) -> ballast_risk::interest::InterestCurve {
        ballast_risk::interest::InterestCurve {
            optimal_utilization_bps: self.optimal_utilization_bps,
            base_rate_bps: self.base_rate_bps,
            optimal_rate_bps: self.optimal_rate_bps,
            max_rate_bps: self.max_rate_bps,
        }
    }
}

/// Holidays an equity session can list.
pub const MAX_HOLIDAYS: usize = 16;
/// Early-close days (half-days) an equity session can list.
pub const MAX_EARLY_CLOSES: usize = 8;

/// An equity reserve's market session (SPEC §6), in New York time with the US daylight-saving
/// rule (`ballast_risk::session`). Outside it the last price is accepted up to
/// `closed_max_age_secs` without the lag band, valued with `gap_haircut_bps` more maintenance
/// haircut, and the asset is reduce-only.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SessionConfig {
    /// Local dates (days since 1970-01-01) the market is closed.
    pub holidays: [u32; MAX_HOLIDAYS],
    /// Local dates the market closes early, at `early_close_minute` (half-days: 13:00).
    pub early_closes: [u32; MAX_EARLY_CLOSES],
    pub closed_max_age_secs: u32,
    /// Minutes after local midnight.
    pub open_minute: u16,
    pub close_minute: u16,
    pub gap_haircut_bps: u16,
    /// Minutes after local midnight the market closes on `early_closes` dates.
    pub early_close_minute: u16,
    /// Bit 0 = Sunday … bit 6 = Saturday.
    pub weekday_mask: u8,
    pub holiday_count: u8,
    /// 0: no session (trades around the clock).
    pub enabled: u8,
    pub early_close_count: u8,
}

impl SessionConfig {
    pub fn session(&self) -> ballast_risk::session::Session<'_> {
        ballast_risk::session::Session {
            weekday_mask: self.weekday_mask,
            open_minute: self.open_minute,
            close_minute: self.close_minute,
            holidays: &self.holidays[..(self.holiday_count as usize).min(MAX_HOLIDAYS)],
            early_closes: &self.early_closes[..(self.early_close_count as usize).min(MAX_EARLY_CLOSES)],
            early_close_minute: self.early_close_minute,
        }
    }

    /// Whether the asset trades at `now` (always, without a session).
    pub fn is_open(&self, now: i64) -> bool {
        self.enabled == 0 || self.session().is_open(now)
    }

    /// SPEC §6: the close alone never makes a position liquidatable. Outside the session the
    /// maintenance haircut grows by the gap haircut; a position at its initial limit stays
    /// healthy as long as `maint + gap ≤ init` (the issuer haircut adds to both sides alike).
    pub fn check_gap_within_initial(&self, risk: &RiskConfig) -> Result<()> {
        let closed_maint = risk.maint_haircut_bps as u32 + self.gap_haircut_bps as u32;
        if self.enabled != 0 && closed_maint > risk.init_haircut_bps as u32 {
            msg!(
                "maintenance haircut {} + gap haircut {} > initial haircut {} (bps): the daily close \
                 would make positions at their borrow limit liquidatable",
                risk.maint_haircut_bps,
                self.gap_haircut_bps,
                risk.init_haircut_bps
            );
            return err!(crate::error::BallastError::GapHaircutOverInitial);
        }
        Ok(())
    }

    /// Unix time of the latest close at or before `now`, for a configured session.
    pub fn last_close(&self, now: i64) -> Option<u64> {
        (self.enabled != 0).then(|| self.session().last_close(now)).flatten()
    }
}

/// A u128 stored as two little-endian u64 halves: zero-copy accounts keep 8-byte alignment.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PodU128 {
    pub lo: u64,
    pub hi: u64,
}

impl PodU128 {
    pub fn get(&self) -> u128 {
        (self.hi as u128) << 64 | self.lo as u128
    }

    pub fn set(&mut self, v: u128) {
        self.lo = v as u64;
        self.hi = (v >> 64) as u64;
    }
}
