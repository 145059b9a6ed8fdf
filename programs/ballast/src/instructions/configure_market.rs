use anchor_lang::prelude::*;

use crate::error::BallastError;
use crate::events::MarketConfigured;
use crate::instructions::admin::MarketAdmin;
use crate::state::Market;

/// The market-level parameters (SPEC §5, §7).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketParams {
    /// Health factor (bps) a liquidation restores and does not go past: 101–125 %.
    pub liquidation_target_health_bps: u16,
    /// Positions owing less than this (whole USD) may be closed out in full: at most $1,000.
    pub dust_debt_usd: u32,
    /// Delay of loosening changes: at most 30 days (0: none, the admin's word is final).
    pub timelock_secs: u32,
}

impl MarketParams {
    pub const MAX_TIMELOCK_SECS: u32 = 30 * 86_400;

    fn check(&self) -> Result<()> {
        let bounds = [
            (
                "liquidation_target_health_bps",
                (10_100..=12_500).contains(&self.liquidation_target_health_bps),
            ),
            ("dust_debt_usd", self.dust_debt_usd <= 1_000),
            ("timelock_secs", self.timelock_secs <= Self::MAX_TIMELOCK_SECS),
        ];
        if let Some((name, _)) = bounds.iter().find(|(_, ok)| !ok) {
            msg!("market parameter {} is out of bounds", name);
            return err!(BallastError::ParameterOutOfBounds);
        }
        Ok(())
    }

    pub fn of(market: &Market) -> Self {
        MarketParams {
            liquidation_target_health_bps: market.liquidation_target_health_bps,
            dust_debt_usd: market.dust_debt_usd,
            timelock_secs: market.timelock_secs,
        }
    }

    /// The first parameter `new` loosens: a lower target health (liquidations stop earlier), a
    /// lower dust threshold (fewer close-outs) or a shorter timelock.
    pub fn loosened_by(&self, new: &MarketParams) -> Option<&'static str> {
        [
            (
                "liquidation_target_health_bps",
                new.liquidation_target_health_bps < self.liquidation_target_health_bps,
            ),
            ("dust_debt_usd", new.dust_debt_usd < self.dust_debt_usd),
            ("timelock_secs", new.timelock_secs < self.timelock_secs),
        ]
        .iter()
        .find(|(_, loosened)| *loosened)
        .map(|(name, _)| *name)
    }

    fn write(&self, market: &mut Market) {
        market.liquidation_target_health_bps = self.liquidation_target_health_bps;
        market.dust_debt_usd = self.dust_debt_usd;
        market.timelock_secs = self.timelock_secs;
    }
}

/// Admin: sets the market-level parameters within their bounds. Tightening applies at once (and
/// drops a queued change); loosening waits for the current timelock (`apply_market_config`),
/// except before any reserve is listed, when nothing is at stake, and on a market without a
/// timelock. Sending the current values cancels a queued change.
pub fn handler(ctx: Context<MarketAdmin>, params: MarketParams) -> Result<()> {
    params.check()?;
    let now = Clock::get()?.unix_timestamp;
    let market = &mut ctx.accounts.market;
    let key = market.key();
    let at_stake = market.reserve_count > 0 && market.timelock_secs > 0;
    let loosened = MarketParams::of(market).loosened_by(&params).filter(|_| at_stake);
    let applies_at = if let Some(limit) = loosened {
        let eta = now.checked_add(market.timelock_secs as i64).ok_or(BallastError::MathOverflow)?;
        msg!("{} is loosened: the change is queued until {}", limit, eta);
        market.pending_liquidation_target_health_bps = params.liquidation_target_health_bps;
        market.pending_dust_debt_usd = params.dust_debt_usd;
        market.pending_timelock_secs = params.timelock_secs;
        market.market_config_eta = eta;
        eta
    } else {
        params.write(market);
        market.market_config_eta = 0;
        now
    };
    emit!(MarketConfigured { market: key, params, applies_at });
    Ok(())
}

#[derive(Accounts)]
pub struct ApplyMarketConfig<'info> {
    #[account(mut)]
    pub market: Account<'info, Market>,
}

/// Permissionless once the timelock has passed: the queued market parameters take effect.
pub fn apply_market_config(ctx: Context<ApplyMarketConfig>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let market = &mut ctx.accounts.market;
    require!(market.market_config_eta != 0, BallastError::NoPendingChange);
    require!(now >= market.market_config_eta, BallastError::TimelockNotElapsed);
    let params = MarketParams {
        liquidation_target_health_bps: market.pending_liquidation_target_health_bps,
        dust_debt_usd: market.pending_dust_debt_usd,
        timelock_secs: market.pending_timelock_secs,
    };
    params.write(market);
    market.market_config_eta = 0;
    emit!(MarketConfigured { market: market.key(), params, applies_at: now });
    Ok(())
}
