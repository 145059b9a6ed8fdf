//! `ballast-keeper`: finds unhealthy positions of a market and liquidates them, resolves bad
//! debt, and serves Prometheus metrics on a loopback port.
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
    /// One scan, then exit.
    #[arg(long)]
    once: bool,
    /// Prometheus metrics address (loopback only).
    #[arg(long, default_value = "127.0.0.1:9464")]
    metrics_addr: SocketAddr,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    let setup = || -> Result<(Client, KeeperConfig), String> {
        let keypair = config::read_keypair(&config::keypair_path(args.keypair.as_deref()))?;
        let client = Client::new(&config::rpc_url(args.url.as_deref()), keypair);
        let config = KeeperConfig {
            market: parse_pubkey(&args.market, "market")?,
            interval: Duration::from_millis(args.interval_ms),
            dry_run: args.dry_run,
            once: args.once,
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
        let (addr, m) = (args.metrics_addr, metrics.clone());
        tokio::spawn(async move {
            if let Err(e) = metrics::serve(addr, m).await {
                tracing::error!(error = %e, "metrics server stopped");
            }
        });
    }
    tracing::info!(keeper = %client.payer.pubkey(), market = %config.market, dry_run = config.dry_run, "keeper started");
    tokio::select! {
        _ = keeper::run(client, config, metrics.clone()) => {}
        _ = tokio::signal::ctrl_c() => tracing::info!("stopping"),
    }
    print!("{}", metrics.render());
    std::process::ExitCode::SUCCESS
}
