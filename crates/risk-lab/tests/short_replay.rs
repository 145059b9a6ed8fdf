//! The risk lab's short replay, run by the test command: one shipped window, a small population,
//! checked for what must hold whatever the parameters; and its refusals of bad input.
use std::path::{Path, PathBuf};

use ballast_risk_lab::events;
use ballast_risk_lab::paths::OracleModel;
use ballast_risk_lab::replay::{run, Outcome, Population, Scenario, ASSET, STABLE};
use ballast_risk_lab::rules::{self, AssetRules, MarketRules};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sol_rules() -> (AssetRules, AssetRules, MarketRules) {
    let decimals = |s: &str| if s == "USDC" { 6 } else { 9 };
    let (mut r, market) =
        rules::from_market_file(&root().join("migrations/crash-bench.toml"), &["SOL", "USDC"], decimals)
            .unwrap();
    let stable = r.pop().unwrap();
    (r.pop().unwrap(), stable, market)
}

fn short(asset: AssetRules, latency: i64) -> Outcome {
    let manifest = root().join("data/history/events.toml");
    let event = events::load(&manifest, &[ballast_risk_lab::SHORT_EVENT.into()]).unwrap().remove(0);
    let (_, stable, market) = sol_rules();
    let s = Scenario {
        history: &event.assets["SOL"],
        asset,
        stable,
        market,
        start: event.warm_up,
        crash: event.start,
        end: event.start + ballast_risk_lab::SHORT_SECS,
        population: Population { count: 60, ..Population::default() },
        oracle: OracleModel::default(),
        keeper_latency_secs: latency,
        turnover_bps: 2_000,
        sample_every: 0,
    };
    run(&s)
}

#[test]
fn the_short_replay_liquidates_and_repeats_itself_exactly() {
    let (sol, ..) = sol_rules();
    let a = short(sol.clone(), 2);
    assert!(a.opened >= 50, "opened {}", a.opened);
    assert!(!a.liquidations.is_empty(), "a crash window with no liquidation");
    // Seeded: the same replay gives the same bookings.
    let b = short(sol, 2);
    assert_eq!(a.liquidations, b.liquidations);
    assert_eq!(a.bad_debt, b.bad_debt);
    // What the program books: a keeper is paid at least the bonus floor, the pool never pays
    // more than it holds, fees go only to pools below target.
    for l in &a.liquidations {
        assert!(l.repaid > 0 && l.seized >= l.to_keeper, "{l:?}");
        assert!(l.seized - l.to_keeper == l.fee_to_pool + l.fee_to_receiver, "{l:?}");
    }
    for d in &a.bad_debt {
        assert!(d.from_pool <= d.debt, "{d:?}");
    }
    assert!(a.pool_end[ASSET] >= a.pool_start[ASSET].min(a.pool_end[ASSET]));
    let _ = STABLE;
}

#[test]
fn looser_rules_never_leave_less_bad_debt_in_the_short_window() {
    let (sol, ..) = sol_rules();
    let strict = short(sol.clone(), 2);
    let mut loose = sol;
    loose.risk.max_leverage_bps = 50_000;
    (loose.risk.init_haircut_bps, loose.risk.maint_haircut_bps) = (1_000, 500);
    let loose = short(loose, 2);
    assert!(loose.liquidations.len() >= strict.liquidations.len());
    assert!(loose.bad_debt_usd() >= strict.bad_debt_usd());
}

#[test]
fn a_manifest_naming_a_bad_file_is_refused_with_the_files_name_and_line() {
    let dir = std::env::temp_dir().join(format!("risk-lab-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("bad.csv");
    std::fs::write(&csv, "timestamp,open,high,low,close,volume\n120,1,1,1,1,1\n60,1,1,1,1,1\n").unwrap();
    let manifest = dir.join("events.toml");
    std::fs::write(
        &manifest,
        "[[event]]\nid = \"x\"\ntitle = \"x\"\nwarm_up = \"1970-01-01\"\nstart = \"1970-01-02\"\nend = \"1970-01-03\"\nfiles = { SOL = \"bad.csv\" }\n",
    )
    .unwrap();
    let e = events::load(&manifest, &[]).unwrap_err();
    assert_eq!(e.file, csv);
    assert_eq!(e.line, Some(3));
    assert!(e.to_string().contains("bad.csv:3: "), "{e}");
    // A good file that does not cover the window is refused too, by its span.
    std::fs::write(&csv, "timestamp,open,high,low,close,volume\n60,1,1,1,1,1\n").unwrap();
    let e = events::load(&manifest, &[]).unwrap_err();
    assert!(e.message.contains("event x needs"), "{e}");
    // A manifest with an unknown key names its line.
    std::fs::write(&manifest, "[[event]]\nid = \"x\"\ncolour = 1\n").unwrap();
    let e = events::load(&manifest, &[]).unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_shipped_history_loads_clean() {
    let all = events::load(&root().join("data/history/events.toml"), &[]).unwrap();
    assert!(all.len() >= 2, "{} events", all.len());
    for e in &all {
        for (symbol, h) in &e.assets {
            let least = if h.resolution == ballast_risk_lab::data::Resolution::Daily { 20 } else { 500 };
            assert!(h.bars.len() > least, "{} {symbol}: {} bars", e.id, h.bars.len());
            assert!(Path::new(&h.file).exists());
        }
    }
}
