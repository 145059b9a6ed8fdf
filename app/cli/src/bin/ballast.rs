//! `ballast`: the wallet CLI. Solana conventions: `-u/--url`, `-k/--keypair` (defaults from the
//! Solana CLI config), `--output json`. Program errors print by name, in words.
use std::process::ExitCode;

use anchor_lang::prelude::Pubkey;
use anchor_spl::token_2022::spl_token_2022::instruction as token_ix;
use ballast::health::{liquidation_price, Pricing};
use ballast::state::{Position, Reserve};
use ballast_cli::amounts::{format_amount, parse_amount};
use ballast_cli::bootstrap::{self, parse_feed_id, parse_pubkey, MarketFile, Mode};
use ballast_cli::config;
use ballast_sdk::health::position_view;
use ballast_sdk::rpc::{Client, SendOptions};
use ballast_sdk::{ix, pda, token};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::json;
use solana_keypair::Keypair;
use solana_signer::Signer;

#[derive(Parser)]
#[command(name = "ballast", version, about = "Ballast wallet CLI: deposit, borrow and inspect positions")]
struct Cli {
    /// RPC URL or moniker (localhost, devnet, testnet, mainnet-beta); default: Solana CLI config.
    #[arg(short = 'u', long, global = true)]
    url: Option<String>,
    /// Keypair file; default: Solana CLI config, then ~/.config/solana/id.json.
    #[arg(short = 'k', long, global = true)]
    keypair: Option<String>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Output::Display)]
    output: Output,
    /// The market (address); also from BALLAST_MARKET.
    #[arg(long, global = true, env = "BALLAST_MARKET")]
    market: Option<String>,
    /// Priority fee of deposits, withdrawals, borrows and repayments, in micro-lamports per
    /// compute unit (the Solana CLI's flag); their compute-unit limit comes from a simulation.
    #[arg(long, global = true)]
    with_compute_unit_price: Option<u64>,
    /// Deposits, withdrawals, borrows and repayments: simulate and report (compute units, fee,
    /// or the program's refusal by name), send nothing.
    #[arg(long, global = true)]
    simulate: bool,
    /// The market's address lookup table for token moves (repeatable); default: the one the
    /// market's admin made at bootstrap, found by `getProgramAccounts` on the lookup table
    /// program (which some public RPC endpoints refuse: then pass it here).
    #[arg(long = "lookup-table", global = true)]
    lookup_tables: Vec<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Display,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Markets: create, bootstrap from a TOML file, show.
    Market {
        #[command(subcommand)]
        command: MarketCommand,
    },
    /// Reserves: list from a TOML file, reconfigure, show.
    Reserve {
        #[command(subcommand)]
        command: ReserveCommand,
    },
    /// Positions: open, show health.
    Position {
        #[command(subcommand)]
        command: PositionCommand,
    },
    /// Deposits AMOUNT of MINT (e.g. 1.5) into your position.
    Deposit(Move),
    /// Withdraws AMOUNT (or `all`) of MINT from your position.
    Withdraw(Move),
    /// Borrows AMOUNT of MINT against your position.
    Borrow(Move),
    /// Repays AMOUNT (or `all`) of your MINT debt.
    Repay(Move),
    /// Token helpers: balances, and minting on localnet (the payer is the mint authority).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Localnet price feed: posts a PriceUpdateV2 through the localnet oracle writer.
    Oracle {
        #[command(subcommand)]
        command: OracleCommand,
    },
    /// Market administration (the market's admin signs): pauses, admin transfer, queued changes,
    /// stress shocks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Writes a new keypair file (refuses to replace one unless --force, as solana-keygen does).
    Keygen {
        path: String,
        /// Replace an existing file: the key it holds, and any funds only it controls, are lost.
        #[arg(long)]
        force: bool,
    },
    /// Requests an airdrop of SOL (localnet and test clusters).
    Airdrop {
        #[arg(allow_hyphen_values = true)]
        sol: f64,
        #[arg(long)]
        to: Option<String>,
    },
}

#[derive(Subcommand)]
enum MarketCommand {
    /// Creates market ID with you as admin.
    Init {
        #[arg(long)]
        id: u64,
        #[arg(long)]
        fee_receiver: Option<String>,
    },
    /// Creates or updates a market and its reserves from a TOML file (idempotent).
    Bootstrap {
        #[arg(long)]
        config: String,
    },
    /// Shows the market.
    Show,
}

#[derive(Subcommand)]
enum ReserveCommand {
    /// Lists the file's reserves that are not listed yet (market from the file).
    Add {
        #[arg(long)]
        config: String,
    },
    /// Reconfigures the file's reserves, which must be listed.
    Update {
        #[arg(long)]
        config: String,
    },
    /// Shows a reserve (by mint or reserve address): liquidity, caps, pool target and coverage.
    Show { reserve: String },
    /// Lists the market's reserves.
    List,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Stops deposits and borrows market-wide, or of one reserve (by mint or address).
    Pause {
        #[arg(long)]
        reserve: Option<String>,
    },
    /// Resumes deposits and borrows.
    Resume {
        #[arg(long)]
        reserve: Option<String>,
    },
    /// Proposes a new admin (it takes over when it runs `admin accept`).
    Propose { new_admin: String },
    /// Accepts the admin role proposed to you.
    Accept,
    /// Applies a reserve's queued configuration once the timelock has passed (anyone).
    Apply { reserve: String },
    /// Drops a reserve's queued configuration and session change.
    Cancel { reserve: String },
    /// Sets the joint stress test's shocks, bps, for groups 1–7 (lower shocks are queued).
    StressShocks { shocks: Vec<u16> },
}

