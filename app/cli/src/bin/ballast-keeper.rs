//! `ballast-keeper`: finds unhealthy positions of a market and liquidates them, resolves bad
//! debt, and serves Prometheus metrics and a health check (`/metrics`, `/health`).
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ballast_cli::bootstrap::parse_pubkey;
use ballast_cli::config;
use ballast_cli::keeper::{self, KeeperConfig};
use ballast_cli::metrics::{self, Metrics};
use ballast_sdk::rpc::Client;
use clap::Parser;
use solana_signer::Signer;

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Parser)]
#[command(name = "ballast-keeper", version, about = "Ballast keeper: liquidates unhealthy positions")]
struct Args {
    /// RPC URL or moniker; default: Solana CLI config.
    #[arg(short = 'u', long)]
    url: Option<String>,
    /// The keeper's keypair (pays fees, repays debt from its associated token accounts).
    #[arg(short = 'k', long)]
    keypair: Option<String>,
    #[arg(long, env = "BALLAST_MARKET")]
    market: String,
    /// Pause between scans.
    #[arg(long, default_value_t = 400)]
    interval_ms: u64,
    /// Log what would be sent, send nothing.
    #[arg(long)]
    dry_run: bool,
    /// One scan (and its transactions), then exit: non-zero, with the reason on stderr, when
    /// the scan failed (RPC unreachable, not a Ballast market).
    #[arg(long)]
    once: bool,
    /// The market's address lookup table (repeatable): liquidations and resolutions are sent
    /// as v0 transactions loading the market's accounts from it, so a position of 16 slots
    /// fits a packet. Default: the table the market's admin made at bootstrap, found among the
    /// lookup table program's accounts (`ballast market bootstrap` creates it and prints it as
    /// `lookup_table`; pass it here when the RPC refuses that search).
    #[arg(long = "lookup-table")]
    lookup_tables: Vec<String>,
    /// The most to bid per compute unit, in micro-lamports; the bid is the 75th percentile of
    /// recent fees paid on the accounts the liquidation writes. 0: no priority fee.
    #[arg(long, default_value_t = 10_000)]
    max_compute_unit_price: u64,
    /// The least to bid per compute unit, in micro-lamports, however quiet recent fees are.
    #[arg(long, default_value_t = 0)]
    min_compute_unit_price: u64,
    /// Skip a liquidation whose planned proceeds less what it repays and its fees (valued at
    /// the market's wrapped-SOL price, when listed) are below this many USD.
    #[arg(long, default_value_t = 0.0)]
    min_profit_usd: f64,
    /// Websocket URL for account subscriptions; default: the Solana CLI config's, or the RPC
    /// URL's (http→ws, port + 1).
    #[arg(long)]
    ws_url: Option<String>,
    /// No websocket: load the market in full (`getProgramAccounts`) at every scan.
    #[arg(long)]
    no_websocket: bool,
    /// While the websocket is up, still reload the market in full this often (a missed
    /// notification must not hide a position for long).
    #[arg(long, default_value_t = 30)]
    full_load_secs: u64,
    /// Transactions in flight at once, each for a different position (in a crash, hundreds of
    /// positions wait on this: docs/keeper-bench.md).
    #[arg(long, default_value_t = 16)]
    max_in_flight: usize,
    /// Look after shard i of n (`0/3`, `1/3`, `2/3`: three keepers share a market), split by
    /// position key range.
    #[arg(long, default_value = "0/1")]
    shard: String,
    /// Log lines as text or as JSON objects (one a line, for log collectors).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Where `/metrics` (Prometheus) and `/health` are served; a warning when not loopback.
    /// An address that cannot be bound (a port already taken) stops the keeper at start.
    #[arg(long, default_value = "127.0.0.1:9464")]
    metrics_addr: SocketAddr,
    /// A position still liquidatable after this many consecutive scans is stuck: a warning
    /// with the reason, and the `ballast_keeper_stuck_positions` gauge.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    stuck_scans: u32,
}

/// A non-negative USD amount as WAD fixed point (to the micro-dollar).
fn usd_to_wad(usd: f64) -> Result<u128, String> {
    if !(usd.is_finite() && usd >= 0.0) {
        return Err(format!("--min-profit-usd must be a non-negative number, got {usd}"));
    }
    Ok((usd * 1e6).round() as u128 * (ballast_risk::fixed::WAD / 1_000_000))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let filter = || tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    match args.log_format {
        LogFormat::Json => {
            tracing_subscriber::fmt().json().with_env_filter(filter()).with_writer(std::io::stderr).init()
        }
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
    // The program's diagnostics from the shared pricing code (a stale price, a refused
    // oracle): debug lines, not stdout.
    ballast::log::set_off_chain_hook(|line| tracing::debug!(target: "ballast::program", "{line}"));
    let setup = || -> Result<(Client, KeeperConfig), String> {
        let keypair = config::read_keypair(&config::keypair_path(args.keypair.as_deref()))?;
        // A crash's liquidations are prepared many a second: one blockhash read serves them for 2 s.
        let client = Client::new(&config::rpc_url(args.url.as_deref()), keypair)
            .reusing_blockhash_for(Duration::from_secs(2));
        let config = KeeperConfig {
            shard: keeper::Shard::parse(&args.shard)?,
            market: parse_pubkey(&args.market, "market")?,
            interval: Duration::from_millis(args.interval_ms),
            dry_run: args.dry_run,
            once: args.once,
            lookup_tables: args
                .lookup_tables
                .iter()
                .map(|t| parse_pubkey(t, "lookup table"))
                .collect::<Result<_, _>>()?,
            max_compute_unit_price: args.max_compute_unit_price,
            min_compute_unit_price: args.min_compute_unit_price.min(args.max_compute_unit_price),
            min_profit: usd_to_wad(args.min_profit_usd)?,
            websocket_url: (!args.no_websocket && !args.once)
                .then(|| config::websocket_url(args.ws_url.as_deref(), args.url.as_deref())),
            full_load_interval: Duration::from_secs(args.full_load_secs),
            max_in_flight: args.max_in_flight,
            stuck_scans: args.stuck_scans,
        };
        Ok((client, config))
    };
    let (client, config) = match setup() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let metrics = Arc::new(Metrics::default());
    if !config.once {
        // Bound before anything else: a keeper an orchestrator cannot health-check must not run.
        let listener = match metrics::bind(args.metrics_addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
        let m = metrics.clone();
        tokio::spawn(async move {
            if let Err(e) = metrics::serve(listener, m).await {
                tracing::error!(error = %e, "metrics server stopped");
            }
        });
    }
    tracing::info!(keeper = %client.payer.pubkey(), market = %config.market, dry_run = config.dry_run, "keeper started");
    let result = tokio::select! {
        result = keeper::run(Arc::new(client), config, metrics.clone()) => result,
        _ = tokio::signal::ctrl_c() => {
            tracing::info!("stopping");
            Ok(())
        }
    };
    print!("{}", metrics.render());
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", keeper::one_line(&e));
            std::process::ExitCode::FAILURE
        }
    }
}
