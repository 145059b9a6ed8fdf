//! A position's health from its reserves and oracles, passed as remaining accounts.
//!
//! The remaining accounts are `(reserve, oracle)` pairs, one per occupied slot of the position,
//! in slot order: nothing missing, nothing extra, nothing duplicated (slots hold distinct
//! reserves, and each pair must match its slot). The maths is `ballast_risk`'s.
use std::mem::MaybeUninit;

use anchor_lang::prelude::*;
use anchor_lang::Discriminator;
use ballast_risk::fixed::{Rounding, WAD};
use ballast_risk::health::{init_weight, maint_weight, Health};
use ballast_risk::interest::debt_for_shares;
use ballast_risk::shares::amount_for_shares;
use ballast_risk::value::usd_value;

use crate::constants::{MAX_POSITION_SLOTS, STRESS_GROUPS};
use crate::error::BallastError;
use crate::events::EmaDivergenceWarning;
use crate::oracle::{self, EmaLevel, OraclePrice};
use crate::state::{Position, PositionSlot, Reserve, RiskConfig};

/// Where a slot's price came from (SPEC §2, docs/decisions.md "A slot without a price").
#[derive(Debug, Clone, Copy)]
pub enum Pricing {
    /// The oracle's price passed every check.
    Fresh,
    /// The checks refused it (the error says why); valued for maintenance at the pinned
    /// account's last price (`oracle::last_price_fallback`), for nothing in initial health.
    Fallback(BallastError),
    /// A deposit whose account holds a last price that may not be used (past the stale horizon,
    /// or the reserve marked unusable): it counts for nothing, and it is not dust either (its
    /// value is unknown, not zero: `deposits_are_dust` waits for a fresh price).
    Unpriced(BallastError),
    /// A deposit whose pinned account holds no price at all: it does not decode, does not exist
    /// yet, or its last price is not positive. (A halted or unknown-status legacy account still
    /// holds its last trading price: that is a `Fallback`.) It counts for nothing, and like
    /// `Unpriced` it is never dust.
    NoPrice(BallastError),
}

/// One slot as priced for the health check.
#[derive(Debug, Clone, Copy)]
pub struct PricedSlot {
    pub reserve: Pubkey,
    pub price: OraclePrice,
    pub pricing: Pricing,
    /// Tokens the slot's deposit shares are worth (rounded down).
    pub deposit_amount: u64,
    /// Tokens the slot owes (rounded up).
    pub debt_amount: u64,
    /// The per-token price (mantissa at `price.expo`) a debt counts at in initial health:
    /// `price + band`, but for a price published in a multiplier change's doubt at the *larger*
    /// multiplier, while `price` (maintenance) takes the smaller one (SPEC §6).
    pub init_debt_price: u64,
    /// Why a debt here may not stand behind any new risk, whatever its price: the mint's cached
    /// multiplier schedule is too old to know the multiplier (`MintCacheStale`).
    pub init_debt_refusal: Option<BallastError>,
    pub decimals: u8,
    pub risk: RiskConfig,
    pub stress_addon_bps: u16,
}

impl PricedSlot {
    /// Fails with the oracle's refusal unless the price is fresh: a liquidation repays and
    /// seizes, and a borrower takes on debt, only at a price that passed every check.
    pub fn require_fresh(&self) -> std::result::Result<(), BallastError> {
        match self.pricing {
            Pricing::Fresh => Ok(()),
            Pricing::Fallback(e) | Pricing::Unpriced(e) | Pricing::NoPrice(e) => Err(e),
        }
    }

    /// This slot's debt as the side a liquidation repays.
    pub fn repay_side(&self) -> ballast_risk::liquidation::RepaySide {
        ballast_risk::liquidation::RepaySide {
            debt: self.debt_amount,
            decimals: self.decimals,
            price: self.price.price,
            expo: self.price.expo,
            borrow_factor_bps: self.risk.borrow_factor_bps as u32,
        }
    }

    /// This slot's deposit as the side a liquidation seizes.
    pub fn seize_side(&self) -> ballast_risk::liquidation::SeizeSide {
        ballast_risk::liquidation::SeizeSide {
            deposit: self.deposit_amount,
            decimals: self.decimals,
            price: self.price.price,
            expo: self.price.expo,
            maint_weight: self.maint_weight(),
        }
    }