#[derive(Subcommand)]
enum PositionCommand {
    /// Opens your position number INDEX in the market.
    Open {
        #[arg(long, default_value_t = 0)]
        index: u32,
    },
    /// Shows a position's health, leverage and liquidation prices.
    Show {
        #[arg(long)]
        owner: Option<String>,
        #[arg(long, default_value_t = 0)]
        index: u32,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Mints AMOUNT of MINT to OWNER's associated account (localnet: you are the authority).
    Mint {
        mint: String,
        amount: String,
        #[arg(long)]
        to: Option<String>,
    },
    /// Balance of OWNER's associated account of MINT.
    Balance {
        mint: String,
        #[arg(long)]
        owner: Option<String>,
    },
}

#[derive(Subcommand)]
enum OracleCommand {
    /// Posts PRICE for FEED (hex id) at the cluster's current time.
    Post {
        #[arg(long)]
        feed: String,
        #[arg(long)]
        price: f64,
        #[arg(long, default_value_t = -8, allow_hyphen_values = true)]
        expo: i32,
        /// Confidence, in price units.
        #[arg(long, default_value_t = 0.0)]
        conf: f64,
        /// EMA price; default: the price.
        #[arg(long)]
        ema: Option<f64>,
    },
    /// Keeps the localnet feeds fresh, as Pyth's publishers do on a real cluster: republishes
    /// every price this signer posted (every feed of --market's reserves, or --feed) at the
    /// cluster's clock, moved by a random step of at most --walk-bps (0: fixed prices). Prices
    /// posted meanwhile with `oracle post` become the new level. Runs until Ctrl-C.
    Publish {
        /// Feeds (hex ids) to keep fresh; default: every pull feed of --market this signer writes.
        #[arg(long = "feed")]
        feeds: Vec<String>,
        #[arg(long, default_value_t = 1000)]
        interval_ms: u64,
        /// Largest move per update, bps (0: the prices stay as posted).
        #[arg(long, default_value_t = 0)]
        walk_bps: u32,
        /// Seed of the walk (the same seed gives the same path).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Stop after this many seconds.
        #[arg(long)]
        for_secs: Option<u64>,
    },
}

#[derive(clap::Args)]
struct Move {
    mint: String,
    amount: String,
    #[arg(long, default_value_t = 0)]
    index: u32,
}

type CliResult = Result<serde_json::Value, String>;

/// `repay all` sends "everything owed" only when the wallet also holds the next minute's
/// interest (the debt when the transaction lands, minutes later at worst); otherwise it sends
/// the balance.
const REPAY_ALL_MARGIN_SECS: i64 = 60;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // Standard output is the command's answer (JSON with `--output json`); diagnostics go to
    // standard error through `tracing` (`RUST_LOG=debug` shows the program's own lines from the
    // shared pricing code, such as a stale price).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    ballast::log::set_off_chain_hook(|line| tracing::debug!(target: "ballast::program", "{line}"));
    let cli = Cli::parse();
    let output = cli.output;
    match run(cli).await {
        Ok(value) => {
            if output == Output::Json {
                println!("{}", serde_json::to_string_pretty(&value).unwrap());
            } else if let Some(text) = value.get("display").and_then(|v| v.as_str()) {
                println!("{text}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            if output == Output::Json {
                println!("{}", json!({ "error": e }));
            } else {
                eprintln!("error: {e}");
            }
            ExitCode::FAILURE
        }
    }
}

/// A client that signs with the wallet's keypair file.
fn client(cli: &Cli) -> Result<Client, String> {
    let path = config::keypair_path(cli.keypair.as_deref());
    Ok(Client::new(&config::checked_rpc_url(cli.url.as_deref())?, config::read_keypair(&path)?))
}

/// A client for commands that only read: it never signs, so it needs no keypair file (a
/// throwaway key stands in as its payer).
fn read_client(cli: &Cli) -> Result<Client, String> {
    Ok(Client::new(&config::checked_rpc_url(cli.url.as_deref())?, Keypair::new()))
}

/// The wallet's address: its keypair file's public key (nothing is signed).
fn wallet(cli: &Cli) -> Result<Pubkey, String> {
    let path = config::keypair_path(cli.keypair.as_deref());
    config::read_keypair(&path).map(|k| k.pubkey()).map_err(|e| {
        format!("{e}: no wallet to act for (pass -k <keypair file>, or --owner/--to for a read)")
    })
}

fn market_key(cli: &Cli) -> Result<Pubkey, String> {
    let m = cli.market.as_deref().ok_or("no market: pass --market or set BALLAST_MARKET")?;
    parse_pubkey(m, "market")
}

fn with_display(mut value: serde_json::Value, display: String) -> serde_json::Value {
    value["display"] = json!(display);
    value
}

/// A reserve given by mint, by reserve address or by symbol (see `symbols`; on localnet also
/// the name a bootstrap created its mint under).
async fn find_reserve(client: &Client, market: &Pubkey, text: &str) -> Result<(Pubkey, Reserve), String> {
    let Ok(key) = parse_pubkey(text, "reserve or mint") else {
        return find_reserve_by_symbol(client, market, text).await;
    };
    let by_mint = pda::reserve(market, &key);
    if let Ok(r) = client.reserve(&by_mint).await {
        return Ok((by_mint, r));
    }
    let r = client
        .reserve(&key)
        .await
        .map_err(|_| format!("{text} is neither a listed mint nor a reserve of {market}"))?;
    Ok((key, r))
}

async fn find_reserve_by_symbol(
    client: &Client,
    market: &Pubkey,
    text: &str,
) -> Result<(Pubkey, Reserve), String> {
    let reserves = client.reserves(market).await.map_err(|e| e.to_string())?;
    let names = symbols(client, &reserves).await?;
    let named: Vec<(&Pubkey, &Reserve)> = reserves
        .iter()
        .filter(|(_, r)| names.get(&r.mint).is_some_and(|s| s.eq_ignore_ascii_case(text)))
        .collect();
    match named.as_slice() {
        [(k, r)] => return Ok((**k, **r)),
        [] => {}
        _ => {
            let mints: Vec<String> = named.iter().map(|(_, r)| r.mint.to_string()).collect();
            return Err(format!(
                "{text} names {} reserves of {market} (mints {}): give the mint",
                named.len(),
                mints.join(", ")
            ));
        }
    }
    // A mint the market's admin created under this name at a localnet bootstrap.
    let admin = client.market(market).await.map_err(|e| e.to_string())?.admin;
    for token_program in [anchor_spl::token::ID, bootstrap::TOKEN_2022] {
        let mint = bootstrap::created_mint_address(&admin, text, &token_program);
        if let Some((k, r)) = reserves.iter().find(|(_, r)| r.mint == mint) {
            return Ok((*k, *r));
        }
    }
    Err(format!(
        "{text} is not a symbol, mint or reserve of market {market} (`ballast reserve list` shows them)"
    ))
}

/// Each listed mint's symbol, where one is known: the mint's own Token-2022 metadata, else its
/// Metaplex metadata account (`Client::mint_symbols`), else the Solana CLI config's address
/// label for the mint.
async fn symbols(
    client: &Client,
    reserves: &std::collections::HashMap<Pubkey, Reserve>,
) -> Result<std::collections::HashMap<Pubkey, String>, String> {
    let labels = config::solana_config().map(|c| c.address_labels).unwrap_or_default();
    let mints: Vec<Pubkey> = reserves.values().map(|r| r.mint).collect();
    let mut out = client.mint_symbols(&mints).await.map_err(|e| e.to_string())?;
    for mint in &mints {
        if let Some(label) = labels.get(&mint.to_string()) {
            out.entry(*mint).or_insert_with(|| label.clone());
        }
    }
    Ok(out)
}

async fn run(cli: Cli) -> CliResult {
    match &cli.command {
        Command::Keygen { path, force } => {
            let file = std::path::Path::new(path);
            if file.exists() && !*force {
                let holder = config::read_keypair(file).map(|k| format!(" (keypair {})", k.pubkey()));
                return Err(format!(
                    "{path} exists{}: refusing to overwrite it (its key and what only it controls would be lost); pass --force to replace it",
                    holder.unwrap_or_default()
                ));
            }
            let k = Keypair::new();
            config::write_keypair(&k, file)?;
            Ok(with_display(
                json!({ "pubkey": k.pubkey().to_string(), "path": path }),
                format!("{} → {path}", k.pubkey()),
            ))
        }
        Command::Airdrop { sol, to } => {
            if !sol.is_finite() || *sol <= 0.0 || *sol > 1e9 {
                return Err(format!("airdrop amount {sol}: give a positive number of SOL (e.g. 2)"));
            }
            let to = match to {
                Some(t) => parse_pubkey(t, "to")?,
                None => wallet(&cli)?,
            };
            let c = read_client(&cli)?;
            let lamports = (sol * 1e9).round() as u64;
            let sig = c.rpc.request_airdrop(&to, lamports).await.map_err(|e| e.to_string())?;
            for _ in 0..60 {
                if c.rpc.confirm_transaction(&sig).await.unwrap_or(false) {
                    return Ok(with_display(
                        json!({ "signature": sig.to_string() }),
                        format!("airdropped {sol} SOL to {to}"),
                    ));
                }
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            Err(format!("airdrop {sig} not confirmed"))
        }
        Command::Market { command } => market_command(&cli, command).await,
        Command::Admin { command } => admin_command(&cli, command).await,
        Command::Reserve { command } => reserve_command(&cli, command).await,
        Command::Position { command } => position_command(&cli, command).await,
        Command::Deposit(m) | Command::Withdraw(m) | Command::Borrow(m) | Command::Repay(m) => {
            move_command(&cli, m).await
        }
        Command::Token { command } => token_command(&cli, command).await,
        Command::Oracle {
            command: OracleCommand::Publish { feeds, interval_ms, walk_bps, seed, for_secs },
        } => publish(&cli, feeds, *interval_ms, *walk_bps, *seed, *for_secs).await,
        Command::Oracle { command: OracleCommand::Post { feed, price, expo, conf, ema } } => {
            let c = client(&cli)?;
            let feed_id = parse_feed_id(feed)?;
            let ema = ema.unwrap_or(*price);
            let post =
                ballast_cli::publisher::post_instructions(&c, feed_id, *price, ema, *conf, *expo).await?;
            c.send(&post.instructions, &[]).await.map_err(|e| e.to_string())?;
            let (account, message) = (post.account, post.message);
            Ok(with_display(
                json!({ "price_update": account.to_string(), "price": message.price, "expo": expo, "publish_time": message.publish_time }),
                format!("posted {price} for feed {feed} in {account}"),
            ))
        }
    }
}

/// `oracle publish`: refreshes the feeds every `interval_ms` until Ctrl-C or `for_secs`.
async fn publish(
    cli: &Cli,
    feeds: &[String],
    interval_ms: u64,
    walk_bps: u32,
    seed: u64,
    for_secs: Option<u64>,
) -> CliResult {
    use ballast_cli::publisher::{self, Feed, Walk};
    let c = client(cli)?;
    let me = c.payer.pubkey();
    let feeds: Vec<Feed> = if feeds.is_empty() {
        let market = market_key(cli).map_err(|e| format!("{e} (or name the feeds with --feed)"))?;
        c.market(&market).await.map_err(|e| e.to_string())?;
        let reserves = c.reserves(&market).await.map_err(|e| e.to_string())?;
        let names = symbols(&c, &reserves).await?;
        publisher::market_feeds(&me, reserves.values(), |r| asset_name(&names, r))
    } else {
        feeds
            .iter()
            .map(|f| {
                let id = parse_feed_id(f)?;
                Ok(Feed { account: bootstrap::localnet_feed(&me, &id), name: f.clone() })
            })
            .collect::<Result<_, String>>()?
    };
    for f in &feeds {
        if c.account_data(&f.account).await.map_err(|e| e.to_string())?.is_none() {
            return Err(format!(
                "feed {} has no price yet at {} (post one first: `ballast oracle post --feed <id> --price <p>`)",
                f.name, f.account
            ));
        }
    }
    if feeds.is_empty() {
        return Err(format!("{me} writes none of the market's price feeds: nothing to publish"));
    }
    let names: Vec<&str> = feeds.iter().map(|f| f.name.as_str()).collect();
    eprintln!("publishing {} every {interval_ms} ms (walk {walk_bps} bps); Ctrl-C stops", names.join(", "));
    let mut walk = Walk::new(seed, walk_bps);
    let started = std::time::Instant::now();
    let mut interval = tokio::time::interval(std::time::Duration::from_millis(interval_ms.max(100)));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut rounds, mut failed) = (0u64, 0u64);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = tokio::signal::ctrl_c() => break,
        }
        if for_secs.is_some_and(|s| started.elapsed().as_secs() >= s) {
            break;
        }
        match publisher::publish_round(&c, &feeds, &mut walk).await {
            Ok(_) => rounds += 1,
            Err(e) => {
                failed += 1;
                eprintln!("warning: a price update failed (will retry): {e}");
            }
        }
    }
    Ok(with_display(
        json!({ "feeds": names, "rounds": rounds, "failed": failed }),
        format!("published {} for {rounds} round(s), {failed} failed", names.join(", ")),
    ))
}

