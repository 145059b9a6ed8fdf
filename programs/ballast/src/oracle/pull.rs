//! Pyth pull-oracle `PriceUpdateV2` accounts (owned by the Pyth receiver program).
//!
//! Borsh layout, 134 bytes allocated:
//! `[0..8]` discriminator, `[8..40]` write authority, verification level (`0` Partial + u8
//! signatures, or `1` Full), then the price message: feed id (32), price i64, conf u64,
//! exponent i32, publish time i64, previous publish time i64, EMA price i64, EMA conf u64,
//! and the posted slot u64. Parsed by hand: 60 lines instead of the receiver SDK's dependency tree.
use anchor_lang::prelude::*;

use super::{field, OracleError, RawPrice};

/// The Pyth receiver program on mainnet and devnet.
pub const PYTH_RECEIVER_PROGRAM_ID: Pubkey = pubkey!("rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ");

/// `sha256("account:PriceUpdateV2")[..8]`.
pub const PRICE_UPDATE_V2_DISCRIMINATOR: [u8; 8] = [34, 241, 35, 99, 157, 126, 244, 205];

const FULL: u8 = 1;

/// Byte offsets in a fully verified update (the variant the reserve accepts: a partial one has
/// an extra signature count and is refused before any of these is read).
const LEVEL: usize = 40;
const FEED_ID: usize = 41;
const PRICE: usize = 73;
const CONF: usize = 81;
const EXPO: usize = 89;
const PUBLISH_TIME: usize = 93;
const EMA_PRICE: usize = 109;
/// Through the EMA price: the last field read.
const READ_LEN: usize = EMA_PRICE + 8;

/// The Pyth push-oracle program: its sponsored price-feed accounts, PDAs of
/// `[shard_id (u16 LE), feed_id]`, are the `PriceUpdateV2` accounts a reserve pins on mainnet
/// (they only ever move forward in publish time).
pub const PYTH_PUSH_ORACLE_PROGRAM_ID: Pubkey = pubkey!("pythWSnswVUd12oZpeFP8e9CVaEqJg25g1Vtc2biRsT");

/// Decodes a `PriceUpdateV2` and checks its owner, feed id and verification level. It does not
/// check the pinned account: `oracle::decode_data` does, first, and is what the program and its
/// clients call (this is public for reading fixtures). Pinning is what
/// leaves the caller no choice among genuine updates (SPEC §2): any other account with the same
/// feed, however genuine, is refused.
pub fn parse(owner: &Pubkey, data: &[u8], feed_id: &[u8; 32]) -> std::result::Result<RawPrice, OracleError> {
    if !crate::keys::same_key(owner, &PYTH_RECEIVER_PROGRAM_ID) {
        return Err(OracleError::WrongOwner);
    }
    // One length check up front, then fixed offsets: no bounds check per field.
    // The discriminator as one word: a slice comparison is a `memcmp` call on SBF.
    if data.len() <= LEVEL
        || u64::from_le_bytes(field(data, 0)) != u64::from_le_bytes(PRICE_UPDATE_V2_DISCRIMINATOR)
    {
        return Err(OracleError::InvalidData);
    }
    match data[LEVEL] {
        FULL => {}
        0 => return Err(OracleError::PartialVerification),
        _ => return Err(OracleError::InvalidData),
    }
    if data.len() < READ_LEN {
        return Err(OracleError::InvalidData);
    }
    if !crate::keys::same_bytes(&field(data, FEED_ID), feed_id) {
        return Err(OracleError::WrongFeed);
    }
    let price = i64::from_le_bytes(field(data, PRICE));
    let conf = u64::from_le_bytes(field(data, CONF));
    let expo = i32::from_le_bytes(field(data, EXPO));
    let publish_time = i64::from_le_bytes(field(data, PUBLISH_TIME));
    let ema_price = i64::from_le_bytes(field(data, EMA_PRICE));
    Ok(RawPrice { price, conf, expo, ema_price, publish_time, trading: true })
}
