//! Instruction builders. Each fills every account the program expects, in order.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::{InstructionData, ToAccountMetas};
use ballast::instructions::{AddReserveArgs, CapsParams, InterestParams, OracleParams, RiskParams};
use ballast::state::{Position, Reserve};

use crate::pda;

fn instruction(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction { program_id: ballast::ID, accounts: accounts.to_account_metas(None), data: data.data() }
}

/// The keys of one reserve that token-moving instructions need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReserveKeys {
    pub market: Pubkey,
    pub reserve: Pubkey,
    pub mint: Pubkey,
    pub vault: Pubkey,
    pub token_program: Pubkey,
}

impl ReserveKeys {
    pub fn from_reserve(reserve_key: Pubkey, reserve: &Reserve) -> Self {
        Self {
            market: reserve.market,
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
        ballast::accounts::PositionTokens {
            owner,
            market: reserve.market,
            position,
            tokens: reserve.tokens(source),
        },
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
        ballast::accounts::PositionTokens {
            owner,
            market: reserve.market,
            position,
            tokens: reserve.tokens(destination),
        },
        ballast::instruction::Withdraw { amount },
    )
}

/// The whole configuration of a reserve: loosening any risk limit queues it behind the market
/// timelock (`apply_reserve_config`).
pub fn configure_reserve(
    admin: Pubkey,
    market: Pubkey,
    reserve: Pubkey,
    oracle: OracleParams,
    risk: RiskParams,
    interest: InterestParams,
    caps: CapsParams,
) -> Instruction {
    instruction(
        ballast::accounts::ConfigureReserve { admin, market, reserve },
        ballast::instruction::ConfigureReserve { oracle, risk, interest, caps },
    )
}

/// Admin: an equity reserve's market session, or `None` to remove it.
pub fn configure_session(
    admin: Pubkey,
    market: Pubkey,
    reserve: Pubkey,
    session: Option<ballast::instructions::SessionParams>,
) -> Instruction {
    instruction(
        ballast::accounts::ReserveAdmin { admin, market, reserve },
        ballast::instruction::ConfigureSession { session },
    )
}

/// Permissionless after the timelock: applies a queued session change.
pub fn apply_session(reserve: Pubkey) -> Instruction {
    instruction(ballast::accounts::ApplySession { reserve }, ballast::instruction::ApplySession {})
}

/// Permissionless after the timelock: applies the queued configuration.
pub fn apply_reserve_config(reserve: Pubkey) -> Instruction {
    instruction(
        ballast::accounts::ApplyReserveConfig { reserve },
        ballast::instruction::ApplyReserveConfig {},
    )
}

pub fn cancel_reserve_config(admin: Pubkey, market: Pubkey, reserve: Pubkey) -> Instruction {
    instruction(
        ballast::accounts::ReserveAdmin { admin, market, reserve },
        ballast::instruction::CancelReserveConfig {},
    )
}

/// Admin, instant: marks `reserve`'s price unusable (or usable again).
pub fn set_price_unusable(admin: Pubkey, market: Pubkey, reserve: Pubkey, unusable: bool) -> Instruction {
    instruction(
        ballast::accounts::ReserveAdmin { admin, market, reserve },
        ballast::instruction::SetPriceUnusable { unusable },
    )
}

pub fn set_reserve_pause(admin: Pubkey, market: Pubkey, reserve: Pubkey, paused: bool) -> Instruction {
    instruction(
        ballast::accounts::ReserveAdmin { admin, market, reserve },
        ballast::instruction::SetReservePause { paused },
    )
}

pub fn set_market_pause(admin: Pubkey, market: Pubkey, paused: bool) -> Instruction {
    instruction(
        ballast::accounts::MarketAdmin { admin, market },
        ballast::instruction::SetMarketPause { paused },
    )
}

/// Admin: the market's target health, dust threshold and timelock.
pub fn configure_market(
    admin: Pubkey,
    market: Pubkey,
    params: ballast::instructions::MarketParams,
) -> Instruction {
    instruction(
        ballast::accounts::MarketAdmin { admin, market },
        ballast::instruction::ConfigureMarket { params },
    )
}

pub fn apply_market_config(market: Pubkey) -> Instruction {
    instruction(ballast::accounts::ApplyMarketConfig { market }, ballast::instruction::ApplyMarketConfig {})
}

/// Admin: the joint stress test's shock per group (bps; index 0 must be 0).
pub fn set_stress_shocks(admin: Pubkey, market: Pubkey, shocks: [u16; 8]) -> Instruction {
    instruction(
        ballast::accounts::MarketAdmin { admin, market },
        ballast::instruction::SetStressShocks { shocks },
    )
}

pub fn apply_stress_shocks(market: Pubkey) -> Instruction {
    instruction(ballast::accounts::ApplyStressShocks { market }, ballast::instruction::ApplyStressShocks {})
}

pub fn propose_admin(admin: Pubkey, market: Pubkey, new_admin: Pubkey) -> Instruction {
    instruction(
        ballast::accounts::MarketAdmin { admin, market },
        ballast::instruction::ProposeAdmin { new_admin },
    )
}

pub fn accept_admin(new_admin: Pubkey, market: Pubkey) -> Instruction {
    instruction(ballast::accounts::AcceptAdmin { new_admin, market }, ballast::instruction::AcceptAdmin {})
}

/// The reserves a health check covers, in slot order: the position's occupied slots, with
/// `adding` placed where the program will put it (its slot, or the first free one).
pub fn health_reserves(position: &Position, adding: Option<Pubkey>) -> Vec<Pubkey> {
    let mut slots: Vec<Pubkey> = position.slots.iter().map(|s| s.reserve).collect();
    if let Some(r) = adding {
        if !slots.contains(&r) {
            if let Some(free) = slots.iter_mut().find(|k| **k == Pubkey::default()) {
                *free = r;
            }
        }
    }
    slots.into_iter().filter(|k| *k != Pubkey::default()).collect()
}

/// `refresh_mint` for every reserve among `slots` whose mint's state can change
/// (`Reserve::mint_dynamic`): a borrow or a withdrawal with debt counts such a collateral, and
/// accepts such a debt (`MintCacheStale`), only if its cached mint state is fresh
/// (`MINT_CACHE_MAX_AGE_SECS`), so clients send these first, in the same transaction.
pub fn mint_refreshes(slots: &[Pubkey], reserve_of: impl Fn(&Pubkey) -> Option<Reserve>) -> Vec<Instruction> {
    slots
        .iter()
        .filter_map(|key| reserve_of(key).filter(|r| r.mint_dynamic != 0).map(|r| refresh_mint(*key, r.mint)))
        .collect()
}

/// Remaining accounts for a health check: `(reserve, oracle)` per reserve, in order.
pub fn health_accounts(reserves: &[Pubkey], oracle_of: impl Fn(&Pubkey) -> Pubkey) -> Vec<AccountMeta> {
    reserves
        .iter()
        .flat_map(|r| [AccountMeta::new_readonly(*r, false), AccountMeta::new_readonly(oracle_of(r), false)])
        .collect()
}

fn with_remaining(mut ix: Instruction, remaining: Vec<AccountMeta>) -> Instruction {
    ix.accounts.extend(remaining);
    ix
}

pub fn borrow(
    owner: Pubkey,
    position: Pubkey,
    reserve: &ReserveKeys,
    destination: Pubkey,
    amount: u64,
    remaining: Vec<AccountMeta>,
) -> Instruction {
    with_remaining(
        instruction(
            ballast::accounts::PositionTokens {
                owner,
                market: reserve.market,
                position,
                tokens: reserve.tokens(destination),
            },
            ballast::instruction::Borrow { amount },
        ),
        remaining,
    )
}

/// `amount == u64::MAX` repays the whole debt. Needs no remaining accounts.
pub fn repay(
    payer: Pubkey,
    position: Pubkey,
    reserve: &ReserveKeys,
    source: Pubkey,
    amount: u64,
) -> Instruction {
    instruction(
        ballast::accounts::Repay { payer, position, tokens: reserve.tokens(source) },
        ballast::instruction::Repay { amount },
    )
}

/// Withdraw from a position with debt: remaining accounts as for borrow.
pub fn withdraw_with_health(
    owner: Pubkey,
    position: Pubkey,
    reserve: &ReserveKeys,
    destination: Pubkey,
    amount: u64,
    remaining: Vec<AccountMeta>,
) -> Instruction {
    with_remaining(withdraw(owner, position, reserve, destination, amount), remaining)
}

/// The read-only health view of `position` in `market`; simulate it and decode the return data
/// as `HealthReport`.
pub fn health(market: Pubkey, position: Pubkey, remaining: Vec<AccountMeta>) -> Instruction {
    with_remaining(
        instruction(ballast::accounts::PositionHealth { position, market }, ballast::instruction::Health {}),
        remaining,
    )
}

/// Permissionless fee crank; `fee_destination` is the market fee receiver's token account.
pub fn collect_fees(
    market: Pubkey,
    reserve: &ReserveKeys,
    insurance_vault: Pubkey,
    fee_destination: Pubkey,
) -> Instruction {
    instruction(
        ballast::accounts::CollectFees { market, tokens: reserve.tokens(fee_destination), insurance_vault },
        ballast::instruction::CollectFees {},
    )
}

/// The two sides of a liquidation: the debt the keeper repays from `source` and the collateral
/// it receives in `destination`, or as deposit shares in its own position `into_position` (the
/// way to liquidate collateral whose reserve is borrowed dry; `destination` is then unused but
/// must still be a token account of the seized mint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiquidationSides<'a> {
    pub repay: &'a ReserveKeys,
    pub source: Pubkey,
    pub seize: &'a ReserveKeys,
    pub destination: Pubkey,
    pub into_position: Option<Pubkey>,
}