async fn market_command(cli: &Cli, command: &MarketCommand) -> CliResult {
    let c = if matches!(command, MarketCommand::Show) { read_client(cli)? } else { client(cli)? };
    match command {
        MarketCommand::Init { id, fee_receiver } => {
            let payer = c.payer.pubkey();
            let fee = match fee_receiver {
                Some(f) => parse_pubkey(f, "fee_receiver")?,
                None => payer,
            };
            c.send(&[ix::init_market(payer, *id, fee)], &[]).await.map_err(|e| e.to_string())?;
            let market = pda::market(&payer, *id);
            Ok(with_display(json!({ "market": market.to_string() }), format!("market {market}")))
        }
        MarketCommand::Bootstrap { config } => run_bootstrap(&c, config, Mode::Any).await,
        MarketCommand::Show => {
            let key = market_key(cli)?;
            let m = c.market(&key).await.map_err(|e| e.to_string())?;
            let value = json!({
                "market": key.to_string(), "admin": m.admin.to_string(), "fee_receiver": m.fee_receiver.to_string(),
                "reserve_count": m.reserve_count, "liquidation_target_health_bps": m.liquidation_target_health_bps,
                "dust_debt_usd": m.dust_debt_usd,
            });
            let display = format!("market {key}\n  admin {}\n  fee receiver {}\n  reserves {}\n  liquidation target health {:.2}, dust ${}",
                m.admin, m.fee_receiver, m.reserve_count, m.liquidation_target_health_bps as f64 / 1e4, m.dust_debt_usd);
            Ok(with_display(value, display))
        }
    }
}

