//! The other users during the crash: wallets that keep depositing USDC, borrowing and repaying
//! USDT and SOL while the keepers work. Each keeps its own books of what its landed transactions
//! moved, so afterwards every balance change is explained by them; every refusal is kept by the
//! program's error name.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use ballast_sdk::rpc::{Client, RpcError};
use ballast_sdk::{pda, token};
use solana_keypair::Keypair;
use solana_signer::Signer;

use super::market::{self, Market};
use super::send::{send_all, Job};
use super::Rng;

/// What one load user holds and owes by its own books, in token units by asset name.
#[derive(Debug, Clone, Default)]
pub struct Books {
    pub wallet: BTreeMap<String, u64>,
    pub deposited: BTreeMap<String, u64>,
    pub borrowed: BTreeMap<String, u64>,
    /// Deposits landed, by asset: each may round a unit down in the protocol's favour.
    pub deposits: BTreeMap<String, u64>,
}

/// A load user: its wallet, its position and its books.
pub struct LoadUser {
    pub wallet: Arc<Keypair>,
    pub position: Pubkey,
    pub books: Books,
}

/// What the load did.
#[derive(Debug, Clone, Default)]
pub struct LoadOutcome {
    pub landed: u64,
    /// Refusals by the program's error name (or the failure's kind when no program refused).
    pub refused: BTreeMap<String, u64>,
}

/// Starting balances: $200,000 of USDC in the wallet, $100,000 of it deposited.
const WALLET_USDC: f64 = 200_000.0;
const DEPOSIT_USDC: f64 = 100_000.0;

/// Funds and opens `n` load users (SOL for fees, USDC, a USDC deposit).
pub async fn setup(admin: &Client, market: &Market, n: usize) -> Result<Vec<LoadUser>, String> {
    let wallets: Vec<Arc<Keypair>> = (0..n).map(|_| Arc::new(Keypair::new())).collect();
    send_all(admin, &market.tables, &market::fund_jobs(market, &wallets, 2_000_000_000, "fund load users"))
        .await?;
    let usdc = market.asset("USDC");
    let (held, put) = (usdc.units(WALLET_USDC), usdc.units(DEPOSIT_USDC));
    let mut jobs = Vec::new();
    for w in &wallets {
        let owner = w.pubkey();
        let mut instructions = vec![ballast_sdk::ix::open_position(owner, market.key, 0)];
        instructions.extend(market::mint_to(market, &owner, usdc, held)?);
        instructions.push(market::deposit(market, &owner, usdc, put));
        jobs.push(Job {
            label: format!("load user {owner}"),
            instructions,
            signers: vec![market.admin.clone(), w.clone()],
        });
    }
    send_all(admin, &market.tables, &jobs).await?;
    Ok(wallets
        .into_iter()
        .map(|wallet| {
            let position = pda::position(&market.key, &wallet.pubkey(), 0);
            let mut books = Books::default();
            books.wallet.insert("USDC".into(), held - put);
            books.deposited.insert("USDC".into(), put);
            books.deposits.insert("USDC".into(), 1);
            LoadUser { wallet, position, books }
        })
        .collect())
}

/// The name a refusal is counted under: the program's error name, else what failed.
fn refusal_name(e: &RpcError) -> String {
    match e {
        RpcError::Program { description, .. } | RpcError::OtherProgram { description, .. } => {
            description.split(':').next().unwrap_or(description).trim().to_string()
        }
        RpcError::Transaction(t) => format!("transaction: {}", t.chars().take(60).collect::<String>()),
        RpcError::Rpc(_) => "rpc".into(),
        RpcError::Account(_) | RpcError::WrongAccount(_) => "account".into(),
    }
}

