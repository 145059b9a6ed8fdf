#![allow(deprecated)]
// solana-program-test 3.x API, see tests/src/lib.rs
// Amounts of 8-decimal tokens and 1e-8 prices are written `whole_fraction` (`10_00000000` = 10).
#![allow(clippy::inconsistent_digit_grouping)]
//! Tokenized stocks (SPEC §6, issue 6): the Token-2022 allowlist on the real xStocks mints,
//! ScaledUiAmount valuation across NFLXx's 10-for-1 split, Pausable, issuer controls and a
//! frozen vault. Every test in native and SBF mode.
use anchor_lang::prelude::Pubkey;
use anchor_spl::token_2022::spl_token_2022::state::Mint;
use anchor_spl::token_2022::ID as TOKEN_2022;
use ballast::error::BallastError;
use ballast::instructions::AddReserveArgs;
use ballast::state::AssetClass;
use ballast_sdk::ix::{self, ReserveKeys};
use ballast_sdk::pda;
use ballast_tests::fixtures::{
    default_interest, default_oracle, default_risk, feed_account, usdc_price, NOW, USDC_FEED,
};
use ballast_tests::oracles::PullPrice;
use ballast_tests::token2022::{args, fixture, list, patched_aaplx, stock_account, transfer_fee_mint};
use ballast_tests::{dual_mode_tests, MarketFixture, Mode, ReserveFixture, TestEnv, UserFixture};
use solana_signer::Signer;

dual_mode_tests!(
    the_four_real_xstocks_mints_list_with_the_issuer_opt_in,
    refused_extensions_are_named,
    nflx_split_keeps_the_value_and_liquidates_nobody,
    a_paused_mint_takes_no_deposit_and_backs_no_borrow,
    a_frozen_vault_fails_by_name_and_changes_nothing,
    an_equity_trades_in_new_york_hours_and_is_reduce_only_outside,
    the_daily_close_alone_never_makes_a_position_liquidatable,
    a_pre_split_close_meets_the_pre_split_multiplier_after_a_weekend,
    a_transfer_fee_set_after_listing_takes_no_new_exposure_and_repays_what_arrives,
    a_collateral_mint_nobody_has_read_for_a_minute_backs_no_new_borrow,
);

const XSTOCKS: [&str; 4] = ["AAPLx", "NFLXx", "NVDAx", "SPYx"];
/// NFLXx's ScaledUiAmount multiplier goes from 1 to 10 at this unix time.
const NFLX_SPLIT: i64 = 1_763_337_300;

async fn the_four_real_xstocks_mints_list_with_the_issuer_opt_in(mode: Mode) {
    let mut env = TestEnv::start(mode).await;
    let market = env.create_market().await;
    for symbol in XSTOCKS {
        let (mint, account) = fixture(symbol);
        env.set_account(mint, account);
        // Without the opt-in: refused, nothing created (permanent delegate, freeze authority).
        let reserve = pda::reserve(&market.market, &mint);
        let admin = market.admin.insecure_clone();
        let ixn = ix::add_reserve(admin.pubkey(), market.market, mint, TOKEN_2022, args(false, 0));
        env.expect_failure(symbol, &[ixn], &[&admin], BallastError::IssuerControlsNotAllowed, &[reserve])
            .await;
        assert!(env.account(reserve).await.is_none());
        // With it: listed, carrying the extra haircut and the mint's multiplier schedule.
        let keys = list(&mut env, &market, mint, args(true, 1_000)).await.unwrap();
        let r = env.reserve_state(keys.reserve).await;
        assert_eq!(
            (r.decimals, r.issuer_haircut_bps, r.mint_paused, r.mint_dynamic),
            (8, 1_000, 0, 1),
            "{symbol}"
        );
        assert!(r.multiplier.get() >= 1_000_000_000_000_000_000, "{symbol}");
    }
    let nflx = env.reserve_state(pda::reserve(&market.market, &fixture("NFLXx").0)).await;
    assert_eq!(nflx.multiplier.get(), 1_000_000_000_000_000_000);
    assert_eq!(nflx.new_multiplier.get(), 10_000_000_000_000_000_000);
    assert_eq!(nflx.multiplier_effective_ts, NFLX_SPLIT);
    // An issuer haircut beyond 50 % is out of bounds.
    let (mint, account) = fixture("AAPLx");
    let market2 = env.create_market().await;
    env.set_account(mint, account);
    let admin = market2.admin.insecure_clone();
    let ixn = ix::add_reserve(admin.pubkey(), market2.market, mint, TOKEN_2022, args(true, 5_001));
    env.expect_failure("haircut", &[ixn], &[&admin], BallastError::ParameterOutOfBounds, &[]).await;
}

