//! The crash benchmark's market and its population: `migrations/crash-bench.toml` bootstrapped
//! on a local validator, its prices posted and kept fresh, lenders' liquidity, and a thousand
//! borrowers (2 to 16 slots, leverage spread up to each asset's limit) built in batched v0
//! transactions with the market's lookup table.
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_spl::token_2022::spl_token_2022::instruction as token_ix;
use ballast::state::{Market as MarketAccount, Position, Reserve};
use ballast_sdk::health::OracleAccount;
use ballast_sdk::rpc::Client;
use ballast_sdk::tx::AddressLookupTableAccount;
use ballast_sdk::{ix, limits, pda, token};
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_system_interface::instruction as system_ix;

use super::send::{fits, send_all, send_each, Job};
use super::Rng;
use crate::bootstrap::{self, MarketFile, Mode};
use crate::publisher;

/// Starting prices (USD) by reserve name; the benchmark's file lists the same sixteen.
pub const START_PRICES: [(&str, f64); 16] = [
    ("SOL", 150.0),
    ("ETH", 3_000.0),
    ("BTC", 60_000.0),
    ("JUP", 0.8),
    ("JTO", 2.5),
    ("USDC", 1.0),
    ("USDT", 1.0),
    ("PYUSD", 1.0),
    ("TSLAx", 250.0),
    ("NVDAx", 120.0),
    ("AAPLx", 200.0),
    ("COINx", 200.0),
    ("SPYx", 550.0),
    ("MSTRx", 300.0),
    ("NFLXx", 650.0),
    ("GOOGLx", 170.0),
];

/// The crash: SOL and a correlated stock (Coinbase) fall together, then a second leg.
pub const FIRST_LEG: [(&str, f64); 2] = [("SOL", 0.70), ("COINx", 0.85)];
pub const SECOND_LEG: [(&str, f64); 2] = [("SOL", 0.90), ("COINx", 0.90)];

/// Deposits (each with its token account's creation and mint) in one transaction.
const DEPOSITS_PER_TRANSACTION: usize = 5;

/// Lamports each borrower gets for its position account's rent and its token accounts'.
const WALLET_LAMPORTS: u64 = 60_000_000;

/// One listed asset as the benchmark uses it.
#[derive(Debug, Clone)]
pub struct Asset {
    pub name: String,
    pub reserve: Pubkey,
    pub keys: ix::ReserveKeys,
    pub decimals: u8,
    pub feed_id: [u8; 32],
    pub price: f64,
    pub borrowable: bool,
}

impl Asset {
    /// Token units worth `usd` at the asset's current price (rounded down).
    pub fn units(&self, usd: f64) -> u64 {
        (usd / self.price * 10f64.powi(self.decimals as i32)).floor() as u64
    }

    /// USD value of `units`.
    pub fn usd(&self, units: u64) -> f64 {
        units as f64 / 10f64.powi(self.decimals as i32) * self.price
    }
}

/// The market on the validator.
pub struct Market {
    pub key: Pubkey,
    pub admin: Arc<Keypair>,
    pub assets: Vec<Asset>,
    pub lookup_table: Pubkey,
    pub tables: Vec<AddressLookupTableAccount>,
}

impl Market {
    pub fn asset(&self, name: &str) -> &Asset {
        self.assets.iter().find(|a| a.name == name).unwrap_or_else(|| panic!("asset {name} listed"))
    }

    fn index(&self, name: &str) -> usize {
        self.assets.iter().position(|a| a.name == name).unwrap_or_else(|| panic!("asset {name} listed"))
    }
}