    /// The maintenance weight of this slot's deposit: zero unless the reserve counts as
    /// collateral; at the EMA "force" level the haircut carries the stress add-on.
    pub fn maint_weight(&self) -> u128 {
        if self.risk.collateral_enabled == 0 {
            return 0;
        }
        let stress = if self.price.ema_level == EmaLevel::Force { self.stress_addon_bps as u32 } else { 0 };
        maint_weight(self.risk.maint_haircut_bps as u32 + stress)
    }
}

/// Runs `f` on the reserve held by `account`, after checking owner, size and discriminator.
/// Reads in place (account data is 8-byte aligned in the runtime); copies only if it is not.
pub fn with_reserve<R>(account: &AccountInfo, f: impl FnOnce(&Reserve) -> Result<R>) -> Result<R> {
    if !crate::keys::same_key(account.owner, &crate::ID) {
        return Err(error!(BallastError::RemainingAccountsMismatch).with_pubkeys((*account.owner, crate::ID)));
    }
    let data = account.try_borrow_data()?;
    // The discriminator as one word: a slice comparison is a `memcmp` call on SBF.
    let disc: [u8; 8] = Reserve::DISCRIMINATOR.try_into().expect("Anchor discriminators are 8 bytes");
    if data.len() != 8 + core::mem::size_of::<Reserve>()
        || u64::from_le_bytes(data[..8].try_into().expect("8 bytes")) != u64::from_le_bytes(disc)
    {
        return err!(BallastError::RemainingAccountsMismatch);
    }
    let body = &data[8..];
    match bytemuck::try_from_bytes::<Reserve>(body) {
        Ok(reserve) => f(reserve),
        Err(_) => f(&bytemuck::pod_read_unaligned(body)),
    }
}

/// Prices every occupied slot of `position` from `remaining` at `now` (maintenance rules: a
/// refused price falls back, see [`price_slot_from_oracle`]).
pub fn price_slots(position: &Position, remaining: &[AccountInfo], now: i64) -> Result<Vec<PricedSlot>> {
    // One pass over the slots: each occupied slot takes the next pair, and none may be missing
    // or left over (counting the occupied slots first was a second pass over all 16).
    let mismatch = || {
        let expected = 2 * position.occupied_slots();
        crate::diag!(
            "expected {} remaining accounts (reserve, oracle per occupied slot), got {}",
            expected,
            remaining.len()
        );
        err!(BallastError::RemainingAccountsMismatch)
    };
    if !remaining.len().is_multiple_of(2) {
        return mismatch();
    }
    let mut pairs = remaining.chunks_exact(2);
    // At most one priced slot per pair and per slot: the list never grows past its capacity.
    let mut priced: Vec<PricedSlot> = Vec::with_capacity((remaining.len() / 2).min(MAX_POSITION_SLOTS));
    for slot in position.slots.iter().filter(|s| !s.is_free()) {
        let Some(pair) = pairs.next() else { return mismatch() };
        ballast_risk::cu_phase!("price slot");
        let (reserve_info, oracle_info) = (&pair[0], &pair[1]);
        if !crate::keys::same_key(reserve_info.key, &slot.reserve) {
            crate::diag!("remaining account {} is not slot reserve {}", reserve_info.key, slot.reserve);
            return err!(BallastError::RemainingAccountsMismatch);
        }
        let data = oracle_info.try_borrow_data()?;
        // Priced straight into the list: the slot is ~150 bytes, and each copy between the
        // layers cost ~40 compute units per slot.
        let out = &mut priced.spare_capacity_mut()[0];
        with_reserve(reserve_info, |reserve| {
            price_slot_from_oracle_into(out, slot, reserve, oracle_info.key, oracle_info.owner, &data, now)
        })?;
        // SAFETY: `price_slot_from_oracle_into` wrote the first spare element, within capacity.
        unsafe { priced.set_len(priced.len() + 1) };
        let s = &priced[priced.len() - 1];
        if s.price.ema_level == EmaLevel::Warn {
            emit!(EmaDivergenceWarning { reserve: slot.reserve, divergence_bps: s.price.ema_divergence_bps });
        }
    }
    if pairs.next().is_some() {
        return mismatch();
    }
    Ok(priced)
}

