//! A seeded, reproducible multi-user simulation (issue 11 item 2): wallets deposit, withdraw,
//! borrow and repay, keepers liquidate and resolve bad debt, prices walk, crash, go stale and
//! widen, the clock jumps. Events in time come too (issue 24): a tokenized stock (the real NFLXx
//! mint) splits forward, in reverse or by a dividend-style step, announced or with no lead time,
//! its feed switching near the change and its EMA lagging; ETH is priced by a legacy account
//! that halts and resumes. After every step the invariants below are checked against the
//! accounts themselves; a break panics with the seed, so `simulate --seed S` replays it alone.
//!
//! Invariants:
//! - conservation: each vault holds at least the liquidity its reserve books and the liquidation
//!   fees booked to its insurance pool; the positions' deposit and borrow shares add up to the
//!   reserve's totals; pending fees are backed;
//! - liquidation: only a liquidatable position is liquidated (by the program's own figures,
//!   recomputed off chain), a solvent one's health factor never falls, and the keeper receives
//!   at least the value it repaid;
//! - borrow: a position that borrowed passes initial health (joint stress shock) at the price
//!   posted;
//! - views: every borrow and withdrawal of an amount lands exactly when `ballast_sdk::limits`
//!   (what `position show` and the web app say may be borrowed or withdrawn) said it would, and
//!   a refusal carries the error the limits named;
//! - write-off: `resolve_bad_debt` succeeds only for positions whose deposits are dust;
//! - liveness: at fresh prices every unhealthy position is liquidatable by some pair, or its
//!   deposits are dust and the write-off takes it;
//! - events alone liquidate nobody: right after a split (announced or not, through its window
//!   and after it, with the EMA lagging) or a halt, at unchanged values, no position is
//!   liquidatable that was not (or within 0.01 % of it) just before;
//! - every refusal is a named program error (`TxError::Custom`), never a crash.
use std::collections::HashMap;

use anchor_lang::prelude::Pubkey;
use ballast::state::{Market, Position, Reserve};
use ballast_risk::fixed::{Rounding, WAD};
use ballast_risk::value::usd_value;
use ballast_sdk::health::{best_liquidation, position_view, OracleAccount, PositionView};
use ballast_sdk::limits::{self, Refusal};
use ballast_sdk::{accounts, errors, ix};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::fixtures::{
    sol_price, usdc_price, PricedMarket, ReserveFixture, UserFixture, NOW, SOL_FEED, USDC_FEED,
};
use crate::oracles::{legacy_account, PullPrice};
use crate::token2022::{list_nflx, stock_account, stock_mint, Schedule};
use crate::{Mode, TxError};

const ETH_FEED: [u8; 32] = [9; 32];
const STOCK_FEED: [u8; 32] = [0x5e; 32];
/// SOL, USDC, ETH (legacy feed), STOCK (Token-2022, ScaledUiAmount).
const ASSETS: usize = 4;
const ETH: usize = 2;
const STOCK: usize = 3;

/// What a run did.
#[derive(Debug, Default, Clone)]
pub struct SimReport {
    pub seed: u64,
    pub operations: u64,
    pub succeeded: u64,
    pub refused: u64,
    pub invariant_checks: u64,
    pub liquidations: u64,
    pub bad_debt_resolved: u64,
    pub price_crashes: u64,
    /// Multiplier changes announced ahead / made with no lead time, and legacy halts.
    pub scheduled_splits: u64,
    pub immediate_splits: u64,
    pub halts: u64,
    /// Checks that an event alone liquidated nobody.
    pub event_checks: u64,
}

/// What the limits said, and at which clock.
struct Prediction {
    said: Result<(), Refusal>,
    clock: i64,
}

/// `Clock::unix_timestamp` from the sysvar's bytes (slot, epoch start, epoch, leader-schedule
/// epoch, then the timestamp).
fn clock_unix_timestamp(data: &[u8]) -> i64 {
    i64::from_le_bytes(data[32..40].try_into().expect("a clock sysvar"))
}

/// xorshift64*: tiny, seedable, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

struct Wallet {
    user: UserFixture,
    /// Token account per asset.
    tokens: [Pubkey; ASSETS],
}

struct Keeper {
    wallet: Keypair,
    tokens: [Pubkey; ASSETS],
}

/// The stock's feed: it prices one share, `value / multiplier`, with the multiplier of the
/// feed's own switch (`old` before `switch_ts`, `new` from then on), and an EMA that follows the
/// per-share price with a one-hour time constant.
#[derive(Clone, Copy)]
struct StockFeed {
    old: f64,
    new: f64,
    switch_ts: i64,
    ema: f64,
    last_post: i64,
}

