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
