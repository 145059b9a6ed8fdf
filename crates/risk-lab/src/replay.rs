//! One replay: a seeded population of positions in one asset against USDC lives through one
//! window of real prices. Every decision is the program's: prices pass through
//! `price_slot_from_oracle` (staleness, the lag band, the EMA breaker), health through
//! `ballast::health`, the keeper's choice through the SDK's `best_liquidation` (the program's
//! planner), the booking through `Reserve`'s own methods as `liquidate` and `resolve_bad_debt`
//! call them, and the insurance pool's target and fill through `PoolStatus` and
//! `split_to_pool`. The lab only decides *when*: the oracle's lag, the keeper's latency.
use std::collections::HashMap;

use anchor_lang::prelude::Pubkey;
use ballast::events::PoolStatus;
use ballast::health::{deposits_are_dust, initial_health_with_shocks};
use ballast::mint_rules::{MintTraits, Multiplier};
use ballast::state::{Market, OracleSource, Position, Reserve};
use ballast_risk::fixed::{Rounding, WAD};
use ballast_risk::interest::shares_for_debt;
use ballast_risk::liquidation::split_to_pool;
use ballast_risk::shares::shares_for_deposit;
use ballast_sdk::health::{best_liquidation, position_view, OracleAccount, PositionView};

use crate::data::History;
use crate::paths::{market_price, OracleFeed, OracleModel, OracleState};
use crate::rules::{AssetRules, MarketRules};

/// The asset's reserve and the stablecoin's, in that order.
pub const ASSET: usize = 0;
pub const STABLE: usize = 1;

/// Who borrows, how much and how hard.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Population {
    pub count: usize,
    pub seed: u64,
    /// Share of positions that are short the asset (USDC collateral, asset debt), bps.
    pub short_bps: u32,
    /// Collateral value range, USD (log-uniform).
    pub min_usd: f64,
    pub max_usd: f64,
}

impl Default for Population {
    fn default() -> Self {
        Population { count: 300, seed: 7, short_bps: 2_000, min_usd: 1_000.0, max_usd: 100_000.0 }
    }
}

/// A stock split inside the window as the token's issuer carries it out (SPEC §6): one token
/// stays one old share, so at `at` the per-share feed falls by `ratio` and the mint's
/// ScaledUiAmount multiplier rises by it (a pausable mint, re-read on every touch, like the
/// xStocks fixtures). The history is the per-share price as traded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitModel {
    pub at: i64,
    pub ratio: f64,
    /// Scheduled on the mint before the window opens (Token-2022's `update_multiplier` with a
    /// future effective time), or made at `at` without warning: the program learns of it when
    /// a transaction next re-reads the mint.
    pub announced: bool,
}

impl SplitModel {
    /// Shares one token stands for at `t`: what turns the per-share price into the token's.
    pub fn multiplier_at(&self, t: i64) -> f64 {
        if t >= self.at {
            self.ratio
        } else {
            1.0
        }
    }

    /// What the mint shows at `t`.
    fn mint_traits(&self, decimals: u8, t: i64) -> MintTraits {
        let after = (self.ratio * WAD as f64).round() as u128;
        let multiplier = match (self.announced, t >= self.at) {
            (true, _) => Multiplier { multiplier: WAD, new_multiplier: after, effective_ts: self.at },
            (false, false) => Multiplier { multiplier: WAD, new_multiplier: WAD, effective_ts: 0 },
            (false, true) => Multiplier { multiplier: after, new_multiplier: after, effective_ts: self.at },
        };
        MintTraits { multiplier, pausable: true, ..MintTraits::plain(decimals) }
    }
}

/// Everything one replay needs.
#[derive(Debug, Clone)]
pub struct Scenario<'a> {
    pub history: &'a History,
    pub asset: AssetRules,
    pub stable: AssetRules,
    pub market: MarketRules,
    /// Positions open over `[start, crash)`; the replay runs to `end`.
    pub start: i64,
    pub crash: i64,
    pub end: i64,
    pub population: Population,
    pub oracle: OracleModel,
    /// Seconds between the keeper seeing a position liquidatable and its transaction landing.
    pub keeper_latency_secs: i64,
    /// The protocol's daily volume in each asset as a share of the tokens its positions hold,
    /// bps (scaled hour by hour with the market's own volume).
    pub turnover_bps: u32,
    /// Keep the state before every n-th liquidation (for the LiteSVM cross-check); 0: none.
    pub sample_every: usize,
    /// A split of the asset inside the window (`history` is then per share as traded).
    pub split: Option<SplitModel>,
}

impl Scenario<'_> {
    /// Shares one asset token stands for at `t` (1 without a split).
    fn multiplier_at(&self, t: i64) -> f64 {
        self.split.map_or(1.0, |s| s.multiplier_at(t))
    }

    /// The asset token's market price at `t`.
    fn token_market_price(&self, t: i64) -> f64 {
        market_price(self.history, t) * self.multiplier_at(t)
    }
}

