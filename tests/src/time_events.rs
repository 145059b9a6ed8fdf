//! The time-events matrix (issue 24): each row is an event in time that touches one asset (a
//! stock split announced or not, forward or reverse, on a 24/7 feed or a market-hours feed, a
//! dividend-style multiplier step, an EMA lagging a split, a halted or unknown-status legacy
//! feed, a pinned account that does not exist), each column an action a user or keeper takes
//! at the worst moment of it. A cell sets up a market before the event, lives through it, tries
//! the action and asserts what must happen: the named error with every watched account
//! unchanged, or success with the amounts that show it. `tests/tests/time_events.rs` runs every
//! cell in the three modes; `cargo run -p ballast-tests --bin security-matrix` writes the table
//! into `docs/security.md`.
//!
//! The market: `PricedMarket` (SOL $100, USDC $1, a lender of 10,000 USDC, the borrower with 10
//! SOL) and a stock (the real NFLXx mint, its ScaledUiAmount schedule rewritten per event; 3×
//! cap, 35 % / 30 % haircuts) with a lender of 20 tokens.
// Prices of 1e-8 USD are written `dollars_fraction` (`1_100_00000000` = $1,100).
#![allow(clippy::inconsistent_digit_grouping)]

use std::future::Future;
use std::pin::Pin;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use ballast::error::BallastError;
use ballast::state::OracleSource;
use ballast_sdk::ix;
use ballast_sdk::params::{default_interest, default_oracle, default_risk};
use solana_signer::Signer;

use crate::fixtures::{sol_price, PricedMarket, ReserveFixture, NOW};
use crate::oracles::{legacy_account, PullPrice};
use crate::token2022::{list_nflx, stock_account, stock_mint, Schedule};
use crate::{Mode, TxError};

const USDC: u64 = 1_000_000;
const SOL: u64 = 1_000_000_000;
/// One stock token (8 decimals).
const TOKEN: u64 = 100_000_000;
const STOCK_FEED: [u8; 32] = [7; 32];
/// The moment of every event (an hour after the market is set up).
const T: i64 = NOW + 3_600;

/// What a cell tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A position holding the stock as collateral borrows USDC (the stock's mint re-read in the
    /// same transaction, as the SDK sends it).
    Borrow,
    /// A position that owes the stock withdraws SOL.
    WithdrawWithDebt,
    /// A keeper repays USDC and seizes (SOL or) the stock of a position holding the stock.
    LiquidateHolder,
    /// A keeper liquidates a position that owes the stock.
    LiquidateDebtor,
    /// `resolve_bad_debt` of a position whose only deposit is the stock.
    ResolveBadDebt,
}

pub const ACTIONS: [(Action, &str); 5] = [
    (Action::Borrow, "borrow against it"),
    (Action::WithdrawWithDebt, "withdraw while owing it"),
    (Action::LiquidateHolder, "liquidate a holder"),
    (Action::LiquidateDebtor, "liquidate a debtor"),
    (Action::ResolveBadDebt, "resolve_bad_debt of a holder"),
];

/// The rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    ForwardSplitScheduled,
    ForwardSplitImmediate,
    ReverseSplitScheduled,
    ReverseSplitImmediate,
    WeekendSplitMarketHours,
    DividendStep,
    EmaLaggingASplit,
    LegacyHalted,
    LegacyUnknownStatus,
    PinnedAccountMissing,
}

pub const EVENTS: [(Event, &str); 10] = [
    (Event::ForwardSplitScheduled, "1:10 split, scheduled, 24/7 feed; 60 s after it, feed already $110"),
    (
        Event::ForwardSplitImmediate,
        "1:10 split with no lead time (`update_multiplier` effective now); pre-split print $1,100",
    ),
    (Event::ReverseSplitScheduled, "10:1 reverse split, scheduled; 60 s before it, feed still $1,100"),
    (Event::ReverseSplitImmediate, "10:1 reverse split with no lead time; pre-split print $1,100"),
    (
        Event::WeekendSplitMarketHours,
        "market-hours feed: Friday close $1,100, 1:10 split without warning on Sunday, Monday 08:00 New York",
    ),
    (
        Event::DividendStep,
        "dividend-style multiplier step 1.00 → 1.02, scheduled; 15 min after, EMA still pre-step",
    ),
    (
        Event::EmaLaggingASplit,
        "1:10 split, after the window: price $110, EMA still $1,100 (then half caught up, $600)",
    ),
    (Event::LegacyHalted, "legacy feed `Halted` (last trading price $100)"),
    (Event::LegacyUnknownStatus, "legacy feed `Unknown` (too few publishers; last trading price $100)"),
    (Event::PinnedAccountMissing, "pinned pull account does not exist (no price ever)"),
];