async fn refused_extensions_are_named(mode: Mode) {
    let mut env = TestEnv::start(mode).await;
    let market = env.create_market().await;
    let cases: Vec<(&str, solana_account::Account, BallastError)> = vec![
        // TransferHook (14): authority (32) then program id (32).
        (
            "transfer hook set",
            patched_aaplx(14, |d, at, _| d[at + 4 + 32..at + 4 + 64].copy_from_slice(&[9; 32])),
            BallastError::MintTransferHook,
        ),
        // DefaultAccountState (6): 2 = Frozen.
        (
            "default state frozen",
            patched_aaplx(6, |d, at, _| d[at + 4] = 2),
            BallastError::MintDefaultStateFrozen,
        ),
        // MetadataPointer (18) relabelled InterestBearingConfig (10): known, not allowed.
        (
            "interest-bearing",
            patched_aaplx(18, |d, at, _| d[at..at + 2].copy_from_slice(&10u16.to_le_bytes())),
            BallastError::MintExtensionNotAllowed,
        ),
        // An extension type number no Token-2022 version defines.
        (
            "unknown extension",
            patched_aaplx(18, |d, at, _| d[at..at + 2].copy_from_slice(&999u16.to_le_bytes())),
            BallastError::MintExtensionNotAllowed,
        ),
    ];
    for (label, account, error) in cases {
        let mint = env.keypair().pubkey();
        env.set_account(mint, account);
        let reserve = pda::reserve(&market.market, &mint);
        let admin = market.admin.insecure_clone();
        let ixn = ix::add_reserve(admin.pubkey(), market.market, mint, TOKEN_2022, args(true, 1_000));
        env.expect_failure(label, &[ixn], &[&admin], error, &[reserve]).await;
    }

    // A real Token-2022 mint with a 0.5 % transfer fee, made by the token program itself.
    let mint = transfer_fee_mint(&mut env, None, 50).await;
    let admin = market.admin.insecure_clone();
    let ixn = ix::add_reserve(admin.pubkey(), market.market, mint.pubkey(), TOKEN_2022, args(false, 0));
    let reserve = pda::reserve(&market.market, &mint.pubkey());
    env.expect_failure("transfer fee", &[ixn], &[&admin], BallastError::MintTransferFee, &[reserve]).await;
}

/// A market with NFLXx (listed, priced by a pull feed) and USDC (lent by a lender), and a user
/// holding 10 NFLXx tokens.
struct StockMarket {
    env: TestEnv,
    market: MarketFixture,
    stock: ReserveKeys,
    usdc: ReserveFixture,
    stock_oracle: Pubkey,
    usdc_oracle: Pubkey,
    user: UserFixture,
    user_stock: Pubkey,
    user_usdc: Pubkey,
}

const STOCK_FEED: [u8; 32] = [7; 32];

fn stock_price(dollars_e8: i64, publish_time: i64) -> PullPrice {
    PullPrice { feed_id: STOCK_FEED, price: dollars_e8, ema_price: dollars_e8, ..usdc_price(publish_time) }
}

impl StockMarket {
    async fn start(mode: Mode, symbol: &str, now: i64, price_e8: i64) -> Self {
        let mut env = TestEnv::start(mode).await;
        env.set_clock(now).await;
        let market = env.create_market().await;
        let (mint, account) = fixture(symbol);
        env.set_account(mint, account);
        let stock = list(&mut env, &market, mint, args(true, 0)).await.unwrap();
        let usdc = env.add_reserve(&market, anchor_spl::token::ID, 6, u64::MAX).await;
        let (stock_oracle, usdc_oracle) = (feed_account(&STOCK_FEED), feed_account(&USDC_FEED));
        env.set_account(stock_oracle, stock_price(price_e8, now - 1).account());
        env.set_account(usdc_oracle, usdc_price(now - 1).account());
        let mut risk = default_risk();
        risk.max_leverage_bps = 20_000; // equities: 2×
        risk.init_haircut_bps = 5_000;
        risk.maint_haircut_bps = 3_000;
        let admin = market.admin.insecure_clone();
        let configure = ix::configure_reserve(
            admin.pubkey(),
            market.market,
            stock.reserve,
            default_oracle(STOCK_FEED, stock_oracle),
            risk,
            default_interest(),
            ballast_sdk::params::no_caps(),
        );
        env.send("configure", &[configure], &[&admin]).await.unwrap();
        env.configure(
            &market,
            &usdc,
            default_oracle(USDC_FEED, usdc_oracle),
            default_risk(),
            default_interest(),
        )
        .await
        .unwrap();
        let lender = env.create_user(&market).await;
        let lender_usdc = env.token_account(&usdc, &lender.wallet.pubkey(), 100_000_000_000).await;
        env.deposit(&lender, &usdc, lender_usdc, 100_000_000_000).await.unwrap();
        let user = env.create_user(&market).await;
        let user_stock = stock_account(&mut env, mint, &user.wallet.pubkey(), 10_00000000).await;
        let user_usdc = env.token_account(&usdc, &user.wallet.pubkey(), 0).await;
        Self { env, market, stock, usdc, stock_oracle, usdc_oracle, user, user_stock, user_usdc }
    }

