#![allow(deprecated)] // solana-program-test 3.x API, see tests/src/lib.rs
//! Oracles, the lag band and borrowing (SPEC §2–§4, issue 3), every test in native and SBF mode.
use anchor_lang::prelude::Pubkey;
use anchor_spl::token::ID as SPL_TOKEN;
use ballast::error::BallastError;
use ballast::state::OracleSource;
use ballast_sdk::ix;
use ballast_sdk::params::no_caps;
use ballast_tests::fixtures::{default_interest, default_oracle, default_risk, sol_price, usdc_price, NOW};
use ballast_tests::oracles::{mainnet_fixture, PullPrice};
use ballast_tests::{dual_mode_tests, Mode, PricedMarket, TestEnv};
use solana_signer::Signer;

dual_mode_tests!(
    third_party_receiver_account_is_refused,
    each_oracle_rejection_is_named_and_changes_nothing,
    lag_band_lowers_the_borrow_limit_by_the_formula,
    stale_price_blocks_borrow_and_withdraw_but_not_repay_or_deposit,
    three_x_asset_reaches_three_x_and_no_more,
    interest_over_a_warped_clock_matches_the_model,
    withdraw_with_debt_keeps_initial_health,
    remaining_accounts_must_match_the_slots,
    ema_breaker_levels_allow_and_refuse_as_documented,
    parameters_outside_bounds_are_refused,
    borrow_cap_and_concentration_limit_are_enforced,
    deposit_concentration_limit_is_enforced,
    fees_fill_the_insurance_pool_to_its_target_then_go_to_the_fee_receiver,
    borrow_factor_weighs_the_debt,
    a_pull_reserve_pins_only_the_push_oracles_feed_account,
);

// Views answer through return data and events through logs, which only SBF programs hand to the
// bank: these run in SBF mode only.
#[tokio::test]
async fn sbf_health_view_reports_the_figures_of_spec_3() {
    health_view_reports_the_figures_of_spec_3(Mode::Sbf).await
}

#[tokio::test]
async fn sbf_ema_warn_emits_an_event_and_force_adds_the_stress_haircut() {
    ema_warn_emits_an_event_and_force_adds_the_stress_haircut(Mode::Sbf).await
}

// The health view answers through return data, which (like logs) only SBF programs hand to the
// bank; the native build's decoding of the same fixtures is covered by the program's unit tests
// (`oracle::tests`).
#[tokio::test]
async fn sbf_mainnet_price_updates_decode_exactly() {
    mainnet_price_updates_decode_exactly(Mode::Sbf).await
}

#[tokio::test]
async fn sbf_legacy_price_account_decodes_exactly() {
    legacy_price_account_decodes_exactly(Mode::Sbf).await
}

/// Prices one reserve from `oracle` and returns the health view's slot report.
async fn price_through_health(
    mode: Mode,
    oracle_key: Pubkey,
    oracle: solana_account::Account,
    params: ballast::instructions::OracleParams,
    now: i64,
) -> ballast::instructions::SlotReport {
    let mut env = TestEnv::start(mode).await;
    env.set_clock(now).await;
    env.set_account(oracle_key, oracle);
    let market = env.create_market().await;
    let reserve = env.add_reserve(&market, SPL_TOKEN, 6, u64::MAX).await;
    env.configure(&market, &reserve, params, default_risk(), default_interest()).await.unwrap();
    let user = env.create_user(&market).await;
    let account = env.token_account(&reserve, &user.wallet.pubkey(), 1_000).await;
    env.deposit(&user, &reserve, account, 1_000).await.unwrap();
    let remaining = ix::health_accounts(&[reserve.keys.reserve], |_| oracle_key);
    env.send("health", &[ix::health(market.market, user.position, remaining)], &[]).await.unwrap();
    let report: ballast::instructions::HealthReport =
        ballast_sdk::accounts::view_return(&env.last_return_data).unwrap();
    assert_eq!(report.slots.len(), 1);
    report.slots[0].clone()
}

fn feed_of(data: &[u8]) -> [u8; 32] {
    data[41..73].try_into().unwrap()
}

async fn mainnet_price_updates_decode_exactly(mode: Mode) {
    // (file, price, confidence, expo, publish time) as captured on mainnet.
    for (file, price, conf, expo, publish_time) in [
        ("pyth_v2_SOLUSD_mainnet_drift.json", 13_467_731_930u64, 13_012_302u64, -8, 1_718_727_936i64),
        ("pyth_v2_SOLUSD_mainnet_swig.json", 16_751_519_922, 7_865_065, -8, 1_749_654_165),
        ("pyth_v2_SOLUSD_mainnet_getAccountInfo_Rolanchik.json", 9_385_943_752, 4_672_083, -8, 1_787_392_706),
        ("pyth_v2_TSLAX_xstock_mainnet_Blinds.json", 36_523_000_001, 8_533_118, -8, 1_789_215_534),
        ("pyth_v2_AAPL_equity_shard1_mainnet_Solera.json", 33_563_050, 3_951, -5, 1_789_666_422),
    ] {
        // A genuine update, at the push oracle's feed account of its feed (as pinned).
        let (_, account) = mainnet_fixture(file);
        let key = ballast_tests::fixtures::feed_account(&feed_of(&account.data));
        let mut params = default_oracle(feed_of(&account.data), key);
        params.ema_warn_bps = 5_000; // EMA levels are not under test here
        params.ema_pause_bps = 5_000;
        params.ema_force_bps = 5_000;
        let slot = price_through_health(mode, key, account, params, publish_time + 2).await;
        assert_eq!((slot.price, slot.expo, slot.age_secs), (price, expo, 2), "{file}");
        // The band at age 2 is the confidence plus 25 bps/s × 2 s of the price, rounded up.
        assert_eq!(slot.band, conf + (price * 25 * 2).div_ceil(10_000), "{file}");
    }
}

