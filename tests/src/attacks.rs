//! The attack matrix (issue 11 item 1): each cell is one classic Solana attack on one
//! instruction, as a scenario that tries it and asserts the named error *and* byte-for-byte
//! unchanged state (`TestEnv::expect_failure`). `tests/tests/attacks.rs` runs every cell in the
//! three modes; `cargo run -p ballast-tests --bin security-matrix` runs them and writes the table
//! in `docs/security.md`, so a cell can never name a test that does not exist or does not pass.
use std::future::Future;
use std::pin::Pin;

use anchor_lang::error::ErrorCode;
use anchor_spl::token::ID as SPL_TOKEN;
use ballast::error::BallastError;
use ballast_sdk::ix;
use solana_signer::Signer;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_spl::token_2022::ID as TOKEN_2022;

use crate::fixtures::{Keeper, PricedMarket, ReserveFixture};
use crate::{Mode, TestEnv};

const USDC_UNIT: u64 = 1_000_000;

/// One cell: which instruction, which attack class, what must happen, the scenario's name and
/// the scenario (which asserts exactly that, and panics otherwise).
pub struct Cell {
    pub instruction: &'static str,
    pub class: &'static str,
    pub expected: &'static str,
    pub name: &'static str,
    pub run: fn(Mode) -> Pin<Box<dyn Future<Output = ()>>>,
}

/// A cell's scenario: `name(mode)`, or `name(f, arg)` for a scenario shared by several cells
/// (`f(mode, arg)`).
macro_rules! cell_run {
    ($name:ident) => {
        |m| Box::pin($name(m))
    };
    ($name:ident, $f:ident, $arg:expr) => {
        |m| Box::pin($f(m, $arg))
    };
}

macro_rules! cells {
    ($($instruction:literal, $class:literal, $expected:literal => $name:ident $(($f:ident, $arg:expr))?;)*) => {
        /// Every cell of the matrix, in table order.
        pub const CELLS: &[Cell] = &[
            $(Cell {
                instruction: $instruction,
                class: $class,
                expected: $expected,
                name: stringify!($name),
                run: cell_run!($name $(, $f, $arg)?),
            },)*
        ];
    };
}

cells! {
    // Missing signer: every instruction that needs one.
    "init_market", "missing signer", "`AccountNotSigner`" => init_a_market_without_the_creator_signature;
    "add_reserve", "missing signer", "`AccountNotSigner`" => list_without_the_admin_signature;
    "configure_reserve", "missing signer", "`AccountNotSigner`" => configure_reserve_without_the_admin_signature;
    "configure_session", "missing signer", "`AccountNotSigner`" => configure_a_session_without_the_admin_signature;
    "cancel_reserve_config", "missing signer", "`AccountNotSigner`" => cancel_a_queued_config_without_the_admin_signature;
    "set_reserve_pause", "missing signer", "`AccountNotSigner`" => pause_a_reserve_without_the_admin_signature;
    "set_price_unusable", "missing signer", "`AccountNotSigner`" => mark_a_price_unusable_without_the_admin_signature;
    "set_stress_shocks", "missing signer", "`AccountNotSigner`" => set_stress_shocks_without_the_admin_signature;
    "configure_market", "missing signer", "`AccountNotSigner`" => configure_the_market_without_the_admin_signature;
    "set_market_pause", "missing signer", "`AccountNotSigner`" => pause_the_market_without_the_admin_signature;
    "propose_admin", "missing signer", "`AccountNotSigner`" => propose_an_admin_without_the_admin_signature;
    "accept_admin", "missing signer", "`AccountNotSigner`" => accept_admin_without_the_new_admin_signature;
    "open_position", "missing signer", "`AccountNotSigner`" => open_a_position_without_the_owner_signature;
    "deposit", "missing signer", "`AccountNotSigner`" => deposit_without_the_owner_signature;
    "withdraw", "missing signer", "`AccountNotSigner`" => withdraw_without_the_owner_signature;
    "borrow", "missing signer", "`AccountNotSigner`" => borrow_without_the_owner_signature;
    "repay", "missing signer", "`AccountNotSigner`" => repay_without_the_payer_signature;
    "liquidate", "missing signer", "`AccountNotSigner`" => liquidate_without_the_liquidator_signature;
    // Wrong owner and type cosplay.
    "configure_reserve", "type cosplay", "`AccountDiscriminatorMismatch`" => configure_reserve_with_a_reserve_as_the_market;
    "deposit", "type cosplay", "`AccountDiscriminatorMismatch`" => deposit_into_a_position_passed_as_the_reserve;
    "deposit", "wrong owner", "`AccountOwnedByWrongProgram`" => deposit_into_a_look_alike_reserve_of_another_program;
    "borrow", "look-alike in remaining accounts", "`OracleWrongAccount`" => borrow_with_a_look_alike_oracle_of_another_program;
    // PDA substitution.
    "add_reserve", "PDA substitution", "`ConstraintSeeds`" => list_with_a_vault_from_other_seeds;
    "add_reserve", "PDA substitution", "`ConstraintSeeds`" => list_with_an_insurance_vault_from_other_seeds;
    // Arbitrary CPI.
    "repay", "arbitrary CPI", "`InvalidProgramId`" => repay_through_a_program_that_is_not_a_token_program;
    "liquidate", "arbitrary CPI", "`InvalidProgramId`" => liquidate_through_a_program_that_is_not_a_token_program;
    "collect_fees", "arbitrary CPI", "`InvalidProgramId`" => collect_fees_through_a_program_that_is_not_a_token_program;
    "resolve_bad_debt", "arbitrary CPI", "`InvalidProgramId`" => resolve_through_a_program_that_is_not_a_token_program;
    // Duplicate mutable accounts.
    "liquidate", "duplicate mutable accounts", "`ConstraintDuplicateMutableAccount`" => liquidate_into_the_insurance_vault;
    "liquidate", "duplicate mutable accounts", "`LiquidatorPositionIsTarget`" => liquidate_into_the_liquidated_position;
    "collect_fees", "duplicate mutable accounts", "`ConstraintDuplicateMutableAccount`" => collect_fees_into_the_insurance_vault;
    "deposit", "duplicate mutable accounts", "`VaultAsUserAccount`" => deposit_from_the_vault_itself;
    // Cross-market accounts.
    "repay", "cross-market accounts", "`WrongMarket`" => repay_a_position_of_another_market;
    "liquidate", "cross-market accounts", "`WrongMarket`" => liquidate_with_another_markets_reserve;
    "resolve_bad_debt", "cross-market accounts", "`WrongMarket`" => resolve_a_position_against_another_markets_reserve;
    "collect_fees", "cross-market accounts", "`WrongMarket`" => collect_fees_of_another_markets_reserve;
    "configure_reserve", "cross-market accounts", "`WrongMarket`" => configure_another_markets_reserve;
    "set_reserve_pause", "cross-market accounts", "`WrongMarket`" => pause_another_markets_reserve;
    // Remaining accounts.
    "borrow", "remaining accounts reordered", "`RemainingAccountsMismatch`" => borrow_with_the_health_accounts_reordered(borrow_bent, Bend::Reordered);
    "borrow", "remaining accounts extra", "`RemainingAccountsMismatch`" => borrow_with_an_extra_health_account(borrow_bent, Bend::Extra);
    "borrow", "remaining accounts from another market", "`RemainingAccountsMismatch`" => borrow_with_a_foreign_reserve_in_the_health_accounts(borrow_bent, Bend::Foreign);
    "borrow", "remaining accounts short a pair", "`RemainingAccountsMismatch`" => borrow_with_a_health_pair_missing(borrow_bent, Bend::Missing);
    "withdraw", "remaining accounts reordered", "`RemainingAccountsMismatch`" => withdraw_with_the_health_accounts_reordered(withdraw_bent, Bend::Reordered);
    "withdraw", "remaining accounts extra", "`RemainingAccountsMismatch`" => withdraw_with_an_extra_health_account(withdraw_bent, Bend::Extra);
    "withdraw", "remaining accounts from another market", "`RemainingAccountsMismatch`" => withdraw_with_a_foreign_reserve_in_the_health_accounts(withdraw_bent, Bend::Foreign);
    "liquidate", "remaining accounts reordered", "`RemainingAccountsMismatch`" => liquidate_with_the_health_accounts_reordered(liquidate_bent, Bend::Reordered);
    "liquidate", "remaining accounts extra", "`RemainingAccountsMismatch`" => liquidate_with_an_extra_health_account(liquidate_bent, Bend::Extra);
    "liquidate", "remaining accounts from another market", "`RemainingAccountsMismatch`" => liquidate_with_a_foreign_reserve_in_the_health_accounts(liquidate_bent, Bend::Foreign);
    "liquidate", "remaining accounts short a pair", "`RemainingAccountsMismatch`" => liquidate_with_a_health_pair_missing(liquidate_bent, Bend::Missing);
    "liquidate", "remaining accounts odd", "`RemainingAccountsMismatch`" => liquidate_with_half_a_health_pair(liquidate_bent, Bend::Odd);
    // Timelock bypass and cranks given the wrong account.
    "apply_reserve_config", "timelock bypass", "`TimelockNotElapsed`" => apply_a_loosening_before_its_timelock;
    "apply_market_config", "timelock bypass", "`TimelockNotElapsed`" => apply_a_market_loosening_before_its_timelock;
    "apply_reserve_config", "type cosplay", "`AccountDiscriminatorMismatch`" => apply_a_config_to_a_position;
    "apply_session", "type cosplay", "`AccountDiscriminatorMismatch`" => apply_a_session_to_the_market;
    "apply_stress_shocks", "type cosplay", "`AccountDiscriminatorMismatch`" => apply_stress_shocks_to_a_reserve;
    "health", "type cosplay", "`AccountDiscriminatorMismatch`" => health_of_a_reserve_passed_as_the_position;
    "health", "cross-market accounts", "`WrongMarket` (another market's stress shocks)" => health_under_another_markets_shocks;
    "reserve_status", "type cosplay", "`AccountDiscriminatorMismatch`" => status_of_a_position_passed_as_the_reserve;
    "refresh_mint", "wrong account", "`WrongMint`" => refresh_a_reserve_from_another_mint;
    "forfeit_worthless_deposit", "cross-market accounts", "`WrongMarket`" => forfeit_against_another_markets_reserve;
    // Re-initialization.
    "add_reserve", "re-initialization", "refused by the runtime" => add_the_same_mint_twice;
    "open_position", "re-initialization", "refused by the runtime" => open_the_same_position_twice;
    // Token-2022 changes after listing.
    "deposit / borrow", "Token-2022: fee set after listing", "`MintTransferFee`; repay goes on" => deposit_after_the_issuer_sets_a_transfer_fee;
    "deposit", "Token-2022: hook set after listing", "`MintTransferHook`; withdraw goes on" => deposit_after_the_issuer_sets_a_transfer_hook;
    "deposit / withdraw", "Token-2022: default state Frozen after listing", "the reserve goes on; a new frozen account: token `AccountFrozen`" => the_default_state_switched_to_frozen_after_listing;
    // Amounts 0, 1 and u64::MAX.
    "deposit", "amounts 0 / 1 / u64::MAX", "`ZeroAmount`; 1 booked rounded down; `MathOverflow`" => deposit_zero_one_or_everything_there_is;
    "withdraw", "amounts 0 / 1 / u64::MAX", "`ZeroAmount`; 1 paid, shares rounded up; all: `InsufficientCollateral` with debt" => withdraw_zero_one_or_everything;
    "borrow", "amounts 0 / 1 / u64::MAX", "`ZeroAmount`; 1 owed rounded up; `InsufficientLiquidity`" => borrow_zero_one_or_everything_there_is;
    "repay", "amounts 0 / 1 / u64::MAX", "`ZeroAmount`; 1 repaid; all repaid, slot freed" => repay_zero_one_or_everything;
    "liquidate", "amounts 0 / 1 / u64::MAX", "`ZeroAmount`; 1: `LiquidationTooSmall`; the close factor binds" => liquidate_zero_one_or_as_much_as_allowed;
}

