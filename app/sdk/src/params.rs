//! Parameter sets a new reserve can start from: the values the CLI's configuration files fall
//! back to and the tests use. Every value is inside the program's on-chain bounds.
use anchor_lang::prelude::Pubkey;
use ballast::instructions::{InterestParams, OracleParams, RiskParams};
use ballast::state::OracleSource;

/// A pull-oracle feed: 60 s max age, 2 % max confidence, 25 bps/s lag, 5 % band cap, the SPEC's
/// EMA levels, 10 % stress add-on.
pub fn default_oracle(feed_id: [u8; 32], price_account: Pubkey) -> OracleParams {
    OracleParams {
        source: OracleSource::PythPull,
        price_account,
        feed_id,
        max_age_secs: 60,
        max_conf_bps: 200,
        lag_bps_per_sec: 25,
        max_band_bps: 500,
        ema_warn_bps: ballast::constants::DEFAULT_EMA_WARN_BPS,
        ema_pause_bps: ballast::constants::DEFAULT_EMA_PAUSE_BPS,
        ema_force_bps: ballast::constants::DEFAULT_EMA_FORCE_BPS,
        stress_addon_bps: 1_000,
        push_shard: 0,
    }
}

/// [`default_oracle`] pinning the push oracle's feed account of `feed_id` on shard 0: the account
/// every build but the local validator's accepts for a pull reserve.
pub fn push_feed_oracle(feed_id: [u8; 32]) -> OracleParams {
    default_oracle(feed_id, crate::pda::pyth_push_feed(0, &feed_id))
}

/// 3× leverage cap, 10 % / 5 % haircuts, borrow factor 1; liquidation bonus 2–10 %, fee 1 %
/// of the seized collateral, close factor 50 %.
pub fn default_risk() -> RiskParams {
    RiskParams {
        max_leverage_bps: 30_000,
        init_haircut_bps: 1_000,
        maint_haircut_bps: 500,
        borrow_factor_bps: 10_000,
        position_cap_bps: 10_000,
        liquidation_bonus_min_bps: 200,
        liquidation_bonus_max_bps: 1_000,
        liquidation_fee_bps: 100,
        close_factor_bps: 5_000,
        stress_group: 0,
        collateral_enabled: true,
        borrow_enabled: true,
    }
}

pub fn default_interest() -> InterestParams {
    InterestParams {
        optimal_utilization_bps: 8_000,
        base_rate_bps: 200,
        optimal_rate_bps: 4_000,
        max_rate_bps: 15_000,
        reserve_factor_bps: 1_000,
        insurance_target_bps: 200,
    }
}

/// No deposit or borrow cap.
pub fn no_caps() -> ballast::instructions::CapsParams {
    ballast::instructions::CapsParams { deposit_cap: u64::MAX, borrow_cap: u64::MAX }
}