async fn legacy_price_account_decodes_exactly(mode: Mode) {
    let (key, account) = mainnet_fixture("pyth_legacy_BONKUSD_mainnet_drift.json");
    let mut params = default_oracle([0; 32], key);
    params.source = OracleSource::PythLegacy;
    params.price_account = key;
    params.max_conf_bps = 1_000;
    params.ema_force_bps = 5_000;
    let slot = price_through_health(mode, key, account, params, 1_702_120_657 + 5).await;
    // BONK/USD 2023-12-09: 0.0000145975 ± 0.0000000219 (expo -10), EMA 0.0000143452.
    assert_eq!((slot.price, slot.expo, slot.age_secs), (145_975, -10, 5));
    assert_eq!(slot.band, 219 + (145_975u64 * 25 * 5).div_ceil(10_000));
    assert_eq!(slot.ema_divergence_bps, (145_975 - 143_452) * 10_000 / 143_452);
}

async fn third_party_receiver_account_is_refused(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let (_, account) = mainnet_fixture("pyth_v2_BONK_drift_receiver_mainnet_drift.json");
    assert_ne!(account.owner, ballast::oracle::pull::PYTH_RECEIVER_PROGRAM_ID);
    // Same layout, same feed id as the reserve expects, but not the Pyth receiver's account.
    let mut data = account.data.clone();
    data[41..73].copy_from_slice(&ballast_tests::fixtures::USDC_FEED);
    // Written at the reserve's pinned address: the owner check still refuses it.
    m.env.set_account(m.usdc_oracle, solana_account::Account { data, ..account });
    let ixn = m.borrow_ix(1_000_000).await;
    let watched = m.watched();
    let wallet = m.borrower.wallet.insecure_clone();
    m.env
        .expect_failure("third-party receiver", &[ixn], &[&wallet], BallastError::OracleWrongOwner, &watched)
        .await;
}

async fn each_oracle_rejection_is_named_and_changes_nothing(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let good = usdc_price(NOW - 1);
    let cases: Vec<(&str, PullPrice, BallastError)> = vec![
        ("wrong feed", PullPrice { feed_id: [9; 32], ..good }, BallastError::OracleWrongFeed),
        (
            "partial verification",
            PullPrice { full_verification: false, ..good },
            BallastError::OraclePartialVerification,
        ),
        ("zero price", PullPrice { price: 0, ..good }, BallastError::OracleNonPositivePrice),
        ("negative price", PullPrice { price: -5, ..good }, BallastError::OracleNonPositivePrice),
        ("exponent out of range", PullPrice { expo: -19, ..good }, BallastError::OracleExponentOutOfRange),
        ("stale by 1 s", PullPrice { publish_time: NOW - 61, ..good }, BallastError::OracleStale),
        ("confidence 2.01 %", PullPrice { conf: 2_010_000, ..good }, BallastError::OracleConfidenceTooWide),
        // 25 bps/s × 21 s = 5.25 % > the 5 % cap, still younger than the 60 s max age.
        ("band over the cap", PullPrice { publish_time: NOW - 21, ..good }, BallastError::OracleBandTooWide),
    ];
    for (label, price, expected) in cases {
        m.env.set_account(m.usdc_oracle, price.account());
        let ixn = m.borrow_ix(1_000_000).await;
        let watched = m.watched();
        let wallet = m.borrower.wallet.insecure_clone();
        m.env.expect_failure(label, &[ixn], &[&wallet], expected, &watched).await;
    }
    // Not owned by the receiver program at all.
    let mut foreign = good.account();
    foreign.owner = Pubkey::new_unique();
    m.env.set_account(m.usdc_oracle, foreign);
    let ixn = m.borrow_ix(1_000_000).await;
    let watched = m.watched();
    let wallet = m.borrower.wallet.insecure_clone();
    m.env.expect_failure("wrong owner", &[ixn], &[&wallet], BallastError::OracleWrongOwner, &watched).await;
    // And the same borrow goes through once the price is good again.
    m.env.set_account(m.usdc_oracle, good.account());
    m.borrow(1_000_000).await.unwrap();
}