    fn remaining(&self) -> Vec<anchor_lang::solana_program::instruction::AccountMeta> {
        let (stock, oracle) = (self.stock.reserve, self.stock_oracle);
        ix::health_accounts(&[stock, self.usdc.keys.reserve], |r| {
            if *r == stock {
                oracle
            } else {
                self.usdc_oracle
            }
        })
    }

    async fn deposit(&mut self, amount: u64) -> Result<u64, ballast_tests::TxError> {
        let w = self.user.wallet.insecure_clone();
        let ixn = ix::deposit(w.pubkey(), self.user.position, &self.stock, self.user_stock, amount);
        self.env.send("deposit", &[ixn], &[&w]).await
    }

    /// Borrows USDC with the stock's mint re-read first at the same clock (the SDK puts the
    /// refresh in the borrow's own transaction).
    async fn borrow(&mut self, amount: u64) -> Result<u64, ballast_tests::TxError> {
        let refresh = ix::refresh_mint(self.stock.reserve, self.stock.mint);
        self.env.send("refresh_mint", &[refresh], &[]).await.unwrap();
        let ixn = self.borrow_ix(amount);
        let w = self.user.wallet.insecure_clone();
        self.env.send("borrow", &[ixn], &[&w]).await
    }

    fn borrow_ix(&self, amount: u64) -> anchor_lang::solana_program::instruction::Instruction {
        let w = &self.user.wallet;
        ix::borrow(w.pubkey(), self.user.position, &self.usdc.keys, self.user_usdc, amount, self.remaining())
    }

    async fn set_prices(&mut self, now: i64, stock_e8: i64) {
        self.env.set_clock(now).await;
        self.env.set_account(self.stock_oracle, stock_price(stock_e8, now - 1).account());
        self.env.set_account(self.usdc_oracle, usdc_price(now - 1).account());
    }

    /// Tries to liquidate the user: the named error, or Ok.
    async fn liquidate(&mut self) -> Result<u64, ballast_tests::TxError> {
        let keeper = self.env.funded_wallet(1_000_000_000).await;
        let source = self.env.token_account(&self.usdc, &keeper.pubkey(), 10_000_000_000).await;
        let destination = stock_account(&mut self.env, self.stock.mint, &keeper.pubkey(), 0).await;
        let sides = ix::LiquidationSides {
            repay: &self.usdc.keys,
            source,
            seize: &self.stock,
            destination,
            into_position: None,
        };
        let ixn = ix::liquidate(
            keeper.pubkey(),
            self.market.market,
            self.user.position,
            sides,
            u64::MAX,
            self.remaining(),
        );
        self.env.send("liquidate", &[ixn], &[&keeper]).await
    }
}

async fn nflx_split_keeps_the_value_and_liquidates_nobody(mode: Mode) {
    // An hour before the split NFLX trades at $1,100 a share; a token is one share.
    let mut m = StockMarket::start(mode, "NFLXx", NFLX_SPLIT - 3_600, 1_100_00000000).await;
    m.deposit(10_00000000).await.unwrap();
    // 10 × $1,100 × 0.5 = $5,500 of borrowing power: borrow $5,400.
    m.borrow(5_400_000_000).await.unwrap();
    assert!(m.borrow(200_000_000).await.is_err(), "at the limit");
    let insufficient =
        ballast_tests::TxError::Custom { instruction: 0, code: BallastError::InsufficientCollateral.into() };
    let not_liquidatable =
        ballast_tests::TxError::Custom { instruction: 0, code: BallastError::NotLiquidatable.into() };

    // The feed switches a second early: $110 a share, published before the multiplier changes.
    // Inside the 15-minute window the token backs no borrow, and maintenance takes the larger
    // multiplier: no false liquidation.
    m.set_prices(NFLX_SPLIT, 110_00000000).await;
    assert_eq!(m.liquidate().await.unwrap_err(), not_liquidatable, "no false liquidation");
    assert_eq!(m.borrow(1_000_000).await.unwrap_err(), insufficient, "reduce-only in the window");

    // Issue 10 item 1: one second after the change a borrower passes the genuine pre-split print
    // ($1,100, published a second before). At the clock's multiplier (10) it would back $55,000.
    m.env.set_clock(NFLX_SPLIT + 1).await;
    m.env.set_account(m.stock_oracle, stock_price(1_100_00000000, NFLX_SPLIT - 1).account());
    m.env.set_account(m.usdc_oracle, usdc_price(NFLX_SPLIT).account());
    assert_eq!(m.borrow(20_000_000_000).await.unwrap_err(), insufficient, "a pre-split print buys nothing");

    // After the window, $110 a share × 10 shares a token: the same $11,000, the same borrowing
    // power ($5,486 after the 25 bps lag band): $50 more fits and $200 more does not.
    m.set_prices(NFLX_SPLIT + 901, 110_00000000).await;
    assert_eq!(m.liquidate().await.unwrap_err(), not_liquidatable);
    m.borrow(50_000_000).await.unwrap();
    assert!(m.borrow(200_000_000).await.is_err());
}

