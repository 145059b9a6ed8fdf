//! Program-derived addresses, derived exactly as the program's seeds constraints do.
use anchor_lang::prelude::Pubkey;
use ballast::constants::{INSURANCE_SEED, MARKET_SEED, POSITION_SEED, RESERVE_SEED, VAULT_SEED};

pub fn market(creator: &Pubkey, market_id: u64) -> Pubkey {
    Pubkey::find_program_address(&[MARKET_SEED, creator.as_ref(), &market_id.to_le_bytes()], &ballast::ID).0
}

pub fn reserve(market: &Pubkey, mint: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[RESERVE_SEED, market.as_ref(), mint.as_ref()], &ballast::ID).0
}

pub fn vault(reserve: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[VAULT_SEED, reserve.as_ref()], &ballast::ID).0
}

pub fn insurance_vault(reserve: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[INSURANCE_SEED, reserve.as_ref()], &ballast::ID).0
}

pub fn position(market: &Pubkey, owner: &Pubkey, index: u32) -> Pubkey {
    Pubkey::find_program_address(
        &[POSITION_SEED, market.as_ref(), owner.as_ref(), &index.to_le_bytes()],
        &ballast::ID,
    )
    .0
}

/// The Pyth push oracle's sponsored price-feed account of `feed_id` on shard `shard` (mainnet
/// and devnet use shard 0): the `PriceUpdateV2` a pull reserve pins.
pub fn pyth_push_feed(shard: u16, feed_id: &[u8; 32]) -> Pubkey {
    let program = ballast::oracle::pull::PYTH_PUSH_ORACLE_PROGRAM_ID;
    Pubkey::find_program_address(&[&shard.to_le_bytes(), feed_id], &program).0
}
