//! What the keeper knows of its market: loaded in full by `getProgramAccounts`, then kept
//! current by websocket subscriptions (`programSubscribe` for the market's reserves and
//! positions, `accountSubscribe` for the market and every pinned price account). The full load
//! stays as the fallback: the keeper repeats it while the websocket is down, and periodically
//! even when it is up (a missed notification must not hide a position for long).
use std::collections::{BTreeSet, HashMap};

use anchor_lang::prelude::Pubkey;
use ballast::state::{Market, OracleSource, Position, Reserve};
use ballast_sdk::accounts;
use ballast_sdk::health::OracleAccount;
use ballast_sdk::rpc::{Client, RpcError};
use futures_util::stream::{BoxStream, StreamExt};
use solana_account_decoder_client_types::{UiAccount, UiAccountEncoding};
use solana_message::AddressLookupTableAccount;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};

const RESERVE_LEN: usize = 8 + core::mem::size_of::<Reserve>();
const POSITION_LEN: usize = 8 + core::mem::size_of::<Position>();

/// One change seen on the websocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// A Ballast account of the market (a reserve or a position), its new bytes.
    Program { key: Pubkey, data: Vec<u8> },
    /// The market account or a price account, its owner and new bytes.
    Account { key: Pubkey, owner: Pubkey, data: Vec<u8> },
}

/// The market's accounts as last seen.
#[derive(Clone)]
pub struct MarketCache {
    pub key: Pubkey,
    pub market: Market,
    pub reserves: HashMap<Pubkey, Reserve>,
    /// Each reserve's pinned price account, by reserve key.
    pub oracles: HashMap<Pubkey, OracleAccount>,
    /// Raw position accounts (decoded at each scan, in bulk).
    pub positions: HashMap<Pubkey, Vec<u8>>,
    /// The market's lookup tables (given, or found), read once per full load: a transaction
    /// naming an address a table gained since is only larger, never wrong.
    pub lookup_tables: Vec<AddressLookupTableAccount>,
}

impl MarketCache {
    /// Reads everything by `getProgramAccounts` and `getMultipleAccounts`. Without `tables`, the
    /// lookup table the market's admin made at bootstrap is looked up (once per load).
    pub async fn load(client: &Client, key: Pubkey, tables: &[Pubkey]) -> Result<Self, RpcError> {
        let market = client.market(&key).await?;
        let reserves = client.reserves(&key).await?;
        let oracles = client.oracles(&reserves).await?;
        let positions = client.position_accounts(&key).await?.into_iter().collect();
        let mut lookup_tables = client.lookup_tables(tables).await?;
        if lookup_tables.is_empty() {
            lookup_tables.extend(client.find_market_table(&market.admin, &key).await?);
        }
        Ok(Self { key, market, reserves, oracles, positions, lookup_tables })
    }

    /// The accounts to follow besides the program's own: the market and the pinned price
    /// account of every priced reserve.
    pub fn watched_accounts(&self) -> BTreeSet<Pubkey> {
        let mut keys: BTreeSet<Pubkey> = self
            .reserves
            .values()
            .filter(|r| OracleSource::from_u8(r.oracle.source).is_some())
            .map(|r| r.oracle.price_account)
            .collect();
        keys.insert(self.key);
        keys
    }

    /// Takes one change in; returns whether it changed anything the scan reads.
    pub fn apply(&mut self, update: Update) -> bool {
        match update {
            Update::Program { key, data } => match data.len() {
                POSITION_LEN if accounts::position(&data).is_ok_and(|p| p.market == self.key) => {
                    self.positions.insert(key, data);
                    true
                }
                RESERVE_LEN => match accounts::reserve(&data) {
                    Ok(r) if r.market == self.key => {
                        self.reserves.insert(key, r);
                        true
                    }
                    _ => false,
                },
                // A closed account.
                0 => self.positions.remove(&key).is_some(),
                _ => false,
            },
            Update::Account { key, data, .. } if key == self.key => match accounts::market(&data) {
                Ok(m) => {
                    self.market = m;
                    true
                }
                Err(_) => false,
            },
            Update::Account { key, owner, data } => {
                let readers: Vec<Pubkey> = self
                    .reserves
                    .iter()
                    .filter(|(_, r)| r.oracle.price_account == key)
                    .map(|(k, _)| *k)
                    .collect();
                for reserve in &readers {
                    self.oracles.insert(*reserve, OracleAccount { key, owner, data: data.clone() });
                }
                !readers.is_empty()
            }
        }
    }
}

fn base64_account_config() -> RpcAccountInfoConfig {
    RpcAccountInfoConfig {
        encoding: Some(UiAccountEncoding::Base64),
        commitment: Some(solana_commitment_config::CommitmentConfig::confirmed()),
        ..RpcAccountInfoConfig::default()
    }
}

