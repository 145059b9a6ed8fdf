#![allow(deprecated)] // solana-program-test 3.x API, see tests/src/lib.rs
//! The attack matrix (issue 11 item 1): every cell of `ballast_tests::attacks::CELLS` in the
//! three modes. `cargo run -p ballast-tests --bin security-matrix` writes the same cells'
//! outcomes into docs/security.md.
use ballast_tests::attacks::{instructions_without_a_cell, CELLS};
use ballast_tests::Mode;

async fn run_all(mode: Mode) {
    for cell in CELLS {
        eprintln!("{} × {}: {}", cell.instruction, cell.class, cell.name);
        (cell.run)(mode).await;
    }
}

#[tokio::test]
async fn every_attack_cell_is_refused_by_name_native() {
    run_all(Mode::Native).await
}

#[tokio::test]
async fn every_attack_cell_is_refused_by_name_sbf() {
    run_all(Mode::Sbf).await
}

#[tokio::test]
async fn every_attack_cell_is_refused_by_name_sbf_v0_gaps() {
    run_all(Mode::SbfV0Gaps).await
}

#[test]
fn every_instruction_of_the_program_has_a_cell() {
    assert_eq!(instructions_without_a_cell(), Vec::<String>::new());
}