/// One slot priced from its reserve's oracle account (key, owner, bytes) at `now`: the one
/// pricing path of the program and its clients (SDK, CLI, keeper).
///
/// A slot never blocks the rest of its position for want of a price. When the oracle's checks
/// refuse the price, a debt is valued at the pinned account's last price and a deposit at that
/// price decaying with its age (`oracle::last_price_fallback`), and neither counts for initial
/// health; a deposit with no usable price at all counts for nothing. A deposit in a reserve
/// that is not collateral is not priced unless the account reads cleanly. Only a wrong account
/// (not the reserve's pinned one) or a debt with no price at all is an error.
pub fn price_slot_from_oracle(
    slot: &PositionSlot,
    reserve: &Reserve,
    key: &Pubkey,
    owner: &Pubkey,
    data: &[u8],
    now: i64,
) -> Result<PricedSlot> {
    let mut out = MaybeUninit::uninit();
    price_slot_from_oracle_into(&mut out, slot, reserve, key, owner, data, now)?;
    // SAFETY: written when the pricing succeeds.
    Ok(unsafe { out.assume_init() })
}

/// [`price_slot_from_oracle`] written to `out` (which is set whenever this returns `Ok`).
fn price_slot_from_oracle_into(
    out: &mut MaybeUninit<PricedSlot>,
    slot: &PositionSlot,
    reserve: &Reserve,
    key: &Pubkey,
    owner: &Pubkey,
    data: &[u8],
    now: i64,
) -> Result<()> {
    // The stored rules unless an equity session is closed (no copy in the common case).
    let closed;
    let config = if reserve.session.enabled == 0 {
        &reserve.oracle
    } else {
        closed = reserve.effective_oracle(now);
        &closed
    };
    ballast_risk::cu_phase!("price slot: oracle");
    let raw = oracle::decode_data(config, key, owner, data);
    // Any other account than the pinned one is the caller's choice: an error, never a fallback.
    if let Err(BallastError::OracleWrongAccount) = raw {
        crate::diag!(
            "reserve {}: oracle {} is not its price account {}",
            slot.reserve,
            key,
            config.price_account
        );
        return err!(BallastError::OracleWrongAccount);
    }
    let marked = reserve.price_unusable != 0;
    let checked = raw.and_then(|raw| {
        if marked {
            return Err(BallastError::PriceMarkedUnusable);
        }
        let price = oracle::check(&slot.reserve, config, &raw, now)?;
        reserve.check_closed_session_price(&price, now)?;
        Ok(price)
    });
    let is_debt = slot.borrow_shares > 0;
    let has_last_price =
        raw.is_ok_and(|r| r.price > 0 && (oracle::MIN_EXPO..=oracle::MAX_EXPO).contains(&r.expo));
    let unpriced = |refusal| {
        let pricing = if has_last_price { Pricing::Unpriced(refusal) } else { Pricing::NoPrice(refusal) };
        (OraclePrice::NONE, pricing)
    };
    let (price, pricing) = match checked {
        Ok(price) => (price, Pricing::Fresh),
        // A deposit of a reserve marked unusable counts nothing at all.
        Err(refusal) if marked && !is_debt => unpriced(refusal),
        Err(refusal) => {
            match raw.ok().and_then(|raw| oracle::last_price_fallback(config, &raw, now, is_debt)) {
                Some(price) => (price, Pricing::Fallback(refusal)),
                None if is_debt => return Err(refusal.into()),
                None => unpriced(refusal),
            }
        }
    };
    price_slot(out, slot, reserve, price, pricing, now)
}

