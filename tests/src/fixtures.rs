//! Markets, reserves, mints, users and token accounts in one call each, so tests stay short.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_spl::token::ID as SPL_TOKEN;
use anchor_spl::token_2022::spl_token_2022::instruction as token_ix;
use ballast::instructions::{
    AddReserveArgs, CapsParams, HealthReport, InterestParams, OracleParams, RiskParams,
};
use ballast::state::{AssetClass, Position, Reserve};
use ballast_sdk::ix::ReserveKeys;
use ballast_sdk::{accounts, ix, pda};
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_system_interface::instruction as system_ix;

use crate::oracles::PullPrice;
use crate::TestEnv;

pub const MINT_LEN: usize = 82;
pub const TOKEN_ACCOUNT_LEN: usize = 165;
const RENT_EXEMPT_LAMPORTS: u64 = 10_000_000;

/// Listing arguments of a plain crypto asset: no borrow cap, no issuer controls.
pub fn crypto_listing(deposit_cap: u64) -> AddReserveArgs {
    AddReserveArgs {
        asset_class: AssetClass::Crypto,
        deposit_cap,
        borrow_cap: u64::MAX,
        allow_issuer_controls: false,
        issuer_haircut_bps: 0,
    }
}

pub struct MarketFixture {
    pub admin: Keypair,
    pub market: Pubkey,
    /// Owner of the market's fee token accounts.
    pub fee_receiver: Pubkey,
}

pub struct ReserveFixture {
    pub keys: ReserveKeys,
    pub insurance_vault: Pubkey,
    pub mint_authority: Keypair,
    pub decimals: u8,
}

impl Clone for ReserveFixture {
    fn clone(&self) -> Self {
        ReserveFixture {
            keys: self.keys,
            insurance_vault: self.insurance_vault,
            mint_authority: self.mint_authority.insecure_clone(),
            decimals: self.decimals,
        }
    }
}

impl Clone for MarketFixture {
    fn clone(&self) -> Self {
        MarketFixture {
            admin: self.admin.insecure_clone(),
            market: self.market,
            fee_receiver: self.fee_receiver,
        }
    }
}

pub struct UserFixture {
    pub wallet: Keypair,
    pub position: Pubkey,
}

/// The most common setup: one market, one reserve, one user holding `balance` tokens.
pub struct OneReserve {
    pub env: TestEnv,
    pub market: MarketFixture,
    pub reserve: ReserveFixture,
    pub user: UserFixture,
    /// The user's token account of the reserve's mint.
    pub account: Pubkey,
}

impl OneReserve {
    pub async fn start(mode: crate::Mode, token_program: Pubkey, deposit_cap: u64, balance: u64) -> Self {
        let mut env = TestEnv::start(mode).await;
        let market = env.create_market().await;
        let reserve = env.add_reserve(&market, token_program, 6, deposit_cap).await;
        let user = env.create_user(&market).await;
        let account = env.token_account(&reserve, &user.wallet.pubkey(), balance).await;
        Self { env, market, reserve, user, account }
    }
}

impl TestEnv {
    /// A new system account holding `lamports`.
    pub async fn funded_wallet(&mut self, lamports: u64) -> Keypair {
        let wallet = self.keypair();
        let payer = self.payer();
        self.send("fund wallet", &[system_ix::transfer(&payer.pubkey(), &wallet.pubkey(), lamports)], &[])
            .await
            .unwrap();
        wallet
    }

    pub async fn create_market(&mut self) -> MarketFixture {
        let admin = self.funded_wallet(10_000_000_000).await;
        let market_id = 1;
        let fee_receiver = Pubkey::new_unique();
        self.send("init_market", &[ix::init_market(admin.pubkey(), market_id, fee_receiver)], &[&admin])
            .await
            .unwrap();
        let market = MarketFixture { market: pda::market(&admin.pubkey(), market_id), admin, fee_receiver };
        // Test markets take configuration at once (no timelock: nothing to wait for), so fixtures
        // can list and configure collateral and go; tests of the timelock raise it with
        // `set_timelock`.
        self.set_timelock(&market, 0).await;
        market
    }