pub struct Sim {
    m: PricedMarket,
    eth: ReserveFixture,
    eth_oracle: Pubkey,
    stock: ReserveFixture,
    stock_oracle: Pubkey,
    /// The mint's schedule as the issuer last wrote it, and the stock's feed.
    schedule: Schedule,
    feed: StockFeed,
    /// ETH's legacy feed is halted; its last trading price and time.
    halted: bool,
    eth_last_trade: (i64, i64),
    wallets: Vec<Wallet>,
    keepers: Vec<Keeper>,
    fee_accounts: [Pubkey; ASSETS],
    rng: Rng,
    now: i64,
    /// Price per asset (1e-8 USD), and whether its feed is currently not updated / too wide.
    prices: [i64; ASSETS],
    stale: [bool; ASSETS],
    wide: [bool; ASSETS],
    pub report: SimReport,
}

impl Sim {
    /// `wallets` borrowers/lenders and `keepers` liquidators on SOL ($100), USDC ($1) and ETH
    /// ($2,000, 9 decimals), every wallet funded in every asset.
    pub async fn start(mode: Mode, seed: u64, wallets: usize, keepers: usize) -> Sim {
        let mut m = PricedMarket::start(mode).await;
        let (eth, _) = m.list_asset(NOW, ETH_FEED, Some(2_000), true).await;
        // ETH from a legacy price account (it can halt).
        let eth_oracle = m.env.keypair().pubkey();
        let eth_price = 200_000_000_000;
        m.env.set_account(eth_oracle, legacy_account(eth_price, eth_price, NOW - 1, 1, (eth_price, NOW - 1)));
        let legacy = ballast::instructions::OracleParams {
            source: ballast::state::OracleSource::PythLegacy,
            ..ballast_sdk::params::default_oracle([0; 32], eth_oracle)
        };
        let (params_risk, params_interest) =
            (ballast_sdk::params::default_risk(), ballast_sdk::params::default_interest());
        m.env.configure(&m.market, &eth, legacy, params_risk, params_interest).await.unwrap();
        m.more_oracles.retain(|(r, _)| *r != eth.keys.reserve);
        m.more_oracles.push((eth.keys.reserve, eth_oracle));
        // The stock: NFLXx at $1,100 a token, a multiplier of 1, a 3× cap and 35 % / 30 % haircuts.
        let schedule = Schedule::flat(1.0);
        let stock = list_nflx(&mut m.env, &m.market, schedule).await;
        let mint = stock.keys.mint;
        let stock_oracle = crate::fixtures::feed_account(&STOCK_FEED);
        let mut risk = ballast_sdk::params::default_risk();
        (risk.max_leverage_bps, risk.init_haircut_bps, risk.maint_haircut_bps) = (30_000, 3_500, 3_000);
        let feed = StockFeed { old: 1.0, new: 1.0, switch_ts: 0, ema: 110_000_000_000.0, last_post: NOW - 1 };
        let first = PullPrice {
            feed_id: STOCK_FEED,
            price: 110_000_000_000,
            ema_price: 110_000_000_000,
            ..sol_price(NOW - 1)
        };
        m.env.set_account(stock_oracle, first.account());
        let oracle = ballast_sdk::params::default_oracle(STOCK_FEED, stock_oracle);
        m.env
            .configure(&m.market, &stock, oracle, risk, ballast_sdk::params::default_interest())
            .await
            .unwrap();
        m.more_oracles.push((stock.keys.reserve, stock_oracle));
        let fee_receiver = m.market.fee_receiver;
        let mut fee_accounts = [Pubkey::default(); ASSETS];
        for (i, r) in [m.sol.clone(), m.usdc.clone(), eth.clone()].iter().enumerate() {
            fee_accounts[i] = m.env.token_account(r, &fee_receiver, 0).await;
        }
        fee_accounts[STOCK] = stock_account(&mut m.env, mint, &fee_receiver, 0).await;
        let mut sim = Sim {
            m,
            eth,
            eth_oracle,
            stock,
            stock_oracle,
            schedule,
            feed,
            halted: false,
            eth_last_trade: (eth_price, NOW - 1),
            wallets: Vec::new(),
            keepers: Vec::new(),
            fee_accounts,
            rng: Rng(seed.max(1)),
            now: NOW,
            prices: [10_000_000_000, 100_000_000, 200_000_000_000, 110_000_000_000],
            stale: [false; ASSETS],
            wide: [false; ASSETS],
            report: SimReport { seed, ..SimReport::default() },
        };
        for _ in 0..wallets {
            let user = sim.m.env.create_user(&sim.m.market).await;
            let tokens = sim.funded_accounts(&user.wallet.pubkey()).await;
            sim.wallets.push(Wallet { user, tokens });
        }
        for _ in 0..keepers {
            let wallet = sim.m.env.funded_wallet(1_000_000_000).await;
            let tokens = sim.funded_accounts(&wallet.pubkey()).await;
            sim.keepers.push(Keeper { wallet, tokens });
        }
        sim
    }