/// One slot at `price` (written to `out`): what its deposit shares are worth (down) and what it
/// owes (up), with the reserve's interest accrued to `now` in the view (nothing written).
fn price_slot(
    out: &mut MaybeUninit<PricedSlot>,
    slot: &PositionSlot,
    reserve: &Reserve,
    price: OraclePrice,
    pricing: Pricing,
    now: i64,
) -> Result<()> {
    ballast_risk::cu_phase!("price slot: asset rules");
    // Plain assets (the common case) skip the tokenized-stock rules in one test.
    let (price, mut risk, init_debt_price, init_debt_refusal) =
        if reserve.mint_dynamic == 0 && reserve.issuer_haircut_bps == 0 && reserve.session.enabled == 0 {
            (price, reserve.risk, price.high(), None)
        } else {
            let fresh = matches!(pricing, Pricing::Fresh);
            let rules = stock_rules(reserve, price, now, slot.deposit_shares > 0, fresh)?;
            (rules.price, rules.risk, rules.init_debt_price, rules.init_debt_refusal)
        };
    if let Pricing::Unpriced(_) | Pricing::NoPrice(_) = pricing {
        risk.collateral_enabled = 0;
    }
    ballast_risk::cu_phase!("price slot: amounts");
    let accrued = reserve.accrued(now)?;
    // A slot either lends or owes: the other side's share maths is skipped, not computed as 0.
    let deposit_amount = if slot.deposit_shares == 0 {
        0
    } else {
        let total_assets = reserve.deposit_assets_at(accrued.borrow_index, accrued.pending_fees)?;
        amount_for_shares(slot.deposit_shares, reserve.total_deposit_shares, total_assets)
            .map_err(BallastError::from)?
    };
    let debt_amount = if slot.borrow_shares == 0 {
        0
    } else {
        debt_for_shares(slot.borrow_shares, accrued.borrow_index, Rounding::Up).map_err(BallastError::from)?
    };
    out.write(PricedSlot {
        reserve: slot.reserve,
        price,
        pricing,
        deposit_amount,
        debt_amount,
        init_debt_price,
        init_debt_refusal,
        decimals: reserve.decimals,
        risk,
        stress_addon_bps: reserve.oracle.stress_addon_bps,
    });
    Ok(())
}

/// The aggregate figures of SPEC §3 for priced slots.
///
/// Collateral counts only where the reserve enables it. At the EMA "pause" level a collateral
/// asset counts zero for initial health (nothing may rely on it); at "force" its maintenance
/// haircut carries the stress add-on.
pub fn health(slots: &[PricedSlot]) -> Result<Health> {
    health_with_shocks(slots, &[0; STRESS_GROUPS])
}

/// `health`, with the joint stress test of SPEC §6: every collateral also valued after its
/// stress group's move in `shocks` (bps), all groups at once.
pub fn health_with_shocks(slots: &[PricedSlot], shocks: &[u16; STRESS_GROUPS]) -> Result<Health> {
    let mut h = Health::default();
    for s in slots {
        if s.deposit_amount > 0 && s.risk.collateral_enabled != 0 {
            let value = collateral_value(s)?;
            let (value_low, init_w, shock) = initial_collateral_inputs(s, shocks)?;
            h.add_collateral_shocked(value, value_low, init_w, s.maint_weight(), shock)
                .map_err(BallastError::from)?;
        }
        if s.debt_amount > 0 {
            let value = debt_value(s)?;
            h.add_debt(value, debt_value_high(s)?, s.risk.borrow_factor_bps as u32)
                .map_err(BallastError::from)?;
        }
    }
    Ok(h)
}

/// A collateral slot's value at the price, rounded down (the protocol's side).
#[inline(always)]
fn collateral_value(s: &PricedSlot) -> Result<u128> {
    let p = &s.price;
    Ok(usd_value(s.deposit_amount, s.decimals, p.price, p.expo, Rounding::Down)
        .map_err(BallastError::from)?)
}

/// A debt slot's value at the price, rounded up (the protocol's side).
#[inline(always)]
fn debt_value(s: &PricedSlot) -> Result<u128> {
    let p = &s.price;
    Ok(usd_value(s.debt_amount, s.decimals, p.price, p.expo, Rounding::Up).map_err(BallastError::from)?)
}

/// The maintenance figures of [`health`] alone (`maint_collateral`, `maint_debt`,
/// `collateral_value`, `debt_value`; the initial ones stay zero): all that `liquidate` and its
/// planner read, without the initial values, weights and band nobody reads there.
pub fn maintenance_health(slots: &[PricedSlot]) -> Result<Health> {
    maintenance_health_and_pair(slots, None, None).map(|(health, _)| health)
}

