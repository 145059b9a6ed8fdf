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

use crate::fixtures::PricedMarket;
use crate::{Mode, TestEnv};

const USDC_UNIT: u64 = 1_000_000;

/// One cell: which instruction, which attack class, the scenario's name and the scenario.
pub struct Cell {
    pub instruction: &'static str,
    pub class: &'static str,
    pub name: &'static str,
    pub run: fn(Mode) -> Pin<Box<dyn Future<Output = ()>>>,
}

macro_rules! cells {
    ($($instruction:literal, $class:literal => $name:ident;)*) => {
        /// Every cell of the matrix, in table order.
        pub const CELLS: &[Cell] = &[
            $(Cell { instruction: $instruction, class: $class, name: stringify!($name), run: |m| Box::pin($name(m)) },)*
        ];
    };
}

cells! {
    "borrow", "missing signer" => borrow_without_the_owner_signature;
    "accept_admin", "missing signer" => accept_admin_without_the_new_admin_signature;
    "configure_reserve", "missing signer" => configure_reserve_without_the_admin_signature;
    "configure_reserve", "type cosplay" => configure_reserve_with_a_reserve_as_the_market;
    "repay", "arbitrary CPI" => repay_through_a_program_that_is_not_a_token_program;
    "repay", "cross-market accounts" => repay_a_position_of_another_market;
    "add_reserve", "re-initialization" => add_the_same_mint_twice;
    "open_position", "re-initialization" => open_the_same_position_twice;
    "deposit", "amounts 0 / u64::MAX" => deposit_zero_or_everything_there_is;
    "borrow", "amounts 0 / u64::MAX" => borrow_zero_or_everything_there_is;
    "set_reserve_pause", "missing signer" => pause_a_reserve_without_the_admin_signature;
    "set_market_pause", "missing signer" => pause_the_market_without_the_admin_signature;
    "propose_admin", "missing signer" => propose_an_admin_without_the_admin_signature;
    "add_reserve", "PDA substitution" => list_with_a_vault_from_other_seeds;
    "collect_fees", "arbitrary CPI" => collect_fees_through_a_program_that_is_not_a_token_program;
    "resolve_bad_debt", "cross-market accounts" => resolve_a_position_against_another_markets_reserve;
    "withdraw", "remaining accounts from another market" => withdraw_with_a_foreign_reserve_in_the_health_accounts;
}

/// Anchor's own error codes as the expected error.
fn anchor(code: ErrorCode) -> u32 {
    code.into()
}

async fn borrow_without_the_owner_signature(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let mut ixn = m.borrow_ix(100 * USDC_UNIT).await;
    let owner = m.borrower.wallet.pubkey();
    ixn.accounts.iter_mut().filter(|a| a.pubkey == owner).for_each(|a| a.is_signer = false);
    let w = m.watched();
    m.env.expect_failure("unsigned borrow", &[ixn], &[], anchor(ErrorCode::AccountNotSigner), &w).await;
}

async fn accept_admin_without_the_new_admin_signature(mode: Mode) {
    let mut env = TestEnv::start(mode).await;
    let market = env.create_market().await;
    let new_admin = env.keypair();
    let admin = market.admin.insecure_clone();
    let propose = ix::propose_admin(admin.pubkey(), market.market, new_admin.pubkey());
    env.send("propose_admin", &[propose], &[&admin]).await.unwrap();
    let mut accept = ix::accept_admin(new_admin.pubkey(), market.market);
    accept.accounts[0].is_signer = false;
    let w = [market.market];
    env.expect_failure("unsigned accept", &[accept], &[], anchor(ErrorCode::AccountNotSigner), &w).await;
}

