//! `docs/risk.md` and its pictures, from a study.
use std::fmt::Write;
use std::path::Path;

use ballast_charts::{heat_map, stacked_line_charts, HeatMap, LineChart, Marker, Series};

use crate::data::format_time;
use crate::replay::{ASSET, STABLE};
use crate::study::{Baseline, Study};

fn usd(x: f64) -> String {
    if x.abs() >= 1e6 {
        format!("${:.2} M", x / 1e6)
    } else if x.abs() >= 1e3 {
        format!("${:.1} k", x / 1e3)
    } else {
        format!("${x:.0}")
    }
}

fn pct(bps: u32) -> String {
    format!("{} %", bps as f64 / 100.0)
}

/// Draws each event's figure (price, oracle, liquidations; pools against cumulative bad debt)
/// and each asset's heat map into `dir`; returns the file names written, in order.
pub fn draw(study: &Study, dir: &Path) -> Result<Vec<String>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut written = Vec::new();
    let mut events: Vec<&str> = study.baselines.iter().map(|b| b.event.as_str()).collect();
    events.dedup();
    for event in events {
        let runs: Vec<&Baseline> = study.baselines.iter().filter(|b| b.event == event).collect();
        let t0 = runs[0].outcome.prices.first().map_or(0, |p| p.0);
        let hours = |t: i64| (t - t0) as f64 / 3600.0;
        let mut prices = Vec::new();
        let mut markers = Vec::new();
        let mut pools = Vec::new();
        for b in &runs {
            let first = b.outcome.prices.first().map_or(1.0, |p| p.1);
            prices.push(Series {
                name: format!("{} (market, per token, 100 = start)", b.asset),
                points: b.outcome.prices.iter().map(|&(t, m, _)| (hours(t), 100.0 * m / first)).collect(),
            });
            // The hour each liquidation landed (one dot per hour with any, at that price).
            let mut last_hour = i64::MIN;
            for l in &b.outcome.liquidations {
                let h = (l.time - t0) / 3600;
                if h != last_hour {
                    last_hour = h;
                    markers.push(Marker {
                        label: String::new(),
                        x: hours(l.time),
                        y: Some(100.0 * l.market_price / first),
                    });
                }
            }
            let pool_usd: Vec<(f64, f64)> =
                b.outcome.pool_usd.iter().map(|&(t, p)| (hours(t), p[STABLE] + p[ASSET])).collect();
            pools.push(Series { name: format!("{} market: pools (USD)", b.asset), points: pool_usd });
            let mut cumulative = 0.0;
            let mut points = vec![(0.0, 0.0)];
            for d in &b.outcome.bad_debt {
                cumulative += d.usd;
                points.push((hours(d.time), cumulative));
            }
            points.push((hours(b.outcome.prices.last().map_or(t0, |p| p.0)), cumulative));
            pools.push(Series { name: format!("{} market: bad debt (USD, cumulative)", b.asset), points });
        }
        if let Some(split) = study.splits.iter().find(|r| r.event == event) {
            markers.push(Marker {
                label: format!("{} {}-for-1 split", split.asset, split.ratio),
                x: hours(split.at),
                y: None,
            });
        }
        let title = format!("{event}: market prices (dots: hours with liquidations)");
        let top = LineChart {
            title: &title,
            x_label: "hours from the warm-up's start",
            y_label: "price, 100 = start",
            series: &prices,
            markers: &markers,
        };
        let title2 = format!("{event}: insurance pools against bad debt");
        let bottom = LineChart {
            title: &title2,
            x_label: "hours from the warm-up's start",
            y_label: "USD",
            series: &pools,
            markers: &[],
        };
        let name = format!("risk-{event}.png");
        stacked_line_charts(&dir.join(&name), &[top, bottom], (1000, 420))?;
        written.push(name);
    }
    for rec in &study.recommendations {
        let cells: Vec<_> = study.grid.iter().filter(|c| c.asset == rec.asset).collect();
        let x_ticks: Vec<String> =
            study.config.leverage_grid.iter().map(|l| format!("{}×", *l as f64 / 10_000.0)).collect();
        let y_ticks: Vec<String> = study.config.haircut_grid.iter().map(|h| pct(*h as u32)).collect();
        let values: Vec<Vec<f64>> = study
            .config
            .haircut_grid
            .iter()
            .map(|h| {
                study
                    .config
                    .leverage_grid
                    .iter()
                    .map(|l| {
                        cells
                            .iter()
                            .find(|c| c.leverage_bps == *l && c.maint_haircut_bps == *h)
                            .map_or(0.0, |c| c.worst_bad_debt_pct())
                    })
                    .collect()
            })
            .collect();
        let title = format!("{}: bad debt in the worst event, % of debt", rec.asset);
        let map = HeatMap {
            title: &title,
            x_label: "leverage cap",
            y_label: "maintenance haircut",
            x_ticks: &x_ticks,
            y_ticks: &y_ticks,
            values: &values,
            value_label: "bad debt, % of debt",
        };
        let name = format!("risk-heat-{}.png", rec.asset.to_lowercase());
        heat_map(&dir.join(&name), &map, (760, 520))?;
        written.push(name);
    }
    Ok(written)
}

