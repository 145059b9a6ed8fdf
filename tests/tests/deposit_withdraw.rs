#![allow(deprecated)] // solana-program-test 3.x API, see tests/src/lib.rs
//! Deposit and withdraw (SPEC §1, issue 2), every test in native and SBF mode.
use anchor_lang::error::ErrorCode as AnchorError;
use anchor_lang::prelude::Pubkey;
use anchor_spl::{token::ID as SPL_TOKEN, token_2022::ID as TOKEN_2022};
use ballast::error::BallastError;
use ballast::events::{Deposited, MarketInitialized, PositionOpened, ReserveAdded, Withdrawn};
use ballast::state::Reserve;
use ballast_sdk::ix;
use ballast_tests::fixtures::{default_interest, default_oracle, default_risk};
use ballast_tests::{dual_mode_tests, Mode, OneReserve, ReserveFixture, TestEnv, UserFixture};
use solana_signer::Signer;

dual_mode_tests!(
    spl_token_round_trip_is_exact,
    token_2022_round_trip_is_exact,
    two_users_share_a_reserve_and_rounding_favours_the_reserve,
    deposit_over_the_cap_is_refused,
    withdraw_more_than_owned_is_refused,
    vault_or_mint_of_another_reserve_is_refused,
    wrong_token_program_is_refused,
    vault_as_destination_is_refused,
    missing_signer_is_refused,
    someone_elses_position_is_refused,
    zero_amount_is_refused,
    seventeenth_reserve_in_one_position_is_refused,
    reserve_of_another_market_is_refused,
    only_the_admin_lists_reserves,
    lamports_sent_to_the_vault_addresses_do_not_block_listing,
);

/// Events are read from the bank's log collector, which only SBF programs write to (a native
/// build's logs go to the host's stdout), so this test runs in SBF mode only.
#[tokio::test]
async fn sbf_every_state_change_emits_an_event() {
    every_state_change_emits_an_event(Mode::Sbf).await
}

/// Every account a deposit or withdraw of `user` in `reserve` can touch.
fn watched(user: &UserFixture, reserve: &ReserveFixture, token_account: Pubkey) -> Vec<Pubkey> {
    vec![user.position, reserve.keys.reserve, reserve.keys.vault, token_account]
}

async fn round_trip(mode: Mode, token_program: Pubkey) {
    let OneReserve { mut env, reserve, user, account, .. } =
        OneReserve::start(mode, token_program, u64::MAX, 1_000_000).await;

    env.deposit(&user, &reserve, account, 400_000).await.unwrap();
    assert_eq!(env.token_balance(account).await, 600_000);
    assert_eq!(env.token_balance(reserve.keys.vault).await, 400_000);
    let r = env.reserve_state(reserve.keys.reserve).await;
    assert_eq!((r.available_liquidity, r.total_deposit_shares), (400_000, 400_000));
    let p = env.position_state(user.position).await;
    assert_eq!(p.slots[0].reserve, reserve.keys.reserve);
    assert_eq!(p.slots[0].deposit_shares, 400_000);

    env.withdraw(&user, &reserve, account, 150_000).await.unwrap();
    assert_eq!(env.token_balance(account).await, 750_000);
    assert_eq!(env.token_balance(reserve.keys.vault).await, 250_000);
    assert_eq!(env.position_state(user.position).await.slots[0].deposit_shares, 250_000);

    env.withdraw(&user, &reserve, account, u64::MAX).await.unwrap();
    assert_eq!(env.token_balance(account).await, 1_000_000);
    assert_eq!(env.token_balance(reserve.keys.vault).await, 0);
    let r = env.reserve_state(reserve.keys.reserve).await;
    assert_eq!((r.available_liquidity, r.total_deposit_shares), (0, 0));
    let p = env.position_state(user.position).await;
    assert_eq!(p.occupied_slots(), 0, "withdrawing everything frees the slot");
}

async fn spl_token_round_trip_is_exact(mode: Mode) {
    round_trip(mode, SPL_TOKEN).await;
}

async fn token_2022_round_trip_is_exact(mode: Mode) {
    round_trip(mode, TOKEN_2022).await;
}