/// [`maintenance_health`], and the terms it added for a liquidation's pair: the debt term of
/// `slots[debt_at]` and the collateral term of `slots[collateral_at]` (zero where it added none),
/// which are `ballast_risk::liquidation::pair_terms` of the two sides: the planner need not
/// value the two slots again.
pub fn maintenance_health_and_pair(
    slots: &[PricedSlot],
    debt_at: Option<usize>,
    collateral_at: Option<usize>,
) -> Result<(Health, Health)> {
    let (mut h, mut pair) = (Health::default(), Health::default());
    for (i, s) in slots.iter().enumerate() {
        if s.deposit_amount > 0 && s.risk.collateral_enabled != 0 {
            let term =
                h.add_maint_collateral(collateral_value(s)?, s.maint_weight()).map_err(BallastError::from)?;
            if collateral_at == Some(i) {
                pair.maint_collateral = term;
            }
        }
        if s.debt_amount > 0 {
            let term = h
                .add_maint_debt(debt_value(s)?, s.risk.borrow_factor_bps as u32)
                .map_err(BallastError::from)?;
            if debt_at == Some(i) {
                pair.maint_debt = term;
            }
        }
    }
    Ok((h, pair))
}

/// The initial figures of [`health_with_shocks`] alone (`init_collateral`,
/// `stressed_init_collateral`, `init_debt`; the rest stay zero): what a borrow or a withdrawal is
/// checked against, without the maintenance values nobody reads there.
pub fn initial_health_with_shocks(slots: &[PricedSlot], shocks: &[u16; STRESS_GROUPS]) -> Result<Health> {
    let mut h = Health::default();
    for s in slots {
        if s.deposit_amount > 0 && s.risk.collateral_enabled != 0 {
            let (value_low, init_w, shock) = initial_collateral_inputs(s, shocks)?;
            h.add_initial_collateral(value_low, init_w, shock).map_err(BallastError::from)?;
        }
        if s.debt_amount > 0 {
            h.add_initial_debt(debt_value_high(s)?, s.risk.borrow_factor_bps as u32)
                .map_err(BallastError::from)?;
        }
    }
    Ok(h)
}

/// What the initial figures take of a collateral slot: its value at `price − band` (rounded
/// down; nothing from the EMA "pause" level up: nothing may rely on it), its initial weight, and
/// its stress group's shock. Inlined: the crate is built for size, and these run once per slot.
#[inline(always)]
fn initial_collateral_inputs(s: &PricedSlot, shocks: &[u16; STRESS_GROUPS]) -> Result<(u128, u128, u32)> {
    let p = &s.price;
    let value_low = if p.ema_level >= EmaLevel::Pause {
        0
    } else {
        usd_value(s.deposit_amount, s.decimals, p.low(), p.expo, Rounding::Down)
            .map_err(BallastError::from)?
    };
    let init_w = init_weight(s.risk.init_haircut_bps as u32, s.risk.max_leverage_bps)
        .map_err(|_| BallastError::ParameterOutOfBounds)?;
    let shock = shocks[s.risk.stress_group as usize % STRESS_GROUPS] as u32;
    Ok((value_low, init_w, shock))
}

/// A debt slot's value at `price + band`, rounded up (the initial figures' debt side).
#[inline(always)]
fn debt_value_high(s: &PricedSlot) -> Result<u128> {
    Ok(usd_value(s.debt_amount, s.decimals, s.init_debt_price, s.price.expo, Rounding::Up)
        .map_err(BallastError::from)?)
}