/// One liquidation as the program booked it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiquidationRecord {
    pub time: i64,
    pub position: usize,
    pub repay_reserve: usize,
    pub repaid: u64,
    pub seized: u64,
    pub to_keeper: u64,
    pub fee_to_pool: u64,
    pub fee_to_receiver: u64,
    pub bonus_bps: u32,
    /// USD value of what was repaid (the oracle's price).
    pub repaid_usd: f64,
    pub market_price: f64,
}

/// A position's debt written off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BadDebtRecord {
    pub time: i64,
    pub position: usize,
    pub reserve: usize,
    pub debt: u64,
    pub from_pool: u64,
    pub socialized: u64,
    pub usd: f64,
    pub from_pool_usd: f64,
}

/// The accounts and figures before a liquidation, and what the program booked: the input and
/// the expected output of the LiteSVM cross-check.
#[derive(Clone)]
pub struct Sample {
    pub now: i64,
    pub market: Market,
    pub reserves: [Reserve; 2],
    pub reserve_keys: [Pubkey; 2],
    pub oracles: [OracleAccount; 2],
    pub position: Position,
    /// The insurance vaults' tokens (the pools' balances are these and the fees booked to them).
    pub pools: [u64; 2],
    pub record: LiquidationRecord,
    pub seize_reserve: usize,
    /// The seized reserve as the lab left it: the cross-check holds the program's to it.
    pub seize_reserve_after: Reserve,
}

/// What a replay produced.
#[derive(Clone, Default)]
pub struct Outcome {
    pub liquidations: Vec<LiquidationRecord>,
    pub bad_debt: Vec<BadDebtRecord>,
    pub samples: Vec<Sample>,
    /// Positions opened, and those the program never let borrow before the window opened.
    pub opened: usize,
    pub refused_at_open: usize,
    /// Value of the positions' collateral and debt when the crash window starts, USD.
    pub collateral_usd: f64,
    pub debt_usd: f64,
    /// Each pool's balance and target when the window starts, tokens.
    pub pool_start: [u64; 2],
    pub target_start: [u64; 2],
    /// Each pool's 24 h volume when the window starts, tokens.
    pub volume_start: [u64; 2],
    /// Each pool's balance at the end, tokens, and the fees paid in from the window's start.
    pub pool_end: [u64; 2],
    pub fees_in: [u64; 2],
    /// Keeper transactions the program refused: the position was healthy once the transaction
    /// re-read the mints (a multiplier change the keeper's view had not seen).
    pub keeper_refused: usize,
    /// Per minute: (t, market price, oracle price), per token.
    pub prices: Vec<(i64, f64, f64)>,
    /// Per hour: (t, each pool's balance in USD).
    pub pool_usd: Vec<(i64, [f64; 2])>,
    /// Price of each asset in USD at the end (the stablecoin at 1).
    pub end_price: f64,
    /// Largest debt any one position left unpaid, USD, and which.
    pub worst: Option<(usize, f64)>,
}

impl Outcome {
    pub fn liquidated_usd(&self) -> f64 {
        self.liquidations.iter().fold(0.0, |a, l| a + l.repaid_usd)
    }
    pub fn bad_debt_usd(&self) -> f64 {
        self.bad_debt.iter().fold(0.0, |a, b| a + b.usd)
    }
    pub fn covered_usd(&self) -> f64 {
        self.bad_debt.iter().fold(0.0, |a, b| a + b.from_pool_usd)
    }
    pub fn socialized_usd(&self) -> f64 {
        self.bad_debt_usd() - self.covered_usd()
    }
    /// Bad debt in `reserve`'s tokens.
    pub fn bad_debt_tokens(&self, reserve: usize) -> u64 {
        self.bad_debt.iter().filter(|b| b.reserve == reserve).map(|b| b.debt).sum()
    }
    /// The insurance target (bps of the 24 h volume at the window's start) that would have
    /// covered all of `reserve`'s bad debt (0 when there was none), rounded up.
    pub fn required_target_bps(&self, reserve: usize) -> u64 {
        let debt = self.bad_debt_tokens(reserve) as u128;
        match self.volume_start[reserve] as u128 {
            0 if debt > 0 => u64::MAX,
            0 => 0,
            v => (debt * 10_000).div_ceil(v) as u64,
        }
    }
}

/// SplitMix64: small, seeded, the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const PRICE_EXPO: i32 = -8;

/// The lab's market: two reserves, their price accounts and pools, and the positions.
struct LabMarket {
    market: Market,
    keys: [Pubkey; 2],
    reserves: HashMap<Pubkey, Reserve>,
    oracles: HashMap<Pubkey, OracleAccount>,
    feed_ids: [[u8; 32]; 2],
    /// The price accounts the reserves pin (derived once: a PDA search is costly).
    price_accounts: [Pubkey; 2],
    decimals: [u8; 2],
    /// The insurance vaults' tokens; the fees liquidations book to a pool stay in its reserve
    /// (`Reserve::insurance_booked`), as `liquidate` books them.
    pools: [u64; 2],
    split: Option<SplitModel>,
}

