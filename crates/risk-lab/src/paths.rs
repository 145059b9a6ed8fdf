//! A price path at one-second resolution from bars, and the oracle's view of it.
//!
//! Inside a minute bar the market is taken to move in straight lines open → low → high → close
//! for a bar that closed up, open → high → low → close for one that closed down, each leg a third
//! of the minute: the bar's real extremes, in the order that ends at its close. This is a model
//! (the files have no ticks), stated in docs/risk.md. A minute the file leaves out (no trades)
//! holds the last close.
use ballast_risk::session::{civil_from_days, dst_bounds};

use crate::data::{Bar, History, Resolution};

/// The market price at unix second `t` (inside the file's span; before it: the first open).
pub fn market_price(history: &History, t: i64) -> f64 {
    let Some(i) = history.index_at(t) else { return history.bars[0].open };
    let bar = &history.bars[i];
    if history.resolution != Resolution::Daily {
        return within_bar(bar, t - bar.time, history.resolution.step_secs());
    }
    // A trading day: the last close until the opening bell, the bar's path through the
    // session, its close after the bell.
    let (open, close) = nyse_session(bar.time);
    if t < open {
        return if i > 0 { history.bars[i - 1].close } else { bar.open };
    }
    within_bar(bar, t - open, close - open)
}

/// The regular NYSE session (09:30–16:00 New York time) of the day starting at `day` (00:00
/// UTC), in unix seconds.
pub fn nyse_session(day: i64) -> (i64, i64) {
    let (year, _, _) = civil_from_days((day / 86_400) as u64);
    let (dst_start, dst_end) = dst_bounds(year);
    let open_est = day + 14 * 3_600 + 1_800; // 09:30 EST is 14:30 UTC
    let open = if (dst_start..dst_end).contains(&(open_est as u64)) { open_est - 3_600 } else { open_est };
    (open, open + 6 * 3_600 + 1_800)
}

fn within_bar(bar: &Bar, offset: i64, step: i64) -> f64 {
    if offset >= step {
        return bar.close;
    }
    let (a, b) = if bar.close >= bar.open { (bar.low, bar.high) } else { (bar.high, bar.low) };
    let leg = step as f64 / 3.0;
    let x = offset as f64;
    let lerp = |from: f64, to: f64, at: f64| from + (to - from) * (at / leg);
    if x < leg {
        lerp(bar.open, a, x)
    } else if x < 2.0 * leg {
        lerp(a, b, x - leg)
    } else {
        lerp(b, bar.close, x - 2.0 * leg)
    }
}

/// How the oracle lags the market (the design's figures: ~1 s, ~3 s when the market runs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OracleModel {
    /// Age of the latest update in calm markets, seconds.
    pub calm_lag_secs: i64,
    /// Age of the latest update when the market moves fast (congestion), seconds.
    pub fast_lag_secs: i64,
    /// "Fast": the market moved at least this much over the last minute, bps.
    pub fast_move_bps: u32,
    /// The feed's confidence interval, bps of the price.
    pub conf_bps: u32,
    /// The EMA's time constant, seconds (Pyth's EMA spans about an hour of slots).
    pub ema_secs: f64,
}

impl Default for OracleModel {
    fn default() -> Self {
        OracleModel { calm_lag_secs: 1, fast_lag_secs: 3, fast_move_bps: 50, conf_bps: 5, ema_secs: 2_400.0 }
    }
}

impl OracleModel {
    /// No lag at all (a counterfactual: how much of a loss the lag made).
    pub fn without_lag(self) -> Self {
        OracleModel { calm_lag_secs: 0, fast_lag_secs: 0, ..self }
    }

    /// The age of the latest update at `t`.
    pub fn lag_at(&self, history: &History, t: i64) -> i64 {
        let (now, before) = (market_price(history, t), market_price(history, t - 60));
        let moved_bps = ((now - before) / before).abs() * 10_000.0;
        if moved_bps >= self.fast_move_bps as f64 {
            self.fast_lag_secs
        } else {
            self.calm_lag_secs
        }
    }
}

/// The oracle's state each second: what the price account says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OracleState {
    pub price: f64,
    pub publish_time: i64,
    pub ema: f64,
}

/// Follows the market second by second from `start` (call `step` with consecutive seconds).
#[derive(Debug, Clone)]
pub struct OracleFeed {
    pub model: OracleModel,
    pub state: OracleState,
}