/// What must happen, per (event, action), in words for the matrix. The scenario asserts it.
pub fn expected(event: Event, action: Action) -> &'static str {
    use Action::*;
    use Event::*;
    match (event, action) {
        (ForwardSplitScheduled | ReverseSplitScheduled, Borrow) => "`InsufficientCollateral`: in the window the stock backs nothing",
        (ForwardSplitScheduled | ReverseSplitScheduled, WithdrawWithDebt) => "`InsufficientCollateral`: the debt counts at the larger multiplier",
        (ForwardSplitScheduled | ReverseSplitScheduled, LiquidateHolder | LiquidateDebtor) => "`NotLiquidatable`: maintenance gives the benefit of the doubt",
        (ForwardSplitImmediate | ReverseSplitImmediate, Borrow) => "`InsufficientCollateral`: the change is dated when seen, the print keeps the old multiplier, the window is reduce-only",
        (ForwardSplitImmediate | ReverseSplitImmediate, WithdrawWithDebt) => "`InsufficientCollateral`: the debt counts at the larger multiplier",
        (ForwardSplitImmediate, LiquidateHolder) => "`NotLiquidatable`",
        (ForwardSplitImmediate, LiquidateDebtor) => "`NotLiquidatable`: the debt is not valued at 10×",
        (ReverseSplitImmediate, LiquidateHolder) => "`NotLiquidatable`: the deposit is not valued at 1/10",
        (ReverseSplitImmediate, LiquidateDebtor) => "`NotLiquidatable`",
        (WeekendSplitMarketHours, Borrow) => "`InsufficientCollateral`: closed, reduce-only",
        (WeekendSplitMarketHours, WithdrawWithDebt) => "passes: Friday's close meets Friday's multiplier (the debt is $5,500, not $55,000)",
        (WeekendSplitMarketHours, LiquidateHolder) => "`NotLiquidatable`",
        (WeekendSplitMarketHours, LiquidateDebtor) => "`NotLiquidatable`: the debt is not valued at 10×",
        (DividendStep, Borrow) => "passes: the EMA is compared on either side of the step (no breaker)",
        (DividendStep, WithdrawWithDebt) => "passes",
        (DividendStep | EmaLaggingASplit, LiquidateHolder | LiquidateDebtor) => "`NotLiquidatable`: no stress add-on from a lagging EMA",
        (EmaLaggingASplit, Borrow) => "passes at the lagging EMA; `InsufficientCollateral` at the half-caught-up one (pause, never force)",
        (EmaLaggingASplit, WithdrawWithDebt) => "passes",
        (LegacyHalted | LegacyUnknownStatus, Borrow) => "`InsufficientCollateral`: the last price counts for maintenance only",
        (LegacyHalted | LegacyUnknownStatus, WithdrawWithDebt) => "`OracleNotTrading`: a debt backs new risk only at a fresh price",
        (LegacyHalted | LegacyUnknownStatus, LiquidateHolder) => "`NotLiquidatable` through SOL: the stock counts at its last price",
        (LegacyHalted | LegacyUnknownStatus, LiquidateDebtor) => "repaying the stock `OracleNotTrading`; repaying USDC against SOL passes (other pairs stay open)",
        (PinnedAccountMissing, Borrow) => "`InsufficientCollateral`: no price, the stock counts nothing",
        (PinnedAccountMissing, WithdrawWithDebt) => "`OracleWrongOwner`: a debt with no price at all cannot be valued",
        (PinnedAccountMissing, LiquidateHolder) => "passes through SOL: with no price ever, the stock counts nothing",
        (PinnedAccountMissing, LiquidateDebtor) => "`OracleWrongOwner`: a debt with no price at all cannot be valued",
        (_, ResolveBadDebt) => "`PositionHasDeposits`: a deposit whose value is unknown or large is not dust",
    }
}

/// One cell of the matrix.
pub struct Cell {
    pub event: Event,
    pub event_text: &'static str,
    pub action: Action,
    pub action_text: &'static str,
}