    /// Sets the market's timelock, keeping its other parameters at their defaults (instant
    /// before any listing, and whenever it rises).
    pub async fn set_timelock(&mut self, market: &MarketFixture, timelock_secs: u32) {
        let params = ballast::instructions::MarketParams {
            liquidation_target_health_bps: ballast::constants::DEFAULT_LIQUIDATION_TARGET_HEALTH_BPS,
            dust_debt_usd: ballast::constants::DEFAULT_DUST_DEBT_USD,
            timelock_secs,
        };
        let admin = market.admin.insecure_clone();
        let ixn = ix::configure_market(admin.pubkey(), market.market, params);
        self.send("configure_market", &[ixn], &[&admin]).await.unwrap();
    }

    /// A new mint of `token_program` (SPL Token or Token-2022) with no extensions.
    pub async fn create_mint(&mut self, token_program: Pubkey, decimals: u8) -> (Pubkey, Keypair) {
        let mint = self.keypair();
        let authority = self.keypair();
        let payer = self.payer();
        let ixs = [
            system_ix::create_account(
                &payer.pubkey(),
                &mint.pubkey(),
                RENT_EXEMPT_LAMPORTS,
                MINT_LEN as u64,
                &token_program,
            ),
            token_ix::initialize_mint2(&token_program, &mint.pubkey(), &authority.pubkey(), None, decimals)
                .unwrap(),
        ];
        self.send("create mint", &ixs, &[&mint]).await.unwrap();
        (mint.pubkey(), authority)
    }

    /// Lists a new mint of `token_program` without configuring it (no deposits until it is).
    pub async fn add_reserve_unconfigured(
        &mut self,
        market: &MarketFixture,
        token_program: Pubkey,
        decimals: u8,
        deposit_cap: u64,
    ) -> ReserveFixture {
        let (mint, mint_authority) = self.create_mint(token_program, decimals).await;
        let args = crypto_listing(deposit_cap);
        self.send(
            "add_reserve",
            &[ix::add_reserve(market.admin.pubkey(), market.market, mint, token_program, args)],
            &[&market.admin],
        )
        .await
        .unwrap();
        let reserve = pda::reserve(&market.market, &mint);
        ReserveFixture {
            keys: ReserveKeys {
                market: market.market,
                reserve,
                mint,
                vault: pda::vault(&reserve),
                token_program,
            },
            insurance_vault: pda::insurance_vault(&reserve),
            mint_authority,
            decimals,
        }
    }

    /// Lists a new mint of `token_program` and configures it with the default parameters and a
    /// feed of its own. Deposits need a configured oracle; tests that price the reserve configure
    /// their own feed before the first deposit (an empty reserve's configuration applies at once).
    pub async fn add_reserve(
        &mut self,
        market: &MarketFixture,
        token_program: Pubkey,
        decimals: u8,
        deposit_cap: u64,
    ) -> ReserveFixture {
        let fixture = self.add_reserve_unconfigured(market, token_program, decimals, deposit_cap).await;
        let feed = fixture.keys.mint.to_bytes();
        let oracle = placeholder_oracle(&fixture.keys.mint);
        self.configure(market, &fixture, default_oracle(feed, oracle), default_risk(), default_interest())
            .await
            .unwrap();
        fixture
    }

    /// A funded wallet with position 0 open in `market`.
    pub async fn create_user(&mut self, market: &MarketFixture) -> UserFixture {
        let wallet = self.funded_wallet(1_000_000_000).await;
        self.send("open_position", &[ix::open_position(wallet.pubkey(), market.market, 0)], &[&wallet])
            .await
            .unwrap();
        UserFixture { position: pda::position(&market.market, &wallet.pubkey(), 0), wallet }
    }