/// Rewrites the reserve as if interest had accrued: `extra` more tokens in the vault and owed to
/// depositors. (Interest itself arrives with the risk issue; this fixture only moves the share
/// price so that the rounding of the share maths shows.)
async fn accrue_as_if_interest(env: &mut TestEnv, reserve: &ReserveFixture, extra: u64) {
    let authority = reserve.mint_authority.insecure_clone();
    let mint_ix = anchor_spl::token_2022::spl_token_2022::instruction::mint_to(
        &reserve.keys.token_program,
        &reserve.keys.mint,
        &reserve.keys.vault,
        &authority.pubkey(),
        &[],
        extra,
    )
    .unwrap();
    env.send("mint interest to vault", &[mint_ix], &[&authority]).await.unwrap();
    let mut account = env.account(reserve.keys.reserve).await.unwrap();
    let mut state: Reserve = ballast_sdk::accounts::reserve(&account.data).unwrap();
    state.available_liquidity += extra;
    account.data[8..].copy_from_slice(bytemuck_bytes(&state));
    env.set_account(reserve.keys.reserve, account);
}

fn bytemuck_bytes(r: &Reserve) -> &[u8] {
    // SAFETY: Reserve is Pod (zero_copy), so viewing it as bytes is sound.
    unsafe {
        core::slice::from_raw_parts((r as *const Reserve).cast::<u8>(), core::mem::size_of::<Reserve>())
    }
}

async fn two_users_share_a_reserve_and_rounding_favours_the_reserve(mode: Mode) {
    let mut env = TestEnv::start(mode).await;
    let market = env.create_market().await;
    let reserve = env.add_reserve(&market, SPL_TOKEN, 6, u64::MAX).await;
    let alice = env.create_user(&market).await;
    let bob = env.create_user(&market).await;
    let alice_acc = env.token_account(&reserve, &alice.wallet.pubkey(), 2_000).await;
    let bob_acc = env.token_account(&reserve, &bob.wallet.pubkey(), 10).await;

    env.deposit(&alice, &reserve, alice_acc, 2_000).await.unwrap();
    accrue_as_if_interest(&mut env, &reserve, 1_000).await; // one share is now worth 1.5 tokens

    // One token buys 0.67 shares: refused rather than taken for nothing.
    env.expect_failure(
        "deposit worth less than a share",
        &[ix::deposit(bob.wallet.pubkey(), bob.position, &reserve.keys, bob_acc, 1)],
        &[&bob.wallet],
        BallastError::DepositTooSmall,
        &watched(&bob, &reserve, bob_acc),
    )
    .await;

    // Share maths counts one virtual share backed by one virtual unit (ballast_risk::shares).
    // Bob's 10 tokens buy 10 * 2001 / 3001 = 6.67 shares: he gets 6 (rounded down).
    env.deposit(&bob, &reserve, bob_acc, 10).await.unwrap();
    assert_eq!(env.position_state(bob.position).await.slots[0].deposit_shares, 6);
    let r = env.reserve_state(reserve.keys.reserve).await;
    assert_eq!((r.total_deposit_shares, r.available_liquidity), (2_006, 3_010));

    // Withdrawing 10 would burn ceil(10 * 2007 / 3011) = 7 shares: more than Bob has.
    env.expect_failure(
        "bob withdraws 10",
        &[ix::withdraw(bob.wallet.pubkey(), bob.position, &reserve.keys, bob_acc, 10)],
        &[&bob.wallet],
        BallastError::InsufficientDeposit,
        &watched(&bob, &reserve, bob_acc),
    )
    .await;

    // His 6 shares are worth floor(6 * 3011 / 2007) = 9 tokens.
    env.withdraw(&bob, &reserve, bob_acc, u64::MAX).await.unwrap();
    assert_eq!(env.token_balance(bob_acc).await, 9);
    // Alice's 2000 shares are worth floor(2000 * 3002 / 2001) = 3000; the unit Bob's rounding
    // left stays with the reserve (the virtual share's), never with a depositor who did not earn it.
    env.withdraw(&alice, &reserve, alice_acc, u64::MAX).await.unwrap();
    assert_eq!(env.token_balance(alice_acc).await, 3_000);
    assert_eq!(env.token_balance(reserve.keys.vault).await, 1);
    let r = env.reserve_state(reserve.keys.reserve).await;
    assert_eq!((r.total_deposit_shares, r.available_liquidity), (0, 1));
}