/// The largest USDC borrow (6 decimals) against 10 SOL when both prices are `age` seconds old,
/// written out from SPEC §2–§3 independently of the program: collateral at `price − band`,
/// debt at `price + band`, `band = price × 25 bps × age` (conf 0), init weight
/// `min(1 − 10 %, 1 − 1/3) = 0.666666666`.
fn max_borrow(age: u128) -> u64 {
    let sol_low = 10_000_000_000u128 - 10_000_000_000 * 25 * age / 10_000; // mantissa, expo -8
    let collateral = 10_000_000_000u128 * sol_low * 10; // 10 SOL in USD × 1e18: × 10^(18 − 8 − 9)
    let init_collateral = collateral * 666_666_666 / 1_000_000_000;
    let usdc_high = 100_000_000u128 + (100_000_000 * 25 * age).div_ceil(10_000);
    (init_collateral / (usdc_high * 10_000)) as u64 // one USDC base unit = usdc_high × 10^(18 − 8 − 6)
}

async fn lag_band_lowers_the_borrow_limit_by_the_formula(mode: Mode) {
    let (limit_1s, limit_3s) = (max_borrow(1), max_borrow(3));
    assert_eq!((limit_1s, limit_3s), (663_341_645, 656_741_107));
    for (age, limit) in [(1, limit_1s), (3, limit_3s)] {
        let mut m = PricedMarket::start(mode).await;
        m.env.set_account(m.sol_oracle, sol_price(NOW - age).account());
        m.env.set_account(m.usdc_oracle, usdc_price(NOW - age).account());
        let ixn = m.borrow_ix(limit + 1).await;
        let watched = m.watched();
        let wallet = m.borrower.wallet.insecure_clone();
        m.env
            .expect_failure(
                "one unit over the limit",
                &[ixn],
                &[&wallet],
                BallastError::InsufficientCollateral,
                &watched,
            )
            .await;
        m.borrow(limit).await.unwrap();
        assert_eq!(m.env.token_balance(m.borrower_usdc).await, limit);
    }
}

async fn stale_price_blocks_borrow_and_withdraw_but_not_repay_or_deposit(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.borrow(100_000_000).await.unwrap();
    m.env.set_clock(NOW + 60).await; // both prices are now 61 s old
    let watched = m.watched();
    let wallet = m.borrower.wallet.insecure_clone();

    let ixn = m.borrow_ix(1).await;
    m.env.expect_failure("stale borrow", &[ixn], &[&wallet], BallastError::OracleStale, &watched).await;
    let remaining = m.health_accounts(None).await;
    let ixn = ix::withdraw_with_health(
        wallet.pubkey(),
        m.borrower.position,
        &m.sol.keys,
        m.borrower_sol,
        1,
        remaining,
    );
    m.env.expect_failure("stale withdraw", &[ixn], &[&wallet], BallastError::OracleStale, &watched).await;

    // Repay and deposit need no price.
    let repay = ix::repay(wallet.pubkey(), m.borrower.position, &m.usdc.keys, m.borrower_usdc, 40_000_000);
    m.env.send("repay", &[repay], &[&wallet]).await.unwrap();
    let top_up = m.env.token_account(&m.sol, &wallet.pubkey(), 5).await;
    let borrower =
        ballast_tests::UserFixture { wallet: wallet.insecure_clone(), position: m.borrower.position };
    m.env.deposit(&borrower, &m.sol, top_up, 5).await.unwrap();
    assert_eq!(m.env.token_balance(m.borrower_usdc).await, 60_000_000);
}

async fn three_x_asset_reaches_three_x_and_no_more(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.env.set_account(m.sol_oracle, sol_price(NOW).account()); // age 0: no band
    m.env.set_account(m.usdc_oracle, usdc_price(NOW).account());
    let limit = max_borrow(0);
    // $1000 × 0.666666666. Leverage = collateral / (collateral − debt), $1 000 against
    // $666.666666: 2.999999994×, i.e. 3× to within the weight's 1e-9 precision.
    assert_eq!(limit, 666_666_666);
    let leverage_e9 = |debt: u64| 1_000_000_000u128 * 1_000_000_000 / (1_000_000_000 - debt as u128);
    assert_eq!(leverage_e9(limit), 2_999_999_994);
    let ixn = m.borrow_ix(limit + 1).await;
    let (watched, wallet) = (m.watched(), m.borrower.wallet.insecure_clone());
    m.env.expect_failure("past 3x", &[ixn], &[&wallet], BallastError::InsufficientCollateral, &watched).await;
    m.borrow(limit).await.unwrap();
}

