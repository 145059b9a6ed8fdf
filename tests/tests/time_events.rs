#![allow(deprecated)] // solana-program-test 3.x API, see tests/src/lib.rs
//! The time-events matrix (issue 24): every cell of `ballast_tests::time_events::cells()` in the
//! three modes. `cargo run -p ballast-tests --bin security-matrix` writes the same cells'
//! outcomes into docs/security.md.
use ballast_tests::time_events::cells;
use ballast_tests::Mode;

async fn run_all(mode: Mode) {
    for cell in cells() {
        eprintln!("{} × {}", cell.event_text, cell.action_text);
        cell.run(mode).await;
    }
}

#[tokio::test]
async fn every_time_event_cell_holds_native() {
    run_all(Mode::Native).await
}

#[tokio::test]
async fn every_time_event_cell_holds_sbf() {
    run_all(Mode::Sbf).await
}

#[tokio::test]
async fn every_time_event_cell_holds_sbf_v0_gaps() {
    run_all(Mode::SbfV0Gaps).await
}

ballast_tests::dual_mode_tests!(a_debt_in_a_mint_nobody_has_read_for_a_minute_backs_no_new_risk);

use ballast_tests::time_events::a_debt_in_a_mint_nobody_has_read_for_a_minute_backs_no_new_risk;
