//! Keeper benchmark: decodes and health-checks 10 000 positions with the keeper's own scan
//! (`ballast_cli::keeper::scan_positions`), from account bytes as `getProgramAccounts` returns
//! them, and writes the table to `docs/keeper-bench.md` (or the path given).
use std::collections::HashMap;
use std::fmt::Write;
use std::time::Instant;

use anchor_lang::prelude::Pubkey;
use anchor_lang::Discriminator;
use ballast::state::{Market, Position, PositionSlot, Reserve};
use ballast_cli::keeper::{scan_positions, Action};
use ballast_sdk::health::OracleAccount;
use ballast_sdk::params::{default_interest, default_oracle, default_risk};

const POSITIONS: usize = 10_000;
const NOW: i64 = 1_800_000_000;

/// (decimals, price in dollars × 1e8): a 9-decimal crypto asset, a stablecoin, two stocks.
const ASSETS: [(u8, i64); 4] = [(9, 100_00000000), (6, 1_00000000), (8, 250_00000000), (6, 33_50000000)];

fn reserve(i: usize) -> Reserve {
    let mut r: Reserve = bytemuck::Zeroable::zeroed();
    let (decimals, _) = ASSETS[i];
    r.decimals = decimals;
    r.oracle = default_oracle([i as u8 + 1; 32]).to_config().unwrap();
    r.risk = default_risk().to_config().unwrap();
    r.interest = default_interest().to_config().unwrap();
    r.borrow_index.set(1_050_000_000_000_000_000); // 1.05: interest has accrued before
    r.available_liquidity = 1_000_000_000_000_000;
    r.total_deposit_shares = 1_500_000_000_000_000;
    r.total_borrow_shares = 400_000_000_000_000;
    r.last_accrual_ts = NOW - 90; // every check accrues 90 s of interest in its view
    r
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| format!("{}/../../docs/keeper-bench.md", env!("CARGO_MANIFEST_DIR")));
    let keys: Vec<Pubkey> = (0..ASSETS.len()).map(|i| Pubkey::new_from_array([i as u8 + 10; 32])).collect();
    let reserves: HashMap<Pubkey, Reserve> = keys.iter().enumerate().map(|(i, k)| (*k, reserve(i))).collect();
    let oracles: HashMap<Pubkey, OracleAccount> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let message = localnet_oracle::PriceMessage {
                feed_id: [i as u8 + 1; 32],
                price: ASSETS[i].1,
                conf: 0,
                expo: -8,
                publish_time: NOW - 1,
                ema_price: ASSETS[i].1,
                ema_conf: 0,
            };
            let data = localnet_oracle::encode_price_update(&Pubkey::default(), true, &message, 1);
            (*k, OracleAccount { key: Pubkey::new_unique(), owner: localnet_oracle::ID, data })
        })
        .collect();
    let market = Market {
        admin: Pubkey::default(),
        creator: Pubkey::default(),
        fee_receiver: Pubkey::default(),
        market_id: 1,
        reserve_count: 4,
        liquidation_target_health_bps: 10_500,
        dust_debt_usd: 10,
        bump: 255,
    };

    // Positions: collateral in two or three assets, a debt in the stablecoin; one in twenty is
    // under water. Deterministic, so the counts repeat.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut slots_total = 0;
    let positions: Vec<(Pubkey, Vec<u8>)> = (0..POSITIONS)
        .map(|n| {
            let mut p: Position = bytemuck::Zeroable::zeroed();
            let collateral = [0usize, 2, 3];
            let used = 2 + (next() % 2) as usize;
            let mut value = 0u128; // dollars of collateral
            for (s, &asset) in collateral.iter().take(used).enumerate() {
                let units = 10u64.pow(ASSETS[asset].0 as u32) * (1 + next() % 20);
                value += units as u128 * ASSETS[asset].1 as u128
                    / 10u128.pow(ASSETS[asset].0 as u32)
                    / 100_000_000;
                p.slots[s] = PositionSlot { reserve: keys[asset], deposit_shares: units, borrow_shares: 0 };
            }
            // Debt: 40 % of the collateral, or 110 % for every twentieth position.
            let share = if n % 20 == 0 { 110 } else { 40 };
            let debt_dollars = (value * share / 100) as u64;
            p.slots[used] =
                PositionSlot { reserve: keys[1], deposit_shares: 0, borrow_shares: debt_dollars * 1_000_000 };
            slots_total += used + 1;
            let mut data = Position::DISCRIMINATOR.to_vec();
            data.extend_from_slice(bytemuck::bytes_of(&p));
            (Pubkey::new_unique(), data)
        })
        .collect();

    let mut times = Vec::new();
    let mut found = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let scan = scan_positions(&market, &positions, &reserves, &oracles, NOW);
        times.push(start.elapsed());
        found = scan.actions.iter().filter(|a| matches!(a, Action::Liquidate { .. })).count();
        assert_eq!(scan.scanned as usize, POSITIONS);
        assert_eq!(scan.unpriced, 0);
    }
    times.sort();
    let median = times[times.len() / 2];
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    let mut md = String::new();
    writeln!(md, "# Keeper benchmark\n").unwrap();
    writeln!(md, "Generated by `cargo run --locked -p ballast-cli --bin keeper-bench` (part of").unwrap();
    writeln!(
        md,
        "`scripts/bench.sh`): the keeper's own scan (`ballast_cli::keeper::scan_positions`) decodes"
    )
    .unwrap();
    writeln!(md, "position accounts from their bytes, prices every slot with the program's oracle checks")
        .unwrap();
    writeln!(md, "and interest accrual, aggregates health and plans the best liquidation of every").unwrap();
    writeln!(md, "unhealthy one. One core of this machine; median of 5 runs. Do not edit by hand.\n")
        .unwrap();
    writeln!(md, "| positions | slots | liquidatable found | build | median scan | per position | goal |")
        .unwrap();
    writeln!(md, "|---:|---:|---:|---|---:|---:|---|").unwrap();
    writeln!(
        md,
        "| {POSITIONS} | {slots_total} | {found} | {profile} | {:.1} ms | {:.1} µs | < 1 s: {} |",
        median.as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e6 / POSITIONS as f64,
        if median.as_secs_f64() < 1.0 { "met" } else { "NOT MET" }
    )
    .unwrap();
    std::fs::write(&out, &md).unwrap();
    print!("{md}");
    eprintln!("wrote {out}");
}
