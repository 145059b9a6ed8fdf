//! Pyth legacy (push) price accounts, read by hand from their fixed C layout.
//!
//! The layout (`pc_price_t` of the Pyth oracle program, 32 publisher components, 3,312 bytes;
//! little-endian): `[0..4]` magic `0xa1b2c3d4`, `[4..8]` version 2, `[8..12]` account type
//! 3 (price), `[20..24]` exponent i32, `[48..56]` EMA price i64, `[96..104]` publish time i64,
//! the last trading aggregate at 184: previous price i64, previous confidence u64, previous
//! publish time i64 (200), then the aggregate at 208: price i64, confidence u64, status u8 at
//! 224 (1 = trading). Reading the fields directly replaces `pyth-sdk-solana` and its dependency
//! tree (serde, schemars, borsh) with the same checks its `load_price_account` made; its
//! `to_price_feed` is the reference for which aggregate a non-trading account yields
//! (`programs/ballast/tests/pyth_reference.rs` holds the two to each other).
use anchor_lang::prelude::*;

use super::{field, OracleError, RawPrice};

/// The Pyth oracle program on mainnet.
pub const PYTH_ORACLE_PROGRAM_ID: Pubkey = pubkey!("FsJ3A3u2vn5cTVofAjvy6y5kwABJAqYWpe4975bi2epH");

/// Size of a price account with its 32 publisher components: shorter data is not one.
pub const PRICE_ACCOUNT_LEN: usize = 3312;
const MAGIC: u32 = 0xa1b2_c3d4;
const VERSION_2: u32 = 2;
const ACCOUNT_TYPE_PRICE: u32 = 3;
const STATUS_TRADING: u8 = 1;

/// Byte offsets of the fields read (`pc_price_t`).
const EXPO: usize = 20;
const EMA_PRICE: usize = 48;
const PUBLISH_TIME: usize = 96;
const PREV_PRICE: usize = 184;
const PREV_CONF: usize = 192;
const PREV_PUBLISH_TIME: usize = 200;
const AGG_PRICE: usize = 208;
const AGG_CONF: usize = 216;
const STATUS: usize = 224;

/// Decodes a legacy price account and checks its owner and its header. A `Trading` account
/// yields its aggregate; any other status (`Halted` outside an equity's hours, `Unknown` when
/// too few publishers report) yields the last trading aggregate it still holds (previous price,
/// confidence and publish time, as `pyth-sdk-solana` returns it) with `trading: false`, which
/// `oracle::check` refuses (`OracleNotTrading`) and the maintenance fallback can still use: a
/// halt is "no fresh price", not "no price at all". It does not check the reserve's price
/// account: `oracle::decode_data` does, first, and is what the program and its clients call
/// (this is public for reading fixtures).
pub fn parse(owner: &Pubkey, data: &[u8]) -> std::result::Result<RawPrice, OracleError> {
    if *owner != PYTH_ORACLE_PROGRAM_ID {
        return Err(OracleError::WrongOwner);
    }
    if data.len() < PRICE_ACCOUNT_LEN
        || u32::from_le_bytes(field(data, 0)) != MAGIC
        || u32::from_le_bytes(field(data, 4)) != VERSION_2
        || u32::from_le_bytes(field(data, 8)) != ACCOUNT_TYPE_PRICE
    {
        return Err(OracleError::InvalidData);
    }
    let trading = data[STATUS] == STATUS_TRADING;
    let (price, conf, publish_time) = if trading {
        (AGG_PRICE, AGG_CONF, PUBLISH_TIME)
    } else {
        (PREV_PRICE, PREV_CONF, PREV_PUBLISH_TIME)
    };
    Ok(RawPrice {
        price: i64::from_le_bytes(field(data, price)),
        conf: u64::from_le_bytes(field(data, conf)),
        expo: i32::from_le_bytes(field(data, EXPO)),
        ema_price: i64::from_le_bytes(field(data, EMA_PRICE)),
        publish_time: i64::from_le_bytes(field(data, publish_time)),
        trading,
    })
}
