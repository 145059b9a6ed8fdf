//! `ballast-risk-lab`: replays the program's rules on real market history and writes
//! `docs/risk.md` (with `--docs`). See crates/risk-lab and docs/risk.md.
use std::path::PathBuf;
use std::process::ExitCode;

use ballast_risk_lab::rules::{self, AssetRules};
use ballast_risk_lab::study::{self, StudyConfig};
use ballast_risk_lab::{events, report};
use clap::Parser;

#[derive(Parser)]
#[command(about = "Replays Ballast's rules on real market history (docs/risk.md)")]
struct Args {
    /// The events manifest.
    #[arg(long, default_value = "data/history/events.toml")]
    events: PathBuf,
    /// The market file whose parameters are "current".
    #[arg(long, default_value = "migrations/crash-bench.toml")]
    market: PathBuf,
    /// Assets to replay (each against the stablecoin).
    #[arg(long, value_delimiter = ',', default_value = "SOL,BTC,ETH,AAPLx,TSLAx,NVDAx,NFLXx,COINx")]
    assets: Vec<String>,
    #[arg(long, default_value = "USDC")]
    stable: String,
    /// Only these event ids (all when empty).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Positions per asset and event.
    #[arg(long, default_value_t = 300)]
    positions: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Seconds from a position turning liquidatable to the keeper's transaction landing, in a
    /// working market.
    #[arg(long, default_value_t = 2)]
    keeper_latency_secs: i64,
    /// The same on a congested chain: the grids, sweeps and recommendation assume it.
    #[arg(long, default_value_t = 600)]
    stress_latency_secs: i64,
    /// The protocol's daily volume as a share of the tokens positions hold, bps.
    #[arg(long, default_value_t = 2_000)]
    turnover_bps: u32,
    /// Write docs/risk.md and docs/risk/*.png.
    #[arg(long)]
    docs: bool,
    #[arg(long, default_value = "docs")]
    docs_dir: PathBuf,
}

fn decimals(symbol: &str) -> u8 {
    match symbol {
        "BTC" | "ETH" => 8,
        "USDC" | "USDT" | "PYUSD" => 6,
        _ => 9,
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ballast-risk-lab: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    rules::install_diagnostics_hook();
    let started = std::time::Instant::now();
    let events = events::load(&args.events, &args.only).map_err(|e| e.to_string())?;
    let mut symbols: Vec<&str> = args.assets.iter().map(String::as_str).collect();
    symbols.push(&args.stable);
    let (mut all, market) = rules::from_market_file(&args.market, &symbols, decimals)?;
    let stable: AssetRules = all.pop().expect("the stablecoin was asked for");
    let mut config = StudyConfig::default();
    config.population.count = args.positions;
    config.population.seed = args.seed;
    config.keeper_latency_secs = args.keeper_latency_secs;
    config.stress_latency_secs = args.stress_latency_secs;
    config.turnover_bps = args.turnover_bps;
    eprintln!(
        "[risk-lab] {} events, assets {}, {} positions each, {} threads",
        events.len(),
        args.assets.join(","),
        args.positions,
        config.threads
    );
    let study = study::run(&events, &all, &stable, market, &config);
    println!("(working keepers / congested keepers)");
    for b in &study.baselines {
        let (f, w) = (&b.figures, &b.working);
        println!(
            "{:<10} {:<4} positions {:>4}  liquidations {:>5} / {:>5}  bad debt ${:>10.0} / ${:>10.0}  within pool {}",
            b.event,
            b.asset,
            f.opened,
            w.liquidations,
            f.liquidations,
            w.bad_debt_usd,
            f.bad_debt_usd,
            f.within_pool()
        );
    }
    for r in &study.splits {
        println!(
            "{:<10} {:<5} {:<16} {:>3} s  {:<28} liquidations {:>4} ({:>3} around the bell)  bad debt ${:>8.0}  refused {}",
            r.event,
            r.asset,
            r.rules,
            r.latency,
            r.case.label(),
            r.figures.liquidations,
            r.liquidations_around,
            r.figures.bad_debt_usd,
            r.keeper_refused
        );
    }
    eprintln!("[risk-lab] {} replays in {:.1} s", study.replays, started.elapsed().as_secs_f64());
    if args.docs {
        let images = report::draw(&study, &args.docs_dir.join("risk"))?;
        let command = "cargo run --release --locked -p ballast-risk-lab -- --docs";
        let text = report::markdown(&study, &images, command);
        let path = args.docs_dir.join("risk.md");
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("[risk-lab] wrote {} and {} pictures", path.display(), images.len());
    }
    Ok(())
}