impl Cell {
    pub fn run(&self, mode: Mode) -> Pin<Box<dyn Future<Output = ()>>> {
        Box::pin(run(mode, self.event, self.action))
    }
}

/// Every cell, row by row.
pub fn cells() -> Vec<Cell> {
    EVENTS
        .iter()
        .flat_map(|&(event, event_text)| {
            ACTIONS.iter().map(move |&(action, action_text)| Cell { event, event_text, action, action_text })
        })
        .collect()
}

/// How the stock is priced.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Feed {
    Pull,
    Legacy,
}

/// The market with the stock listed.
struct StockMarket {
    m: PricedMarket,
    stock: ReserveFixture,
    oracle: Pubkey,
    feed: Feed,
}

impl StockMarket {
    /// The market at `now` with the stock at `price_e8` a share (EMA equal), its mint on
    /// `schedule`, priced by `feed`; a lender supplies 20 tokens.
    async fn start(mode: Mode, now: i64, schedule: Schedule, feed: Feed, price_e8: i64) -> Self {
        let mut m = PricedMarket::start(mode).await;
        m.env.set_clock(now).await;
        m.set_sol_price(now, 100).await;
        let stock = list_nflx(&mut m.env, &m.market, schedule).await;
        let mint = stock.keys.mint;
        let oracle = match feed {
            Feed::Pull => crate::fixtures::feed_account(&STOCK_FEED),
            Feed::Legacy => m.env.keypair().pubkey(),
        };
        let mut s = StockMarket { m, stock, oracle, feed };
        s.post(price_e8, price_e8, now - 1).await;
        let mut oracle_params = default_oracle(STOCK_FEED, oracle);
        if feed == Feed::Legacy {
            oracle_params.source = OracleSource::PythLegacy;
        }
        let mut risk = default_risk();
        (risk.max_leverage_bps, risk.init_haircut_bps, risk.maint_haircut_bps) = (30_000, 3_500, 3_000);
        let (m, stock) = (&mut s.m, &s.stock);
        m.env.configure(&m.market, stock, oracle_params, risk, default_interest()).await.unwrap();
        m.more_oracles.push((stock.keys.reserve, oracle));
        let lender = m.env.create_user(&m.market).await;
        let tokens = stock_account(&mut m.env, mint, &lender.wallet.pubkey(), 20 * TOKEN).await;
        m.env.deposit(&lender, stock, tokens, 20 * TOKEN).await.unwrap();
        s
    }

    /// Writes the stock's price account: `price_e8` a share, EMA `ema_e8`, published at `at`.
    async fn post(&mut self, price_e8: i64, ema_e8: i64, at: i64) {
        let account = match self.feed {
            Feed::Pull => {
                PullPrice { feed_id: STOCK_FEED, price: price_e8, ema_price: ema_e8, ..sol_price(at) }
                    .account()
            }
            Feed::Legacy => legacy_account(price_e8, ema_e8, at, 1, (price_e8, at)),
        };
        self.m.env.set_account(self.oracle, account);
    }

    /// The legacy feed stops trading (`status`) at `at`: the aggregate is zeroed as publishers
    /// drop out, the last trading aggregate stays.
    async fn halt(&mut self, status: u8, last_e8: i64, last_at: i64, at: i64) {
        let account = legacy_account(0, last_e8, at, status, (last_e8, last_at));
        self.m.env.set_account(self.oracle, account);
    }

    /// SOL and USDC prices fresh at `now`, the clock at `now`.
    async fn at(&mut self, now: i64) {
        self.m.set_sol_price(now, 100).await;
    }

    fn refresh(&self) -> Instruction {
        ix::refresh_mint(self.stock.keys.reserve, self.stock.keys.mint)
    }

    /// The issuer's `update_multiplier`: the mint's schedule becomes `schedule`.
    fn issuer_sets(&mut self, schedule: Schedule) {
        self.m.env.set_account(self.stock.keys.mint, stock_mint(schedule));
    }

    /// The borrower deposits `amount` stock tokens.
    async fn deposit_stock(&mut self, amount: u64) {
        let w = self.m.borrower.wallet.insecure_clone();
        let source = stock_account(&mut self.m.env, self.stock.keys.mint, &w.pubkey(), amount).await;
        let ixn = ix::deposit(w.pubkey(), self.m.borrower.position, &self.stock.keys, source, amount);
        self.m.env.send("deposit stock", &[ixn], &[&w]).await.unwrap();
    }

