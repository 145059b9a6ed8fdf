//! The keeper bot: scan a market's positions, health-check each with the program's own code,
//! liquidate the unhealthy ones (the most profitable repay/seize pair, `max_repay = u64::MAX`)
//! and resolve bad debt. One bad account or failed request never stops it.
use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use ballast::health::deposits_are_dust;
use ballast::state::{Market, Position, Reserve};
use ballast_risk::fixed::WAD;
use ballast_risk::liquidation::LiquidationError;
use ballast_sdk::health::{
    best_liquidation, position_view, try_plan_pair, LiquidationChoice, OracleAccount, PairRefusal,
    PositionView,
};
use ballast_sdk::rpc::{Client, RpcError, SendOptions};
use ballast_sdk::{accounts, ix, token};
use solana_message::AddressLookupTableAccount;
use solana_signer::Signer;

use crate::metrics::Metrics;
use crate::watch::{MarketCache, Update};

/// What the keeper will do about one position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Liquidate {
        position: Pubkey,
        choice: LiquidationChoice,
    },
    /// The position owes `reserve` and what it still holds is dust.
    ResolveBadDebt {
        position: Pubkey,
        reserve: Pubkey,
    },
}

/// Why the keeper leaves a liquidatable position alone: a metric label
/// (`ballast_keeper_not_liquidated_total{reason}`) and a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// No pair can be repaid and seized now: the slot of `reserve` is not priced fresh (`error`,
    /// the oracle's refusal) and the program repays and seizes only at fresh prices. A new
    /// price makes it liquidatable again.
    PriceNotFresh { reserve: Pubkey, error: String },
    /// Every (repay, seize) pair would lower the position's health, even at no bonus.
    WouldWorsenHealth,
    /// Every pair's amounts round to nothing, or to no whole tokens within the health bounds.
    TooSmall,
    /// No debt to repay against a deposit of another reserve (or the planner's arithmetic
    /// failed).
    NoValidPair,
    /// A transaction for it is in flight already (the keeper rescans when it is done).
    InFlight,
    /// The keeper holds none of the repay token.
    NoBalance,
    /// The planned proceeds less what it repays and the fees are below `--min-profit-usd`.
    BelowMinProfit,
    /// The simulation was refused (another keeper was first, a price moved, no SOL for fees).
    Refused,
    /// `--dry-run`: nothing is sent.
    DryRun,
}

impl Reason {
    /// The metric label.
    pub fn label(&self) -> &'static str {
        match self {
            Reason::PriceNotFresh { .. } => "price_not_fresh",
            Reason::WouldWorsenHealth => "would_worsen_health",
            Reason::TooSmall => "too_small",
            Reason::NoValidPair => "no_valid_pair",
            Reason::InFlight => "in_flight",
            Reason::NoBalance => "no_balance",
            Reason::BelowMinProfit => "below_min_profit",
            Reason::Refused => "refused",
            Reason::DryRun => "dry_run",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::PriceNotFresh { reserve, error } => write!(
                f,
                "the price of reserve {reserve} is not fresh ({error}): the program repays and seizes only at fresh prices"
            ),
            Reason::WouldWorsenHealth => write!(f, "every repay/seize pair would lower its health"),
            Reason::TooSmall => write!(f, "every repay/seize pair rounds to no whole tokens"),
            Reason::NoValidPair => write!(f, "no debt to repay against a deposit of another reserve"),
            Reason::InFlight => write!(f, "a transaction for it is in flight"),
            Reason::NoBalance => write!(f, "the keeper holds none of the repay token"),
            Reason::BelowMinProfit => write!(f, "proceeds less fees below the minimum profit"),
            Reason::Refused => write!(f, "the simulation was refused"),
            Reason::DryRun => write!(f, "dry run"),
        }
    }
}

/// A liquidatable position a scan found no liquidation for, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passed {
    pub position: Pubkey,
    pub reason: Reason,
    /// Its health factor (scaled by 1e9) as the scan priced it.
    pub health_factor: Option<u128>,
}

/// The outcome of checking a batch of positions.
#[derive(Debug, Default)]
pub struct Scan {
    pub scanned: u64,
    /// Positions with debt whose prices were missing or refused (stale, bad oracle).
    pub unpriced: u64,
    pub actions: Vec<Action>,
    /// Every position whose maintenance figures are liquidatable (acted on or not).
    pub liquidatable: Vec<Pubkey>,
    /// The liquidatable positions with no action, each with the reason.
    pub passed: Vec<Passed>,
}

/// Decodes `positions` and decides, for each, what to do at unix time `now`. Pure: the keeper
/// and its benchmark call exactly this.
pub fn scan_positions<'a>(
    market: &Market,
    positions: impl IntoIterator<Item = (&'a Pubkey, &'a [u8])>,
    reserves: &HashMap<Pubkey, Reserve>,
    oracles: &HashMap<Pubkey, OracleAccount>,
    now: i64,
) -> Scan {
    let mut scan = Scan::default();
    for (key, data) in positions {
        let Ok(position) = accounts::position(data) else { continue };
        scan.scanned += 1;
        if !position.has_debt() {
            continue;
        }
        let resolve = |scan: &mut Scan| {
            for slot in position.slots.iter().filter(|s| s.borrow_shares > 0) {
                scan.actions.push(Action::ResolveBadDebt { position: *key, reserve: slot.reserve });
            }
        };
        if position.slots.iter().all(|s| s.deposit_shares == 0) {
            resolve(&mut scan);
            continue;
        }
        match position_view(market, &position, reserves, oracles, now) {
            Ok(view) => {
                let liquidatable = view.health.is_liquidatable();
                if liquidatable {
                    scan.liquidatable.push(*key);
                }
                if let Some(choice) = best_liquidation(market, &view) {
                    scan.actions.push(Action::Liquidate { position: *key, choice });
                } else if deposits_are_dust(&view.slots, market.dust_debt_usd as u128 * WAD).unwrap_or(false)
                {
                    resolve(&mut scan);
                } else if liquidatable {
                    scan.passed.push(Passed {
                        position: *key,
                        reason: refusal(market, &view),
                        health_factor: view.health.health_factor(),
                    });
                }
            }
            Err(_) => scan.unpriced += 1,
        }
    }
    scan
}

/// Why no pair of a liquidatable `view` can be liquidated: the most actionable of the pairs'
/// refusals (a price that is not fresh, then rounding, then health, then no pair at all).
pub fn refusal(market: &Market, view: &PositionView) -> Reason {
    let rank = |r: &Reason| match r {
        Reason::PriceNotFresh { .. } => 3,
        Reason::TooSmall => 2,
        Reason::WouldWorsenHealth => 1,
        _ => 0,
    };
    let mut why = Reason::NoValidPair;
    for repay in view.slots.iter().filter(|s| s.debt_amount > 0) {
        for seize in view.slots.iter().filter(|s| s.deposit_amount > 0) {
            let reason = match try_plan_pair(market, view, repay, seize) {
                Err(PairRefusal::NotFresh { reserve, error }) => Reason::PriceNotFresh {
                    reserve,
                    error: ballast_sdk::errors::describe(error.into())
                        .unwrap_or_else(|| format!("{error:?}")),
                },
                Err(PairRefusal::Plan(LiquidationError::WorsensHealth)) => Reason::WouldWorsenHealth,
                Err(PairRefusal::Plan(LiquidationError::TooSmall)) => Reason::TooSmall,
                _ => continue,
            };
            if rank(&reason) > rank(&why) {
                why = reason;
            }
        }
    }
    why
}

/// Liquidatable positions by how many consecutive scans they have been so: a position that
/// stays liquidatable for `stuck_after` scans is stuck (a warning and
/// `ballast_keeper_stuck_positions`), and each position's last reason is kept so that a reason
/// is logged at info level when it first appears, at debug level while it repeats.
#[derive(Debug, Default)]
pub struct Watchlist {
    streaks: HashMap<Pubkey, (u32, Option<&'static str>)>,
}

impl Watchlist {
    /// Takes one scan's liquidatable positions in: their streaks grow, every other streak ends.
    /// Returns the positions whose streak reaches `stuck_after` with this scan (each once per
    /// streak), with it.
    pub fn record(&mut self, liquidatable: &[Pubkey], stuck_after: u32) -> Vec<Pubkey> {
        let now: HashSet<&Pubkey> = liquidatable.iter().collect();
        self.streaks.retain(|k, _| now.contains(k));
        let mut newly_stuck = Vec::new();
        for key in liquidatable {
            let (scans, _) = self.streaks.entry(*key).or_insert((0, None));
            *scans += 1;
            if *scans == stuck_after.max(1) {
                newly_stuck.push(*key);
            }
        }
        newly_stuck
    }

    /// Consecutive scans `position` has been liquidatable (0: it is not).
    pub fn scans(&self, position: &Pubkey) -> u32 {
        self.streaks.get(position).map_or(0, |(n, _)| *n)
    }

