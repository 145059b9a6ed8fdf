//! The whole study: every event and asset under the current rules (with the loss split into
//! oracle lag, keeper latency and the gap), the grids, the recommendation, and the lag the data
//! shows. Replays run on every core.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::data::History;
use crate::events::Event;
use crate::paths::{market_price, OracleModel};
use crate::replay::{self, Outcome, Population, Scenario, SplitModel, ASSET, STABLE};
use crate::rules::{AssetRules, MarketRules};

/// What the study varies and holds.
#[derive(Clone)]
pub struct StudyConfig {
    pub population: Population,
    pub oracle: OracleModel,
    /// Keepers in a working market: a liquidation lands this long after the position turns
    /// liquidatable.
    pub keeper_latency_secs: i64,
    /// Keepers on a congested chain (the grids, the sweeps and the recommendation assume it).
    pub stress_latency_secs: i64,
    /// Keeper latencies of the latency sweep, seconds.
    pub latency_grid: Vec<i64>,
    pub turnover_bps: u32,
    /// Leverage caps, bps (the grid's columns).
    pub leverage_grid: Vec<u32>,
    /// Maintenance haircuts, bps (the grid's rows); the initial haircut is 5 points above.
    pub haircut_grid: Vec<u16>,
    pub lag_grid: Vec<u16>,
    /// EMA breaker levels (warn, pause, force), bps.
    pub breaker_grid: Vec<(u16, u16, u16)>,
    pub threads: usize,
    /// Liquidations kept for the LiteSVM cross-check, every n-th (0: none).
    pub sample_every: usize,
}

impl Default for StudyConfig {
    fn default() -> Self {
        StudyConfig {
            population: Population::default(),
            oracle: OracleModel::default(),
            keeper_latency_secs: 2,
            stress_latency_secs: 600,
            latency_grid: vec![2, 30, 120, 600],
            turnover_bps: 2_000,
            leverage_grid: vec![20_000, 30_000, 40_000, 50_000],
            haircut_grid: vec![500, 1_000, 1_500, 2_000, 2_500, 3_000],
            lag_grid: vec![0, 10, 25, 50, 100],
            breaker_grid: vec![(80, 120, 150), (160, 240, 300), (400, 600, 800), (5_000, 5_000, 5_000)],
            threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            sample_every: 0,
        }
    }
}

/// A replay's figures (the full outcome is kept only where the report draws it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub opened: usize,
    pub liquidations: usize,
    pub liquidated_usd: f64,
    pub bad_debt_usd: f64,
    pub covered_usd: f64,
    pub socialized_usd: f64,
    pub debt_usd: f64,
    pub collateral_usd: f64,
    /// Each pool's balance at the window's start, USD (stablecoin, asset).
    pub pool_start_usd: [f64; 2],
    /// Bad debt per reserve, tokens, and each pool's balance at the start, tokens.
    pub bad_debt_tokens: [u64; 2],
    pub pool_start: [u64; 2],
    pub required_target_bps: [u64; 2],
    pub worst_usd: f64,
}

impl Figures {
    fn of(o: &Outcome, start_price: f64, decimals: [u8; 2]) -> Self {
        let usd = |i: usize, tokens: u64| {
            let price = if i == ASSET { start_price } else { 1.0 };
            tokens as f64 / 10f64.powi(decimals[i] as i32) * price
        };
        Figures {
            opened: o.opened,
            liquidations: o.liquidations.len(),
            liquidated_usd: o.liquidated_usd(),
            bad_debt_usd: o.bad_debt_usd(),
            covered_usd: o.covered_usd(),
            socialized_usd: o.socialized_usd(),
            debt_usd: o.debt_usd,
            collateral_usd: o.collateral_usd,
            pool_start_usd: [usd(STABLE, o.pool_start[STABLE]), usd(ASSET, o.pool_start[ASSET])],
            bad_debt_tokens: [o.bad_debt_tokens(ASSET), o.bad_debt_tokens(STABLE)],
            pool_start: o.pool_start,
            required_target_bps: [o.required_target_bps(ASSET), o.required_target_bps(STABLE)],
            worst_usd: o.worst.map_or(0.0, |w| w.1),
        }
    }

