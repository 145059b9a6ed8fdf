//! What the benchmark measures and checks: which positions are liquidatable (the keeper's own
//! scan over the validator's accounts), what each keeper logged, what its transactions moved,
//! and the invariants after a run.
use std::collections::{BTreeMap, HashMap, HashSet};

use anchor_lang::prelude::Pubkey;
use ballast_sdk::rpc::Client;
use ballast_sdk::token;
use serde_json::Value;

use super::market::{Market, Snapshot};
use crate::keeper::{scan_positions, Action};

/// The positions among `among` that the keeper's scan would act on at `snap`'s prices and clock:
/// liquidatable ones and ones whose bad debt can be resolved.
pub fn open_work(snap: &Snapshot, among: &HashSet<Pubkey>) -> (HashSet<Pubkey>, HashSet<Pubkey>) {
    let bytes: Vec<(Pubkey, Vec<u8>)> = snap
        .positions
        .iter()
        .filter(|(k, _)| among.contains(k))
        .map(|(k, p)| (*k, position_bytes(p)))
        .collect();
    let scan = scan_positions(
        &snap.market,
        bytes.iter().map(|(k, d)| (k, d.as_slice())),
        &snap.reserves,
        &snap.oracles,
        snap.now,
    );
    let mut bad_debt = HashSet::new();
    for a in &scan.actions {
        if let Action::ResolveBadDebt { position, .. } = a {
            bad_debt.insert(*position);
        }
    }
    (scan.liquidatable.into_iter().collect(), bad_debt)
}

/// A position's account bytes (discriminator and the zero-copy body), as the keeper reads them.
fn position_bytes(p: &ballast::state::Position) -> Vec<u8> {
    use anchor_lang::Discriminator;
    let mut out = ballast::state::Position::DISCRIMINATOR.to_vec();
    out.extend_from_slice(bytemuck::bytes_of(p));
    out
}

/// One line of a keeper's JSON log.
#[derive(Debug, Clone)]
pub struct LogLine {
    /// Unix seconds.
    pub at: f64,
    pub message: String,
    pub fields: serde_json::Map<String, Value>,
}

impl LogLine {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str)
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Unix seconds of an RFC 3339 UTC timestamp as tracing writes it (`2026-12-07T16:01:02.123456Z`).
pub fn parse_timestamp(text: &str) -> Option<f64> {
    let (date, time) = text.trim_end_matches('Z').split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':');
    let (h, min, s) =
        (t.next()?.parse::<f64>().ok()?, t.next()?.parse::<f64>().ok()?, t.next()?.parse::<f64>().ok()?);
    Some(days_from_civil(y, m, day) as f64 * 86_400.0 + h * 3_600.0 + min * 60.0 + s)
}

/// Every JSON line of a keeper's log (other lines, e.g. a panic, are skipped).
pub fn read_log(text: &str) -> Vec<LogLine> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| {
            let at = parse_timestamp(v.get("timestamp")?.as_str()?)?;
            let mut fields = v.get("fields")?.as_object()?.clone();
            let message = fields.remove("message")?.as_str()?.to_string();
            Some(LogLine { at, message, fields })
        })
        .collect()
}

/// A landed liquidation or write-off, from a keeper's log and the cluster's record of it.
#[derive(Debug, Clone)]
pub struct Landed {
    pub keeper: usize,
    pub position: Pubkey,
    pub signature: String,
    /// When the keeper logged it (after confirmation), unix seconds.
    pub at: f64,
    pub slot: u64,
    pub fee_lamports: u64,
    pub compute_unit_price: u64,
    /// Token balance changes of the keeper's own accounts, by mint.
    pub token_deltas: HashMap<Pubkey, i128>,
    pub resolution: bool,
    /// Liquidations the transaction chained (1 for a write-off).
    pub rounds: u64,
    /// The keeper's reads and simulation before sending, and sending to confirmation, ms.
    pub prepare_ms: u64,
    pub confirm_ms: u64,
    /// What the program's `Liquidated` events in the transaction said, in order.
    pub events: Vec<LiquidationEvent>,
}