    /// Positions liquidatable for at least `stuck_after` consecutive scans.
    pub fn stuck(&self, stuck_after: u32) -> usize {
        self.streaks.values().filter(|(n, _)| *n >= stuck_after.max(1)).count()
    }

    /// Notes `reason` (a label) for `position`; true when it differs from the last one noted in
    /// this streak (the one to log at info level).
    pub fn note(&mut self, position: &Pubkey, reason: &'static str) -> bool {
        let last = &mut self.streaks.entry(*position).or_insert((0, None)).1;
        let changed = *last != Some(reason);
        *last = Some(reason);
        changed
    }

    /// The last reason noted for `position` in its streak.
    pub fn reason(&self, position: &Pubkey) -> Option<&'static str> {
        self.streaks.get(position).and_then(|(_, r)| *r)
    }
}

/// One keeper's part of a large market: shard `index` of `count` takes the positions whose key,
/// read as a big-endian number, falls in the `index`-th of `count` equal ranges. Several keepers
/// with `--shard 0/3`, `1/3`, `2/3` cover every position exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Every position.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Parses `i/n` (`0 ≤ i < n`).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text.split_once('/').ok_or_else(|| format!("--shard {text}: expected i/n, e.g. 0/3"))?;
        let parse = |v: &str| v.trim().parse::<u32>().map_err(|e| format!("--shard {text}: {e}"));
        let (index, count) = (parse(i)?, parse(n)?);
        if count == 0 || index >= count {
            return Err(format!("--shard {text}: need 0 <= i < n"));
        }
        Ok(Shard { index, count })
    }

    /// Whether `key` is this shard's.
    pub fn owns(&self, key: &Pubkey) -> bool {
        let head = u64::from_be_bytes(key.to_bytes()[..8].try_into().expect("8 bytes"));
        // The range of `head`: floor(head × count / 2^64).
        ((head as u128 * self.count as u128) >> 64) as u32 == self.index
    }
}

#[derive(Debug, Clone)]
pub struct KeeperConfig {
    /// The positions this keeper looks after.
    pub shard: Shard,
    pub market: Pubkey,
    pub interval: Duration,
    pub dry_run: bool,
    /// Stop after one scan (and its transactions).
    pub once: bool,
    /// The market's address lookup tables (v0 transactions load the market's accounts from
    /// them; without one, a position of more than a few slots does not fit a packet).
    pub lookup_tables: Vec<Pubkey>,
    /// The most the keeper bids per compute unit, micro-lamports (0: no priority fee).
    pub max_compute_unit_price: u64,
    /// The least it bids (a floor under quiet recent fees), micro-lamports.
    pub min_compute_unit_price: u64,
    /// The least a liquidation must earn after fees to be sent, WAD USD.
    pub min_profit: u128,
    /// Where to subscribe to account changes; `None`: a full `getProgramAccounts` load at
    /// every scan.
    pub websocket_url: Option<String>,
    /// How often the full load is repeated while the websocket is up.
    pub full_load_interval: Duration,
    /// Transactions in flight at once (each for a different position).
    pub max_in_flight: usize,
    /// A position liquidatable for this many consecutive scans is stuck: a warning and
    /// `ballast_keeper_stuck_positions`.
    pub stuck_scans: u32,
}

/// Why a liquidation sent (or simulated) failed, as operators count it: `race lost` when another
/// keeper got there first (the position is healthy again, or a slot the transaction named has
/// gone), `blockhash expired`, `compute exceeded`, else `other`.
pub fn failure_reason(e: &RpcError) -> &'static str {
    use ballast::error::BallastError;
    let code = |c: BallastError| anchor_lang::error::ERROR_CODE_OFFSET + c as u32;
    match e {
        RpcError::Program { code: c, .. }
            if [code(BallastError::NotLiquidatable), code(BallastError::RemainingAccountsMismatch)]
                .contains(c) =>
        {
            "race lost"
        }
        RpcError::Transaction(t) if t.to_ascii_lowercase().contains("blockhash") => "blockhash expired",
        // The runtime's words: "Computational budget exceeded" (an instruction ran out), or the
        // log's "exceeded CUs meter at BPF instruction".
        RpcError::Transaction(t) | RpcError::Rpc(t)
            if t.to_ascii_lowercase().contains("computational budget exceeded")
                || t.contains("exceeded CUs") =>
        {
            "compute exceeded"
        }
        _ => "other",
    }
}

/// Whether a liquidation planned to earn `profit` (WAD USD) is worth its `fee` (WAD USD; `None`
/// when the fee cannot be valued) under the keeper's `min_profit`.
pub fn worth_sending(profit: u128, fee: Option<u128>, min_profit: u128) -> bool {
    profit.saturating_sub(fee.unwrap_or(0)) >= min_profit && fee.is_none_or(|f| profit >= f)
}

/// The wrapped-SOL mint (fees are paid in SOL; its reserve's price values them).
pub const NATIVE_MINT: Pubkey = anchor_lang::pubkey!("So11111111111111111111111111111111111111112");

/// `lamports` in WAD USD at the price of the market's wrapped-SOL reserve (rounded up), when
/// the market lists one and its price is fresh at `now` (a stale price falls back to a decayed
/// value, which would understate the fee).
pub fn lamports_usd(
    reserves: &HashMap<Pubkey, Reserve>,
    oracles: &HashMap<Pubkey, OracleAccount>,
    now: i64,
    lamports: u64,
) -> Option<u128> {
    let (key, _) = reserves.iter().find(|(_, r)| r.mint == NATIVE_MINT)?;
    token_usd(reserves, oracles, now, key, lamports, ballast_risk::fixed::Rounding::Up)
}

/// `amount` base units of `key`'s token in WAD USD at its price, when the price is fresh at
/// `now` (the program's own pricing path).
pub fn token_usd(
    reserves: &HashMap<Pubkey, Reserve>,
    oracles: &HashMap<Pubkey, OracleAccount>,
    now: i64,
    key: &Pubkey,
    amount: u64,
    rounding: ballast_risk::fixed::Rounding,
) -> Option<u128> {
    let reserve = reserves.get(key)?;
    let oracle = oracles.get(key)?;
    let slot = ballast::state::PositionSlot { reserve: *key, deposit_shares: 1, ..Default::default() };
    let priced = ballast::health::price_slot_from_oracle(
        &slot,
        reserve,
        &oracle.key,
        &oracle.owner,
        &oracle.data,
        now,
    )
    .ok()
    .filter(|p| matches!(p.pricing, ballast::health::Pricing::Fresh))?;
    let p = priced.price;
    ballast_risk::value::usd_value(amount, reserve.decimals, p.price, p.expo, rounding).ok()
}

/// What the keeper's logs call the market's assets: each mint's symbol (its Token-2022
/// metadata, else its Metaplex metadata: `Client::mint_symbols`), else the mint's address.
#[derive(Debug, Clone, Default)]
pub struct Names {
    symbols: HashMap<Pubkey, String>,
    asked: HashSet<Pubkey>,
}

impl Names {
    /// Names `mint` `symbol`.
    pub fn insert(&mut self, mint: Pubkey, symbol: String) {
        self.asked.insert(mint);
        self.symbols.insert(mint, symbol);
    }

    /// Reads the symbols of the mints of `reserves` not asked for yet (a failed read is retried
    /// at the next load; the logs show addresses meanwhile).
    async fn learn(&mut self, client: &Client, reserves: &HashMap<Pubkey, Reserve>) {
        let missing: Vec<Pubkey> =
            reserves.values().map(|r| r.mint).filter(|m| !self.asked.contains(m)).collect();
        if missing.is_empty() {
            return;
        }
        match client.mint_symbols(&missing).await {
            Ok(found) => {
                self.asked.extend(missing);
                self.symbols.extend(found);
            }
            Err(e) => tracing::debug!(error = %e, "mint symbols not read; logs show mint addresses"),
        }
    }

    /// The asset of reserve `key`: its symbol, else its mint (else the reserve, if unknown).
    pub fn asset(&self, reserves: &HashMap<Pubkey, Reserve>, key: &Pubkey) -> String {
        match reserves.get(key) {
            Some(r) => self.symbols.get(&r.mint).cloned().unwrap_or_else(|| r.mint.to_string()),
            None => format!("reserve {key}"),
        }
    }

    /// `units` base units of reserve `key` in tokens with the asset's name and, at a fresh
    /// price, in USD: `68.184955 USDC ($68.18)`.
    pub fn amount(&self, state: &MarketState<'_>, key: &Pubkey, units: u64) -> String {
        let Some(reserve) = state.reserves.get(key) else {
            return format!("{units} base units of reserve {key}");
        };
        let rounding = ballast_risk::fixed::Rounding::Down;
        let usd = token_usd(state.reserves, state.oracles, state.now, key, units, rounding)
            .map(|v| format!(" (${:.2})", v as f64 / WAD as f64))
            .unwrap_or_default();
        let tokens = crate::amounts::format_amount(units, reserve.decimals);
        format!("{tokens} {}{usd}", self.asset(state.reserves, key))
    }

