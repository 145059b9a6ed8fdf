//! `crash-bench`: a crash at scale on a real validator (docs/keeper-bench.md). Each run starts
//! its own `solana-test-validator`, builds the market and its borrowers, starts the keepers, posts
//! the two-leg crash and measures until every position is back above the liquidation threshold
//! (or written off); then it checks the invariants. Exit status 1 when any run broke one.
use std::path::PathBuf;
use std::time::Duration;

use ballast_cli::crash::{self, report, Fault, Scenario};
use clap::Parser;

#[derive(Parser)]
#[command(
    name = "crash-bench",
    about = "A crash at scale on a local validator: keepers racing, faults, figures"
)]
struct Args {
    /// Borrowers in the market.
    #[arg(long, default_value_t = 1000)]
    positions: usize,
    /// Other users depositing, borrowing and repaying during the crash.
    #[arg(long, default_value_t = 50)]
    load_users: usize,
    /// Fault-free runs: keeper counts, `s` sharded or `r` racing (`1,2s,2r,4s,4r`).
    #[arg(long, default_value = "1,2s,2r,4s,4r")]
    runs: String,
    /// Fault runs (two racing keepers each): kill, ws-cut, flaky-rpc, no-tokens.
    #[arg(long, default_value = "kill,ws-cut,flaky-rpc,no-tokens")]
    faults: String,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Seconds from the first leg to the second.
    #[arg(long, default_value_t = 2.0)]
    second_leg_after: f64,
    #[arg(long, default_value_t = 180)]
    timeout_secs: u64,
    /// Write the results into docs/keeper-bench.md and its plot.
    #[arg(long)]
    docs: bool,
    /// Where runs keep their validator ledgers, keeper logs and `results.json`.
    #[arg(long, default_value = "target/crash-bench")]
    work_dir: PathBuf,
    /// Extra arguments for every keeper (e.g. `--keeper-arg=--max-in-flight=16`).
    #[arg(long = "keeper-arg", allow_hyphen_values = true)]
    keeper_args: Vec<String>,
}

fn parse_runs(text: &str) -> Result<Vec<(usize, bool)>, String> {
    text.split(',')
        .filter(|t| !t.is_empty())
        .map(|t| {
            let (n, sharded) = match t.strip_suffix('s') {
                Some(n) => (n, true),
                None => (t.strip_suffix('r').unwrap_or(t), false),
            };
            let n: usize = n.parse().map_err(|_| format!("bad run {t:?}: a keeper count, then s or r"))?;
            if n == 0 {
                return Err("a run needs at least one keeper".into());
            }
            Ok((n, sharded && n > 1))
        })
        .collect()
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(&args).await {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<bool, String> {
    let root =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().map_err(|e| e.to_string())?;
    let out = root.join(&args.work_dir);
    let mut scenarios = Vec::new();
    let base = Scenario {
        positions: args.positions,
        load_users: args.load_users,
        keepers: 1,
        sharded: false,
        fault: Fault::None,
        seed: args.seed,
        second_leg_after: args.second_leg_after,
        timeout: Duration::from_secs(args.timeout_secs),
        keeper_args: args.keeper_args.clone(),
    };
    for (keepers, sharded) in parse_runs(&args.runs)? {
        scenarios.push(Scenario { keepers, sharded, ..base.clone() });
    }
    for f in args.faults.split(',').filter(|t| !t.is_empty()) {
        scenarios.push(Scenario { keepers: 2, sharded: false, fault: Fault::parse(f)?, ..base.clone() });
    }
    let mut results = Vec::new();
    for (i, s) in scenarios.iter().enumerate() {
        eprintln!("[crash-bench] run {}/{}: {}", i + 1, scenarios.len(), s.label());
        let r = crash::run(&root, &out.join(format!("run-{i}")), s).await?;
        eprintln!(
            "[crash-bench] {}: cleared {:?} s, {} landed, p99 {} slots, broken: {:?}",
            r.label,
            r.clear_secs,
            r.landed,
            report::quantile(&r.latency_slots, 0.99),
            r.broken
        );
        results.push(r);
    }
    let json = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
    std::fs::write(out.join("results.json"), json).map_err(|e| e.to_string())?;
    let baseline =
        results.iter().find(|r| r.keepers == 2 && r.fault == "none" && !r.sharded).and_then(|r| r.clear_secs);
    let fault_free: Vec<_> = results.iter().filter(|r| r.fault == "none").cloned().collect();
    let plot = if args.docs && !fault_free.is_empty() {
        let path = root.join("docs/keeper-bench-crash.png");
        report::plot(&path, &fault_free)?;
        Some("keeper-bench-crash.png")
    } else {
        None
    };
    let section = report::markdown(&results, plot, baseline);
    println!("{section}");
    if args.docs {
        report::write_section(&root.join("docs/keeper-bench.md"), &section)?;
    }
    Ok(results.iter().all(|r| r.broken.is_empty()))
}