fn decode(account: &UiAccount) -> Option<(Pubkey, Vec<u8>)> {
    Some((account.owner.parse().ok()?, account.data.decode()?))
}

/// Subscribes to the market's program accounts and to `watched` on `ws_url`, and forwards every
/// change to `updates` until the connection drops (an error) or the receiver is gone (`Ok`).
/// `subscribed` is called once every subscription is in place.
pub async fn follow(
    ws_url: &str,
    market: Pubkey,
    watched: &BTreeSet<Pubkey>,
    updates: tokio::sync::mpsc::UnboundedSender<Update>,
    subscribed: impl FnOnce(),
) -> Result<(), String> {
    let pubsub = PubsubClient::new(ws_url).await.map_err(|e| format!("websocket {ws_url}: {e}"))?;
    let program_config = RpcProgramAccountsConfig {
        filters: Some(vec![RpcFilterType::Memcmp(Memcmp::new_base58_encoded(8, market.as_ref()))]),
        account_config: base64_account_config(),
        ..RpcProgramAccountsConfig::default()
    };
    let (program, _) = pubsub
        .program_subscribe(&ballast::ID, Some(program_config))
        .await
        .map_err(|e| format!("programSubscribe: {e}"))?;
    let mut streams: Vec<BoxStream<'_, Option<Update>>> = vec![program
        .map(|r| {
            let key = r.value.pubkey.parse().ok()?;
            let (_, data) = decode(&r.value.account)?;
            Some(Update::Program { key, data })
        })
        .boxed()];
    for key in watched.iter().copied() {
        let (account, _) = pubsub
            .account_subscribe(&key, Some(base64_account_config()))
            .await
            .map_err(|e| format!("accountSubscribe {key}: {e}"))?;
        streams.push(
            account
                .map(move |r| {
                    let (owner, data) = decode(&r.value)?;
                    Some(Update::Account { key, owner, data })
                })
                .boxed(),
        );
    }
    subscribed();
    let mut all = futures_util::stream::select_all(streams);
    while let Some(update) = all.next().await {
        if let Some(update) = update {
            if updates.send(update).is_err() {
                return Ok(());
            }
        }
    }
    Err("the websocket closed".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::SyntheticMarket;

    fn cache() -> (MarketCache, SyntheticMarket) {
        let m = SyntheticMarket::new();
        let key = Pubkey::new_unique();
        let mut reserves = m.reserves.clone();
        for r in reserves.values_mut() {
            r.market = key;
        }
        let cache = MarketCache {
            key,
            market: m.market.clone(),
            reserves,
            oracles: m.oracles.clone(),
            positions: HashMap::new(),
            lookup_tables: vec![],
        };
        (cache, m)
    }

    #[test]
    fn updates_change_positions_reserves_prices_and_the_market_in_place() {
        let (mut cache, m) = cache();
        let watched = cache.watched_accounts();
        assert_eq!(watched.len(), 1 + cache.reserves.len(), "the market and every price account");
        assert!(watched.contains(&cache.key));

        // A new position of this market; one of another market is ignored.
        let mut data = m.position(&[(0, 1_000, 0)]);
        data[8..40].copy_from_slice(cache.key.as_ref());
        let position = Pubkey::new_unique();
        assert!(cache.apply(Update::Program { key: position, data: data.clone() }));
        assert_eq!(cache.positions[&position], data);
        let foreign = m.position(&[(0, 1_000, 0)]);
        assert!(!cache.apply(Update::Program { key: Pubkey::new_unique(), data: foreign }));
        assert_eq!(cache.positions.len(), 1);

        // A price account update reaches every reserve that pins it.
        let reserve = m.keys[0];
        let price_account = cache.reserves[&reserve].oracle.price_account;
        let owner = cache.oracles[&reserve].owner;
        assert!(cache.apply(Update::Account { key: price_account, owner, data: vec![7; 3] }));
        assert_eq!(cache.oracles[&reserve].data, vec![7; 3]);
        assert!(!cache.apply(Update::Account { key: Pubkey::new_unique(), owner, data: vec![1] }));

        // A reserve's new state, and a closed position.
        let mut r = cache.reserves[&reserve];
        r.deposit_cap = 42;
        let mut bytes = <Reserve as anchor_lang::Discriminator>::DISCRIMINATOR.to_vec();
        bytes.extend_from_slice(bytemuck::bytes_of(&r));
        assert!(cache.apply(Update::Program { key: reserve, data: bytes }));
        assert_eq!(cache.reserves[&reserve].deposit_cap, 42);
        assert!(cache.apply(Update::Program { key: position, data: vec![] }));
        assert!(cache.positions.is_empty());
    }
}