/// Issue 10 item 1, market-hours feeds: Friday's pre-split close is still the price on Monday
/// morning, after a Sunday-evening split. Valued with the multiplier in force when it was
/// published (1), not the clock's (10): an under-water position is liquidated, not hidden
/// behind a tenfold value.
async fn a_pre_split_close_meets_the_pre_split_multiplier_after_a_weekend(mode: Mode) {
    // Friday 2025-11-14 20:58 UTC = 15:58 EST: open. NFLXx's multiplier goes 1 → 10 on Sunday.
    let mut m = StockMarket::start(mode, "NFLXx", utc(2025, 11, 14, 20, 58), 1_100_00000000).await;
    let admin = m.market.admin.insecure_clone();
    let configure =
        ix::configure_session(admin.pubkey(), m.market.market, m.stock.reserve, Some(nyse(2_000)));
    m.env.send("session", &[configure], &[&admin]).await.unwrap();
    m.deposit(10_00000000).await.unwrap();
    m.borrow(5_400_000_000).await.unwrap();
    // Friday's last print falls to $900: 10 × 900 × (1 − 0.3 − 0.2) = 4,500 < 5,400.
    // Monday 2025-11-17 13:00 UTC = 08:00 EST, before the open, after the split.
    let monday = utc(2025, 11, 17, 13, 0);
    assert!(monday > NFLX_SPLIT + 900);
    m.env.set_clock(monday).await;
    m.env.set_account(m.stock_oracle, stock_price(900_00000000, utc(2025, 11, 14, 20, 59) + 59).account());
    m.env.set_account(m.usdc_oracle, usdc_price(monday - 1).account());
    m.liquidate().await.unwrap();
}

async fn a_paused_mint_takes_no_deposit_and_backs_no_borrow(mode: Mode) {
    let mut m = StockMarket::start(mode, "AAPLx", NOW, 230_00000000).await;
    m.deposit(5_00000000).await.unwrap();
    // Pausable (26): authority (32) then `paused`.
    let paused = patched_aaplx(26, |d, at, _| d[at + 4 + 32] = 1);
    m.env.set_account(m.stock.mint, paused);
    let w = m.user.wallet.insecure_clone();
    let ixn = ix::deposit(w.pubkey(), m.user.position, &m.stock, m.user_stock, 1_00000000);
    let watched = [m.user.position, m.stock.reserve, m.stock.vault, m.user_stock];
    m.env.expect_failure("paused deposit", &[ixn], &[&w], BallastError::MintPaused, &watched).await;
    // Anyone may refresh the reserve's view of the mint; then it backs no new borrow.
    m.env.send("refresh_mint", &[ix::refresh_mint(m.stock.reserve, m.stock.mint)], &[]).await.unwrap();
    assert_eq!(m.env.reserve_state(m.stock.reserve).await.mint_paused, 1);
    let e = m.borrow(1_000_000).await.unwrap_err();
    assert_eq!(
        e,
        ballast_tests::TxError::Custom { instruction: 0, code: BallastError::InsufficientCollateral.into() }
    );
    // Unpaused again: it counts again.
    let (_, live) = fixture("AAPLx");
    m.env.set_account(m.stock.mint, live);
    m.env.send("refresh_mint", &[ix::refresh_mint(m.stock.reserve, m.stock.mint)], &[]).await.unwrap();
    m.borrow(1_000_000).await.unwrap();
}

async fn a_frozen_vault_fails_by_name_and_changes_nothing(mode: Mode) {
    let mut m = StockMarket::start(mode, "SPYx", NOW, 600_00000000).await;
    m.deposit(5_00000000).await.unwrap();
    // The issuer freezes the reserve's vault (account state 2 = Frozen).
    let mut vault = m.env.account(m.stock.vault).await.unwrap();
    vault.data[108] = 2;
    m.env.set_account(m.stock.vault, vault);
    let w = m.user.wallet.insecure_clone();
    let watched = [m.user.position, m.stock.reserve, m.stock.vault, m.user_stock];
    let withdraw = ix::withdraw(w.pubkey(), m.user.position, &m.stock, m.user_stock, 1_00000000);
    m.env.expect_failure("frozen withdraw", &[withdraw], &[&w], BallastError::VaultFrozen, &watched).await;
    let deposit = ix::deposit(w.pubkey(), m.user.position, &m.stock, m.user_stock, 1_00000000);
    m.env.expect_failure("frozen deposit", &[deposit], &[&w], BallastError::VaultFrozen, &watched).await;
}

/// NYSE hours (Monday to Friday, 09:30–16:00 New York), last price accepted for 4 days when
/// closed, with `gap_haircut_bps`; no holidays or early closes.
fn nyse(gap_haircut_bps: u16) -> ballast::instructions::SessionParams {
    ballast::instructions::SessionParams {
        weekday_mask: 0b0111110,
        open_minute: 570,
        close_minute: 960,
        closed_max_age_secs: 4 * 86_400,
        gap_haircut_bps,
        holidays: vec![],
        early_closes: vec![],
        early_close_minute: 0,
    }
}