/// Whether the deposits left in a position are dust that may not keep its debt booked (SPEC §5):
/// worth, unweighted at the slots' prices (rounded up), less than `dust_value` and less than
/// its debts (rounded down). Only a fresh price says what a deposit is worth: a deposit without
/// one (stale, halted, marked unusable, an account that does not decode or does not exist yet)
/// is never dust, since its value is unknown, not zero, and forfeiting it could take a large
/// deposit for nothing; the write-off waits for a fresh price. Keepers and `resolve_bad_debt`
/// decide with this same function.
pub fn deposits_are_dust(slots: &[PricedSlot], dust_value: u128) -> Result<bool> {
    let (mut deposits, mut debts) = (0u128, 0u128);
    for s in slots {
        if s.deposit_amount > 0 {
            if let Err(e) = s.require_fresh() {
                crate::diag!("reserve {}: deposit without a fresh price ({:?}) is not dust", s.reserve, e);
                return Ok(false);
            }
        }
        let p = &s.price;
        let deposit = usd_value(s.deposit_amount, s.decimals, p.price, p.expo, Rounding::Up)
            .map_err(BallastError::from)?;
        let debt = usd_value(s.debt_amount, s.decimals, p.price, p.expo, Rounding::Down)
            .map_err(BallastError::from)?;
        deposits = deposits.saturating_add(deposit);
        debts = debts.saturating_add(debt);
    }
    Ok(deposits < dust_value && deposits < debts)
}

/// The price of `slot`'s asset at which the position (figures `h`) becomes liquidatable, the
/// other assets unchanged; `None` when no fall of this asset alone gets there.
pub fn liquidation_price(h: &Health, slot: &PricedSlot) -> Option<u64> {
    // The asset's own weighted contribution at the plain price.
    let alone = health(&[PricedSlot { debt_amount: 0, ..*slot }]).ok()?;
    h.liquidation_price(slot.price.price, alone.maint_collateral)
}

/// The parameters a liquidation of (`repay`, `seize`) runs under: the seized asset's bonus and
/// fee, the repaid asset's close factor, the market's target health and dust threshold.
pub fn liquidation_params(
    market: &crate::state::Market,
    repay: &PricedSlot,
    seize: &PricedSlot,
) -> ballast_risk::liquidation::LiquidationParams {
    market_liquidation_params(market.liquidation_target_health_bps, market.dust_debt_usd, repay, seize)
}

/// [`liquidation_params`] from the market's two figures (the program reads just those).
pub fn market_liquidation_params(
    target_health_bps: u16,
    dust_debt_usd: u32,
    repay: &PricedSlot,
    seize: &PricedSlot,
) -> ballast_risk::liquidation::LiquidationParams {
    ballast_risk::liquidation::LiquidationParams {
        bonus_min_bps: seize.risk.liquidation_bonus_min_bps as u32,
        bonus_max_bps: seize.risk.liquidation_bonus_max_bps as u32,
        fee_bps: seize.risk.liquidation_fee_bps as u32,
        close_factor_bps: repay.risk.close_factor_bps as u32,
        target_health_bps: target_health_bps as u32,
        dust_debt_value: dust_debt_usd as u128 * ballast_risk::fixed::WAD,
    }
}

/// What the tokenized-stock rules make of one slot's price and risk parameters.
struct StockRules {
    price: OraclePrice,
    risk: RiskConfig,
    init_debt_price: u64,
    init_debt_refusal: Option<BallastError>,
}