/// Anchor's own error codes as the expected error.
fn anchor(code: ErrorCode) -> u32 {
    code.into()
}

async fn borrow_without_the_owner_signature(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let ixn = m.borrow_ix(100 * USDC_UNIT).await;
    let owner = m.borrower.wallet.pubkey();
    let w = m.watched();
    refuse_unsigned(&mut m.env, "unsigned borrow", ixn, &owner, &w).await;
}

async fn accept_admin_without_the_new_admin_signature(mode: Mode) {
    let mut env = TestEnv::start(mode).await;
    let market = env.create_market().await;
    let new_admin = env.keypair();
    let admin = market.admin.insecure_clone();
    let propose = ix::propose_admin(admin.pubkey(), market.market, new_admin.pubkey());
    env.send("propose_admin", &[propose], &[&admin]).await.unwrap();
    let accept = ix::accept_admin(new_admin.pubkey(), market.market);
    refuse_unsigned(&mut env, "unsigned accept", accept, &new_admin.pubkey(), &[market.market]).await;
}

async fn configure_reserve_without_the_admin_signature(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let admin = m.market.admin.pubkey();
    let oracle = ballast_sdk::params::default_oracle(crate::fixtures::SOL_FEED, m.sol_oracle);
    let mut risk = ballast_sdk::params::default_risk();
    risk.init_haircut_bps = 0; // a loosening nobody signed for
    let ixn = ix::configure_reserve(
        admin,
        m.market.market,
        m.sol.keys.reserve,
        oracle,
        risk,
        ballast_sdk::params::default_interest(),
        ballast_sdk::params::no_caps(),
    );
    let w = [m.market.market, m.sol.keys.reserve];
    refuse_unsigned(&mut m.env, "unsigned configure", ixn, &admin, &w).await;
}

async fn configure_reserve_with_a_reserve_as_the_market(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let admin = m.market.admin.insecure_clone();
    let oracle = ballast_sdk::params::default_oracle(crate::fixtures::SOL_FEED, m.sol_oracle);
    let ixn = ix::configure_reserve(
        admin.pubkey(),
        m.usdc.keys.reserve, // a Reserve where the Market goes
        m.sol.keys.reserve,
        oracle,
        ballast_sdk::params::default_risk(),
        ballast_sdk::params::default_interest(),
        ballast_sdk::params::no_caps(),
    );
    let w = [m.market.market, m.sol.keys.reserve, m.usdc.keys.reserve];
    let code = anchor(ErrorCode::AccountDiscriminatorMismatch);
    m.env.expect_failure("reserve as market", &[ixn], &[&admin], code, &w).await;
}

async fn repay_through_a_program_that_is_not_a_token_program(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.borrow(100 * USDC_UNIT).await.unwrap();
    let wallet = m.borrower.wallet.insecure_clone();
    let ixn = ix::repay(wallet.pubkey(), m.borrower.position, &m.usdc.keys, m.borrower_usdc, USDC_UNIT);
    let w = m.watched();
    let code = anchor(ErrorCode::InvalidProgramId);
    m.env.expect_failure("fake token program", &[with_a_fake_token_program(ixn)], &[&wallet], code, &w).await;
}

