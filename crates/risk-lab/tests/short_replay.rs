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

#[test]
fn a_split_liquidates_exactly_whom_the_same_window_without_it_does() {
    use ballast_risk_lab::study::SplitCase;
    let run = |case| ballast_risk_lab::split_replay(case, 100).unwrap();
    let (scheduled, unannounced, without) =
        (run(SplitCase::Announced), run(SplitCase::Unannounced), run(SplitCase::Without));
    assert!(!without.liquidations.is_empty(), "the window liquidates nobody at 5×");
    let who = |o: &Outcome| o.liquidations.iter().map(|l| (l.time, l.position)).collect::<Vec<_>>();
    for (name, o) in [("scheduled", &scheduled), ("unannounced", &unannounced)] {
        assert_eq!(o.opened, without.opened, "{name}");
        assert_eq!(who(o), who(&without), "{name}: the split changed who was liquidated, or when");
        for (a, b) in o.liquidations.iter().zip(&without.liquidations) {
            assert!((a.repaid_usd - b.repaid_usd).abs() <= 1e-3 * b.repaid_usd, "{name}: {a:?} vs {b:?}");
        }
        assert_eq!(o.bad_debt.len(), without.bad_debt.len(), "{name}");
        // The token's price runs on across the bell: a third of the shares' price times three.
        let worst_minute = o.prices.windows(2).map(|w| (w[1].1 / w[0].1).ln().abs()).fold(0.0, f64::max);
        assert!(worst_minute < 0.05, "{name}: the token's price jumped {worst_minute} in a minute");
    }
    // Without warning, the keeper's view (the mint as last read) sees every long collapse at the
    // bell; the first transaction re-reads the mint and is refused, and nobody is liquidated.
    assert_eq!(scheduled.keeper_refused, 0);
    assert_eq!(unannounced.keeper_refused, 1);
    assert_eq!(without.keeper_refused, 0);
}

#[test]
fn the_split_window_is_the_per_share_price_as_traded() {
    let e = events::load(&root().join("data/history/events.toml"), &[ballast_risk_lab::SPLIT_EVENT.into()])
        .unwrap()
        .remove(0);
    let split = e.split_of("TSLAx").expect("the split event names TSLA's split");
    assert_eq!(split.ratio, 3.0);
    let raw = &e.assets["TSLAx"];
    let day = ballast_risk_lab::data::parse_date("2022-08-25").unwrap();
    let i = raw.index_at(day).unwrap();
    assert_eq!(raw.bars[i].time, day);
    // Before the split: three times the adjusted price (891.29 traded on 24 August); from it on:
    // as shipped.
    assert!((raw.bars[i - 1].close - 891.29).abs() < 0.01, "{}", raw.bars[i - 1].close);
    assert_eq!(raw.bars[i], split.adjusted.bars[i]);
    assert_eq!(raw.bars[i - 1].close, 3.0 * split.adjusted.bars[i - 1].close);
}

#[test]
fn a_split_the_manifest_cannot_place_is_refused_by_name() {
    let dir = std::env::temp_dir().join(format!("risk-lab-split-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("x-daily.csv"),
        "date,open,high,low,close,volume\n2022-08-23,900,910,890,900,1\n2022-08-24,900,910,890,891,1\n\
         2022-08-25,302,303,291,296,3\n2022-08-26,297,302,287,288,3\n2022-08-29,282,287,280,284,3\n",
    )
    .unwrap();
    let manifest = dir.join("events.toml");
    let load = |split: &str| {
        std::fs::write(
            &manifest,
            format!(
                "[[event]]\nid = \"s\"\ntitle = \"s\"\nwarm_up = \"2022-08-23\"\nstart = \"2022-08-24\"\n\
                 end = \"2022-08-27\"\nfiles = {{ TSLAx = \"x-daily.csv\" }}\nsplits = [{split}]\n"
            ),
        )
        .unwrap();
        events::load(&manifest, &[])
    };
    let good = load("{ asset = \"TSLAx\", date = \"2022-08-25\", ratio = 3.0 }").unwrap();
    assert_eq!(good[0].assets["TSLAx"].bars[1].close, 2673.0);
    for (split, says) in [
        ("{ asset = \"NVDAx\", date = \"2022-08-25\", ratio = 3.0 }", "the event has no file for NVDAx"),
        ("{ asset = \"TSLAx\", date = \"2022-08-27\", ratio = 3.0 }", "not a trading day of the file"),
        ("{ asset = \"TSLAx\", date = \"2022-08-23\", ratio = 3.0 }", "inside [start, end)"),
        ("{ asset = \"TSLAx\", date = \"2022-08-25\", ratio = 1.0 }", "ratio 1 is not a split"),
        ("{ asset = \"TSLAx\", date = \"2022-08-25\", ratio = -3.0 }", "ratio -3 is not a split"),
        ("{ asset = \"TSLAx\", date = \"25/08/2022\", ratio = 3.0 }", "is not a date"),
        ("{ asset = \"TSLAx\", date = \"2022-08-25\", ratio = 3.0, when = 1 }", "unknown field `when`"),
    ] {
        let e = load(split).unwrap_err();
        assert!(e.to_string().contains(says), "{split}: {e}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