async fn configure_reserve_without_the_admin_signature(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let admin = m.market.admin.pubkey();
    let oracle = ballast_sdk::params::default_oracle(crate::fixtures::SOL_FEED, m.sol_oracle);
    let mut risk = ballast_sdk::params::default_risk();
    risk.init_haircut_bps = 0; // a loosening nobody signed for
    let mut ixn = ix::configure_reserve(
        admin,
        m.market.market,
        m.sol.keys.reserve,
        oracle,
        risk,
        ballast_sdk::params::default_interest(),
        ballast_sdk::params::no_caps(),
    );
    ixn.accounts[0].is_signer = false;
    let w = [m.market.market, m.sol.keys.reserve];
    m.env.expect_failure("unsigned configure", &[ixn], &[], anchor(ErrorCode::AccountNotSigner), &w).await;
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
    let mut ixn = ix::repay(wallet.pubkey(), m.borrower.position, &m.usdc.keys, m.borrower_usdc, USDC_UNIT);
    let at = ixn.accounts.iter().position(|a| a.pubkey == SPL_TOKEN).unwrap();
    ixn.accounts[at].pubkey = anchor_lang::system_program::ID;
    let w = m.watched();
    m.env
        .expect_failure("fake token program", &[ixn], &[&wallet], anchor(ErrorCode::InvalidProgramId), &w)
        .await;
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

async fn deposit_zero_or_everything_there_is(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let wallet = m.borrower.wallet.insecure_clone();
    let w = m.watched();
    let zero = ix::deposit(wallet.pubkey(), m.borrower.position, &m.sol.keys, m.borrower_sol, 0);
    m.env.expect_failure("deposit 0", &[zero], &[&wallet], BallastError::ZeroAmount, &w).await;
    // u64::MAX tokens cannot be booked next to what the reserve holds: refused before any transfer.
    let max = ix::deposit(wallet.pubkey(), m.borrower.position, &m.sol.keys, m.borrower_sol, u64::MAX);
    m.env.expect_failure("deposit u64::MAX", &[max], &[&wallet], BallastError::MathOverflow, &w).await;
}

async fn borrow_zero_or_everything_there_is(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let wallet = m.borrower.wallet.insecure_clone();
    let w = m.watched();
    let zero = m.borrow_ix(0).await;
    m.env.expect_failure("borrow 0", &[zero], &[&wallet], BallastError::ZeroAmount, &w).await;
    let max = m.borrow_ix(u64::MAX).await;
    m.env
        .expect_failure("borrow u64::MAX", &[max], &[&wallet], BallastError::InsufficientLiquidity, &w)
        .await;
}

/// `ixn` with every signer flag of `key` cleared.
fn unsigned(
    mut ixn: anchor_lang::solana_program::instruction::Instruction,
    key: &anchor_lang::prelude::Pubkey,
) -> anchor_lang::solana_program::instruction::Instruction {
    ixn.accounts.iter_mut().filter(|a| a.pubkey == *key).for_each(|a| a.is_signer = false);
    ixn
}

async fn pause_a_reserve_without_the_admin_signature(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let admin = m.market.admin.pubkey();
    let ixn = unsigned(ix::set_reserve_pause(admin, m.market.market, m.sol.keys.reserve, true), &admin);
    let w = [m.market.market, m.sol.keys.reserve];
    m.env.expect_failure("unsigned pause", &[ixn], &[], anchor(ErrorCode::AccountNotSigner), &w).await;
}

async fn pause_the_market_without_the_admin_signature(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let admin = m.market.admin.pubkey();
    let ixn = unsigned(ix::set_market_pause(admin, m.market.market, true), &admin);
    let w = [m.market.market];
    m.env.expect_failure("unsigned market pause", &[ixn], &[], anchor(ErrorCode::AccountNotSigner), &w).await;
}

async fn propose_an_admin_without_the_admin_signature(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let admin = m.market.admin.pubkey();
    let thief = m.env.keypair().pubkey();
    let ixn = unsigned(ix::propose_admin(admin, m.market.market, thief), &admin);
    let w = [m.market.market];
    m.env.expect_failure("unsigned propose", &[ixn], &[], anchor(ErrorCode::AccountNotSigner), &w).await;
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
    let mut ixn = ix::collect_fees(m.market.market, &m.usdc.keys, m.usdc.insurance_vault, fee_usdc);
    let at = ixn.accounts.iter().position(|a| a.pubkey == SPL_TOKEN).unwrap();
    ixn.accounts[at].pubkey = anchor_lang::system_program::ID;
    let w = [m.usdc.keys.reserve, m.usdc.keys.vault, m.usdc.insurance_vault, fee_usdc];
    m.env.expect_failure("fake token program", &[ixn], &[], anchor(ErrorCode::InvalidProgramId), &w).await;
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

async fn withdraw_with_a_foreign_reserve_in_the_health_accounts(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.borrow(100 * USDC_UNIT).await.unwrap();
    let other = m.env.create_market().await;
    let foreign = m.env.add_reserve(&other, SPL_TOKEN, 6, u64::MAX).await;
    let mut remaining = m.health_accounts(None).await;
    let at = remaining.iter().position(|a| a.pubkey == m.usdc.keys.reserve).unwrap();
    remaining[at].pubkey = foreign.keys.reserve;
    let wallet = m.borrower.wallet.insecure_clone();
    let ixn = ix::withdraw_with_health(
        wallet.pubkey(),
        m.borrower.position,
        &m.sol.keys,
        m.borrower_sol,
        1_000,
        remaining,
    );
    let mut w = m.watched();
    w.push(foreign.keys.reserve);
    m.env
        .expect_failure("foreign reserve", &[ixn], &[&wallet], BallastError::RemainingAccountsMismatch, &w)
        .await;
}