/// One sweep as a table (a blank line after it).
/// The splits: each replayed as scheduled, unannounced and not at all, and whether the split
/// changed any liquidation.
fn split_section(w: &mut String, study: &Study) {
    use crate::study::SplitCase;
    let Some(first) = study.splits.first() else { return };
    let _ = writeln!(w, "\n### A stock split\n");
    let _ = writeln!(
        w,
        "A tokenized stock stays one *old* share per token: at a {}-for-1 split the per-share feed \
         falls to a third at the bell while the mint's ScaledUiAmount multiplier rises from 1 to \
         {} (SPEC §6). The lab replays the window with the per-share prices as traded (the \
         file's split-adjustment undone before the split) and the mint's multiplier changing at \
         the bell, either **scheduled** on the mint before the window (as the issuer announces \
         splits) or **without warning** (the program learns of it when a transaction next \
         re-reads the mint), and holds both against the same window **without the split** \
         (adjusted prices, a plain token): what the positions were worth all along. A split that \
         the program handles changes no liquidation. *Around the bell*: from 15 min before it to \
         24 h after (the change's window and the per-share EMA settling). *Refused*: keeper \
         transactions the program turned down because the position was healthy once the mint \
         was re-read.\n",
        first.ratio, first.ratio
    );
    let _ = writeln!(w, "| event | asset | rules | keepers | case | liquidations | around the bell | liquidated | bad debt | refused |");
    let _ = writeln!(w, "|---|---|---|---:|---|---:|---:|---:|---:|---:|");
    for r in &study.splits {
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} s | {} | {} | {} | {} | {} | {} |",
            r.event,
            r.asset,
            r.rules,
            r.latency,
            r.case.label(),
            r.figures.liquidations,
            r.liquidations_around,
            usd(r.figures.liquidated_usd),
            usd(r.figures.bad_debt_usd),
            r.keeper_refused
        );
    }
    // Every split replay against the replay without it, same rules and keepers.
    let differing: Vec<String> = study
        .splits
        .iter()
        .filter(|r| r.case != SplitCase::Without)
        .filter_map(|r| {
            let without = study.splits.iter().find(|o| {
                o.case == SplitCase::Without
                    && o.event == r.event
                    && o.rules == r.rules
                    && o.latency == r.latency
            })?;
            let same = r.figures.liquidations == without.figures.liquidations
                && r.liquidations_around == without.liquidations_around
                && (r.figures.liquidated_usd - without.figures.liquidated_usd).abs()
                    <= 1e-3 * without.figures.liquidated_usd
                && (r.figures.bad_debt_usd - without.figures.bad_debt_usd).abs() < 0.01;
            (!same).then(|| format!("{} ({}, {} s, {})", r.event, r.rules, r.latency, r.case.label()))
        })
        .collect();
    if differing.is_empty() {
        let _ = writeln!(
            w,
            "\nEvery split replay made as many liquidations, as many around the bell, for the same \
             value (within 0.1 %) and left the same bad debt as the same window without the split: \
             the split alone liquidated nobody. (The test command's split replay checks the same \
             positions at the same seconds.)"
        );
    } else {
        let _ = writeln!(w, "\nThe split changed the outcome in: {}.", differing.join("; "));
    }
}

fn sweep_table(w: &mut String, rows: &[crate::study::SweepRow], setting: &str) {
    let _ = writeln!(w, "| asset | {setting} | liquidations | bad debt | within the pool everywhere |");
    let _ = writeln!(w, "|---|---|---:|---:|---|");
    for r in rows {
        let within = if r.within_pool_everywhere { "yes" } else { "no" };
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {within} |",
            r.asset,
            r.setting,
            r.liquidations,
            usd(r.bad_debt_usd)
        );
    }
    let _ = writeln!(w);
}