/// Bootstraps `migrations/crash-bench.toml` with `admin` (funded) and posts the starting prices.
pub async fn bootstrap_market(admin: &Client, root: &Path) -> Result<Market, String> {
    let path = root.join("migrations/crash-bench.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: MarketFile = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let report = bootstrap::bootstrap(admin, &file, Mode::Any).await?;
    let key = bootstrap::parse_pubkey(&report.market, "market")?;
    let lookup_table = bootstrap::parse_pubkey(&report.lookup_table, "lookup table")?;
    let reserves = admin.reserves(&key).await.map_err(|e| e.to_string())?;
    let mut assets = Vec::new();
    for r in &file.reserves {
        let reported =
            report.reserves.iter().find(|x| x.name == r.name).ok_or("reserve missing from report")?;
        let reserve_key = bootstrap::parse_pubkey(&reported.reserve, "reserve")?;
        let reserve = reserves[&reserve_key];
        let price =
            START_PRICES.iter().find(|(n, _)| *n == r.name).ok_or("a starting price for every asset")?.1;
        assets.push(Asset {
            name: r.name.clone(),
            reserve: reserve_key,
            keys: ix::ReserveKeys::from_reserve(reserve_key, &reserve),
            decimals: reserve.decimals,
            feed_id: reserve.oracle.feed_id,
            price,
            borrowable: reserve.risk.borrow_enabled != 0,
        });
    }
    let tables = admin.lookup_tables(&[lookup_table]).await.map_err(|e| e.to_string())?;
    let market = Market { key, admin: Arc::new(admin.payer.insecure_clone()), assets, lookup_table, tables };
    post_prices(admin, &market.assets, &[]).await?;
    Ok(market)
}

/// Posts every asset's price (EMA equal to it) in one or two transactions; with `moves`, only
/// the named assets' (the crash). Returns the slot and signature of the last one.
pub async fn post_prices(
    admin: &Client,
    assets: &[Asset],
    moves: &[(&str, f64)],
) -> Result<(u64, solana_signature::Signature), String> {
    let mut ixs = Vec::new();
    for a in assets {
        if !moves.is_empty() && !moves.iter().any(|(n, _)| *n == a.name) {
            continue;
        }
        let post = publisher::post_instructions(admin, a.feed_id, a.price, a.price, 0.0, -8).await?;
        ixs.extend(post.instructions);
    }
    let mut last = (0, solana_signature::Signature::default());
    for chunk in ixs.chunks(8) {
        let signature = admin.send(chunk, &[]).await.map_err(|e| e.to_string())?;
        let status = admin.rpc.get_signature_statuses(&[signature]).await.map_err(|e| e.to_string())?;
        last = (status.value[0].as_ref().map_or(0, |s| s.slot), signature);
    }
    Ok(last)
}

impl Snapshot {
    /// The same accounts with `assets`' prices (and EMAs) written into their price accounts, as
    /// the program will read them once posted: which positions a price update makes
    /// liquidatable, judged before any keeper can act on it.
    pub fn with_prices(&self, assets: &[Asset]) -> Snapshot {
        let mut oracles = self.oracles.clone();
        for a in assets {
            if let Some(o) = oracles.get_mut(&a.reserve) {
                let Some(m) = localnet_oracle::decode_message(&o.data) else { continue };
                let units = (a.price * 10f64.powi(-m.expo)).round() as i64;
                o.data[73..81].copy_from_slice(&units.to_le_bytes());
                o.data[109..117].copy_from_slice(&units.to_le_bytes());
            }
        }
        Snapshot {
            market: self.market.clone(),
            reserves: self.reserves.clone(),
            oracles,
            positions: self.positions.clone(),
            now: self.now,
        }
    }
}

/// A price move applied to the benchmark's own record of the prices.
pub fn apply_moves(assets: &mut [Asset], moves: &[(&str, f64)]) {
    for (name, factor) in moves {
        if let Some(a) = assets.iter_mut().find(|a| a.name == *name) {
            a.price *= factor;
        }
    }
}

/// Keeps every feed fresh (as Pyth's publishers do) until aborted: a round every 400 ms.
pub fn spawn_publisher(admin: Arc<Client>, market: &Market) -> AbortOnDrop {
    let authority = admin.payer.pubkey();
    let feeds: Vec<publisher::Feed> = market
        .assets
        .iter()
        .map(|a| publisher::Feed {
            account: bootstrap::localnet_feed(&authority, &a.feed_id),
            name: a.name.clone(),
        })
        .collect();
    AbortOnDrop(tokio::spawn(async move {
        let mut walk = publisher::Walk::new(1, 0);
        let mut interval = tokio::time::interval(std::time::Duration::from_millis(400));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(e) = publisher::publish_round(&admin, &feeds, &mut walk).await {
                tracing::warn!(error = %e, "price refresh failed; retrying");
            }
        }
    }))
}