    /// Whether every reserve's bad debt stayed within what its pool held at the start.
    pub fn within_pool(&self) -> bool {
        self.bad_debt_tokens.iter().zip(self.pool_start.iter()).all(|(d, p)| d <= p)
    }

    /// Bad debt as a share of the debt at the window's start, %.
    pub fn bad_debt_pct(&self) -> f64 {
        if self.debt_usd > 0.0 {
            100.0 * self.bad_debt_usd / self.debt_usd
        } else {
            0.0
        }
    }
}

/// The loss of one event and asset split by cause (USD of bad debt): what a lag-free oracle
/// would have saved, then what an instant keeper would have saved too, and what is left: the
/// market gapping through the liquidation zone.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Attribution {
    pub total: f64,
    pub lag: f64,
    pub latency: f64,
    pub gap: f64,
}

/// The 3-second moves the data shows (on the second-by-second path), bps.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LagStats {
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    /// Seconds the oracle model counted as fast (3-s lag), %.
    pub fast_pct: f64,
    /// Largest one-minute move, bps.
    pub max_minute: f64,
    /// Seconds whose 3-s move exceeded the design's 0.75 % (25 bps/s × 3 s), %.
    pub above_design_pct: f64,
    /// The bar resolution of the data (the path inside a bar is a model: coarser bars are smoother).
    pub resolution: &'static str,
}

/// The design's allowance for a 3-s update lag: 25 bps/s × 3 s.
pub const DESIGN_LAG_BPS: f64 = 75.0;

/// One event and asset under the current rules: with congested keepers (`outcome`, `figures`,
/// the attribution) and with working ones (`working`).
#[derive(Clone)]
pub struct Baseline {
    pub event: String,
    pub asset: String,
    pub outcome: Outcome,
    pub figures: Figures,
    pub working: Figures,
    pub attribution: Attribution,
    pub lag: LagStats,
    pub start_price: f64,
}

/// A grid cell's figures for every event.
#[derive(Debug, Clone)]
pub struct GridCell {
    pub asset: String,
    pub leverage_bps: u32,
    pub maint_haircut_bps: u16,
    pub per_event: Vec<(String, Figures)>,
}

impl GridCell {
    pub fn within_pool_everywhere(&self) -> bool {
        self.per_event.iter().all(|(_, f)| f.within_pool())
    }
    pub fn worst_bad_debt_pct(&self) -> f64 {
        self.per_event.iter().map(|(_, f)| f.bad_debt_pct()).fold(0.0, f64::max)
    }
}

/// A row of the lag-band or breaker sweeps: an asset, the setting, bad debt and liquidations
/// summed over events.
#[derive(Debug, Clone)]
pub struct SweepRow {
    pub asset: String,
    pub setting: String,
    pub liquidations: usize,
    pub bad_debt_usd: f64,
    pub within_pool_everywhere: bool,
}

/// Per asset: the least conservative grid cell within the pool in every event.
#[derive(Debug, Clone)]
pub struct Recommendation {
    pub asset: String,
    pub current: AssetRules,
    pub recommended: Option<AssetRules>,
    /// The insurance target that covered every event's bad debt under the recommended
    /// parameters, bps of the 24 h volume (rounded up to 50).
    pub insurance_target_bps: u64,
}

/// How a replay treats a split inside its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitCase {
    /// The issuer scheduled the multiplier change on the mint before the window (xStocks
    /// announce splits days ahead).
    Announced,
    /// The multiplier changes at the bell without a schedule.
    Unannounced,
    /// No split: the split-adjusted prices and a plain token, what the holders' positions
    /// were worth all along.
    Without,
}

