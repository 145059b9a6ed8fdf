use anchor_lang::prelude::*;
use ballast_risk::health::MAX_LEVERAGE_BPS;
use ballast_risk::liquidation::MAX_BONUS_BPS;

use crate::constants::STRESS_GROUPS;
use crate::error::BallastError;
use crate::events::{ReserveConfigQueued, ReserveConfigResolved, ReserveConfigured};
use crate::state::{InterestConfig, Market, OracleConfig, OracleSource, Reserve, RiskConfig};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct OracleParams {
    pub source: OracleSource,
    /// The one account prices are read from: the legacy price account, or the pinned
    /// `PriceUpdateV2` of a pull feed (mainnet: the push oracle's sponsored feed PDA).
    pub price_account: Pubkey,
    /// PythPull: the feed id. PythLegacy: ignored (stored as zeros).
    pub feed_id: [u8; 32],
    pub max_age_secs: u32,
    pub max_conf_bps: u16,
    pub lag_bps_per_sec: u16,
    pub max_band_bps: u16,
    pub ema_warn_bps: u16,
    pub ema_pause_bps: u16,
    pub ema_force_bps: u16,
    pub stress_addon_bps: u16,
    /// PythPull: the push oracle shard of `price_account` (mainnet sponsors shard 0, and shard 1
    /// for some equities). PythLegacy: ignored (stored as 0).
    pub push_shard: u16,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct RiskParams {
    pub max_leverage_bps: u32,
    pub init_haircut_bps: u16,
    pub maint_haircut_bps: u16,
    pub borrow_factor_bps: u16,
    pub position_cap_bps: u16,
    pub liquidation_bonus_min_bps: u16,
    pub liquidation_bonus_max_bps: u16,
    pub liquidation_fee_bps: u16,
    pub close_factor_bps: u16,
    /// 0 (none) or a stress group 1–7 of the market's `stress_shocks_bps`.
    pub stress_group: u8,
    pub collateral_enabled: bool,
    pub borrow_enabled: bool,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct InterestParams {
    pub optimal_utilization_bps: u32,
    pub base_rate_bps: u32,
    pub optimal_rate_bps: u32,
    pub max_rate_bps: u32,
    pub reserve_factor_bps: u16,
    pub insurance_target_bps: u16,
}

/// Fails with `ParameterOutOfBounds`, naming the parameter, unless `ok`.
fn bound(ok: bool, name: &str, value: u64) -> Result<()> {
    if !ok {
        // A `msg!` on chain; off chain the host's hook (the risk lab names the bound from it).
        crate::diag!("parameter {} = {} is out of bounds", name, value);
        return err!(BallastError::ParameterOutOfBounds);
    }
    Ok(())
}

impl OracleParams {
    /// SPEC §7 bounds: max age ≤ 300 s, confidence ≤ 10 %, band cap ≤ 10 %, ordered EMA levels.
    pub fn to_config(&self) -> Result<OracleConfig> {
        bound((1..=300).contains(&self.max_age_secs), "max_age_secs", self.max_age_secs as u64)?;
        bound((1..=1_000).contains(&self.max_conf_bps), "max_conf_bps", self.max_conf_bps as u64)?;
        bound(self.lag_bps_per_sec <= 100, "lag_bps_per_sec", self.lag_bps_per_sec as u64)?;
        bound((1..=1_000).contains(&self.max_band_bps), "max_band_bps", self.max_band_bps as u64)?;
        bound(self.ema_warn_bps >= 1, "ema_warn_bps", self.ema_warn_bps as u64)?;
        bound(self.ema_pause_bps >= self.ema_warn_bps, "ema_pause_bps", self.ema_pause_bps as u64)?;
        bound(
            self.ema_force_bps >= self.ema_pause_bps && self.ema_force_bps <= 5_000,
            "ema_force_bps",
            self.ema_force_bps as u64,
        )?;
        bound(self.stress_addon_bps <= 5_000, "stress_addon_bps", self.stress_addon_bps as u64)?;
        // Every source reads one pinned account: nobody can choose among genuine updates.
        bound(self.price_account != Pubkey::default(), "price_account", 0)?;
        let (feed_id, push_shard) = match self.source {
            OracleSource::PythLegacy => ([0; 32], 0),
            OracleSource::PythPull => (self.feed_id, self.push_shard),
        };
        let price_account = self.price_account;
        Ok(OracleConfig {
            price_account,
            feed_id,
            max_age_secs: self.max_age_secs,
            max_conf_bps: self.max_conf_bps,
            lag_bps_per_sec: self.lag_bps_per_sec,
            max_band_bps: self.max_band_bps,
            ema_warn_bps: self.ema_warn_bps,
            ema_pause_bps: self.ema_pause_bps,
            ema_force_bps: self.ema_force_bps,
            stress_addon_bps: self.stress_addon_bps,
            source: self.source.to_u8(),
            push_shard,
            _padding: [0; 3],
        })
    }
}

/// SPEC §2, "no choice of price": a pull reserve pins the Pyth push oracle's feed account of its
/// feed (the PDA of `[shard (u16 LE), feed_id]`), which that program only ever moves forward in
/// publish time. Any other receiver account has a write authority of its own that could post an
/// older verified update into it (`OracleNotPushFeed`). The local validator's build (feature
/// `localnet`) accepts any receiver account: its oracle writer posts at addresses of its own.
/// Checked by the instruction, not by `OracleParams::to_config`, which clients also call to check
/// bounds whatever build they send to.
fn require_push_feed(account: &Pubkey, shard: u16, feed_id: &[u8; 32]) -> Result<()> {
    if cfg!(feature = "localnet") {
        return Ok(());
    }
    let program = crate::oracle::pull::PYTH_PUSH_ORACLE_PROGRAM_ID;
    let (feed_account, _) = Pubkey::find_program_address(&[&shard.to_le_bytes(), feed_id], &program);
    if *account != feed_account {
        msg!(
            "price_account {} is not the push oracle's feed account {} (shard {})",
            account,
            feed_account,
            shard
        );
        return err!(BallastError::OracleNotPushFeed);
    }
    Ok(())
}

impl RiskParams {
    /// SPEC §3/§7 bounds: leverage ≤ 5×, haircuts ≤ 95 %, maintenance no stricter than initial,
    /// bonus ≤ 15 %, and a fee small enough that a keeper seizing at the minimum bonus still
    /// receives at least the value it repaid: `(1 + bonus_min) × (1 − fee) ≥ 1`.
    pub fn to_config(&self) -> Result<RiskConfig> {
        bound(
            self.max_leverage_bps > 10_000 && self.max_leverage_bps <= MAX_LEVERAGE_BPS,
            "max_leverage_bps",
            self.max_leverage_bps as u64,
        )?;
        bound(self.init_haircut_bps <= 9_500, "init_haircut_bps", self.init_haircut_bps as u64)?;
        bound(
            self.maint_haircut_bps <= self.init_haircut_bps,
            "maint_haircut_bps",
            self.maint_haircut_bps as u64,
        )?;
        bound(
            (10_000..=50_000).contains(&self.borrow_factor_bps),
            "borrow_factor_bps",
            self.borrow_factor_bps as u64,
        )?;
        bound(
            (1..=10_000).contains(&self.position_cap_bps),
            "position_cap_bps",
            self.position_cap_bps as u64,
        )?;
        let (bonus_min, bonus_max) =
            (self.liquidation_bonus_min_bps as u32, self.liquidation_bonus_max_bps as u32);
        bound(bonus_max <= MAX_BONUS_BPS, "liquidation_bonus_max_bps", bonus_max as u64)?;
        bound(bonus_min <= bonus_max, "liquidation_bonus_min_bps", bonus_min as u64)?;
        let fee = self.liquidation_fee_bps as u32;
        bound(fee * (10_000 + bonus_min) <= bonus_min * 10_000, "liquidation_fee_bps", fee as u64)?;
        bound(
            (1..=10_000).contains(&self.close_factor_bps),
            "close_factor_bps",
            self.close_factor_bps as u64,
        )?;
        bound(self.stress_group < STRESS_GROUPS as u8, "stress_group", self.stress_group as u64)?;
        Ok(RiskConfig {
            max_leverage_bps: self.max_leverage_bps,
            init_haircut_bps: self.init_haircut_bps,
            maint_haircut_bps: self.maint_haircut_bps,
            borrow_factor_bps: self.borrow_factor_bps,
            position_cap_bps: self.position_cap_bps,
            liquidation_bonus_min_bps: self.liquidation_bonus_min_bps,
            liquidation_bonus_max_bps: self.liquidation_bonus_max_bps,
            liquidation_fee_bps: self.liquidation_fee_bps,
            close_factor_bps: self.close_factor_bps,
            collateral_enabled: self.collateral_enabled as u8,
            borrow_enabled: self.borrow_enabled as u8,
            stress_group: self.stress_group,
            _padding: [0; 1],
        })
    }
}

impl InterestParams {
    /// Rates ≤ 1 000 % APR and non-decreasing along the curve; reserve factor ≤ 50 %.
    pub fn to_config(&self) -> Result<InterestConfig> {
        bound(
            (1..=9_900).contains(&self.optimal_utilization_bps),
            "optimal_utilization_bps",
            self.optimal_utilization_bps as u64,
        )?;
        bound(self.base_rate_bps <= self.optimal_rate_bps, "base_rate_bps", self.base_rate_bps as u64)?;
        bound(self.optimal_rate_bps <= self.max_rate_bps, "optimal_rate_bps", self.optimal_rate_bps as u64)?;
        bound(self.max_rate_bps <= 100_000, "max_rate_bps", self.max_rate_bps as u64)?;
        bound(self.reserve_factor_bps <= 5_000, "reserve_factor_bps", self.reserve_factor_bps as u64)?;
        bound(self.insurance_target_bps <= 5_000, "insurance_target_bps", self.insurance_target_bps as u64)?;
        Ok(InterestConfig {
            optimal_utilization_bps: self.optimal_utilization_bps,
            base_rate_bps: self.base_rate_bps,
            optimal_rate_bps: self.optimal_rate_bps,
            max_rate_bps: self.max_rate_bps,
            reserve_factor_bps: self.reserve_factor_bps,
            insurance_target_bps: self.insurance_target_bps,
            _padding: [0; 4],
        })
    }
}

/// Reserve-wide caps in token units (`u64::MAX`: none).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapsParams {
    pub deposit_cap: u64,
    pub borrow_cap: u64,
}

/// A reserve's complete configuration, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReserveConfig {
    pub oracle: OracleConfig,
    pub risk: RiskConfig,
    pub interest: InterestConfig,
    pub deposit_cap: u64,
    pub borrow_cap: u64,
}