async fn admin_command(cli: &Cli, command: &AdminCommand) -> CliResult {
    let c = client(cli)?;
    let market = market_key(cli)?;
    let me = c.payer.pubkey();
    let reserve_of = |text: &Option<String>| {
        let c = &c;
        let text = text.clone();
        async move {
            match text {
                Some(t) => find_reserve(c, &market, &t).await.map(|(k, _)| Some(k)),
                None => Ok(None),
            }
        }
    };
    let (ixn, done) = match command {
        AdminCommand::Pause { reserve } | AdminCommand::Resume { reserve } => {
            let paused = matches!(command, AdminCommand::Pause { .. });
            let what = if paused { "paused" } else { "resumed" };
            match reserve_of(reserve).await? {
                Some(r) => (ix::set_reserve_pause(me, market, r, paused), format!("reserve {r} {what}")),
                None => (ix::set_market_pause(me, market, paused), format!("market {market} {what}")),
            }
        }
        AdminCommand::Propose { new_admin } => {
            let new = parse_pubkey(new_admin, "new admin")?;
            (ix::propose_admin(me, market, new), format!("proposed {new} as admin"))
        }
        AdminCommand::Accept => (ix::accept_admin(me, market), format!("{me} is the admin of {market}")),
        AdminCommand::Apply { reserve } => {
            let (r, _) = find_reserve(&c, &market, reserve).await?;
            (ix::apply_reserve_config(r), format!("queued configuration of {r} applied"))
        }
        AdminCommand::Cancel { reserve } => {
            let (r, _) = find_reserve(&c, &market, reserve).await?;
            (ix::cancel_reserve_config(me, market, r), format!("queued changes of {r} cancelled"))
        }
        AdminCommand::StressShocks { shocks } => {
            if shocks.len() > 7 {
                return Err("at most 7 shocks (groups 1–7)".into());
            }
            let mut all = [0u16; 8];
            all[1..=shocks.len()].copy_from_slice(shocks);
            (ix::set_stress_shocks(me, market, all), format!("stress shocks {:?}", &all[1..]))
        }
    };
    let sig = c.send(&[ixn], &[]).await.map_err(|e| e.to_string())?;
    Ok(with_display(json!({ "signature": sig.to_string(), "done": done }), done))
}