impl SplitCase {
    pub fn label(self) -> &'static str {
        match self {
            SplitCase::Announced => "split, scheduled on the mint",
            SplitCase::Unannounced => "split, no warning",
            SplitCase::Without => "no split (adjusted prices)",
        }
    }
}

/// The history and the split model a replay of `asset` in `event` takes under `case` (any case
/// is the plain history when the window has no split).
pub fn split_case<'a>(event: &'a Event, asset: &str, case: SplitCase) -> (&'a History, Option<SplitModel>) {
    match event.split_of(asset) {
        Some(x) if case == SplitCase::Without => (&x.adjusted, None),
        Some(x) => (
            &event.assets[asset],
            Some(SplitModel { at: x.at, ratio: x.ratio, announced: case == SplitCase::Announced }),
        ),
        None => (&event.assets[asset], None),
    }
}

/// One replay of a window with a split.
#[derive(Debug, Clone)]
pub struct SplitRow {
    pub event: String,
    pub asset: String,
    pub ratio: f64,
    /// The bell the split took effect at.
    pub at: i64,
    pub rules: String,
    pub latency: i64,
    pub case: SplitCase,
    pub figures: Figures,
    /// Liquidations from 15 min before the bell to the next day's bell (the change's window
    /// and the EMA's settling).
    pub liquidations_around: usize,
    pub keeper_refused: usize,
}

#[derive(Clone)]
pub struct Study {
    pub config: StudyConfig,
    pub baselines: Vec<Baseline>,
    pub grid: Vec<GridCell>,
    pub lag_sweep: Vec<SweepRow>,
    pub breaker_sweep: Vec<SweepRow>,
    pub latency_sweep: Vec<SweepRow>,
    pub recommendations: Vec<Recommendation>,
    pub splits: Vec<SplitRow>,
    pub replays: usize,
}

/// Runs `jobs` on `threads` threads, in order.
fn parallel<J: Sync, R: Send>(jobs: &[J], threads: usize, work: impl Fn(&J) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= jobs.len() {
                    break;
                }
                let r = work(&jobs[i]);
                results.lock().expect("not poisoned")[i] = Some(r);
            });
        }
    });
    results.into_inner().expect("not poisoned").into_iter().map(|r| r.expect("every job ran")).collect()
}

/// The 3-second moves of `history` over `[from, to)`, and how often the model saw a fast market.
pub fn lag_stats(history: &History, model: &OracleModel, from: i64, to: i64) -> LagStats {
    let mut moves: Vec<f64> = Vec::with_capacity((to - from) as usize);
    let mut fast = 0usize;
    let mut max_minute: f64 = 0.0;
    for t in from..to {
        let (now, before) = (market_price(history, t), market_price(history, t - 3));
        moves.push(((now - before) / before).abs() * 10_000.0);
        if model.lag_at(history, t) == model.fast_lag_secs && model.fast_lag_secs != model.calm_lag_secs {
            fast += 1;
        }
        if (t - from) % 60 == 0 {
            let minute_ago = market_price(history, t - 60);
            max_minute = max_minute.max(((now - minute_ago) / minute_ago).abs() * 10_000.0);
        }
    }
    moves.sort_by(f64::total_cmp);
    let q = |x: f64| moves[((moves.len() - 1) as f64 * x) as usize];
    let above = moves.len() - moves.partition_point(|m| *m <= DESIGN_LAG_BPS);
    LagStats {
        above_design_pct: 100.0 * above as f64 / moves.len() as f64,
        resolution: history.resolution.label(),
        p50: q(0.5),
        p99: q(0.99),
        p999: q(0.999),
        max: q(1.0),
        fast_pct: 100.0 * fast as f64 / moves.len() as f64,
        max_minute,
    }
}

