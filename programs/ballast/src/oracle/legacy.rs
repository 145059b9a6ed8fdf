//! Pyth legacy (push) price accounts, read by hand from their fixed C layout.
//!
//! The layout (`pc_price_t` of the Pyth oracle program, 32 publisher components, 3,312 bytes;
//! little-endian): `[0..4]` magic `0xa1b2c3d4`, `[4..8]` version 2, `[8..12]` account type
//! 3 (price), `[20..24]` exponent i32, `[48..56]` EMA price i64, `[96..104]` publish time i64,
//! then the aggregate at 208: price i64, confidence u64, status u8 at 224 (1 = trading).
//! Reading the five fields directly replaces `pyth-sdk-solana` and its dependency tree (serde,
//! schemars, borsh) with the same checks its `load_price_account` made.
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

/// Decodes a legacy price account and checks its owner, its header and its status. It does not
/// check the reserve's price account: `oracle::decode_data` does, first, and is what the program
/// and its clients call (this is public for reading fixtures).
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
    if data[224] != STATUS_TRADING {
        return Err(OracleError::NotTrading);
    }
    Ok(RawPrice {
        price: i64::from_le_bytes(field(data, 208)),
        conf: u64::from_le_bytes(field(data, 216)),
        expo: i32::from_le_bytes(field(data, 20)),
        ema_price: i64::from_le_bytes(field(data, 48)),
        publish_time: i64::from_le_bytes(field(data, 96)),
    })
}
