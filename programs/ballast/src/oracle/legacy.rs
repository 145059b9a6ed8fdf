//! Pyth legacy (push) price accounts, read with `pyth-sdk-solana`.
use anchor_lang::prelude::*;
use pyth_sdk_solana::state::{load_price_account, PriceStatus};

use super::{OracleError, RawPrice};

/// The Pyth oracle program on mainnet.
pub const PYTH_ORACLE_PROGRAM_ID: Pubkey = pubkey!("FsJ3A3u2vn5cTVofAjvy6y5kwABJAqYWpe4975bi2epH");

/// Decodes a legacy price account and checks its owner, its key and its status.
pub fn parse(
    key: &Pubkey,
    owner: &Pubkey,
    data: &[u8],
    expected_key: &Pubkey,
) -> std::result::Result<RawPrice, OracleError> {
    if *owner != PYTH_ORACLE_PROGRAM_ID {
        return Err(OracleError::WrongOwner);
    }
    if key != expected_key {
        return Err(OracleError::WrongAccount);
    }
    let account = load_price_account::<32, ()>(data).map_err(|_| OracleError::InvalidData)?;
    if account.agg.status != PriceStatus::Trading {
        return Err(OracleError::NotTrading);
    }
    Ok(RawPrice {
        price: account.agg.price,
        conf: account.agg.conf,
        expo: account.expo,
        ema_price: account.ema_price.val,
        publish_time: account.timestamp,
    })
}