    /// A token account of `owner` per asset, funded (the stock's balance written in: the
    /// xStocks mint authority is not ours).
    async fn funded_accounts(&mut self, owner: &Pubkey) -> [Pubkey; ASSETS] {
        let funds = [1_000 * 1_000_000_000, 100_000 * 1_000_000, 50 * 1_000_000_000, 100 * 100_000_000];
        let mut tokens = [Pubkey::default(); ASSETS];
        for a in 0..STOCK {
            let r = self.reserve(a);
            tokens[a] = self.m.env.token_account(&r, owner, funds[a]).await;
        }
        tokens[STOCK] = stock_account(&mut self.m.env, self.stock.keys.mint, owner, funds[STOCK]).await;
        tokens
    }

    fn reserve(&self, asset: usize) -> ReserveFixture {
        match asset {
            0 => self.m.sol.clone(),
            1 => self.m.usdc.clone(),
            ETH => self.eth.clone(),
            _ => self.stock.clone(),
        }
    }

    fn oracle(&self, asset: usize) -> Pubkey {
        [self.m.sol_oracle, self.m.usdc_oracle, self.eth_oracle, self.stock_oracle][asset]
    }

    fn feed(asset: usize) -> [u8; 32] {
        [SOL_FEED, USDC_FEED, ETH_FEED, STOCK_FEED][asset]
    }

    fn decimals(asset: usize) -> u8 {
        [9, 6, 9, 8][asset]
    }

    /// The stock's mint re-read, as the SDK puts it before a borrow or withdrawal.
    fn refresh_stock(&self) -> anchor_lang::solana_program::instruction::Instruction {
        ix::refresh_mint(self.stock.keys.reserve, self.stock.keys.mint)
    }

    fn asset_of(&self, reserve: &Pubkey) -> usize {
        (0..ASSETS).find(|a| self.reserve(*a).keys.reserve == *reserve).expect("a simulated reserve")
    }

    /// Every position the simulation knows: the fixture's lender and borrower and the wallets.
    fn positions(&self) -> Vec<(Pubkey, Keypair)> {
        let mut p = vec![
            (self.m.lender.position, self.m.lender.wallet.insecure_clone()),
            (self.m.borrower.position, self.m.borrower.wallet.insecure_clone()),
        ];
        p.extend(self.wallets.iter().map(|w| (w.user.position, w.user.wallet.insecure_clone())));
        p
    }

    /// Writes each feed's price at `now - 1` (a stale feed keeps its old account; a wide one
    /// gets a 3 % confidence, over the 2 % cap). ETH's legacy account, when halted, keeps its
    /// last trading price; the stock's feed prices a share, its EMA lagging.
    async fn post_prices(&mut self) {
        self.m.env.set_clock(self.now).await;
        let at = self.now - 1;
        for a in 0..ASSETS {
            if self.stale[a] {
                continue;
            }
            let base = if a == 1 { usdc_price(at) } else { sol_price(at) };
            let p = self.prices[a];
            let conf = if self.wide[a] { (p / 100 * 3) as u64 } else { (p / 1_000) as u64 };
            let account = match a {
                ETH if self.halted => legacy_account(0, self.eth_last_trade.0, at, 2, self.eth_last_trade),
                ETH => {
                    self.eth_last_trade = (p, at);
                    let mut account = legacy_account(p, p, at, 1, (p, at));
                    account.data[216..224].copy_from_slice(&conf.to_le_bytes());
                    account
                }
                STOCK => {
                    let f = &mut self.feed;
                    let per_share = p as f64 / if at >= f.switch_ts { f.new } else { f.old };
                    let k = ((at - f.last_post).max(0) as f64 / 3_600.0).min(1.0);
                    f.ema += (per_share - f.ema) * k;
                    f.last_post = at;
                    let (price, ema) = (per_share as i64, f.ema as i64);
                    let conf = if self.wide[a] { (price / 100 * 3) as u64 } else { (price / 1_000) as u64 };
                    PullPrice { feed_id: STOCK_FEED, price, ema_price: ema, conf, ..base }.account()
                }
                _ => PullPrice { feed_id: Self::feed(a), price: p, ema_price: p, conf, ..base }.account(),
            };
            self.m.env.set_account(self.oracle(a), account);
        }
    }

    async fn view(&mut self, position: &Pubkey) -> Option<PositionView> {
        let p = self.m.env.position_state(*position).await;
        let market = self.market().await;
        let (reserves, oracles) = self.market_accounts().await;
        position_view(&market, &p, &reserves, &oracles, self.now).ok()
    }

    async fn market(&mut self) -> Market {
        let data = self.m.env.account(self.m.market.market).await.unwrap().data;
        accounts::market(&data).unwrap()
    }

