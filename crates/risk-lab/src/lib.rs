//! The risk lab: Ballast's own rules replayed on real market history (docs/risk.md).
//!
//! `data` loads and checks the history files, `paths` turns bars into a price path and the
//! oracle's lagging view of it, `replay` runs one population through one window with the
//! program's code making every decision, `rules` holds the parameters as the program stores
//! them.
pub mod data;
pub mod events;
pub mod paths;
pub mod replay;
pub mod report;
pub mod rules;
pub mod study;

/// The shipped window the test command's short replay runs (and the LiteSVM cross-check samples).
pub const SHORT_EVENT: &str = "2021-05-19";
/// How much of it the short replay runs past the warm-up, seconds.
pub const SHORT_SECS: i64 = 16 * 3600;

/// The shipped window with a split (TSLA's 3-for-1 of 25 August 2022).
pub const SPLIT_EVENT: &str = "2022-08-25-split";

/// The workspace's root (the manifest and market file paths are relative to it).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The short replay (the test command's, and the LiteSVM cross-check's): SOL against USDC under
/// `migrations/crash-bench.toml`, the first [`SHORT_SECS`] of [`SHORT_EVENT`], 60 positions,
/// keepers 2 s late. `asset` changes SOL's rules; `sample_every` keeps liquidations for the
/// cross-check.
pub fn short_replay(
    change: impl FnOnce(&mut rules::AssetRules),
    sample_every: usize,
) -> Result<replay::Outcome, String> {
    let (event, mut asset, stable, market) = shipped_event(SHORT_EVENT, "SOL", 9)?;
    change(&mut asset);
    asset.check().map_err(|e| e.to_string())?;
    let history = event.assets.get("SOL").ok_or("the short event has no SOL file")?;
    let s = replay::Scenario {
        end: event.start + SHORT_SECS,
        sample_every,
        ..test_scenario(&event, history, asset, stable, market, 60)
    };
    Ok(replay::run(&s))
}

/// The split's window for TSLAx at 5× with a 5 % maintenance haircut (where the window's moves
/// liquidate), `positions` positions, keepers 2 s late, with the split as `case` says.
pub fn split_replay(case: study::SplitCase, positions: usize) -> Result<replay::Outcome, String> {
    let (event, asset, stable, market) = shipped_event(SPLIT_EVENT, "TSLAx", 8)?;
    let asset = study::with_grid_cell(&asset, 50_000, 500);
    asset.check().map_err(|e| e.to_string())?;
    let (history, split) = study::split_case(&event, "TSLAx", case);
    let s = replay::Scenario { split, ..test_scenario(&event, history, asset, stable, market, positions) };
    Ok(replay::run(&s))
}

/// The shipped event `id` and the rules of `symbol` (`decimals` when the market file does not
/// create its mint) and USDC under `migrations/crash-bench.toml`.
fn shipped_event(
    id: &str,
    symbol: &str,
    decimals: u8,
) -> Result<(events::Event, rules::AssetRules, rules::AssetRules, rules::MarketRules), String> {
    let root = workspace_root();
    let event = events::load(&root.join("data/history/events.toml"), &[id.to_string()])
        .map_err(|e| e.to_string())?
        .remove(0);
    let decimals = |s: &str| if s == "USDC" { 6 } else { decimals };
    let (mut rules, market) =
        rules::from_market_file(&root.join("migrations/crash-bench.toml"), &[symbol, "USDC"], decimals)?;
    let stable = rules.pop().expect("asked for");
    let asset = rules.pop().expect("asked for");
    Ok((event, asset, stable, market))
}

/// The tests' replay of `event` over its whole window: `positions` positions, the default
/// oracle model, keepers 2 s late, 20 %/day turnover, no samples, no split.
fn test_scenario<'a>(
    event: &events::Event,
    history: &'a data::History,
    asset: rules::AssetRules,
    stable: rules::AssetRules,
    market: rules::MarketRules,
    positions: usize,
) -> replay::Scenario<'a> {
    replay::Scenario {
        history,
        asset,
        stable,
        market,
        start: event.warm_up,
        crash: event.start,
        end: event.end,
        population: replay::Population { count: positions, ..replay::Population::default() },
        oracle: paths::OracleModel::default(),
        keeper_latency_secs: 2,
        turnover_bps: 2_000,
        sample_every: 0,
        split: None,
    }
}
