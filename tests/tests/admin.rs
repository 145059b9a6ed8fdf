#![allow(deprecated)] // solana-program-test 3.x API, see tests/src/lib.rs
//! Administration (SPEC §7, issue 6): tightening at once, loosening behind the timelock and
//! cancellable, two-step admin transfer, pause switches that never block repay, healthy
//! withdraw or liquidation. Every test in native and SBF mode.
use anchor_lang::prelude::Pubkey;
use ballast::error::BallastError;
use ballast::instructions::{CapsParams, RiskParams};
use ballast_sdk::ix;
use ballast_sdk::params::no_caps;
use ballast_tests::fixtures::{default_interest, default_oracle, default_risk, NOW, SOL_FEED};
use ballast_tests::{dual_mode_tests, Mode, PricedMarket};
use solana_keypair::Keypair;
use solana_signer::Signer;

dual_mode_tests!(
    loosening_waits_for_the_timelock_and_can_be_cancelled,
    an_emergency_tightening_applies_while_a_loosening_is_queued,
    a_new_collateral_listing_waits_for_the_timelock_even_when_empty,
    market_parameters_are_bounded_and_loosening_them_waits,
    tightening_applies_at_once,
    a_non_admin_can_do_nothing,
    admin_transfer_takes_two_steps,
    pauses_stop_deposits_and_borrows_only,
    a_position_failing_the_joint_stress_shock_cannot_borrow_more,
);

const DAY: i64 = 24 * 3600;

fn configure_ix(
    m: &PricedMarket,
    admin: &Pubkey,
    risk: RiskParams,
    caps: CapsParams,
) -> anchor_lang::solana_program::instruction::Instruction {
    ix::configure_reserve(
        *admin,
        m.market.market,
        m.sol.keys.reserve,
        default_oracle(SOL_FEED, m.sol_oracle),
        risk,
        default_interest(),
        caps,
    )
}

async fn loosening_waits_for_the_timelock_and_can_be_cancelled(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.env.set_timelock(&m.market, DAY as u32).await;
    let admin = m.market.admin.insecure_clone();
    let looser = RiskParams { init_haircut_bps: 500, ..default_risk() }; // 10 % → 5 %
    m.env
        .send("loosen", &[configure_ix(&m, &admin.pubkey(), looser.clone(), no_caps())], &[&admin])
        .await
        .unwrap();
    let r = m.env.reserve_state(m.sol.keys.reserve).await;
    assert_eq!(r.risk.init_haircut_bps, 1_000, "no effect yet");
    assert_eq!((r.pending_risk.init_haircut_bps, r.pending_eta), (500, NOW + DAY));

    let watched = [m.sol.keys.reserve];
    let apply = ix::apply_reserve_config(m.sol.keys.reserve);
    m.env.set_clock(NOW + DAY - 1).await;
    m.env
        .expect_failure(
            "too early",
            std::slice::from_ref(&apply),
            &[],
            BallastError::TimelockNotElapsed,
            &watched,
        )
        .await;
    let loosest = RiskParams { init_haircut_bps: 600, ..default_risk() };
    let second = configure_ix(&m, &admin.pubkey(), loosest, no_caps());
    m.env.expect_failure("one at a time", &[second], &[&admin], BallastError::ChangePending, &watched).await;

    // Cancelled: nothing applies, ever.
    let cancel = ix::cancel_reserve_config(admin.pubkey(), m.market.market, m.sol.keys.reserve);
    m.env.send("cancel", &[cancel], &[&admin]).await.unwrap();
    m.env.set_clock(NOW + 2 * DAY).await;
    m.env
        .expect_failure(
            "nothing queued",
            std::slice::from_ref(&apply),
            &[],
            BallastError::NoPendingChange,
            &watched,
        )
        .await;
    assert_eq!(m.env.reserve_state(m.sol.keys.reserve).await.risk.init_haircut_bps, 1_000);

    // Queued again: anyone applies it once the delay has passed.
    m.env.send("loosen", &[configure_ix(&m, &admin.pubkey(), looser, no_caps())], &[&admin]).await.unwrap();
    m.env.set_clock(NOW + 3 * DAY).await;
    m.env.send("apply", &[apply], &[]).await.unwrap();
    let r = m.env.reserve_state(m.sol.keys.reserve).await;
    assert_eq!((r.risk.init_haircut_bps, r.pending_eta), (500, 0));
}