async fn repay_a_position_of_another_market(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.borrow(100 * USDC_UNIT).await.unwrap();
    // A second market with a reserve of its own; its user repays there for a position of the
    // first market.
    let other = m.env.create_market().await;
    let reserve = m.env.add_reserve(&other, SPL_TOKEN, 6, u64::MAX).await;
    let payer = m.env.funded_wallet(1_000_000_000).await;
    let source = m.env.token_account(&reserve, &payer.pubkey(), 1_000 * USDC_UNIT).await;
    let ixn = ix::repay(payer.pubkey(), m.borrower.position, &reserve.keys, source, USDC_UNIT);
    let mut w = m.watched();
    w.extend([reserve.keys.reserve, reserve.keys.vault, source]);
    m.env.expect_failure("cross-market repay", &[ixn], &[&payer], BallastError::WrongMarket, &w).await;
}

async fn add_the_same_mint_twice(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let admin = m.market.admin.insecure_clone();
    let args = crate::fixtures::crypto_listing(u64::MAX);
    let again = ix::add_reserve(admin.pubkey(), m.market.market, m.sol.keys.mint, SPL_TOKEN, args);
    let w = [m.sol.keys.reserve, m.sol.keys.vault, m.sol.insurance_vault];
    // Anchor's `init` of the reserve PDA fails in the runtime before any handler runs.
    m.env.expect_runtime_refusal("second listing", &[again], &[&admin], &w).await;
}

async fn open_the_same_position_twice(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let wallet = m.borrower.wallet.insecure_clone();
    let again = ix::open_position(wallet.pubkey(), m.market.market, 0);
    let w = [m.borrower.position];
    m.env.expect_runtime_refusal("second open", &[again], &[&wallet], &w).await;
}

async fn deposit_zero_one_or_everything_there_is(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let wallet = m.borrower.wallet.insecure_clone();
    let w = m.watched();
    let zero = ix::deposit(wallet.pubkey(), m.borrower.position, &m.sol.keys, m.borrower_sol, 0);
    m.env.expect_failure("deposit 0", &[zero], &[&wallet], BallastError::ZeroAmount, &w).await;
    // u64::MAX tokens cannot be booked next to what the reserve holds: refused before any transfer.
    let max = ix::deposit(wallet.pubkey(), m.borrower.position, &m.sol.keys, m.borrower_sol, u64::MAX);
    m.env.expect_failure("deposit u64::MAX", &[max], &[&wallet], BallastError::MathOverflow, &w).await;
    // One unit: the vault gains 1 and the position's claim grows by at most 1.
    mint_more_sol(&mut m, 1).await;
    let claim_before = sol_claim(&mut m).await;
    let vault_before = m.env.token_balance(m.sol.keys.vault).await;
    let one = ix::deposit(wallet.pubkey(), m.borrower.position, &m.sol.keys, m.borrower_sol, 1);
    m.env.send("deposit 1", &[one], &[&wallet]).await.unwrap();
    assert_eq!(m.env.token_balance(m.sol.keys.vault).await, vault_before + 1);
    assert!(sol_claim(&mut m).await <= claim_before + 1, "a deposit of 1 claims at most 1");
}

/// Mints `amount` more SOL to the borrower's wallet account.
async fn mint_more_sol(m: &mut PricedMarket, amount: u64) {
    let sol = m.sol.clone();
    m.env.mint_to(&sol, m.borrower_sol, amount).await;
}

/// The tokens the borrower's SOL deposit shares are worth (rounded down).
async fn sol_claim(m: &mut PricedMarket) -> u64 {
    let position = m.env.position_state(m.borrower.position).await;
    let reserve = m.env.reserve_state(m.sol.keys.reserve).await;
    let shares =
        position.slots.iter().find(|s| s.reserve == m.sol.keys.reserve).map_or(0, |s| s.deposit_shares);
    let assets = reserve.total_deposit_assets().unwrap();
    ballast_risk::shares::amount_for_shares(shares, reserve.total_deposit_shares, assets).unwrap()
}

async fn borrow_zero_one_or_everything_there_is(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let wallet = m.borrower.wallet.insecure_clone();
    let w = m.watched();
    let zero = m.borrow_ix(0).await;
    m.env.expect_failure("borrow 0", &[zero], &[&wallet], BallastError::ZeroAmount, &w).await;
    let max = m.borrow_ix(u64::MAX).await;
    m.env
        .expect_failure("borrow u64::MAX", &[max], &[&wallet], BallastError::InsufficientLiquidity, &w)
        .await;
    // One unit: the wallet receives 1 and the position owes at least 1.
    m.borrow(1).await.unwrap();
    assert_eq!(m.env.token_balance(m.borrower_usdc).await, 1);
    assert!(usdc_debt(&mut m).await >= 1, "a borrow of 1 owes at least 1");
}

/// What the borrower owes in USDC (rounded up).
async fn usdc_debt(m: &mut PricedMarket) -> u64 {
    let position = m.env.position_state(m.borrower.position).await;
    let reserve = m.env.reserve_state(m.usdc.keys.reserve).await;
    let shares =
        position.slots.iter().find(|s| s.reserve == m.usdc.keys.reserve).map_or(0, |s| s.borrow_shares);
    let index = reserve.borrow_index.get();
    ballast_risk::interest::debt_for_shares(shares, index, ballast_risk::fixed::Rounding::Up).unwrap()
}

/// `ixn` with every signer flag of `key` cleared.
fn unsigned(mut ixn: Instruction, key: &Pubkey) -> Instruction {
    ixn.accounts.iter_mut().filter(|a| a.pubkey == *key).for_each(|a| a.is_signer = false);
    ixn
}

async fn pause_a_reserve_without_the_admin_signature(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let admin = m.market.admin.pubkey();
    let ixn = ix::set_reserve_pause(admin, m.market.market, m.sol.keys.reserve, true);
    let w = [m.market.market, m.sol.keys.reserve];
    refuse_unsigned(&mut m.env, "unsigned pause", ixn, &admin, &w).await;
}

async fn pause_the_market_without_the_admin_signature(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let admin = m.market.admin.pubkey();
    let ixn = ix::set_market_pause(admin, m.market.market, true);
    let w = [m.market.market];
    refuse_unsigned(&mut m.env, "unsigned market pause", ixn, &admin, &w).await;
}

async fn propose_an_admin_without_the_admin_signature(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let admin = m.market.admin.pubkey();
    let thief = m.env.keypair().pubkey();
    let ixn = ix::propose_admin(admin, m.market.market, thief);
    let w = [m.market.market];
    refuse_unsigned(&mut m.env, "unsigned propose", ixn, &admin, &w).await;
}

async fn list_with_a_vault_from_other_seeds(mode: Mode) {
    let mut env = TestEnv::start(mode).await;
    let market = env.create_market().await;
    let (mint, _) = env.create_mint(SPL_TOKEN, 6).await;
    let admin = market.admin.insecure_clone();
    let args = crate::fixtures::crypto_listing(u64::MAX);
    let mut ixn = ix::add_reserve(admin.pubkey(), market.market, mint, SPL_TOKEN, args);
    // The vault slot (after admin, market, mint, reserve) gets the insurance vault's address.
    let reserve = ballast_sdk::pda::reserve(&market.market, &mint);
    ixn.accounts[4].pubkey = ballast_sdk::pda::insurance_vault(&reserve);
    let w = [reserve, ballast_sdk::pda::vault(&reserve), ballast_sdk::pda::insurance_vault(&reserve)];
    let code = anchor(ErrorCode::ConstraintSeeds);
    env.expect_failure("vault from other seeds", &[ixn], &[&admin], code, &w).await;
}