    async fn market_accounts(&mut self) -> (HashMap<Pubkey, Reserve>, HashMap<Pubkey, OracleAccount>) {
        let (mut reserves, mut oracles) = (HashMap::new(), HashMap::new());
        for a in 0..ASSETS {
            let key = self.reserve(a).keys.reserve;
            reserves.insert(key, self.m.env.reserve_state(key).await);
            let o = self.oracle(a);
            let acc = self.m.env.account(o).await.unwrap();
            oracles.insert(key, OracleAccount { key: o, owner: acc.owner, data: acc.data });
        }
        (reserves, oracles)
    }

    /// Remaining accounts for `position`'s health check, with `adding` placed.
    async fn health_accounts(
        &mut self,
        position: &Pubkey,
        adding: Option<Pubkey>,
    ) -> Vec<anchor_lang::solana_program::instruction::AccountMeta> {
        let p = self.m.env.position_state(*position).await;
        let reserves = ix::health_reserves(&p, adding);
        ix::health_accounts(&reserves, |r| self.oracle(self.asset_of(r)))
    }

    /// Counts the outcome; a refusal must be a named program error. True when it succeeded.
    fn succeeded(&mut self, what: &str, result: Result<u64, TxError>) -> bool {
        self.report.operations += 1;
        match result {
            Ok(_) => {
                self.report.succeeded += 1;
                true
            }
            Err(TxError::Custom { .. }) => {
                self.report.refused += 1;
                false
            }
            Err(other) => panic!(
                "seed {}: {what} (operation {}) failed without a named error: {other:?}",
                self.report.seed, self.report.operations
            ),
        }
    }

    /// Runs random steps until `operations` transactions have been tried (price moves and clock
    /// jumps come on top), checking every invariant after each step.
    pub async fn run(&mut self, operations: u64) -> SimReport {
        while self.report.operations < operations {
            let roll = self.rng.below(100);
            match roll {
                0..=19 => self.deposit().await,
                20..=29 => self.withdraw().await,
                30..=49 => self.borrow().await,
                50..=59 => self.repay().await,
                60..=71 => self.move_prices().await,
                72..=74 => self.time_event().await,
                75..=79 => self.advance_clock().await,
                80..=92 => self.liquidate().await,
                93..=97 => self.resolve().await,
                _ => self.collect_fees().await,
            }
            self.check_conservation().await;
        }
        self.report.clone()
    }

    /// `u64::MAX` ("all") 30 % of the time, else up to `tokens` whole tokens of `asset`.
    fn amount_or_all(&mut self, asset: usize, tokens: u64) -> u64 {
        if self.rng.chance(30) {
            u64::MAX
        } else {
            1 + self.rng.below(tokens * 10u64.pow(Self::decimals(asset) as u32))
        }
    }

    fn pick_wallet(&mut self) -> usize {
        self.rng.below(self.wallets.len() as u64) as usize
    }

    async fn deposit(&mut self) {
        let (w, a) = (self.pick_wallet(), self.rng.below(ASSETS as u64) as usize);
        let balance = self.m.env.token_balance(self.wallets[w].tokens[a]).await;
        let amount = 1 + self.rng.below(balance / 40 + 1);
        let r = self.reserve(a);
        let wallet = &self.wallets[w];
        let ixn =
            ix::deposit(wallet.user.wallet.pubkey(), wallet.user.position, &r.keys, wallet.tokens[a], amount);
        let signer = wallet.user.wallet.insecure_clone();
        let result = self.m.env.send("sim deposit", &[ixn], &[&signer]).await;
        self.succeeded("deposit", result);
    }

    async fn withdraw(&mut self) {
        let (w, a) = (self.pick_wallet(), self.rng.below(ASSETS as u64) as usize);
        let position = self.wallets[w].user.position;
        let r = self.reserve(a);
        let amount = self.amount_or_all(a, 1);
        let remaining = self.health_accounts(&position, None).await;
        let has_debt = self.m.env.position_state(position).await.has_debt();
        let wallet = &self.wallets[w];
        let owner = wallet.user.wallet.pubkey();
        let remaining = if has_debt { remaining } else { Vec::new() };
        let ixn = ix::withdraw_with_health(owner, position, &r.keys, wallet.tokens[a], amount, remaining);
        let signer = wallet.user.wallet.insecure_clone();
        let ixs = [self.refresh_stock(), ixn];
        // "Everything" is the program's own amount; the limits speak of amounts.
        let predicted = match amount {
            u64::MAX => None,
            _ => Some(self.predict(&position, |l| l.withdraw(&r.keys.reserve, amount)).await),
        };
        let result = self.m.env.send("sim withdraw", &ixs, &[&signer]).await;
        if let Some(predicted) = predicted {
            self.check_prediction("withdraw", amount, predicted, &result).await;
        }
        if self.succeeded("withdraw", result) && has_debt {
            self.check_initial_health(&position, "withdraw").await;
        }
    }

