//! The risk lab's short replay, run by the test command: one shipped window, a small population,
//! checked for what must hold whatever the parameters; and its refusals of bad input.
use std::path::{Path, PathBuf};

use ballast_risk_lab::events;
use ballast_risk_lab::replay::{Outcome, ASSET, STABLE};

fn root() -> PathBuf {
    ballast_risk_lab::workspace_root()
}

fn short(change: impl FnOnce(&mut ballast_risk_lab::rules::AssetRules)) -> Outcome {
    ballast_risk_lab::short_replay(change, 0).unwrap()
}

#[test]
fn the_short_replay_liquidates_and_repeats_itself_exactly() {
    let a = short(|_| {});
    assert!(a.opened >= 50, "opened {}", a.opened);
    assert!(!a.liquidations.is_empty(), "a crash window with no liquidation");
    // Seeded: the same replay gives the same bookings.
    let b = short(|_| {});
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
    // Each pool ends with what it started the window with, plus the fees paid in, less what it
    // paid for bad debt.
    for i in [ASSET, STABLE] {
        let paid: u64 = a.bad_debt.iter().filter(|d| d.reserve == i).map(|d| d.from_pool).sum();
        assert_eq!(a.pool_end[i], a.pool_start[i] + a.fees_in[i] - paid, "pool {i}");
    }
    assert!(a.fees_in[ASSET] > 0, "no fee reached the SOL pool in a crash");
}

#[test]
fn looser_rules_never_leave_less_bad_debt_in_the_short_window() {
    let strict = short(|_| {});
    let loose = short(|r| {
        r.risk.max_leverage_bps = 50_000;
        (r.risk.init_haircut_bps, r.risk.maint_haircut_bps) = (1_000, 500);
    });
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