async fn deposit_over_the_cap_is_refused(mode: Mode) {
    let OneReserve { mut env, reserve, user, account, .. } =
        OneReserve::start(mode, TOKEN_2022, 1_000, 2_000).await;

    env.deposit(&user, &reserve, account, 600).await.unwrap();
    env.expect_failure(
        "deposit over cap",
        &[ix::deposit(user.wallet.pubkey(), user.position, &reserve.keys, account, 401)],
        &[&user.wallet],
        BallastError::DepositCapExceeded,
        &watched(&user, &reserve, account),
    )
    .await;
    env.deposit(&user, &reserve, account, 400).await.unwrap(); // exactly the cap
    assert_eq!(env.token_balance(reserve.keys.vault).await, 1_000);
}

async fn withdraw_more_than_owned_is_refused(mode: Mode) {
    let mut env = TestEnv::start(mode).await;
    let market = env.create_market().await;
    let reserve = env.add_reserve(&market, SPL_TOKEN, 6, u64::MAX).await;
    let alice = env.create_user(&market).await;
    let bob = env.create_user(&market).await;
    let alice_acc = env.token_account(&reserve, &alice.wallet.pubkey(), 500).await;
    let bob_acc = env.token_account(&reserve, &bob.wallet.pubkey(), 500).await;
    env.deposit(&alice, &reserve, alice_acc, 500).await.unwrap();
    env.deposit(&bob, &reserve, bob_acc, 300).await.unwrap();

    env.expect_failure(
        "withdraw 301 of 300",
        &[ix::withdraw(bob.wallet.pubkey(), bob.position, &reserve.keys, bob_acc, 301)],
        &[&bob.wallet],
        BallastError::InsufficientDeposit,
        &watched(&bob, &reserve, bob_acc),
    )
    .await;

    // A position that never deposited in the reserve.
    let carol = env.create_user(&market).await;
    let carol_acc = env.token_account(&reserve, &carol.wallet.pubkey(), 0).await;
    env.expect_failure(
        "withdraw without deposit",
        &[ix::withdraw(carol.wallet.pubkey(), carol.position, &reserve.keys, carol_acc, 1)],
        &[&carol.wallet],
        BallastError::NoDepositInReserve,
        &watched(&carol, &reserve, carol_acc),
    )
    .await;
}

async fn vault_or_mint_of_another_reserve_is_refused(mode: Mode) {
    let mut env = TestEnv::start(mode).await;
    let market = env.create_market().await;
    let a = env.add_reserve(&market, SPL_TOKEN, 6, u64::MAX).await;
    let b = env.add_reserve(&market, SPL_TOKEN, 6, u64::MAX).await;
    let user = env.create_user(&market).await;
    let a_acc = env.token_account(&a, &user.wallet.pubkey(), 1_000).await;
    let b_acc = env.token_account(&b, &user.wallet.pubkey(), 1_000).await;
    env.deposit(&user, &b, b_acc, 1_000).await.unwrap();
    let mut all = watched(&user, &a, a_acc);
    all.extend([b.keys.reserve, b.keys.vault, b_acc]);

    let mut keys = a.keys;
    keys.vault = b.keys.vault;
    for (label, ixn) in [
        ("deposit into b's vault", ix::deposit(user.wallet.pubkey(), user.position, &keys, a_acc, 10)),
        ("withdraw from b's vault", ix::withdraw(user.wallet.pubkey(), user.position, &keys, a_acc, 10)),
    ] {
        env.expect_failure(label, &[ixn], &[&user.wallet], BallastError::WrongVault, &all).await;
    }

    let mut keys = a.keys;
    keys.mint = b.keys.mint;
    env.expect_failure(
        "a's reserve with b's mint",
        &[ix::deposit(user.wallet.pubkey(), user.position, &keys, b_acc, 10)],
        &[&user.wallet],
        BallastError::WrongMint,
        &all,
    )
    .await;

    env.expect_failure(
        "a's reserve with a token account of b's mint",
        &[ix::deposit(user.wallet.pubkey(), user.position, &a.keys, b_acc, 10)],
        &[&user.wallet],
        BallastError::WrongMint,
        &all,
    )
    .await;
}