/// SPEC §6 for one reserve: the per-token price of a ScaledUiAmount mint (at the multiplier in
/// force when the price was published), the issuer haircut, a paused mint counting nothing for
/// initial health, an equity outside its session being reduce-only with the gap haircut, and
/// multiplier changes. Around a change the feed and the multiplier may disagree by a factor of
/// the split (and an unannounced change may have come at any time since the mint was last
/// read): a price published in that doubt is valued for maintenance with the benefit of the
/// doubt (a deposit at the larger multiplier, a debt at the smaller: no false liquidation),
/// while a debt counts for initial health at the larger; and while `now` is in a change's
/// window the asset counts nothing as collateral for initial health (and cannot be borrowed).
/// A debt whose mint nobody has re-read for a minute backs no new risk: its multiplier may have
/// changed unseen. After a change the per-share EMA lags the per-share price for hours: the
/// breaker then compares the price with the EMA on either side of the change and never reaches
/// "force" (a split alone makes nobody liquidatable).
/// (`fresh`: the price passed every check; a fallback price keeps its "pause" level.)
fn stock_rules(
    reserve: &Reserve,
    price: OraclePrice,
    now: i64,
    holds_deposit: bool,
    fresh: bool,
) -> Result<StockRules> {
    let mut price = price;
    if let Some((before, after)) = reserve.multiplier_settling(now).filter(|_| fresh) {
        price.ema_level = settling_ema_level(&reserve.oracle, &price, before, after);
    }
    let (multiplier, init_debt_multiplier) = match reserve.multiplier_doubt(price.publish_time) {
        Some((_, high)) if holds_deposit => (high, high),
        Some((low, high)) => (low, high),
        None => {
            let m = reserve.multiplier_at(price.publish_time);
            (m, m)
        }
    };
    let scaled = |m: u128| if m == WAD { Ok(price) } else { price.per_token(m) };
    let per_token = scaled(multiplier)?;
    let init_debt_price = if init_debt_multiplier == multiplier {
        per_token.high()
    } else {
        scaled(init_debt_multiplier)?.high()
    };
    let mut risk = reserve.risk;
    if reserve.issuer_haircut_bps > 0 {
        let extra = reserve.issuer_haircut_bps;
        risk.init_haircut_bps = risk.init_haircut_bps.saturating_add(extra).min(10_000);
        risk.maint_haircut_bps = risk.maint_haircut_bps.saturating_add(extra).min(10_000);
    }
    // A cached pause flag or multiplier nobody has re-read for a while backs nothing new.
    let cache_stale = reserve.mint_cache_stale(now);
    if reserve.mint_paused != 0 || reserve.mint_impaired != 0 || cache_stale {
        risk.init_haircut_bps = 10_000;
    }
    if reserve.in_multiplier_change_window(now) {
        risk.init_haircut_bps = 10_000;
    }
    if !reserve.session.is_open(now) {
        risk.init_haircut_bps = 10_000;
        risk.maint_haircut_bps =
            risk.maint_haircut_bps.saturating_add(reserve.session.gap_haircut_bps).min(10_000);
    }
    let init_debt_refusal = cache_stale.then_some(BallastError::MintCacheStale);
    Ok(StockRules { price: per_token, risk, init_debt_price, init_debt_refusal })
}

/// The EMA breaker's level while a multiplier change settles: the per-share price against the
/// EMA as published and against the EMA moved to the other side of the change (`× before /
/// after`), whichever is closer, and never "force". Right after a tenfold split the moved EMA
/// matches; once the EMA has caught up the plain one does; in between (a tenfold move half
/// absorbed) neither does and the asset sits at "pause": reduce-only, nobody liquidated for it.
fn settling_ema_level(
    config: &crate::state::OracleConfig,
    price: &OraclePrice,
    before: u128,
    after: u128,
) -> EmaLevel {
    let moved = ballast_risk::fixed::mul_div(price.ema_price as u128, before, after, Rounding::Down)
        .ok()
        .and_then(|v| u64::try_from(v).ok());
    let divergence = match moved {
        Some(moved) => {
            price.ema_divergence_bps.min(ballast_risk::health::ema_divergence_bps(price.price, moved))
        }
        None => price.ema_divergence_bps,
    };
    oracle::ema_level(config, divergence).min(EmaLevel::Pause)
}