    async fn borrow(&mut self) {
        let (w, a) = (self.pick_wallet(), self.rng.below(ASSETS as u64) as usize);
        let position = self.wallets[w].user.position;
        let r = self.reserve(a);
        let liquidity = self.m.env.reserve_state(r.keys.reserve).await.available_liquidity;
        // From a sliver to a third of the free liquidity: many are refused, some go to the edge.
        let share = 3 + self.rng.below(30);
        let mut amount = 1 + self.rng.below(liquidity / share + 1);
        // Half the time, go to the edge: 90–100 % of what initial health still allows.
        if self.rng.chance(50) {
            if let Some(view) = self.view(&position).await {
                let surplus =
                    view.stressed.init_collateral.saturating_sub(view.stressed.init_debt) as f64 / 1e18;
                let usd_per_token = self.prices[a] as f64 / 1e8 / 10f64.powi(Self::decimals(a) as i32);
                let edge = surplus / usd_per_token * (90 + self.rng.below(11)) as f64 / 100.0;
                amount = (edge as u64).clamp(1, liquidity.max(1));
            }
        }
        let remaining = self.health_accounts(&position, Some(r.keys.reserve)).await;
        let wallet = &self.wallets[w];
        let ixn =
            ix::borrow(wallet.user.wallet.pubkey(), position, &r.keys, wallet.tokens[a], amount, remaining);
        let signer = wallet.user.wallet.insecure_clone();
        let ixs = [self.refresh_stock(), ixn];
        let predicted = self.predict(&position, |l| l.borrow(&r.keys.reserve, amount)).await;
        let result = self.m.env.send("sim borrow", &ixs, &[&signer]).await;
        self.check_prediction("borrow", amount, predicted, &result).await;
        if self.succeeded("borrow", result) {
            self.check_initial_health(&position, "borrow").await;
        }
    }

    /// The bank's clock. Under program-test it runs a few seconds ahead of `now` between price
    /// posts (the bank moves on in the background); LiteSVM's stays where it was set.
    async fn clock(&mut self) -> i64 {
        let clock = self.m.env.account(anchor_lang::solana_program::clock::sysvar::ID).await;
        clock_unix_timestamp(&clock.expect("the clock sysvar").data)
    }

    /// What `ballast_sdk::limits` says of `check` on `position` at the bank's clock, with the
    /// stock's mint refreshed as the transaction's first instruction will.
    async fn predict(
        &mut self,
        position: &Pubkey,
        check: impl FnOnce(&limits::Accounts) -> Result<(), Refusal>,
    ) -> Prediction {
        let clock = self.clock().await;
        let p = self.m.env.position_state(*position).await;
        let market = self.market().await;
        let (reserves, oracles) = self.market_accounts().await;
        let mint = self.m.env.account(self.stock.keys.mint).await.expect("the stock's mint").data;
        let mints = HashMap::from([(self.stock.keys.mint, mint)]);
        let said = limits::after_mint_refresh(&reserves, &mints, clock).and_then(|reserves| {
            check(&limits::Accounts {
                market: &market,
                position: &p,
                reserves: &reserves,
                oracles: &oracles,
                now: clock,
            })
        });
        Prediction { said, clock }
    }

    /// The program did what the limits predicted: it took the amount they allowed, refused
    /// the one they refused, and by the error they named. (Unless the bank's clock moved while
    /// the transaction was sent: then which second it ran at is unknown.)
    async fn check_prediction(
        &mut self,
        what: &str,
        amount: u64,
        predicted: Prediction,
        result: &Result<u64, TxError>,
    ) {
        if self.clock().await != predicted.clock {
            return;
        }
        self.report.invariant_checks += 1;
        let at = format!("seed {}, operation {}", self.report.seed, self.report.operations + 1);
        match (predicted.said, result) {
            (Ok(()), Ok(_)) => {}
            (Err(why), Err(TxError::Custom { code, .. })) => {
                let program = errors::describe(*code).unwrap_or_else(|| format!("custom error {code}"));
                let name = |text: &str| text.split(':').next().unwrap_or_default().to_string();
                assert_eq!(
                    name(&why),
                    name(&program),
                    "{at}: {what} of {amount}: the limits said {why}, the program {program}"
                );
            }
            (predicted, result) => {
                panic!("{at}: {what} of {amount}: the limits said {predicted:?}, the program {result:?}")
            }
        }
    }

    /// After a borrow or a withdrawal with debt, the position passes initial health under the
    /// joint stress shock at the posted prices (the SDK runs the program's own pricing).
    async fn check_initial_health(&mut self, position: &Pubkey, what: &str) {
        self.report.invariant_checks += 1;
        let view = self.view(position).await.expect("a position that just passed a health check prices");
        assert!(
            view.stressed.passes_initial(),
            "seed {}: {what} left position {position} below initial health: {:?}",
            self.report.seed,
            view.stressed
        );
    }

