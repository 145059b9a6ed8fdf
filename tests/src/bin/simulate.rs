#![allow(deprecated)] // solana-program-test 3.x API, see tests/src/lib.rs
//! The long randomized simulation (issue 11 item 2): `simulate [--seed S] [--ops N] [--mode
//! native|sbf]` runs N operations (default 10,000) with every invariant checked after each and
//! prints the counts and the seed. A broken invariant panics with the seed: rerun with it.
use ballast_tests::sim::Sim;
use ballast_tests::Mode;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let seed = arg("--seed").and_then(|s| s.parse().ok()).unwrap_or(20_261_202u64);
    let ops = arg("--ops").and_then(|s| s.parse().ok()).unwrap_or(10_000u64);
    let mode = match arg("--mode").as_deref() {
        Some("sbf") => Mode::Sbf,
        _ => Mode::Native,
    };
    let start = std::time::Instant::now();
    let mut sim = Sim::start(mode, seed, 20, 3).await;
    let r = sim.run(ops).await;
    println!("| seed | mode | operations | succeeded | refused (named) | invariant checks | liquidations | bad debt resolved | price crashes | splits announced / immediate | halts | event checks | seconds |");
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {:?} | {} | {} | {} | {} | {} | {} | {} | {} / {} | {} | {} | {} |",
        r.seed,
        mode,
        r.operations,
        r.succeeded,
        r.refused,
        r.invariant_checks,
        r.liquidations,
        r.bad_debt_resolved,
        r.price_crashes,
        r.scheduled_splits,
        r.immediate_splits,
        r.halts,
        r.event_checks,
        start.elapsed().as_secs()
    );
}