fn mantissa(price: f64) -> i64 {
    (price * 1e8).round() as i64
}

fn reserve_for(
    rules: &AssetRules,
    market: Pubkey,
    feed_id: [u8; 32],
    traits: &MintTraits,
    at: i64,
) -> Reserve {
    let mut oracle = rules.oracle.clone();
    oracle.source = OracleSource::PythPull;
    oracle.feed_id = feed_id;
    oracle.price_account = ballast_sdk::pda::pyth_push_feed(0, &feed_id);
    let mut r: Reserve = bytemuck::Zeroable::zeroed();
    r.market = market;
    r.decimals = rules.decimals;
    r.oracle = oracle.to_config().expect("checked by AssetRules::check");
    r.risk = rules.risk.to_config().expect("checked by AssetRules::check");
    r.interest = rules.interest.to_config().expect("checked by AssetRules::check");
    r.borrow_index.set(Reserve::initial_index());
    r.deposit_cap = u64::MAX;
    r.borrow_cap = u64::MAX;
    r.last_accrual_ts = at;
    r.set_mint_traits(traits, at);
    r
}

impl LabMarket {
    fn new(s: &Scenario) -> Self {
        let market_key = Pubkey::new_from_array([200; 32]);
        let keys = [Pubkey::new_from_array([10; 32]), Pubkey::new_from_array([11; 32])];
        let feed_ids = [[1u8; 32], [2u8; 32]];
        let reserves: HashMap<Pubkey, Reserve> = [&s.asset, &s.stable]
            .iter()
            .enumerate()
            .map(|(i, rules)| {
                let traits = if i == ASSET {
                    s.split
                        .map_or(MintTraits::plain(rules.decimals), |x| x.mint_traits(rules.decimals, s.start))
                } else {
                    MintTraits::plain(rules.decimals)
                };
                (keys[i], reserve_for(rules, market_key, feed_ids[i], &traits, s.start))
            })
            .collect();
        let market = Market {
            admin: Pubkey::default(),
            pending_admin: Pubkey::default(),
            creator: Pubkey::default(),
            fee_receiver: Pubkey::default(),
            market_id: 1,
            reserve_count: 2,
            liquidation_target_health_bps: s.market.target_health_bps,
            dust_debt_usd: s.market.dust_debt_usd,
            timelock_secs: 0,
            stress_shocks_bps: [0; 8],
            pending_stress_shocks_bps: [0; 8],
            stress_shocks_eta: 0,
            pending_liquidation_target_health_bps: 0,
            pending_dust_debt_usd: 0,
            pending_timelock_secs: 0,
            market_config_eta: 0,
            paused: false,
            bump: 255,
        };
        LabMarket {
            market,
            keys,
            reserves,
            oracles: HashMap::new(),
            feed_ids,
            price_accounts: feed_ids.map(|f| ballast_sdk::pda::pyth_push_feed(0, &f)),
            decimals: [s.asset.decimals, s.stable.decimals],
            pools: [0, 0],
            split: s.split,
        }
    }

    /// Re-reads both mints at `t`, as `deposit`, `borrow`, `liquidate` and `resolve_bad_debt`
    /// do first.
    fn refresh_mints(&mut self, t: i64) {
        for i in [ASSET, STABLE] {
            let decimals = self.decimals[i];
            let traits = match self.split {
                Some(split) if i == ASSET => split.mint_traits(decimals, t),
                _ => MintTraits::plain(decimals),
            };
            self.reserve(i).set_mint_traits(&traits, t);
        }
    }

    /// Writes reserve `i`'s price account as the oracle says at this second.
    fn post(&mut self, i: usize, state: &OracleState, conf_bps: u32) {
        let price = mantissa(state.price);
        let message = localnet_oracle::PriceMessage {
            feed_id: self.feed_ids[i],
            price,
            conf: (price as u128 * conf_bps as u128 / 10_000) as u64,
            expo: PRICE_EXPO,
            publish_time: state.publish_time,
            ema_price: mantissa(state.ema),
            ema_conf: (price as u128 * conf_bps as u128 / 10_000) as u64,
        };
        let key = self.price_accounts[i];
        let data = localnet_oracle::encode_price_update(&Pubkey::default(), true, &message, 1);
        self.oracles.insert(self.keys[i], OracleAccount { key, owner: localnet_oracle::ID, data });
    }

    fn reserve(&mut self, i: usize) -> &mut Reserve {
        self.reserves.get_mut(&self.keys[i]).expect("the lab's reserves")
    }