impl ReserveConfig {
    pub fn of(r: &Reserve) -> Self {
        ReserveConfig {
            oracle: r.oracle,
            risk: r.risk,
            interest: r.interest,
            deposit_cap: r.deposit_cap,
            borrow_cap: r.borrow_cap,
        }
    }

    pub fn pending_of(r: &Reserve) -> Self {
        ReserveConfig {
            oracle: r.pending_oracle,
            risk: r.pending_risk,
            interest: r.pending_interest,
            deposit_cap: r.pending_deposit_cap,
            borrow_cap: r.pending_borrow_cap,
        }
    }

    pub fn write(&self, r: &mut Reserve) {
        (r.oracle, r.risk, r.interest, r.deposit_cap, r.borrow_cap) =
            (self.oracle, self.risk, self.interest, self.deposit_cap, self.borrow_cap);
    }

    pub fn write_pending(&self, r: &mut Reserve) {
        (r.pending_oracle, r.pending_risk, r.pending_interest, r.pending_deposit_cap, r.pending_borrow_cap) =
            (self.oracle, self.risk, self.interest, self.deposit_cap, self.borrow_cap);
    }

    /// The first risk limit `new` loosens compared with `self`, by name (SPEC §7): a higher
    /// leverage cap, cap or concentration limit, a lower haircut or borrow factor, an asset
    /// newly enabled as collateral or for borrowing, or a laxer oracle (another source or feed,
    /// an older or less certain price, a slower lag band, a later EMA breaker, a smaller stress
    /// add-on). Interest and liquidation mechanics are not risk limits: they apply at once.
    /// The first limit `new` loosens against `self`, and whether it is one that makes the
    /// reserve count more as collateral (SPEC §7: those wait for the timelock even on an empty
    /// reserve); `None` when `new` only tightens or keeps every limit.
    pub fn loosened_by(&self, new: &ReserveConfig) -> Option<Loosening> {
        let (o, n) = (&self.oracle, &new.oracle);
        let (ro, rn) = (&self.risk, &new.risk);
        // (limit, loosened, collateral side)
        let checks: [(&'static str, bool, bool); 19] = [
            (
                "oracle source",
                n.source != o.source || n.price_account != o.price_account || n.feed_id != o.feed_id,
                true,
            ),
            ("max_age_secs", n.max_age_secs > o.max_age_secs, true),
            ("max_conf_bps", n.max_conf_bps > o.max_conf_bps, true),
            ("lag_bps_per_sec", n.lag_bps_per_sec < o.lag_bps_per_sec, true),
            ("max_band_bps", n.max_band_bps > o.max_band_bps, true),
            ("ema_warn_bps", n.ema_warn_bps > o.ema_warn_bps, true),
            ("ema_pause_bps", n.ema_pause_bps > o.ema_pause_bps, true),
            ("ema_force_bps", n.ema_force_bps > o.ema_force_bps, true),
            ("stress_addon_bps", n.stress_addon_bps < o.stress_addon_bps, true),
            ("max_leverage_bps", rn.max_leverage_bps > ro.max_leverage_bps, true),
            ("init_haircut_bps", rn.init_haircut_bps < ro.init_haircut_bps, true),
            ("maint_haircut_bps", rn.maint_haircut_bps < ro.maint_haircut_bps, true),
            ("borrow_factor_bps", rn.borrow_factor_bps < ro.borrow_factor_bps, false),
            ("position_cap_bps", rn.position_cap_bps > ro.position_cap_bps, true),
            ("collateral_enabled", rn.collateral_enabled > ro.collateral_enabled, true),
            ("borrow_enabled", rn.borrow_enabled > ro.borrow_enabled, false),
            // Joining a stress group only adds a shock; leaving or switching may lower it.
            ("stress_group", rn.stress_group != ro.stress_group && ro.stress_group != 0, true),
            ("deposit_cap", new.deposit_cap > self.deposit_cap, true),
            ("borrow_cap", new.borrow_cap > self.borrow_cap, false),
        ];
        let first = |side: bool| {
            checks.iter().find(|(_, loosened, collateral)| *loosened && *collateral == side).map(|c| c.0)
        };
        match (first(true), first(false)) {
            (Some(limit), _) => Some(Loosening { limit, collateral_side: true }),
            (None, Some(limit)) => Some(Loosening { limit, collateral_side: false }),
            (None, None) => None,
        }
    }
}

/// A limit a configuration change loosens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loosening {
    pub limit: &'static str,
    /// The change makes the reserve count more as collateral (oracle, weights, collateral
    /// switch, deposit limits, stress group), as opposed to borrow-side limits.
    pub collateral_side: bool,
}