async fn tightening_applies_at_once(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.env.set_timelock(&m.market, DAY as u32).await;
    let admin = m.market.admin.insecure_clone();
    // Lower leverage, higher haircuts, lower caps: all in effect in the same transaction.
    let tighter = RiskParams {
        max_leverage_bps: 20_000,
        init_haircut_bps: 2_000,
        maint_haircut_bps: 1_000,
        ..default_risk()
    };
    let caps = CapsParams { deposit_cap: 12_000_000_000, borrow_cap: 1_000_000_000 };
    m.env.send("tighten", &[configure_ix(&m, &admin.pubkey(), tighter, caps)], &[&admin]).await.unwrap();
    let r = m.env.reserve_state(m.sol.keys.reserve).await;
    assert_eq!((r.risk.max_leverage_bps, r.risk.init_haircut_bps, r.pending_eta), (20_000, 2_000, 0));
    assert_eq!((r.deposit_cap, r.borrow_cap), (12_000_000_000, 1_000_000_000));
    // The borrower holds 10 SOL: 2.000000001 more exceeds the new cap.
    let sol = m.borrower_sol;
    m.env.mint_to(&m.sol, sol, 3_000_000_000).await;
    let e = m.env.deposit(&m.borrower, &m.sol, sol, 2_000_000_001).await.unwrap_err();
    assert_eq!(
        e,
        ballast_tests::TxError::Custom { instruction: 0, code: BallastError::DepositCapExceeded.into() }
    );
    // 2× now: $1000 × 0.5 (minus the band) no longer covers $600.
    let e = m.borrow(600_000_000).await.unwrap_err();
    assert_eq!(
        e,
        ballast_tests::TxError::Custom { instruction: 0, code: BallastError::InsufficientCollateral.into() }
    );
    // A higher cap is a loosening: queued.
    let caps = CapsParams { deposit_cap: 20_000_000_000, ..caps };
    let same = RiskParams {
        max_leverage_bps: 20_000,
        init_haircut_bps: 2_000,
        maint_haircut_bps: 1_000,
        ..default_risk()
    };
    m.env.send("raise cap", &[configure_ix(&m, &admin.pubkey(), same, caps)], &[&admin]).await.unwrap();
    let r = m.env.reserve_state(m.sol.keys.reserve).await;
    assert_eq!(
        (r.deposit_cap, r.pending_deposit_cap, r.pending_eta),
        (12_000_000_000, 20_000_000_000, NOW + DAY)
    );
}

async fn a_non_admin_can_do_nothing(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let intruder = m.borrower.wallet.insecure_clone();
    let (market, reserve) = (m.market.market, m.sol.keys.reserve);
    let watched = [market, reserve];
    let cases = [
        ("configure", configure_ix(&m, &intruder.pubkey(), default_risk(), no_caps())),
        ("cancel", ix::cancel_reserve_config(intruder.pubkey(), market, reserve)),
        ("pause reserve", ix::set_reserve_pause(intruder.pubkey(), market, reserve, true)),
        ("pause market", ix::set_market_pause(intruder.pubkey(), market, true)),
        ("propose admin", ix::propose_admin(intruder.pubkey(), market, intruder.pubkey())),
    ];
    for (label, ixn) in cases {
        m.env.expect_failure(label, &[ixn], &[&intruder], BallastError::NotMarketAdmin, &watched).await;
    }
}

async fn admin_transfer_takes_two_steps(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    let (old, new, stranger) =
        (m.market.admin.insecure_clone(), m.env.funded_wallet(1_000_000_000).await, Keypair::new());
    let market = m.market.market;
    m.env.send("propose", &[ix::propose_admin(old.pubkey(), market, new.pubkey())], &[&old]).await.unwrap();
    // Until it accepts, the proposed admin is nobody.
    let by_new = configure_ix(&m, &new.pubkey(), default_risk(), no_caps());
    m.env
        .expect_failure(
            "not yet",
            std::slice::from_ref(&by_new),
            &[&new],
            BallastError::NotMarketAdmin,
            &[market],
        )
        .await;
    let wrong = ix::accept_admin(stranger.pubkey(), market);
    m.env
        .expect_failure("wrong signer", &[wrong], &[&stranger], BallastError::NotPendingAdmin, &[market])
        .await;
    m.env.send("accept", &[ix::accept_admin(new.pubkey(), market)], &[&new]).await.unwrap();
    let state = ballast_sdk::accounts::market(&m.env.account(market).await.unwrap().data).unwrap();
    assert_eq!((state.admin, state.pending_admin), (new.pubkey(), Pubkey::default()));
    m.env.send("new admin configures", &[by_new], &[&new]).await.unwrap();
    let by_old = configure_ix(&m, &old.pubkey(), default_risk(), no_caps());
    m.env.expect_failure("old admin", &[by_old], &[&old], BallastError::NotMarketAdmin, &[market]).await;
}