async fn collect_fees_through_a_program_that_is_not_a_token_program(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let fee_receiver = m.market.fee_receiver;
    let fee_usdc = m.env.token_account(&m.usdc, &fee_receiver, 0).await;
    let ixn = ix::collect_fees(m.market.market, &m.usdc.keys, m.usdc.insurance_vault, fee_usdc);
    let w = [m.usdc.keys.reserve, m.usdc.keys.vault, m.usdc.insurance_vault, fee_usdc];
    let code = anchor(ErrorCode::InvalidProgramId);
    m.env.expect_failure("fake token program", &[with_a_fake_token_program(ixn)], &[], code, &w).await;
}

async fn resolve_a_position_against_another_markets_reserve(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.borrow(100 * USDC_UNIT).await.unwrap();
    let other = m.env.create_market().await;
    let reserve = m.env.add_reserve(&other, SPL_TOKEN, 6, u64::MAX).await;
    let ixn = ix::resolve_bad_debt(m.market.market, m.borrower.position, &reserve.keys, Vec::new());
    let mut w = m.watched();
    w.extend([reserve.keys.reserve, reserve.keys.vault]);
    m.env.expect_failure("foreign reserve", &[ixn], &[], BallastError::WrongMarket, &w).await;
}

// ---- Missing signer -------------------------------------------------------------------------

/// Sends `ixn` with `key`'s signature flag cleared (the payer alone signs) and expects
/// `AccountNotSigner` with every `watched` account unchanged.
async fn refuse_unsigned(env: &mut TestEnv, label: &str, ixn: Instruction, key: &Pubkey, watched: &[Pubkey]) {
    let ixn = unsigned(ixn, key);
    env.expect_failure(label, &[ixn], &[], anchor(ErrorCode::AccountNotSigner), watched).await;
}

async fn init_a_market_without_the_creator_signature(mode: Mode) {
    let mut env = TestEnv::start(mode).await;
    let creator = env.funded_wallet(1_000_000_000).await.pubkey();
    let ixn = ix::init_market(creator, 77, creator);
    let market = ballast_sdk::pda::market(&creator, 77);
    refuse_unsigned(&mut env, "unsigned init_market", ixn, &creator, &[market, creator]).await;
}

async fn list_without_the_admin_signature(mode: Mode) {
    let mut env = TestEnv::start(mode).await;
    let market = env.create_market().await;
    let (mint, _) = env.create_mint(SPL_TOKEN, 6).await;
    let admin = market.admin.pubkey();
    let ixn =
        ix::add_reserve(admin, market.market, mint, SPL_TOKEN, crate::fixtures::crypto_listing(u64::MAX));
    let reserve = ballast_sdk::pda::reserve(&market.market, &mint);
    refuse_unsigned(&mut env, "unsigned add_reserve", ixn, &admin, &[market.market, reserve]).await;
}

async fn configure_a_session_without_the_admin_signature(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let admin = m.market.admin.pubkey();
    let ixn = ix::configure_session(admin, m.market.market, m.sol.keys.reserve, None);
    let w = [m.market.market, m.sol.keys.reserve];
    refuse_unsigned(&mut m.env, "unsigned configure_session", ixn, &admin, &w).await;
}

async fn cancel_a_queued_config_without_the_admin_signature(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let admin = m.market.admin.pubkey();
    let ixn = ix::cancel_reserve_config(admin, m.market.market, m.sol.keys.reserve);
    let w = [m.market.market, m.sol.keys.reserve];
    refuse_unsigned(&mut m.env, "unsigned cancel_reserve_config", ixn, &admin, &w).await;
}

async fn mark_a_price_unusable_without_the_admin_signature(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let admin = m.market.admin.pubkey();
    let ixn = ix::set_price_unusable(admin, m.market.market, m.sol.keys.reserve, true);
    let w = [m.market.market, m.sol.keys.reserve];
    refuse_unsigned(&mut m.env, "unsigned set_price_unusable", ixn, &admin, &w).await;
}

async fn set_stress_shocks_without_the_admin_signature(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let admin = m.market.admin.pubkey();
    let ixn = ix::set_stress_shocks(admin, m.market.market, [0; 8]);
    let w = [m.market.market];
    refuse_unsigned(&mut m.env, "unsigned set_stress_shocks", ixn, &admin, &w).await;
}

async fn configure_the_market_without_the_admin_signature(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let admin = m.market.admin.pubkey();
    let params = ballast::instructions::MarketParams {
        liquidation_target_health_bps: ballast::constants::DEFAULT_LIQUIDATION_TARGET_HEALTH_BPS,
        dust_debt_usd: ballast::constants::DEFAULT_DUST_DEBT_USD,
        timelock_secs: 0,
    };
    let ixn = ix::configure_market(admin, m.market.market, params);
    let w = [m.market.market];
    refuse_unsigned(&mut m.env, "unsigned configure_market", ixn, &admin, &w).await;
}

async fn open_a_position_without_the_owner_signature(mode: Mode) {
    let mut env = TestEnv::start(mode).await;
    let market = env.create_market().await;
    let owner = env.funded_wallet(1_000_000_000).await.pubkey();
    let ixn = ix::open_position(owner, market.market, 0);
    let position = ballast_sdk::pda::position(&market.market, &owner, 0);
    refuse_unsigned(&mut env, "unsigned open_position", ixn, &owner, &[position, owner]).await;
}

async fn deposit_without_the_owner_signature(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let owner = m.borrower.wallet.pubkey();
    let ixn = ix::deposit(owner, m.borrower.position, &m.sol.keys, m.borrower_sol, 1);
    let w = m.watched();
    refuse_unsigned(&mut m.env, "unsigned deposit", ixn, &owner, &w).await;
}

async fn withdraw_without_the_owner_signature(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let owner = m.borrower.wallet.pubkey();
    let ixn = ix::withdraw(owner, m.borrower.position, &m.sol.keys, m.borrower_sol, 1);
    let w = m.watched();
    refuse_unsigned(&mut m.env, "unsigned withdraw", ixn, &owner, &w).await;
}

async fn repay_without_the_payer_signature(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.borrow(100 * USDC_UNIT).await.unwrap();
    let owner = m.borrower.wallet.pubkey();
    let ixn = ix::repay(owner, m.borrower.position, &m.usdc.keys, m.borrower_usdc, USDC_UNIT);
    let w = m.watched();
    refuse_unsigned(&mut m.env, "unsigned repay", ixn, &owner, &w).await;
}

async fn liquidate_without_the_liquidator_signature(mode: Mode) {
    let (mut m, keeper) = liquidatable(mode).await;
    let ixn = m.liquidate_ix(&keeper, u64::MAX).await;
    let w = keeper_watched(&m, &keeper);
    refuse_unsigned(&mut m.env, "unsigned liquidate", ixn, &keeper.wallet.pubkey(), &w).await;
}

/// The borrower owes 600 USDC against 10 SOL, and SOL has fallen to $62 (maintenance
/// collateral $589 < $600): liquidatable. A keeper holds 1,000 USDC.
async fn liquidatable(mode: Mode) -> (PricedMarket, Keeper) {
    let mut m = PricedMarket::start(mode).await;
    m.borrow(600 * USDC_UNIT).await.unwrap();
    let keeper = m.keeper(1_000 * USDC_UNIT).await;
    m.set_sol_price(crate::fixtures::NOW, 62).await;
    (m, keeper)
}

/// Every account a liquidation could change.
fn keeper_watched(m: &PricedMarket, keeper: &Keeper) -> Vec<Pubkey> {
    let mut w = m.watched();
    w.extend([keeper.repay_source, keeper.seize_destination, m.sol.insurance_vault]);
    w
}

// ---- Wrong owner, type cosplay ------------------------------------------------------------------