impl OracleFeed {
    pub fn new(model: OracleModel, history: &History, start: i64) -> Self {
        let price = market_price(history, start - model.calm_lag_secs);
        OracleFeed {
            model,
            state: OracleState { price, publish_time: start - model.calm_lag_secs, ema: price },
        }
    }

    /// The account at second `t`: the market `lag` seconds ago, published then.
    pub fn step(&mut self, history: &History, t: i64) -> OracleState {
        self.advance(history, t, 1)
    }

    /// [`step`](Self::step) to second `t`, `secs` after the last (the EMA decays over all of
    /// them; the price is the market's at `t` less the lag).
    pub fn advance(&mut self, history: &History, t: i64, secs: i64) -> OracleState {
        let lag = self.model.lag_at(history, t);
        let published = t - lag;
        // Updates never go back in time (a 3-s lag after a 1-s one keeps the newer update).
        if published > self.state.publish_time {
            self.state.price = market_price(history, published);
            self.state.publish_time = published;
        }
        let keep = if secs == 1 {
            1.0 - 1.0 / self.model.ema_secs
        } else {
            (1.0 - 1.0 / self.model.ema_secs).powi(secs as i32)
        };
        self.state.ema = self.state.price + (self.state.ema - self.state.price) * keep;
        self.state
    }

    /// Whether the market stands still over `[t, t + secs)`: a daily file outside its
    /// session (the price holds from the close to the next bell).
    pub fn market_closed(history: &History, t: i64, secs: i64) -> bool {
        if history.resolution != Resolution::Daily {
            return false;
        }
        let Some(i) = history.index_at(t) else { return false };
        let (open, close) = nyse_session(history.bars[i].time);
        let next_open = history.bars.get(i + 1).map_or(i64::MAX, |b| nyse_session(b.time).0);
        (t >= close && t + secs + 3 <= next_open) || t + secs + 3 <= open
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{parse, Resolution};
    use std::path::Path;

    fn history() -> History {
        let text = "timestamp,open,high,low,close,volume\n600,100,110,90,95,1\n660,95,96,80,90,1\n780,90,90,90,90,1\n";
        parse(Path::new("t.csv"), text, Resolution::Minute).unwrap()
    }

    #[test]
    fn a_down_bar_visits_its_high_then_its_low_then_closes() {
        let h = history();
        assert_eq!(market_price(&h, 600), 100.0);
        assert_eq!(market_price(&h, 620), 110.0);
        assert_eq!(market_price(&h, 640), 90.0);
        assert!((market_price(&h, 650) - 92.5).abs() < 1e-9);
        assert_eq!(market_price(&h, 660), 95.0);
        // A missing minute holds the close.
        assert_eq!(market_price(&h, 750), 90.0);
    }

    #[test]
    fn a_trading_day_holds_the_last_close_until_the_bell_then_walks_its_bar() {
        // 2020-03-16 (EDT since 8 March): the bell rings at 13:30 UTC.
        let text =
            "date,open,high,low,close,volume\n2020-03-13,40,41,39,40.5,1\n2020-03-16,31,33,29,29.5,1\n";
        let h = parse(Path::new("t-daily.csv"), text, Resolution::Daily).unwrap();
        let day = crate::data::parse_date("2020-03-16").unwrap();
        assert_eq!(nyse_session(day), (day + 13 * 3_600 + 1_800, day + 20 * 3_600));
        // Saturday and the Monday morning: Friday's close; the bell: the gap.
        assert_eq!(market_price(&h, day - 86_400), 40.5);
        assert_eq!(market_price(&h, day + 13 * 3_600), 40.5);
        assert_eq!(market_price(&h, day + 13 * 3_600 + 1_800), 31.0);
        assert_eq!(market_price(&h, day + 21 * 3_600), 29.5);
        // In January (EST) the bell rings at 14:30 UTC.
        let jan = crate::data::parse_date("2020-01-06").unwrap();
        assert_eq!(nyse_session(jan).0, jan + 14 * 3_600 + 1_800);
    }

    #[test]
    fn the_oracle_lags_more_when_the_market_runs() {
        let h = history();
        let model = OracleModel::default();
        let mut feed = OracleFeed::new(model, &h, 610);
        // The bar runs 5 % in its first 11 s: fast, a 3-s lag; the update of 609 stays (an
        // update never goes back in time).
        let s = feed.step(&h, 611);
        assert_eq!(s.publish_time, 609);
        // At 700 s the market has fallen ~15 % in a minute: a 3-s lag.
        let s = feed.step(&h, 700);
        assert_eq!(s.publish_time, 697);
        assert_eq!(s.price, market_price(&h, 697));
    }
}