/// A task stopped when this is dropped (however the run ends).
pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What one borrower will hold: deposits (asset index, USD) and debts (asset indexes), and the
/// share of its borrowing limit each debt takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub collateral: Vec<(usize, f64)>,
    pub debts: Vec<usize>,
    pub fraction: f64,
}

impl Plan {
    pub fn slots(&self) -> usize {
        self.collateral.len() + self.debts.len()
    }
}

/// A seeded population of `n` borrowers: 2 to 16 slots (most 2–4, some full), collateral led by
/// SOL or the correlated stock for most, a total of $500–$50,000 (log-uniform), one debt (two
/// from five slots up) among the borrowable assets, borrowing 40–95 % of the limit
/// (most near the top: a crowded market before a crash).
pub fn plan_positions(n: usize, seed: u64, market: &Market) -> Vec<Plan> {
    let mut rng = Rng::new(seed);
    let borrowable: Vec<usize> = (0..market.assets.len()).filter(|&i| market.assets[i].borrowable).collect();
    let stable = ["USDC", "USDT", "PYUSD"].map(|n| market.index(n));
    let (sol, coin) = (market.index("SOL"), market.index("COINx"));
    (0..n)
        .map(|_| {
            let roll = rng.unit();
            let slots = match roll {
                r if r < 0.55 => 2,
                r if r < 0.75 => 3,
                r if r < 0.85 => 4,
                r if r < 0.95 => 5 + rng.below(4) as usize,
                r if r < 0.98 => 9 + rng.below(7) as usize,
                _ => 16,
            };
            let debt_count = if slots >= 5 { 2 } else { 1 };
            let mut debts = Vec::new();
            while debts.len() < debt_count {
                let pick = match rng.unit() {
                    r if r < 0.7 => stable[rng.below(3) as usize],
                    _ => borrowable[rng.below(borrowable.len() as u64) as usize],
                };
                if !debts.contains(&pick) {
                    debts.push(pick);
                }
            }
            let lead = match rng.unit() {
                r if r < 0.45 => sol,
                r if r < 0.65 => coin,
                _ => rng.below(market.assets.len() as u64) as usize,
            };
            let mut held: Vec<usize> = Vec::new();
            if !debts.contains(&lead) {
                held.push(lead);
            }
            while held.len() < slots - debt_count {
                let pick = rng.below(market.assets.len() as u64) as usize;
                if !debts.contains(&pick) && !held.contains(&pick) {
                    held.push(pick);
                }
            }
            let total = 500.0 * 100f64.powf(rng.unit());
            // The lead takes half or more; the rest share what is left.
            let weights: Vec<f64> =
                held.iter().enumerate().map(|(i, _)| if i == 0 { 2.0 } else { rng.unit() + 0.2 }).collect();
            let sum: f64 = weights.iter().sum();
            let collateral = held.iter().zip(&weights).map(|(&a, w)| (a, total * w / sum)).collect();
            Plan { collateral, debts, fraction: 0.95 - 0.55 * rng.unit() * rng.unit() }
        })
        .collect()
}

/// Instructions that give `owner` `units` of `asset` in its associated token account (created
/// if missing, paid by the admin, the mints' localnet authority).
pub fn mint_to(
    market: &Market,
    owner: &Pubkey,
    asset: &Asset,
    units: u64,
) -> Result<Vec<Instruction>, String> {
    let admin = market.admin.pubkey();
    let tp = asset.keys.token_program;
    let ata = token::associated_token_address(owner, &asset.keys.mint, &tp);
    Ok(vec![
        token::create_associated_token_account(&admin, owner, &asset.keys.mint, &tp),
        token_ix::mint_to(&tp, &asset.keys.mint, &ata, &admin, &[], units).map_err(|e| e.to_string())?,
    ])
}