    /// The borrower withdraws all its SOL (no debt yet): the stock is then its only deposit.
    async fn withdraw_all_sol(&mut self) {
        let w = self.m.borrower.wallet.insecure_clone();
        let ixn = ix::withdraw(
            w.pubkey(),
            self.m.borrower.position,
            &self.m.sol.keys,
            self.m.borrower_sol,
            u64::MAX,
        );
        self.m.env.send("withdraw SOL", &[ixn], &[&w]).await.unwrap();
    }

    /// The borrower borrows `amount` stock tokens (into a new account of theirs).
    async fn borrow_stock(&mut self, amount: u64) {
        let w = self.m.borrower.wallet.insecure_clone();
        let destination = stock_account(&mut self.m.env, self.stock.keys.mint, &w.pubkey(), 0).await;
        let remaining = self.m.health_accounts(Some(self.stock.keys.reserve)).await;
        let ixn = ix::borrow(
            w.pubkey(),
            self.m.borrower.position,
            &self.stock.keys,
            destination,
            amount,
            remaining,
        );
        self.m.env.send("borrow stock", &[ixn], &[&w]).await.unwrap();
    }

    async fn borrow_usdc(&mut self, amount: u64) -> Result<u64, TxError> {
        let ixs = [self.refresh(), self.m.borrow_ix(amount).await];
        let w = self.m.borrower.wallet.insecure_clone();
        self.m.env.send("borrow USDC", &ixs, &[&w]).await
    }

    fn borrower_accounts(&self) -> Vec<Pubkey> {
        let mut w = self.m.watched();
        w.extend([self.stock.keys.reserve, self.stock.keys.vault]);
        w
    }

    /// Expects `ixs` (signed by the borrower) to fail with `error` and change nothing.
    async fn borrower_refused(&mut self, label: &str, ixs: &[Instruction], error: BallastError) {
        let w = self.m.borrower.wallet.insecure_clone();
        let watched = self.borrower_accounts();
        self.m.env.expect_failure(label, ixs, &[&w], error, &watched).await;
    }

    async fn withdraw_sol_ixs(&mut self, amount: u64) -> [Instruction; 2] {
        let w = self.m.borrower.wallet.insecure_clone();
        let remaining = self.m.health_accounts(None).await;
        let withdraw = ix::withdraw_with_health(
            w.pubkey(),
            self.m.borrower.position,
            &self.m.sol.keys,
            self.m.borrower_sol,
            amount,
            remaining,
        );
        [self.refresh(), withdraw]
    }

    /// A keeper's liquidation of the borrower repaying `repay` (USDC or the stock) and seizing
    /// `seize`, as much as allowed, the stock's mint re-read first.
    async fn liquidate_ixs(
        &mut self,
        repay_stock: bool,
        seize_stock: bool,
    ) -> (Vec<Instruction>, Vec<Pubkey>, solana_keypair::Keypair) {
        let keeper = self.m.env.funded_wallet(1_000_000_000).await;
        let mint = self.stock.keys.mint;
        let source = if repay_stock {
            stock_account(&mut self.m.env, mint, &keeper.pubkey(), 100 * TOKEN).await
        } else {
            self.m.env.token_account(&self.m.usdc, &keeper.pubkey(), 100_000 * USDC).await
        };
        let destination = if seize_stock {
            stock_account(&mut self.m.env, mint, &keeper.pubkey(), 0).await
        } else {
            self.m.env.token_account(&self.m.sol, &keeper.pubkey(), 0).await
        };
        let remaining = self.m.health_accounts(None).await;
        let stock_keys = self.stock.keys;
        let sides = ix::LiquidationSides {
            repay: if repay_stock { &stock_keys } else { &self.m.usdc.keys },
            source,
            seize: if seize_stock { &stock_keys } else { &self.m.sol.keys },
            destination,
            into_position: None,
        };
        let liquidate = ix::liquidate(
            keeper.pubkey(),
            self.m.market.market,
            self.m.borrower.position,
            sides,
            u64::MAX,
            remaining,
        );
        let mut watched = self.borrower_accounts();
        watched.extend([source, destination]);
        (vec![self.refresh(), liquidate], watched, keeper)
    }

