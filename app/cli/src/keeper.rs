//! The keeper bot: scan a market's positions, health-check each with the program's own code,
//! liquidate the unhealthy ones (the most profitable repay/seize pair, `max_repay = u64::MAX`)
//! and resolve bad debt. One bad account or failed request never stops it.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use ballast::health::deposits_are_dust;
use ballast::state::{Market, Position, Reserve};
use ballast_risk::fixed::WAD;
use ballast_sdk::health::{best_liquidation, position_view, LiquidationChoice, OracleAccount};
use ballast_sdk::rpc::{Client, RpcError};
use ballast_sdk::{accounts, ix, token};
use solana_signer::Signer;

use crate::metrics::Metrics;

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

/// The outcome of checking a batch of positions.
#[derive(Debug, Default)]
pub struct Scan {
    pub scanned: u64,
    /// Positions with debt whose prices were missing or refused (stale, bad oracle).
    pub unpriced: u64,
    pub actions: Vec<Action>,
}

/// Decodes `positions` and decides, for each, what to do at unix time `now`. Pure: the keeper
/// and its benchmark call exactly this.
pub fn scan_positions(
    market: &Market,
    positions: &[(Pubkey, Vec<u8>)],
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
                if let Some(choice) = best_liquidation(market, &view) {
                    scan.actions.push(Action::Liquidate { position: *key, choice });
                } else if deposits_are_dust(&view.slots, market.dust_debt_usd as u128 * WAD).unwrap_or(false)
                {
                    resolve(&mut scan);
                }
            }
            Err(_) => scan.unpriced += 1,
        }
    }
    scan
}

#[derive(Debug, Clone)]
pub struct KeeperConfig {
    pub market: Pubkey,
    pub interval: Duration,
    pub dry_run: bool,
    /// Stop after one scan (and its transactions).
    pub once: bool,
}