/// The deposit of `units` of `asset` from `owner`'s associated account into its position 0.
pub fn deposit(market: &Market, owner: &Pubkey, asset: &Asset, units: u64) -> Instruction {
    let position = pda::position(&market.key, owner, 0);
    let source = token::associated_token_address(owner, &asset.keys.mint, &asset.keys.token_program);
    ix::deposit(*owner, position, &asset.keys, source, units)
}

/// Everything the validator holds of the market, read at once.
pub struct Snapshot {
    pub market: MarketAccount,
    pub reserves: HashMap<Pubkey, Reserve>,
    pub oracles: HashMap<Pubkey, OracleAccount>,
    pub positions: HashMap<Pubkey, Position>,
    pub now: i64,
}

pub async fn snapshot(client: &Client, market: &Pubkey) -> Result<Snapshot, String> {
    let e = |e: ballast_sdk::rpc::RpcError| e.to_string();
    let account = client.market(market).await.map_err(e)?;
    let reserves = client.reserves(market).await.map_err(e)?;
    let oracles = client.oracles(&reserves).await.map_err(e)?;
    let mut positions = HashMap::new();
    for (key, data) in client.position_accounts(market).await.map_err(e)? {
        positions.insert(
            key,
            ballast_sdk::accounts::position(&data).map_err(|e| format!("position {key}: {e:?}"))?,
        );
    }
    let now = client.now().await.map_err(e)?;
    Ok(Snapshot { market: account, reserves, oracles, positions, now })
}

/// The borrow instruction of `units` of `asset` for `owner`'s position as it stands in `snap`
/// (every slot's reserve and price account, the debt's own slot added).
pub fn borrow(
    market: &Market,
    snap: &Snapshot,
    owner: &Pubkey,
    asset: &Asset,
    units: u64,
) -> Vec<Instruction> {
    let position = pda::position(&market.key, owner, 0);
    let slots = ix::health_reserves(&snap.positions[&position], Some(asset.reserve));
    let remaining = ix::health_accounts(&slots, |r| snap.oracles[r].key);
    let tp = asset.keys.token_program;
    let destination = token::associated_token_address(owner, &asset.keys.mint, &tp);
    vec![
        token::create_associated_token_account(&market.admin.pubkey(), owner, &asset.keys.mint, &tp),
        ix::borrow(*owner, position, &asset.keys, destination, units, remaining),
    ]
}

/// The largest borrow of `asset` the program would take now for `position`, by its own checks.
pub fn borrow_limit(snap: &Snapshot, position: &Pubkey, asset: &Asset) -> u64 {
    let accounts = limits::Accounts {
        market: &snap.market,
        position: &snap.positions[position],
        reserves: &snap.reserves,
        oracles: &snap.oracles,
        now: snap.now,
    };
    let ceiling = snap.reserves[&asset.reserve].available_liquidity;
    limits::largest_passing(ceiling, |a| accounts.borrow(&asset.reserve, a)).0
}

/// Lamports to `to`, batched (20 transfers a transaction).
pub fn fund_jobs(market: &Market, wallets: &[Arc<Keypair>], lamports: u64, label: &str) -> Vec<Job> {
    let admin = market.admin.pubkey();
    wallets
        .chunks(20)
        .enumerate()
        .map(|(i, chunk)| Job {
            label: format!("{label} {i}"),
            instructions: chunk.iter().map(|w| system_ix::transfer(&admin, &w.pubkey(), lamports)).collect(),
            signers: vec![market.admin.clone()],
        })
        .collect()
}