    async fn liquidation_refused(&mut self, repay_stock: bool, seize_stock: bool, error: BallastError) {
        let (ixs, watched, keeper) = self.liquidate_ixs(repay_stock, seize_stock).await;
        self.m.env.expect_failure("liquidate", &ixs, &[&keeper], error, &watched).await;
    }

    async fn liquidation_passes(&mut self, repay_stock: bool, seize_stock: bool) {
        let (ixs, _, keeper) = self.liquidate_ixs(repay_stock, seize_stock).await;
        self.m.env.send("liquidate", &ixs, &[&keeper]).await.unwrap();
    }

    async fn resolve_refused(&mut self) {
        let usdc = self.m.usdc.keys;
        let resolve = self.m.resolve_ix(&usdc).await;
        let watched = self.borrower_accounts();
        self.m
            .env
            .expect_failure(
                "resolve",
                &[self.refresh(), resolve],
                &[],
                BallastError::PositionHasDeposits,
                &watched,
            )
            .await;
        assert_eq!(self.m.env.position_state(self.m.borrower.position).await.occupied_slots(), 2);
    }
}

/// Multiplier schedules of the events (per-token price = per-share price × multiplier).
const ONE: Schedule = Schedule::flat(1.0);
const FORWARD: Schedule = Schedule { multiplier: 1.0, new_multiplier: 10.0, effective_ts: T };
const REVERSE: Schedule = Schedule { multiplier: 1.0, new_multiplier: 0.1, effective_ts: T };
const DIVIDEND: Schedule = Schedule { multiplier: 1.0, new_multiplier: 1.02, effective_ts: T };

/// The position each action needs, set up before the event at `NOW` (stock at $1,100 or, for
/// the legacy and missing-account rows, $100):
/// - Borrow, LiquidateHolder: 10 stock tokens, owing USDC near the limit ($1,100 stock:
///   $7,000 against $7,150 of initial value, $7,700 of maintenance value, $6,600 at "force");
///   at $100 a token with the borrower's 10 SOL too, owing $1,100;
/// - WithdrawWithDebt, LiquidateDebtor: 200 SOL, owing 5 stock tokens (and, for the legacy
///   rows, $1,000 of USDC too);
/// - ResolveBadDebt: 20 stock tokens only, owing $1,000 of USDC.
async fn position_for(s: &mut StockMarket, action: Action, dollars: i64) {
    match action {
        Action::Borrow | Action::LiquidateHolder => {
            if dollars == 1_100 {
                s.withdraw_all_sol().await;
            }
            s.deposit_stock(10 * TOKEN).await;
            let debt = if dollars == 1_100 { 7_000 } else { 1_100 };
            s.borrow_usdc(debt * USDC).await.unwrap();
        }
        Action::WithdrawWithDebt | Action::LiquidateDebtor => {
            let sol = s.m.sol.clone();
            s.m.borrower_deposit(&sol, 190 * SOL).await.unwrap();
            s.borrow_stock(5 * TOKEN).await;
            if dollars == 100 {
                s.borrow_usdc(1_000 * USDC).await.unwrap();
            }
        }
        Action::ResolveBadDebt => {
            s.withdraw_all_sol().await;
            s.deposit_stock(20 * TOKEN).await;
            s.borrow_usdc(1_000 * USDC).await.unwrap();
        }
    }
}