/// Unix seconds of a UTC date and time.
fn utc(y: u64, m: u64, d: u64, hh: u64, mm: u64) -> i64 {
    (ballast_risk::session::days_from_civil(y, m, d) * 86_400 + hh * 3_600 + mm * 60) as i64
}

async fn an_equity_trades_in_new_york_hours_and_is_reduce_only_outside(mode: Mode) {
    // Monday 2026-03-09, the first trading day of daylight saving: 09:30 EDT is 13:30 UTC.
    let premarket = utc(2026, 3, 9, 13, 29);
    let mut m = StockMarket::start(mode, "AAPLx", premarket, 230_00000000).await;
    let admin = m.market.admin.insecure_clone();
    let nyse = ballast::instructions::SessionParams {
        holidays: vec![ballast_risk::session::days_from_civil(2026, 11, 26) as u32],
        early_closes: vec![ballast_risk::session::days_from_civil(2026, 11, 27) as u32],
        early_close_minute: 780,
        ..nyse(1_000)
    };
    let configure = ix::configure_session(admin.pubkey(), m.market.market, m.stock.reserve, Some(nyse));
    m.env.send("session", &[configure], &[&admin]).await.unwrap();
    m.deposit(5_00000000).await.unwrap(); // deposits are always open
    let closed =
        ballast_tests::TxError::Custom { instruction: 0, code: BallastError::InsufficientCollateral.into() };
    // 13:29 UTC is 09:29 New York: closed, the stock backs nothing yet.
    assert_eq!(m.borrow(100_000_000).await.unwrap_err(), closed, "09:29 EDT");
    m.set_prices(utc(2026, 3, 9, 13, 30), 230_00000000).await;
    m.borrow(100_000_000).await.unwrap();

    // Tuesday 2026-11-17 at 15:00 New York (EST) = 20:00 UTC: open.
    m.set_prices(utc(2026, 11, 17, 20, 0), 230_00000000).await;
    m.borrow(100_000_000).await.unwrap();

    // Saturday 2026-11-21 15:00 UTC: the last price is Friday's close, 18 hours old. It is
    // accepted (closed max age 4 days) but the stock is reduce-only: no new borrow, repay works.
    m.env.set_clock(utc(2026, 11, 21, 15, 0)).await;
    m.env.set_account(m.stock_oracle, stock_price(230_00000000, utc(2026, 11, 20, 20, 59)).account());
    m.env.set_account(m.usdc_oracle, usdc_price(utc(2026, 11, 21, 15, 0) - 1).account());
    assert_eq!(m.borrow(1_000_000).await.unwrap_err(), closed, "Saturday");
    // Thursday's close is a genuine update within the closed max age, but older than the last
    // close: refused (`OracleStale`), so it counts nothing for initial health.
    m.env.set_account(m.stock_oracle, stock_price(250_00000000, utc(2026, 11, 19, 20, 59)).account());
    assert_eq!(m.borrow(1_000_000).await.unwrap_err(), closed, "an older print");
    m.env.set_account(m.stock_oracle, stock_price(230_00000000, utc(2026, 11, 20, 20, 59)).account());
    let w = m.user.wallet.insecure_clone();
    m.env.mint_to(&m.usdc, m.user_usdc, 50_000_000).await;
    let repay = ix::repay(w.pubkey(), m.user.position, &m.usdc.keys, m.user_usdc, 50_000_000);
    m.env.send("repay", &[repay], &[&w]).await.unwrap();
    // Thanksgiving (a listed holiday) is closed all day, even at 11:00 local.
    m.set_prices(utc(2026, 11, 26, 16, 0), 230_00000000).await;
    assert_eq!(m.borrow(1_000_000).await.unwrap_err(), closed, "holiday");
    // Issue 10 item 3: Friday 2026-11-27 is a half-day, closed from 13:00 New York (18:00 UTC).
    // At 13:30 the 12:59 print is the close: accepted under the closed-market rules (a schedule
    // that said "open" would refuse it as 31 minutes stale), and the stock is reduce-only.
    let half_day = utc(2026, 11, 27, 18, 30);
    m.env.set_clock(half_day).await;
    m.env.set_account(m.stock_oracle, stock_price(230_00000000, utc(2026, 11, 27, 17, 59)).account());
    m.env.set_account(m.usdc_oracle, usdc_price(half_day - 1).account());
    assert_eq!(m.borrow(1_000_000).await.unwrap_err(), closed, "half-day afternoon");
    m.set_prices(utc(2026, 11, 26, 16, 0), 230_00000000).await;
    // Only the admin sets sessions, within bounds.
    let bad = ballast::instructions::SessionParams {
        weekday_mask: 0b0111110,
        open_minute: 960,
        close_minute: 570,
        closed_max_age_secs: 86_400,
        gap_haircut_bps: 0,
        holidays: vec![],
        early_closes: vec![],
        early_close_minute: 0,
    };
    let ixn = ix::configure_session(admin.pubkey(), m.market.market, m.stock.reserve, Some(bad));
    m.env
        .expect_failure("bounds", &[ixn], &[&admin], BallastError::ParameterOutOfBounds, &[m.stock.reserve])
        .await;
    let intruder = m.user.wallet.insecure_clone();
    let ixn = ix::configure_session(intruder.pubkey(), m.market.market, m.stock.reserve, None);
    m.env
        .expect_failure("non-admin", &[ixn], &[&intruder], BallastError::NotMarketAdmin, &[m.stock.reserve])
        .await;

    // The reserve now holds deposits: removing the session (which would lift reduce-only) waits
    // for the market timelock (24 h from here on), then anyone applies it.
    let now = utc(2026, 11, 26, 16, 0);
    m.env.set_timelock(&m.market, 86_400).await;
    let remove = ix::configure_session(admin.pubkey(), m.market.market, m.stock.reserve, None);
    m.env.send("remove session", &[remove], &[&admin]).await.unwrap();
    let r = m.env.reserve_state(m.stock.reserve).await;
    assert_eq!((r.session.enabled, r.pending_session_eta), (1, now + 86_400), "queued");
    let apply = ix::apply_session(m.stock.reserve);
    let early = std::slice::from_ref(&apply);
    m.env.expect_failure("too early", early, &[], BallastError::TimelockNotElapsed, &[m.stock.reserve]).await;
    m.env.set_clock(now + 86_400).await;
    m.env.send("apply session", &[apply], &[]).await.unwrap();
    assert_eq!(m.env.reserve_state(m.stock.reserve).await.session.enabled, 0);
}