    /// A token account of `reserve`'s mint owned by `owner`, holding `amount` freshly minted units.
    pub async fn token_account(&mut self, reserve: &ReserveFixture, owner: &Pubkey, amount: u64) -> Pubkey {
        let account = self.keypair();
        let payer = self.payer();
        let tp = reserve.keys.token_program;
        let mut ixs = vec![
            system_ix::create_account(
                &payer.pubkey(),
                &account.pubkey(),
                RENT_EXEMPT_LAMPORTS,
                TOKEN_ACCOUNT_LEN as u64,
                &tp,
            ),
            token_ix::initialize_account3(&tp, &account.pubkey(), &reserve.keys.mint, owner).unwrap(),
        ];
        if amount > 0 {
            ixs.push(
                token_ix::mint_to(
                    &tp,
                    &reserve.keys.mint,
                    &account.pubkey(),
                    &reserve.mint_authority.pubkey(),
                    &[],
                    amount,
                )
                .unwrap(),
            );
        }
        let authority = reserve.mint_authority.insecure_clone();
        let signers: &[&Keypair] = if amount > 0 { &[&account, &authority] } else { &[&account] };
        self.send("create token account", &ixs, signers).await.unwrap();
        account.pubkey()
    }

    /// Mints `amount` of `reserve`'s token straight into `account` (e.g. a donation to a pool).
    pub async fn mint_to(&mut self, reserve: &ReserveFixture, account: Pubkey, amount: u64) {
        let authority = reserve.mint_authority.insecure_clone();
        let ixn = token_ix::mint_to(
            &reserve.keys.token_program,
            &reserve.keys.mint,
            &account,
            &authority.pubkey(),
            &[],
            amount,
        )
        .unwrap();
        self.send("mint_to", &[ixn], &[&authority]).await.unwrap();
    }

    /// Balance of an SPL Token or Token-2022 account (the amount field sits at the same offset).
    pub async fn token_balance(&mut self, account: Pubkey) -> u64 {
        let data = self.account(account).await.expect("token account exists").data;
        u64::from_le_bytes(data[64..72].try_into().unwrap())
    }

    /// A reserve's insurance pool: its insurance vault's tokens and the liquidation fees booked
    /// to it in the vault.
    pub async fn pool_balance(&mut self, reserve: &ReserveFixture) -> u64 {
        let booked = self.reserve_state(reserve.keys.reserve).await.insurance_booked;
        self.token_balance(reserve.insurance_vault).await + booked
    }

    pub async fn reserve_state(&mut self, reserve: Pubkey) -> Reserve {
        accounts::reserve(&self.account(reserve).await.expect("reserve exists").data).unwrap()
    }

    pub async fn position_state(&mut self, position: Pubkey) -> Position {
        accounts::position(&self.account(position).await.expect("position exists").data).unwrap()
    }

    pub async fn deposit(
        &mut self,
        user: &UserFixture,
        reserve: &ReserveFixture,
        source: Pubkey,
        amount: u64,
    ) -> Result<u64, crate::TxError> {
        let ixs = [ix::deposit(user.wallet.pubkey(), user.position, &reserve.keys, source, amount)];
        let wallet = user.wallet.insecure_clone();
        self.send("deposit", &ixs, &[&wallet]).await
    }

    pub async fn withdraw(
        &mut self,
        user: &UserFixture,
        reserve: &ReserveFixture,
        destination: Pubkey,
        amount: u64,
    ) -> Result<u64, crate::TxError> {
        let ixs = [ix::withdraw(user.wallet.pubkey(), user.position, &reserve.keys, destination, amount)];
        let wallet = user.wallet.insecure_clone();
        self.send("withdraw", &ixs, &[&wallet]).await
    }
}

pub use ballast_sdk::params::{default_interest, default_oracle, default_risk};

/// The unix time priced tests run at.
pub const NOW: i64 = 1_800_000_000;

/// A market with a 9-decimal collateral asset ("SOL", $100) and a 6-decimal borrowable asset
/// ("USDC", $1), both priced by pull oracles at `NOW - 1`; a lender has supplied 10 000 USDC and
/// the borrower has deposited 10 SOL.
pub struct PricedMarket {
    pub env: TestEnv,
    pub market: MarketFixture,
    pub sol: ReserveFixture,
    pub usdc: ReserveFixture,
    pub sol_oracle: Pubkey,
    pub usdc_oracle: Pubkey,
    /// Supplied the 10,000 USDC.
    pub lender: UserFixture,
    pub borrower: UserFixture,
    pub borrower_sol: Pubkey,
    pub borrower_usdc: Pubkey,
    /// Reserves listed by `list_asset` and their price accounts.
    pub more_oracles: Vec<(Pubkey, Pubkey)>,
}

