//! A crash at scale on a real validator (docs/keeper-bench.md): a populated market, load users,
//! a two-leg crash, one to four `ballast-keeper` processes (sharded or racing), one fault per run,
//! then the figures and the invariants. `crash-bench` runs the full set; the test command runs a
//! short form.
pub mod load;
pub mod market;
pub mod observe;
pub mod report;
pub mod send;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anchor_lang::prelude::Pubkey;
use ballast_sdk::rpc::Client;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::faults::{RpcFaults, RpcProxy, WsProxy};
use market::Market;

/// A small deterministic generator (xorshift64*): a seed gives the same population.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// The one fault a run injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// Keeper 0 is killed (SIGKILL) mid-cascade and restarted.
    Kill,
    /// Every keeper's websocket is cut for a while: they fall back to polling and come back.
    WebsocketCut,
    /// An RPC in front of every keeper fails a fifth of requests and delays another fifth.
    FlakyRpc,
    /// Keeper 0 holds none of the most borrowed asset (USDC).
    NoRepayTokens,
}

impl Fault {
    pub fn label(&self) -> &'static str {
        match self {
            Fault::None => "none",
            Fault::Kill => "keeper killed 0.3 s in, restarted 2 s later",
            Fault::WebsocketCut => "websocket cut for 5 s",
            Fault::FlakyRpc => "RPC fails 20 %, delays 20 % by 300 ms",
            Fault::NoRepayTokens => "a keeper holds no USDC",
        }
    }

    pub fn parse(text: &str) -> Result<Fault, String> {
        Ok(match text {
            "none" => Fault::None,
            "kill" => Fault::Kill,
            "ws-cut" => Fault::WebsocketCut,
            "flaky-rpc" => Fault::FlakyRpc,
            "no-tokens" => Fault::NoRepayTokens,
            _ => return Err(format!("unknown fault {text:?}: none, kill, ws-cut, flaky-rpc, no-tokens")),
        })
    }
}

/// One run's set-up.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub positions: usize,
    pub load_users: usize,
    pub keepers: usize,
    /// Each keeper looks after its shard (`--shard i/n`); otherwise all see all and race.
    pub sharded: bool,
    pub fault: Fault,
    pub seed: u64,
    /// Seconds between the first leg and the second.
    pub second_leg_after: f64,
    /// Give up waiting for the market to clear after this long.
    pub timeout: Duration,
    /// Extra `ballast-keeper` arguments.
    pub keeper_args: Vec<String>,
}

impl Scenario {
    pub fn label(&self) -> String {
        let how = if self.keepers == 1 {
            ""
        } else if self.sharded {
            " sharded"
        } else {
            " racing"
        };
        format!(
            "{} keeper{}{how}, fault: {}",
            self.keepers,
            if self.keepers == 1 { "" } else { "s" },
            self.fault.label()
        )
    }
}

/// What one run measured.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RunResult {
    pub label: String,
    pub keepers: usize,
    pub sharded: bool,
    pub fault: String,
    pub positions: usize,
    pub build_secs: f64,
    pub build_transactions: usize,
    /// Liquidatable positions over time (seconds after the first leg).
    pub curve: Vec<(f64, usize)>,
    pub liquidatable_first_leg: usize,
    pub liquidatable_second_leg: usize,
    /// When the second leg was posted, seconds after the first.
    pub second_leg_secs: f64,
    pub bad_debt_positions: usize,
    /// Seconds from the first leg to the last position cleared; `None`: not cleared in time.
    pub clear_secs: Option<f64>,
    /// Per position: from the leg that made it liquidatable to its last liquidation.
    pub latency_ms: Vec<f64>,
    pub latency_slots: Vec<u64>,
    /// Liquidation transactions landed, and the liquidations they carried.
    pub landed: u64,
    pub liquidations: u64,
    pub resolutions: u64,
    pub failed: BTreeMap<String, u64>,
    pub not_sent: BTreeMap<String, u64>,
    pub fees_lamports: u64,
    pub priority_lamports: u64,
    /// Per keeper: USD proceeds less repaid less fees, and the worst single liquidation.
    pub keeper_net_usd: Vec<f64>,
    pub worst_liquidation_usd: f64,
    /// What the insurance pools hold after the run (they start empty), USD at the final prices.
    pub pool_fill_usd: f64,
    /// What the liquidations paid the insurance pools (their events), USD at the prices then.
    pub pool_fee_usd: f64,
    pub load_landed: u64,
    pub load_refused: BTreeMap<String, u64>,
    pub broken: Vec<String>,
    pub websocket_downs: u64,
    pub websocket_ups: u64,
    /// Keeper processes started again after a kill.
    pub restarts: u32,
    /// Where the time goes (docs/keeper-bench.md, "what holds it back"): per liquidation
    /// transaction, the keeper's reads and simulation, and sending to confirmation, ms.
    pub prepare_ms: Vec<u64>,
    pub confirm_ms: Vec<u64>,
    /// Liquidation transactions one position needed (sequential: each waits for the last).
    pub transactions_per_position: Vec<u64>,
    /// The most liquidation transactions that landed in one slot.
    pub peak_per_slot: u64,
    /// The validator's mean slot time from the first leg to the last landed liquidation, ms
    /// (400 on an idle validator).
    pub slot_ms: f64,
}

