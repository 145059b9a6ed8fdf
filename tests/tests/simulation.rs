#![allow(deprecated)] // solana-program-test 3.x API, see tests/src/lib.rs
//! The randomized multi-user simulation (issue 11 item 2), short form: 400 seeded operations
//! in every mode (splits and halts among them, issue 24), every invariant of `ballast_tests::sim`
//! checked after each step.
//! `BALLAST_SIM_SEED` picks another seed; the long form is `cargo run -p ballast-tests --bin
//! simulate` (≥ 10,000 operations).
use ballast_tests::sim::Sim;
use ballast_tests::{dual_mode_tests, Mode};

dual_mode_tests!(a_short_random_run_keeps_every_invariant);

async fn a_short_random_run_keeps_every_invariant(mode: Mode) {
    let seed = std::env::var("BALLAST_SIM_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20_261_202);
    let mut sim = Sim::start(mode, seed, 20, 3).await;
    let report = sim.run(400).await;
    eprintln!("{report:?}");
    assert_eq!(report.operations, report.succeeded + report.refused);
    assert!(report.succeeded > 50, "the run must do things, not only be refused: {report:?}");
    assert!(report.liquidations > 0, "prices must crash enough to liquidate: {report:?}");
    assert!(
        report.scheduled_splits > 0 && report.immediate_splits > 0 && report.halts > 0,
        "events in time must happen: {report:?}"
    );
}