async fn interest_over_a_warped_clock_matches_the_model(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let borrowed = 600_000_000u64; // 600 of the 10 000 USDC supplied: 6 % utilization
    m.borrow(borrowed).await.unwrap();
    let elapsed = 4 * 3600u64;
    m.env.set_clock(NOW + elapsed as i64).await;

    // The model, written out: utilization 6 % ⇒ APR = 2 % + (40 % − 2 %) × 6/80 = 4.85 %;
    // index = 1 + ceil(APR × elapsed / year) (WAD), debt = ceil(shares × index).
    const WAD: u128 = 1_000_000_000_000_000_000;
    let apr = WAD * 485 / 10_000;
    let index = WAD + (apr * elapsed as u128).div_ceil(365 * 24 * 3600);
    let expected_debt = (borrowed as u128 * index).div_ceil(WAD) as u64;
    assert_eq!(expected_debt, 600_013_288);

    let wallet = m.borrower.wallet.insecure_clone();
    let payer = m.env.token_account(&m.usdc, &wallet.pubkey(), 700_000_000).await;
    let ixs = [ix::repay(wallet.pubkey(), m.borrower.position, &m.usdc.keys, payer, u64::MAX)];
    m.env.send("repay", &ixs, &[&wallet]).await.unwrap();
    assert_eq!(700_000_000 - m.env.token_balance(payer).await, expected_debt);
    let position = m.env.position_state(m.borrower.position).await;
    assert!(position.slots.iter().all(|s| s.borrow_shares == 0));
    // 10 % of the interest is the protocol's; the rest raised the depositors' assets.
    let r = m.env.reserve_state(m.usdc.keys.reserve).await;
    let interest = expected_debt - borrowed;
    assert_eq!(r.pending_fees, interest / 10);
    assert_eq!(r.total_deposit_assets().unwrap(), 10_000_000_000 + interest - interest / 10);
    assert_eq!(r.available_liquidity, 10_000_000_000 + interest);
}

async fn withdraw_with_debt_keeps_initial_health(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.env.set_account(m.sol_oracle, sol_price(NOW).account());
    m.env.set_account(m.usdc_oracle, usdc_price(NOW).account());
    m.borrow(333_333_333).await.unwrap(); // half the 3× limit
    let wallet = m.borrower.wallet.insecure_clone();
    let remaining = m.health_accounts(None).await;
    // 5 SOL left back $333.333330 of initial collateral: one lamport more breaks it.
    let too_much = ix::withdraw_with_health(
        wallet.pubkey(),
        m.borrower.position,
        &m.sol.keys,
        m.borrower_sol,
        5_000_000_001,
        remaining.clone(),
    );
    let watched = m.watched();
    m.env
        .expect_failure(
            "withdraw below health",
            &[too_much],
            &[&wallet],
            BallastError::InsufficientCollateral,
            &watched,
        )
        .await;
    let ok = ix::withdraw_with_health(
        wallet.pubkey(),
        m.borrower.position,
        &m.sol.keys,
        m.borrower_sol,
        4_999_999_000,
        remaining,
    );
    m.env.send("withdraw", &[ok], &[&wallet]).await.unwrap();
    assert_eq!(m.env.token_balance(m.borrower_sol).await, 4_999_999_000);
}

async fn remaining_accounts_must_match_the_slots(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let wallet = m.borrower.wallet.insecure_clone();
    let full = m.health_accounts(Some(m.usdc.keys.reserve)).await;
    assert_eq!(full.len(), 4);
    let swapped = vec![full[2].clone(), full[3].clone(), full[0].clone(), full[1].clone()];
    let duplicated = vec![full[0].clone(), full[1].clone(), full[0].clone(), full[1].clone()];
    let mut extra = full.clone();
    extra.extend(full[2..].iter().cloned());
    let mut wrong_oracle = full.clone();
    wrong_oracle[1] = full[3].clone(); // SOL's slot priced by the USDC oracle
    for (label, remaining, expected) in [
        ("missing", full[..2].to_vec(), BallastError::RemainingAccountsMismatch),
        ("extra", extra, BallastError::RemainingAccountsMismatch),
        ("out of order", swapped, BallastError::RemainingAccountsMismatch),
        ("duplicated", duplicated, BallastError::RemainingAccountsMismatch),
        ("wrong oracle", wrong_oracle, BallastError::OracleWrongAccount),
    ] {
        let ixn = ix::borrow(
            wallet.pubkey(),
            m.borrower.position,
            &m.usdc.keys,
            m.borrower_usdc,
            1_000_000,
            remaining,
        );
        let watched = m.watched();
        m.env.expect_failure(label, &[ixn], &[&wallet], expected, &watched).await;
    }
}