async fn wrong_token_program_is_refused(mode: Mode) {
    let OneReserve { mut env, reserve, user, account, .. } =
        OneReserve::start(mode, SPL_TOKEN, u64::MAX, 1_000).await;
    let mut keys = reserve.keys;
    keys.token_program = TOKEN_2022;
    env.expect_failure(
        "spl mint through token-2022",
        &[ix::deposit(user.wallet.pubkey(), user.position, &keys, account, 10)],
        &[&user.wallet],
        BallastError::WrongTokenProgram,
        &watched(&user, &reserve, account),
    )
    .await;
}

async fn vault_as_destination_is_refused(mode: Mode) {
    let OneReserve { mut env, reserve, user, account, .. } =
        OneReserve::start(mode, SPL_TOKEN, u64::MAX, 1_000).await;
    env.deposit(&user, &reserve, account, 1_000).await.unwrap();
    env.expect_failure(
        "withdraw into the vault",
        &[ix::withdraw(user.wallet.pubkey(), user.position, &reserve.keys, reserve.keys.vault, 10)],
        &[&user.wallet],
        BallastError::VaultAsUserAccount,
        &watched(&user, &reserve, account),
    )
    .await;
}

async fn missing_signer_is_refused(mode: Mode) {
    let OneReserve { mut env, reserve, user, account, .. } =
        OneReserve::start(mode, SPL_TOKEN, u64::MAX, 1_000).await;
    env.deposit(&user, &reserve, account, 500).await.unwrap();

    for mut ixn in [
        ix::deposit(user.wallet.pubkey(), user.position, &reserve.keys, account, 10),
        ix::withdraw(user.wallet.pubkey(), user.position, &reserve.keys, account, 10),
    ] {
        ixn.accounts[0].is_signer = false; // the owner does not sign
        env.expect_failure(
            "unsigned",
            &[ixn],
            &[],
            AnchorError::AccountNotSigner,
            &watched(&user, &reserve, account),
        )
        .await;
    }
}

async fn someone_elses_position_is_refused(mode: Mode) {
    let mut env = TestEnv::start(mode).await;
    let market = env.create_market().await;
    let reserve = env.add_reserve(&market, SPL_TOKEN, 6, u64::MAX).await;
    let victim = env.create_user(&market).await;
    let thief = env.create_user(&market).await;
    let victim_acc = env.token_account(&reserve, &victim.wallet.pubkey(), 1_000).await;
    let thief_acc = env.token_account(&reserve, &thief.wallet.pubkey(), 1_000).await;
    env.deposit(&victim, &reserve, victim_acc, 1_000).await.unwrap();
    let mut all = watched(&victim, &reserve, victim_acc);
    all.extend([thief.position, thief_acc]);

    env.expect_failure(
        "withdraw from the victim's position",
        &[ix::withdraw(thief.wallet.pubkey(), victim.position, &reserve.keys, thief_acc, 100)],
        &[&thief.wallet],
        BallastError::NotPositionOwner,
        &all,
    )
    .await;
    env.expect_failure(
        "deposit into the victim's position",
        &[ix::deposit(thief.wallet.pubkey(), victim.position, &reserve.keys, thief_acc, 100)],
        &[&thief.wallet],
        BallastError::NotPositionOwner,
        &all,
    )
    .await;
}

async fn zero_amount_is_refused(mode: Mode) {
    let OneReserve { mut env, reserve, user, account, .. } =
        OneReserve::start(mode, SPL_TOKEN, u64::MAX, 1_000).await;
    env.deposit(&user, &reserve, account, 500).await.unwrap();
    for ixn in [
        ix::deposit(user.wallet.pubkey(), user.position, &reserve.keys, account, 0),
        ix::withdraw(user.wallet.pubkey(), user.position, &reserve.keys, account, 0),
    ] {
        env.expect_failure(
            "zero",
            &[ixn],
            &[&user.wallet],
            BallastError::ZeroAmount,
            &watched(&user, &reserve, account),
        )
        .await;
    }
}