    /// `reason` in words, its asset named.
    pub fn reason(&self, reserves: &HashMap<Pubkey, Reserve>, reason: &Reason) -> String {
        match reason {
            Reason::PriceNotFresh { reserve, error } => format!(
                "the price of {} is not fresh ({error}): the program repays and seizes only at fresh prices",
                self.asset(reserves, reserve)
            ),
            other => other.to_string(),
        }
    }
}

/// An error on one line, for a log line: the program's log lines the SDK appends are joined.
pub fn one_line(e: &RpcError) -> String {
    e.to_string().replace("\nprogram log:\n  ", "; program log: ").replace("\n  ", " | ")
}

/// The instructions of one liquidation by `keeper`: its associated token account for the
/// seized mint (created if missing), then `liquidate` with every slot's (reserve, oracle) pair,
/// always last.
pub fn liquidation_instructions(
    keeper: Pubkey,
    state: &MarketState<'_>,
    position_key: Pubkey,
    position: &Position,
    choice: &LiquidationChoice,
    max_repay: u64,
) -> Result<Vec<Instruction>, RpcError> {
    let MarketState { key: market_key, reserves, oracles, .. } = *state;
    let repay = reserves
        .get(&choice.repay_reserve)
        .ok_or_else(|| RpcError::Account("repay reserve unknown".into()))?;
    let seize = reserves
        .get(&choice.seize_reserve)
        .ok_or_else(|| RpcError::Account("seize reserve unknown".into()))?;
    let repay_keys = ix::ReserveKeys::from_reserve(choice.repay_reserve, repay);
    let seize_keys = ix::ReserveKeys::from_reserve(choice.seize_reserve, seize);
    let source = token::associated_token_address(&keeper, &repay.mint, &repay.token_program);
    let destination = token::associated_token_address(&keeper, &seize.mint, &seize.token_program);
    let slot_reserves = ix::health_reserves(position, None);
    if let Some(r) = slot_reserves.iter().find(|r| !oracles.contains_key(r)) {
        return Err(RpcError::Account(format!("no oracle for reserve {r}")));
    }
    let remaining = ix::health_accounts(&slot_reserves, |r| oracles[r].key);
    Ok(vec![
        token::create_associated_token_account(&keeper, &keeper, &seize.mint, &seize.token_program),
        ix::liquidate(
            keeper,
            market_key,
            position_key,
            ix::LiquidationSides {
                repay: &repay_keys,
                source,
                seize: &seize_keys,
                destination,
                into_position: None,
            },
            max_repay,
            remaining,
        ),
    ])
}