async fn pauses_stop_deposits_and_borrows_only(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.borrow(600_000_000).await.unwrap();
    let admin = m.market.admin.insecure_clone();
    let market = m.market.market;
    m.env.send("pause", &[ix::set_market_pause(admin.pubkey(), market, true)], &[&admin]).await.unwrap();
    m.env.mint_to(&m.sol, m.borrower_sol, 1_000_000_000).await;
    let w = m.borrower.wallet.insecure_clone();
    let watched = m.watched();
    let deposit = ix::deposit(w.pubkey(), m.borrower.position, &m.sol.keys, m.borrower_sol, 1_000_000_000);
    m.env
        .expect_failure(
            "deposit",
            std::slice::from_ref(&deposit),
            &[&w],
            BallastError::MarketPaused,
            &watched,
        )
        .await;
    let borrow = m.borrow_ix(1_000_000).await;
    m.env.expect_failure("borrow", &[borrow], &[&w], BallastError::MarketPaused, &watched).await;

    // Repay, a withdrawal that keeps the position healthy, and a liquidation all go on.
    let repay = ix::repay(w.pubkey(), m.borrower.position, &m.usdc.keys, m.borrower_usdc, 100_000_000);
    m.env.send("repay", &[repay], &[&w]).await.unwrap();
    let remaining = m.health_accounts(None).await;
    let withdraw = ix::withdraw_with_health(
        w.pubkey(),
        m.borrower.position,
        &m.sol.keys,
        m.borrower_sol,
        100_000_000,
        remaining,
    );
    m.env.send("withdraw", &[withdraw], &[&w]).await.unwrap();
    m.set_sol_price(NOW, 50).await; // 9.9 × 50 × 0.95 = 470 < 500 owed
    let keeper = m.keeper(1_000_000_000).await;
    m.liquidate(&keeper, u64::MAX).await.unwrap();

    // Resumed: deposits again. A reserve pause stops that reserve alone.
    m.env.send("resume", &[ix::set_market_pause(admin.pubkey(), market, false)], &[&admin]).await.unwrap();
    m.env.send("deposit", std::slice::from_ref(&deposit), &[&w]).await.unwrap();
    let pause_sol = ix::set_reserve_pause(admin.pubkey(), market, m.sol.keys.reserve, true);
    m.env.send("pause SOL", &[pause_sol], &[&admin]).await.unwrap();
    let again = ix::deposit(w.pubkey(), m.borrower.position, &m.sol.keys, m.borrower_sol, 1);
    m.env.expect_failure("deposit SOL", &[again], &[&w], BallastError::ReservePaused, &watched).await;
}

async fn a_position_failing_the_joint_stress_shock_cannot_borrow_more(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.env.set_timelock(&m.market, DAY as u32).await;
    let admin = m.market.admin.insecure_clone();
    let market = m.market.market;
    // SOL joins stress group 1 ("majors"): a tightening, in effect at once.
    let grouped = RiskParams { stress_group: 1, ..default_risk() };
    m.env.send("group", &[configure_ix(&m, &admin.pubkey(), grouped, no_caps())], &[&admin]).await.unwrap();
    m.borrow(400_000_000).await.unwrap();
    // Majors fall 30 % in the joint shock: $665 of initial collateral counts $465.
    let mut shocks = [0u16; 8];
    shocks[1] = 3_000;
    m.env.send("shock", &[ix::set_stress_shocks(admin.pubkey(), market, shocks)], &[&admin]).await.unwrap();
    m.borrow(50_000_000).await.unwrap(); // $451 of debt (with the band) under $465
                                         // $551 passes plain initial health ($665) but not the joint shock ($465).
    let e = m.borrow(100_000_000).await.unwrap_err();
    let refused =
        ballast_tests::TxError::Custom { instruction: 0, code: BallastError::InsufficientCollateral.into() };
    assert_eq!(e, refused);
    // The health view says what the shock does: $665 of initial collateral counts $465 under
    // it (return data: the SBF modes run it; native program-test does not carry it).
    if mode != Mode::Native {
        let report = m.health().await;
        assert!(report.passes_initial, "$451 of debt passes both");
        let wad = ballast_risk::fixed::WAD;
        assert_eq!(report.stressed_init_collateral / wad, report.init_collateral * 7 / 10 / wad);
        assert!(report.stressed_init_collateral < report.init_collateral);
    }

    // A milder shock is a loosening: queued for the timelock, then applied by anyone.
    shocks[1] = 1_000;
    m.env.send("milder", &[ix::set_stress_shocks(admin.pubkey(), market, shocks)], &[&admin]).await.unwrap();
    assert_eq!(m.borrow(100_000_000).await.unwrap_err(), refused, "not yet");
    let apply = ix::apply_stress_shocks(market);
    m.env
        .expect_failure(
            "too early",
            std::slice::from_ref(&apply),
            &[],
            BallastError::TimelockNotElapsed,
            &[market],
        )
        .await;
    m.set_sol_price(NOW + DAY, 100).await;
    m.env.send("apply", &[apply], &[]).await.unwrap();
    m.borrow(100_000_000).await.unwrap(); // $598 under the 10 % shock covers $551

    // Bounds and rights.
    shocks[1] = 5_001;
    let ixn = ix::set_stress_shocks(admin.pubkey(), market, shocks);
    m.env
        .expect_failure("shock over 50 %", &[ixn], &[&admin], BallastError::ParameterOutOfBounds, &[market])
        .await;
    let intruder = m.borrower.wallet.insecure_clone();
    let ixn = ix::set_stress_shocks(intruder.pubkey(), market, [0; 8]);
    m.env.expect_failure("non-admin", &[ixn], &[&intruder], BallastError::NotMarketAdmin, &[market]).await;
}