/// Fails with `InsufficientCollateral` unless the position passes initial health.
/// (`shocks`: the market's stress shocks per group.) Returns the initial figures only
/// ([`initial_health_with_shocks`]).
pub fn require_initial_health(
    position: &Position,
    remaining: &[AccountInfo],
    now: i64,
    shocks: &[u16; STRESS_GROUPS],
) -> Result<Health> {
    let priced = price_slots(position, remaining, now)?;
    // A debt at a fallback price cannot back a new risk: its price must pass every check.
    for s in priced.iter().filter(|s| s.debt_amount > 0) {
        s.require_fresh()?;
        if let Some(refusal) = s.init_debt_refusal {
            crate::diag!(
                "reserve {}: the position owes it and its mint was not re-read: {:?}",
                s.reserve,
                refusal
            );
            return Err(refusal.into());
        }
    }
    ballast_risk::cu_phase!("health");
    let h = initial_health_with_shocks(&priced, shocks)?;
    if !h.passes_initial() {
        crate::diag!(
            "initial collateral {} (under the joint stress shock {}) < initial debt {} (USD, 1e18 = $1)",
            h.init_collateral,
            h.stressed_init_collateral,
            h.init_debt
        );
        return err!(BallastError::InsufficientCollateral);
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(deposit: u64, debt: u64, ema_level: EmaLevel, collateral: bool, group: u8) -> PricedSlot {
        PricedSlot {
            reserve: Pubkey::new_unique(),
            price: OraclePrice {
                price: 13_467_731_930,
                conf: 13_012_302,
                expo: -8,
                ema_price: 13_548_284_100,
                age_secs: 3,
                publish_time: 0,
                band: 40_000_000,
                ema_divergence_bps: 59,
                ema_level,
            },
            pricing: Pricing::Fresh,
            deposit_amount: deposit,
            debt_amount: debt,
            init_debt_price: 13_467_731_930 + 40_000_000,
            init_debt_refusal: None,
            decimals: 9,
            risk: RiskConfig {
                max_leverage_bps: 30_000,
                init_haircut_bps: 2_000,
                maint_haircut_bps: 1_000,
                borrow_factor_bps: 11_000,
                collateral_enabled: collateral as u8,
                stress_group: group,
                ..RiskConfig::default()
            },
            stress_addon_bps: 500,
        }
    }

    /// At every EMA level: a lent collateral slot (in three stress groups), an owed slot and a
    /// lent slot that is not collateral.
    fn lent_and_owed_slots() -> Vec<PricedSlot> {
        let levels = [EmaLevel::Normal, EmaLevel::Warn, EmaLevel::Pause, EmaLevel::Force];
        let mut slots = Vec::new();
        for (i, level) in levels.into_iter().enumerate() {
            let i = i as u64;
            slots.push(slot(2_500_000_000 + i * 7_777_777, 0, level, true, (i % 3) as u8));
            slots.push(slot(0, 400_000_000 + i * 3, level, true, 0));
            slots.push(slot(9_000_000_000, 0, level, false, 1));
        }
        slots
    }

    /// The pair terms handed to the planner are what it would compute itself from the two
    /// sides (`pair_terms`), for every debt slot against every lent slot, at every EMA level,
    /// collateral or not; and the aggregate is `maintenance_health`'s.
    #[test]
    fn the_pair_terms_are_the_planners_own() {
        let slots = lent_and_owed_slots();
        let alone = maintenance_health(&slots).unwrap();
        for d in (0..slots.len()).filter(|d| slots[*d].debt_amount > 0) {
            for c in (0..slots.len()).filter(|c| slots[*c].deposit_amount > 0) {
                let (health, pair) = maintenance_health_and_pair(&slots, Some(d), Some(c)).unwrap();
                assert_eq!(health, alone);
                let (repay, seize) = (slots[d].repay_side(), slots[c].seize_side());
                let own =
                    ballast_risk::liquidation::pair_terms(&repay, repay.debt, &seize, seize.deposit).unwrap();
                assert_eq!(pair, own, "debt slot {d}, lent slot {c}");
                assert!(pair.maint_debt > 0);
            }
        }
    }

    /// A borrow is checked with the initial figures alone: they must be exactly those of the full
    /// aggregate, at every EMA level, with and without a stress shock, for lent and owed slots.
    #[test]
    fn initial_and_maintenance_figures_alone_match_the_full_aggregate() {
        let slots = lent_and_owed_slots();
        for shocks in [[0u16; STRESS_GROUPS], [0, 1_500, 3_000, 0, 0, 0, 0, 0]] {
            for n in 0..=slots.len() {
                let full = health_with_shocks(&slots[..n], &shocks).unwrap();
                let initial = initial_health_with_shocks(&slots[..n], &shocks).unwrap();
                assert_eq!(initial.init_collateral, full.init_collateral);
                assert_eq!(initial.stressed_init_collateral, full.stressed_init_collateral);
                assert_eq!(initial.init_debt, full.init_debt);
                assert_eq!(initial.passes_initial(), full.passes_initial());
                // And the maintenance figures alone, what a liquidation reads.
                let maintenance = maintenance_health(&slots[..n]).unwrap();
                assert_eq!(maintenance.maint_collateral, full.maint_collateral);
                assert_eq!(maintenance.maint_debt, full.maint_debt);
                assert_eq!(maintenance.collateral_value, full.collateral_value);
                assert_eq!(maintenance.debt_value, full.debt_value);
            }
        }
    }
}