async fn ema_breaker_levels_allow_and_refuse_as_documented(mode: Mode) {
    // Warn (≥ 80 bps): borrowing goes on.
    let mut m = PricedMarket::start(mode).await;
    m.env.set_account(m.usdc_oracle, PullPrice { ema_price: 99_190_000, ..usdc_price(NOW - 1) }.account());
    m.borrow(1_000_000).await.unwrap();

    // Pause (≥ 120 bps) on the borrowed asset: no new borrow of it; repay and deposit still work.
    m.env.set_account(m.usdc_oracle, PullPrice { ema_price: 98_800_000, ..usdc_price(NOW - 1) }.account());
    let ixn = m.borrow_ix(1_000_000).await;
    let (watched, wallet) = (m.watched(), m.borrower.wallet.insecure_clone());
    m.env
        .expect_failure("borrow paused asset", &[ixn], &[&wallet], BallastError::EmaBreakerPaused, &watched)
        .await;
    let repay = ix::repay(wallet.pubkey(), m.borrower.position, &m.usdc.keys, m.borrower_usdc, 500_000);
    m.env.send("repay", &[repay], &[&wallet]).await.unwrap();

    // Pause on the collateral: nothing may rely on it, so the position has no borrowing power.
    m.env.set_account(m.usdc_oracle, usdc_price(NOW - 1).account());
    m.env.set_account(m.sol_oracle, PullPrice { ema_price: 9_880_000_000, ..sol_price(NOW - 1) }.account());
    let ixn = m.borrow_ix(1_000_000).await;
    let watched = m.watched();
    m.env
        .expect_failure(
            "borrow against paused collateral",
            &[ixn],
            &[&wallet],
            BallastError::InsufficientCollateral,
            &watched,
        )
        .await;
    let top_up = m.env.token_account(&m.sol, &wallet.pubkey(), 7).await;
    let borrower =
        ballast_tests::UserFixture { wallet: wallet.insecure_clone(), position: m.borrower.position };
    m.env.deposit(&borrower, &m.sol, top_up, 7).await.unwrap();

    // Force (≥ 150 bps) also leaves the asset reduce-only for initial health.
    m.env.set_account(m.sol_oracle, PullPrice { ema_price: 9_850_000_000, ..sol_price(NOW - 1) }.account());
    let ixn = m.borrow_ix(1_000_000).await;
    let watched = m.watched();
    m.env
        .expect_failure(
            "borrow against forced collateral",
            &[ixn],
            &[&wallet],
            BallastError::InsufficientCollateral,
            &watched,
        )
        .await;
}

async fn parameters_outside_bounds_are_refused(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let watched = vec![m.sol.keys.reserve];
    let admin = m.market.admin.insecure_clone();
    let configure = |oracle, risk, interest| {
        ix::configure_reserve(
            admin.pubkey(),
            m.market.market,
            m.sol.keys.reserve,
            oracle,
            risk,
            interest,
            no_caps(),
        )
    };
    let sol_oracle = m.sol_oracle;
    let o = || default_oracle(ballast_tests::fixtures::SOL_FEED, sol_oracle);
    let cases = vec![
        (
            "5.0001x",
            configure(
                o(),
                ballast::instructions::RiskParams { max_leverage_bps: 50_001, ..default_risk() },
                default_interest(),
            ),
        ),
        (
            "haircut 96 %",
            configure(
                o(),
                ballast::instructions::RiskParams { init_haircut_bps: 9_600, ..default_risk() },
                default_interest(),
            ),
        ),
        (
            "max age 301 s",
            configure(
                ballast::instructions::OracleParams { max_age_secs: 301, ..o() },
                default_risk(),
                default_interest(),
            ),
        ),
        (
            "conf 10.01 %",
            configure(
                ballast::instructions::OracleParams { max_conf_bps: 1_001, ..o() },
                default_risk(),
                default_interest(),
            ),
        ),
        (
            "reserve factor 51 %",
            configure(
                o(),
                default_risk(),
                ballast::instructions::InterestParams { reserve_factor_bps: 5_100, ..default_interest() },
            ),
        ),
    ];
    for (label, ixn) in cases {
        m.env.expect_failure(label, &[ixn], &[&admin], BallastError::ParameterOutOfBounds, &watched).await;
    }
    // 5× exactly is allowed; a non-admin can change nothing.
    let five_x = configure(
        o(),
        ballast::instructions::RiskParams { max_leverage_bps: 50_000, ..default_risk() },
        default_interest(),
    );
    m.env.send("configure 5x", &[five_x], &[&admin]).await.unwrap();
    let intruder = m.borrower.wallet.insecure_clone();
    let ixn = ix::configure_reserve(
        intruder.pubkey(),
        m.market.market,
        m.sol.keys.reserve,
        o(),
        default_risk(),
        default_interest(),
        no_caps(),
    );
    m.env.expect_failure("non-admin", &[ixn], &[&intruder], BallastError::NotMarketAdmin, &watched).await;
}

async fn borrow_cap_and_concentration_limit_are_enforced(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    // Rewrite the USDC reserve's caps: 100 USDC of borrows, at most 40 % of it per position.
    let mut account = m.env.account(m.usdc.keys.reserve).await.unwrap();
    let mut r = ballast_sdk::accounts::reserve(&account.data).unwrap();
    r.borrow_cap = 100_000_000;
    r.risk.position_cap_bps = 4_000;
    account.data[8..].copy_from_slice(bytemuck::bytes_of(&r));
    m.env.set_account(m.usdc.keys.reserve, account);

    let ixn = m.borrow_ix(40_000_001).await;
    let (watched, wallet) = (m.watched(), m.borrower.wallet.insecure_clone());
    m.env
        .expect_failure(
            "over 40 % of the cap",
            &[ixn],
            &[&wallet],
            BallastError::ConcentrationLimitExceeded,
            &watched,
        )
        .await;
    m.borrow(40_000_000).await.unwrap();
    let ixn = m.borrow_ix(60_000_001).await;
    let watched = m.watched();
    m.env
        .expect_failure("over the borrow cap", &[ixn], &[&wallet], BallastError::BorrowCapExceeded, &watched)
        .await;
}