/// Permissionless liquidation; `max_repay == u64::MAX` repays as much as allowed. `remaining`:
/// `(reserve, oracle)` for every occupied slot of the position (see `health_accounts`).
pub fn liquidate(
    liquidator: Pubkey,
    market: Pubkey,
    position: Pubkey,
    sides: LiquidationSides,
    max_repay: u64,
    remaining: Vec<AccountMeta>,
) -> Instruction {
    with_remaining(
        instruction(
            ballast::accounts::Liquidate {
                liquidator,
                market,
                position,
                repay: sides.repay.tokens(sides.source),
                seize: sides.seize.tokens(sides.destination),
                insurance_vault: pda::insurance_vault(&sides.seize.reserve),
                liquidator_position: sides.into_position,
            },
            ballast::instruction::Liquidate { max_repay },
        ),
        remaining,
    )
}

/// Remaining accounts for `resolve_bad_debt`: none when the position holds no deposit, else
/// `(reserve, oracle)` per occupied slot in order, deposit slots' reserves writable (their dust
/// is forfeited).
pub fn resolve_accounts(position: &Position, oracle_of: impl Fn(&Pubkey) -> Pubkey) -> Vec<AccountMeta> {
    if position.slots.iter().all(|s| s.deposit_shares == 0) {
        return Vec::new();
    }
    position
        .slots
        .iter()
        .filter(|s| !s.is_free())
        .flat_map(|s| {
            let reserve = if s.deposit_shares > 0 {
                AccountMeta::new(s.reserve, false)
            } else {
                AccountMeta::new_readonly(s.reserve, false)
            };
            [reserve, AccountMeta::new_readonly(oracle_of(&s.reserve), false)]
        })
        .collect()
}