async fn deposit_into_a_position_passed_as_the_reserve(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let wallet = m.borrower.wallet.insecure_clone();
    let keys = ix::ReserveKeys { reserve: m.lender.position, ..m.sol.keys };
    let ixn = ix::deposit(wallet.pubkey(), m.borrower.position, &keys, m.borrower_sol, 1);
    let mut w = m.watched();
    w.push(m.lender.position);
    let code = anchor(ErrorCode::AccountDiscriminatorMismatch);
    m.env.expect_failure("position as reserve", &[ixn], &[&wallet], code, &w).await;
}

async fn deposit_into_a_look_alike_reserve_of_another_program(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    // The SOL reserve's exact bytes, owned by the system program at another address.
    let mut copy = m.env.account(m.sol.keys.reserve).await.unwrap();
    copy.owner = anchor_lang::system_program::ID;
    let fake = m.env.keypair().pubkey();
    m.env.set_account(fake, copy);
    let wallet = m.borrower.wallet.insecure_clone();
    let keys = ix::ReserveKeys { reserve: fake, ..m.sol.keys };
    let ixn = ix::deposit(wallet.pubkey(), m.borrower.position, &keys, m.borrower_sol, 1);
    let mut w = m.watched();
    w.push(fake);
    let code = anchor(ErrorCode::AccountOwnedByWrongProgram);
    m.env.expect_failure("look-alike reserve", &[ixn], &[&wallet], code, &w).await;
}

async fn borrow_with_a_look_alike_oracle_of_another_program(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    // A genuine-looking SOL price at $1,000, owned by a program that is not Pyth's receiver.
    let mut price = crate::fixtures::sol_price(crate::fixtures::NOW - 1);
    price.price *= 10;
    price.ema_price *= 10;
    let mut account = price.account();
    account.owner = ballast::ID;
    let fake = m.env.keypair().pubkey();
    m.env.set_account(fake, account);
    let mut ixn = m.borrow_ix(2_000 * USDC_UNIT).await;
    let at = ixn.accounts.iter().position(|a| a.pubkey == m.sol_oracle).unwrap();
    ixn.accounts[at].pubkey = fake;
    let wallet = m.borrower.wallet.insecure_clone();
    let w = m.watched();
    m.env.expect_failure("look-alike oracle", &[ixn], &[&wallet], BallastError::OracleWrongAccount, &w).await;
}

// ---- PDA substitution ---------------------------------------------------------------------------

async fn list_with_an_insurance_vault_from_other_seeds(mode: Mode) {
    let mut env = TestEnv::start(mode).await;
    let market = env.create_market().await;
    let (mint, _) = env.create_mint(SPL_TOKEN, 6).await;
    let admin = market.admin.insecure_clone();
    let args = crate::fixtures::crypto_listing(u64::MAX);
    let mut ixn = ix::add_reserve(admin.pubkey(), market.market, mint, SPL_TOKEN, args);
    let reserve = ballast_sdk::pda::reserve(&market.market, &mint);
    let insurance = ballast_sdk::pda::insurance_vault(&reserve);
    let at = ixn.accounts.iter().position(|a| a.pubkey == insurance).unwrap();
    // An address the admin controls instead of the program's PDA.
    let own = env.keypair();
    ixn.accounts[at].pubkey = own.pubkey();
    let w = [reserve, ballast_sdk::pda::vault(&reserve), insurance, own.pubkey()];
    let code = anchor(ErrorCode::ConstraintSeeds);
    env.expect_failure("insurance vault from other seeds", &[ixn], &[&admin], code, &w).await;
}

// ---- Arbitrary CPI ------------------------------------------------------------------------------

/// `ixn` with its first SPL Token program account replaced by the system program.
fn with_a_fake_token_program(mut ixn: Instruction) -> Instruction {
    let at = ixn.accounts.iter().position(|a| a.pubkey == SPL_TOKEN).unwrap();
    ixn.accounts[at].pubkey = anchor_lang::system_program::ID;
    ixn
}

async fn liquidate_through_a_program_that_is_not_a_token_program(mode: Mode) {
    let (mut m, keeper) = liquidatable(mode).await;
    let ixn = with_a_fake_token_program(m.liquidate_ix(&keeper, u64::MAX).await);
    let w = keeper_watched(&m, &keeper);
    let signer = keeper.wallet.insecure_clone();
    let code = anchor(ErrorCode::InvalidProgramId);
    m.env.expect_failure("fake token program", &[ixn], &[&signer], code, &w).await;
}

async fn resolve_through_a_program_that_is_not_a_token_program(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.borrow(100 * USDC_UNIT).await.unwrap();
    let keys = m.usdc.keys;
    let ixn = with_a_fake_token_program(m.resolve_ix(&keys).await);
    let mut w = m.watched();
    w.push(m.usdc.insurance_vault);
    m.env.expect_failure("fake token program", &[ixn], &[], anchor(ErrorCode::InvalidProgramId), &w).await;
}

// ---- Duplicate mutable accounts -----------------------------------------------------------------

async fn liquidate_into_the_insurance_vault(mode: Mode) {
    let (mut m, mut keeper) = liquidatable(mode).await;
    keeper.seize_destination = m.sol.insurance_vault;
    let ixn = m.liquidate_ix(&keeper, u64::MAX).await;
    let w = keeper_watched(&m, &keeper);
    let signer = keeper.wallet.insecure_clone();
    let code = anchor(ErrorCode::ConstraintDuplicateMutableAccount);
    m.env.expect_failure("destination = insurance vault", &[ixn], &[&signer], code, &w).await;
}

async fn liquidate_into_the_liquidated_position(mode: Mode) {
    // The borrower liquidates itself, asking for the seizure as shares in the same position.
    let (mut m, _) = liquidatable(mode).await;
    let wallet = m.borrower.wallet.insecure_clone();
    let source = m.borrower_usdc;
    let sol = m.sol.clone();
    let destination = m.env.token_account(&sol, &wallet.pubkey(), 0).await;
    let remaining = m.health_accounts(None).await;
    let sides = ix::LiquidationSides {
        repay: &m.usdc.keys,
        source,
        seize: &m.sol.keys,
        destination,
        into_position: Some(m.borrower.position),
    };
    let ixn =
        ix::liquidate(wallet.pubkey(), m.market.market, m.borrower.position, sides, u64::MAX, remaining);
    let mut w = m.watched();
    w.extend([destination, m.sol.insurance_vault]);
    let code = BallastError::LiquidatorPositionIsTarget;
    m.env.expect_failure("liquidator position = target", &[ixn], &[&wallet], code, &w).await;
}

async fn collect_fees_into_the_insurance_vault(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let insurance = m.usdc.insurance_vault;
    let ixn = ix::collect_fees(m.market.market, &m.usdc.keys, insurance, insurance);
    let w = [m.usdc.keys.reserve, m.usdc.keys.vault, insurance];
    let code = anchor(ErrorCode::ConstraintDuplicateMutableAccount);
    m.env.expect_failure("fees into the pool", &[ixn], &[], code, &w).await;
}

async fn deposit_from_the_vault_itself(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let wallet = m.borrower.wallet.insecure_clone();
    let ixn = ix::deposit(wallet.pubkey(), m.borrower.position, &m.sol.keys, m.sol.keys.vault, 1);
    let w = m.watched();
    m.env.expect_failure("vault as source", &[ixn], &[&wallet], BallastError::VaultAsUserAccount, &w).await;
}

// ---- Cross-market accounts ----------------------------------------------------------------------

/// A second market, its admin, and a 6-decimal SPL Token reserve listed there.
async fn another_market(env: &mut TestEnv) -> (crate::MarketFixture, ReserveFixture) {
    let other = env.create_market().await;
    let reserve = env.add_reserve(&other, SPL_TOKEN, 6, u64::MAX).await;
    (other, reserve)
}

