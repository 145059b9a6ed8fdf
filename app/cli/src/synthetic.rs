//! A synthetic market for the keeper's benchmark and tests: reserves, fresh oracle accounts and
//! position accounts as `getProgramAccounts` would return them, without a cluster.
use std::collections::HashMap;

use anchor_lang::prelude::Pubkey;
use anchor_lang::Discriminator;
use ballast::state::{Market, Position, PositionSlot, Reserve};
use ballast_sdk::health::OracleAccount;
use ballast_sdk::params::{default_interest, default_oracle, default_risk};

/// The unix time the synthetic prices are fresh at.
pub const NOW: i64 = 1_800_000_000;

/// (decimals, price in dollars × 1e8): a 9-decimal crypto asset, a stablecoin, two stocks.
pub const ASSETS: [(u8, i64); 4] = [(9, 100_00000000), (6, 1_00000000), (8, 250_00000000), (6, 33_50000000)];

pub struct SyntheticMarket {
    pub market: Market,
    pub keys: Vec<Pubkey>,
    pub reserves: HashMap<Pubkey, Reserve>,
    pub oracles: HashMap<Pubkey, OracleAccount>,
}

/// The pull-feed account reserve `i` pins.
fn oracle_key(i: usize) -> Pubkey {
    Pubkey::new_from_array([i as u8 + 50; 32])
}

fn reserve(i: usize) -> Reserve {
    let mut r: Reserve = bytemuck::Zeroable::zeroed();
    r.decimals = ASSETS[i].0;
    r.oracle = default_oracle([i as u8 + 1; 32], oracle_key(i))
        .to_config()
        .expect("default oracle parameters are in bounds");
    r.risk = default_risk().to_config().expect("default risk parameters are in bounds");
    r.interest = default_interest().to_config().expect("default interest parameters are in bounds");
    r.borrow_index.set(1_050_000_000_000_000_000); // 1.05: interest has accrued before
    r.available_liquidity = 1_000_000_000_000_000;
    r.total_deposit_shares = 1_500_000_000_000_000;
    r.total_borrow_shares = 400_000_000_000_000;
    r.last_accrual_ts = NOW - 90; // every check accrues 90 s of interest in its view
    r.set_mint_traits(&ballast::mint_rules::MintTraits::plain(r.decimals), NOW);
    r
}

impl SyntheticMarket {
    /// Four reserves (`ASSETS`), each with a pull feed published one second before `NOW`.
    pub fn new() -> Self {
        let keys: Vec<Pubkey> =
            (0..ASSETS.len()).map(|i| Pubkey::new_from_array([i as u8 + 10; 32])).collect();
        let reserves = keys.iter().enumerate().map(|(i, k)| (*k, reserve(i))).collect();
        let oracles = keys
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
                let key = oracle_key(i);
                (*k, OracleAccount { key, owner: localnet_oracle::ID, data })
            })
            .collect();
        let market = Market {
            admin: Pubkey::default(),
            pending_admin: Pubkey::default(),
            creator: Pubkey::default(),
            fee_receiver: Pubkey::default(),
            market_id: 1,
            reserve_count: ASSETS.len() as u32,
            liquidation_target_health_bps: ballast::constants::DEFAULT_LIQUIDATION_TARGET_HEALTH_BPS,
            dust_debt_usd: ballast::constants::DEFAULT_DUST_DEBT_USD,
            timelock_secs: ballast::constants::DEFAULT_TIMELOCK_SECS,
            stress_shocks_bps: [0; 8],
            pending_stress_shocks_bps: [0; 8],
            stress_shocks_eta: 0,
            pending_liquidation_target_health_bps: 0,
            pending_dust_debt_usd: 0,
            pending_timelock_secs: 0,
            market_config_eta: 0,
            paused: false,
            bump: 255,
        };
        Self { market, keys, reserves, oracles }
    }

    /// A position account's bytes holding `slots` of `(asset index, deposit shares, borrow
    /// shares)`.
    pub fn position(&self, slots: &[(usize, u64, u64)]) -> Vec<u8> {
        let mut p: Position = bytemuck::Zeroable::zeroed();
        for (s, &(asset, deposit_shares, borrow_shares)) in slots.iter().enumerate() {
            p.slots[s] = PositionSlot { reserve: self.keys[asset], deposit_shares, borrow_shares };
        }
        let mut data = Position::DISCRIMINATOR.to_vec();
        data.extend_from_slice(bytemuck::bytes_of(&p));
        data
    }

    /// Shares of `dollars` worth of `asset` (deposit shares are worth 1.0 and debt shares 1.05
    /// tokens in the synthetic reserves; close enough for sizing).
    pub fn units(asset: usize, dollars: u64) -> u64 {
        (dollars as u128 * 10u128.pow(ASSETS[asset].0 as u32) * 100_000_000 / ASSETS[asset].1 as u128) as u64
    }
}

impl Default for SyntheticMarket {
    fn default() -> Self {
        Self::new()
    }
}
