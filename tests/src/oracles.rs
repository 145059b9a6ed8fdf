//! Oracle accounts for tests: the real mainnet captures in `tests/fixtures/mainnet/`, loaded as
//! they are, and `PriceUpdateV2` accounts written with chosen prices and times.
use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use ballast::oracle::legacy::PYTH_ORACLE_PROGRAM_ID;
use ballast::oracle::pull::PYTH_RECEIVER_PROGRAM_ID;
use base64::Engine;
use solana_account::Account;

/// A mainnet account capture: its address and the account as captured.
pub fn mainnet_fixture(file: &str) -> (Pubkey, Account) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/mainnet").join(file);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let (key, account) = if let Some(v) = json.pointer("/result/value") {
        (json["pubkey"].as_str().map(str::to_string), v.clone())
    } else if json.get("account").is_some() {
        (json["pubkey"].as_str().map(str::to_string), json["account"].clone())
    } else {
        (json["address"].as_str().map(str::to_string), json.clone())
    };
    let key = key.unwrap_or_else(|| "7UVimffxr9ow1uXYxsr4LHAcV58mLzhmwaeKvJ1pjLiE".into());
    let data_b64 = account["data"][0].as_str().or(account["dataBase64"].as_str()).expect("base64 data");
    let data = base64::engine::general_purpose::STANDARD.decode(data_b64).unwrap();
    let owner = account["owner"].as_str().or(account["owner_inferred"].as_str()).expect("owner");
    (
        key.parse().unwrap(),
        Account {
            lamports: 10_000_000,
            data,
            owner: owner.parse().unwrap(),
            executable: false,
            rent_epoch: 0,
        },
    )
}

/// A `PriceUpdateV2` price message.
#[derive(Debug, Clone, Copy)]
pub struct PullPrice {
    pub feed_id: [u8; 32],
    pub price: i64,
    pub conf: u64,
    pub expo: i32,
    pub publish_time: i64,
    pub ema_price: i64,
    pub full_verification: bool,
}

impl PullPrice {
    /// The account the Pyth receiver would hold for this message (134 bytes), encoded by the
    /// localnet oracle writer's own encoder.
    pub fn account(&self) -> Account {
        let message = localnet_oracle::PriceMessage {
            feed_id: self.feed_id,
            price: self.price,
            conf: self.conf,
            expo: self.expo,
            publish_time: self.publish_time,
            ema_price: self.ema_price,
            ema_conf: self.conf,
        };
        Account {
            lamports: 10_000_000,
            data: localnet_oracle::encode_price_update(
                &Pubkey::new_from_array([7; 32]),
                self.full_verification,
                &message,
                1,
            ),
            owner: PYTH_RECEIVER_PROGRAM_ID,
            executable: false,
            rent_epoch: 0,
        }
    }
}

/// A Pyth legacy price account (the real BONK/USD capture, rewritten): exponent −8, the
/// aggregate at `price` with `status`, the last trading aggregate at `last` (price, time), the
/// EMA at `ema`.
pub fn legacy_account(
    price: i64,
    ema: i64,
    publish_time: i64,
    status: u8,
    last: (i64, i64),
) -> solana_account::Account {
    let (_, mut account) = mainnet_fixture("pyth_legacy_BONKUSD_mainnet_drift.json");
    let d = &mut account.data;
    let mut put = |at: usize, bytes: &[u8]| d[at..at + bytes.len()].copy_from_slice(bytes);
    put(20, &(-8i32).to_le_bytes());
    put(48, &ema.to_le_bytes());
    put(96, &publish_time.to_le_bytes());
    put(184, &last.0.to_le_bytes());
    put(192, &0u64.to_le_bytes());
    put(200, &last.1.to_le_bytes());
    put(208, &price.to_le_bytes());
    put(216, &0u64.to_le_bytes());
    put(224, &(status as u32).to_le_bytes());
    account.owner = PYTH_ORACLE_PROGRAM_ID;
    account
}

#[cfg(test)]
mod tests {
    /// The localnet writer stands in for the Pyth receiver: same address, same discriminator.
    #[test]
    fn localnet_writer_matches_the_receiver_the_program_reads() {
        use ballast::oracle::pull;
        assert_eq!(localnet_oracle::ID, pull::PYTH_RECEIVER_PROGRAM_ID);
        assert_eq!(localnet_oracle::PRICE_UPDATE_V2_DISCRIMINATOR, pull::PRICE_UPDATE_V2_DISCRIMINATOR);
    }
}