async fn deposit_concentration_limit_is_enforced(mode: Mode) {
    let mut env = TestEnv::start(mode).await;
    let market = env.create_market().await;
    let reserve = env.add_reserve(&market, SPL_TOKEN, 6, 1_000).await;
    let risk = ballast::instructions::RiskParams { position_cap_bps: 4_000, ..default_risk() };
    let oracle = ballast_sdk::params::push_feed_oracle(reserve.keys.mint.to_bytes());
    env.configure(&market, &reserve, oracle, risk, default_interest()).await.unwrap();
    let (alice, bob) = (env.create_user(&market).await, env.create_user(&market).await);
    let alice_acc = env.token_account(&reserve, &alice.wallet.pubkey(), 1_000).await;
    let bob_acc = env.token_account(&reserve, &bob.wallet.pubkey(), 1_000).await;
    let watched = vec![alice.position, reserve.keys.reserve, reserve.keys.vault, alice_acc];
    env.expect_failure(
        "41 % of the deposit cap",
        &[ix::deposit(alice.wallet.pubkey(), alice.position, &reserve.keys, alice_acc, 401)],
        &[&alice.wallet],
        BallastError::ConcentrationLimitExceeded,
        &watched,
    )
    .await;
    env.deposit(&alice, &reserve, alice_acc, 400).await.unwrap();
    env.deposit(&bob, &reserve, bob_acc, 400).await.unwrap();
    assert_eq!(env.token_balance(reserve.keys.vault).await, 800);
}

async fn health_view_reports_the_figures_of_spec_3(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.env.set_account(m.sol_oracle, sol_price(NOW).account()); // age 0: no band
    m.env.set_account(m.usdc_oracle, usdc_price(NOW).account());
    m.borrow(333_333_333).await.unwrap();
    let h = m.health().await;
    const WAD: u128 = 1_000_000_000_000_000_000;
    assert_eq!(h.collateral_value, 1_000 * WAD);
    assert_eq!(h.debt_value, 333_333_333 * 1_000_000_000_000);
    assert_eq!(h.maint_collateral, 950 * WAD); // 5 % maintenance haircut
    assert_eq!(h.init_collateral, 666_666_666 * 1_000_000_000_000); // min(90 %, 1 − 1/3)
    assert_eq!(h.maint_debt, h.debt_value);
    assert_eq!(h.health_factor, Some(2_850_000_002)); // 950 / 333.333333, 1e9-scaled, down
    assert_eq!(h.leverage, Some(1_500_000_000)); // 1000 / 666.666667, 1e9-scaled, up
    assert!(!h.liquidatable);
    // SOL alone at 35.08771927 (expo -8) brings 10 × p × 0.95 down to the 333.333333 of debt.
    let sol = h.slots.iter().find(|s| s.reserve == m.sol.keys.reserve).unwrap();
    assert_eq!(sol.liquidation_price, Some(3_508_771_927));
    assert_eq!(
        (sol.deposit_amount, sol.price, sol.band, sol.age_secs),
        (10_000_000_000, 10_000_000_000, 0, 0)
    );
    let usdc = h.slots.iter().find(|s| s.reserve == m.usdc.keys.reserve).unwrap();
    assert_eq!((usdc.debt_amount, usdc.liquidation_price), (333_333_333, None));
}

async fn ema_warn_emits_an_event_and_force_adds_the_stress_haircut(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.env.set_account(m.usdc_oracle, PullPrice { ema_price: 99_190_000, ..usdc_price(NOW - 1) }.account());
    m.borrow(1_000_000).await.unwrap();
    let warnings = m.env.events::<ballast::events::EmaDivergenceWarning>();
    assert_eq!(warnings.len(), 1);
    assert_eq!((warnings[0].reserve, warnings[0].divergence_bps), (m.usdc.keys.reserve, 81));

    // Force on SOL (152 bps): maintenance haircut 5 % + 10 % stress add-on.
    m.env.set_account(m.usdc_oracle, usdc_price(NOW).account());
    m.env.set_account(m.sol_oracle, PullPrice { ema_price: 9_850_000_000, ..sol_price(NOW) }.account());
    let h = m.health().await;
    assert_eq!(h.maint_collateral, 850 * 1_000_000_000_000_000_000);
    assert_eq!(h.init_collateral, 0, "a forced asset supports no new risk");
}