/// Runs the keeper until stopped (or after one scan, and its transactions, with `once`).
///
/// The market is loaded in full, then followed over the websocket when one is configured: a
/// change wakes the keeper, which rescans at most once per `interval`; so does the end of each of
/// its own transactions (a partial liquidation can leave the position liquidatable, and nothing
/// else may change until its price is too old to liquidate at). While the websocket is down (or
/// without one) every scan is a full load, and even while it is up the full load repeats every
/// `full_load_interval`. Failures back off exponentially, up to 10 s.
///
/// Errors: with `once`, a failed scan; always, a market address that holds no market (at the
/// first load: it never becomes one, so the keeper stops instead of retrying).
pub async fn run(client: Arc<Client>, config: KeeperConfig, metrics: Arc<Metrics>) -> Result<(), RpcError> {
    let config = Arc::new(config);
    let (updates_tx, mut updates) = tokio::sync::mpsc::unbounded_channel();
    let connected = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut follower: Option<(tokio::task::JoinHandle<()>, BTreeSet<Pubkey>)> = None;
    let mut cache: Option<MarketCache> = None;
    let mut last_load = Instant::now();
    let mut in_flight = InFlight::new(config.max_in_flight);
    let finished = in_flight.finished.clone();
    let watchlist = Arc::new(Mutex::new(Watchlist::default()));
    let mut names = Names::default();
    let mut backoff = config.interval;
    loop {
        let started = Instant::now();
        let live = connected.load(Ordering::Relaxed);
        let reload = cache.is_none() || !live || last_load.elapsed() >= config.full_load_interval;
        let step = async {
            if reload {
                let loaded = MarketCache::load(&client, config.market, &config.lookup_tables).await?;
                Metrics::add(&metrics.full_loads, 1);
                last_load = Instant::now();
                // Updates queued before the load are older than it.
                while updates.try_recv().is_ok() {}
                names.learn(&client, &loaded.reserves).await;
                cache = Some(loaded);
            }
            let cache = cache.as_ref().expect("loaded above");
            let mut scan = ScanState {
                in_flight: &mut in_flight,
                watchlist: &watchlist,
                names: &names,
                updates: &updates_tx,
            };
            scan_and_act(&client, &config, cache, &metrics, &mut scan).await
        };
        match step.await {
            Ok(()) => {
                metrics.scan_done(started.elapsed().as_secs_f64());
                backoff = config.interval;
            }
            Err(e) => {
                Metrics::add(&metrics.scan_errors, 1);
                if config.once || (cache.is_none() && matches!(e, RpcError::WrongAccount(_))) {
                    in_flight.finish().await;
                    return Err(e);
                }
                let error = one_line(&e);
                tracing::warn!(%error, backoff_ms = backoff.as_millis() as u64, "scan failed; retrying");
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
        if config.once {
            in_flight.finish().await;
            return Ok(());
        }
        // (Re)subscribe when the websocket task ended or the price accounts to follow changed.
        if let (Some(url), Some(c)) = (&config.websocket_url, &cache) {
            let watched = c.watched_accounts();
            let current = follower.as_ref().is_some_and(|(task, w)| !task.is_finished() && *w == watched);
            if !current {
                if let Some((task, _)) = follower.take() {
                    task.abort();
                }
                connected.store(false, Ordering::Relaxed);
                let task =
                    spawn_follower(url.clone(), c.key, watched.clone(), &updates_tx, &connected, &metrics);
                follower = Some((task, watched));
            }
        }
        // Sleep until something changed, one of its transactions ended, or the interval passed
        // without a websocket; then take in everything that arrived.
        let wait = if connected.load(Ordering::Relaxed) {
            config.full_load_interval.saturating_sub(last_load.elapsed()).max(backoff)
        } else {
            backoff
        };
        tokio::select! {
            Some(update) = updates.recv() => {
                if let Some(c) = cache.as_mut() {
                    Metrics::add(&metrics.updates_received, 1);
                    c.apply(update);
                }
            }
            _ = finished.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
        tokio::time::sleep(config.interval.saturating_sub(started.elapsed())).await;
        while let Ok(update) = updates.try_recv() {
            if let Some(c) = cache.as_mut() {
                Metrics::add(&metrics.updates_received, 1);
                c.apply(update);
            }
        }
    }
}

/// Follows the market over the websocket until the connection drops; the keeper then falls
/// back to full loads and resubscribes after its next scan.
fn spawn_follower(
    url: String,
    market: Pubkey,
    watched: BTreeSet<Pubkey>,
    updates: &tokio::sync::mpsc::UnboundedSender<Update>,
    connected: &Arc<std::sync::atomic::AtomicBool>,
    metrics: &Arc<Metrics>,
) -> tokio::task::JoinHandle<()> {
    let (updates, connected, metrics) = (updates.clone(), connected.clone(), metrics.clone());
    tokio::spawn(async move {
        let on_subscribed = || {
            connected.store(true, Ordering::Relaxed);
            metrics.websocket_connected.set(1);
            tracing::info!(%url, accounts = watched.len(), "following the market over the websocket");
        };
        let result = crate::watch::follow(&url, market, &watched, updates, on_subscribed).await;
        connected.store(false, Ordering::Relaxed);
        metrics.websocket_connected.set(0);
        if let Err(e) = result {
            tracing::warn!(error = %e, "websocket down: full getProgramAccounts loads until it is back");
        }
    })
}

/// The transactions in flight: at most `max` at once, never two for one position. The end of
/// each (its position free again) is signalled on `finished`.
struct InFlight {
    permits: Arc<tokio::sync::Semaphore>,
    positions: Arc<Mutex<HashSet<Pubkey>>>,
    tasks: tokio::task::JoinSet<()>,
    finished: Arc<tokio::sync::Notify>,
}

impl InFlight {
    fn new(max: usize) -> Self {
        Self {
            permits: Arc::new(tokio::sync::Semaphore::new(max.max(1))),
            positions: Arc::new(Mutex::new(HashSet::new())),
            tasks: tokio::task::JoinSet::new(),
            finished: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Starts `work` for `position` unless one is in flight for it already (waits for a free
    /// permit first). Returns whether it started.
    async fn start(&mut self, position: Pubkey, work: impl Future<Output = ()> + Send + 'static) -> bool {
        while self.tasks.try_join_next().is_some() {}
        if !self.positions.lock().expect("not poisoned").insert(position) {
            return false;
        }
        let permit = self.permits.clone().acquire_owned().await.expect("never closed");
        let (positions, finished) = (self.positions.clone(), self.finished.clone());
        self.tasks.spawn(async move {
            work.await;
            positions.lock().expect("not poisoned").remove(&position);
            drop(permit);
            // Wakes the keeper (or, if it is scanning, its next wait) to rescan the position.
            finished.notify_one();
        });
        true
    }

    async fn finish(&mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

/// What a scan keeps between scans and hands to the transactions it starts.
struct ScanState<'a> {
    in_flight: &'a mut InFlight,
    /// Shared with the transactions, which note the reasons they skip for.
    watchlist: &'a Arc<Mutex<Watchlist>>,
    names: &'a Names,
    updates: &'a tokio::sync::mpsc::UnboundedSender<Update>,
}

/// Logs one liquidatable position left alone for `reason`: at info level when the reason is new
/// for its streak, at debug level while it repeats (a scan every 400 ms must not flood the log).
fn log_left_alone(
    watchlist: &Mutex<Watchlist>,
    position: &Pubkey,
    health_factor: Option<u128>,
    reason: &Reason,
    said: String,
) {
    let health = health_factor.map_or_else(|| "-".to_string(), |h| format!("{:.4}", h as f64 / 1e9));
    let label = reason.label();
    if watchlist.lock().expect("not poisoned").note(position, label) {
        tracing::info!(%position, reason = label, health, "liquidatable, not liquidated: {said}");
    } else {
        tracing::debug!(%position, reason = label, health, "liquidatable, not liquidated: {said}");
    }
}

async fn scan_and_act(
    client: &Arc<Client>,
    config: &Arc<KeeperConfig>,
    cache: &MarketCache,
    metrics: &Arc<Metrics>,
    state: &mut ScanState<'_>,
) -> Result<(), RpcError> {
    let now = client.now().await?;
    let mine = cache.positions.iter().filter(|(key, _)| config.shard.owns(key));
    let scan = scan_positions(
        &cache.market,
        mine.map(|(k, d)| (k, d.as_slice())),
        &cache.reserves,
        &cache.oracles,
        now,
    );
    Metrics::add(&metrics.positions_scanned, scan.scanned);
    Metrics::add(&metrics.positions_unpriced, scan.unpriced);
    metrics.positions_tracked.set(cache.positions.len() as i64);
    tracing::debug!(
        scanned = scan.scanned,
        unpriced = scan.unpriced,
        liquidatable = scan.liquidatable.len(),
        actions = scan.actions.len(),
        left_alone = scan.passed.len(),
        "scan"
    );
    let (newly_stuck, stuck) = {
        let mut watchlist = state.watchlist.lock().expect("not poisoned");
        (watchlist.record(&scan.liquidatable, config.stuck_scans), watchlist.stuck(config.stuck_scans))
    };
    metrics.stuck_positions.set(stuck as i64);
    for passed in &scan.passed {
        metrics.not_liquidated(passed.reason.label());
        let said = state.names.reason(&cache.reserves, &passed.reason);
        log_left_alone(state.watchlist, &passed.position, passed.health_factor, &passed.reason, said);
    }
    let snapshot = Arc::new(Snapshot {
        market: cache.market.clone(),
        key: cache.key,
        reserves: cache.reserves.clone(),
        oracles: cache.oracles.clone(),
        lookup_tables: cache.lookup_tables.clone(),
        names: state.names.clone(),
        now,
    });
    for action in scan.actions {
        let position = match &action {
            Action::Liquidate { position, .. } | Action::ResolveBadDebt { position, .. } => *position,
        };
        let liquidation = matches!(action, Action::Liquidate { .. });
        if liquidation {
            Metrics::add(&metrics.liquidatable_found, 1);
        }
        if config.dry_run {
            let action = snapshot.describe(&action);
            let fresh = state.watchlist.lock().expect("not poisoned").note(&position, Reason::DryRun.label());
            if liquidation {
                metrics.not_liquidated(Reason::DryRun.label());
            }
            if fresh {
                tracing::info!(%position, %action, "dry run: not sent");
            } else {
                tracing::debug!(%position, %action, "dry run: not sent");
            }
            continue;
        }
        // The bytes this scan judged: the plan's accounts come from them, with no second read
        // (a position changed since is refused by the simulation, and rescanned).
        let scanned = cache.positions.get(&position).cloned();
        let (client, config, snapshot, task_metrics, updates, watchlist) = (
            client.clone(),
            config.clone(),
            snapshot.clone(),
            metrics.clone(),
            state.updates.clone(),
            state.watchlist.clone(),
        );
        let work = async move {
            // One failed action never stops the others.
            match act(&client, &config, &snapshot, &action, scanned, &task_metrics, &watchlist).await {
                Ok(true) => {
                    // Its new state at once (the websocket may be slower, or off), so the rescan
                    // this transaction's end wakes sees what it left.
                    if let Ok(Some(account)) = client.account_data(&position).await {
                        let _ = updates.send(Update::Program { key: position, data: account.data });
                    }
                }
                Ok(false) => {}
                Err(e) => {
                    let (action, error) = (snapshot.describe(&action), one_line(&e));
                    tracing::warn!(%position, %action, %error, "action failed");
                }
            }
        };
        if !state.in_flight.start(position, work).await && liquidation {
            metrics.not_liquidated(Reason::InFlight.label());
            let health = None;
            let said = Reason::InFlight.to_string();
            log_left_alone(state.watchlist, &position, health, &Reason::InFlight, said);
        }
    }
    for position in newly_stuck {
        let (scans, reason) = {
            let watchlist = state.watchlist.lock().expect("not poisoned");
            (watchlist.scans(&position), watchlist.reason(&position).unwrap_or("none yet"))
        };
        tracing::warn!(
            %position,
            scans,
            reason,
            "position stuck: liquidatable for {scans} consecutive scans (last: {reason})"
        );
    }
    Ok(())
}

/// What one scan saw, shared by the transactions it starts.
struct Snapshot {
    market: Market,
    key: Pubkey,
    reserves: HashMap<Pubkey, Reserve>,
    oracles: HashMap<Pubkey, OracleAccount>,
    lookup_tables: Vec<AddressLookupTableAccount>,
    names: Names,
    now: i64,
}

impl Snapshot {
    fn state(&self) -> MarketState<'_> {
        MarketState {
            market: &self.market,
            key: self.key,
            reserves: &self.reserves,
            oracles: &self.oracles,
            now: self.now,
        }
    }

    /// `action` in words, for the logs: assets by name, amounts in tokens and USD.
    fn describe(&self, action: &Action) -> String {
        let state = self.state();
        match action {
            Action::Liquidate { choice, .. } => format!(
                "liquidate: repay {}, seize {}",
                self.names.amount(&state, &choice.repay_reserve, choice.plan.repay),
                self.names.amount(&state, &choice.seize_reserve, choice.plan.seize)
            ),
            Action::ResolveBadDebt { reserve, .. } => {
                format!("resolve the bad debt in {}", self.names.asset(&self.reserves, reserve))
            }
        }
    }
}

/// What one scan read of the market.
#[derive(Clone, Copy)]
pub struct MarketState<'a> {
    pub market: &'a Market,
    pub key: Pubkey,
    pub reserves: &'a HashMap<Pubkey, Reserve>,
    pub oracles: &'a HashMap<Pubkey, OracleAccount>,
    /// Unix time the prices are judged at.
    pub now: i64,
}

/// Sends `action` (after checking the balance, simulating and weighing profit against fees for a
/// liquidation). `Ok(true)`: a transaction landed; `Ok(false)`: skipped (counted and logged
/// with its reason).
async fn act(
    client: &Client,
    config: &KeeperConfig,
    snapshot: &Snapshot,
    action: &Action,
    scanned: Option<Vec<u8>>,
    metrics: &Metrics,
    watchlist: &Mutex<Watchlist>,
) -> Result<bool, RpcError> {
    let read_position = |position: Pubkey| async move {
        match scanned.as_deref().map(accounts::position) {
            Some(Ok(p)) => Ok(p),
            _ => client.position(&position).await,
        }
    };
    // Whether `reason` is news for the position (logged at info, else debug).
    let news = |position: &Pubkey, reason: &Reason| {
        watchlist.lock().expect("not poisoned").note(position, reason.label())
    };
    let state = &snapshot.state();
    let MarketState { key: market_key, reserves, oracles, now, .. } = *state;
    let names = &snapshot.names;
    let lookup_tables = snapshot.lookup_tables.clone();
    match action {
        Action::ResolveBadDebt { position, reserve } => {
            let r = reserves
                .get(reserve)
                .ok_or_else(|| RpcError::Account(format!("reserve {reserve} unknown")))?;
            let keys = ix::ReserveKeys::from_reserve(*reserve, r);
            let position_state: Position = read_position(*position).await?;
            let missing =
                ix::health_reserves(&position_state, None).into_iter().find(|r| !oracles.contains_key(r));
            if let Some(r) = missing {
                return Err(RpcError::Account(format!("no oracle for reserve {r}")));
            }
            let remaining = ix::resolve_accounts(&position_state, |r| oracles[r].key);
            let options = SendOptions { loaded_tables: lookup_tables, ..Default::default() };
            let ixn = ix::resolve_bad_debt(market_key, *position, &keys, remaining);
            client.send_v0(&[ixn], &[], &options).await?;
            Metrics::add(&metrics.bad_debt_resolved, 1);
            let asset = names.asset(reserves, reserve);
            tracing::info!(%position, %asset, %reserve, "bad debt resolved");
            Ok(true)
        }
        Action::Liquidate { position, choice } => {
            // Where a liquidation's time goes: reads and simulation, then landing.
            let started = Instant::now();
            let keeper = client.payer.pubkey();
            let fresh = || news(position, &Reason::NoBalance);
            let Some((max_repay, profit, balance)) =
                repay_within_balance(client, state, names, choice, metrics, fresh).await?
            else {
                Metrics::add(&metrics.skipped_no_balance, 1);
                metrics.not_liquidated(Reason::NoBalance.label());
                return Ok(false);
            };
            let position_state: Position = read_position(*position).await?;
            let ixs = liquidation_instructions(keeper, state, *position, &position_state, choice, max_repay)?;
            let liquidate = ixs.last().expect("the liquidation is the last instruction").clone();
            // Bid what recent transactions on the accounts it writes paid, within the ceiling.
            let price = if config.max_compute_unit_price == 0 {
                0
            } else {
                let writable: Vec<Pubkey> =
                    liquidate.accounts.iter().filter(|a| a.is_writable).map(|a| a.pubkey).collect();
                let (floor, ceiling) = (config.min_compute_unit_price, config.max_compute_unit_price);
                client.recent_compute_unit_price(&writable, floor, ceiling).await?
            };
            let options =
                SendOptions { loaded_tables: lookup_tables, compute_unit_price: price, ..Default::default() };
            // Simulate first: a refusal costs nothing, and the fee is known before deciding. A
            // position one liquidation leaves liquidatable (the close factor's share; a health
            // factor no bonus can raise, which only halves) gets up to CHAINED_LIQUIDATIONS in
            // one transaction, each planned by the program on what the one before left; when
            // that is refused (the position was restored sooner) fewer, down to one.
            let mut prepared = Err(RpcError::Transaction("not simulated".into()));
            let mut rounds = 1;
            for tried in chain_ladder(balance, max_repay.min(choice.plan.repay), choice.rounds) {
                rounds = tried;
                let mut chained = ixs.clone();
                chained.extend(std::iter::repeat_n(liquidate.clone(), rounds - 1));
                prepared = client.prepare_v0(&chained, &[], &options).await;
                match &prepared {
                    Ok(_) => break,
                    Err(e) if tried > 1 => {
                        let error = one_line(e);
                        tracing::debug!(%position, rounds = tried, %error, "chained liquidations refused; fewer");
                    }
                    Err(_) => {}
                }
            }
            let prepared = match prepared {
                Ok(p) => p,
                Err(e) => {
                    Metrics::add(&metrics.skipped_refused, 1);
                    metrics.not_liquidated(Reason::Refused.label());
                    let (error, reason, cause) = (one_line(&e), Reason::Refused.label(), failure_reason(&e));
                    if news(position, &Reason::Refused) {
                        tracing::info!(%position, reason, cause, %error, "skipped: the simulation was refused");
                    } else {
                        tracing::debug!(%position, reason, cause, %error, "skipped: the simulation was refused");
                    }
                    return Ok(false);
                }
            };
            let fee = lamports_usd(reserves, oracles, now, prepared.fee_lamports);
            if !worth_sending(profit, fee, config.min_profit) {
                Metrics::add(&metrics.skipped_unprofitable, 1);
                metrics.not_liquidated(Reason::BelowMinProfit.label());
                let (reason, profit_usd) = (Reason::BelowMinProfit.label(), profit as f64 / WAD as f64);
                let (fee_lamports, min_profit_usd) =
                    (prepared.fee_lamports, config.min_profit as f64 / WAD as f64);
                if news(position, &Reason::BelowMinProfit) {
                    tracing::info!(
                        %position,
                        reason,
                        profit_usd,
                        fee_lamports,
                        min_profit_usd,
                        "skipped: proceeds less fees below the minimum"
                    );
                } else {
                    tracing::debug!(
                        %position,
                        reason,
                        profit_usd,
                        fee_lamports,
                        min_profit_usd,
                        "skipped: proceeds less fees below the minimum"
                    );
                }
                return Ok(false);
            }
            Metrics::add(&metrics.liquidations_sent, 1);
            news(position, &Reason::InFlight);
            let sent_at = Instant::now();
            match client.send_simulated(&prepared).await {
                Ok((signature, slot)) => {
                    let prepare_ms = sent_at.duration_since(started).as_millis() as u64;
                    let confirm_ms = sent_at.elapsed().as_millis() as u64;
                    Metrics::add(&metrics.liquidations_landed, 1);
                    metrics.last_compute_unit_price.set(price as i64);
                    let repaid = choice.plan.repay.min(max_repay);
                    tracing::info!(
                        %position,
                        repay = %names.amount(state, &choice.repay_reserve, repaid),
                        seize = %names.amount(state, &choice.seize_reserve, choice.plan.seize),
                        profit_usd = profit as f64 / WAD as f64,
                        bonus_bps = choice.plan.bonus_bps,
                        slots = position_state.occupied_slots(),
                        rounds,
                        compute_unit_limit = prepared.compute_unit_limit,
                        compute_unit_price = price,
                        simulated_units = prepared.simulated_units,
                        %signature,
                        slot,
                        prepare_ms,
                        confirm_ms,
                        "liquidated"
                    );
                    Ok(true)
                }
                Err(e) => {
                    Metrics::add(&metrics.liquidations_failed, 1);
                    let reason = failure_reason(&e);
                    metrics.send_failed(reason);
                    let error = one_line(&e);
                    tracing::warn!(%position, reason, %error, "liquidation sent, failed");
                    Ok(false)
                }
            }
        }
    }
}

/// What the keeper can repay of `choice` from its token account of the repay mint, and the
/// profit of that part: `None` when it holds nothing (a warning names the mint). A balance
/// below the planned repayment repays what it holds (the program scales the seizure) and
/// warns; the balance is exported as a metric either way.
async fn repay_within_balance(
    client: &Client,
    state: &MarketState<'_>,
    names: &Names,
    choice: &LiquidationChoice,
    metrics: &Metrics,
    news: impl FnOnce() -> bool,
) -> Result<Option<(u64, u128, u64)>, RpcError> {
    let repay = state
        .reserves
        .get(&choice.repay_reserve)
        .ok_or_else(|| RpcError::Account("repay reserve unknown".into()))?;
    let source = token::associated_token_address(&client.payer.pubkey(), &repay.mint, &repay.token_program);
    let balance =
        client.account_data(&source).await?.and_then(|a| token::token_account_amount(&a.data)).unwrap_or(0);
    metrics.repay_balance(&repay.mint, balance);
    let (max_repay, profit) = affordable_repay(choice, balance);
    let asset = names.asset(state.reserves, &choice.repay_reserve);
    if max_repay == 0 {
        let planned = names.amount(state, &choice.repay_reserve, choice.plan.repay);
        let (mint, reason) = (repay.mint, Reason::NoBalance.label());
        if news() {
            tracing::warn!(%asset, %mint, account = %source, %planned, reason, "skipped: no tokens to repay with");
        } else {
            tracing::debug!(%asset, %mint, account = %source, %planned, reason, "skipped: no tokens to repay with");
        }
        return Ok(None);
    }
    if max_repay < choice.plan.repay {
        tracing::warn!(
            %asset,
            balance = %names.amount(state, &choice.repay_reserve, balance),
            planned = %names.amount(state, &choice.repay_reserve, choice.plan.repay),
            "repay balance low: repaying what it holds"
        );
    }
    Ok(Some((max_repay, profit, balance)))
}

/// Liquidations of one position one transaction may carry (each with its token transfers, well
/// within the 64-entry instruction trace and the compute limit of a 16-slot position).
pub const CHAINED_LIQUIDATIONS: usize = 4;

/// How many liquidations to try in one transaction, most first: as many as the planner predicts
/// the position needs (`predicted`), and only as many as `balance` covers (each round repays at
/// most what the first does, `first_repay`: the close factor's share of a debt that shrinks).
pub fn chain_ladder(balance: u64, first_repay: u64, predicted: usize) -> Vec<usize> {
    let affordable =
        balance.checked_div(first_repay).map_or(1, |n| n.min(CHAINED_LIQUIDATIONS as u64) as usize);
    let affordable = affordable.min(predicted.max(1));
    match affordable {
        0 | 1 => vec![1],
        2 | 3 => vec![affordable, 1],
        n => vec![n, 2, 1],
    }
}

/// The repayment `balance` allows of `choice`, and the profit of that part (pro rata, rounded
/// down).
pub fn affordable_repay(choice: &LiquidationChoice, balance: u64) -> (u64, u128) {
    let planned = choice.plan.repay;
    if balance >= planned || planned == 0 {
        return (u64::MAX, choice.profit);
    }
    // profit × balance / planned, rounded down (the estimate must not overstate), split so that
    // nothing overflows: the remainder is below `planned` < 2^64, and so is `balance`.
    let (planned, balance_wide) = (planned as u128, balance as u128);
    let profit =
        (choice.profit / planned) * balance_wide + (choice.profit % planned) * balance_wide / planned;
    (balance, profit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::{SyntheticMarket, NOW};

    #[test]
    fn scan_sorts_positions_into_nothing_liquidate_and_bad_debt() {
        let m = SyntheticMarket::new();
        let usd = SyntheticMarket::units;
        let key = |n: u8| Pubkey::new_from_array([n; 32]);
        let positions = [
            (key(1), m.position(&[(0, usd(0, 1_000), 0), (1, 0, usd(1, 400))])), // healthy
            (key(2), m.position(&[(0, usd(0, 1_000), 0), (1, 0, usd(1, 1_000))])), // under water
            (key(3), m.position(&[(1, 0, usd(1, 50))])),                         // debt, no deposit
            (key(4), m.position(&[(2, usd(2, 500), 0)])),                        // no debt
            (key(5), vec![1, 2, 3]),                                             // not a position
            (key(6), m.position(&[(0, usd(0, 1), 0), (1, 0, usd(1, 50))])),      // dust deposit
        ];
        let iter = || positions.iter().map(|(k, d)| (k, d.as_slice()));
        let scan = scan_positions(&m.market, iter(), &m.reserves, &m.oracles, NOW);
        assert_eq!(scan.scanned, 5);
        assert_eq!(scan.unpriced, 0);
        assert_eq!(scan.actions.len(), 3, "{:?}", scan.actions);
        match &scan.actions[0] {
            Action::Liquidate { position, choice } => {
                assert_eq!(*position, key(2));
                assert_eq!((choice.repay_reserve, choice.seize_reserve), (m.keys[1], m.keys[0]));
                assert!(choice.plan.repay > 0 && choice.profit > 0);
            }
            other => panic!("expected a liquidation, got {other:?}"),
        }
        assert_eq!(scan.actions[1], Action::ResolveBadDebt { position: key(3), reserve: m.keys[1] });
        // While its price is fresh, the $1 deposit is liquidated (keepers take what pays).
        assert!(matches!(scan.actions[2], Action::Liquidate { position, .. } if position == key(6)));

        assert_eq!(scan.liquidatable, vec![key(2), key(6)]);
        assert!(scan.passed.is_empty(), "{:?}", scan.passed);

        // Stale prices: positions are judged at their fallback prices, but nothing is repaid or
        // seized at them, so no liquidation is sent; and a deposit without a fresh price is never
        // taken for dust (its value is unknown), so only the position with no deposit resolves.
        let stale = scan_positions(&m.market, iter(), &m.reserves, &m.oracles, NOW + 3_600);
        assert_eq!(stale.unpriced, 0);
        assert_eq!(stale.actions, vec![Action::ResolveBadDebt { position: key(3), reserve: m.keys[1] }]);
        // Both liquidatable positions are left alone, each with the reason.
        assert_eq!(stale.liquidatable, vec![key(2), key(6)]);
        let passed: Vec<(Pubkey, &str)> =
            stale.passed.iter().map(|p| (p.position, p.reason.label())).collect();
        assert_eq!(passed, vec![(key(2), "price_not_fresh"), (key(6), "price_not_fresh")]);
        match &stale.passed[0].reason {
            Reason::PriceNotFresh { reserve, error } => {
                assert_eq!(*reserve, m.keys[1], "the debt's price is checked first");
                assert!(error.starts_with("OracleStale: "), "{error}");
            }
            other => panic!("{other:?}"),
        }
        assert!(stale.passed[0].health_factor.is_some_and(|h| h < 1_000_000_000));
    }

    /// The localnet market's SOL (maintenance haircut 20 %) at `sol_price` dollars and USDC,
    /// with shares worth one token each and no interest to accrue, so positions hold exact amounts.
    fn localnet_like(sol_price: i64) -> SyntheticMarket {
        let mut m = SyntheticMarket::new();
        for key in &m.keys[..2] {
            let r = m.reserves.get_mut(key).unwrap();
            r.borrow_index.set(Reserve::initial_index());
            r.last_accrual_ts = NOW;
            r.total_deposit_shares = r.available_liquidity;
            r.total_borrow_shares = 0;
        }
        let sol = m.reserves.get_mut(&m.keys[0]).unwrap();
        (sol.risk.init_haircut_bps, sol.risk.maint_haircut_bps) = (2_500, 2_000);
        let message = localnet_oracle::PriceMessage {
            feed_id: [1; 32],
            price: sol_price * 100_000_000,
            conf: 0,
            expo: -8,
            publish_time: NOW - 1,
            ema_price: sol_price * 100_000_000,
            ema_conf: 0,
        };
        let oracle = m.oracles.get_mut(&m.keys[0]).unwrap();
        oracle.data = localnet_oracle::encode_price_update(&Pubkey::default(), true, &message, 1);
        m
    }

    /// What the program's `liquidate` does to the position's two slots and the two reserves.
    fn liquidate_as_the_program(m: &mut SyntheticMarket, bytes: &mut Vec<u8>, choice: &LiquidationChoice) {
        let mut position = accounts::position(bytes).unwrap();
        let repay = m.reserves.get_mut(&choice.repay_reserve).unwrap();
        let i = position.find_slot(&choice.repay_reserve).unwrap();
        let (_, burned) = repay.repay_debt(position.slots[i].borrow_shares, choice.plan.repay, NOW).unwrap();
        position.slots[i].borrow_shares -= burned;
        let seize = m.reserves.get_mut(&choice.seize_reserve).unwrap();
        let j = position.find_slot(&choice.seize_reserve).unwrap();
        let burned = seize.deposit_shares_for(choice.plan.seize).unwrap();
        seize.pay_out_deposit(burned, choice.plan.seize, NOW).unwrap();
        position.slots[j].deposit_shares -= burned;
        *bytes = [&bytes[..8], bytemuck::bytes_of(&position)].concat();
    }

    /// Issue 25: "after its own liquidation the keeper left a position at health 0.9973
    /// liquidatable". 10 SOL against 600 USDC with SOL at $70 (health 0.9333): the close factor
    /// lets one liquidation repay half the debt, which leaves exactly 0.9973. The program's own
    /// planner (the keeper plans with it) liquidates that position again: nothing on chain
    /// stops it while the prices are fresh. Past the lag band (20 s after the price) nobody can,
    /// and the scan says why. (What kept the keeper from the second liquidation was its own
    /// loop: the rescan its first liquidation woke found that transaction still in flight, and
    /// nothing woke it again before the price aged out; see
    /// `the_end_of_a_transaction_wakes_the_keeper_with_its_position_free`.)
    #[test]
    fn a_position_left_at_0_9973_by_the_close_factor_is_liquidated_again() {
        let mut m = localnet_like(70);
        let key = Pubkey::new_unique();
        let mut bytes = m.position(&[(0, 10_000_000_000, 0), (1, 0, 600_000_000)]);
        let health = |m: &SyntheticMarket, bytes: &[u8], now| {
            let p = accounts::position(bytes).unwrap();
            let view = position_view(&m.market, &p, &m.reserves, &m.oracles, now).unwrap();
            view.health.health_factor().unwrap() as f64 / 1e9
        };
        assert!((health(&m, &bytes, NOW) - 0.9333).abs() < 1e-4);
        let liquidation = |m: &SyntheticMarket, bytes: &Vec<u8>| {
            let scan = scan_positions(&m.market, [(&key, bytes.as_slice())], &m.reserves, &m.oracles, NOW);
            assert!(scan.passed.is_empty(), "{:?}", scan.passed);
            match scan.actions.as_slice() {
                [Action::Liquidate { choice, .. }] => *choice,
                other => panic!("expected one liquidation, got {other:?}"),
            }
        };
        let first = liquidation(&m, &bytes);
        assert_eq!(first.plan.repay, 300_000_000, "half the debt: the close factor binds");
        assert_eq!(first.rounds, 2, "the planner foresees the second round (so the keeper chains it)");
        liquidate_as_the_program(&mut m, &mut bytes, &first);
        let left = health(&m, &bytes, NOW);
        assert!((0.9972..0.9974).contains(&left), "the reported state: {left}");

        let second = liquidation(&m, &bytes);
        assert!((68_000_000..69_000_000).contains(&second.plan.repay), "{:?}", second.plan);
        assert_eq!(second.rounds, 1, "this one restores it");
        // Past the lag band the same position is liquidatable and nobody can liquidate it.
        let past_band = NOW + 25;
        let stale = scan_positions(&m.market, [(&key, bytes.as_slice())], &m.reserves, &m.oracles, past_band);
        assert!(stale.actions.is_empty());
        assert_eq!(stale.liquidatable, vec![key]);
        assert!(
            matches!(&stale.passed[0].reason, Reason::PriceNotFresh { error, .. } if error.starts_with("OracleBandTooWide")),
            "{:?}",
            stale.passed
        );

        liquidate_as_the_program(&mut m, &mut bytes, &second);
        let restored = health(&m, &bytes, NOW);
        assert!((1.0..=1.0501).contains(&restored), "back to the target health: {restored}");
        let scan = scan_positions(&m.market, [(&key, bytes.as_slice())], &m.reserves, &m.oracles, NOW);
        assert!(scan.actions.is_empty() && scan.liquidatable.is_empty());
    }

    #[test]
    fn a_position_no_bonus_can_restore_is_predicted_to_need_every_round() {
        // SOL at $63: 10 SOL against 600 USDC, solvent at health 0.84; each liquidation keeps
        // the health factor where it is (the bonus bound) and halves the debt.
        let m = localnet_like(63);
        let key = Pubkey::new_unique();
        let bytes = m.position(&[(0, 10_000_000_000, 0), (1, 0, 600_000_000)]);
        let scan = scan_positions(&m.market, [(&key, bytes.as_slice())], &m.reserves, &m.oracles, NOW);
        let [Action::Liquidate { choice, .. }] = scan.actions.as_slice() else {
            panic!("{:?}", scan.actions)
        };
        assert_eq!(choice.rounds, ballast_sdk::health::MAX_ROUNDS_PREDICTED);
    }

    #[test]
    fn a_debt_with_no_collateral_of_another_reserve_has_no_valid_pair() {
        // SOL deposited and SOL borrowed in one slot: liquidatable (10 × 0.8 < 10), but a
        // liquidation repays one reserve and seizes another.
        let m = localnet_like(70);
        let key = Pubkey::new_unique();
        let bytes = m.position(&[(0, 10_000_000_000, 10_000_000_000)]);
        let scan = scan_positions(&m.market, [(&key, bytes.as_slice())], &m.reserves, &m.oracles, NOW);
        assert!(scan.actions.is_empty());
        assert_eq!(scan.passed.len(), 1);
        assert_eq!(scan.passed[0].reason, Reason::NoValidPair);
        assert_eq!(Reason::NoValidPair.label(), "no_valid_pair");
    }

    #[test]
    fn a_position_liquidatable_for_n_scans_is_stuck_once_per_streak() {
        let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
        let mut w = Watchlist::default();
        assert!(w.record(&[a, b], 3).is_empty());
        assert!(w.record(&[a, b], 3).is_empty());
        assert_eq!(w.stuck(3), 0);
        // b healthy again: its streak ends.
        assert_eq!(w.record(&[a], 3), vec![a], "the third scan in a row");
        assert_eq!((w.scans(&a), w.scans(&b)), (3, 0));
        assert_eq!(w.stuck(3), 1);
        assert!(w.record(&[a, b], 3).is_empty(), "warned once per streak");
        assert_eq!(w.scans(&a), 4);
        // A reason is new once per streak (logged at info), then repeats (debug).
        assert!(w.note(&a, "below_min_profit"));
        assert!(!w.note(&a, "below_min_profit"));
        assert!(w.note(&a, "price_not_fresh"), "a new reason is news");
        assert_eq!(w.reason(&a), Some("price_not_fresh"));
        assert!(w.record(&[b], 3).is_empty());
        assert_eq!((w.scans(&a), w.reason(&a), w.stuck(3)), (0, None, 0), "healthy: forgotten");
        assert!(w.note(&a, "price_not_fresh"), "a new streak logs its reason again");
        assert_eq!(w.record(&[a], 1), vec![a], "--stuck-scans 1: stuck at once");
    }

    #[test]
    fn logs_name_assets_by_symbol_with_amounts_in_tokens_and_usd() {
        let mut m = SyntheticMarket::new();
        for r in m.reserves.values_mut() {
            r.mint = Pubkey::new_unique();
        }
        let state = MarketState {
            market: &m.market,
            key: Pubkey::new_unique(),
            reserves: &m.reserves,
            oracles: &m.oracles,
            now: NOW,
        };
        let mut names = Names::default();
        let usdc = m.reserves[&m.keys[1]].mint;
        names.insert(usdc, "USDC".into());
        assert_eq!(names.amount(&state, &m.keys[1], 68_184_955), "68.184955 USDC ($68.18)");
        // Without a symbol: the mint's address; without a fresh price: no USD.
        let sol_mint = m.reserves[&m.keys[0]].mint;
        assert_eq!(
            names.amount(&state, &m.keys[0], 1_500_000_000),
            format!("1.500000000 {sol_mint} ($150.00)")
        );
        let stale = MarketState { now: NOW + 3_600, ..state };
        assert_eq!(names.amount(&stale, &m.keys[1], 1_000_000), "1.000000 USDC");
        let reason = Reason::PriceNotFresh { reserve: m.keys[1], error: "OracleStale: …".into() };
        assert!(names
            .reason(&m.reserves, &reason)
            .starts_with("the price of USDC is not fresh (OracleStale: …)"));
        // An error on one line: the program's log lines joined.
        let e =
            RpcError::Program { code: 6001, description: "X: y".into(), logs: vec!["a".into(), "b".into()] };
        assert_eq!(one_line(&e), "program error 6001: X: y; program log: a | b");
    }

    #[tokio::test]
    async fn the_end_of_a_transaction_wakes_the_keeper_with_its_position_free() {
        let mut in_flight = InFlight::new(2);
        let woken = in_flight.finished.clone();
        let position = Pubkey::new_unique();
        let (done, wait) = tokio::sync::oneshot::channel::<()>();
        assert!(in_flight.start(position, async move { wait.await.unwrap() }).await);
        let quiet = tokio::time::timeout(Duration::from_millis(50), woken.notified()).await;
        assert!(quiet.is_err(), "no wake while it is in flight");
        assert!(!in_flight.start(position, async {}).await, "in flight: not started twice");
        done.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), woken.notified())
            .await
            .expect("its end wakes the keeper, even when it is not waiting yet");
        assert!(in_flight.start(position, async {}).await, "and the rescan can act on the position");
        in_flight.finish().await;
    }

    #[test]
    fn a_liquidation_is_sent_only_when_it_pays_its_fees_and_the_minimum() {
        let usd = |d: u128| d * WAD;
        assert!(worth_sending(usd(10), Some(usd(1)), usd(5)));
        assert!(!worth_sending(usd(10), Some(usd(6)), usd(5)), "10 - 6 < 5");
        assert!(!worth_sending(usd(1), Some(usd(2)), 0), "a loss is never sent");
        assert!(worth_sending(usd(1), Some(usd(1)), 0), "break-even with no minimum");
        assert!(worth_sending(usd(5), None, usd(5)), "fees that cannot be valued count 0");
        assert!(!worth_sending(usd(4), None, usd(5)));
    }

    #[test]
    fn a_sixteen_slot_liquidation_fits_a_packet_only_with_the_market_lookup_table() {
        use ballast::constants::MAX_POSITION_SLOTS;
        use ballast_sdk::tx::AddressLookupTableAccount;
        use ballast_sdk::tx::{
            compute_budget, market_table_addresses, v0_message, wire_size, PACKET_DATA_SIZE,
        };
        let synthetic = SyntheticMarket::new();
        let (market_key, keeper) = (Pubkey::new_unique(), Pubkey::new_unique());
        let mut reserves = HashMap::new();
        let mut oracles = HashMap::new();
        let mut position: Position = bytemuck::Zeroable::zeroed();
        for slot in position.slots.iter_mut() {
            let key = Pubkey::new_unique();
            let mut r = synthetic.reserves[&synthetic.keys[0]];
            (r.mint, r.vault, r.insurance_vault) =
                (Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique());
            r.oracle.price_account = Pubkey::new_unique();
            let data = vec![0; 134]; // never read here
            oracles.insert(
                key,
                OracleAccount { key: r.oracle.price_account, owner: Pubkey::new_unique(), data },
            );
            reserves.insert(key, r);
            *slot = ballast::state::PositionSlot { reserve: key, deposit_shares: 1, borrow_shares: 0 };
        }
        position.slots[0].deposit_shares = 0;
        position.slots[0].borrow_shares = 1;
        assert_eq!(position.occupied_slots(), MAX_POSITION_SLOTS);
        let choice = LiquidationChoice {
            repay_reserve: position.slots[0].reserve,
            seize_reserve: position.slots[1].reserve,
            plan: ballast_risk::liquidation::Liquidation {
                repay: 1,
                seize: 1,
                to_keeper: 1,
                fee: 0,
                bonus_bps: 0,
            },
            profit: 0,
            rounds: 1,
        };
        let state = MarketState {
            market: &synthetic.market,
            key: market_key,
            reserves: &reserves,
            oracles: &oracles,
            now: NOW,
        };
        let mut ixs = compute_budget(200_000, 1_000);
        ixs.extend(
            liquidation_instructions(keeper, &state, Pubkey::new_unique(), &position, &choice, u64::MAX)
                .unwrap(),
        );
        let blockhash = Default::default();
        // Legacy (no table): every account inline, far over the packet.
        let legacy = v0_message(&keeper, &ixs, &[], blockhash).unwrap();
        assert!(wire_size(&legacy) > PACKET_DATA_SIZE, "{} bytes", wire_size(&legacy));
        // With the market's table: the market's accounts become one-byte indexes.
        let table = AddressLookupTableAccount {
            key: Pubkey::new_unique(),
            addresses: market_table_addresses(&market_key, reserves.iter()),
        };
        let v0 = v0_message(&keeper, &ixs, &[table], blockhash).unwrap();
        assert!(wire_size(&v0) <= PACKET_DATA_SIZE, "{} bytes", wire_size(&v0));
        println!(
            "16-slot liquidation: {} bytes without the table, {} with it",
            wire_size(&legacy),
            wire_size(&v0)
        );
    }

    #[test]
    fn a_position_whose_price_account_is_missing_is_still_priced_slot_by_slot() {
        // What `Client::oracles` returns for an account that does not exist: what the program
        // would see, a system-owned account without data.
        let mut m = SyntheticMarket::new();
        let usd = SyntheticMarket::units;
        let gone = m.oracles.get_mut(&m.keys[2]).unwrap();
        (gone.owner, gone.data) = (anchor_lang::system_program::ID, Vec::new());
        let bytes = m.position(&[(0, usd(0, 1_000), 0), (2, usd(2, 500), 0), (1, 0, usd(1, 400))]);
        let position = accounts::position(&bytes).unwrap();
        let view = position_view(&m.market, &position, &m.reserves, &m.oracles, NOW).unwrap();
        use ballast::health::Pricing;
        let pricing = |k: Pubkey| view.slots.iter().find(|s| s.reserve == k).unwrap().pricing;
        assert!(matches!(pricing(m.keys[0]), Pricing::Fresh), "{:?}", pricing(m.keys[0]));
        assert!(matches!(pricing(m.keys[2]), Pricing::NoPrice(_)), "{:?}", pricing(m.keys[2]));
        assert!(!view.health.is_liquidatable(), "$1,000 of fresh collateral still backs $400");
    }

    #[tokio::test]
    async fn transactions_in_flight_are_bounded_and_never_two_for_one_position() {
        use std::sync::atomic::AtomicUsize;
        let (running, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let work = || {
            let (running, peak) = (running.clone(), peak.clone());
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(30)).await;
                running.fetch_sub(1, Ordering::SeqCst);
            }
        };
        let mut in_flight = InFlight::new(2);
        let busy = Pubkey::new_unique();
        assert!(in_flight.start(busy, work()).await);
        assert!(!in_flight.start(busy, work()).await, "one transaction a position");
        for _ in 0..5 {
            assert!(in_flight.start(Pubkey::new_unique(), work()).await);
        }
        in_flight.finish().await;
        assert_eq!(peak.load(Ordering::SeqCst), 2, "never more than the maximum at once");
        assert!(in_flight.start(busy, work()).await, "free again once its transaction is done");
        in_flight.finish().await;
    }

    #[test]
    fn a_keeper_short_of_the_repay_token_repays_what_it_holds() {
        let choice = LiquidationChoice {
            repay_reserve: Pubkey::new_unique(),
            seize_reserve: Pubkey::new_unique(),
            plan: ballast_risk::liquidation::Liquidation {
                repay: 1_000,
                seize: 1_100,
                to_keeper: 1_080,
                fee: 20,
                bonus_bps: 800,
            },
            profit: 80 * WAD,
            rounds: 1,
        };
        assert_eq!(affordable_repay(&choice, 5_000), (u64::MAX, 80 * WAD), "enough: as planned");
        assert_eq!(affordable_repay(&choice, 1_000), (u64::MAX, 80 * WAD));
        assert_eq!(affordable_repay(&choice, 250), (250, 20 * WAD), "a quarter: a quarter of the profit");
        assert_eq!(affordable_repay(&choice, 0), (0, 0), "nothing to repay with");
        // Amounts whose plain product overflows u128: 2^120 × 2^62.
        let huge = LiquidationChoice {
            plan: ballast_risk::liquidation::Liquidation { repay: 1 << 63, ..choice.plan },
            profit: (1u128 << 120) + (1 << 63) - 1,
            ..choice
        };
        let expected = (1u128 << 119) + (1 << 62) - 1; // floor((2^120 + 2^63 - 1) / 2)
        assert_eq!(affordable_repay(&huge, 1 << 62), (1 << 62, expected), "no overflow, rounded down");
    }

    #[test]
    fn liquidations_are_chained_only_as_far_as_the_balance_covers() {
        assert_eq!(chain_ladder(10_000, 100, 4), vec![4, 2, 1]);
        assert_eq!(chain_ladder(10_000, 100, 9), vec![4, 2, 1], "at most CHAINED_LIQUIDATIONS");
        assert_eq!(chain_ladder(10_000, 100, 1), vec![1], "one round restores it: no chain");
        assert_eq!(chain_ladder(10_000, 100, 3), vec![3, 1]);
        assert_eq!(chain_ladder(399, 100, 4), vec![3, 1]);
        assert_eq!(chain_ladder(250, 100, 4), vec![2, 1]);
        assert_eq!(chain_ladder(199, 100, 4), vec![1], "the balance covers one round only");
        assert_eq!(chain_ladder(0, 100, 4), vec![1]);
        assert_eq!(chain_ladder(5, 0, 4), vec![1]);
    }

    #[test]
    fn failed_sends_are_counted_by_reason() {
        use ballast::error::BallastError;
        let program = |e: BallastError| RpcError::Program {
            code: anchor_lang::error::ERROR_CODE_OFFSET + e as u32,
            description: format!("{e:?}"),
            logs: vec![],
        };
        assert_eq!(failure_reason(&program(BallastError::NotLiquidatable)), "race lost");
        assert_eq!(failure_reason(&program(BallastError::RemainingAccountsMismatch)), "race lost");
        assert_eq!(failure_reason(&program(BallastError::LiquidationTooSmall)), "other");
        let expired = RpcError::Transaction("blockhash expired before transaction X landed".into());
        assert_eq!(failure_reason(&expired), "blockhash expired");
        // As the SDK words it: the runtime's own Display of the error.
        let budget = RpcError::Transaction(
            solana_transaction_error::TransactionError::InstructionError(
                2,
                solana_instruction::error::InstructionError::ComputationalBudgetExceeded,
            )
            .to_string(),
        );
        assert_eq!(failure_reason(&budget), "compute exceeded");
        assert_eq!(failure_reason(&RpcError::Rpc("HTTP status server error (503)".into())), "other");
    }

    #[test]
    fn shards_cover_every_position_exactly_once() {
        assert_eq!(Shard::parse("1/3"), Ok(Shard { index: 1, count: 3 }));
        for bad in ["3/3", "1/0", "x/2", "2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let edges = [[0u8; 32], [0xff; 32], [0x55; 32], [0xaa; 32], [0x80; 32]];
        let keys: Vec<Pubkey> = edges
            .into_iter()
            .map(Pubkey::new_from_array)
            .chain((0..2_000).map(|_| Pubkey::new_unique()))
            .collect();
        for count in [1u32, 2, 3, 7] {
            let mut seen = vec![0u32; count as usize];
            for key in &keys {
                let owners: Vec<u32> = (0..count).filter(|&index| Shard { index, count }.owns(key)).collect();
                assert_eq!(owners.len(), 1, "{key} in {owners:?} of {count}");
                seen[owners[0] as usize] += 1;
            }
            assert!(Shard::ALL.owns(&keys[1]));
            // The ranges are contiguous: the lowest key is shard 0's, the highest the last's.
            assert!(Shard { index: 0, count }.owns(&keys[0]));
            assert!(Shard { index: count - 1, count }.owns(&keys[1]));
        }
    }

    #[test]
    fn fees_are_valued_only_at_a_fresh_wrapped_sol_price() {
        let mut m = SyntheticMarket::new();
        assert_eq!(lamports_usd(&m.reserves, &m.oracles, NOW, 1_000_000_000), None, "no wSOL reserve");
        m.reserves.get_mut(&m.keys[0]).unwrap().mint = NATIVE_MINT;
        let one_sol = lamports_usd(&m.reserves, &m.oracles, NOW, 1_000_000_000).unwrap();
        assert!(one_sol > 0);
        assert!(lamports_usd(&m.reserves, &m.oracles, NOW, 5_000).unwrap() < one_sol);
        assert_eq!(lamports_usd(&m.reserves, &m.oracles, NOW + 3_600, 1_000_000_000), None, "stale");
    }
}
