//! Pyth pull-oracle `PriceUpdateV2` accounts (owned by the Pyth receiver program).
//!
//! Borsh layout, 134 bytes allocated:
//! `[0..8]` discriminator, `[8..40]` write authority, verification level (`0` Partial + u8
//! signatures, or `1` Full), then the price message: feed id (32), price i64, conf u64,
//! exponent i32, publish time i64, previous publish time i64, EMA price i64, EMA conf u64,
//! and the posted slot u64. Parsed by hand: 60 lines instead of the receiver SDK's dependency tree.
use anchor_lang::prelude::*;

use super::{OracleError, RawPrice};

/// The Pyth receiver program on mainnet and devnet.
pub const PYTH_RECEIVER_PROGRAM_ID: Pubkey = pubkey!("rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ");

/// `sha256("account:PriceUpdateV2")[..8]`.
pub const PRICE_UPDATE_V2_DISCRIMINATOR: [u8; 8] = [34, 241, 35, 99, 157, 126, 244, 205];

const FULL: u8 = 1;

fn read<const N: usize>(data: &[u8], at: &mut usize) -> std::result::Result<[u8; N], OracleError> {
    let bytes = data.get(*at..*at + N).ok_or(OracleError::InvalidData)?;
    *at += N;
    Ok(bytes.try_into().expect("slice of N bytes"))
}

/// The Pyth push-oracle program: its sponsored price-feed accounts, PDAs of
/// `[shard_id (u16 LE), feed_id]`, are the `PriceUpdateV2` accounts a reserve pins on mainnet
/// (they only ever move forward in publish time).
pub const PYTH_PUSH_ORACLE_PROGRAM_ID: Pubkey = pubkey!("pythWSnswVUd12oZpeFP8e9CVaEqJg25g1Vtc2biRsT");

/// Decodes the reserve's pinned `PriceUpdateV2` (`pinned`) and checks the account, owner, feed
/// id and verification level. Pinning is what leaves the caller no choice among genuine
/// updates (SPEC §2): any other account with the same feed, however genuine, is refused.
pub fn parse(
    key: &Pubkey,
    owner: &Pubkey,
    data: &[u8],
    pinned: &Pubkey,
    feed_id: &[u8; 32],
) -> std::result::Result<RawPrice, OracleError> {
    if key != pinned {
        return Err(OracleError::WrongAccount);
    }
    if *owner != PYTH_RECEIVER_PROGRAM_ID {
        return Err(OracleError::WrongOwner);
    }
    let mut at = 0;
    if read::<8>(data, &mut at)? != PRICE_UPDATE_V2_DISCRIMINATOR {
        return Err(OracleError::InvalidData);
    }
    at += 32; // write authority
    match read::<1>(data, &mut at)?[0] {
        FULL => {}
        0 => return Err(OracleError::PartialVerification),
        _ => return Err(OracleError::InvalidData),
    }
    if read::<32>(data, &mut at)? != *feed_id {
        return Err(OracleError::WrongFeed);
    }
    let price = i64::from_le_bytes(read::<8>(data, &mut at)?);
    let conf = u64::from_le_bytes(read::<8>(data, &mut at)?);
    let expo = i32::from_le_bytes(read::<4>(data, &mut at)?);
    let publish_time = i64::from_le_bytes(read::<8>(data, &mut at)?);
    let _prev_publish_time = read::<8>(data, &mut at)?;
    let ema_price = i64::from_le_bytes(read::<8>(data, &mut at)?);
    Ok(RawPrice { price, conf, expo, ema_price, publish_time })
}