async fn run(mode: Mode, event: Event, action: Action) {
    let (schedule, feed, dollars) = match event {
        Event::ForwardSplitScheduled | Event::EmaLaggingASplit => (FORWARD, Feed::Pull, 1_100),
        Event::ReverseSplitScheduled => (REVERSE, Feed::Pull, 1_100),
        Event::DividendStep => (DIVIDEND, Feed::Pull, 1_100),
        Event::ForwardSplitImmediate | Event::ReverseSplitImmediate | Event::WeekendSplitMarketHours => {
            (ONE, Feed::Pull, 1_100)
        }
        Event::LegacyHalted | Event::LegacyUnknownStatus => (ONE, Feed::Legacy, 100),
        Event::PinnedAccountMissing => (ONE, Feed::Pull, 100),
    };
    let start = if event == Event::WeekendSplitMarketHours { FRIDAY } else { NOW };
    let mut s = StockMarket::start(mode, start, schedule, feed, dollars * 100_000_000).await;
    if event == Event::WeekendSplitMarketHours {
        let admin = s.m.market.admin.insecure_clone();
        let session =
            ix::configure_session(admin.pubkey(), s.m.market.market, s.stock.keys.reserve, Some(nyse()));
        s.m.env.send("session", &[session], &[&admin]).await.unwrap();
    }
    position_for(&mut s, action, dollars).await;
    match event {
        Event::ForwardSplitScheduled => {
            s.at(T + 60).await;
            s.post(110_00000000, 110_00000000, T + 59).await;
            split_window(&mut s, action).await;
        }
        Event::ReverseSplitScheduled => {
            s.at(T - 60).await;
            s.post(1_100_00000000, 1_100_00000000, T - 61).await;
            split_window(&mut s, action).await;
        }
        Event::ForwardSplitImmediate | Event::ReverseSplitImmediate => {
            let new = if event == Event::ForwardSplitImmediate { 10.0 } else { 0.1 };
            s.issuer_sets(Schedule { multiplier: new, new_multiplier: new, effective_ts: T });
            s.at(T + 1).await;
            s.post(1_100_00000000, 1_100_00000000, T - 1).await;
            immediate_split(&mut s, action, event == Event::ForwardSplitImmediate).await;
        }
        Event::WeekendSplitMarketHours => weekend_split(&mut s, action).await,
        Event::DividendStep | Event::EmaLaggingASplit => {
            let ratio = if event == Event::DividendStep { 1.02 } else { 10.0 };
            s.at(T + 901).await;
            let per_share = (1_100_00000000f64 / ratio) as i64;
            s.post(per_share, 1_100_00000000, T + 900).await;
            lagging_ema(&mut s, action, event).await;
        }
        Event::LegacyHalted | Event::LegacyUnknownStatus => {
            let status = if event == Event::LegacyHalted { 2 } else { 0 };
            s.at(NOW + 600).await;
            s.halt(status, 100_00000000, NOW - 1, NOW + 599).await;
            no_fresh_price(&mut s, action, BallastError::OracleNotTrading, false).await;
        }
        Event::PinnedAccountMissing => {
            s.at(NOW + 600).await;
            s.m.env.set_account(s.oracle, solana_account::Account::default());
            no_fresh_price(&mut s, action, BallastError::OracleWrongOwner, true).await;
        }
    }
}

/// Inside a scheduled change's window.
async fn split_window(s: &mut StockMarket, action: Action) {
    match action {
        Action::Borrow => {
            let ixs = [s.refresh(), s.m.borrow_ix(USDC).await];
            s.borrower_refused("borrow", &ixs, BallastError::InsufficientCollateral).await;
        }
        Action::WithdrawWithDebt => {
            // 10 SOL left back $667; at the smaller multiplier the 5 tokens would count $550
            // ($5,500 / 10) forward, or $550 ($1,100 × 0.1 × 5) reverse.
            let ixs = s.withdraw_sol_ixs(190 * SOL).await;
            s.borrower_refused("withdraw", &ixs, BallastError::InsufficientCollateral).await;
        }
        Action::LiquidateHolder => s.liquidation_refused(false, true, BallastError::NotLiquidatable).await,
        Action::LiquidateDebtor => s.liquidation_refused(true, false, BallastError::NotLiquidatable).await,
        Action::ResolveBadDebt => s.resolve_refused().await,
    }
}

/// Right after a change made with no lead time, the pre-change print still the latest.
async fn immediate_split(s: &mut StockMarket, action: Action, forward: bool) {
    match action {
        Action::Borrow => {
            // Forward: valued at 10× the print it would back $71,500 more.
            let ixs = [s.refresh(), s.m.borrow_ix(2_000 * USDC).await];
            s.borrower_refused("borrow", &ixs, BallastError::InsufficientCollateral).await;
        }
        Action::WithdrawWithDebt => {
            let ixs = s.withdraw_sol_ixs(190 * SOL).await;
            s.borrower_refused("withdraw", &ixs, BallastError::InsufficientCollateral).await;
        }
        Action::LiquidateHolder => s.liquidation_refused(false, true, BallastError::NotLiquidatable).await,
        Action::LiquidateDebtor => s.liquidation_refused(true, false, BallastError::NotLiquidatable).await,
        Action::ResolveBadDebt => s.resolve_refused().await,
    }
    // The change is recorded as seen now; the print keeps the multiplier before it.
    if action != Action::ResolveBadDebt {
        s.m.env.send("refresh", &[s.refresh()], &[]).await.unwrap();
        let r = s.m.env.reserve_state(s.stock.keys.reserve).await;
        let wad = 1_000_000_000_000_000_000u128;
        let past = r.past_multipliers[0];
        assert_eq!((past.multiplier.get(), past.until_ts, past.doubt_from_ts), (wad, T + 1, NOW));
        assert_eq!(r.multiplier_at(T - 1), wad);
        let after = r.multiplier_at(T + 1);
        assert!(if forward { after == 10 * wad } else { after < wad / 9 }, "{after}");
    }
}