/// The markdown of `docs/risk.md`.
pub fn markdown(study: &Study, images: &[String], command: &str) -> String {
    let c = &study.config;
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "# The risk lab: the program's rules on real market history\n");
    let _ = writeln!(
        w,
        "<!-- Generated by `{command}`; edit crates/risk-lab/src/report.rs, not this file. -->\n"
    );
    let _ = writeln!(
        w,
        "`ballast-risk-lab` (`crates/risk-lab/`) replays real prices and volumes (minute, five-minute and daily bars) \
         (`data/history/`, sources and licences in its README) through the program's own code: \
         every price passes `price_slot_from_oracle` (staleness, the lag band, the EMA breaker), \
         every health figure is `ballast::health`'s, every liquidation is planned by the SDK's \
         `best_liquidation` (the program's planner) and booked with `Reserve`'s methods as \
         `liquidate` books it, the insurance fee is split by `split_to_pool` against the target \
         `PoolStatus` computes from the reserve's own 24 h volume, and bad debt is written off as \
         `resolve_bad_debt` does (the pool of the owed asset first, then the depositors). A test \
         re-runs sampled liquidations through the SBF program in LiteSVM and fails on any \
         difference (`tests/tests/risk_lab.rs`).\n"
    );
    let _ = writeln!(w, "## The model\n");
    let _ = writeln!(
        w,
        "- **Positions.** {} per asset and event (seed {}), opened over the day before the window at \
         that moment's price: {} short the asset (USDC collateral), the rest long (the asset as \
         collateral, USDC debt); collateral ${:.0}–${:.0} (log-uniform); leverage from 1.1× up to \
         the cap, skewed to the cap (1.1 + (cap − 1.1)·√u), shrunk 3 % at a time until the \
         program's initial check passes.",
        c.population.count,
        c.population.seed,
        pct(c.population.short_bps),
        c.population.min_usd,
        c.population.max_usd
    );
    let _ = writeln!(
        w,
        "- **Prices.** Each minute bar is walked in straight lines open → low → high → close (a bar \
         that closed up) or open → high → low → close (down), one third of the minute each; a \
         missing minute holds the last close. The oracle publishes the market of {} s ago, or {} s \
         ago when the market moved ≥ {} over the last minute (congestion); its confidence is {} of \
         the price, its EMA has a {:.0}-minute time constant.",
        c.oracle.calm_lag_secs,
        c.oracle.fast_lag_secs,
        pct(c.oracle.fast_move_bps),
        pct(c.oracle.conf_bps),
        c.oracle.ema_secs / 60.0
    );
    let _ = writeln!(
        w,
        "- **Keepers** land a liquidation {} s after a position turns liquidatable in a working \
         market, chaining up to four in one transaction as `ballast-keeper` does, and write off a \
         position left with dust. The grids, sweeps and the recommendation assume a **congested \
         chain: liquidations land {} s late** (keepers on Ethereum failed for longer on \
         2020-03-12; with 2-s keepers every cell of the grid, 5× at a 5 % haircut included, stayed \
         within the pool in every event, so the grid could not tell parameters apart).",
        c.keeper_latency_secs, c.stress_latency_secs
    );
    let _ = writeln!(
        w,
        "- **Volume and the pool.** The protocol's daily volume in an asset is {} of the tokens its \
         positions hold, hour by hour in proportion to the market's own volume in the file \
         (relative to the warm-up day's mean); it is recorded in the reserve's hourly buckets as the \
         handlers record flows, and liquidations add their own. Each pool holds its target \
         (`insurance_target_bps` × 24 h volume) when the window opens, then fills from fees.",
        pct(c.turnover_bps)
    );
    let _ = writeln!(
        w,
        "- **Parameters** come from `migrations/crash-bench.toml` (the SDK's defaults for what it \
         leaves out), each set checked by the program's own `to_config`.\n"
    );

    // The answers first.
    let _ = writeln!(w, "## Answers\n");
    let _ = writeln!(w, "### Does 5× survive with 2 % of daily volume in the pool?\n");
    let _ = writeln!(
        w,
        "Each asset at a 5× cap with its current maintenance haircut (the initial haircut 5 points \
         above, which may hold leverage below the cap), keepers {} s late: bad debt against the \
         pools that pay it (USD at the window's start: both pools; *within the pool* compares each \
         pool with the bad debt it pays). The grid's lowest haircut (5 %) is the most 5× can mean; \
         its rows follow.\n",
        c.stress_latency_secs
    );
    let _ = writeln!(w, "| asset | maint haircut | event | bad debt | pools at start | within the pool | bad debt, % of debt |");
    let _ = writeln!(w, "|---|---:|---|---:|---:|---|---:|");
    let current_haircut = |asset: &str| {
        study.recommendations.iter().find(|r| r.asset == asset).map(|r| r.current.risk.maint_haircut_bps)
    };
    let lowest = c.haircut_grid.iter().copied().min();
    let mut five: Vec<&crate::study::GridCell> = study
        .grid
        .iter()
        .filter(|cell| {
            cell.leverage_bps == 50_000
                && (Some(cell.maint_haircut_bps) == current_haircut(&cell.asset)
                    || Some(cell.maint_haircut_bps) == lowest)
        })
        .collect();
    five.sort_by_key(|cell| std::cmp::Reverse(cell.maint_haircut_bps));
    for cell in five {
        for (event, f) in &cell.per_event {
            let _ = writeln!(
                w,
                "| {} | {} | {event} | {} | {} | {} | {:.3} % |",
                cell.asset,
                pct(cell.maint_haircut_bps as u32),
                usd(f.bad_debt_usd),
                usd(f.pool_start_usd[0] + f.pool_start_usd[1]),
                if f.within_pool() { "yes" } else { "**no**" },
                f.bad_debt_pct()
            );
        }
    }
    let _ = writeln!(w, "\n### Recommended parameters\n");
    let _ = writeln!(
        w,
        "Per asset, the least conservative cell of the grid (the highest leverage cap, then the \
         lowest haircut) whose bad debt stayed within the pool in every replayed event with keepers \
         late, and the insurance target that would have covered every event's bad debt under \
         those parameters, from the 24 h volume at the event's start.\n"
    );
    let _ = writeln!(
        w,
        "| asset | current: cap / init / maint | recommended: cap / init / maint | insurance target needed |"
    );
    let _ = writeln!(w, "|---|---|---|---:|");
    for r in &study.recommendations {
        let show = |a: &crate::rules::AssetRules| {
            format!(
                "{}× / {} / {}",
                a.risk.max_leverage_bps as f64 / 10_000.0,
                pct(a.risk.init_haircut_bps as u32),
                pct(a.risk.maint_haircut_bps as u32)
            )
        };
        let rec = r.recommended.as_ref().map_or("none in the grid".into(), show);
        let _ = writeln!(
            w,
            "| {} | {} | {rec} | {} (now {}) |",
            r.asset,
            show(&r.current),
            pct(r.insurance_target_bps as u32),
            pct(r.current.interest.insurance_target_bps as u32)
        );
    }
    let _ = writeln!(w, "\nAs a `migrations/` fragment:\n\n```toml");
    for r in &study.recommendations {
        let Some(a) = &r.recommended else { continue };
        let _ = writeln!(w, "# {}", a.symbol);
        let _ = writeln!(w, "[reserve.risk]");
        let _ = writeln!(w, "max_leverage_bps = {}", a.risk.max_leverage_bps);
        let _ = writeln!(w, "init_haircut_bps = {}", a.risk.init_haircut_bps);
        let _ = writeln!(w, "maint_haircut_bps = {}", a.risk.maint_haircut_bps);
        let _ = writeln!(w, "[reserve.interest]");
        let _ = writeln!(
            w,
            "insurance_target_bps = {}\n",
            r.insurance_target_bps.max(a.interest.insurance_target_bps as u64)
        );
    }
    let _ = writeln!(w, "```\n");

    let _ = writeln!(w, "### The oracle's lag, measured\n");
    let _ = writeln!(
        w,
        "The design assumes a 3-s update lag in congestion costs about 0.7 % (the lag band: \
         25 bps/s × 3 s = 0.75 %). The 3-s moves of the data's second-by-second path, in each \
         event's window (bps; crypto only — a stock's daily bar says nothing of its seconds, and its \
         risk is the gap at the bell, in the next table):\n"
    );
    let _ = writeln!(
        w,
        "| event | asset | bars | p50 | p99 | p99.9 | max | seconds above 0.75 % | seconds at a 3-s lag | largest 1-min move |"
    );
    let _ = writeln!(w, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
    // Intraday bars only: a daily file's path is a model of a whole session.
    let intraday: Vec<&Baseline> = study.baselines.iter().filter(|b| b.lag.resolution != "1 day").collect();
    for b in &intraday {
        let l = &b.lag;
        let _ = writeln!(
            w,
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.0} | {:.2} % | {:.1} % | {:.0} |",
            b.event,
            b.asset,
            l.resolution,
            l.p50,
            l.p99,
            l.p999,
            l.max,
            l.above_design_pct,
            l.fast_pct,
            l.max_minute
        );
    }
    if let Some(b) = intraday.iter().max_by(|a, b| a.lag.max.total_cmp(&b.lag.max)) {
        let above = intraday.iter().map(|b| b.lag.above_design_pct).fold(0.0, f64::max);
        let _ = writeln!(
            w,
            "\nThe largest 3-s move is {:.2} % ({}, {}); in no event and asset did more than {:.2} % of \
             the seconds move more than the design's 0.75 %. Inside a bar the path is a straight line, \
             so these are lower bounds of what ticks would show, and five-minute bars smooth more \
             than one-minute bars.",
            b.lag.max / 100.0,
            b.asset,
            b.event,
            above
        );
    }
    split_section(w, study);
    let _ = writeln!(w, "\n## Every event under the current parameters\n");
    let _ = writeln!(
        w,
        "Bad debt is split by cause: what an oracle without lag would have saved (*lag*), what an \
         instant keeper would have saved on top (*latency*), and what neither saves (*gap*: the \
         price went through the liquidation zone faster than a liquidation could follow). \
         *Target needed*: the insurance target that would have covered the event's bad debt in \
         the owed asset's pool, bps of that pool's 24 h volume at the window's start.\n"
    );
    let _ = writeln!(
        w,
        "Working keepers ({} s) first, then congested ones ({} s): liquidations and bad debt; the \
         rest is the congested run.\n",
        c.keeper_latency_secs, c.stress_latency_secs
    );
    let _ = writeln!(w, "| event | asset | positions | debt at start | liquidations | liquidated | bad debt | from pools | socialized | pools at start | target needed (USDC / asset) | worst position | lag / latency / gap |");
    let _ = writeln!(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|");
    for b in &study.baselines {
        let (f, a) = (&b.figures, &b.attribution);
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} / {} | {} | {} / {} | {} | {} | {} | {} / {} bps | {} | {} / {} / {} |",
            b.event,
            b.asset,
            f.opened,
            usd(f.debt_usd),
            b.working.liquidations,
            f.liquidations,
            usd(f.liquidated_usd),
            usd(b.working.bad_debt_usd),
            usd(f.bad_debt_usd),
            usd(f.covered_usd),
            usd(f.socialized_usd),
            usd(f.pool_start_usd[0] + f.pool_start_usd[1]),
            f.required_target_bps[1],
            f.required_target_bps[0],
            usd(f.worst_usd),
            usd(a.lag),
            usd(a.latency),
            usd(a.gap)
        );
    }
    for name in images.iter().filter(|n| !n.starts_with("risk-heat")) {
        let _ = writeln!(w, "\n![{name}](risk/{name})");
    }

    let _ = writeln!(w, "\n## Leverage cap × haircut\n");
    let _ = writeln!(
        w,
        "Bad debt in the worst event (% of the positions' debt at its start) for each cell; the \
         initial haircut is the maintenance haircut plus 5 points.\n"
    );
    for name in images.iter().filter(|n| n.starts_with("risk-heat")) {
        let _ = writeln!(w, "![{name}](risk/{name})\n");
    }
    let _ = writeln!(w, "## Keeper latency, the lag band and the breaker\n");
    let _ = writeln!(
        w,
        "Current parameters but one, summed over the events; keepers {} s late unless the row says \
         otherwise.\n",
        c.stress_latency_secs
    );
    for (rows, setting) in [
        (&study.lag_sweep, "lag band"),
        (&study.latency_sweep, "parameters, keeper latency"),
        (&study.breaker_sweep, "EMA breaker (warn / pause / force)"),
    ] {
        sweep_table(w, rows, setting);
    }
    let windows: Vec<String> = study
        .baselines
        .iter()
        .map(|b| b.outcome.prices.first().map_or(0, |p| p.0))
        .take(1)
        .map(format_time)
        .collect();
    let _ = writeln!(w, "\n{} replays (first window from {}).", study.replays, windows.join(""));
    out
}