    async fn repay(&mut self) {
        let (w, a) = (self.pick_wallet(), self.rng.below(ASSETS as u64) as usize);
        let position = self.wallets[w].user.position;
        let r = self.reserve(a);
        let amount = self.amount_or_all(a, 100);
        let wallet = &self.wallets[w];
        let ixn = ix::repay(wallet.user.wallet.pubkey(), position, &r.keys, wallet.tokens[a], amount);
        let signer = wallet.user.wallet.insecure_clone();
        let result = self.m.env.send("sim repay", &[ixn], &[&signer]).await;
        self.succeeded("repay", result);
    }

    /// Prices walk ±3 %; now and then one crashes 35 %, goes stale or widens (USDC stays put);
    /// a halted ETH feed resumes half the time.
    async fn move_prices(&mut self) {
        if self.halted && self.rng.chance(50) {
            self.halted = false;
        }
        for a in [0, ETH, STOCK] {
            let step = self.rng.below(801) as i64 - 400; // ±4.00 %
            self.prices[a] = (self.prices[a] * (10_000 + step) / 10_000).max(1_000);
            if self.rng.chance(8) {
                self.prices[a] = self.prices[a] * 65 / 100;
                self.report.price_crashes += 1;
            }
            self.stale[a] = self.rng.chance(5);
            self.wide[a] = self.rng.chance(5);
        }
        self.now += 1 + self.rng.below(5) as i64;
        self.post_prices().await;
    }

    /// An event in time with values unchanged: ETH's legacy feed halts (30 %), or the stock's
    /// issuer changes the multiplier, announced 1–30 minutes ahead (40 %) or effective at once
    /// (30 %), its feed switching within a minute of the change and its EMA lagging. The event
    /// alone must liquidate nobody: checked right after it and, for a change, on both sides of
    /// it, after its window and with the EMA still far behind.
    async fn time_event(&mut self) {
        self.stale = [false; ASSETS];
        self.wide = [false; ASSETS];
        self.post_prices().await;
        // The baseline is taken out of any earlier change's doubt: inside it the stock has the
        // benefit of the doubt, and its end may rightly reveal a liquidatable position.
        for _ in 0..4 {
            let r = self.m.env.reserve_state(self.stock.keys.reserve).await;
            if r.multiplier_doubt(self.now - 1).is_none() && !r.in_multiplier_change_window(self.now) {
                break;
            }
            self.now += 902;
            self.post_prices().await;
        }
        let before = self.maintenance().await;
        let roll = self.rng.below(10);
        if roll < 3 {
            self.halted = true;
            self.report.halts += 1;
            self.post_prices().await;
            self.check_event_liquidates_nobody(&before, "halt").await;
            return;
        }
        let current = self.feed.new;
        let k = if current > 50.0 {
            0.1
        } else if current < 0.02 {
            10.0
        } else {
            [10.0, 0.1, 1.02, 2.0][self.rng.below(4) as usize]
        };
        let next = current * k;
        let (label, effective) = if roll < 7 {
            self.report.scheduled_splits += 1;
            ("scheduled change", self.now + 60 + self.rng.below(1_741) as i64)
        } else {
            self.report.immediate_splits += 1;
            ("immediate change", self.now)
        };
        self.schedule = if effective > self.now {
            Schedule { multiplier: current, new_multiplier: next, effective_ts: effective }
        } else {
            Schedule { multiplier: next, new_multiplier: next, effective_ts: effective }
        };
        let jitter = if effective > self.now { self.rng.below(121) as i64 - 60 } else { 0 };
        self.feed = StockFeed { old: current, new: next, switch_ts: effective + jitter, ..self.feed };
        self.m.env.set_account(self.stock.keys.mint, stock_mint(self.schedule));
        let refresh = self.refresh_stock();
        self.m.env.send("sim refresh_mint", &[refresh], &[]).await.unwrap();
        self.check_event_liquidates_nobody(&before, label).await;
        for at in [effective - 120, effective - 30, effective + 1, effective + 60, effective + 902] {
            if at <= self.now {
                continue;
            }
            self.now = at;
            self.post_prices().await;
            let refresh = self.refresh_stock();
            self.m.env.send("sim refresh_mint", &[refresh], &[]).await.unwrap();
            self.check_event_liquidates_nobody(&before, label).await;
        }
    }

    /// Every position's maintenance figures now (the program's own pricing, through the SDK).
    async fn maintenance(&mut self) -> HashMap<Pubkey, (u128, u128)> {
        let mut out = HashMap::new();
        for (p, _) in self.positions() {
            if let Some(v) = self.view(&p).await {
                out.insert(p, (v.health.maint_collateral, v.health.maint_debt));
            }
        }
        out
    }