/// The parts of a `Liquidated` event the benchmark checks.
#[derive(Debug, Clone, Copy)]
pub struct LiquidationEvent {
    pub health_factor_before: Option<u128>,
    pub seize_reserve: Pubkey,
    pub fee_to_insurance_pool: u64,
}

/// Fetches a landed transaction's slot, fee and the keeper's token balance changes.
pub async fn fetch_landed(client: &Client, keeper: &Pubkey, landed: &mut Landed) -> Result<(), String> {
    let signature: solana_signature::Signature = landed.signature.parse().map_err(|e| format!("{e}"))?;
    let config = solana_rpc_client_api::config::RpcTransactionConfig {
        encoding: Some(solana_transaction_status_client_types::UiTransactionEncoding::Json),
        commitment: Some(solana_commitment_config::CommitmentConfig::confirmed()),
        max_supported_transaction_version: Some(0),
    };
    let mut tries = 0;
    let tx = loop {
        match client.rpc.get_transaction_with_config(&signature, config).await {
            Ok(tx) => break tx,
            // Not yet at this node's confirmed view: ask again.
            Err(_) if tries < 20 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            Err(e) => return Err(format!("transaction {}: {e}", landed.signature)),
        }
    };
    landed.slot = tx.slot;
    let meta = tx.transaction.meta.ok_or("a transaction without its status")?;
    landed.fee_lamports = meta.fee;
    let logs: Option<Vec<String>> = meta.log_messages.clone().into();
    landed.events = ballast_sdk::events::parse::<ballast::events::Liquidated>(&logs.unwrap_or_default())
        .into_iter()
        .map(|e| LiquidationEvent {
            health_factor_before: e.health_factor_before,
            seize_reserve: e.seize_reserve,
            fee_to_insurance_pool: e.fee_to_insurance_pool,
        })
        .collect();
    let owner = keeper.to_string();
    let balances = |list: Option<Vec<solana_transaction_status_client_types::UiTransactionTokenBalance>>| {
        let mut out: HashMap<Pubkey, i128> = HashMap::new();
        for b in list.unwrap_or_default() {
            let mine: Option<String> = b.owner.clone().into();
            if mine.as_deref() == Some(owner.as_str()) {
                if let (Ok(mint), Ok(amount)) =
                    (b.mint.parse::<Pubkey>(), b.ui_token_amount.amount.parse::<i128>())
                {
                    *out.entry(mint).or_default() += amount;
                }
            }
        }
        out
    };
    let (pre, post) = (balances(meta.pre_token_balances.into()), balances(meta.post_token_balances.into()));
    let mints: HashSet<&Pubkey> = pre.keys().chain(post.keys()).collect();
    landed.token_deltas = mints
        .into_iter()
        .map(|m| (*m, post.get(m).copied().unwrap_or(0) - pre.get(m).copied().unwrap_or(0)))
        .collect();
    Ok(())
}

/// The signatures of slot `slot`'s block that come before `signature` in it.
pub async fn before_in_block(
    client: &Client,
    slot: u64,
    signature: &solana_signature::Signature,
) -> Result<HashSet<String>, String> {
    let config = solana_rpc_client_api::config::RpcBlockConfig {
        transaction_details: Some(solana_transaction_status_client_types::TransactionDetails::Signatures),
        rewards: Some(false),
        commitment: Some(solana_commitment_config::CommitmentConfig::confirmed()),
        max_supported_transaction_version: Some(0),
        ..Default::default()
    };
    let block =
        client.rpc.get_block_with_config(slot, config).await.map_err(|e| format!("block {slot}: {e}"))?;
    let all = block.signatures.unwrap_or_default();
    let at = all.iter().position(|s| *s == signature.to_string()).unwrap_or(0);
    Ok(all[..at].iter().cloned().collect())
}