/// Issue 10 item 3: `maint + gap ≤ init` is enforced at configuration, so a position borrowed to
/// its limit at 15:58 New York is not liquidatable at 16:01 when no price has moved.
async fn the_daily_close_alone_never_makes_a_position_liquidatable(mode: Mode) {
    // Tuesday 2026-11-17 15:58 EST = 20:58 UTC. The stock: init 50 %, maint 30 % haircut.
    let before_close = utc(2026, 11, 17, 20, 58);
    let mut m = StockMarket::start(mode, "AAPLx", before_close, 230_00000000).await;
    let admin = m.market.admin.insecure_clone();
    let session = nyse;
    // 30 % + 20.01 % > 50 %: the close alone would eat into positions at their limit.
    let ixn = ix::configure_session(admin.pubkey(), m.market.market, m.stock.reserve, Some(session(2_001)));
    m.env
        .expect_failure("gap", &[ixn], &[&admin], BallastError::GapHaircutOverInitial, &[m.stock.reserve])
        .await;
    let ixn = ix::configure_session(admin.pubkey(), m.market.market, m.stock.reserve, Some(session(2_000)));
    m.env.send("session", &[ixn], &[&admin]).await.unwrap();
    // Lowering the initial haircut below maint + gap is refused too, before any timelock.
    let mut risk = default_risk();
    (risk.max_leverage_bps, risk.init_haircut_bps, risk.maint_haircut_bps) = (20_000, 4_999, 3_000);
    let ixn = ix::configure_reserve(
        admin.pubkey(),
        m.market.market,
        m.stock.reserve,
        default_oracle(STOCK_FEED, m.stock_oracle),
        risk,
        default_interest(),
        ballast_sdk::params::no_caps(),
    );
    m.env
        .expect_failure("init", &[ixn], &[&admin], BallastError::GapHaircutOverInitial, &[m.stock.reserve])
        .await;

    // 10 shares at $230: $1,150 of initial collateral (weight 0.5, less the lag band); borrow
    // $1,140, close to the limit.
    m.deposit(10_00000000).await.unwrap();
    m.borrow(1_140_000_000).await.unwrap();
    // 16:01 EST, the last print from 15:59:59: maintenance at the close = 2300 × (1 − 0.3 − 0.2)
    // = 1150 ≥ 1140. Not liquidatable.
    let after_close = utc(2026, 11, 17, 21, 1);
    m.env.set_clock(after_close).await;
    m.env.set_account(m.stock_oracle, stock_price(230_00000000, utc(2026, 11, 17, 20, 59) + 59).account());
    m.env.set_account(m.usdc_oracle, usdc_price(after_close - 1).account());
    let e = m.liquidate().await.unwrap_err();
    let refused =
        ballast_tests::TxError::Custom { instruction: 0, code: BallastError::NotLiquidatable.into() };
    assert_eq!(e, refused, "the close alone liquidates nobody");
}

