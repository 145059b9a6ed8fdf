//! Instruction builders. Each fills every account the program expects, in order.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{InstructionData, ToAccountMetas};
use ballast::instructions::AddReserveArgs;
use ballast::state::Reserve;

use crate::pda;

fn instruction(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction { program_id: ballast::ID, accounts: accounts.to_account_metas(None), data: data.data() }
}

/// The keys of one reserve that token-moving instructions need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReserveKeys {
    pub reserve: Pubkey,
    pub mint: Pubkey,
    pub vault: Pubkey,
    pub token_program: Pubkey,
}

impl ReserveKeys {
    pub fn from_reserve(reserve_key: Pubkey, reserve: &Reserve) -> Self {
        Self {
            reserve: reserve_key,
            mint: reserve.mint,
            vault: reserve.vault,
            token_program: reserve.token_program,
        }
    }

    fn tokens(&self, user_token_account: Pubkey) -> ballast::accounts::ReserveTokens {
        ballast::accounts::ReserveTokens {
            reserve: self.reserve,
            mint: self.mint,
            vault: self.vault,
            user_token_account,
            token_program: self.token_program,
        }
    }
}

pub fn init_market(creator: Pubkey, market_id: u64, fee_receiver: Pubkey) -> Instruction {
    instruction(
        ballast::accounts::InitMarket {
            creator,
            market: pda::market(&creator, market_id),
            system_program: anchor_lang::system_program::ID,
        },
        ballast::instruction::InitMarket { market_id, fee_receiver },
    )
}

pub fn add_reserve(
    admin: Pubkey,
    market: Pubkey,
    mint: Pubkey,
    token_program: Pubkey,
    args: AddReserveArgs,
) -> Instruction {
    let reserve = pda::reserve(&market, &mint);
    instruction(
        ballast::accounts::AddReserve {
            admin,
            market,
            mint,
            reserve,
            vault: pda::vault(&reserve),
            insurance_vault: pda::insurance_vault(&reserve),
            token_program,
            system_program: anchor_lang::system_program::ID,
        },
        ballast::instruction::AddReserve { args },
    )
}

pub fn open_position(owner: Pubkey, market: Pubkey, index: u32) -> Instruction {
    instruction(
        ballast::accounts::OpenPosition {
            owner,
            market,
            position: pda::position(&market, &owner, index),
            system_program: anchor_lang::system_program::ID,
        },
        ballast::instruction::OpenPosition { index },
    )
}

pub fn deposit(
    owner: Pubkey,
    position: Pubkey,
    reserve: &ReserveKeys,
    source: Pubkey,
    amount: u64,
) -> Instruction {
    instruction(
        ballast::accounts::Deposit { owner, position, tokens: reserve.tokens(source) },
        ballast::instruction::Deposit { amount },
    )
}

/// `amount == u64::MAX` withdraws everything the position holds in the reserve.
pub fn withdraw(
    owner: Pubkey,
    position: Pubkey,
    reserve: &ReserveKeys,
    destination: Pubkey,
    amount: u64,
) -> Instruction {
    instruction(
        ballast::accounts::Withdraw { owner, position, tokens: reserve.tokens(destination) },
        ballast::instruction::Withdraw { amount },
    )
}