/// Transactions a keeper sent and how they ended, from its log.
#[derive(Debug, Clone, Default)]
pub struct KeeperLog {
    pub landed: Vec<Landed>,
    /// Sent and failed, by reason.
    pub failed: BTreeMap<String, u64>,
    /// Refused by the simulation before sending (another keeper was first), by reason.
    pub not_sent: BTreeMap<String, u64>,
    pub websocket_downs: u64,
    pub websocket_ups: u64,
}

/// Reads keeper `keeper`'s log.
pub fn keeper_log(keeper: usize, lines: &[LogLine]) -> KeeperLog {
    let mut out = KeeperLog::default();
    for l in lines {
        match l.message.as_str() {
            "liquidated" | "bad debt resolved" => {
                let (Some(position), Some(signature)) = (l.field("position"), l.field("signature")) else {
                    continue;
                };
                let Ok(position) = position.parse() else { continue };
                out.landed.push(Landed {
                    keeper,
                    position,
                    signature: signature.to_string(),
                    at: l.at,
                    slot: 0,
                    fee_lamports: 0,
                    compute_unit_price: l
                        .fields
                        .get("compute_unit_price")
                        .and_then(Value::as_u64)
                        .unwrap_or(0),
                    token_deltas: HashMap::new(),
                    resolution: l.message != "liquidated",
                    rounds: l.fields.get("rounds").and_then(Value::as_u64).unwrap_or(1),
                    prepare_ms: l.fields.get("prepare_ms").and_then(Value::as_u64).unwrap_or(0),
                    confirm_ms: l.fields.get("confirm_ms").and_then(Value::as_u64).unwrap_or(0),
                    events: Vec::new(),
                });
            }
            "liquidation sent, failed" => {
                let reason = l.field("reason").unwrap_or("other");
                *out.failed.entry(reason.to_string()).or_default() += 1;
            }
            "action failed" => *out.failed.entry("other".to_string()).or_default() += 1,
            m if m.starts_with("skipped: the simulation was refused") => {
                let cause = l.field("cause").unwrap_or("other");
                *out.not_sent.entry(cause.to_string()).or_default() += 1;
            }
            m if m.starts_with("websocket down") => out.websocket_downs += 1,
            m if m.starts_with("following the market") => out.websocket_ups += 1,
            _ => {}
        }
    }
    out
}