    /// Pool `i`'s balance as the program reads it: its insurance vault and the fees booked to it.
    fn pool_balance(&self, i: usize) -> u64 {
        // A token's whole supply fits 64 bits: the sum cannot overflow.
        self.reserves[&self.keys[i]].pool_balance(self.pools[i]).unwrap_or(u64::MAX)
    }

    fn view(&self, position: &Position, now: i64) -> Option<PositionView> {
        position_view(&self.market, position, &self.reserves, &self.oracles, now).ok()
    }

    /// Books a deposit of `amount` into reserve `i` for `position` (as `deposit` does, without
    /// counting it as the day's volume: positions are taken as already open).
    fn deposit(&mut self, position: &mut Position, i: usize, amount: u64, now: i64) -> Option<()> {
        let key = self.keys[i];
        let r = self.reserve(i);
        r.accrue(now).ok()?;
        let minted =
            shares_for_deposit(amount, r.total_deposit_shares, r.total_deposit_assets().ok()?).ok()?;
        r.available_liquidity = r.available_liquidity.checked_add(amount)?;
        r.total_deposit_shares = r.total_deposit_shares.checked_add(minted)?;
        let j = position.find_or_claim_slot(&key).ok()?;
        position.slots[j].deposit_shares += minted;
        Some(())
    }

    /// Books a borrow (as `borrow` does); `None` when the reserve cannot lend it.
    fn borrow(&mut self, position: &mut Position, i: usize, amount: u64, now: i64) -> Option<()> {
        let key = self.keys[i];
        let r = self.reserve(i);
        r.accrue(now).ok()?;
        if amount > r.available_liquidity {
            return None;
        }
        let minted = shares_for_debt(amount, r.borrow_index.get(), Rounding::Up).ok()?;
        r.total_borrow_shares = r.total_borrow_shares.checked_add(minted)?;
        r.available_liquidity -= amount;
        let j = position.find_or_claim_slot(&key).ok()?;
        position.slots[j].borrow_shares += minted;
        Some(())
    }

    /// Whether `position` passes the program's initial health at `now`.
    fn passes_initial(&self, position: &Position, now: i64) -> bool {
        let Some(view) = self.view(position, now) else { return false };
        initial_health_with_shocks(&view.slots, &self.market.stress_shocks_bps)
            .is_ok_and(|h| h.passes_initial())
    }

    fn tokens(&self, i: usize, usd: f64, price: f64) -> u64 {
        (usd / price * 10f64.powi(self.decimals[i] as i32)) as u64
    }

    fn usd(&self, i: usize, tokens: u64, price: f64) -> f64 {
        tokens as f64 / 10f64.powi(self.decimals[i] as i32) * price
    }
}

/// A position of the population and what the replay needs to know of it.
struct Borrower {
    position: Position,
    short: bool,
    /// Where the position turns liquidatable (the asset's oracle price), as last priced; the
    /// screen that decides when to ask the program.
    trigger: f64,
    /// When the keeper's transaction lands, if one is on its way.
    due: Option<i64>,
    closed: bool,
    /// Tokens deposited and owed per reserve, as last priced by the program.
    deposits: [u64; 2],
    debts: [u64; 2],
}

impl Borrower {
    fn remember(&mut self, view: &PositionView, keys: &[Pubkey; 2]) {
        self.deposits = [0; 2];
        self.debts = [0; 2];
        for s in &view.slots {
            let i = if s.reserve == keys[ASSET] { ASSET } else { STABLE };
            self.deposits[i] = s.deposit_amount;
            self.debts[i] = s.debt_amount;
        }
    }
}

/// What one token of each reserve counts for in maintenance health this second, as collateral
/// and as debt (WAD USD per token unit): the program's pricing of a probe slot holding both. The
/// program's valuation is linear in the amounts (up to rounding), so a position's figures are
/// these times its tokens: the screen that spares the exact check to positions far from it.
#[derive(Debug, Clone, Copy)]
struct Factors {
    collateral: [f64; 2],
    debt: [f64; 2],
}

impl LabMarket {
    fn factors(&self, now: i64) -> Option<Factors> {
        let mut f = Factors { collateral: [0.0; 2], debt: [0.0; 2] };
        for i in [ASSET, STABLE] {
            let key = self.keys[i];
            let reserve = &self.reserves[&key];
            let o = &self.oracles[&key];
            let probe = ballast::state::PositionSlot {
                reserve: key,
                deposit_shares: 1 << 50,
                borrow_shares: 1 << 50,
            };
            let priced =
                ballast::health::price_slot_from_oracle(&probe, reserve, &o.key, &o.owner, &o.data, now)
                    .ok()?;
            let h = ballast::health::health(&[priced]).ok()?;
            f.collateral[i] = h.maint_collateral as f64 / priced.deposit_amount.max(1) as f64;
            f.debt[i] = h.maint_debt as f64 / priced.debt_amount.max(1) as f64;
        }
        Some(f)
    }
}