/// Runs `user` until `stop`: every 300–800 ms one of deposit USDC, borrow USDT or SOL (a tenth
/// of the borrows ask for far more than the position allows, to be refused by name), repay part
/// of a debt. Its books move only with what landed.
pub async fn run_user(
    url: String,
    market: Arc<Market>,
    mut user: LoadUser,
    seed: u64,
    stop: Arc<AtomicBool>,
) -> (LoadUser, LoadOutcome) {
    let client = Client::new(&url, user.wallet.insecure_clone());
    let mut rng = Rng::new(seed);
    let mut outcome = LoadOutcome::default();
    let owner = user.wallet.pubkey();
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(300 + rng.below(500))).await;
        let name = ["USDT", "SOL"][rng.below(2) as usize];
        let asset = market.asset(name).clone();
        let owed = user.books.borrowed.get(name).copied().unwrap_or(0);
        let (op, units) = match rng.below(10) {
            0..=2 => ("deposit", market.asset("USDC").units(100.0 + 900.0 * rng.unit())),
            3..=6 => {
                let greedy = rng.below(10) == 0;
                ("borrow", asset.units(if greedy { 10_000_000.0 } else { 50.0 + 450.0 * rng.unit() }))
            }
            _ if owed > 1 => ("repay", owed / 2),
            _ => continue,
        };
        let result = match op {
            "deposit" => {
                let usdc = market.asset("USDC");
                client.send(&[market::deposit(&market, &owner, usdc, units)], &[]).await
            }
            "borrow" => {
                let snap = match market::snapshot(&client, &market.key).await {
                    Ok(s) => s,
                    Err(_) => continue,
                };
                let mut ixs = market::borrow(&market, &snap, &owner, &asset, units);
                // The user pays for its own token account (the admin does not sign here).
                ixs[0] = token::create_associated_token_account(
                    &owner,
                    &owner,
                    &asset.keys.mint,
                    &asset.keys.token_program,
                );
                client.send(&ixs, &[]).await
            }
            _ => {
                let source =
                    token::associated_token_address(&owner, &asset.keys.mint, &asset.keys.token_program);
                client
                    .send(&[ballast_sdk::ix::repay(owner, user.position, &asset.keys, source, units)], &[])
                    .await
            }
        };
        match result {
            Ok(_) => {
                outcome.landed += 1;
                let b = &mut user.books;
                match op {
                    "deposit" => {
                        *b.wallet.entry("USDC".into()).or_default() -= units;
                        *b.deposited.entry("USDC".into()).or_default() += units;
                        *b.deposits.entry("USDC".into()).or_default() += 1;
                    }
                    "borrow" => {
                        *b.wallet.entry(name.into()).or_default() += units;
                        *b.borrowed.entry(name.into()).or_default() += units;
                    }
                    _ => {
                        *b.wallet.entry(name.into()).or_default() -= units;
                        *b.borrowed.entry(name.into()).or_default() -= units;
                    }
                }
            }
            Err(e) => *outcome.refused.entry(refusal_name(&e)).or_default() += 1,
        }
    }
    (user, outcome)
}

/// Checks one load user against the validator: each token balance is what its books say, its
/// deposits are worth at least what it put in (interest only adds; each deposit may round a unit
/// down) and its debts are what it
/// borrowed less what it repaid, plus at most 1 % of interest. `None` when all holds.
pub async fn audit(client: &Client, market: &Market, user: &LoadUser) -> Result<Option<String>, String> {
    let owner = user.wallet.pubkey();
    let snap = market::snapshot(client, &market.key).await?;
    let position = snap.positions.get(&user.position).ok_or("load user's position missing")?;
    for (name, expected) in &user.books.wallet {
        let a = market.asset(name);
        let ata = token::associated_token_address(&owner, &a.keys.mint, &a.keys.token_program);
        let held = match client.account_data(&ata).await.map_err(|e| e.to_string())? {
            Some(acc) => token::token_account_amount(&acc.data).unwrap_or(0),
            None => 0,
        };
        if held != *expected {
            return Ok(Some(format!(
                "{owner}: wallet holds {held} {name}, its own transactions explain {expected}"
            )));
        }
    }
    for (name, put) in &user.books.deposited {
        let a = market.asset(name);
        let r = &snap.reserves[&a.reserve];
        let shares = position.slots.iter().find(|s| s.reserve == a.reserve).map_or(0, |s| s.deposit_shares);
        let total = r.total_deposit_assets().map_err(|e| format!("{e:?}"))?;
        let worth =
            ballast_risk::shares::amount_for_shares(shares, r.total_deposit_shares, total).unwrap_or(0);
        // Each deposit's shares round down, by less than a unit of value.
        let rounding = user.books.deposits.get(name).copied().unwrap_or(0);
        if worth + rounding < *put {
            return Ok(Some(format!("{owner}: deposit of {name} worth {worth}, {put} put in")));
        }
    }
    for (name, borrowed) in &user.books.borrowed {
        let a = market.asset(name);
        let owes =
            ballast_sdk::health::debt_owed(position, &a.reserve, &snap.reserves[&a.reserve], snap.now)?;
        if owes < *borrowed || owes > borrowed + borrowed / 100 + 1 {
            return Ok(Some(format!("{owner}: owes {owes} {name}, its books say {borrowed} plus interest")));
        }
    }
    Ok(None)
}