async fn fees_fill_the_insurance_pool_to_its_target_then_go_to_the_fee_receiver(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.borrow(600_000_000).await.unwrap();
    m.env.set_clock(NOW + 4 * 3600).await;
    let wallet = m.borrower.wallet.insecure_clone();
    let payer = m.env.token_account(&m.usdc, &wallet.pubkey(), 700_000_000).await;
    let repay = ix::repay(wallet.pubkey(), m.borrower.position, &m.usdc.keys, payer, u64::MAX);
    m.env.send("repay", &[repay], &[&wallet]).await.unwrap();
    // Interest 13 288 (see the interest test), 10 % of it the protocol's.
    let before = m.env.reserve_state(m.usdc.keys.reserve).await;
    assert_eq!(before.pending_fees, 1_328);
    // USDC volume in the last 24 h: 10 000 supplied, 600 borrowed, 600.013288 repaid.
    assert_eq!(before.volume_24h(NOW + 4 * 3600), 11_200_013_288);
    let target = 224_000_266; // 2 %, rounded up
    assert_eq!(before.insurance_target(NOW + 4 * 3600), target);

    // The pool is 1 000 short of its target.
    let authority = m.usdc.mint_authority.insecure_clone();
    let fund = anchor_spl::token::spl_token::instruction::mint_to(
        &SPL_TOKEN,
        &m.usdc.keys.mint,
        &m.usdc.insurance_vault,
        &authority.pubkey(),
        &[],
        target - 1_000,
    )
    .unwrap();
    m.env.send("fund pool", &[fund], &[&authority]).await.unwrap();

    let market = ballast_sdk::accounts::market(&m.env.account(m.market.market).await.unwrap().data).unwrap();
    let fee_account = m.env.token_account(&m.usdc, &market.fee_receiver, 0).await;
    let stranger_account = m.env.token_account(&m.usdc, &wallet.pubkey(), 0).await;
    let watched = vec![m.usdc.keys.reserve, m.usdc.keys.vault, m.usdc.insurance_vault, stranger_account];
    let wrong = ix::collect_fees(m.market.market, &m.usdc.keys, m.usdc.insurance_vault, stranger_account);
    m.env.expect_failure("fees to a stranger", &[wrong], &[], BallastError::WrongFeeReceiver, &watched).await;

    let vault_before = m.env.token_balance(m.usdc.keys.vault).await;
    let collect = ix::collect_fees(m.market.market, &m.usdc.keys, m.usdc.insurance_vault, fee_account);
    m.env.send("collect_fees", &[collect], &[]).await.unwrap();
    assert_eq!(m.env.token_balance(m.usdc.insurance_vault).await, target);
    assert_eq!(m.env.token_balance(fee_account).await, 328);
    assert_eq!(vault_before - m.env.token_balance(m.usdc.keys.vault).await, 1_328);
    let after = m.env.reserve_state(m.usdc.keys.reserve).await;
    assert_eq!((after.pending_fees, after.available_liquidity), (0, before.available_liquidity - 1_328));
    assert_eq!(
        after.total_deposit_assets().unwrap(),
        before.total_deposit_assets().unwrap(),
        "depositors keep their share"
    );
}

async fn borrow_factor_weighs_the_debt(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.env.set_account(m.sol_oracle, sol_price(NOW).account());
    m.env.set_account(m.usdc_oracle, usdc_price(NOW).account());
    // USDC debt counts 1.25×: $666.666666 of initial collateral supports $533.333332 of debt.
    let risk = ballast::instructions::RiskParams { borrow_factor_bps: 12_500, ..default_risk() };
    let oracle = default_oracle(ballast_tests::fixtures::USDC_FEED, m.usdc_oracle);
    m.env.configure(&m.market, &m.usdc, oracle, risk, default_interest()).await.unwrap();
    let limit = 666_666_666 * 10_000 / 12_500; // 533 333 332 (rounded down)
    let ixn = m.borrow_ix(limit + 1).await;
    let (watched, wallet) = (m.watched(), m.borrower.wallet.insecure_clone());
    m.env
        .expect_failure(
            "over the weighted limit",
            &[ixn],
            &[&wallet],
            BallastError::InsufficientCollateral,
            &watched,
        )
        .await;
    m.borrow(limit).await.unwrap();
}