/// The borrowers of `plans`, built: funded, positions opened, deposits made (as many a
/// transaction as fit a packet), then each debt borrowed at its share of the limit the program
/// would allow at that moment. Returns each borrower's wallet and position.
pub async fn build_positions(
    admin: &Client,
    market: &Market,
    plans: &[Plan],
) -> Result<Vec<(Arc<Keypair>, Pubkey)>, String> {
    let wallets: Vec<Arc<Keypair>> = plans.iter().map(|_| Arc::new(Keypair::new())).collect();
    send_all(admin, &market.tables, &fund_jobs(market, &wallets, WALLET_LAMPORTS, "fund borrowers")).await?;
    // Deposits: the first transaction of each wallet opens its position; the rest follow.
    let mut first = Vec::new();
    let mut rest = Vec::new();
    for (w, plan) in wallets.iter().zip(plans) {
        let owner = w.pubkey();
        let mut job = Job {
            label: format!("deposits of {owner}"),
            instructions: vec![ix::open_position(owner, market.key, 0)],
            signers: vec![market.admin.clone(), w.clone()],
        };
        let mut opened = false;
        let mut in_job = 0;
        for &(asset, usd) in &plan.collateral {
            let a = &market.assets[asset];
            let units = a.units(usd).max(1);
            let mut add = mint_to(market, &owner, a, units)?;
            add.push(deposit(market, &owner, a, units));
            let before = job.instructions.len();
            job.instructions.extend(add.clone());
            in_job += 1;
            // A transaction's instruction trace (CPIs included) holds 64 entries; an account
            // creation, a mint and a deposit take about eight.
            if in_job > DEPOSITS_PER_TRANSACTION || !fits(&job, &market.tables) {
                in_job = 1;
                job.instructions.truncate(before);
                let done = std::mem::replace(
                    &mut job,
                    Job {
                        label: format!("deposits of {owner}"),
                        instructions: add,
                        signers: vec![market.admin.clone(), w.clone()],
                    },
                );
                if opened {
                    rest.push(done)
                } else {
                    first.push(done)
                }
                opened = true;
            }
        }
        if opened {
            rest.push(job)
        } else {
            first.push(job)
        }
    }
    send_all(admin, &market.tables, &first).await?;
    send_all(admin, &market.tables, &rest).await?;
    // Debts, one round per debt index (the second's limit depends on the first).
    for round in 0..2 {
        let snap = snapshot(admin, &market.key).await?;
        let mut jobs = Vec::new();
        for (w, plan) in wallets.iter().zip(plans) {
            let Some(&debt) = plan.debts.get(round) else { continue };
            let asset = &market.assets[debt];
            let position = pda::position(&market.key, &w.pubkey(), 0);
            let limit = borrow_limit(&snap, &position, asset);
            // The second debt takes its share of what the first left.
            let units = (limit as f64 * plan.fraction * 0.98) as u64;
            if units == 0 {
                continue;
            }
            jobs.push(Job {
                label: format!("borrow of {} {}", units, asset.name),
                instructions: borrow(market, &snap, &w.pubkey(), asset, units),
                signers: vec![market.admin.clone(), w.clone()],
            });
        }
        // A borrow sized at a snapshot may meet older prices when it lands (the band widens
        // while the validator is busy): it is refused by name and the position keeps less debt.
        let refused = send_each(admin, &market.tables, &jobs).await?;
        if let Some((label, error)) = refused.first() {
            tracing::info!(refused = refused.len(), of = jobs.len(), %label, %error, "borrows refused while building");
        }
    }
    Ok(wallets.iter().map(|w| (w.clone(), pda::position(&market.key, &w.pubkey(), 0))).collect())
}

/// The lenders' side: the admin's position 0 deposits `usd` of each borrowable asset.
pub async fn lend(admin: &Client, market: &Market, usd: f64) -> Result<(), String> {
    let owner = market.admin.pubkey();
    let mut jobs = vec![Job {
        label: "the lender's position".into(),
        instructions: vec![ix::open_position(owner, market.key, 0)],
        signers: vec![market.admin.clone()],
    }];
    for a in market.assets.iter().filter(|a| a.borrowable) {
        let units = a.units(usd);
        let mut instructions = mint_to(market, &owner, a, units)?;
        instructions.push(deposit(market, &owner, a, units));
        jobs.push(Job {
            label: format!("lend {}", a.name),
            instructions,
            signers: vec![market.admin.clone()],
        });
    }
    send_all(admin, &market.tables, &jobs[..1]).await?;
    send_all(admin, &market.tables, &jobs[1..]).await
}