/// Issue 10 item 8: a transfer-fee authority is an issuer control (listing needs the opt-in).
/// When the authority later sets a fee, the reserve takes no new exposure (deposit and borrow
/// refused by name, nothing for initial health) while repay, withdraw and liquidation go on:
/// repayments send the fee on top so that what the books credit is what the vault received,
/// and the vault always holds what the reserve books.
async fn a_transfer_fee_set_after_listing_takes_no_new_exposure_and_repays_what_arrives(mode: Mode) {
    use anchor_spl::token_2022::spl_token_2022::extension::transfer_fee::TransferFeeConfig;
    use anchor_spl::token_2022::spl_token_2022::extension::{
        BaseStateWithExtensionsMut, StateWithExtensionsMut,
    };
    use ballast_tests::PricedMarket;
    const FEE_FEED: [u8; 32] = [5; 32];
    const UNIT: u64 = 1_000_000;
    let mut m = PricedMarket::start(mode).await;
    // A Token-2022 mint with a zero fee and a fee authority, made by the token program.
    let fee_authority = m.env.keypair().pubkey();
    let mint = transfer_fee_mint(&mut m.env, Some(&fee_authority), 0).await;
    let payer = m.env.payer();
    let crypto = |allow_issuer_controls| AddReserveArgs {
        asset_class: AssetClass::Crypto,
        deposit_cap: u64::MAX,
        borrow_cap: u64::MAX,
        allow_issuer_controls,
        issuer_haircut_bps: 0,
    };
    let admin = m.market.admin.insecure_clone();
    let reserve = pda::reserve(&m.market.market, &mint.pubkey());
    let ixn = ix::add_reserve(admin.pubkey(), m.market.market, mint.pubkey(), TOKEN_2022, crypto(false));
    m.env
        .expect_failure(
            "fee authority",
            &[ixn],
            &[&admin],
            BallastError::IssuerControlsNotAllowed,
            &[reserve],
        )
        .await;
    let keys = list(&mut m.env, &m.market, mint.pubkey(), crypto(true)).await.unwrap();
    let fee_reserve = ReserveFixture {
        keys,
        insurance_vault: pda::insurance_vault(&reserve),
        mint_authority: payer,
        decimals: 6,
    };
    let oracle = feed_account(&FEE_FEED);
    let price = PullPrice { feed_id: FEE_FEED, ..usdc_price(NOW - 1) };
    m.env.set_account(oracle, price.account());
    m.env
        .configure(
            &m.market,
            &fee_reserve,
            default_oracle(FEE_FEED, oracle),
            default_risk(),
            default_interest(),
        )
        .await
        .unwrap();
    m.more_oracles.push((reserve, oracle));

    // A lender supplies 1,000; the borrower (10 SOL at $100) borrows 500.
    let lender = m.env.create_user(&m.market).await;
    let lender_tokens = stock_account(&mut m.env, mint.pubkey(), &lender.wallet.pubkey(), 1_000 * UNIT).await;
    m.env.deposit(&lender, &fee_reserve, lender_tokens, 1_000 * UNIT).await.unwrap();
    let borrower = m.borrower.wallet.insecure_clone();
    let borrower_tokens = stock_account(&mut m.env, mint.pubkey(), &borrower.pubkey(), 0).await;
    let remaining = m.health_accounts(Some(reserve)).await;
    let borrow = ix::borrow(
        borrower.pubkey(),
        m.borrower.position,
        &fee_reserve.keys,
        borrower_tokens,
        500 * UNIT,
        remaining,
    );
    m.env.send("borrow", &[borrow], &[&borrower]).await.unwrap();

    // The authority sets a 1 % fee (written as it stands once the epoch it names has come).
    let mut account = m.env.account(mint.pubkey()).await.unwrap();
    {
        let mut state = StateWithExtensionsMut::<Mint>::unpack(&mut account.data).unwrap();
        let config = state.get_extension_mut::<TransferFeeConfig>().unwrap();
        for fee in [&mut config.older_transfer_fee, &mut config.newer_transfer_fee] {
            fee.transfer_fee_basis_points = 100.into();
            fee.maximum_fee = u64::MAX.into();
        }
    }
    m.env.set_account(mint.pubkey(), account);
    m.env.send("refresh_mint", &[ix::refresh_mint(reserve, mint.pubkey())], &[]).await.unwrap();
    assert_eq!(
        m.env.reserve_state(reserve).await.mint_impaired,
        ballast::mint_rules::MINT_IMPAIRED_TRANSFER_FEE
    );

    // No new exposure, by name.
    let vault = fee_reserve.keys.vault;
    let watched = [reserve, vault, lender_tokens, borrower_tokens, m.borrower.position];
    let deposit =
        ix::deposit(lender.wallet.pubkey(), lender.position, &fee_reserve.keys, lender_tokens, UNIT);
    m.env
        .expect_failure("deposit", &[deposit], &[&lender.wallet], BallastError::MintTransferFee, &watched)
        .await;
    let remaining = m.health_accounts(None).await;
    let borrow = ix::borrow(
        borrower.pubkey(),
        m.borrower.position,
        &fee_reserve.keys,
        borrower_tokens,
        UNIT,
        remaining,
    );
    m.env.expect_failure("borrow", &[borrow], &[&borrower], BallastError::MintTransferFee, &watched).await;

    // Repay 100: the borrower sends the fee on top, the debt and the vault move by exactly 100.
    let before = (m.env.token_balance(borrower_tokens).await, m.env.token_balance(vault).await);
    let repay =
        ix::repay(borrower.pubkey(), m.borrower.position, &fee_reserve.keys, borrower_tokens, 100 * UNIT);
    m.env.send("repay", &[repay], &[&borrower]).await.unwrap();
    assert_eq!(m.env.token_balance(vault).await - before.1, 100 * UNIT);
    assert!(before.0 - m.env.token_balance(borrower_tokens).await > 100 * UNIT, "the fee on top");
    let slot =
        |p: &ballast::state::Position| p.slots.iter().find(|s| s.reserve == reserve).unwrap().borrow_shares;
    assert_eq!(slot(&m.env.position_state(m.borrower.position).await), 400 * UNIT);

    // The lender withdraws 100: the vault pays 100, the lender receives 99 (the fee is withheld).
    let withdraw =
        ix::withdraw(lender.wallet.pubkey(), lender.position, &fee_reserve.keys, lender_tokens, 100 * UNIT);
    m.env.send("withdraw", &[withdraw], &[&lender.wallet]).await.unwrap();
    assert_eq!(m.env.token_balance(lender_tokens).await, 99 * UNIT);

    // SOL at $40: 0.95 × $400 < $400 of debt. A keeper repays the fee-bearing debt.
    m.set_sol_price(NOW, 40).await;
    m.env.set_account(oracle, PullPrice { feed_id: FEE_FEED, ..usdc_price(NOW - 1) }.account());
    let keeper = m.env.funded_wallet(1_000_000_000).await;
    let keeper_tokens = stock_account(&mut m.env, mint.pubkey(), &keeper.pubkey(), 1_000 * UNIT).await;
    let keeper_sol = m.env.token_account(&m.sol, &keeper.pubkey(), 0).await;
    let remaining = m.health_accounts(None).await;
    let sides = ix::LiquidationSides {
        repay: &fee_reserve.keys,
        source: keeper_tokens,
        seize: &m.sol.keys,
        destination: keeper_sol,
        into_position: None,
    };
    let liquidate =
        ix::liquidate(keeper.pubkey(), m.market.market, m.borrower.position, sides, u64::MAX, remaining);
    let vault_before = m.env.token_balance(vault).await;
    m.env.send("liquidate", &[liquidate], &[&keeper]).await.unwrap();
    let repaid = 400 * UNIT - slot(&m.env.position_state(m.borrower.position).await);
    assert!(repaid > 0);
    assert_eq!(m.env.token_balance(vault).await - vault_before, repaid, "the vault received what was booked");
    assert!(m.env.token_balance(keeper_sol).await > 0);
    // The vault holds exactly what the reserve books.
    let state = m.env.reserve_state(reserve).await;
    assert_eq!(m.env.token_balance(vault).await, state.available_liquidity);
}