/// Whether `b` may be liquidatable under `f`: its maintenance surplus is within 1 % of its
/// maintenance debt (or below).
fn may_be_liquidatable(b: &Borrower, f: &Factors) -> bool {
    let coll: f64 = (0..2).map(|i| b.deposits[i] as f64 * f.collateral[i]).sum();
    let debt: f64 = (0..2).map(|i| b.debts[i] as f64 * f.debt[i]).sum();
    coll - debt < 0.01 * debt
}

/// The asset price at which `view`'s position turns liquidatable, the stablecoin at 1 (a screen
/// only: the program decides). Longs: below it; shorts: above it.
fn trigger_price(view: &PositionView, asset_key: &Pubkey, price: f64) -> f64 {
    let h = &view.health;
    let asset = view.slots.iter().find(|s| s.reserve == *asset_key);
    match asset {
        // The program's own liquidation price (`ballast::health::liquidation_price`): a fall of
        // the asset alone. Already liquidatable: always near; never reached: never.
        Some(s) if s.deposit_amount > 0 => match ballast::health::liquidation_price(h, s) {
            Some(p) => p as f64 * 10f64.powi(s.price.expo),
            None if h.is_liquidatable() => f64::INFINITY,
            None => 0.0,
        },
        // A short: the debt's value grows with the price (a screen only; the program decides).
        Some(_) if h.maint_debt > 0 => price * h.maint_collateral as f64 / h.maint_debt as f64,
        _ => 0.0,
    }
}

/// Whether the asset's oracle price `p` is near enough `b`'s trigger to ask the program, with
/// `margin` (a fraction) for what the screen does not see (the band's growth, the breaker).
fn near(b: &Borrower, p: f64, margin: f64) -> bool {
    if b.short {
        p >= b.trigger * (1.0 - margin)
    } else {
        p <= b.trigger * (1.0 + margin)
    }
}

