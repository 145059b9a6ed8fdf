//! The crash benchmark's short form (issue 26; the full form is `crash-bench --docs`, listed in
//! the README): 50 borrowers and 5 load users on a real `solana-test-validator`, the two-leg crash,
//! two racing `ballast-keeper` processes, then the same with one of them killed (SIGKILL)
//! mid-cascade and restarted. Each run must clear every position, lose no keeper money, break no
//! invariant (vaults back their reserves, shares add up, nothing left liquidatable, nobody healthy
//! liquidated, the load users' balances explained by their own transactions), and say why every
//! failed transaction failed.
//!
//! Needs `target/deploy/*.so` and the validator, as `tests/localnet.rs` does.
mod common;

use std::process::Command;

use common::root;
use serde_json::Value;

#[test]
fn a_short_crash_clears_every_position_with_racing_keepers_and_a_killed_one() {
    let work = format!("target/crash-short/{}", std::process::id());
    let out = Command::new(env!("CARGO_BIN_EXE_crash-bench"))
        .args(["--positions", "50", "--load-users", "5", "--runs", "2r", "--faults", "kill"])
        .args(["--timeout-secs", "90", "--work-dir", &work])
        .env("RUST_LOG", "info")
        .output()
        .expect("run crash-bench");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let results = std::fs::read_to_string(root().join(&work).join("results.json"))
        .unwrap_or_else(|e| panic!("no results ({e}); crash-bench said:\n{stderr}"));
    let runs: Vec<Value> = serde_json::from_str(&results).unwrap();
    assert_eq!(runs.len(), 2, "{results}");
    for run in &runs {
        let label = run["label"].as_str().unwrap();
        assert_eq!(
            run["broken"].as_array().unwrap().len(),
            0,
            "{label}: invariants broken: {}",
            run["broken"]
        );
        assert!(run["clear_secs"].as_f64().is_some(), "{label}: not cleared");
        assert!(
            run["liquidatable_first_leg"].as_u64().unwrap() > 0,
            "{label}: the crash made nobody liquidatable"
        );
        assert!(run["liquidations"].as_u64().unwrap() > 0, "{label}: nothing liquidated");
        assert!(run["worst_liquidation_usd"].as_f64().unwrap() >= 0.0, "{label}: a keeper lost money");
        assert!(run["load_landed"].as_u64().unwrap() > 0, "{label}: the load users did nothing");
        // Every failed send has a reason from the closed list.
        for reason in run["failed"].as_object().unwrap().keys() {
            assert!(
                ["race lost", "blockhash expired", "compute exceeded", "other"].contains(&reason.as_str()),
                "{label}: {reason}"
            );
        }
    }
    assert_eq!(runs[0]["restarts"], 0);
    assert_eq!(runs[1]["restarts"], 1, "the killed keeper was restarted");
    assert!(out.status.success(), "crash-bench failed:\n{stderr}");
    let _ = std::fs::remove_dir_all(root().join(&work));
}
