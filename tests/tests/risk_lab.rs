#![allow(deprecated)] // solana-program-test 3.x API, see tests/src/lib.rs
//! The risk lab held to the program (issue 27): liquidations the lab booked on real history
//! are re-run through the deployable SBF program in LiteSVM with the same accounts and prices,
//! and every figure of the program's `Liquidated` event must equal the lab's. A lab that drifts
//! from the code it speaks for fails here.
use anchor_lang::{AnchorSerialize, Discriminator};
use ballast::events::Liquidated;
use ballast::state::{Market, Position, Reserve};
use ballast_risk_lab::replay::{Sample, ASSET, STABLE};
use ballast_tests::{Mode, PricedMarket, ReserveFixture};
use solana_account::Account;

/// The lab's short replay (the test command's), every liquidation sampled.
fn lab_samples() -> Vec<Sample> {
    ballast_risk_lab::short_replay(|_| {}, 1).unwrap().samples
}

/// Writes the lab's `lab` reserve over the test market's `fixture` reserve, keeping the
/// fixture's identity (market, mint, vaults, bumps, pinned price account).
async fn put_reserve(m: &mut PricedMarket, fixture: &ReserveFixture, lab: &Reserve) {
    let key = fixture.keys.reserve;
    let account = m.env.account(key).await.unwrap();
    let here: Reserve = ballast_sdk::accounts::reserve(&account.data).unwrap();
    let mut r = *lab;
    (r.market, r.mint, r.token_program, r.vault, r.insurance_vault) =
        (here.market, here.mint, here.token_program, here.vault, here.insurance_vault);
    (r.bump, r.vault_bump, r.insurance_vault_bump) = (here.bump, here.vault_bump, here.insurance_vault_bump);
    (r.oracle.price_account, r.oracle.feed_id) = (here.oracle.price_account, here.oracle.feed_id);
    let mut data = Reserve::DISCRIMINATOR.to_vec();
    data.extend_from_slice(bytemuck::bytes_of(&r));
    m.env.set_account(key, Account { data, ..account });
}

/// Sets an SPL token account's amount (offset 64).
async fn set_token_amount(m: &mut PricedMarket, key: anchor_lang::prelude::Pubkey, amount: u64) {
    let mut account = m.env.account(key).await.unwrap();
    account.data[64..72].copy_from_slice(&amount.to_le_bytes());
    m.env.set_account(key, account);
}

#[tokio::test]
async fn sbf_liquidations_the_lab_booked_on_real_history_are_the_programs_to_the_token() {
    let samples: Vec<Sample> = lab_samples()
        .into_iter()
        .filter(|s| s.record.repay_reserve == STABLE && s.seize_reserve == ASSET)
        .collect();
    assert!(samples.len() >= 3, "the short replay liquidated too few long positions: {}", samples.len());
    // Spread over the replay: the first, the last and some between.
    let picks: Vec<&Sample> = (0..5).map(|k| &samples[k * (samples.len() - 1) / 4]).collect();
    for sample in picks {
        let mut m = PricedMarket::start(Mode::Sbf).await;
        m.env.set_clock(sample.now).await;
        // The market's liquidation figures.
        let market_key = m.market.market;
        let account = m.env.account(market_key).await.unwrap();
        let mut market: Market = ballast_sdk::accounts::market(&account.data).unwrap();
        market.liquidation_target_health_bps = sample.market.liquidation_target_health_bps;
        market.dust_debt_usd = sample.market.dust_debt_usd;
        let mut data = Market::DISCRIMINATOR.to_vec();
        market.serialize(&mut data).unwrap();
        data.resize(account.data.len(), 0);
        m.env.set_account(market_key, Account { data, ..account });
        // Reserves, vaults (holding what the reserves book), pools, prices.
        let (sol, usdc) = (m.sol.clone(), m.usdc.clone());
        put_reserve(&mut m, &sol, &sample.reserves[ASSET]).await;
        put_reserve(&mut m, &usdc, &sample.reserves[STABLE]).await;
        // A vault holds its reserve's liquidity and the fees booked to its pool.
        let held = |r: &Reserve| r.available_liquidity + r.insurance_booked;
        set_token_amount(&mut m, sol.keys.vault, held(&sample.reserves[ASSET])).await;
        set_token_amount(&mut m, usdc.keys.vault, held(&sample.reserves[STABLE])).await;
        set_token_amount(&mut m, sol.insurance_vault, sample.pools[ASSET]).await;
        set_token_amount(&mut m, usdc.insurance_vault, sample.pools[STABLE]).await;
        for (i, oracle) in [(ASSET, m.sol_oracle), (STABLE, m.usdc_oracle)] {
            let lab = &sample.oracles[i];
            assert_eq!(lab.key, oracle, "the lab prices at the test market's feed accounts");
            let account = m.env.account(oracle).await.unwrap();
            m.env.set_account(oracle, Account { data: lab.data.clone(), owner: lab.owner, ..account });
        }
        // The borrower's position, its slots moved to the test market's reserves.
        let position_key = m.borrower.position;
        let account = m.env.account(position_key).await.unwrap();
        let here: Position = ballast_sdk::accounts::position(&account.data).unwrap();
        let mut p = sample.position;
        (p.market, p.owner, p.index, p.bump) = (here.market, here.owner, here.index, here.bump);
        for slot in p.slots.iter_mut().filter(|s| !s.is_free()) {
            slot.reserve =
                if slot.reserve == sample.reserve_keys[ASSET] { sol.keys.reserve } else { usdc.keys.reserve };
        }
        let mut data = Position::DISCRIMINATOR.to_vec();
        data.extend_from_slice(bytemuck::bytes_of(&p));
        m.env.set_account(position_key, Account { data, ..account });

        let keeper = m.keeper(sample.record.repaid.max(1)).await;
        m.liquidate(&keeper, u64::MAX)
            .await
            .unwrap_or_else(|e| panic!("at {}: the program refused: {e:?}", sample.now));
        let event = m.env.events::<Liquidated>().pop().expect("a Liquidated event");
        let r = &sample.record;
        assert_eq!(
            (
                event.repaid,
                event.seized,
                event.to_liquidator,
                event.fee_to_insurance_pool,
                event.fee_to_fee_receiver,
                event.bonus_bps
            ),
            (r.repaid, r.seized, r.to_keeper, r.fee_to_pool, r.fee_to_receiver, r.bonus_bps),
            "the program and the lab differ on the liquidation at {} (position {})",
            sample.now,
            r.position
        );
        assert_eq!(event.to_liquidator_shares, 0);
        assert_eq!(m.env.token_balance(keeper.seize_destination).await, r.to_keeper);
        // And the seized reserve is booked as the lab booked it: liquidity, pending fees, the
        // fee booked to the pool.
        let seized = if sample.seize_reserve == ASSET { &sol } else { &usdc };
        let program = m.env.reserve_state(seized.keys.reserve).await;
        let lab = &sample.seize_reserve_after;
        assert_eq!(
            (program.available_liquidity, program.pending_fees, program.insurance_booked),
            (lab.available_liquidity, lab.pending_fees, lab.insurance_booked),
            "the program and the lab book the seized reserve differently at {}",
            sample.now
        );
    }
}