/// Runs `s`.
pub fn run(s: &Scenario) -> Outcome {
    let mut lab = LabMarket::new(s);
    let mut out = Outcome::default();
    let mut rng = Rng::new(s.population.seed);
    let mut feed = OracleFeed::new(s.oracle, s.history, s.start);
    let stable_state = |t: i64, lag: i64| OracleState { price: 1.0, publish_time: t - lag, ema: 1.0 };
    lab.post(ASSET, &feed.state, s.oracle.conf_bps);
    lab.post(STABLE, &stable_state(s.start, s.oracle.calm_lag_secs), s.oracle.conf_bps);

    // Lenders: deep liquidity in both reserves (their deposits are not the population's).
    let mut lender: Position = bytemuck::Zeroable::zeroed();
    let p0 = feed.state.price * s.multiplier_at(feed.state.publish_time);
    let deep = 1e10;
    let (asset_deep, stable_deep) = (lab.tokens(ASSET, deep, p0), lab.tokens(STABLE, deep, 1.0));
    lab.deposit(&mut lender, ASSET, asset_deep, s.start);
    lab.deposit(&mut lender, STABLE, stable_deep, s.start);

    // The population's open times, sizes and leverage, drawn up front.
    let cap = s.asset.risk.max_leverage_bps as f64 / 10_000.0;
    let stable_cap = s.stable.risk.max_leverage_bps as f64 / 10_000.0;
    let mut plans: Vec<(i64, bool, f64, f64)> = (0..s.population.count)
        .map(|_| {
            let at = s.start + (rng.unit() * (s.crash - s.start) as f64) as i64;
            // Shorts only where the asset can be borrowed (tokenized stocks often cannot).
            let short = rng.unit() * 10_000.0 < s.population.short_bps as f64 && s.asset.risk.borrow_enabled;
            let limit = if short { stable_cap } else { cap };
            let leverage = 1.1 + (limit - 1.1).max(0.0) * rng.unit().sqrt();
            let (lo, hi) = (s.population.min_usd.ln(), s.population.max_usd.ln());
            let usd = (lo + (hi - lo) * rng.unit()).exp();
            (at, short, leverage.min(limit), usd)
        })
        .collect();
    plans.sort_by_key(|p| p.0);
    let mut next_plan = 0;
    let mut borrowers: Vec<Borrower> = Vec::with_capacity(plans.len());

    let asset_key = lab.keys[ASSET];
    let mut p = p0;
    // The market's volume per second relative to its mean over the warm-up (the protocol's
    // activity follows the market's): the last hour's for intraday bars, the day's for daily.
    let warm_mean = s.history.volume_between(s.start, s.crash) / (s.crash - s.start).max(1) as f64;
    let activity_at = |t: i64| -> f64 {
        if warm_mean <= 0.0 {
            return 1.0;
        }
        let rate = match s.history.resolution {
            crate::data::Resolution::Daily => s.history.bar_at(t - 1).map_or(0.0, |b| b.volume) / 86_400.0,
            _ => s.history.volume_between(t - 3600, t) / 3600.0,
        };
        rate / warm_mean
    };
    let margin =
        (s.asset.oracle.max_band_bps as f64 + s.asset.oracle.stress_addon_bps as f64) / 10_000.0 + 0.02;
    let dust_value = s.market.dust_debt_usd as u128 * WAD;
    let mut pool_started = false;

    // Second by second; a minute at a time while a stock's market is closed and no keeper's
    // transaction is on its way (nothing moves then but the clock).
    const CLOSED_STRIDE: i64 = 60;
    let mut t = s.start;
    let mut stride = 1;
    while t < s.end {
        // The feed publishes the per-share price; a token is worth it times the shares it
        // stood for when the price was published.
        let asset_state = feed.advance(s.history, t, stride);
        lab.post(ASSET, &asset_state, s.oracle.conf_bps);
        lab.post(STABLE, &stable_state(t, s.oracle.calm_lag_secs), s.oracle.conf_bps);
        p = asset_state.price * s.multiplier_at(asset_state.publish_time);
        if (t - s.start) % 60 == 0 {
            out.prices.push((t, s.token_market_price(t), p));
        }

        // The protocol's flows of the past hour, recorded as the handlers record them.
        if (t - s.start) % 3600 == 0 && t > s.start {
            let activity = activity_at(t);
            for i in [ASSET, STABLE] {
                let r = lab.reserve(i);
                let held = r.total_debt().unwrap_or(0) as f64
                    + (r.total_deposit_assets().unwrap_or(0) as f64
                        - if i == ASSET { asset_deep } else { stable_deep } as f64)
                        .max(0.0);
                let amount = held * s.turnover_bps as f64 / 10_000.0 / 24.0 * activity;
                r.record_volume(t - 1, amount as u64);
            }
            let usd =
                [lab.usd(ASSET, lab.pool_balance(ASSET), p), lab.usd(STABLE, lab.pool_balance(STABLE), 1.0)];
            out.pool_usd.push((t, usd));
        }

        // The window starts: every pool holds its target (it had filled before the event).
        if t >= s.crash && !pool_started {
            pool_started = true;
            for i in [ASSET, STABLE] {
                let reserve = &lab.reserves[&lab.keys[i]];
                let status = PoolStatus::new(reserve, 0, t);
                lab.pools[i] = status.target.saturating_sub(reserve.insurance_booked);
                out.pool_start[i] = status.target;
                out.target_start[i] = status.target;
                out.volume_start[i] = status.volume_24h;
            }
            // Fees are counted from here, with the pool (warm-up fees filled it before).
            out.fees_in = [0; 2];
            for b in borrowers.iter().filter(|b| !b.closed) {
                if let Some(view) = lab.view(&b.position, t) {
                    for s in &view.slots {
                        let price = s.price.price as f64 * 1e-8;
                        let i = if s.reserve == asset_key { ASSET } else { STABLE };
                        out.collateral_usd += lab.usd(i, s.deposit_amount, price);
                        out.debt_usd += lab.usd(i, s.debt_amount, price);
                    }
                }
            }
        }

        // Positions opening now. A borrow the program refuses (the EMA breaker pauses new
        // borrowing while the price runs away from its average) is tried again ten minutes
        // later, until the window opens.
        while next_plan < plans.len() && plans[next_plan].0 <= t {
            let (_, short, leverage, usd) = plans[next_plan];
            next_plan += 1;
            match open(&mut lab, t, short, leverage, usd, p) {
                Some(b) => {
                    borrowers.push(b);
                    out.opened += 1;
                }
                None if t + 600 < s.crash => {
                    let later = (t + 600, short, leverage, usd);
                    let at = next_plan + plans[next_plan..].partition_point(|q| q.0 <= later.0);
                    plans.insert(at, later);
                }
                None => out.refused_at_open += 1,
            }
        }

        // The keeper: positions near their trigger are screened with this second's prices, and
        // those near the boundary asked of the program.
        let mut factors: Option<Option<Factors>> = None;
        for (idx, b) in borrowers.iter_mut().enumerate() {
            if b.closed || !(near(b, p, margin) || b.due.is_some()) {
                continue;
            }
            match b.due {
                // The keeper's transaction is on its way: the program decides when it lands.
                Some(due) if t < due => continue,
                Some(_) => {}
                None => {
                    let f = *factors.get_or_insert_with(|| lab.factors(t));
                    if f.is_some_and(|f| !may_be_liquidatable(b, &f)) {
                        continue;
                    }
                }
            }
            let Some(view) = lab.view(&b.position, t) else { continue };
            b.remember(&view, &lab.keys);
            if !view.health.is_liquidatable() {
                b.due = None;
                b.trigger = trigger_price(&view, &asset_key, p);
                continue;
            }
            let due = *b.due.get_or_insert(t + s.keeper_latency_secs);
            if t < due {
                continue;
            }
            b.due = None;
            act(&mut lab, s, &mut out, idx, b, t, p, dust_value);
            if let Some(view) = lab.view(&b.position, t) {
                b.remember(&view, &lab.keys);
            }
        }
        let waiting = borrowers.iter().any(|b| b.due.is_some());
        stride =
            if !waiting && t % CLOSED_STRIDE == 0 && OracleFeed::market_closed(s.history, t, CLOSED_STRIDE) {
                CLOSED_STRIDE
            } else {
                1
            };
        t += stride;
    }
    out.end_price = p;
    out.pool_end = [lab.pool_balance(ASSET), lab.pool_balance(STABLE)];
    let mut worst: HashMap<usize, f64> = HashMap::new();
    for d in &out.bad_debt {
        *worst.entry(d.position).or_default() += d.usd;
    }
    out.worst = worst.into_iter().max_by(|a, b| a.1.total_cmp(&b.1));
    out
}