/// Permissionless write-off of a position's debt in `reserve` once its deposits are dust
/// (`remaining`: [`resolve_accounts`]).
pub fn resolve_bad_debt(
    market: Pubkey,
    position: Pubkey,
    reserve: &ReserveKeys,
    remaining: Vec<AccountMeta>,
) -> Instruction {
    with_remaining(
        instruction(
            ballast::accounts::ResolveBadDebt {
                market,
                position,
                reserve: reserve.reserve,
                mint: reserve.mint,
                vault: reserve.vault,
                insurance_vault: pda::insurance_vault(&reserve.reserve),
                token_program: reserve.token_program,
            },
            ballast::instruction::ResolveBadDebt {},
        ),
        remaining,
    )
}

/// Permissionless burn of a position's deposit shares of `reserve` that are worth zero tokens.
pub fn forfeit_worthless_deposit(position: Pubkey, reserve: Pubkey) -> Instruction {
    instruction(
        ballast::accounts::ForfeitWorthlessDeposit { position, reserve },
        ballast::instruction::ForfeitWorthlessDeposit {},
    )
}

/// Permissionless re-read of a reserve's mint (ScaledUiAmount schedule, pause flag).
pub fn refresh_mint(reserve: Pubkey, mint: Pubkey) -> Instruction {
    instruction(ballast::accounts::RefreshMint { reserve, mint }, ballast::instruction::RefreshMint {})
}

/// The read-only reserve view; simulate it and decode the return data as `ReserveStatus`.
pub fn reserve_status(reserve: Pubkey) -> Instruction {
    instruction(
        ballast::accounts::ReserveView { reserve, insurance_vault: pda::insurance_vault(&reserve) },
        ballast::instruction::ReserveStatus {},
    )
}