async fn liquidate_with_another_markets_reserve(mode: Mode) {
    let (mut m, keeper) = liquidatable(mode).await;
    let (_, foreign) = another_market(&mut m.env).await;
    let source = m.env.token_account(&foreign, &keeper.wallet.pubkey(), 1_000 * USDC_UNIT).await;
    let remaining = m.health_accounts(None).await;
    let sides = ix::LiquidationSides {
        repay: &foreign.keys,
        source,
        seize: &m.sol.keys,
        destination: keeper.seize_destination,
        into_position: None,
    };
    let ixn = ix::liquidate(
        keeper.wallet.pubkey(),
        m.market.market,
        m.borrower.position,
        sides,
        u64::MAX,
        remaining,
    );
    let mut w = keeper_watched(&m, &keeper);
    w.extend([foreign.keys.reserve, foreign.keys.vault, source]);
    let signer = keeper.wallet.insecure_clone();
    m.env.expect_failure("foreign repay reserve", &[ixn], &[&signer], BallastError::WrongMarket, &w).await;
}

async fn collect_fees_of_another_markets_reserve(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let (_, foreign) = another_market(&mut m.env).await;
    let fee_receiver = m.market.fee_receiver;
    let fee_account = m.env.token_account(&foreign, &fee_receiver, 0).await;
    let ixn = ix::collect_fees(m.market.market, &foreign.keys, foreign.insurance_vault, fee_account);
    let w = [foreign.keys.reserve, foreign.keys.vault, foreign.insurance_vault, fee_account];
    m.env.expect_failure("foreign reserve", &[ixn], &[], BallastError::WrongMarket, &w).await;
}

async fn configure_another_markets_reserve(mode: Mode) {
    // The admin of the first market reconfigures a reserve of a market it does not run.
    let mut m = PricedMarket::start(mode).await;
    let (_, foreign) = another_market(&mut m.env).await;
    let admin = m.market.admin.insecure_clone();
    let oracle = ballast_sdk::params::default_oracle(crate::fixtures::SOL_FEED, m.sol_oracle);
    let ixn = ix::configure_reserve(
        admin.pubkey(),
        m.market.market,
        foreign.keys.reserve,
        oracle,
        ballast_sdk::params::default_risk(),
        ballast_sdk::params::default_interest(),
        ballast_sdk::params::no_caps(),
    );
    let w = [m.market.market, foreign.keys.reserve];
    m.env.expect_failure("foreign reserve", &[ixn], &[&admin], BallastError::WrongMarket, &w).await;
}

async fn pause_another_markets_reserve(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let (_, foreign) = another_market(&mut m.env).await;
    let admin = m.market.admin.insecure_clone();
    let ixn = ix::set_reserve_pause(admin.pubkey(), m.market.market, foreign.keys.reserve, true);
    let w = [m.market.market, foreign.keys.reserve];
    m.env.expect_failure("foreign reserve", &[ixn], &[&admin], BallastError::WrongMarket, &w).await;
}

// ---- Remaining accounts -------------------------------------------------------------------------

/// How a scenario bends the (reserve, oracle) pairs after the instruction's fixed accounts.
#[derive(Clone, Copy)]
enum Bend {
    /// The first two pairs swapped.
    Reordered,
    /// One more pair (the first again) at the end.
    Extra,
    /// The USDC reserve replaced by a reserve of another market.
    Foreign,
    /// The last pair left out.
    Missing,
    /// The last account left out (half a pair).
    Odd,
}

/// Applies `bend` to the last `2 × pairs` accounts of `ixn`; returns any account it brought in.
async fn bend(
    env: &mut TestEnv,
    ixn: &mut Instruction,
    pairs: usize,
    bend: Bend,
    usdc: &Pubkey,
) -> Vec<Pubkey> {
    let start = ixn.accounts.len() - 2 * pairs;
    match bend {
        Bend::Reordered => {
            ixn.accounts[start..].rotate_left(2);
            Vec::new()
        }
        Bend::Extra => {
            let extra = ixn.accounts[start..start + 2].to_vec();
            ixn.accounts.extend(extra);
            Vec::new()
        }
        Bend::Missing => {
            ixn.accounts.truncate(ixn.accounts.len() - 2);
            Vec::new()
        }
        Bend::Odd => {
            ixn.accounts.pop();
            Vec::new()
        }
        Bend::Foreign => {
            let (_, foreign) = another_market(env).await;
            let at = start + ixn.accounts[start..].iter().position(|a| a.pubkey == *usdc).unwrap();
            ixn.accounts[at].pubkey = foreign.keys.reserve;
            vec![foreign.keys.reserve]
        }
    }
}

async fn borrow_bent(mode: Mode, how: Bend) {
    let mut m = PricedMarket::start(mode).await;
    let mut ixn = m.borrow_ix(100 * USDC_UNIT).await;
    let usdc = m.usdc.keys.reserve;
    let brought = bend(&mut m.env, &mut ixn, 2, how, &usdc).await;
    let wallet = m.borrower.wallet.insecure_clone();
    let mut w = m.watched();
    w.extend(brought);
    m.env
        .expect_failure("bent borrow", &[ixn], &[&wallet], BallastError::RemainingAccountsMismatch, &w)
        .await;
}

async fn withdraw_bent(mode: Mode, how: Bend) {
    let mut m = PricedMarket::start(mode).await;
    m.borrow(100 * USDC_UNIT).await.unwrap();
    let remaining = m.health_accounts(None).await;
    let wallet = m.borrower.wallet.insecure_clone();
    let mut ixn = ix::withdraw_with_health(
        wallet.pubkey(),
        m.borrower.position,
        &m.sol.keys,
        m.borrower_sol,
        1_000,
        remaining,
    );
    let usdc = m.usdc.keys.reserve;
    let brought = bend(&mut m.env, &mut ixn, 2, how, &usdc).await;
    let mut w = m.watched();
    w.extend(brought);
    m.env
        .expect_failure("bent withdraw", &[ixn], &[&wallet], BallastError::RemainingAccountsMismatch, &w)
        .await;
}

async fn liquidate_bent(mode: Mode, how: Bend) {
    let (mut m, keeper) = liquidatable(mode).await;
    let mut ixn = m.liquidate_ix(&keeper, u64::MAX).await;
    let usdc = m.usdc.keys.reserve;
    let brought = bend(&mut m.env, &mut ixn, 2, how, &usdc).await;
    let mut w = keeper_watched(&m, &keeper);
    w.extend(brought);
    let signer = keeper.wallet.insecure_clone();
    m.env
        .expect_failure("bent liquidate", &[ixn], &[&signer], BallastError::RemainingAccountsMismatch, &w)
        .await;
}

// ---- Token-2022 changes after listing -------------------------------------------------------------

/// A market with `mint` (a Token-2022 mint already in the bank) listed as crypto with the issuer
/// opt-in, and a user holding 1,000 tokens in a new account who has deposited 100.
async fn listed_token_2022(env: &mut TestEnv, mint: Pubkey) -> (ix::ReserveKeys, crate::UserFixture, Pubkey) {
    let market = env.create_market().await;
    let args = ballast::instructions::AddReserveArgs {
        allow_issuer_controls: true,
        ..crate::fixtures::crypto_listing(u64::MAX)
    };
    let keys = crate::token2022::list_configured(env, &market, mint, args).await;
    let user = env.create_user(&market).await;
    let account = crate::token2022::stock_account(env, mint, &user.wallet.pubkey(), 1_000 * USDC_UNIT).await;
    let deposit = ix::deposit(user.wallet.pubkey(), user.position, &keys, account, 100 * USDC_UNIT);
    env.send("deposit", &[deposit], &[&user.wallet]).await.unwrap();
    (keys, user, account)
}