/// A liquidator's accounts.
pub struct Keeper {
    pub wallet: Keypair,
    /// Pays the repaid debt.
    pub repay_source: Pubkey,
    /// Receives the seized collateral.
    pub seize_destination: Pubkey,
}

/// The price account a fresh fixture reserve pins until a test configures its own oracle
/// (nothing is ever written there: such a reserve takes deposits but cannot price).
pub fn placeholder_oracle(mint: &Pubkey) -> Pubkey {
    feed_account(&mint.to_bytes())
}

/// The account a pull reserve of `feed` pins: the push oracle's feed account on shard 0 (the
/// deployable build accepts no other, SPEC §2).
pub fn feed_account(feed: &[u8; 32]) -> Pubkey {
    ballast_sdk::pda::pyth_push_feed(0, feed)
}

pub const SOL_FEED: [u8; 32] = [1; 32];
pub const USDC_FEED: [u8; 32] = [2; 32];

pub fn sol_price(publish_time: i64) -> PullPrice {
    PullPrice {
        feed_id: SOL_FEED,
        price: 10_000_000_000,
        conf: 0,
        expo: -8,
        publish_time,
        ema_price: 10_000_000_000,
        full_verification: true,
    }
}

pub fn usdc_price(publish_time: i64) -> PullPrice {
    PullPrice { feed_id: USDC_FEED, price: 100_000_000, ema_price: 100_000_000, ..sol_price(publish_time) }
}

impl PricedMarket {
    pub async fn start(mode: crate::Mode) -> Self {
        let mut env = TestEnv::start(mode).await;
        env.set_clock(NOW).await;
        let market = env.create_market().await;
        let sol = env.add_reserve(&market, SPL_TOKEN, 9, u64::MAX).await;
        let usdc = env.add_reserve(&market, SPL_TOKEN, 6, u64::MAX).await;
        let (sol_oracle, usdc_oracle) = (feed_account(&SOL_FEED), feed_account(&USDC_FEED));
        env.set_account(sol_oracle, sol_price(NOW - 1).account());
        env.set_account(usdc_oracle, usdc_price(NOW - 1).account());
        for (r, feed, oracle) in [(&sol, SOL_FEED, sol_oracle), (&usdc, USDC_FEED, usdc_oracle)] {
            env.configure(&market, r, default_oracle(feed, oracle), default_risk(), default_interest())
                .await
                .unwrap();
        }
        let lender = env.create_user(&market).await;
        let lender_usdc = env.token_account(&usdc, &lender.wallet.pubkey(), 10_000_000_000).await;
        env.deposit(&lender, &usdc, lender_usdc, 10_000_000_000).await.unwrap();
        let borrower = env.create_user(&market).await;
        let borrower_sol = env.token_account(&sol, &borrower.wallet.pubkey(), 10_000_000_000).await;
        let borrower_usdc = env.token_account(&usdc, &borrower.wallet.pubkey(), 0).await;
        env.deposit(&borrower, &sol, borrower_sol, 10_000_000_000).await.unwrap();
        Self {
            env,
            market,
            sol,
            usdc,
            sol_oracle,
            usdc_oracle,
            lender,
            borrower,
            borrower_sol,
            borrower_usdc,
            more_oracles: Vec::new(),
        }
    }

    pub fn oracle_of(&self, reserve: &Pubkey) -> Pubkey {
        if *reserve == self.sol.keys.reserve {
            return self.sol_oracle;
        }
        match self.more_oracles.iter().find(|(r, _)| r == reserve) {
            Some((_, oracle)) => *oracle,
            None => self.usdc_oracle,
        }
    }