async fn seventeenth_reserve_in_one_position_is_refused(mode: Mode) {
    let mut env = TestEnv::start(mode).await;
    let market = env.create_market().await;
    let user = env.create_user(&market).await;
    let mut reserves = Vec::new();
    for i in 0..17 {
        let token_program = if i % 2 == 0 { SPL_TOKEN } else { TOKEN_2022 };
        reserves.push(env.add_reserve(&market, token_program, 6, u64::MAX).await);
    }
    for reserve in &reserves[..16] {
        let account = env.token_account(reserve, &user.wallet.pubkey(), 10).await;
        env.deposit(&user, reserve, account, 10).await.unwrap();
    }
    assert_eq!(env.position_state(user.position).await.occupied_slots(), 16);

    let last = &reserves[16];
    let account = env.token_account(last, &user.wallet.pubkey(), 10).await;
    env.expect_failure(
        "17th reserve",
        &[ix::deposit(user.wallet.pubkey(), user.position, &last.keys, account, 10)],
        &[&user.wallet],
        BallastError::PositionFull,
        &watched(&user, last, account),
    )
    .await;

    // Emptying one slot makes room.
    let first_acc = env.token_account(&reserves[0], &user.wallet.pubkey(), 0).await;
    env.withdraw(&user, &reserves[0], first_acc, u64::MAX).await.unwrap();
    env.deposit(&user, last, account, 10).await.unwrap();
    assert_eq!(env.position_state(user.position).await.slots[0].reserve, last.keys.reserve);
}

async fn reserve_of_another_market_is_refused(mode: Mode) {
    let mut env = TestEnv::start(mode).await;
    let market = env.create_market().await;
    let other_market = env.create_market().await;
    let foreign = env.add_reserve(&other_market, SPL_TOKEN, 6, u64::MAX).await;
    let user = env.create_user(&market).await;
    let account = env.token_account(&foreign, &user.wallet.pubkey(), 1_000).await;
    env.expect_failure(
        "reserve of another market",
        &[ix::deposit(user.wallet.pubkey(), user.position, &foreign.keys, account, 10)],
        &[&user.wallet],
        BallastError::WrongMarket,
        &watched(&user, &foreign, account),
    )
    .await;
}

async fn only_the_admin_lists_reserves(mode: Mode) {
    let mut env = TestEnv::start(mode).await;
    let market = env.create_market().await;
    let intruder = env.funded_wallet(1_000_000_000).await;
    let (mint, _) = env.create_mint(SPL_TOKEN, 6).await;
    let args = ballast_tests::fixtures::crypto_listing(u64::MAX);
    env.expect_failure(
        "non-admin add_reserve",
        &[ix::add_reserve(intruder.pubkey(), market.market, mint, SPL_TOKEN, args)],
        &[&intruder],
        BallastError::NotMarketAdmin,
        &[market.market, ballast_sdk::pda::reserve(&market.market, &mint)],
    )
    .await;
}

/// The vault and insurance-pool addresses are predictable PDAs; lamports sent there first (a
/// griefing attempt, or a mistake) must not stop the listing.
async fn lamports_sent_to_the_vault_addresses_do_not_block_listing(mode: Mode) {
    let mut env = TestEnv::start(mode).await;
    let market = env.create_market().await;
    let (mint, _) = env.create_mint(SPL_TOKEN, 6).await;
    let reserve = ballast_sdk::pda::reserve(&market.market, &mint);
    let payer = env.payer();
    let grief = [
        solana_system_interface::instruction::transfer(
            &payer.pubkey(),
            &ballast_sdk::pda::vault(&reserve),
            1_000_000,
        ),
        solana_system_interface::instruction::transfer(
            &payer.pubkey(),
            &ballast_sdk::pda::insurance_vault(&reserve),
            5_000_000_000,
        ),
    ];
    env.send("grief", &grief, &[]).await.unwrap();
    let args = ballast_tests::fixtures::crypto_listing(u64::MAX);
    let admin = market.admin.insecure_clone();
    env.send(
        "add_reserve",
        &[ix::add_reserve(admin.pubkey(), market.market, mint, SPL_TOKEN, args)],
        &[&admin],
    )
    .await
    .unwrap();
    for vault in [ballast_sdk::pda::vault(&reserve), ballast_sdk::pda::insurance_vault(&reserve)] {
        let account = env.account(vault).await.unwrap();
        assert_eq!((account.owner, account.data.len()), (SPL_TOKEN, 165), "a token account of the reserve");
        assert_eq!(env.token_balance(vault).await, 0);
    }
}