/// Issue 10 item 9: borrow re-reads only the borrowed reserve's mint, so a collateral's cached
/// pause flag (or multiplier) could be used long after the issuer changed it. A dynamic mint's
/// collateral now backs a new borrow only while its cache is at most a minute old: the issuer
/// pauses AAPLx, and a minute later the stale "not paused" no longer backs anything; re-read, it
/// is paused, and it backs nothing either.
async fn a_collateral_mint_nobody_has_read_for_a_minute_backs_no_new_borrow(mode: Mode) {
    let mut m = StockMarket::start(mode, "AAPLx", NOW, 230_00000000).await;
    m.deposit(5_00000000).await.unwrap();
    let paused = patched_aaplx(26, |d, at, _| d[at + 4 + 32] = 1);
    m.env.set_account(m.stock.mint, paused);
    let w = m.user.wallet.insecure_clone();
    // Within the minute the cache (read by the deposit) still counts.
    let ixn = m.borrow_ix(1_000_000);
    m.env.send("borrow", &[ixn], &[&w]).await.unwrap();
    // A minute and a second later, nobody has re-read the mint: it backs nothing new.
    m.set_prices(NOW + 61, 230_00000000).await;
    let watched = [m.user.position, m.stock.reserve, m.usdc.keys.reserve, m.user_usdc];
    let ixn = m.borrow_ix(1_000_000);
    m.env
        .expect_failure("stale mint cache", &[ixn], &[&w], BallastError::InsufficientCollateral, &watched)
        .await;
    // Re-read in the same transaction: paused, still nothing.
    let refresh = ix::refresh_mint(m.stock.reserve, m.stock.mint);
    let ixn = m.borrow_ix(1_000_000);
    let e = m.env.send("borrow", &[refresh, ixn], &[&w]).await.unwrap_err();
    assert_eq!(
        e,
        ballast_tests::TxError::Custom { instruction: 1, code: BallastError::InsufficientCollateral.into() }
    );
    // Unpaused and re-read in the borrow's transaction: it counts again.
    let (_, live) = fixture("AAPLx");
    m.env.set_account(m.stock.mint, live);
    let refresh = ix::refresh_mint(m.stock.reserve, m.stock.mint);
    let ixn = m.borrow_ix(1_000_000);
    m.env.send("borrow", &[refresh, ixn], &[&w]).await.unwrap();
}