/// NYSE hours, closed prices accepted for 4 days, a 5 % gap haircut (30 % + 5 % ≤ 35 %).
fn nyse() -> ballast::instructions::SessionParams {
    ballast::instructions::SessionParams {
        weekday_mask: 0b0111110,
        open_minute: 570,
        close_minute: 960,
        closed_max_age_secs: 4 * 86_400,
        gap_haircut_bps: 500,
        holidays: vec![],
        early_closes: vec![],
        early_close_minute: 0,
    }
}

/// Unix seconds of a UTC date and time.
fn utc(y: u64, m: u64, d: u64, hh: u64, mm: u64) -> i64 {
    (ballast_risk::session::days_from_civil(y, m, d) * 86_400 + hh * 3_600 + mm * 60) as i64
}

/// Friday 2027-01-22 20:00 UTC (15:00 New York, a week after `NOW`): open.
const FRIDAY: i64 = NOW + 7 * 86_400 + 12 * 3_600;

/// Friday's close stands all weekend; a crank reads the mint on Saturday (no change yet), the
/// issuer splits on Sunday with no lead time, a crank re-reads the mint on Sunday, and on Monday
/// 08:00 New York (closed) the close is still the price: published before the last read that
/// found the old multiplier, it stands at that multiplier, out of doubt.
async fn weekend_split(s: &mut StockMarket, action: Action) {
    assert_eq!(FRIDAY, utc(2027, 1, 22, 20, 0));
    let close = utc(2027, 1, 22, 20, 59) + 59;
    let (sunday, monday) = (utc(2027, 1, 24, 22, 0), utc(2027, 1, 25, 13, 0));
    s.at(close + 1).await;
    s.post(1_100_00000000, 1_100_00000000, close).await;
    let saturday = utc(2027, 1, 23, 12, 0);
    s.at(saturday).await;
    s.m.env.send("refresh", &[s.refresh()], &[]).await.unwrap();
    s.issuer_sets(Schedule { multiplier: 10.0, new_multiplier: 10.0, effective_ts: sunday });
    s.at(sunday + 60).await;
    s.m.env.send("refresh", &[s.refresh()], &[]).await.unwrap();
    s.at(monday).await;
    match action {
        Action::Borrow => {
            let ixs = [s.refresh(), s.m.borrow_ix(USDC).await];
            s.borrower_refused("borrow", &ixs, BallastError::InsufficientCollateral).await;
        }
        Action::WithdrawWithDebt => {
            // 200 SOL back $13,333 of initial value against the $5,500 debt: 50 SOL may go.
            let ixs = s.withdraw_sol_ixs(50 * SOL).await;
            let w = s.m.borrower.wallet.insecure_clone();
            s.m.env.send("withdraw", &ixs, &[&w]).await.unwrap();
        }
        Action::LiquidateHolder => s.liquidation_refused(false, true, BallastError::NotLiquidatable).await,
        Action::LiquidateDebtor => s.liquidation_refused(true, false, BallastError::NotLiquidatable).await,
        Action::ResolveBadDebt => s.resolve_refused().await,
    }
}