/// Loopback ports: `base..base+61` free.
fn free_ports(seed: u64) -> u16 {
    for attempt in 0..500u64 {
        let base = 20_000
            + ((seed.wrapping_mul(131) + std::process::id() as u64 * 7 + attempt * 97) % 30_000) as u16;
        if (base..base + 61).all(|p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            return base;
        }
    }
    panic!("no free block of ports on 127.0.0.1");
}

/// A local validator with the programs, stopped on drop.
pub struct Validator {
    root: PathBuf,
    ledger: PathBuf,
    pub url: String,
    pub ws_url: String,
}

impl Validator {
    pub fn start(root: &Path, dir: &Path, seed: u64) -> Result<Validator, String> {
        let port = free_ports(seed);
        let ledger = dir.join("ledger");
        let status = Command::new("bash")
            .arg(root.join("scripts/localnet/validator.sh"))
            .args(["start", ledger.to_str().ok_or("ledger path")?, &port.to_string()])
            .status()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("the local validator did not start (log: {}.log)", ledger.display()));
        }
        Ok(Validator {
            root: root.to_path_buf(),
            ledger,
            url: format!("http://127.0.0.1:{port}"),
            ws_url: format!("ws://127.0.0.1:{}", port + 1),
        })
    }
}

impl Drop for Validator {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(self.root.join("scripts/localnet/validator.sh"))
            .args(["stop", self.ledger.to_str().unwrap_or_default()])
            .status();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.ledger);
        }
    }
}

/// A keeper process, killed on drop.
struct KeeperProcess {
    child: Child,
}

impl Drop for KeeperProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where and how keeper `i` runs.
struct KeeperSlot {
    keypair_path: PathBuf,
    log_path: PathBuf,
    args: Vec<String>,
    process: Option<KeeperProcess>,
    starts: u32,
}

impl KeeperSlot {
    fn start(&mut self, exe: &Path) -> Result<(), String> {
        self.starts += 1;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .map_err(|e| e.to_string())?;
        let child = Command::new(exe)
            .args(&self.args)
            .arg("-k")
            .arg(&self.keypair_path)
            .env("RUST_LOG", std::env::var("BALLAST_KEEPER_LOG").unwrap_or_else(|_| "info".into()))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("start {}: {e}", exe.display()))?;
        self.process = Some(KeeperProcess { child });
        Ok(())
    }

    /// SIGKILL: no goodbye, no flush, transactions in flight abandoned.
    fn kill(&mut self) {
        if let Some(mut p) = self.process.take() {
            let _ = p.child.kill();
            let _ = p.child.wait();
            std::mem::forget(p);
        }
    }
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// The `ballast-keeper` binary beside this one.
pub fn keeper_exe() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let exe = me.with_file_name(format!("ballast-keeper{}", std::env::consts::EXE_SUFFIX));
    if exe.exists() {
        return Ok(exe);
    }
    // A test binary lives one level down (target/debug/deps).
    let up = me.parent().and_then(Path::parent).map(|p| p.join("ballast-keeper"));
    up.filter(|p| p.exists()).ok_or_else(|| format!("no ballast-keeper beside {}", me.display()))
}