async fn every_state_change_emits_an_event(mode: Mode) {
    let mut env = TestEnv::start(mode).await;
    let admin = env.funded_wallet(10_000_000_000).await;
    let fee_receiver = Pubkey::new_unique();
    env.send("init_market", &[ix::init_market(admin.pubkey(), 1, fee_receiver)], &[&admin]).await.unwrap();
    let market = ballast_tests::MarketFixture {
        market: ballast_sdk::pda::market(&admin.pubkey(), 1),
        admin,
        fee_receiver,
    };
    let ev = env.events::<MarketInitialized>();
    assert_eq!(ev.len(), 1);
    assert_eq!((ev[0].market, ev[0].admin, ev[0].market_id), (market.market, market.admin.pubkey(), 1));
    env.set_timelock(&market, 0).await;
    let ev = env.events::<ballast::events::MarketConfigured>();
    assert_eq!((ev.len(), ev[0].market, ev[0].params.timelock_secs), (1, market.market, 0));

    let reserve = env.add_reserve_unconfigured(&market, TOKEN_2022, 6, 5_000).await;
    let ev = env.events::<ReserveAdded>();
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].reserve, ev[0].mint, ev[0].token_program),
        (reserve.keys.reserve, reserve.keys.mint, TOKEN_2022)
    );
    assert_eq!((ev[0].deposit_cap, ev[0].borrow_cap), (5_000, u64::MAX));
    // Nothing can be deposited before the reserve has an oracle.
    let early = env.create_user(&market).await;
    let early_account = env.token_account(&reserve, &early.wallet.pubkey(), 10).await;
    let e = env.deposit(&early, &reserve, early_account, 10).await.unwrap_err();
    assert_eq!(
        e,
        ballast_tests::TxError::Custom { instruction: 0, code: BallastError::OracleNotConfigured.into() }
    );
    let feed = reserve.keys.mint.to_bytes();
    let pinned = ballast_tests::fixtures::placeholder_oracle(&reserve.keys.mint);
    let (oracle, risk, interest) = (default_oracle(feed, pinned), default_risk(), default_interest());
    env.configure(&market, &reserve, oracle.clone(), risk, interest).await.unwrap();
    let ev = env.events::<ballast::events::ReserveConfigured>();
    assert_eq!((ev.len(), ev[0].reserve, &ev[0].oracle), (1, reserve.keys.reserve, &oracle));

    let user = env.create_user(&market).await;
    let ev = env.events::<PositionOpened>();
    assert_eq!(ev.len(), 1);
    assert_eq!((ev[0].position, ev[0].owner, ev[0].index), (user.position, user.wallet.pubkey(), 0));

    let account = env.token_account(&reserve, &user.wallet.pubkey(), 1_000).await;
    env.deposit(&user, &reserve, account, 700).await.unwrap();
    let ev = env.events::<Deposited>();
    assert_eq!(ev.len(), 1);
    assert_eq!((ev[0].position, ev[0].reserve), (user.position, reserve.keys.reserve));
    assert_eq!(
        (ev[0].amount, ev[0].shares_minted, ev[0].reserve_total_assets, ev[0].reserve_total_shares),
        (700, 700, 700, 700)
    );

    env.withdraw(&user, &reserve, account, 200).await.unwrap();
    let ev = env.events::<Withdrawn>();
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].amount, ev[0].shares_burned, ev[0].reserve_total_assets, ev[0].reserve_total_shares),
        (200, 200, 500, 500)
    );
    assert!(env.events::<Deposited>().is_empty(), "a withdrawal emits no deposit event");
}