    /// Lists another 9-decimal asset with a price account of its own, holding `dollars` per
    /// token published at `now - 1` (`None`: the account is never written, the asset has no
    /// price at all). `collateral`: whether it counts as collateral.
    pub async fn list_asset(
        &mut self,
        now: i64,
        feed: [u8; 32],
        dollars: Option<i64>,
        collateral: bool,
    ) -> (ReserveFixture, Pubkey) {
        let reserve = self.env.add_reserve(&self.market, SPL_TOKEN, 9, u64::MAX).await;
        let oracle = feed_account(&feed);
        if let Some(d) = dollars {
            let price = PullPrice {
                feed_id: feed,
                price: d * 100_000_000,
                ema_price: d * 100_000_000,
                ..sol_price(now - 1)
            };
            self.env.set_account(oracle, price.account());
        }
        let risk = ballast::instructions::RiskParams { collateral_enabled: collateral, ..default_risk() };
        self.env
            .configure(&self.market, &reserve, default_oracle(feed, oracle), risk, default_interest())
            .await
            .unwrap();
        self.more_oracles.push((reserve.keys.reserve, oracle));
        (reserve, oracle)
    }

    /// The borrower deposits `amount` of `reserve` (minted to a new account of theirs).
    pub async fn borrower_deposit(
        &mut self,
        reserve: &ReserveFixture,
        amount: u64,
    ) -> Result<u64, crate::TxError> {
        let source = self.env.token_account(reserve, &self.borrower.wallet.pubkey(), amount).await;
        let borrower =
            UserFixture { wallet: self.borrower.wallet.insecure_clone(), position: self.borrower.position };
        self.env.deposit(&borrower, reserve, source, amount).await
    }

    /// Remaining accounts for the borrower's health check, with `adding` claimed if new.
    pub async fn health_accounts(&mut self, adding: Option<Pubkey>) -> Vec<AccountMeta> {
        let position = self.env.position_state(self.borrower.position).await;
        let reserves = ix::health_reserves(&position, adding);
        ix::health_accounts(&reserves, |r| self.oracle_of(r))
    }

    pub async fn borrow_ix(&mut self, amount: u64) -> Instruction {
        let remaining = self.health_accounts(Some(self.usdc.keys.reserve)).await;
        ix::borrow(
            self.borrower.wallet.pubkey(),
            self.borrower.position,
            &self.usdc.keys,
            self.borrower_usdc,
            amount,
            remaining,
        )
    }

    pub async fn borrow(&mut self, amount: u64) -> Result<u64, crate::TxError> {
        let ixn = self.borrow_ix(amount).await;
        let wallet = self.borrower.wallet.insecure_clone();
        self.env.send("borrow", &[ixn], &[&wallet]).await
    }

    /// The accounts a borrower-side failure must leave untouched.
    pub fn watched(&self) -> Vec<Pubkey> {
        vec![
            self.borrower.position,
            self.sol.keys.reserve,
            self.usdc.keys.reserve,
            self.usdc.keys.vault,
            self.borrower_usdc,
            self.sol.keys.vault,
            self.borrower_sol,
        ]
    }

    /// Posts new SOL and USDC prices published at `now - 1` and moves the clock to `now`.
    pub async fn set_prices(&mut self, now: i64, sol: PullPrice, usdc: PullPrice) {
        self.env.set_clock(now).await;
        self.env.set_account(self.sol_oracle, PullPrice { publish_time: now - 1, ..sol }.account());
        self.env.set_account(self.usdc_oracle, PullPrice { publish_time: now - 1, ..usdc }.account());
    }

    /// SOL at `dollars` (EMA equal, so no breaker level), USDC at $1, published at `now - 1`.
    pub async fn set_sol_price(&mut self, now: i64, dollars: u64) {
        let sol = PullPrice {
            price: dollars as i64 * 100_000_000,
            ema_price: dollars as i64 * 100_000_000,
            ..sol_price(now)
        };
        self.set_prices(now, sol, usdc_price(now)).await;
    }

    /// A keeper holding `usdc` USDC, with an empty SOL account.
    pub async fn keeper(&mut self, usdc: u64) -> Keeper {
        let wallet = self.env.funded_wallet(1_000_000_000).await;
        let usdc_account = self.env.token_account(&self.usdc, &wallet.pubkey(), usdc).await;
        let sol_account = self.env.token_account(&self.sol, &wallet.pubkey(), 0).await;
        Keeper { wallet, repay_source: usdc_account, seize_destination: sol_account }
    }