/// Opens one position at `t`: `usd` of collateral at `leverage`, shrunk until the program's
/// initial check passes (at most 20 tries); `None` if it never does.
fn open(lab: &mut LabMarket, t: i64, short: bool, leverage: f64, usd: f64, p: f64) -> Option<Borrower> {
    let (coll, debt_i, debt_price, coll_price) =
        if short { (STABLE, ASSET, p, 1.0) } else { (ASSET, STABLE, 1.0, p) };
    lab.refresh_mints(t);
    let mut position: Position = bytemuck::Zeroable::zeroed();
    position.market = Pubkey::new_from_array([200; 32]);
    position.owner = Pubkey::new_unique();
    let deposit = lab.tokens(coll, usd, coll_price);
    let mut debt_usd = usd * (1.0 - 1.0 / leverage);
    for _ in 0..20 {
        let mut trial = position;
        let reserves_before = lab.reserves.clone();
        lab.deposit(&mut trial, coll, deposit, t)?;
        let borrowed = lab.tokens(debt_i, debt_usd, debt_price);
        if borrowed > 0
            && lab.borrow(&mut trial, debt_i, borrowed, t).is_some()
            && lab.passes_initial(&trial, t)
        {
            let view = lab.view(&trial, t)?;
            let trigger = trigger_price(&view, &lab.keys[ASSET], p);
            let mut b = Borrower {
                position: trial,
                short,
                trigger,
                due: None,
                closed: false,
                deposits: [0; 2],
                debts: [0; 2],
            };
            b.remember(&view, &lab.keys);
            return Some(b);
        }
        lab.reserves = reserves_before;
        debt_usd *= 0.97;
    }
    None
}

/// The keeper's transaction for borrower `idx` at `t`: up to four liquidations chained (each
/// planned by the program on what the one before left), then the write-off when only dust is
/// left.
#[allow(clippy::too_many_arguments)]
fn act(
    lab: &mut LabMarket,
    s: &Scenario,
    out: &mut Outcome,
    idx: usize,
    b: &mut Borrower,
    t: i64,
    p: f64,
    dust_value: u128,
) {
    let market_p = s.token_market_price(t);
    for round in 0..4 {
        // The program re-reads both mints before it judges the position.
        lab.refresh_mints(t);
        let Some(view) = lab.view(&b.position, t) else { return };
        if !view.health.is_liquidatable() {
            if round == 0 {
                out.keeper_refused += 1;
            }
            b.trigger = trigger_price(&view, &lab.keys[ASSET], p);
            return;
        }
        if deposits_are_dust(&view.slots, dust_value).unwrap_or(false) {
            resolve(lab, out, idx, b, t, p);
            return;
        }
        let Some(choice) = best_liquidation(&lab.market, &view) else { return };
        let sample = s.sample_every > 0 && out.liquidations.len().is_multiple_of(s.sample_every);
        let before = sample.then(|| (lab.reserves.clone(), lab.oracles.clone(), b.position, lab.pools));
        let Some(record) = liquidate(lab, b, &choice, t, p, market_p) else { return };
        if let Some((reserves, oracles, position, pools)) = before {
            let seize_reserve = if choice.seize_reserve == lab.keys[ASSET] { ASSET } else { STABLE };
            out.samples.push(Sample {
                now: t,
                market: lab.market.clone(),
                reserves: [reserves[&lab.keys[ASSET]], reserves[&lab.keys[STABLE]]],
                reserve_keys: lab.keys,
                oracles: [oracles[&lab.keys[ASSET]].clone(), oracles[&lab.keys[STABLE]].clone()],
                position,
                pools,
                record: LiquidationRecord { position: idx, ..record },
                seize_reserve,
                seize_reserve_after: lab.reserves[&choice.seize_reserve],
            });
        }
        out.liquidations.push(LiquidationRecord { position: idx, ..record });
        let seize = if choice.seize_reserve == lab.keys[ASSET] { ASSET } else { STABLE };
        out.fees_in[seize] += record.fee_to_pool;
    }
    // Still liquidatable after four: the keeper sends another after its latency.
    if lab.view(&b.position, t).is_some_and(|v| v.health.is_liquidatable()) {
        b.due = Some(t + s.keeper_latency_secs.max(1));
    }
}