impl Loosening {
    /// Whether the change waits for the market timelock (SPEC §7). Nothing is at stake in a
    /// reserve nobody has deposited into or borrowed from, except through collateral: an
    /// empty reserve that counts (or would count) as collateral could back borrows of every
    /// other reserve the moment it is loosened. Borrow-side limits of an empty reserve, and
    /// collateral-side limits of one that is not and will not be collateral, apply at once.
    pub fn waits(&self, reserve_empty: bool, counts_as_collateral: bool) -> bool {
        !reserve_empty || (self.collateral_side && counts_as_collateral)
    }
}

#[derive(Accounts)]
pub struct ConfigureReserve<'info> {
    pub admin: Signer<'info>,
    #[account(has_one = admin @ BallastError::NotMarketAdmin)]
    pub market: Account<'info, Market>,
    #[account(mut, has_one = market @ BallastError::WrongMarket)]
    pub reserve: AccountLoader<'info, Reserve>,
}

/// Sets a reserve's oracle, risk, interest parameters and caps, each checked against its
/// on-chain bound (SPEC §7). A change that only tightens applies at once, even while another
/// change is queued (an emergency must never wait): it then drops the queued change. A change
/// that loosens a limit is queued behind the market's timelock (`apply_reserve_config` after
/// it, `cancel_reserve_config` before), one at a time, with one exception: on an empty reserve
/// (nothing deposited or borrowed) borrow-side loosening applies at once, as does any change
/// to a reserve that neither is nor becomes collateral. Whatever makes a reserve count more as
/// collateral always waits (`Loosening::waits`). Interest is accrued under the old curve first.
pub fn handler(
    ctx: Context<ConfigureReserve>,
    oracle: OracleParams,
    risk: RiskParams,
    interest: InterestParams,
    caps: CapsParams,
) -> Result<()> {
    if oracle.source == OracleSource::PythPull {
        require_push_feed(&oracle.price_account, oracle.push_shard, &oracle.feed_id)?;
    }
    let new = ReserveConfig {
        oracle: oracle.to_config()?,
        risk: risk.to_config()?,
        interest: interest.to_config()?,
        deposit_cap: caps.deposit_cap,
        borrow_cap: caps.borrow_cap,
    };
    let now = Clock::get()?.unix_timestamp;
    let reserve_key = ctx.accounts.reserve.key();
    let mut reserve = ctx.accounts.reserve.load_mut()?;
    reserve.session.check_gap_within_initial(&new.risk)?;
    if reserve.pending_session_eta != 0 {
        reserve.pending_session.check_gap_within_initial(&new.risk)?;
    }
    let current = ReserveConfig::of(&reserve);
    let empty = reserve.total_deposit_shares == 0 && reserve.total_borrow_shares == 0;
    let counts_as_collateral = current.risk.collateral_enabled != 0 || new.risk.collateral_enabled != 0;
    // A market without a timelock (0) has nothing to wait for: the admin's word is final.
    let timelock = ctx.accounts.market.timelock_secs;
    let waiting = current.loosened_by(&new).filter(|l| timelock > 0 && l.waits(empty, counts_as_collateral));
    if let Some(loosening) = waiting {
        require!(reserve.pending_eta == 0, BallastError::ChangePending);
        let eta = now.checked_add(timelock as i64).ok_or(BallastError::MathOverflow)?;
        new.write_pending(&mut reserve);
        reserve.pending_eta = eta;
        msg!("{} is loosened: the change is queued until {}", loosening.limit, eta);
        emit!(ReserveConfigQueued {
            reserve: reserve_key,
            loosened: loosening.limit.to_string(),
            eta,
            oracle,
            risk,
            interest,
            caps
        });
        return Ok(());
    }
    if reserve.pending_eta != 0 {
        // A tightening overrides what was queued: the admin queues it again if still wanted.
        reserve.pending_eta = 0;
        emit!(ReserveConfigResolved { reserve: reserve_key, applied: false });
    }
    reserve.accrue(now)?;
    new.write(&mut reserve);
    emit!(ReserveConfigured { reserve: reserve_key, oracle, risk, interest, caps });
    Ok(())
}