/// Writes what the validator holds for each of `positions` (the position, the market, every
/// reserve and price account it names, the clock) to `dir/stuck-<position>.json`, base64: a
/// position left liquidatable is a finding, and these bytes replay it offline.
pub async fn dump_positions(
    client: &Client,
    market: &Pubkey,
    positions: &HashSet<Pubkey>,
    dir: &std::path::Path,
) -> Result<(), String> {
    use base64::Engine;
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    let raw = |key: Pubkey| async move {
        client.account_data(&key).await.map_err(|e| e.to_string()).map(|a| a.map(|a| (a.owner, a.data)))
    };
    for p in positions {
        let mut accounts = serde_json::Map::new();
        let mut keys = vec![*p, *market];
        if let Some((_, data)) = raw(*p).await? {
            let position = ballast_sdk::accounts::position(&data).map_err(|e| format!("{e:?}"))?;
            for slot in position.slots.iter().filter(|s| !s.is_free()) {
                keys.push(slot.reserve);
                let reserve = client.reserve(&slot.reserve).await.map_err(|e| e.to_string())?;
                keys.push(reserve.oracle.price_account);
            }
        }
        for key in keys {
            if let Some((owner, data)) = raw(key).await? {
                accounts.insert(
                    key.to_string(),
                    serde_json::json!({ "owner": owner.to_string(), "data": b64(&data) }),
                );
            }
        }
        let now = client.now().await.map_err(|e| e.to_string())?;
        let slot = client.rpc.get_slot().await.map_err(|e| e.to_string())?;
        let doc = serde_json::json!({ "position": p.to_string(), "unix_time": now, "slot": slot, "accounts": accounts });
        let path = dir.join(format!("stuck-{p}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The invariants after a run; each break in words.
pub async fn invariants(
    client: &Client,
    market: &Market,
    snap: &Snapshot,
    crash_positions: &HashSet<Pubkey>,
    may_be_liquidated: &HashSet<Pubkey>,
    liquidated: &HashSet<Pubkey>,
) -> Result<Vec<String>, String> {
    let mut broken = Vec::new();
    for a in &market.assets {
        let r = &snap.reserves[&a.reserve];
        let vault = match client.account_data(&r.vault).await.map_err(|e| e.to_string())? {
            Some(acc) => token::token_account_amount(&acc.data).unwrap_or(0),
            None => 0,
        };
        // The vault holds the reserve's liquidity and the liquidation fees booked to its pool.
        if r.available_liquidity.checked_add(r.insurance_booked).is_none_or(|booked| vault < booked) {
            broken.push(format!(
                "{}: vault holds {vault}, the reserve books {} and its pool {}",
                a.name, r.available_liquidity, r.insurance_booked
            ));
        }
        let slot = |p: &ballast::state::Position| {
            p.slots.iter().find(|s| s.reserve == a.reserve).copied().unwrap_or_default()
        };
        let deposits: u64 = snap.positions.values().map(|p| slot(p).deposit_shares).sum();
        let borrows: u64 = snap.positions.values().map(|p| slot(p).borrow_shares).sum();
        if deposits != r.total_deposit_shares {
            broken.push(format!(
                "{}: positions hold {deposits} deposit shares, the reserve {}",
                a.name, r.total_deposit_shares
            ));
        }
        if borrows != r.total_borrow_shares {
            broken.push(format!(
                "{}: positions hold {borrows} borrow shares, the reserve {}",
                a.name, r.total_borrow_shares
            ));
        }
    }
    let all: HashSet<Pubkey> = snap.positions.keys().copied().collect();
    let (left, bad_debt) = open_work(snap, &all);
    if !left.is_empty() || !bad_debt.is_empty() {
        broken.push(format!(
            "{} position(s) still liquidatable and {} with bad debt to resolve at the posted prices",
            left.len(),
            bad_debt.len()
        ));
    }
    let wrongly: Vec<&Pubkey> = liquidated.iter().filter(|p| !may_be_liquidated.contains(p)).collect();
    if !wrongly.is_empty() {
        broken.push(format!(
            "{} position(s) liquidated that were healthy at the posted prices: {:?}",
            wrongly.len(),
            wrongly
        ));
    }
    let strays = liquidated.iter().filter(|p| !crash_positions.contains(p)).count();
    if strays > 0 {
        broken.push(format!(
            "{strays} liquidated position(s) outside the crash population (a load user or a lender)"
        ));
    }
    Ok(broken)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_unix_seconds() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_timestamp("2000-03-01T00:00:01.5Z"), Some(951_868_801.5));
        assert_eq!(parse_timestamp("2026-12-07T15:20:05.000001Z").map(|t| t.floor()), Some(1_796_656_805.0));
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn a_keeper_log_gives_its_landed_and_failed_transactions() {
        let log = r#"{"timestamp":"2026-12-07T15:20:05.5Z","level":"INFO","fields":{"message":"liquidated","position":"11111111111111111111111111111111","signature":"5x","compute_unit_price":7}}
{"timestamp":"2026-12-07T15:20:06Z","level":"WARN","fields":{"message":"liquidation sent, failed","position":"11111111111111111111111111111111","reason":"race lost","error":"x"}}
not json
{"timestamp":"2026-12-07T15:20:07Z","level":"INFO","fields":{"message":"skipped: the simulation was refused","cause":"blockhash expired","error":"Blockhash not found"}}"#;
        let k = keeper_log(1, &read_log(log));
        assert_eq!(k.landed.len(), 1);
        assert_eq!(
            (k.landed[0].keeper, k.landed[0].compute_unit_price, k.landed[0].signature.as_str()),
            (1, 7, "5x")
        );
        assert_eq!(k.failed.get("race lost"), Some(&1));
        assert_eq!(k.not_sent.get("blockhash expired"), Some(&1));
    }
}