async fn run_bootstrap(c: &Client, path: &str, mode: Mode) -> CliResult {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let file: MarketFile = toml::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    let report = bootstrap::bootstrap(c, &file, mode).await?;
    let mut display = format!("market {} ({} transaction(s))", report.market, report.transactions);
    for r in &report.reserves {
        display.push_str(&format!("\n  {:<8} reserve {} mint {} ({})", r.name, r.reserve, r.mint, r.action));
    }
    Ok(with_display(serde_json::to_value(&report).unwrap(), display))
}

async fn reserve_command(cli: &Cli, command: &ReserveCommand) -> CliResult {
    let reads = matches!(command, ReserveCommand::Show { .. } | ReserveCommand::List);
    let c = if reads { read_client(cli)? } else { client(cli)? };
    match command {
        ReserveCommand::Add { config } => run_bootstrap(&c, config, Mode::Add).await,
        ReserveCommand::Update { config } => run_bootstrap(&c, config, Mode::Update).await,
        ReserveCommand::Show { reserve } => {
            let market = market_key(cli)?;
            let (key, r) = find_reserve(&c, &market, reserve).await?;
            let symbol = symbols(&c, &std::collections::HashMap::from([(key, r)])).await?.remove(&r.mint);
            // The simulation's fee payer: the wallet when it holds SOL, else the market's admin.
            let funded = match wallet(cli) {
                Ok(me) => c.account_data(&me).await.map_err(|e| e.to_string())?.map(|_| me),
                Err(_) => None,
            };
            let payer = match funded {
                Some(me) => me,
                None => c.market(&market).await.map_err(|e| e.to_string())?.admin,
            };
            let sim = c.simulate_view(ix::reserve_status(key), &payer).await.map_err(|e| e.to_string())?;
            let status: ballast::instructions::ReserveStatus =
                ballast_sdk::accounts::view_return(&sim).map_err(|e| e.to_string())?;
            let d = r.decimals;
            let cap = |v: u64| if v == u64::MAX { "none".to_string() } else { format_amount(v, d) };
            let value = json!({
                "reserve": key.to_string(), "mint": r.mint.to_string(), "symbol": symbol, "decimals": d,
                "available_liquidity": status.available_liquidity, "total_deposits": status.total_deposit_assets,
                "total_debt": status.total_debt, "utilization_bps": status.utilization_bps,
                "borrow_apr_bps": status.borrow_apr_bps, "deposit_cap": r.deposit_cap, "borrow_cap": r.borrow_cap,
                "pool_balance": status.pool.balance, "pool_target": status.pool.target,
                "pool_coverage_bps": status.pool.coverage_bps, "volume_24h": status.pool.volume_24h,
            });
            let display = format!(
                "reserve {key} ({}mint {})\n  deposits {} / cap {}\n  debt {} / cap {}\n  utilization {:.2} %, borrow APR {:.2} %\n  insurance pool {} of target {} (coverage {:.1} %, 24 h volume {})",
                symbol.as_ref().map_or(String::new(), |s| format!("{s}, ")), r.mint, format_amount(status.total_deposit_assets, d), cap(r.deposit_cap), format_amount(status.total_debt, d),
                cap(r.borrow_cap), status.utilization_bps as f64 / 100.0, status.borrow_apr_bps as f64 / 100.0,
                format_amount(status.pool.balance, d), format_amount(status.pool.target, d),
                status.pool.coverage_bps as f64 / 100.0, format_amount(status.pool.volume_24h, d),
            );
            Ok(with_display(value, display))
        }
        ReserveCommand::List => {
            let market = market_key(cli)?;
            // A wrong address is named as such, not listed as a market without reserves.
            c.market(&market).await.map_err(|e| e.to_string())?;
            let reserves = c.reserves(&market).await.map_err(|e| e.to_string())?;
            let names = symbols(&c, &reserves).await?;
            let mut list: Vec<_> = reserves.iter().collect();
            list.sort_by_key(|(k, _)| **k);
            let value: Vec<_> = list
                .iter()
                .map(|(k, r)| json!({ "reserve": k.to_string(), "mint": r.mint.to_string(), "symbol": names.get(&r.mint) }))
                .collect();
            let display = list
                .iter()
                .map(|(k, r)| {
                    format!("{:<8} {k} mint {}", names.get(&r.mint).map_or("-", String::as_str), r.mint)
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(with_display(json!({ "reserves": value }), display))
        }
    }
}

async fn position_command(cli: &Cli, command: &PositionCommand) -> CliResult {
    let c = if matches!(command, PositionCommand::Show { .. }) { read_client(cli)? } else { client(cli)? };
    let market = market_key(cli)?;
    match command {
        PositionCommand::Open { index } => {
            let owner = c.payer.pubkey();
            c.send(&[ix::open_position(owner, market, *index)], &[]).await.map_err(|e| e.to_string())?;
            let position = pda::position(&market, &owner, *index);
            Ok(with_display(json!({ "position": position.to_string() }), format!("position {position}")))
        }
        PositionCommand::Show { owner, index } => {
            let owner = match owner {
                Some(o) => parse_pubkey(o, "owner")?,
                None => wallet(cli)?,
            };
            let market_state = c.market(&market).await.map_err(|e| e.to_string())?;
            let key = pda::position(&market, &owner, *index);
            if c.account_data(&key).await.map_err(|e| e.to_string())?.is_none() {
                return Err(format!(
                    "wallet {owner} has no position {index} in market {market} ({key}): a deposit opens one"
                ));
            }
            let position: Position = c.position(&key).await.map_err(|e| e.to_string())?;
            let reserves = c.reserves(&market).await.map_err(|e| e.to_string())?;
            let oracles = c.oracles(&reserves).await.map_err(|e| e.to_string())?;
            let now = c.now().await.map_err(|e| e.to_string())?;
            let names = symbols(&c, &reserves).await?;
            let view = position_view(&market_state, &position, &reserves, &oracles, now)
                .map_err(|e| e.to_string())?;
            // A borrow or withdrawal sends `refresh_mint` first for each dynamic mint: the
            // limits see the mints as that refresh will.
            let dynamic: Vec<Pubkey> =
                reserves.values().filter(|r| r.mint_dynamic != 0).map(|r| r.mint).collect();
            let mut mints = std::collections::HashMap::new();
            for (mint, account) in
                dynamic.iter().zip(c.rpc.get_multiple_accounts(&dynamic).await.map_err(|e| e.to_string())?)
            {
                if let Some(a) = account {
                    mints.insert(*mint, a.data);
                }
            }
            let refreshed = ballast_sdk::limits::after_mint_refresh(&reserves, &mints, now)?;
            let limits = ballast_sdk::limits::Accounts {
                market: &market_state,
                position: &position,
                reserves: &refreshed,
                oracles: &oracles,
                now,
            }
            .limits();
            Ok(show_position(&key, &owner, &view, &limits, &reserves, &names))
        }
    }
}

/// An asset's name: its symbol where one is known, else its mint's address.
fn asset_name(names: &std::collections::HashMap<Pubkey, String>, reserve: &Reserve) -> String {
    names.get(&reserve.mint).cloned().unwrap_or_else(|| reserve.mint.to_string())
}

/// `position show`: health, what the position may still do (`ballast_sdk::limits`, the
/// program's checks in its order), and each slot by asset name.
fn show_position(
    key: &Pubkey,
    owner: &Pubkey,
    view: &ballast_sdk::health::PositionView,
    limits: &[ballast_sdk::limits::AssetLimits],
    reserves: &std::collections::HashMap<Pubkey, Reserve>,
    names: &std::collections::HashMap<Pubkey, String>,
) -> serde_json::Value {
    let h = &view.health;
    let ratio = |v: Option<u128>| v.map(|x| x as f64 / 1e9);
    let usd = |v: u128| v as f64 / 1e18;
    let name = |r: &Pubkey| reserves.get(r).map_or(r.to_string(), |res| asset_name(names, res));
    let amount = |r: &Pubkey, units: u64| {
        let d = reserves.get(r).map_or(0, |res| res.decimals);
        format!("{} {}", format_amount(units, d), name(r))
    };
    let borrowable: Vec<&ballast_sdk::limits::AssetLimits> =
        limits.iter().filter(|l| l.max_borrow > 0).collect();
    let borrow_line = if !borrowable.is_empty() {
        let list: Vec<String> = borrowable.iter().map(|l| amount(&l.reserve, l.max_borrow)).collect();
        format!("can borrow more: up to {} (each alone)", list.join(", "))
    } else if view.slots.iter().all(|s| s.deposit_amount == 0) {
        "cannot borrow: nothing deposited as collateral (`ballast deposit <asset> <amount>`)".to_string()
    } else {
        // The reason the program gives for the assets it refuses, most common first.
        let mut reasons: Vec<(usize, &str)> = Vec::new();
        for why in limits.iter().filter_map(|l| l.borrow_refusal.as_deref()) {
            match reasons.iter_mut().find(|(_, r)| *r == why) {
                Some(entry) => entry.0 += 1,
                None => reasons.push((1, why)),
            }
        }
        reasons.sort_by_key(|r| std::cmp::Reverse(r.0));
        format!("cannot borrow more: {}", reasons.first().map_or("no asset is borrowable", |r| r.1))
    };
    let health_text = match ratio(h.health_factor()) {
        Some(x) if h.debt_value > 0 => format!("health factor {x:.4}"),
        _ => "no debt".to_string(),
    };
    let mut display = format!(
        "position {key} (owner {owner})\n  {health_text}, leverage {}, {}\n  collateral ${:.2} (maintenance ${:.2}), debt ${:.2} (maintenance ${:.2})\n  {borrow_line}",
        ratio(h.leverage()).map_or("-".into(), |x| format!("{x:.3}x")),
        if h.is_liquidatable() { "LIQUIDATABLE" } else { "healthy" },
        usd(h.collateral_value), usd(h.maint_collateral), usd(h.debt_value), usd(h.maint_debt),
    );
    let mut slots = Vec::new();
    for s in &view.slots {
        let lp = liquidation_price(h, s);
        let price = s.price.price as f64 * 10f64.powi(s.price.expo);
        let lp_f = lp.map(|p| p as f64 * 10f64.powi(s.price.expo));
        let age = s.price.age_secs;
        let (pricing, price_note) = match s.pricing {
            Pricing::Fresh => ("fresh".to_string(), format!("{age} s old")),
            Pricing::Fallback(e) => (
                format!("fallback ({e:?})"),
                format!("price unavailable ({e:?}): last price {age} s old, maintenance only"),
            ),
            Pricing::Unpriced(e) => (
                format!("unpriced ({e:?})"),
                format!("price unavailable ({e:?}): last price {age} s old, counts nothing"),
            ),
            Pricing::NoPrice(e) => (format!("no price ({e:?})"), format!("no price ({e:?}): counts nothing")),
        };
        let symbol = reserves.get(&s.reserve).and_then(|r| names.get(&r.mint));
        let limit = limits.iter().find(|l| l.reserve == s.reserve);
        let withdraw = match limit {
            Some(l) if l.max_withdraw > 0 => {
                format!("; can withdraw up to {}", amount(&s.reserve, l.max_withdraw))
            }
            Some(l) => {
                l.withdraw_refusal.as_ref().map_or(String::new(), |w| format!("; cannot withdraw: {w}"))
            }
            None => String::new(),
        };
        slots.push(json!({
            "reserve": s.reserve.to_string(), "symbol": symbol, "deposit": s.deposit_amount, "debt": s.debt_amount,
            "price": price, "pricing": pricing, "price_age_secs": age, "liquidation_price": lp_f,
        }));
        let shown_price =
            if matches!(s.pricing, Pricing::NoPrice(_)) { String::new() } else { format!(" at ${price:.4}") };
        let d = s.decimals;
        display.push_str(&format!(
            "\n  {}: deposit {} debt {}{shown_price} ({price_note}){}{withdraw}",
            name(&s.reserve),
            format_amount(s.deposit_amount, d),
            format_amount(s.debt_amount, d),
            lp_f.map_or(String::new(), |p| format!(", liquidation price ${p:.4}")),
        ));
    }
    let limits_json: Vec<_> = limits
        .iter()
        .map(|l| {
            json!({
                "reserve": l.reserve.to_string(), "symbol": reserves.get(&l.reserve).and_then(|r| names.get(&r.mint)),
                "max_borrow": l.max_borrow, "borrow_refusal": l.borrow_refusal,
                "max_withdraw": l.max_withdraw, "withdraw_refusal": l.withdraw_refusal,
            })
        })
        .collect();
    let value = json!({
        "position": key.to_string(), "owner": owner.to_string(),
        "health_factor": ratio(h.health_factor()), "leverage": ratio(h.leverage()),
        "liquidatable": h.is_liquidatable(), "passes_initial": view.stressed.passes_initial(),
        "can_borrow_more": !borrowable.is_empty(), "borrow": borrow_line,
        "collateral_usd": usd(h.collateral_value),
        "debt_usd": usd(h.debt_value), "maint_collateral_usd": usd(h.maint_collateral),
        "maint_debt_usd": usd(h.maint_debt), "slots": slots, "limits": limits_json,
    });
    with_display(value, display)
}

async fn move_command(cli: &Cli, m: &Move) -> CliResult {
    let c = client(cli)?;
    let market = market_key(cli)?;
    c.market(&market).await.map_err(|e| e.to_string())?;
    let (reserve_key, reserve) = find_reserve(&c, &market, &m.mint).await?;
    let symbol =
        asset_name(&symbols(&c, &std::collections::HashMap::from([(reserve_key, reserve)])).await?, &reserve);
    let mut amount = parse_amount(&m.amount, reserve.decimals)?;
    let owner = c.payer.pubkey();
    let position = pda::position(&market, &owner, m.index);
    let keys = ix::ReserveKeys::from_reserve(reserve_key, &reserve);
    let ata = token::associated_token_address(&owner, &reserve.mint, &reserve.token_program);
    let create_ata =
        token::create_associated_token_account(&owner, &owner, &reserve.mint, &reserve.token_program);
    // Borrow, and withdraw from a position with debt, pass (reserve, oracle) for every slot.
    let cr = &c;
    let remaining = |adding: Option<Pubkey>| async move {
        let p = cr.position(&position).await.map_err(|e| e.to_string())?;
        let slots = ix::health_reserves(&p, adding);
        let reserves = cr.reserves(&market).await.map_err(|e| e.to_string())?;
        let oracles = cr.oracles(&reserves).await.map_err(|e| e.to_string())?;
        if let Some(r) = slots.iter().find(|r| !oracles.contains_key(r)) {
            return Err(format!("no price update found for reserve {r}"));
        }
        let refreshes = ix::mint_refreshes(&slots, |r| reserves.get(r).copied());
        Ok::<_, String>((ix::health_accounts(&slots, |r| oracles[r].key), p, refreshes))
    };
    // Answers a new user can act on, before anything is sent: which account is missing, and
    // what the wallet holds.
    let has_position = c.account_data(&position).await.map_err(|e| e.to_string())?.is_some();
    let paying = matches!(cli.command, Command::Deposit(_) | Command::Repay(_));
    if !has_position && !matches!(cli.command, Command::Deposit(_)) {
        return Err(format!(
            "wallet {owner} has no position {} in market {market}: a deposit opens one (or `ballast position open`)",
            m.index
        ));
    }
    let fmt = |units: u64| format!("{} {symbol}", format_amount(units, reserve.decimals));
    if paying {
        let held = match c.account_data(&ata).await.map_err(|e| e.to_string())? {
            Some(a) => token::token_account_amount(&a.data).unwrap_or(0),
            None => {
                return Err(format!(
                    "wallet {owner} has no token account of {symbol} (mint {}; its associated account {ata} does not exist; balance 0)",
                    reserve.mint
                ))
            }
        };
        if amount == u64::MAX && matches!(cli.command, Command::Deposit(_)) {
            // `deposit all`: the wallet's balance (the program has no "everything" for a deposit).
            if held == 0 {
                return Err(format!("wallet {owner} holds no {symbol} in {ata}: nothing to deposit"));
            }
            amount = held;
        } else if amount == u64::MAX {
            // `repay all`: the debt the program will take, which must be in the wallet.
            let now = c.now().await.map_err(|e| e.to_string())?;
            let p = c.position(&position).await.map_err(|e| e.to_string())?;
            let owed = |at: i64| ballast_sdk::health::debt_owed(&p, &reserve_key, &reserve, at);
            let (debt, debt_soon) = (owed(now)?, owed(now + REPAY_ALL_MARGIN_SECS)?);
            if debt == 0 {
                return Err(format!("position {position} owes no {symbol}: nothing to repay"));
            }
            if held < debt {
                return Err(format!(
                    "owes {}, holds {}: short by {} (wallet {owner}, account {ata})",
                    fmt(debt),
                    fmt(held),
                    fmt(debt - held)
                ));
            }
            // With the next minute's interest in the wallet the program repays exactly what is
            // owed when it lands; otherwise the balance goes, which may leave seconds of interest.
            if held < debt_soon {
                amount = held;
            }
        } else if held < amount {
            return Err(format!("wallet {owner} holds {} in {ata}, less than {}", fmt(held), fmt(amount)));
        }
    }
    let (verb, ixs) = match &cli.command {
        Command::Deposit(_) => {
            // The wallet's first deposit opens its position in the same transaction.
            let mut ixs = Vec::new();
            if !has_position {
                ixs.push(ix::open_position(owner, market, m.index));
            }
            ixs.push(ix::deposit(owner, position, &keys, ata, amount));
            ("deposited", ixs)
        }
        Command::Repay(_) => ("repaid", vec![ix::repay(owner, position, &keys, ata, amount)]),
        Command::Borrow(_) => {
            let (rem, _, mut ixs) = remaining(Some(reserve_key)).await?;
            ixs.extend([create_ata, ix::borrow(owner, position, &keys, ata, amount, rem)]);
            ("borrowed", ixs)
        }
        Command::Withdraw(_) => {
            // Without debt no price is needed (nor looked up): the program answers alone.
            let p = c.position(&position).await.map_err(|e| e.to_string())?;
            let (rem, mut ixs) = if p.has_debt() {
                let (rem, _, refreshes) = remaining(None).await?;
                (rem, refreshes)
            } else {
                (Vec::new(), Vec::new())
            };
            ixs.extend([create_ata, ix::withdraw_with_health(owner, position, &keys, ata, amount, rem)]);
            ("withdrew", ixs)
        }
        _ => unreachable!("only token moves reach here"),
    };
    // A v0 transaction with the market's lookup table: a position of many slots names more
    // accounts than a legacy transaction can carry.
    let lookup_tables: Vec<Pubkey> = if cli.lookup_tables.is_empty() {
        let admin = c.market(&market).await.map_err(|e| e.to_string())?.admin;
        let table = c.find_market_table(&admin, &market).await.map_err(|e| e.to_string())?;
        table.map(|t| t.key).into_iter().collect()
    } else {
        cli.lookup_tables.iter().map(|t| parse_pubkey(t, "lookup table")).collect::<Result<_, _>>()?
    };
    let options = SendOptions {
        lookup_tables,
        compute_unit_price: cli.with_compute_unit_price.unwrap_or(0),
        ..Default::default()
    };
    let prepared = c.prepare_v0(&ixs, &[], &options).await.map_err(|e| e.to_string())?;
    if cli.simulate {
        return Ok(with_display(
            json!({
                "simulated": true, "reserve": reserve_key.to_string(), "amount": amount,
                "compute_units": prepared.simulated_units, "compute_unit_limit": prepared.compute_unit_limit,
                "fee_lamports": prepared.fee_lamports,
            }),
            format!(
                "simulated, nothing sent: {} compute units, fee {} lamports",
                prepared.simulated_units, prepared.fee_lamports
            ),
        ));
    }
    let sig = c.send_prepared(&prepared).await.map_err(|e| e.to_string())?;
    let shown = if amount == u64::MAX { format!("all {symbol}") } else { fmt(amount) };
    Ok(with_display(
        json!({ "signature": sig.to_string(), "reserve": reserve_key.to_string(), "symbol": symbol, "amount": amount }),
        format!("{verb} {shown} ({sig})"),
    ))
}

/// A mint given by address, or by symbol among --market's reserves (case-insensitive).
async fn find_mint(cli: &Cli, c: &Client, text: &str) -> Result<Pubkey, String> {
    if let Ok(key) = parse_pubkey(text, "mint") {
        return Ok(key);
    }
    let market = market_key(cli).map_err(|_| {
        format!("{text} is not a mint address; to name a mint by symbol, pass the market (--market or BALLAST_MARKET)")
    })?;
    Ok(find_reserve(c, &market, text).await?.1.mint)
}

async fn token_command(cli: &Cli, command: &TokenCommand) -> CliResult {
    let c = if matches!(command, TokenCommand::Balance { .. }) { read_client(cli)? } else { client(cli)? };
    match command {
        TokenCommand::Mint { mint, amount, to } => {
            let name = mint;
            let mint = find_mint(cli, &c, mint).await?;
            let account =
                c.account_data(&mint).await.map_err(|e| e.to_string())?.ok_or(format!("no mint {mint}"))?;
            let tp = account.owner;
            let decimals = *account.data.get(44).ok_or("not a mint")?;
            let to = match to {
                Some(t) => parse_pubkey(t, "to")?,
                None => c.payer.pubkey(),
            };
            let units = parse_amount(amount, decimals)?;
            let ata = token::associated_token_address(&to, &mint, &tp);
            let payer = c.payer.pubkey();
            let ixs = [
                token::create_associated_token_account(&payer, &to, &mint, &tp),
                token_ix::mint_to(&tp, &mint, &ata, &payer, &[], units).map_err(|e| e.to_string())?,
            ];
            c.send(&ixs, &[]).await.map_err(|e| e.to_string())?;
            Ok(with_display(
                json!({ "account": ata.to_string(), "amount": units }),
                format!("minted {} {name} to {ata}", format_amount(units, decimals)),
            ))
        }
        TokenCommand::Balance { mint, owner } => {
            let mint = find_mint(cli, &c, mint).await?;
            let account =
                c.account_data(&mint).await.map_err(|e| e.to_string())?.ok_or(format!("no mint {mint}"))?;
            let decimals = *account.data.get(44).ok_or("not a mint")?;
            let owner = match owner {
                Some(o) => parse_pubkey(o, "owner")?,
                None => wallet(cli)?,
            };
            let ata = token::associated_token_address(&owner, &mint, &account.owner);
            let amount = match c.account_data(&ata).await.map_err(|e| e.to_string())? {
                Some(a) => token::token_account_amount(&a.data).unwrap_or(0),
                None => 0,
            };
            Ok(with_display(
                json!({ "account": ata.to_string(), "amount": amount }),
                format_amount(amount, decimals),
            ))
        }
    }
}