    /// `keeper` repays the borrower's USDC debt and seizes SOL, up to `max_repay`.
    pub async fn liquidate_ix(&mut self, keeper: &Keeper, max_repay: u64) -> Instruction {
        let remaining = self.health_accounts(None).await;
        ix::liquidate(
            keeper.wallet.pubkey(),
            self.market.market,
            self.borrower.position,
            ix::LiquidationSides {
                repay: &self.usdc.keys,
                source: keeper.repay_source,
                seize: &self.sol.keys,
                destination: keeper.seize_destination,
                into_position: None,
            },
            max_repay,
            remaining,
        )
    }

    /// `keeper` repays USDC and seizes `seize` (another listed asset) into a new account of its
    /// own; returns the instruction and every account it could change beyond `watched`.
    pub async fn liquidate_seizing_ix(
        &mut self,
        keeper: &Keeper,
        seize: &ReserveFixture,
    ) -> (Instruction, Vec<Pubkey>) {
        let destination = self.env.token_account(seize, &keeper.wallet.pubkey(), 0).await;
        let remaining = self.health_accounts(None).await;
        let sides = ix::LiquidationSides {
            repay: &self.usdc.keys,
            source: keeper.repay_source,
            seize: &seize.keys,
            destination,
            into_position: None,
        };
        let ixn = ix::liquidate(
            keeper.wallet.pubkey(),
            self.market.market,
            self.borrower.position,
            sides,
            u64::MAX,
            remaining,
        );
        (ixn, vec![seize.keys.reserve, seize.keys.vault, destination])
    }

    pub async fn liquidate(&mut self, keeper: &Keeper, max_repay: u64) -> Result<u64, crate::TxError> {
        let ixn = self.liquidate_ix(keeper, max_repay).await;
        let wallet = keeper.wallet.insecure_clone();
        self.env.send("liquidate", &[ixn], &[&wallet]).await
    }

    /// `resolve_bad_debt` of the borrower's debt in `reserve`, with the remaining accounts the
    /// SDK builds for it.
    pub async fn resolve_ix(&mut self, reserve: &ix::ReserveKeys) -> Instruction {
        let position = self.env.position_state(self.borrower.position).await;
        let remaining = ix::resolve_accounts(&position, |r| self.oracle_of(r));
        ix::resolve_bad_debt(self.market.market, self.borrower.position, reserve, remaining)
    }

    /// The borrower's health report (the `health` view).
    pub async fn health(&mut self) -> HealthReport {
        let remaining = self.health_accounts(None).await;
        let ixn = ix::health(self.market.market, self.borrower.position, remaining);
        self.env.send("health", &[ixn], &[]).await.unwrap();
        ballast_sdk::accounts::view_return(&self.env.last_return_data).unwrap()
    }
}

impl TestEnv {
    pub async fn configure(
        &mut self,
        market: &MarketFixture,
        reserve: &ReserveFixture,
        oracle: OracleParams,
        risk: RiskParams,
        interest: InterestParams,
    ) -> Result<u64, crate::TxError> {
        let admin = market.admin.insecure_clone();
        // Caps stay as they are.
        let current = self.reserve_state(reserve.keys.reserve).await;
        let caps = CapsParams { deposit_cap: current.deposit_cap, borrow_cap: current.borrow_cap };
        let ixn = ix::configure_reserve(
            admin.pubkey(),
            market.market,
            reserve.keys.reserve,
            oracle,
            risk,
            interest,
            caps,
        );
        self.send("configure_reserve", &[ixn], &[&admin]).await
    }
}

/// A position spread over `slots` reserves (6 decimals, $100 each, own pull oracles): it owes 9
/// tokens ($900) of reserve 0 against $1,500 deposited evenly across reserves 1..slots, and a
/// keeper is ready to repay reserve 0 and seize reserve 1. `crash` makes it liquidatable.
pub struct WidePosition {
    pub env: TestEnv,
    pub market: MarketFixture,
    pub reserves: Vec<ReserveFixture>,
    pub oracles: Vec<Pubkey>,
    pub user: UserFixture,
    pub keeper: Keeper,
}