/// After the window, the per-share price has moved by the step and the EMA has not.
async fn lagging_ema(s: &mut StockMarket, action: Action, event: Event) {
    match action {
        Action::Borrow => {
            s.borrow_usdc(10 * USDC).await.unwrap();
            if event == Event::EmaLaggingASplit {
                // Half caught up: neither side of the split matches; pause (reduce-only).
                s.post(110_00000000, 600_00000000, T + 900).await;
                let ixs = [s.refresh(), s.m.borrow_ix(USDC).await];
                s.borrower_refused("borrow at pause", &ixs, BallastError::InsufficientCollateral).await;
            }
        }
        Action::WithdrawWithDebt => {
            let ixs = s.withdraw_sol_ixs(50 * SOL).await;
            let w = s.m.borrower.wallet.insecure_clone();
            s.m.env.send("withdraw", &ixs, &[&w]).await.unwrap();
        }
        Action::LiquidateHolder => {
            // $7,000 owed against 10 tokens: $7,700 of maintenance value; with the stress
            // add-on of "force" it would be $6,600.
            s.liquidation_refused(false, true, BallastError::NotLiquidatable).await;
            if event == Event::EmaLaggingASplit {
                s.post(110_00000000, 600_00000000, T + 900).await;
                s.liquidation_refused(false, true, BallastError::NotLiquidatable).await;
            }
        }
        Action::LiquidateDebtor => s.liquidation_refused(true, false, BallastError::NotLiquidatable).await,
        Action::ResolveBadDebt => s.resolve_refused().await,
    }
}

/// The stock's feed gives no fresh price (`refusal`); `missing`: not even a last price.
async fn no_fresh_price(s: &mut StockMarket, action: Action, refusal: BallastError, missing: bool) {
    match action {
        Action::Borrow => {
            let ixs = [s.refresh(), s.m.borrow_ix(USDC).await];
            s.borrower_refused("borrow", &ixs, BallastError::InsufficientCollateral).await;
        }
        Action::WithdrawWithDebt => {
            let ixs = s.withdraw_sol_ixs(SOL).await;
            s.borrower_refused("withdraw", &ixs, refusal).await;
        }
        Action::LiquidateHolder => {
            // 10 SOL ($950 of maintenance value) and 10 tokens ($700 at the last price) against
            // $1,100: healthy unless the tokens count nothing.
            if missing {
                s.liquidation_passes(false, false).await;
            } else {
                s.liquidation_refused(false, false, BallastError::NotLiquidatable).await;
            }
        }
        Action::LiquidateDebtor => {
            if missing {
                s.liquidation_refused(false, false, refusal).await;
                return;
            }
            // SOL falls to $5: 200 SOL ($950 of maintenance value) against 5 tokens ($500 at
            // the last price) and $1,000 of USDC: liquidatable.
            s.m.set_sol_price(NOW + 600, 5).await;
            s.liquidation_refused(true, false, refusal).await;
            let before = s.m.env.position_state(s.m.borrower.position).await;
            s.liquidation_passes(false, false).await;
            let after = s.m.env.position_state(s.m.borrower.position).await;
            let usdc = |p: &ballast::state::Position| {
                p.slots.iter().find(|x| x.reserve == s.m.usdc.keys.reserve).map_or(0, |x| x.borrow_shares)
            };
            assert!(usdc(&after) < usdc(&before), "the USDC debt was repaid against SOL");
        }
        Action::ResolveBadDebt => {
            // Everything but the stock is gone; $1,000 of debt against 20 tokens of unknown
            // value.
            s.resolve_refused().await;
        }
    }
}

/// Issue 24 item 1, the stale cache: a position owing a dynamic mint nobody has re-read for over
/// a minute takes no new risk (`MintCacheStale`, nothing changed): the issuer may have changed
/// the multiplier unseen. Re-read in the same transaction, the same withdrawal passes.
pub async fn a_debt_in_a_mint_nobody_has_read_for_a_minute_backs_no_new_risk(mode: Mode) {
    let mut s = StockMarket::start(mode, NOW, ONE, Feed::Pull, 1_100_00000000).await;
    position_for(&mut s, Action::WithdrawWithDebt, 1_100).await;
    s.at(NOW + 61).await;
    s.post(1_100_00000000, 1_100_00000000, NOW + 60).await;
    let [refresh, withdraw] = s.withdraw_sol_ixs(SOL).await;
    s.borrower_refused("stale mint cache", std::slice::from_ref(&withdraw), BallastError::MintCacheStale)
        .await;
    let w = s.m.borrower.wallet.insecure_clone();
    s.m.env.send("withdraw", &[refresh, withdraw], &[&w]).await.unwrap();
    assert_eq!(s.m.env.token_balance(s.m.borrower_sol).await, SOL);
}