/// `rules` with leverage cap `leverage_bps` and maintenance haircut `maint` (initial 5 points
/// above).
pub fn with_grid_cell(rules: &AssetRules, leverage_bps: u32, maint: u16) -> AssetRules {
    let mut r = rules.clone();
    r.risk.max_leverage_bps = leverage_bps;
    r.risk.maint_haircut_bps = maint;
    r.risk.init_haircut_bps = (maint + 500).min(9_500);
    r
}

struct Job<'a> {
    event: &'a Event,
    asset: &'a str,
    rules: AssetRules,
    oracle: OracleModel,
    latency: i64,
    keep: bool,
    split: SplitCase,
}

/// Runs the study over `events` for the assets in `rules` (the stablecoin is `stable`).
pub fn run(
    events: &[Event],
    assets: &[AssetRules],
    stable: &AssetRules,
    market: MarketRules,
    config: &StudyConfig,
) -> Study {
    let scenario = |job: &Job| -> Outcome {
        let (history, split) = split_case(job.event, job.asset, job.split);
        let s = Scenario {
            history,
            asset: job.rules.clone(),
            stable: stable.clone(),
            market,
            start: job.event.warm_up,
            crash: job.event.start,
            end: job.event.end,
            population: config.population,
            oracle: job.oracle,
            keeper_latency_secs: job.latency,
            turnover_bps: config.turnover_bps,
            sample_every: if job.keep { config.sample_every } else { 0 },
            split,
        };
        let mut o = replay::run(&s);
        if !job.keep {
            o.prices = Vec::new();
            o.pool_usd = Vec::new();
        }
        o
    };
    let pairs: Vec<(&Event, &AssetRules)> = events
        .iter()
        .flat_map(|e| assets.iter().filter(|a| e.assets.contains_key(&a.symbol)).map(move |a| (e, a)))
        .collect();

    // 1. Baselines, with the counterfactuals for the attribution.
    let mut jobs = Vec::new();
    for (e, a) in &pairs {
        for (oracle, latency, keep) in [
            (config.oracle, config.stress_latency_secs, true),
            (config.oracle.without_lag(), config.stress_latency_secs, false),
            (config.oracle.without_lag(), 0, false),
            (config.oracle, config.keeper_latency_secs, false),
        ] {
            jobs.push(Job {
                event: e,
                asset: &a.symbol,
                rules: (*a).clone(),
                oracle,
                latency,
                keep,
                split: SplitCase::Announced,
            });
        }
    }
    let mut outcomes = parallel(&jobs, config.threads, scenario).into_iter();
    let mut replays = jobs.len();
    let mut baselines = Vec::new();
    for (e, a) in &pairs {
        let mut next = || outcomes.next().expect("ran");
        let (actual, no_lag, neither, working) = (next(), next(), next(), next());
        let history = &e.assets[&a.symbol];
        let start_price = market_price(history, e.start);
        let decimals = [a.decimals, stable.decimals];
        let total = actual.bad_debt_usd();
        let attribution = Attribution {
            total,
            lag: total - no_lag.bad_debt_usd(),
            latency: no_lag.bad_debt_usd() - neither.bad_debt_usd(),
            gap: neither.bad_debt_usd(),
        };
        baselines.push(Baseline {
            event: e.id.clone(),
            asset: a.symbol.clone(),
            figures: Figures::of(&actual, start_price, decimals),
            working: Figures::of(&working, start_price, decimals),
            outcome: actual,
            attribution,
            lag: lag_stats(history, &config.oracle, e.start, e.end),
            start_price,
        });
    }

    // 2. The leverage × haircut grid.
    let mut cells: Vec<(String, u32, u16)> = Vec::new();
    let mut jobs = Vec::new();
    for a in assets {
        for &lev in &config.leverage_grid {
            for &h in &config.haircut_grid {
                cells.push((a.symbol.clone(), lev, h));
                let rules = with_grid_cell(a, lev, h);
                for (e, _) in pairs.iter().filter(|(_, pa)| pa.symbol == a.symbol) {
                    jobs.push(Job {
                        event: e,
                        asset: &a.symbol,
                        rules: rules.clone(),
                        oracle: config.oracle,
                        latency: config.stress_latency_secs,
                        keep: false,
                        split: SplitCase::Announced,
                    });
                }
            }
        }
    }
    replays += jobs.len();
    let figures: Vec<(String, Figures)> = parallel(&jobs, config.threads, |j| {
        let o = scenario(j);
        let start_price = market_price(&j.event.assets[j.asset], j.event.start);
        (j.event.id.clone(), Figures::of(&o, start_price, [j.rules.decimals, stable.decimals]))
    });
    let mut figures = figures.into_iter();
    let grid: Vec<GridCell> = cells
        .into_iter()
        .map(|(asset, lev, h)| {
            let n = pairs.iter().filter(|(_, pa)| pa.symbol == asset).count();
            GridCell {
                asset,
                leverage_bps: lev,
                maint_haircut_bps: h,
                per_event: figures.by_ref().take(n).collect(),
            }
        })
        .collect();

    // 3. Sweeps of the lag band and the breaker, current rules otherwise.
    type Change = Box<dyn Fn(&AssetRules) -> AssetRules + Sync>;
    let sweep = |settings: Vec<(String, Change, i64)>| -> Vec<SweepRow> {
        let mut rows = Vec::new();
        let mut jobs = Vec::new();
        for a in assets {
            for (name, change, latency) in &settings {
                rows.push((a.symbol.clone(), name.clone()));
                for (e, _) in pairs.iter().filter(|(_, pa)| pa.symbol == a.symbol) {
                    jobs.push(Job {
                        event: e,
                        asset: &a.symbol,
                        rules: change(a),
                        oracle: config.oracle,
                        latency: *latency,
                        keep: false,
                        split: SplitCase::Announced,
                    });
                }
            }
        }
        let outs = parallel(&jobs, config.threads, |j| {
            let o = scenario(j);
            let start_price = market_price(&j.event.assets[j.asset], j.event.start);
            Figures::of(&o, start_price, [j.rules.decimals, stable.decimals])
        });
        let mut outs = outs.into_iter();
        rows.into_iter()
            .map(|(asset, setting)| {
                let n = pairs.iter().filter(|(_, pa)| pa.symbol == asset).count();
                let f: Vec<Figures> = outs.by_ref().take(n).collect();
                SweepRow {
                    asset,
                    setting,
                    liquidations: f.iter().map(|f| f.liquidations).sum(),
                    bad_debt_usd: f.iter().map(|f| f.bad_debt_usd).sum(),
                    within_pool_everywhere: f.iter().all(Figures::within_pool),
                }
            })
            .collect()
    };
    let lag_settings = config
        .lag_grid
        .iter()
        .map(|&lag| {
            let change: Change = Box::new(move |a: &AssetRules| {
                let mut r = a.clone();
                r.oracle.lag_bps_per_sec = lag;
                r
            });
            (format!("{lag} bps/s"), change, config.stress_latency_secs)
        })
        .collect();
    let lag_sweep = sweep(lag_settings);
    let breaker_settings = config
        .breaker_grid
        .iter()
        .map(|&(w, p, f)| {
            let change: Change = Box::new(move |a: &AssetRules| {
                let mut r = a.clone();
                (r.oracle.ema_warn_bps, r.oracle.ema_pause_bps, r.oracle.ema_force_bps) = (w, p, f);
                r
            });
            let name = if f >= 5_000 { "off (50 %)".to_string() } else { format!("{w} / {p} / {f} bps") };
            (name, change, config.stress_latency_secs)
        })
        .collect();
    let breaker_sweep = sweep(breaker_settings);
    let mut latency_settings: Vec<(String, Change, i64)> = Vec::new();
    for &latency in &config.latency_grid {
        latency_settings.push((
            format!("current, {latency} s"),
            Box::new(|a: &AssetRules| a.clone()),
            latency,
        ));
        latency_settings.push((
            format!("5× / 10 % / 5 %, {latency} s"),
            Box::new(|a: &AssetRules| with_grid_cell(a, 50_000, 500)),
            latency,
        ));
    }
    let latency_sweep = sweep(latency_settings);
    replays +=
        (config.lag_grid.len() + config.breaker_grid.len() + 2 * config.latency_grid.len()) * pairs.len();

    // 4. Each split against the same window without it: scheduled, unannounced, and none, at
    // the current rules and at 5× with a 5 % maintenance haircut (where liquidations happen),
    // with working and congested keepers.
    let mut split_jobs = Vec::new();
    let mut split_rows = Vec::new();
    for (e, a) in &pairs {
        let Some(split) = e.split_of(&a.symbol) else { continue };
        for (label, rules) in [("current", (*a).clone()), ("5× / 10 % / 5 %", with_grid_cell(a, 50_000, 500))]
        {
            for latency in [config.keeper_latency_secs, config.stress_latency_secs] {
                for case in [SplitCase::Announced, SplitCase::Unannounced, SplitCase::Without] {
                    split_rows.push((
                        e.id.clone(),
                        a.symbol.clone(),
                        split.ratio,
                        split.at,
                        label,
                        latency,
                        case,
                    ));
                    split_jobs.push(Job {
                        event: e,
                        asset: &a.symbol,
                        rules: rules.clone(),
                        oracle: config.oracle,
                        latency,
                        keep: false,
                        split: case,
                    });
                }
            }
        }
    }
    replays += split_jobs.len();
    let split_outcomes = parallel(&split_jobs, config.threads, |j| {
        let o = scenario(j);
        // The price scale of the history this job replays (the window without the split is
        // adjusted: a third of the traded price before the split).
        let (history, _) = split_case(j.event, j.asset, j.split);
        let start_price = market_price(history, j.event.start);
        let figures = Figures::of(&o, start_price, [j.rules.decimals, stable.decimals]);
        (figures, o.liquidations.iter().map(|l| l.time).collect::<Vec<_>>(), o.keeper_refused)
    });
    let splits = split_rows
        .into_iter()
        .zip(split_outcomes)
        .map(|((event, asset, ratio, at, rules, latency, case), (figures, times, refused))| SplitRow {
            event,
            asset,
            ratio,
            at,
            rules: rules.to_string(),
            latency,
            case,
            figures,
            liquidations_around: times.iter().filter(|&&t| t >= at - 900 && t < at + 86_400).count(),
            keeper_refused: refused,
        })
        .collect();

    // 5. The recommendation: the highest leverage, then the lowest haircut, within the pool in
    // every event; the target that covered every event.
    let recommendations = assets
        .iter()
        .map(|a| {
            let mut passing: Vec<&GridCell> =
                grid.iter().filter(|c| c.asset == a.symbol && c.within_pool_everywhere()).collect();
            passing.sort_by_key(|c| (std::cmp::Reverse(c.leverage_bps), c.maint_haircut_bps));
            let recommended = passing.first().map(|c| with_grid_cell(a, c.leverage_bps, c.maint_haircut_bps));
            // The target that covered every event's bad debt under the recommended cell (the
            // current parameters when none passes).
            let required = match passing.first() {
                Some(cell) => cell.per_event.iter().flat_map(|(_, f)| f.required_target_bps).max(),
                None => baselines
                    .iter()
                    .filter(|b| b.asset == a.symbol)
                    .flat_map(|b| b.figures.required_target_bps)
                    .max(),
            }
            .unwrap_or(0);
            Recommendation {
                asset: a.symbol.clone(),
                current: a.clone(),
                recommended,
                insurance_target_bps: required.div_ceil(50) * 50,
            }
        })
        .collect();
    Study {
        config: config.clone(),
        baselines,
        grid,
        lag_sweep,
        breaker_sweep,
        latency_sweep,
        recommendations,
        splits,
        replays,
    }
}