impl WidePosition {
    pub async fn start(mode: crate::Mode, slots: usize) -> Self {
        assert!((2..=16).contains(&slots));
        let mut env = TestEnv::start(mode).await;
        env.set_clock(NOW).await;
        let market = env.create_market().await;
        let (mut reserves, mut oracles) = (Vec::new(), Vec::new());
        for i in 0..slots {
            let r = env.add_reserve(&market, SPL_TOKEN, 6, u64::MAX).await;
            let feed = [i as u8 + 1; 32];
            let oracle = feed_account(&feed);
            env.set_account(oracle, PullPrice { feed_id: feed, ..sol_price(NOW - 1) }.account());
            env.configure(&market, &r, default_oracle(feed, oracle), default_risk(), default_interest())
                .await
                .unwrap();
            reserves.push(r);
            oracles.push(oracle);
        }
        let lender = env.create_user(&market).await;
        let supply = env.token_account(&reserves[0], &lender.wallet.pubkey(), 10_000_000).await;
        env.deposit(&lender, &reserves[0], supply, 10_000_000).await.unwrap();

        let user = env.create_user(&market).await;
        let per_reserve = 15_000_000 / (slots as u64 - 1);
        for r in &reserves[1..] {
            let acc = env.token_account(r, &user.wallet.pubkey(), per_reserve).await;
            env.deposit(&user, r, acc, per_reserve).await.unwrap();
        }
        let borrowed = env.token_account(&reserves[0], &user.wallet.pubkey(), 0).await;
        let mut me = Self {
            env,
            market,
            reserves,
            oracles,
            user,
            keeper: Keeper {
                wallet: Keypair::new(),
                repay_source: Pubkey::default(),
                seize_destination: Pubkey::default(),
            },
        };
        let remaining = me.remaining(Some(me.reserves[0].keys.reserve)).await;
        let wallet = me.user.wallet.insecure_clone();
        let ixn = ix::borrow(
            wallet.pubkey(),
            me.user.position,
            &me.reserves[0].keys,
            borrowed,
            9_000_000,
            remaining,
        );
        me.env.send("borrow", &[ixn], &[&wallet]).await.unwrap();

        let keeper = me.env.funded_wallet(1_000_000_000).await;
        let source = me.env.token_account(&me.reserves[0], &keeper.pubkey(), 9_000_000).await;
        let destination = me.env.token_account(&me.reserves[1], &keeper.pubkey(), 0).await;
        me.keeper = Keeper { wallet: keeper, repay_source: source, seize_destination: destination };
        me
    }

    async fn remaining(&mut self, adding: Option<Pubkey>) -> Vec<AccountMeta> {
        let position = self.position_state().await;
        let reserves = ix::health_reserves(&position, adding);
        let keys: Vec<Pubkey> = self.reserves.iter().map(|r| r.keys.reserve).collect();
        let oracles = self.oracles.clone();
        ix::health_accounts(&reserves, |r| oracles[keys.iter().position(|k| k == r).unwrap()])
    }

    pub async fn position_state(&mut self) -> Position {
        self.env.position_state(self.user.position).await
    }

    /// Every collateral asset falls to `dollars`: $1,500 of collateral becomes 15 × `dollars`.
    pub async fn crash(&mut self, dollars: i64) {
        for (i, oracle) in self.oracles.iter().enumerate().skip(1) {
            let price = dollars * 100_000_000;
            let p = PullPrice { feed_id: [i as u8 + 1; 32], price, ema_price: price, ..sol_price(NOW - 1) };
            self.env.set_account(*oracle, p.account());
        }
    }

    /// The keeper repays reserve 0 and seizes reserve 1.
    pub async fn liquidate_ix(&mut self, max_repay: u64) -> Instruction {
        let remaining = self.remaining(None).await;
        let k = &self.keeper;
        ix::liquidate(
            k.wallet.pubkey(),
            self.market.market,
            self.user.position,
            ix::LiquidationSides {
                repay: &self.reserves[0].keys,
                source: k.repay_source,
                seize: &self.reserves[1].keys,
                destination: k.seize_destination,
                into_position: None,
            },
            max_repay,
            remaining,
        )
    }
}