/// Runs the keeper until stopped (or after one scan with `once`). Scan failures back off
/// exponentially, from the interval up to 10 s.
pub async fn run(client: Client, config: KeeperConfig, metrics: Arc<Metrics>) {
    let mut backoff = config.interval;
    loop {
        let started = Instant::now();
        match scan_and_act(&client, &config, &metrics).await {
            Ok(()) => {
                Metrics::add(&metrics.scans, 1);
                metrics
                    .last_scan_micros
                    .store(started.elapsed().as_micros() as u64, std::sync::atomic::Ordering::Relaxed);
                backoff = config.interval;
            }
            Err(e) => {
                Metrics::add(&metrics.scan_errors, 1);
                tracing::warn!(error = %e, backoff_ms = backoff.as_millis() as u64, "scan failed; retrying");
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
        if config.once {
            return;
        }
        tokio::time::sleep(backoff).await;
    }
}

async fn scan_and_act(client: &Client, config: &KeeperConfig, metrics: &Metrics) -> Result<(), RpcError> {
    let market = client.market(&config.market).await?;
    let reserves = client.reserves(&config.market).await?;
    let oracles = client.oracles(&reserves).await?;
    let positions = client.position_accounts(&config.market).await?;
    let now = client.now().await?;
    let scan = scan_positions(&market, &positions, &reserves, &oracles, now);
    Metrics::add(&metrics.positions_scanned, scan.scanned);
    Metrics::add(&metrics.positions_unpriced, scan.unpriced);
    tracing::debug!(scanned = scan.scanned, unpriced = scan.unpriced, actions = scan.actions.len(), "scan");
    for action in scan.actions {
        if let Action::Liquidate { .. } = action {
            Metrics::add(&metrics.liquidatable_found, 1);
        }
        if config.dry_run {
            tracing::info!(?action, "dry run: not sent");
            continue;
        }
        // One failed action never stops the others.
        if let Err(e) = act(client, &market, config.market, &reserves, &oracles, &action, metrics).await {
            tracing::warn!(?action, error = %e, "action failed");
        }
    }
    Ok(())
}

async fn act(
    client: &Client,
    market: &Market,
    market_key: Pubkey,
    reserves: &HashMap<Pubkey, Reserve>,
    oracles: &HashMap<Pubkey, OracleAccount>,
    action: &Action,
    metrics: &Metrics,
) -> Result<(), RpcError> {
    match action {
        Action::ResolveBadDebt { position, reserve } => {
            let r = reserves
                .get(reserve)
                .ok_or_else(|| RpcError::Account(format!("reserve {reserve} unknown")))?;
            let keys = ix::ReserveKeys::from_reserve(*reserve, r);
            let position_state: Position = client.position(position).await?;
            let missing =
                ix::health_reserves(&position_state, None).into_iter().find(|r| !oracles.contains_key(r));
            if let Some(r) = missing {
                return Err(RpcError::Account(format!("no oracle for reserve {r}")));
            }
            let remaining = ix::resolve_accounts(&position_state, |r| oracles[r].key);
            client.send(&[ix::resolve_bad_debt(market_key, *position, &keys, remaining)], &[]).await?;
            Metrics::add(&metrics.bad_debt_resolved, 1);
            tracing::info!(%position, %reserve, "bad debt resolved");
            Ok(())
        }
        Action::Liquidate { position, choice } => {
            let keeper = client.payer.pubkey();
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
            let fee_account =
                token::associated_token_address(&market.fee_receiver, &seize.mint, &seize.token_program);
            let position_state: Position = client.position(position).await?;
            let slot_reserves = ix::health_reserves(&position_state, None);
            let missing = slot_reserves.iter().find(|r| !oracles.contains_key(r));
            if let Some(r) = missing {
                return Err(RpcError::Account(format!("no oracle for reserve {r}")));
            }
            let remaining = ix::health_accounts(&slot_reserves, |r| oracles[r].key);
            let ixs = [
                token::create_associated_token_account(&keeper, &keeper, &seize.mint, &seize.token_program),
                token::create_associated_token_account(
                    &keeper,
                    &market.fee_receiver,
                    &seize.mint,
                    &seize.token_program,
                ),
                ix::liquidate(
                    keeper,
                    market_key,
                    *position,
                    ix::LiquidationSides {
                        repay: &repay_keys,
                        source,
                        seize: &seize_keys,
                        destination,
                        into_position: None,
                    },
                    fee_account,
                    u64::MAX,
                    remaining,
                ),
            ];
            Metrics::add(&metrics.liquidations_sent, 1);
            match client.send(&ixs, &[]).await {
                Ok(signature) => {
                    Metrics::add(&metrics.liquidations_landed, 1);
                    tracing::info!(
                        %position,
                        repay_reserve = %choice.repay_reserve,
                        seize_reserve = %choice.seize_reserve,
                        repay = choice.plan.repay,
                        seize = choice.plan.seize,
                        bonus_bps = choice.plan.bonus_bps,
                        %signature,
                        "liquidated"
                    );
                    Ok(())
                }
                Err(e) => {
                    Metrics::add(&metrics.liquidations_failed, 1);
                    Err(e)
                }
            }
        }
    }
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
        let positions = vec![
            (key(1), m.position(&[(0, usd(0, 1_000), 0), (1, 0, usd(1, 400))])), // healthy
            (key(2), m.position(&[(0, usd(0, 1_000), 0), (1, 0, usd(1, 1_000))])), // under water
            (key(3), m.position(&[(1, 0, usd(1, 50))])),                         // debt, no deposit
            (key(4), m.position(&[(2, usd(2, 500), 0)])),                        // no debt
            (key(5), vec![1, 2, 3]),                                             // not a position
            (key(6), m.position(&[(0, usd(0, 1), 0), (1, 0, usd(1, 50))])),      // dust deposit
        ];
        let scan = scan_positions(&m.market, &positions, &m.reserves, &m.oracles, NOW);
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

        // Stale prices: positions are judged at their fallback prices, but nothing is repaid or
        // seized at them, so no liquidation is sent; and a deposit without a fresh price is never
        // taken for dust (its value is unknown), so only the position with no deposit resolves.
        let stale = scan_positions(&m.market, &positions, &m.reserves, &m.oracles, NOW + 3_600);
        assert_eq!(stale.unpriced, 0);
        assert_eq!(stale.actions, vec![Action::ResolveBadDebt { position: key(3), reserve: m.keys[1] }]);
    }
}
