#![allow(deprecated)] // solana-program-test 3.x API, see tests/src/lib.rs
//! The demo scenario, run against the real SBF program: a market with an SPL Token and a
//! Token-2022 reserve and two users depositing and withdrawing; borrowing with interest; a price
//! crash and a keeper's liquidation. Prints what happened.
use anchor_spl::{token::ID as SPL_TOKEN, token_2022::ID as TOKEN_2022};
use ballast_tests::{Mode, TestEnv};
use solana_signer::Signer;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut env = TestEnv::start(Mode::Sbf).await;
    println!(
        "Ballast demo (SBF program {}, {} bytes)",
        ballast::ID,
        std::fs::metadata(ballast_tests::env::sbf_program_path()).unwrap().len()
    );

    let market = env.create_market().await;
    println!("market {} created by admin {}", market.market, market.admin.pubkey());
    let usdc = env.add_reserve(&market, SPL_TOKEN, 6, 5_000_000_000).await;
    println!("reserve {} (SPL Token mint {}, deposit cap 5,000 units)", usdc.keys.reserve, usdc.keys.mint);
    let stock = env.add_reserve(&market, TOKEN_2022, 8, u64::MAX).await;
    println!("reserve {} (Token-2022 mint {})", stock.keys.reserve, stock.keys.mint);

    let alice = env.create_user(&market).await;
    let bob = env.create_user(&market).await;
    let alice_usdc = env.token_account(&usdc, &alice.wallet.pubkey(), 3_000_000_000).await;
    let alice_stock = env.token_account(&stock, &alice.wallet.pubkey(), 10_00000000).await;
    let bob_usdc = env.token_account(&usdc, &bob.wallet.pubkey(), 3_000_000_000).await;

    env.deposit(&alice, &usdc, alice_usdc, 2_500_000_000).await.unwrap();
    env.deposit(&alice, &stock, alice_stock, 4_00000000).await.unwrap();
    env.deposit(&bob, &usdc, bob_usdc, 2_000_000_000).await.unwrap();
    match env.deposit(&bob, &usdc, bob_usdc, 600_000_000).await {
        Err(ballast_tests::TxError::Custom { code, .. }) => {
            println!("bob deposits 600 more: refused, {}", ballast_sdk::errors::describe(code).unwrap())
        }
        other => panic!("the deposit over the cap must be refused, got {other:?}"),
    }
    env.withdraw(&alice, &usdc, alice_usdc, 1_000_000_000).await.unwrap();
    env.withdraw(&alice, &stock, alice_stock, u64::MAX).await.unwrap();

    for (name, r) in [("usdc", &usdc), ("stock", &stock)] {
        let s = env.reserve_state(r.keys.reserve).await;
        println!(
            "{name}: liquidity {} shares {} vault {}",
            s.available_liquidity,
            s.total_deposit_shares,
            env.token_balance(r.keys.vault).await
        );
    }
    let p = env.position_state(alice.position).await;
    println!(
        "alice's position holds {} slot(s); usdc shares {}",
        p.occupied_slots(),
        p.slots[0].deposit_shares
    );

    // Part 2: prices, borrowing and interest (a fresh market: "SOL" at $100, "USDC" at $1, both
    // priced by Pyth pull-oracle accounts, 10 000 USDC supplied, 10 SOL deposited).
    let mut m = ballast_tests::PricedMarket::start(Mode::Sbf).await;
    m.borrow(300_000_000).await.unwrap();
    let h = m.health().await;
    println!(
        "borrowed 300 USDC against 10 SOL: health factor {:.4}, leverage {:.4}, SOL liquidation price ${:.2}",
        h.health_factor.unwrap() as f64 / 1e9,
        h.leverage.unwrap() as f64 / 1e9,
        h.slots[0].liquidation_price.unwrap() as f64 / 1e8,
    );
    match m.borrow(400_000_000).await {
        Err(ballast_tests::TxError::Custom { code, .. }) => {
            println!("borrow 400 more: refused, {}", ballast_sdk::errors::describe(code).unwrap())
        }
        other => panic!("a borrow past the limit must be refused, got {other:?}"),
    }
    m.env.set_clock(ballast_tests::fixtures::NOW + 30 * 24 * 3600).await;
    let wallet = m.borrower.wallet.insecure_clone();
    let payer = m.env.token_account(&m.usdc, &wallet.pubkey(), 400_000_000).await;
    let repay = ballast_sdk::ix::repay(wallet.pubkey(), m.borrower.position, &m.usdc.keys, payer, u64::MAX);
    m.env.send("repay", &[repay], &[&wallet]).await.unwrap();
    let paid = 400_000_000 - m.env.token_balance(payer).await;
    println!(
        "30 days later the debt is repaid in full: {:.6} USDC ({:.6} of interest)",
        paid as f64 / 1e6,
        (paid - 300_000_000) as f64 / 1e6
    );
    let r = m.env.reserve_state(m.usdc.keys.reserve).await;
    println!(
        "USDC reserve: protocol fees pending {} units, 24 h volume {} units",
        r.pending_fees,
        r.volume_24h(ballast_tests::fixtures::NOW + 30 * 24 * 3600)
    );

    // Part 3: a crash and a keeper. The borrower owes 600 USDC against 10 SOL; SOL falls from
    // $100 to $62 and a keeper liquidates part of the position.
    let mut m = ballast_tests::PricedMarket::start(Mode::Sbf).await;
    m.borrow(600_000_000).await.unwrap();
    m.set_sol_price(ballast_tests::fixtures::NOW, 62).await;
    let before = m.health().await;
    let keeper = m.keeper(1_000_000_000).await;
    m.liquidate(&keeper, u64::MAX).await.unwrap();
    let event = m.env.events::<ballast::events::Liquidated>().pop().expect("a Liquidated event");
    let after = m.health().await;
    let shortfall =
        |h: &ballast::instructions::HealthReport| (h.maint_debt as f64 - h.maint_collateral as f64) / 1e18;
    println!(
        "SOL at $62: health factor {:.4}, shortfall ${:.2} → keeper repaid {:.2} USDC, seized {:.6} SOL \
         (bonus {:.2} %) → health factor {:.4}, shortfall ${:.2}",
        before.health_factor.unwrap() as f64 / 1e9,
        shortfall(&before),
        event.repaid as f64 / 1e6,
        event.seized as f64 / 1e9,
        event.bonus_bps as f64 / 100.0,
        after.health_factor.unwrap() as f64 / 1e9,
        shortfall(&after),
    );
    println!(
        "SOL insurance pool: {:.6} SOL of a {:.6} SOL target (2 % of the 24 h volume), coverage {:.1} %",
        event.pool.balance as f64 / 1e9,
        event.pool.target as f64 / 1e9,
        event.pool.coverage_bps as f64 / 100.0,
    );

    println!("compute units:");
    for (label, units) in &env.compute_units {
        println!("  {label:<24} {units:>7}");
    }
}