/// Issue 10 item 12: a queued loosening never blocks an emergency. Tightening applies at once
/// and drops what was queued.
async fn an_emergency_tightening_applies_while_a_loosening_is_queued(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.env.set_timelock(&m.market, DAY as u32).await;
    let admin = m.market.admin.insecure_clone();
    let looser = RiskParams { init_haircut_bps: 500, ..default_risk() };
    m.env.send("loosen", &[configure_ix(&m, &admin.pubkey(), looser, no_caps())], &[&admin]).await.unwrap();
    assert_eq!(m.env.reserve_state(m.sol.keys.reserve).await.pending_eta, NOW + DAY);
    let emergency = RiskParams { init_haircut_bps: 9_000, maint_haircut_bps: 8_000, ..default_risk() };
    m.env
        .send("emergency", &[configure_ix(&m, &admin.pubkey(), emergency, no_caps())], &[&admin])
        .await
        .unwrap();
    let r = m.env.reserve_state(m.sol.keys.reserve).await;
    assert_eq!((r.risk.init_haircut_bps, r.risk.maint_haircut_bps, r.pending_eta), (9_000, 8_000, 0));
    // The dropped loosening never applies.
    m.env.set_clock(NOW + 2 * DAY).await;
    let apply = ix::apply_reserve_config(m.sol.keys.reserve);
    let watched = [m.sol.keys.reserve];
    m.env.expect_failure("dropped", &[apply], &[], BallastError::NoPendingChange, &watched).await;
}