async fn deposit_after_the_issuer_sets_a_transfer_fee(mode: Mode) {
    use anchor_spl::token_2022::spl_token_2022::extension::transfer_fee::instruction::set_transfer_fee;
    let mut env = TestEnv::start(mode).await;
    let authority = env.funded_wallet(1_000_000_000).await;
    let mint = crate::token2022::transfer_fee_mint(&mut env, Some(&authority.pubkey()), 0).await.pubkey();
    let (keys, user, account) = listed_token_2022(&mut env, mint).await;
    // The issuer sets 1 % with the real instruction (it applies from a coming epoch).
    let set = set_transfer_fee(&TOKEN_2022, &mint, &authority.pubkey(), &[], 100, u64::MAX).unwrap();
    env.send("set fee", &[set], &[&authority]).await.unwrap();
    let w = [keys.reserve, keys.vault, account, user.position];
    let deposit = ix::deposit(user.wallet.pubkey(), user.position, &keys, account, USDC_UNIT);
    env.expect_failure("deposit", &[deposit], &[&user.wallet], BallastError::MintTransferFee, &w).await;
    // The way out stays open: the depositor withdraws.
    let withdraw = ix::withdraw(user.wallet.pubkey(), user.position, &keys, account, 10 * USDC_UNIT);
    env.send("withdraw", &[withdraw], &[&user.wallet]).await.unwrap();
}

async fn deposit_after_the_issuer_sets_a_transfer_hook(mode: Mode) {
    use anchor_spl::token_2022::spl_token_2022::extension::transfer_hook::instruction::update;
    let mut env = TestEnv::start(mode).await;
    let authority = env.funded_wallet(1_000_000_000).await;
    let mint = crate::token2022::transfer_hook_mint(&mut env, &authority.pubkey()).await.pubkey();
    let (keys, user, account) = listed_token_2022(&mut env, mint).await;
    // The issuer points the hook at a program with the real instruction.
    let hook = env.keypair().pubkey();
    let set = update(&TOKEN_2022, &mint, &authority.pubkey(), &[], Some(hook)).unwrap();
    env.send("set hook", &[set], &[&authority]).await.unwrap();
    let w = [keys.reserve, keys.vault, account, user.position];
    let deposit = ix::deposit(user.wallet.pubkey(), user.position, &keys, account, USDC_UNIT);
    env.expect_failure("deposit", &[deposit], &[&user.wallet], BallastError::MintTransferHook, &w).await;
    // Recorded on the reserve by the permissionless crank as well.
    env.send("refresh_mint", &[ix::refresh_mint(keys.reserve, mint)], &[]).await.unwrap();
    let state = env.reserve_state(keys.reserve).await;
    assert_eq!(state.mint_impaired, ballast::mint_rules::MINT_IMPAIRED_TRANSFER_HOOK);
}

async fn the_default_state_switched_to_frozen_after_listing(mode: Mode) {
    // The real AAPLx mint (DefaultAccountState Initialized, Pausable, ScaledUiAmount: re-read on
    // every touch), listed with the opt-in; a holder deposits.
    let mut env = TestEnv::start(mode).await;
    let (mint, account) = crate::token2022::fixture("AAPLx");
    env.set_account(mint, account);
    let market = env.create_market().await;
    let args = crate::token2022::args(true, 0);
    let keys = crate::token2022::list_configured(&mut env, &market, mint, args).await;
    let user = env.create_user(&market).await;
    let holder = crate::token2022::stock_account(&mut env, mint, &user.wallet.pubkey(), 5_00000000).await;
    let deposit = ix::deposit(user.wallet.pubkey(), user.position, &keys, holder, 2_00000000);
    env.send("deposit", &[deposit], &[&user.wallet]).await.unwrap();
    // The issuer switches new accounts to start Frozen (DefaultAccountState = 2).
    env.set_account(mint, crate::token2022::patched_aaplx(6, |d, at, _| d[at + 4] = 2));
    // The reserve goes on: its mint re-reads cleanly, the holder withdraws and deposits again.
    env.send("refresh_mint", &[ix::refresh_mint(keys.reserve, mint)], &[]).await.unwrap();
    let withdraw = ix::withdraw(user.wallet.pubkey(), user.position, &keys, holder, 1_00000000);
    env.send("withdraw", &[withdraw], &[&user.wallet]).await.unwrap();
    let deposit = ix::deposit(user.wallet.pubkey(), user.position, &keys, holder, 50000000);
    env.send("deposit again", &[deposit], &[&user.wallet]).await.unwrap();
    // An account made now starts frozen: the token program refuses the transfer, nothing moves.
    let late = crate::token2022::stock_account(&mut env, mint, &user.wallet.pubkey(), 1_00000000).await;
    let deposit = ix::deposit(user.wallet.pubkey(), user.position, &keys, late, 1_00000000);
    let w = [keys.reserve, keys.vault, late, user.position];
    let frozen = anchor_spl::token_2022::spl_token_2022::error::TokenError::AccountFrozen as u32;
    env.expect_failure("frozen account", &[deposit], &[&user.wallet], frozen, &w).await;
}

// ---- Amounts 0, 1, u64::MAX -----------------------------------------------------------------------

async fn withdraw_zero_one_or_everything(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.borrow(100 * USDC_UNIT).await.unwrap();
    let wallet = m.borrower.wallet.insecure_clone();
    let w = m.watched();
    let remaining = m.health_accounts(None).await;
    // Withdrawing everything frees the SOL slot: its health accounts are the USDC pair alone.
    let sol = m.sol.keys.reserve;
    let at = remaining.iter().position(|a| a.pubkey == sol).unwrap();
    let mut remaining_after_all = remaining.clone();
    remaining_after_all.drain(at..at + 2);
    let (position, keys, destination) = (m.borrower.position, m.sol.keys, m.borrower_sol);
    let withdraw = |amount, remaining: &Vec<_>| {
        ix::withdraw_with_health(wallet.pubkey(), position, &keys, destination, amount, remaining.clone())
    };
    let (zero, one) = (withdraw(0, &remaining), withdraw(1, &remaining));
    let max = withdraw(u64::MAX, &remaining_after_all);
    m.env.expect_failure("withdraw 0", &[zero], &[&wallet], BallastError::ZeroAmount, &w).await;
    // Everything, with debt outstanding: refused by initial health.
    m.env.expect_failure("withdraw all", &[max], &[&wallet], BallastError::InsufficientCollateral, &w).await;
    // One unit: paid 1, the claim falls by at least 1 (shares burned rounded up).
    let claim = sol_claim(&mut m).await;
    let balance = m.env.token_balance(m.borrower_sol).await;
    m.env.send("withdraw 1", &[one], &[&wallet]).await.unwrap();
    assert_eq!(m.env.token_balance(m.borrower_sol).await, balance + 1);
    assert!(sol_claim(&mut m).await < claim, "the claim falls by at least 1");
}