/// The localnet oracle writer (loaded at the Pyth receiver's address, as the local validator
/// does) posts `PriceUpdateV2` accounts that the local validator's build of the program
/// (`ballast-localnet.so`, feature `localnet`) reads as genuine; only the account's first signer
/// may write it again. The deployable build refuses to pin such an account (issue 24 item 6).
#[tokio::test]
async fn sbf_localnet_oracle_writer_posts_prices_the_program_reads() {
    let so = ballast_tests::env::sbf_program_path().with_file_name("localnet_oracle.so");
    let data =
        std::fs::read(&so).unwrap_or_else(|e| panic!("{} (run scripts/build-sbf.sh): {e}", so.display()));
    let feed = [5u8; 32];
    let programs = [(localnet_oracle::ID, data)];
    // The deployable build: a writer account is not the push oracle's feed account.
    let mut env = TestEnv::start_with_programs(Mode::Sbf, &programs).await;
    env.set_clock(NOW).await;
    let market = env.create_market().await;
    let reserve = env.add_reserve(&market, SPL_TOKEN, 6, u64::MAX).await;
    let (_, price_update) = (env.keypair(), env.keypair());
    let admin = market.admin.insecure_clone();
    let configure = ix::configure_reserve(
        admin.pubkey(),
        market.market,
        reserve.keys.reserve,
        default_oracle(feed, price_update.pubkey()),
        default_risk(),
        default_interest(),
        no_caps(),
    );
    let watched = [reserve.keys.reserve];
    env.expect_failure("writer account", &[configure], &[&admin], BallastError::OracleNotPushFeed, &watched)
        .await;

    // The local validator's build.
    let localnet = ballast_tests::env::sbf_program_path().with_file_name("ballast-localnet.so");
    let mut env = TestEnv::start_with_artifact_and_programs(Mode::Sbf, localnet, &programs).await;
    env.set_clock(NOW).await;
    let market = env.create_market().await;
    let reserve = env.add_reserve(&market, SPL_TOKEN, 6, u64::MAX).await;
    let (authority, price_update) = (env.keypair(), env.keypair());
    let oracle = default_oracle(feed, price_update.pubkey());
    env.configure(&market, &reserve, oracle, default_risk(), default_interest()).await.unwrap();
    let user = env.create_user(&market).await;
    let account = env.token_account(&reserve, &user.wallet.pubkey(), 1_000).await;
    env.deposit(&user, &reserve, account, 1_000).await.unwrap();

    let message = |price: i64| localnet_oracle::PriceMessage {
        feed_id: feed,
        price,
        conf: 1_000,
        expo: -8,
        publish_time: NOW - 2,
        ema_price: price,
        ema_conf: 1_000,
    };
    let payer = env.payer();
    let create = solana_system_interface::instruction::create_account(
        &payer.pubkey(),
        &price_update.pubkey(),
        10_000_000,
        localnet_oracle::PRICE_UPDATE_V2_LEN as u64,
        &localnet_oracle::ID,
    );
    let post = |price, signer: &solana_keypair::Keypair| {
        localnet_oracle::post_instruction(price_update.pubkey(), signer.pubkey(), &message(price))
    };
    env.send("post", &[create, post(12_345_000_000, &authority)], &[&price_update, &authority])
        .await
        .unwrap();

    let remaining = ix::health_accounts(&[reserve.keys.reserve], |_| price_update.pubkey());
    let ixn = ix::health(market.market, user.position, remaining);
    env.send("health", std::slice::from_ref(&ixn), &[]).await.unwrap();
    let report: ballast::instructions::HealthReport =
        ballast_sdk::accounts::view_return(&env.last_return_data).unwrap();
    assert_eq!((report.slots[0].price, report.slots[0].age_secs), (12_345_000_000, 2));

    let intruder = env.keypair();
    assert!(env.send("intruder post", &[post(1, &intruder)], &[&intruder]).await.is_err(), "only the writer");
    env.send("post", &[post(11_000_000_000, &authority)], &[&authority]).await.unwrap();
    env.send("health", &[ixn], &[]).await.unwrap();
    let report: ballast::instructions::HealthReport =
        ballast_sdk::accounts::view_return(&env.last_return_data).unwrap();
    assert_eq!(report.slots[0].price, 11_000_000_000);
}

/// Issue 24 item 6: a pull reserve pins the push oracle's feed account of its feed and shard
/// (PDA of `[shard (u16 LE), feed_id]`), which only moves forward in publish time. A receiver
/// account at any other address (its own write authority could post an older verified update
/// into it), or the feed account of another shard or feed, is refused by name, nothing changed.
async fn a_pull_reserve_pins_only_the_push_oracles_feed_account(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let feed = ballast_tests::fixtures::SOL_FEED;
    let admin = m.market.admin.insecure_clone();
    let sol = m.sol.keys.reserve;
    let configure = |price_account: Pubkey, push_shard: u16| {
        let oracle =
            ballast::instructions::OracleParams { push_shard, ..default_oracle(feed, price_account) };
        ix::configure_reserve(
            admin.pubkey(),
            m.market.market,
            sol,
            oracle,
            default_risk(),
            default_interest(),
            no_caps(),
        )
    };
    let on_shard = |shard: u16| ballast_sdk::pda::pyth_push_feed(shard, &feed);
    let cases = [
        ("a receiver account of its own", configure(Pubkey::new_unique(), 0)),
        ("shard 1's account named as shard 0's", configure(on_shard(1), 0)),
        ("another feed's account", configure(ballast_tests::fixtures::feed_account(&[9; 32]), 0)),
    ];
    for (label, ixn) in cases {
        m.env.expect_failure(label, &[ixn], &[&admin], BallastError::OracleNotPushFeed, &[sol]).await;
    }
    // Shard 1's feed account, named with its shard, is accepted and stored with it (AAPL's
    // mainnet feed lives on shard 1).
    m.env.send("shard 1", &[configure(on_shard(1), 1)], &[&admin]).await.unwrap();
    let oracle = m.env.reserve_state(sol).await.oracle;
    assert_eq!((oracle.price_account, oracle.push_shard), (on_shard(1), 1));
}