/// Issue 10 item 11: listing a mint the admin controls and making it 5× collateral cannot happen
/// at once, even on an empty reserve: the collateral side waits for the timelock. Borrow-side
/// settings of an empty reserve, and a reserve that is not collateral, stay instant.
async fn a_new_collateral_listing_waits_for_the_timelock_even_when_empty(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.env.set_timelock(&m.market, DAY as u32).await;
    let admin = m.market.admin.insecure_clone();
    let market = m.market.market;
    let rogue = m.env.add_reserve_unconfigured(&m.market, anchor_spl::token::ID, 6, u64::MAX).await;
    let feed = rogue.keys.mint.to_bytes();
    let oracle = ballast_tests::fixtures::feed_account(&feed);
    let price =
        ballast_tests::oracles::PullPrice { feed_id: feed, ..ballast_tests::fixtures::sol_price(NOW - 1) };
    m.env.set_account(oracle, price.account());
    let five_x =
        RiskParams { max_leverage_bps: 50_000, init_haircut_bps: 0, maint_haircut_bps: 0, ..default_risk() };
    let configure = |risk: RiskParams| {
        ix::configure_reserve(
            admin.pubkey(),
            market,
            rogue.keys.reserve,
            default_oracle(feed, oracle),
            risk,
            default_interest(),
            no_caps(),
        )
    };
    m.env.send("rogue collateral", &[configure(five_x.clone())], &[&admin]).await.unwrap();
    let r = m.env.reserve_state(rogue.keys.reserve).await;
    assert_eq!((r.oracle.source, r.risk.collateral_enabled, r.pending_eta), (0, 0, NOW + DAY), "queued");
    // Nothing can be deposited before the oracle applies, so nothing can be borrowed against it.
    let attacker = m.env.create_user(&m.market).await;
    let account = m.env.token_account(&rogue, &attacker.wallet.pubkey(), 1_000_000_000_000).await;
    let e = m.env.deposit(&attacker, &rogue, account, 1_000_000_000_000).await.unwrap_err();
    let not_configured =
        ballast_tests::TxError::Custom { instruction: 0, code: BallastError::OracleNotConfigured.into() };
    assert_eq!(e, not_configured);
    // A borrow-only listing (not collateral) is instant.
    let cancel = ix::cancel_reserve_config(admin.pubkey(), market, rogue.keys.reserve);
    m.env.send("cancel", &[cancel], &[&admin]).await.unwrap();
    let borrow_only = RiskParams { collateral_enabled: false, ..default_risk() };
    m.env.send("borrow-only", &[configure(borrow_only)], &[&admin]).await.unwrap();
    let r = m.env.reserve_state(rogue.keys.reserve).await;
    assert_eq!((r.risk.collateral_enabled, r.risk.borrow_enabled, r.pending_eta), (0, 1, 0));
    // Turning collateral on later waits, empty or not.
    m.env.send("collateral on", &[configure(default_risk())], &[&admin]).await.unwrap();
    let r = m.env.reserve_state(rogue.keys.reserve).await;
    assert_eq!(
        (r.risk.collateral_enabled, r.pending_risk.collateral_enabled, r.pending_eta),
        (0, 1, NOW + DAY)
    );
}

/// Issue 10 item 13: target health, dust threshold and timelock are bounded; loosening waits for
/// the timelock (once a reserve is listed), tightening is instant.
async fn market_parameters_are_bounded_and_loosening_them_waits(mode: Mode) {
    let mut m = PricedMarket::start(mode).await;
    m.env.set_timelock(&m.market, DAY as u32).await;
    let admin = m.market.admin.insecure_clone();
    let market = m.market.market;
    let params = |target: u16, dust: u32, timelock: u32| ballast::instructions::MarketParams {
        liquidation_target_health_bps: target,
        dust_debt_usd: dust,
        timelock_secs: timelock,
    };
    for (label, bad) in [
        ("target 100 %", params(10_000, 10, 86_400)),
        ("target 126 %", params(12_600, 10, 86_400)),
        ("dust $1,001", params(10_500, 1_001, 86_400)),
        ("timelock 31 days", params(10_500, 10, 31 * 86_400)),
    ] {
        let ixn = ix::configure_market(admin.pubkey(), market, bad);
        m.env.expect_failure(label, &[ixn], &[&admin], BallastError::ParameterOutOfBounds, &[market]).await;
    }
    let intruder = m.borrower.wallet.insecure_clone();
    let ixn = ix::configure_market(intruder.pubkey(), market, params(10_500, 10, 0));
    m.env.expect_failure("non-admin", &[ixn], &[&intruder], BallastError::NotMarketAdmin, &[market]).await;

    // A shorter timelock and a lower target wait a day; then anyone applies them.
    let looser = params(10_200, 10, 3_600);
    m.env.send("loosen", &[ix::configure_market(admin.pubkey(), market, looser)], &[&admin]).await.unwrap();
    let apply = ix::apply_market_config(market);
    let early = std::slice::from_ref(&apply);
    m.env.expect_failure("too early", early, &[], BallastError::TimelockNotElapsed, &[market]).await;
    m.set_sol_price(NOW + DAY, 100).await;
    m.env.send("apply", &[apply], &[]).await.unwrap();
    // A higher target and dust threshold, a longer timelock: at once.
    let tighter = params(11_000, 50, 7 * 86_400);
    m.env.send("tighten", &[ix::configure_market(admin.pubkey(), market, tighter)], &[&admin]).await.unwrap();
    let r = m.env.reserve_state(m.sol.keys.reserve).await;
    assert_eq!(r.pending_eta, 0);
    let data = m.env.account(market).await.unwrap().data;
    let state: ballast::state::Market =
        anchor_lang::AccountDeserialize::try_deserialize(&mut data.as_slice()).unwrap();
    assert_eq!(
        (
            state.liquidation_target_health_bps,
            state.dust_debt_usd,
            state.timelock_secs,
            state.market_config_eta
        ),
        (11_000, 50, 7 * 86_400, 0)
    );
}