    /// No position is liquidatable now that was not, or within 0.05 % of it (interest over the
    /// event's half hour), at `before` (taken out of any earlier change's doubt).
    async fn check_event_liquidates_nobody(&mut self, before: &HashMap<Pubkey, (u128, u128)>, what: &str) {
        self.report.event_checks += 1;
        self.report.invariant_checks += 1;
        let after = self.maintenance().await;
        for (p, (collateral, debt)) in after {
            if collateral >= debt {
                continue;
            }
            let Some(&(c0, d0)) = before.get(&p) else { continue };
            assert!(
                c0.saturating_mul(10_000) < d0.saturating_mul(10_005),
                "seed {}: the {what} alone made position {p} liquidatable: maintenance {c0} / {d0} before, {collateral} / {debt} after",
                self.report.seed
            );
        }
    }

    async fn advance_clock(&mut self) {
        self.now += if self.rng.chance(20) {
            3_600 + self.rng.below(86_400) as i64
        } else {
            1 + self.rng.below(600) as i64
        };
        self.stale = [false; ASSETS];
        self.post_prices().await;
    }

    /// A keeper liquidates a random position with debt: the SDK's best pair when there is one
    /// (with a random `max_repay`), else a random pair, which the program must refuse by name.
    async fn liquidate(&mut self) {
        // Keepers scan: mostly an unhealthy position when there is one, else any.
        let mut positions: Vec<Pubkey> = self.positions().into_iter().map(|(k, _)| k).collect();
        let mut unhealthy = Vec::new();
        let market = self.market().await;
        let dust = market.dust_debt_usd as u128 * WAD;
        for p in &positions {
            let Some(v) = self.view(p).await else { continue };
            if !v.health.is_liquidatable() {
                continue;
            }
            unhealthy.push(*p);
            // Liveness: at fresh prices an unhealthy position is liquidatable by some pair, or
            // its deposits are dust and the write-off takes it.
            let fresh = v.slots.iter().all(|s| s.require_fresh().is_ok());
            if fresh {
                self.report.invariant_checks += 1;
                let stuck = best_liquidation(&market, &v).is_none()
                    && !ballast::health::deposits_are_dust(&v.slots, dust).unwrap();
                assert!(
                    !stuck,
                    "seed {}: position {p} is unhealthy and stuck: {:?}",
                    self.report.seed, v.health
                );
            }
        }
        if !unhealthy.is_empty() && self.rng.chance(85) {
            positions = unhealthy;
        }
        let position = &positions[self.rng.below(positions.len() as u64) as usize];
        let state = self.m.env.position_state(*position).await;
        if !state.has_debt() {
            return;
        }
        let Some(before) = self.view(position).await else { return };
        let market = self.market().await;
        let (repay_reserve, seize_reserve, max_repay) = match best_liquidation(&market, &before) {
            Some(c) if self.rng.chance(80) => {
                let max =
                    if self.rng.chance(50) { u64::MAX } else { 1 + self.rng.below(c.plan.repay.max(1)) };
                (c.repay_reserve, c.seize_reserve, max)
            }
            _ => {
                let debts: Vec<_> =
                    state.slots.iter().filter(|s| s.borrow_shares > 0).map(|s| s.reserve).collect();
                let deposits: Vec<_> =
                    state.slots.iter().filter(|s| s.deposit_shares > 0).map(|s| s.reserve).collect();
                if deposits.is_empty() {
                    return;
                }
                let d = debts[self.rng.below(debts.len() as u64) as usize];
                let c = deposits[self.rng.below(deposits.len() as u64) as usize];
                (d, c, u64::MAX)
            }
        };
        if repay_reserve == seize_reserve {
            return;
        }
        let (ra, sa) = (self.asset_of(&repay_reserve), self.asset_of(&seize_reserve));
        let k = self.rng.below(self.keepers.len() as u64) as usize;
        let (repay_r, seize_r) = (self.reserve(ra), self.reserve(sa));
        let remaining = self.health_accounts(position, None).await;
        let keeper = &self.keepers[k];
        let (source, destination) = (keeper.tokens[ra], keeper.tokens[sa]);
        let ixn = ix::liquidate(
            keeper.wallet.pubkey(),
            self.m.market.market,
            *position,
            ix::LiquidationSides {
                repay: &repay_r.keys,
                source,
                seize: &seize_r.keys,
                destination,
                into_position: None,
            },
            max_repay,
            remaining,
        );
        let signer = keeper.wallet.insecure_clone();
        let (paid_before, got_before) =
            (self.m.env.token_balance(source).await, self.m.env.token_balance(destination).await);
        let result = self.m.env.send("sim liquidate", &[ixn], &[&signer]).await;
        if !self.succeeded("liquidate", result) {
            return;
        }
        self.report.liquidations += 1;
        self.report.invariant_checks += 1;
        let seed = self.report.seed;
        assert!(before.health.is_liquidatable(), "seed {seed}: a healthy position {position} was liquidated");
        let paid = paid_before - self.m.env.token_balance(source).await;
        let got = self.m.env.token_balance(destination).await - got_before;
        let (rp, sp) = (
            before.slots.iter().find(|s| s.reserve == repay_reserve).unwrap(),
            before.slots.iter().find(|s| s.reserve == seize_reserve).unwrap(),
        );
        let paid_value = usd_value(paid, rp.decimals, rp.price.price, rp.price.expo, Rounding::Up).unwrap();
        let got_value = usd_value(got, sp.decimals, sp.price.price, sp.price.expo, Rounding::Down).unwrap();
        assert!(
            got_value >= paid_value,
            "seed {seed}: keeper paid {paid_value} and received {got_value} (1e18 USD)"
        );
        if before.health.is_solvent() {
            if let (Some(after), Some(hf_before)) = (self.view(position).await, before.health.health_factor())
            {
                if let Some(hf_after) = after.health.health_factor() {
                    assert!(
                        hf_after >= hf_before,
                        "seed {seed}: health factor fell {hf_before} → {hf_after}\nbefore {:?}\nafter {:?}\nslots before {:#?}\nslots after {:#?}\nrepay {repay_reserve} seize {seize_reserve} max {max_repay} paid {paid} got {got}",
                        before.health, after.health, before.slots, after.slots
                    );
                }
            }
        }
    }