/// Runs one scenario on its own fresh validator.
pub async fn run(root: &Path, work: &Path, s: &Scenario) -> Result<RunResult, String> {
    let _ = std::fs::remove_dir_all(work);
    std::fs::create_dir_all(work).map_err(|e| e.to_string())?;
    let validator = Validator::start(root, work, s.seed)?;
    let admin = Arc::new(Client::new(&validator.url, Keypair::new()));
    let admin_key = admin.payer.pubkey();
    for _ in 0..4 {
        let sig = admin
            .rpc
            .request_airdrop(&admin_key, 250_000 * 1_000_000_000)
            .await
            .map_err(|e| e.to_string())?;
        while !admin.rpc.confirm_transaction(&sig).await.unwrap_or(false) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let mut market = market::bootstrap_market(&admin, root).await?;
    let publisher = market::spawn_publisher(admin.clone(), &market);
    market::lend(&admin, &market, 50_000_000.0).await?;

    // The population.
    let built = Instant::now();
    let plans = market::plan_positions(s.positions, s.seed, &market);
    let borrowers = market::build_positions(&admin, &market, &plans).await?;
    let build_secs = built.elapsed().as_secs_f64();
    let crash_positions: HashSet<Pubkey> = borrowers.iter().map(|(_, p)| *p).collect();
    tracing::info!(positions = borrowers.len(), secs = build_secs, "population built");

    // Keepers: SOL for fees and $20M of every borrowable asset (but the faulty one's USDC).
    let exe = keeper_exe()?;
    let keepers: Vec<Arc<Keypair>> = (0..s.keepers).map(|_| Arc::new(Keypair::new())).collect();
    send::send_all(
        &admin,
        &market.tables,
        &market::fund_jobs(&market, &keepers, 100_000_000_000, "fund keepers"),
    )
    .await?;
    let mut jobs = Vec::new();
    for (i, k) in keepers.iter().enumerate() {
        for a in market.assets.iter().filter(|a| a.borrowable) {
            if s.fault == Fault::NoRepayTokens && i == 0 && a.name == "USDC" {
                continue;
            }
            jobs.push(send::Job {
                label: format!("keeper {i} {}", a.name),
                instructions: market::mint_to(&market, &k.pubkey(), a, a.units(20_000_000.0))?,
                signers: vec![market.admin.clone()],
            });
        }
    }
    send::send_all(&admin, &market.tables, &jobs).await?;

    // Load users.
    let load_users = load::setup(&admin, &market, s.load_users).await?;

    // Faults in front of the keepers.
    let rpc_proxy = if s.fault == Fault::FlakyRpc {
        let faults = RpcFaults {
            fail_ppm: 200_000,
            delay_ppm: 200_000,
            delay: Duration::from_millis(300),
            seed: s.seed,
        };
        Some(RpcProxy::start(&validator.url, faults).await.map_err(|e| e.to_string())?)
    } else {
        None
    };
    let ws_proxy = if s.fault == Fault::WebsocketCut {
        Some(WsProxy::start(&validator.ws_url).await.map_err(|e| e.to_string())?)
    } else {
        None
    };
    let keeper_url = rpc_proxy.as_ref().map_or(validator.url.clone(), |p| p.url.clone());
    let keeper_ws = ws_proxy.as_ref().map_or(validator.ws_url.clone(), |p| p.url());
    let mut slots = Vec::new();
    for (i, k) in keepers.iter().enumerate() {
        let keypair_path = work.join(format!("keeper-{i}.json"));
        std::fs::write(
            &keypair_path,
            serde_json::to_string(&k.to_bytes().to_vec()).map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.to_string())?;
        let metrics = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| e.to_string())?
            .local_addr()
            .map_err(|e| e.to_string())?;
        let shard = if s.sharded { format!("{i}/{}", s.keepers) } else { "0/1".into() };
        let mut args = vec![
            "-u".to_string(),
            keeper_url.clone(),
            "--ws-url".into(),
            keeper_ws.clone(),
            "--market".into(),
            market.key.to_string(),
            "--lookup-table".into(),
            market.lookup_table.to_string(),
            "--shard".into(),
            shard,
            "--log-format".into(),
            "json".into(),
            "--metrics-addr".into(),
            metrics.to_string(),
        ];
        args.extend(s.keeper_args.iter().cloned());
        slots.push(KeeperSlot {
            keypair_path,
            log_path: work.join(format!("keeper-{i}.log")),
            args,
            process: None,
            starts: 0,
        });
    }
    for slot in &mut slots {
        slot.start(&exe)?;
    }
    // Let every keeper load the market and subscribe before the crash.
    tokio::time::sleep(Duration::from_secs(4)).await;

    let stop_load = Arc::new(AtomicBool::new(false));
    let market_arc = Arc::new(Market {
        key: market.key,
        admin: market.admin.clone(),
        assets: market.assets.clone(),
        lookup_table: market.lookup_table,
        tables: market.tables.clone(),
    });
    let load_tasks: Vec<_> = load_users
        .into_iter()
        .enumerate()
        .map(|(i, u)| {
            tokio::spawn(load::run_user(
                validator.url.clone(),
                market_arc.clone(),
                u,
                s.seed * 1000 + i as u64,
                stop_load.clone(),
            ))
        })
        .collect();

    // The crash.
    let before = market::snapshot(&admin, &market.key).await?;
    let (healthy_before, _) = observe::open_work(&before, &crash_positions);
    if !healthy_before.is_empty() {
        return Err(format!("{} positions liquidatable before the crash", healthy_before.len()));
    }
    market::apply_moves(&mut market.assets, &market::FIRST_LEG);
    // Who the first leg makes liquidatable, judged on the accounts before any keeper moves.
    let (l1, b1) = observe::open_work(&before.with_prices(&market.assets), &crash_positions);
    let t0 = unix_now();
    let (slot0, _) = market::post_prices(&admin, &market.assets, &market::FIRST_LEG).await?;
    let mut curve = vec![(0.0, l1.len() + b1.len())];
    let mut may_be_liquidated: HashSet<Pubkey> = l1.iter().chain(&b1).copied().collect();
    let mut made_liquidatable_at: std::collections::HashMap<Pubkey, (f64, u64)> =
        may_be_liquidated.iter().map(|p| (*p, (t0, slot0))).collect();
    let mut second_leg: Option<(f64, u64, usize)> = None;
    let mut first_leg_prices: std::collections::HashMap<Pubkey, f64> = std::collections::HashMap::new();
    let mut second_post = None;
    let mut killed_at: Option<Instant> = None;
    let mut restarted = false;
    let mut ws_cut = false;
    let mut clear_secs = None;
    let mut clear_samples = 0;
    let mut last_sample = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let elapsed = unix_now() - t0;
        match s.fault {
            Fault::Kill if killed_at.is_none() && elapsed > 0.3 => {
                slots[0].kill();
                killed_at = Some(Instant::now());
            }
            Fault::Kill if !restarted && killed_at.is_some_and(|k| k.elapsed() > Duration::from_secs(2)) => {
                slots[0].start(&exe)?;
                restarted = true;
            }
            Fault::WebsocketCut if !ws_cut && elapsed > 0.5 => {
                if let Some(p) = &ws_proxy {
                    p.cut(Duration::from_secs(5));
                }
                ws_cut = true;
            }
            _ => {}
        }
        if second_leg.is_none() && elapsed >= s.second_leg_after {
            first_leg_prices = market.assets.iter().map(|a| (a.keys.mint, a.price)).collect();
            market::apply_moves(&mut market.assets, &market::SECOND_LEG);
            // Judged on the accounts before the crash: a position healthy at the first leg's
            // prices has not moved since (only liquidations change a borrower here), and one
            // liquidated since was liquidatable already.
            let (l2, b2) = observe::open_work(&before.with_prices(&market.assets), &crash_positions);
            let t = unix_now();
            let (slot, signature) = market::post_prices(&admin, &market.assets, &market::SECOND_LEG).await?;
            second_post = Some(signature);
            for p in l2.iter().chain(&b2) {
                if may_be_liquidated.insert(*p) {
                    made_liquidatable_at.insert(*p, (t, slot));
                }
            }
            second_leg = Some((t - t0, slot, l2.len() + b2.len()));
            continue;
        }
        // A full read of the market is itself load on the validator the keepers share: once a
        // second (the clear time comes from the keepers' own logs, below).
        if last_sample.elapsed() < Duration::from_secs(1) {
            continue;
        }
        last_sample = Instant::now();
        let snap = market::snapshot(&admin, &market.key).await?;
        let (left, bad) = observe::open_work(&snap, &crash_positions);
        let open = left.len() + bad.len();
        curve.push((unix_now() - t0, open));
        // A fault must have run its course (the killed keeper back, the websocket back) before
        // the market counts as cleared.
        let fault_over = match s.fault {
            Fault::Kill => restarted,
            Fault::WebsocketCut => elapsed > 7.0,
            _ => true,
        };
        if second_leg.is_some() && open == 0 {
            // Cleared since the first sample of this run of zeros.
            clear_samples += 1;
            if clear_samples == 1 {
                clear_secs = Some(unix_now() - t0);
            }
            if clear_samples >= 2 && fault_over {
                break;
            }
        } else {
            clear_samples = 0;
            clear_secs = None;
        }
        if elapsed > s.timeout.as_secs_f64() {
            break;
        }
    }
    stop_load.store(true, Ordering::Relaxed);
    // Let in-flight keeper transactions end, then stop them.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for slot in &mut slots {
        slot.kill();
    }
    let mut load_landed = 0;
    let mut load_refused = BTreeMap::new();
    let mut users = Vec::new();
    for t in load_tasks {
        let (user, outcome) = t.await.map_err(|e| e.to_string())?;
        load_landed += outcome.landed;
        for (k, v) in outcome.refused {
            *load_refused.entry(k).or_default() += v;
        }
        users.push(user);
    }
    drop(publisher);

    // The keepers' own account of what they did.
    let mut result = RunResult {
        label: s.label(),
        keepers: s.keepers,
        sharded: s.sharded,
        fault: s.fault.label().into(),
        positions: s.positions,
        build_secs,
        curve,
        liquidatable_first_leg: l1.len() + b1.len(),
        liquidatable_second_leg: second_leg.map_or(0, |x| x.2),
        second_leg_secs: second_leg.map_or(0.0, |x| x.0),
        clear_secs,
        load_landed,
        load_refused,
        ..Default::default()
    };
    result.restarts = slots.iter().map(|s| s.starts.saturating_sub(1)).sum();
    let mut landed_all = Vec::new();
    for (i, slot) in slots.iter().enumerate() {
        let text = std::fs::read_to_string(&slot.log_path).map_err(|e| e.to_string())?;
        let log = observe::keeper_log(i, &observe::read_log(&text));
        for (k, v) in log.failed {
            *result.failed.entry(k).or_default() += v;
        }
        for (k, v) in log.not_sent {
            *result.not_sent.entry(k).or_default() += v;
        }
        result.websocket_downs += log.websocket_downs;
        result.websocket_ups += log.websocket_ups;
        let mut landed = log.landed;
        for l in &mut landed {
            observe::fetch_landed(&admin, &keepers[i].pubkey(), l).await?;
        }
        landed_all.extend(landed);
    }
    let after = market::snapshot(&admin, &market.key).await?;
    // Each liquidation is valued at the prices it ran at: the first leg's until the second
    // leg's post, then the second's (in the post's own slot, the block's order says which).
    let second_slot = second_leg.map_or(u64::MAX, |x| x.1);
    let before_second: HashSet<String> = match second_post {
        Some(post) => observe::before_in_block(&admin, second_slot, &post).await?,
        None => HashSet::new(),
    };
    let price_at = |mint: &Pubkey, l: &observe::Landed| -> Option<(f64, u8)> {
        let a = market.assets.iter().find(|a| a.keys.mint == *mint)?;
        let first = l.slot < second_slot || (l.slot == second_slot && before_second.contains(&l.signature));
        let price = if first { first_leg_prices.get(mint).copied().unwrap_or(a.price) } else { a.price };
        Some((price, a.decimals))
    };
    result.keeper_net_usd = vec![0.0; s.keepers];
    result.worst_liquidation_usd = f64::INFINITY;
    let sol_mint = market.asset("SOL").keys.mint;
    for l in &landed_all {
        result.fees_lamports += l.fee_lamports;
        result.priority_lamports += l.fee_lamports.saturating_sub(5_000);
        if l.resolution {
            result.resolutions += 1;
            continue;
        }
        result.landed += 1;
        result.liquidations += l.rounds;
        // The program's own word on each liquidation it ran: the position was unhealthy when
        // it started (nothing liquidated twice beyond what the program allows).
        if l.events.len() as u64 != l.rounds {
            result.broken.push(format!(
                "{}: {} liquidation events for {} rounds",
                l.signature,
                l.events.len(),
                l.rounds
            ));
        }
        for e in &l.events {
            if e.health_factor_before.is_none_or(|h| h >= 1_000_000_000) {
                result
                    .broken
                    .push(format!("{}: liquidated at health {:?}", l.signature, e.health_factor_before));
            }
            if let Some(a) = market.assets.iter().find(|a| a.reserve == e.seize_reserve) {
                let price = price_at(&a.keys.mint, l).map_or(a.price, |x| x.0);
                result.pool_fee_usd += e.fee_to_insurance_pool as f64 / 10f64.powi(a.decimals as i32) * price;
            }
        }
        let tokens: f64 = l
            .token_deltas
            .iter()
            .map(|(mint, d)| price_at(mint, l).map_or(0.0, |(p, dec)| *d as f64 / 10f64.powi(dec as i32) * p))
            .sum();
        let sol = price_at(&sol_mint, l).map_or(0.0, |x| x.0);
        let net = tokens - l.fee_lamports as f64 / 1e9 * sol;
        result.keeper_net_usd[l.keeper] += net;
        result.worst_liquidation_usd = result.worst_liquidation_usd.min(net);
    }
    if !result.worst_liquidation_usd.is_finite() {
        result.worst_liquidation_usd = 0.0;
    }
    let mut per_position: std::collections::HashMap<Pubkey, u64> = std::collections::HashMap::new();
    let mut per_slot: std::collections::HashMap<u64, u64> = std::collections::HashMap::new();
    for l in landed_all.iter().filter(|l| !l.resolution) {
        result.prepare_ms.push(l.prepare_ms);
        result.confirm_ms.push(l.confirm_ms);
        *per_position.entry(l.position).or_default() += 1;
        *per_slot.entry(l.slot).or_default() += 1;
    }
    result.transactions_per_position = per_position.into_values().collect();
    result.peak_per_slot = per_slot.into_values().max().unwrap_or(0);
    if let Some(last) = landed_all.iter().max_by_key(|l| l.slot) {
        if last.slot > slot0 {
            result.slot_ms = (last.at - t0) * 1000.0 / (last.slot - slot0) as f64;
        }
    }
    // Per position: the leg that made it liquidatable to its last landed liquidation.
    let mut last: std::collections::HashMap<Pubkey, (f64, u64)> = std::collections::HashMap::new();
    for l in &landed_all {
        let e = last.entry(l.position).or_insert((l.at, l.slot));
        if l.at > e.0 {
            *e = (l.at, l.slot);
        }
    }
    for (p, (at, slot)) in &last {
        if let Some((t, s0)) = made_liquidatable_at.get(p) {
            result.latency_ms.push(((at - t) * 1000.0).max(0.0));
            result.latency_slots.push(slot.saturating_sub(*s0));
        }
    }
    // Cleared when the last liquidation or write-off landed (as its keeper logged it), once the
    // scans found nothing left; the scans alone are a second apart and slow under load.
    if result.clear_secs.is_some() {
        if let Some(last) = landed_all.iter().map(|l| l.at).reduce(f64::max) {
            result.clear_secs = Some((last - t0).max(0.0));
        }
    }
    result.bad_debt_positions =
        landed_all.iter().filter(|l| l.resolution).map(|l| l.position).collect::<HashSet<_>>().len();
    // What the insurance pools hold afterwards (they start empty), at the final prices: each
    // insurance vault's tokens and the liquidation fees booked to it in the reserve's vault.
    for a in &market.assets {
        let reserve = &after.reserves[&a.reserve];
        let held = admin.account_data(&reserve.insurance_vault).await.map_err(|e| e.to_string())?;
        let in_vault = held.and_then(|h| ballast_sdk::token::token_account_amount(&h.data)).unwrap_or(0);
        result.pool_fill_usd += a.usd(in_vault.saturating_add(reserve.insurance_booked));
    }
    // Invariants.
    let liquidated: HashSet<Pubkey> =
        landed_all.iter().filter(|l| !l.resolution).map(|l| l.position).collect();
    let broken =
        observe::invariants(&admin, &market, &after, &crash_positions, &may_be_liquidated, &liquidated)
            .await?;
    result.broken.extend(broken);
    let all: HashSet<Pubkey> = after.positions.keys().copied().collect();
    let (left, bad) = observe::open_work(&after, &all);
    let stuck: HashSet<Pubkey> = left.union(&bad).copied().collect();
    if !stuck.is_empty() {
        observe::dump_positions(&admin, &market.key, &stuck, work).await?;
        result.broken.push(format!(
            "accounts of the {} position(s) left: {}/stuck-*.json",
            stuck.len(),
            work.display()
        ));
    }
    if clear_secs.is_none() {
        result.broken.push(format!("not cleared within {:?}", s.timeout));
    }
    for u in &users {
        if let Some(why) = load::audit(&admin, &market, u).await? {
            result.broken.push(format!("load user: {why}"));
        }
    }
    if result.worst_liquidation_usd < 0.0 {
        result.broken.push(format!("a liquidation lost its keeper ${:.4}", -result.worst_liquidation_usd));
    }
    drop(validator);
    Ok(result)
}