/// Books `choice` as `liquidate` does: the debt shrinks, the deposit shrinks (whole shares), the
/// fee splits between the seize reserve's pool (up to its target) and the fee receiver, and stays
/// in the reserve, booked to each.
fn liquidate(
    lab: &mut LabMarket,
    b: &mut Borrower,
    choice: &ballast_sdk::health::LiquidationChoice,
    t: i64,
    p: f64,
    market_p: f64,
) -> Option<LiquidationRecord> {
    let plan = choice.plan;
    let view = lab.view(&b.position, t)?;
    let seize_slot = view.slots.iter().find(|s| s.reserve == choice.seize_reserve)?;
    {
        let r = lab.reserves.get_mut(&choice.repay_reserve)?;
        r.accrue(t).ok()?;
        let i = b.position.find_slot(&choice.repay_reserve)?;
        let held = b.position.slots[i].borrow_shares;
        let (_, burned) = r.repay_debt(held, plan.repay, t).ok()?;
        b.position.slots[i].borrow_shares = held - burned;
        b.position.release_slot_if_empty(i);
    }
    let seize_i = if choice.seize_reserve == lab.keys[ASSET] { ASSET } else { STABLE };
    let vault_pool = lab.pools[seize_i];
    let (to_pool, to_receiver) = {
        let r = lab.reserves.get_mut(&choice.seize_reserve)?;
        r.accrue(t).ok()?;
        let j = b.position.find_slot(&choice.seize_reserve)?;
        let held = b.position.slots[j].deposit_shares;
        let burned = if plan.seize >= seize_slot.deposit_amount {
            held
        } else {
            r.deposit_shares_for(plan.seize).ok()?.min(held)
        };
        b.position.slots[j].deposit_shares = held - burned;
        b.position.release_slot_if_empty(j);
        r.pay_out_deposit(burned, plan.seize, t).ok()?;
        let pool_balance = r.pool_balance(vault_pool).ok()?;
        let target = PoolStatus::new(r, pool_balance, t).target;
        let (to_pool, to_receiver) = split_to_pool(plan.fee, pool_balance, target);
        r.book_liquidation_fee(to_pool, to_receiver).ok()?;
        (to_pool, to_receiver)
    };
    let repay_i = if choice.repay_reserve == lab.keys[ASSET] { ASSET } else { STABLE };
    let repay_price = if repay_i == ASSET { p } else { 1.0 };
    Some(LiquidationRecord {
        time: t,
        position: 0,
        repay_reserve: repay_i,
        repaid: plan.repay,
        seized: plan.seize,
        to_keeper: plan.to_keeper,
        fee_to_pool: to_pool,
        fee_to_receiver: to_receiver,
        bonus_bps: plan.bonus_bps,
        repaid_usd: lab.usd(repay_i, plan.repay, repay_price),
        market_price: market_p,
    })
}

/// Writes off what the position owes, as `resolve_bad_debt` does: its dust deposits are
/// forfeited to their reserves, each debt is covered by its reserve's pool first and the rest
/// is socialized.
fn resolve(lab: &mut LabMarket, out: &mut Outcome, idx: usize, b: &mut Borrower, t: i64, p: f64) {
    for i in [ASSET, STABLE] {
        let key = lab.keys[i];
        let Some(j) = b.position.find_slot(&key) else { continue };
        let shares = b.position.slots[j].deposit_shares;
        if shares > 0 {
            let r = lab.reserve(i);
            let _ = r.accrue(t);
            let _ = r.burn_deposit_shares(shares);
            b.position.slots[j].deposit_shares = 0;
            b.position.release_slot_if_empty(j);
        }
    }
    for i in [ASSET, STABLE] {
        let key = lab.keys[i];
        let Some(j) = b.position.find_slot(&key) else { continue };
        let held = b.position.slots[j].borrow_shares;
        if held == 0 {
            continue;
        }
        let pool = lab.pool_balance(i);
        let r = lab.reserve(i);
        let _ = r.accrue(t);
        let Ok((debt, from_pool, socialized)) = r.write_off_debt(held, pool) else { continue };
        let from_vault = r.draw_pool(from_pool);
        b.position.slots[j].borrow_shares = 0;
        b.position.release_slot_if_empty(j);
        lab.pools[i] -= from_vault;
        let price = if i == ASSET { p } else { 1.0 };
        out.bad_debt.push(BadDebtRecord {
            time: t,
            position: idx,
            reserve: i,
            debt,
            from_pool,
            socialized,
            usd: lab.usd(i, debt, price),
            from_pool_usd: lab.usd(i, from_pool, price),
        });
    }
    b.closed = true;
}