    /// Tries to write off a random position's debt; the program must agree with the SDK's
    /// dust test.
    async fn resolve(&mut self) {
        let positions = self.positions();
        let (position, _) = &positions[self.rng.below(positions.len() as u64) as usize];
        let state: Position = self.m.env.position_state(*position).await;
        let Some(debt) = state.slots.iter().find(|s| s.borrow_shares > 0).map(|s| s.reserve) else { return };
        let view = self.view(position).await;
        let market = self.market().await;
        let r = self.reserve(self.asset_of(&debt));
        let remaining = ix::resolve_accounts(&state, |k| self.oracle(self.asset_of(k)));
        let ixn = ix::resolve_bad_debt(self.m.market.market, *position, &r.keys, remaining);
        let result = self.m.env.send("sim resolve", &[ixn], &[]).await;
        if self.succeeded("resolve_bad_debt", result) {
            self.report.bad_debt_resolved += 1;
            self.report.invariant_checks += 1;
            let dust = market.dust_debt_usd as u128 * WAD;
            let no_deposits = state.slots.iter().all(|s| s.deposit_shares == 0);
            let is_dust = view.is_some_and(|v| ballast::health::deposits_are_dust(&v.slots, dust).unwrap());
            assert!(
                no_deposits || is_dust,
                "seed {}: position {position} written off with deposits",
                self.report.seed
            );
        }
    }

    async fn collect_fees(&mut self) {
        let a = self.rng.below(ASSETS as u64) as usize;
        let r = self.reserve(a);
        let ixn = ix::collect_fees(self.m.market.market, &r.keys, r.insurance_vault, self.fee_accounts[a]);
        let result = self.m.env.send("sim collect_fees", &[ixn], &[]).await;
        self.succeeded("collect_fees", result);
    }

    /// Vaults cover the books; positions' shares add up to the reserves' totals.
    async fn check_conservation(&mut self) {
        self.report.invariant_checks += 1;
        let positions: Vec<Position> = {
            let mut v = Vec::new();
            for (key, _) in self.positions() {
                v.push(self.m.env.position_state(key).await);
            }
            v
        };
        let seed = self.report.seed;
        for a in 0..ASSETS {
            let r = self.reserve(a);
            let reserve = self.m.env.reserve_state(r.keys.reserve).await;
            let vault = self.m.env.token_balance(r.keys.vault).await;
            let booked = reserve.available_liquidity.checked_add(reserve.insurance_booked);
            assert!(
                booked.is_some_and(|b| vault >= b),
                "seed {seed}: vault {vault} < liquidity {} + pool fees {}",
                reserve.available_liquidity,
                reserve.insurance_booked
            );
            let slot = |p: &Position| {
                p.slots.iter().find(|s| s.reserve == r.keys.reserve).copied().unwrap_or_default()
            };
            let deposits: u64 = positions.iter().map(|p| slot(p).deposit_shares).sum();
            let borrows: u64 = positions.iter().map(|p| slot(p).borrow_shares).sum();
            assert_eq!(deposits, reserve.total_deposit_shares, "seed {seed}: deposit shares of asset {a}");
            assert_eq!(borrows, reserve.total_borrow_shares, "seed {seed}: borrow shares of asset {a}");
            assert!(
                reserve.total_deposit_assets().is_ok(),
                "seed {seed}: pending fees exceed the backing of asset {a}"
            );
        }
    }
}