async fn repay_zero_one_or_everything(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.borrow(100 * USDC_UNIT).await.unwrap();
    // A day of interest, and the borrower holds enough to repay it.
    m.set_sol_price(crate::fixtures::NOW + 86_400, 100).await;
    let usdc = m.usdc.clone();
    m.env.mint_to(&usdc, m.borrower_usdc, 10 * USDC_UNIT).await;
    let wallet = m.borrower.wallet.insecure_clone();
    let (position, keys, source) = (m.borrower.position, m.usdc.keys, m.borrower_usdc);
    let repay = |amount| ix::repay(wallet.pubkey(), position, &keys, source, amount);
    let w = m.watched();
    m.env.expect_failure("repay 0", &[repay(0)], &[&wallet], BallastError::ZeroAmount, &w).await;
    let balance = m.env.token_balance(m.borrower_usdc).await;
    m.env.send("repay 1", &[repay(1)], &[&wallet]).await.unwrap();
    assert_eq!(m.env.token_balance(m.borrower_usdc).await, balance - 1);
    // The day's interest is now booked: the debt fell by at most the 1 repaid.
    assert!(usdc_debt(&mut m).await >= 100 * USDC_UNIT - 1, "a repayment of 1 clears at most 1");
    // u64::MAX: all of it, the slot freed, no more taken than owed.
    let (debt, balance) = (usdc_debt(&mut m).await, m.env.token_balance(m.borrower_usdc).await);
    m.env.send("repay all", &[repay(u64::MAX)], &[&wallet]).await.unwrap();
    assert!(balance - m.env.token_balance(m.borrower_usdc).await <= debt + 1);
    let position = m.env.position_state(m.borrower.position).await;
    assert!(position.slots.iter().all(|s| s.reserve != m.usdc.keys.reserve), "the debt slot is freed");
}

async fn liquidate_zero_one_or_as_much_as_allowed(mode: Mode) {
    let (mut m, keeper) = liquidatable(mode).await;
    let signer = keeper.wallet.insecure_clone();
    let w = keeper_watched(&m, &keeper);
    let zero = m.liquidate_ix(&keeper, 0).await;
    m.env.expect_failure("liquidate 0", &[zero], &[&signer], BallastError::ZeroAmount, &w).await;
    // One unit ($0.000001): too small for whole tokens to pay the keeper back without lowering
    // the position's health; refused by name.
    let one = m.liquidate_ix(&keeper, 1).await;
    m.env.expect_failure("liquidate 1", &[one], &[&signer], BallastError::LiquidationTooSmall, &w).await;
    // u64::MAX: the close factor binds (half the debt), not the keeper's request.
    let max = m.liquidate_ix(&keeper, u64::MAX).await;
    m.env.send("liquidate all", &[max], &[&signer]).await.unwrap();
    let repaid = 1_000 * USDC_UNIT - m.env.token_balance(keeper.repay_source).await;
    assert!(repaid > 0 && repaid <= 300 * USDC_UNIT, "close factor: repaid {repaid}");
    assert!(m.env.token_balance(keeper.seize_destination).await > 0);
}

// ---- Timelock bypass, cranks given the wrong account ----------------------------------------------

/// A market with a one-day timelock and a reserve configuration loosening queued on SOL (which
/// holds deposits, so the loosening waits).
async fn loosening_queued(mode: Mode) -> PricedMarket {
    let mut m = PricedMarket::start(mode).await;
    let market = m.market.clone();
    m.env.set_timelock(&market, 86_400).await;
    let oracle = ballast_sdk::params::default_oracle(crate::fixtures::SOL_FEED, m.sol_oracle);
    let risk =
        ballast::instructions::RiskParams { init_haircut_bps: 500, ..ballast_sdk::params::default_risk() };
    let sol = m.sol.clone();
    m.env.configure(&market, &sol, oracle, risk, ballast_sdk::params::default_interest()).await.unwrap();
    assert_ne!(m.env.reserve_state(sol.keys.reserve).await.pending_eta, 0, "queued");
    m
}

async fn apply_a_loosening_before_its_timelock(mode: Mode) {
    let mut m = loosening_queued(mode).await;
    m.env.set_clock(crate::fixtures::NOW + 86_399).await;
    let ixn = ix::apply_reserve_config(m.sol.keys.reserve);
    let w = [m.sol.keys.reserve];
    m.env.expect_failure("a second early", &[ixn], &[], BallastError::TimelockNotElapsed, &w).await;
}

async fn apply_a_market_loosening_before_its_timelock(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let market = m.market.clone();
    m.env.set_timelock(&market, 86_400).await;
    // A shorter timelock is a loosening: it waits for the current one.
    m.env.set_timelock(&market, 60).await;
    m.env.set_clock(crate::fixtures::NOW + 86_399).await;
    let ixn = ix::apply_market_config(market.market);
    let w = [market.market];
    m.env.expect_failure("a second early", &[ixn], &[], BallastError::TimelockNotElapsed, &w).await;
}

async fn apply_a_config_to_a_position(mode: Mode) {
    let mut m = loosening_queued(mode).await;
    let ixn = ix::apply_reserve_config(m.borrower.position);
    let w = [m.borrower.position, m.sol.keys.reserve];
    let code = anchor(ErrorCode::AccountDiscriminatorMismatch);
    m.env.expect_failure("position as reserve", &[ixn], &[], code, &w).await;
}

async fn apply_a_session_to_the_market(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let ixn = ix::apply_session(m.market.market);
    let w = [m.market.market];
    let code = anchor(ErrorCode::AccountDiscriminatorMismatch);
    m.env.expect_failure("market as reserve", &[ixn], &[], code, &w).await;
}

async fn apply_stress_shocks_to_a_reserve(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let ixn = ix::apply_stress_shocks(m.sol.keys.reserve);
    let w = [m.sol.keys.reserve];
    let code = anchor(ErrorCode::AccountDiscriminatorMismatch);
    m.env.expect_failure("reserve as market", &[ixn], &[], code, &w).await;
}

async fn health_of_a_reserve_passed_as_the_position(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let remaining = m.health_accounts(None).await;
    let ixn = ix::health(m.market.market, m.sol.keys.reserve, remaining);
    let w = [m.sol.keys.reserve];
    let code = anchor(ErrorCode::AccountDiscriminatorMismatch);
    m.env.expect_failure("reserve as position", &[ixn], &[], code, &w).await;
}

async fn health_under_another_markets_shocks(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.borrow(100 * USDC_UNIT).await.unwrap();
    let other = m.env.create_market().await;
    let remaining = m.health_accounts(None).await;
    let ixn = ix::health(other.market, m.borrower.position, remaining);
    let w = [other.market, m.borrower.position];
    m.env.expect_failure("another market", &[ixn], &[], BallastError::WrongMarket, &w).await;
}

async fn status_of_a_position_passed_as_the_reserve(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let ixn = ix::reserve_status(m.borrower.position);
    let w = [m.borrower.position];
    let code = anchor(ErrorCode::AccountDiscriminatorMismatch);
    m.env.expect_failure("position as reserve", &[ixn], &[], code, &w).await;
}

async fn refresh_a_reserve_from_another_mint(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let ixn = ix::refresh_mint(m.sol.keys.reserve, m.usdc.keys.mint);
    let w = [m.sol.keys.reserve];
    m.env.expect_failure("another mint", &[ixn], &[], BallastError::WrongMint, &w).await;
}

async fn forfeit_against_another_markets_reserve(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let (_, foreign) = another_market(&mut m.env).await;
    let ixn = ix::forfeit_worthless_deposit(m.borrower.position, foreign.keys.reserve);
    let w = [m.borrower.position, foreign.keys.reserve];
    m.env.expect_failure("foreign reserve", &[ixn], &[], BallastError::WrongMarket, &w).await;
}

/// The program's instructions (from `idl/ballast.json`) that no cell attacks: must be none.
pub fn instructions_without_a_cell() -> Vec<String> {
    let path = format!("{}/../idl/ballast.json", env!("CARGO_MANIFEST_DIR"));
    let idl: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let covered: Vec<&str> = CELLS.iter().flat_map(|c| c.instruction.split(" / ")).collect();
    idl["instructions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .filter(|name| !covered.contains(&name.as_str()))
        .collect()
}
