//! Partial liquidation (SPEC §5): how much a keeper may repay, what it seizes, and the fee.
//!
//! All values are WAD-scaled USD at the plain oracle price (maintenance rules); weights are
//! scaled by `WEIGHT_ONE`, everything else is in basis points. The program, the keeper bot and
//! the CLI all plan liquidations with [`plan`], so a keeper can predict the outcome exactly.
//!
//! # What a liquidation does to the position
//!
//! Repaying value `r` (USD) of debt `j` (borrow factor `bf`) and seizing `r × (1 + b)` of
//! collateral `i` (maintenance weight `w`, bonus `b`) moves the maintenance figures `C`, `D` to
//!
//! ```text
//! D' = D − r × bf
//! C' = C − r × (1 + b) × w
//! ```
//!
//! * Surplus: `C' − D' = (C − D) + r × (bf − (1 + b) × w)`, which does not fall iff
//!   `(1 + b) × w ≤ bf`.
//! * Health factor `HF = C / D` (with `D' > 0`; `D' = 0` leaves no debt and no bound):
//!
//!   ```text
//!   C' / D' ≥ C / D  ⇔  C' × D ≥ C × D'
//!                    ⇔  C × D − r(1 + b)w × D ≥ C × D − r × bf × C
//!                    ⇔  (1 + b) × w × D ≤ bf × C
//!                    ⇔  (1 + b) × w ≤ HF × bf
//!   ```
//!
//!   A liquidatable position has `HF < 1`, so this bound is tighter than the surplus one.
//! * The health factor reaches the target `T` at
//!   `r = (T × D − C) / (T × bf − (1 + b) × w)`.
//!
//! # Which bound applies
//!
//! Every liquidation keeps the surplus (`(1 + b) × w ≤ bf`). A *solvent* position
//! (`collateral_value ≥ debt_value`, unweighted) also keeps its health factor
//! (`(1 + b) × w ≤ HF × bf`) and gets no bonus that would push it into bad debt; a pair for
//! which even `b = 0` lowers the factor is refused ([`LiquidationError::WorsensHealth`]). An
//! *insolvent* position keeps the ramp's bonus and its health factor may fall: its bad debt is
//! unavoidable, and keepers must still be paid to take its collateral so the rest can be resolved.
//!
//! # Some pair always works for a solvent position
//!
//! Repay the debt with the largest borrow factor `bf_max` and seize the collateral with the
//! smallest weight `w_min`. With `V = Σ value_i ≥ Σ debt_j = Dv`:
//!
//! ```text
//! C = Σ value_i × w_i ≥ w_min × V ≥ w_min × Dv        D = Σ debt_j × bf_j ≤ bf_max × Dv
//! HF × bf_max = C × bf_max / D ≥ C / Dv ≥ w_min
//! ```
//!
//! so `b = 0` meets the health-factor bound for that pair (with one debt, any debt will do). The
//! aggregates' own rounding (10^-18 USD per slot) can refuse it only when `V` exceeds `Dv` by
//! less than that; token rounding can still leave no whole-token amount (`TooSmall`) when the
//! bound's room is below one token unit of the repayment. Against another debt the pair can fail: $500 at bf 1 and $500 at bf 2 against $1000 at
//! weight 0.9 give HF 0.6, and `0.9 > 0.6 × 1` while `0.9 ≤ 0.6 × 2`.
//!
//! # The keeper is never paid less than it repays
//!
//! The fee comes out of the bonus only: `to_keeper` (valued at the seize price, rounded down) is
//! never below the repaid tokens' value (at the repay price, rounded up). See [`plan`].

use crate::fixed::{div, mul, mul_div, Rounding, BPS};
use crate::health::{debt_term, maint_collateral_term, product_at_least, Health, RATIO_ONE, WEIGHT_ONE};
use crate::value::{token_amount, usd_value};
use crate::MathError;

/// The most any asset may pay a keeper (SPEC §7: bonus ≤ 15 %).
pub const MAX_BONUS_BPS: u32 = 1_500;

/// The parameters one liquidation runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiquidationParams {
    /// Bonus range of the seized asset; the bonus grows with unhealthiness inside it.
    pub bonus_min_bps: u32,
    pub bonus_max_bps: u32,
    /// Share of the seized collateral kept by the protocol (insurance pool, then fee receiver),
    /// at most the bonus: the keeper always gets back the value it repaid.
    pub fee_bps: u32,
    /// Share of one debt that one liquidation may repay.
    pub close_factor_bps: u32,
    /// Health factor (bps, > 10 000) a liquidation restores and does not go past.
    pub target_health_bps: u32,
    /// Below this total debt value (WAD USD) a position may be closed out in full.
    pub dust_debt_value: u128,
}

/// The debt being repaid: the slot's debt in tokens (rounded up) and its price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepaySide {
    pub debt: u64,
    pub decimals: u8,
    pub price: u64,
    pub expo: i32,
    pub borrow_factor_bps: u32,
}

/// The collateral being seized: the slot's deposit in tokens (rounded down), its price and its
/// maintenance weight (zero when the reserve does not count as collateral).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeizeSide {
    pub deposit: u64,
    pub decimals: u8,
    pub price: u64,
    pub expo: i32,
    pub maint_weight: u128,
}

/// One liquidation's amounts, in tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liquidation {
    /// Debt tokens the keeper pays in.
    pub repay: u64,
    /// Collateral tokens taken from the position: `to_keeper + fee`.
    pub seize: u64,
    /// Worth at least `repay` (seize price rounded down against repay price rounded up).
    pub to_keeper: u64,
    /// The protocol's share of `seize`: `fee_bps` of it rounded up, but never more than the
    /// tokens beyond what covers the repaid value (the fee comes out of the bonus).
    pub fee: u64,
    pub bonus_bps: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiquidationError {
    /// Maintenance collateral covers maintenance debt.
    NotLiquidatable,
    /// The allowed amounts round to zero tokens, or are too small for whole tokens to pay the
    /// keeper back without lowering the position's health (the bonus room is below a token).
    TooSmall,
    /// This (repay, seize) pair would lower the position's health even at zero bonus: the
    /// collateral's maintenance weight is above the debt's borrow factor, or, for a solvent
    /// position, above health factor × borrow factor. Pick another pair: the lowest-weight
    /// collateral against the highest-borrow-factor debt always qualifies.
    WorsensHealth,
    Math(MathError),
}

impl From<MathError> for LiquidationError {
    fn from(e: MathError) -> Self {
        LiquidationError::Math(e)
    }
}

/// `a × BPS / b`, rounded down, saturating at `u32::MAX`.
fn ratio_bps(a: u128, b: u128) -> Result<u32, MathError> {
    let r = mul_div(a, BPS, b, Rounding::Down)?;
    Ok(u32::try_from(r).unwrap_or(u32::MAX))
}

/// `limit − BPS` as a bonus, zero when the limit is below 100 %.
fn bonus_under(limit_bps: u128) -> u32 {
    u32::try_from(limit_bps.saturating_sub(BPS)).unwrap_or(u32::MAX)
}

/// The keeper's bonus: `bonus_min + (1 − health_factor)`, at most `bonus_max`, and lowered so
/// that
///
/// * (a) the liquidation cannot lower the health surplus: `(1 + bonus) × w ≤ borrow_factor`;
/// * for a solvent position (`collateral_value ≥ debt_value`):
///   (b) it cannot lower the health factor: `(1 + bonus) × w ≤ HF × borrow_factor`, and
///   (c) it is not pushed into bad debt: `1 + bonus ≤ collateral_value / debt_value`.
///
/// Every bound rounds down (in the position's favour). When even a zero bonus breaks (a) or (b)
/// the pair is refused with [`LiquidationError::WorsensHealth`]; that test is exact. An insolvent
/// position keeps the ramp's bonus (within (a)): its bad debt is unavoidable, and keepers must
/// still be paid to take its collateral so the rest can be resolved.
pub fn bonus_bps(
    health: &Health,
    params: &LiquidationParams,
    borrow_factor_bps: u32,
    maint_weight: u128,
) -> Result<u32, LiquidationError> {
    bonus_from(health, health.health_factor(), params, borrow_factor_bps, maint_weight)
}

/// [`bonus_bps`] given `health`'s health factor `hf` (computed once: a wide division). In basis
/// points it is the same figure rounded down further (⌊⌊x·10⁹⌋ / 10⁵⌋ = ⌊x·10⁴⌋), and bound (b)
/// needs it at full scale.
fn bonus_from(
    health: &Health,
    hf: Option<u128>,
    params: &LiquidationParams,
    borrow_factor_bps: u32,
    maint_weight: u128,
) -> Result<u32, LiquidationError> {
    let hf_bps = match hf {
        Some(hf) => u32::try_from(hf / (RATIO_ONE / BPS)).unwrap_or(u32::MAX),
        None => ratio_bps(health.maint_collateral, health.maint_debt)?,
    };
    let unhealthiness = (BPS as u32).saturating_sub(hf_bps);
    let mut bonus = params.bonus_max_bps.min(params.bonus_min_bps.saturating_add(unhealthiness));
    let solvent = health.is_solvent();
    // Seizing what counts for nothing (w = 0) only lowers the debt: no health bound applies.
    if maint_weight > 0 {
        let borrow_factor = borrow_factor_bps as u128;
        // (a) at b = 0: w ≤ bf, both scaled to WEIGHT_ONE × BPS.
        if !product_at_least(borrow_factor, WEIGHT_ONE, maint_weight, BPS) {
            return Err(LiquidationError::WorsensHealth);
        }
        // (a): 1 + b ≤ bf / w
        let limit = mul_div(borrow_factor, WEIGHT_ONE, maint_weight, Rounding::Down)?;
        bonus = bonus.min(bonus_under(limit));
        if solvent {
            // (b) at b = 0: w × D ≤ HF × bf × D = C × bf, exact in 256 bits.
            let weighted_debt = mul(maint_weight, BPS)?;
            let scaled_factor = mul(borrow_factor, WEIGHT_ONE)?;
            if !product_at_least(health.maint_collateral, scaled_factor, health.maint_debt, weighted_debt) {
                return Err(LiquidationError::WorsensHealth);
            }
            // (b): 1 + b ≤ HF × bf / w, with HF rounded down first.
            let hf = hf.ok_or(MathError::Overflow)?;
            let limit =
                mul_div(mul(hf, borrow_factor)?, WEIGHT_ONE, mul(maint_weight, RATIO_ONE)?, Rounding::Down)?;
            bonus = bonus.min(bonus_under(limit));
        }
    }
    if solvent {
        // (c): b ≤ (collateral − debt) / debt
        let surplus = health.collateral_value - health.debt_value;
        bonus = bonus.min(ratio_bps(surplus, health.debt_value)?);
    }
    Ok(bonus)
}

/// Plans one liquidation of a position with maintenance figures `health`:
///
/// * repay = min(`max_repay`, close factor × debt, what restores the target health), or up to
///   the whole debt for a dust position;
/// * seize = repaid value × (1 + [`bonus_bps`]), at most the slot (the repayment then shrinks to
///   what the slot is worth at the bonus, rounded up);
/// * the repayment shrinks further, if needed, so that the seized tokens (value rounded down)
///   cover its value (rounded up); `cover` = the seized tokens that do so, rounded up;
/// * `fee = min(⌈seize × fee_bps / 10 000⌉, seize − cover)`, never negative: the fee comes out
///   of the bonus only, so `to_keeper = seize − fee ≥ cover` and the keeper's proceeds are never
///   below the value it repaid.
///
/// Rounding otherwise favours the position and the protocol (repay and seize round down). The
/// result is then checked against the two slots re-aggregated with [`Health`]'s own arithmetic,
/// as the program does: the maintenance surplus must not fall, nor, for a solvent position, the
/// health factor. Token rounding can tip a plan whose bonus sits exactly on its bound by a unit,
/// so one bps less is tried before giving up with `TooSmall`; and a plan with room for the
/// program's whole-share booking ([`SHARE_ROUNDING_TOKENS`] against each slot) is preferred to
/// one that passes only at its exact amounts.
///
/// Errors: `NotLiquidatable`; `WorsensHealth` when no bonus keeps this pair within the bounds
/// (try another pair); `TooSmall` when the amounts round to nothing or cannot be rounded to
/// whole tokens within the bounds.
pub fn plan(
    health: &Health,
    repay: &RepaySide,
    seize: &SeizeSide,
    params: &LiquidationParams,
    max_repay: u64,
) -> Result<Liquidation, LiquidationError> {
    plan_with_health_after(health, repay, seize, params, max_repay).map(|(liquidation, _)| liquidation)
}

/// [`plan`], with the figures it checked the liquidation against: `health` after it, the two
/// slots down by exactly `repay` and `seize` tokens ([`maint_after`]). The program reuses them
/// when its share arithmetic leaves the slots at exactly those amounts.
pub fn plan_with_health_after(
    health: &Health,
    repay: &RepaySide,
    seize: &SeizeSide,
    params: &LiquidationParams,
    max_repay: u64,
) -> Result<(Liquidation, Health), LiquidationError> {
    plan_in_full(health, repay, seize, params, max_repay).map(|p| (p.liquidation, p.after))
}

/// A plan and the figures behind it (see [`plan_in_full`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    pub liquidation: Liquidation,
    /// `health` with the two slots down by exactly the planned amounts; it passed the checks.
    pub after: Health,
    /// `health`'s health factor, which the bonus was computed from.
    pub health_factor_before: Option<u128>,
}

/// [`plan_with_health_after`], with the health factor it computed on the way (the program
/// reports it and need not divide again).
pub fn plan_in_full(
    health: &Health,
    repay: &RepaySide,
    seize: &SeizeSide,
    params: &LiquidationParams,
    max_repay: u64,
) -> Result<Planned, LiquidationError> {
    let pair = pair_terms(repay, repay.debt, seize, seize.deposit)?;
    plan_from_terms(health, &pair, repay, seize, params, max_repay)
}

/// [`plan_in_full`] given `pair`, the two slots' maintenance terms as `health` aggregated them
/// (`pair_terms(repay, repay.debt, seize, seize.deposit)`): the program has them from its own
/// aggregation and need not value the two slots again.
pub fn plan_from_terms(
    health: &Health,
    pair: &Health,
    repay: &RepaySide,
    seize: &SeizeSide,
    params: &LiquidationParams,
    max_repay: u64,
) -> Result<Planned, LiquidationError> {
    if !health.is_liquidatable() {
        return Err(LiquidationError::NotLiquidatable);
    }
    crate::cu_phase!("plan: bonus");
    let health_factor_before = health.health_factor();
    let bonus =
        bonus_from(health, health_factor_before, params, repay.borrow_factor_bps, seize.maint_weight)?;
    let solvent = health.is_solvent();
    let passes =
        |h: &Health| h.maint_surplus_at_least(health) && (!solvent || h.health_factor_at_least(health));
    let attempts = if bonus > 0 { &[bonus, bonus - 1][..] } else { &[bonus][..] };
    // The first plan that passes even if the program's whole-share booking leaves the slots a
    // few tokens worse; failing that, the first that passes at its exact amounts (the program
    // books exactly when the shares divide evenly, and checks what it booked). The worst case
    // first: less debt repaid and less collateral seized can only leave the surplus and the
    // health factor higher, so when it passes the exact amounts pass too.
    let mut exact = None;
    for &attempt in attempts {
        crate::cu_phase!("plan: amounts");
        let liquidation = amounts_at(health, repay, seize, params, max_repay, attempt)?;
        crate::cu_phase!("plan: health after");
        let (debt_left, deposit_left) = (repay.debt - liquidation.repay, seize.deposit - liquidation.seize);
        let after_with = |debt: u64, deposit: u64| maint_after(health, pair, repay, seize, debt, deposit);
        let worst = after_with(
            rounded_against(debt_left, repay.debt, true),
            rounded_against(deposit_left, seize.deposit, false),
        )?;
        let worst_passes = passes(&worst);
        let after = after_with(debt_left, deposit_left)?;
        if worst_passes {
            return Ok(Planned { liquidation, after, health_factor_before });
        }
        if exact.is_none() && passes(&after) {
            exact = Some(Planned { liquidation, after, health_factor_before });
        }
    }
    exact.ok_or(LiquidationError::TooSmall)
}

/// Tokens by which the program's whole-share booking of a liquidation can leave a slot worse
/// than planned: the debt's burned shares round down and its amount up, the deposit's burned
/// shares round up and its amount down; a share's worth plus a token on each side, two tokens
/// while a share is worth less than two (the borrow index and the deposit exchange rate start at
/// one and grow with interest). A plan at its bound with no room for that was refused by the
/// program's exact check of what it booked, and refused again at every attempt until interest
/// moved the rates (the crash benchmark, docs/decisions.md issue 26).
pub const SHARE_ROUNDING_TOKENS: u64 = 2;

/// `left` as the booking may leave it at worst: a debt up to [`SHARE_ROUNDING_TOKENS`] more
/// (never above what it was), a deposit as much less. Zero stays zero: repaying a whole debt or
/// seizing a whole deposit burns every share.
fn rounded_against(left: u64, was: u64, debt: bool) -> u64 {
    match (left, debt) {
        (0, _) => 0,
        (l, true) => l.saturating_add(SHARE_ROUNDING_TOKENS).min(was),
        (l, false) => l.saturating_sub(SHARE_ROUNDING_TOKENS),
    }
}

/// The amounts of [`plan`] at a given bonus, before the health check.
fn amounts_at(
    health: &Health,
    repay: &RepaySide,
    seize: &SeizeSide,
    params: &LiquidationParams,
    max_repay: u64,
    bonus: u32,
) -> Result<Liquidation, LiquidationError> {
    let mut amount = max_repay.min(repay.debt);
    if health.debt_value >= params.dust_debt_value {
        let by_close_factor =
            mul_div(repay.debt as u128, params.close_factor_bps as u128, BPS, Rounding::Down)? as u64;
        amount = amount.min(by_close_factor).min(target_repay(health, repay, seize, params, bonus)?);
    }

    let repay_value = usd_value(amount, repay.decimals, repay.price, repay.expo, Rounding::Down)?;
    let seize_value = mul_div(repay_value, BPS + bonus as u128, BPS, Rounding::Down)?;
    let mut seized = token_amount(seize_value, seize.decimals, seize.price, seize.expo, Rounding::Down)?;
    if seized > seize.deposit {
        // The slot runs out: seize all of it and repay only what it is worth at the bonus.
        seized = seize.deposit;
        let slot_value = usd_value(seized, seize.decimals, seize.price, seize.expo, Rounding::Down)?;
        let worth = mul_div(slot_value, BPS, BPS + bonus as u128, Rounding::Up)?;
        amount = amount.min(token_amount(worth, repay.decimals, repay.price, repay.expo, Rounding::Up)?);
    }
    // A small bonus may not survive the rounding of `seized` (or of the slot's repayment, up):
    // repay no more than the seized tokens are worth, so the keeper is never out of pocket.
    let seized_value = usd_value(seized, seize.decimals, seize.price, seize.expo, Rounding::Down)?;
    amount = amount.min(tokens_or_max(seized_value, repay)?);
    if amount == 0 || seized == 0 {
        return Err(LiquidationError::TooSmall);
    }
    // Seized tokens that cover the repaid value; ≤ `seized` since that value ≤ `seized_value`.
    let repaid_value = usd_value(amount, repay.decimals, repay.price, repay.expo, Rounding::Up)?;
    let cover = token_amount(repaid_value, seize.decimals, seize.price, seize.expo, Rounding::Up)?;
    let bonus_tokens = seized.checked_sub(cover).ok_or(MathError::Overflow)?;
    let fee = (mul_div(seized as u128, params.fee_bps as u128, BPS, Rounding::Up)? as u64).min(bonus_tokens);
    Ok(Liquidation { repay: amount, seize: seized, to_keeper: seized - fee, fee, bonus_bps: bonus })
}

/// Repay-side tokens worth `value`, rounded down; `u64::MAX` when that does not fit (the debt
/// then bounds the amount).
fn tokens_or_max(value: u128, repay: &RepaySide) -> Result<u64, MathError> {
    match token_amount(value, repay.decimals, repay.price, repay.expo, Rounding::Down) {
        Ok(t) => Ok(t),
        Err(MathError::Overflow) => Ok(u64::MAX),
        Err(e) => Err(e),
    }
}

/// The maintenance figures of the two slots (debt `debt`, deposit `deposit`) exactly as
/// [`Health`] aggregates them; the other figures are left at zero.
pub fn pair_terms(
    repay: &RepaySide,
    debt: u64,
    seize: &SeizeSide,
    deposit: u64,
) -> Result<Health, MathError> {
    let collateral = usd_value(deposit, seize.decimals, seize.price, seize.expo, Rounding::Down)?;
    let debt = usd_value(debt, repay.decimals, repay.price, repay.expo, Rounding::Up)?;
    Ok(Health {
        maint_collateral: maint_collateral_term(collateral, seize.maint_weight)?,
        maint_debt: debt_term(debt, repay.borrow_factor_bps)?,
        ..Health::default()
    })
}

/// `health` with the two slots down to `debt_left` and `deposit_left` tokens, given `pair`, their
/// terms as they stand ([`pair_terms`] at `repay.debt` and `seize.deposit`); only the maintenance
/// figures are updated (the rest are the old ones), which is all the surplus and health-factor
/// comparisons read.
pub fn maint_after(
    health: &Health,
    pair: &Health,
    repay: &RepaySide,
    seize: &SeizeSide,
    debt_left: u64,
    deposit_left: u64,
) -> Result<Health, MathError> {
    health.replace_maint(pair, &pair_terms(repay, debt_left, seize, deposit_left)?)
}

/// Debt tokens whose repayment (with the seizure it pays for) brings the health factor back to
/// the target, rounded down so the liquidation stops at or below it. `u64::MAX` when no amount
/// reaches it (the close factor and the slot then bound the liquidation).
fn target_repay(
    health: &Health,
    repay: &RepaySide,
    seize: &SeizeSide,
    params: &LiquidationParams,
    bonus: u32,
) -> Result<u64, MathError> {
    let target = params.target_health_bps as u128;
    let wanted = mul_div(health.maint_debt, target, BPS, Rounding::Down)?;
    let shortfall = wanted.saturating_sub(health.maint_collateral);
    // Per unit of repaid value, in WEIGHT_ONE: T × bf − (1 + bonus) × w, rounded up (a larger
    // divisor repays less).
    let debt_side = mul_div(target * repay.borrow_factor_bps as u128, WEIGHT_ONE, BPS * BPS, Rounding::Up)?;
    let collateral_side = mul_div(seize.maint_weight, BPS + bonus as u128, BPS, Rounding::Down)?;
    let Some(per_unit) = debt_side.checked_sub(collateral_side).filter(|d| *d > 0) else {
        return Ok(u64::MAX);
    };
    let value = match mul_div(shortfall, WEIGHT_ONE, per_unit, Rounding::Down) {
        Ok(v) => v,
        Err(_) => (shortfall / per_unit).saturating_mul(WEIGHT_ONE),
    };
    tokens_or_max(value, repay)
}

/// Splits `amount` between an insurance pool holding `balance` with target `target` (first) and
/// the fee receiver (the rest): `(to_pool, to_receiver)`, summing exactly to `amount`.
pub fn split_to_pool(amount: u64, balance: u64, target: u64) -> (u64, u64) {
    let to_pool = amount.min(target.saturating_sub(balance));
    (to_pool, amount - to_pool)
}

/// Pool balance over target in bps (`u32::MAX` for a positive balance against a zero target,
/// 10 000 for an empty pool with a zero target: nothing is missing).
pub fn coverage_bps(balance: u64, target: u64) -> u32 {
    if target == 0 {
        return if balance > 0 { u32::MAX } else { BPS as u32 };
    }
    // `div`: natively when the product fits 64 bits, never the 128-bit division helper.
    u32::try_from(div(balance as u128 * BPS, target as u128, Rounding::Down)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::WAD;
    use crate::health::maint_weight;
    use proptest::prelude::*;

    fn params() -> LiquidationParams {
        LiquidationParams {
            bonus_min_bps: 200,
            bonus_max_bps: 1_000,
            fee_bps: 100,
            close_factor_bps: 5_000,
            target_health_bps: 10_500,
            dust_debt_value: 10 * WAD,
        }
    }

    /// `units` of a 9-decimal token at $`price` (whole dollars) with maintenance weight `w`.
    fn collateral(units: u64, price: u64, w: u128) -> SeizeSide {
        SeizeSide { deposit: units, decimals: 9, price: price * 100_000_000, expo: -8, maint_weight: w }
    }

    /// `debt` base units of a 6-decimal $1 token with borrow factor `bf_bps`.
    fn debt_of(debt: u64, bf_bps: u32) -> RepaySide {
        RepaySide { debt, decimals: 6, price: 100_000_000, expo: -8, borrow_factor_bps: bf_bps }
    }

    /// The position's figures, aggregated the way the program does (collateral value rounded
    /// down, debt value rounded up).
    fn health_of(collaterals: &[SeizeSide], debts: &[RepaySide]) -> Health {
        let mut h = Health::default();
        for c in collaterals {
            let value = usd_value(c.deposit, c.decimals, c.price, c.expo, Rounding::Down).unwrap();
            h.add_collateral(value, value, c.maint_weight, c.maint_weight).unwrap();
        }
        for d in debts {
            let value = usd_value(d.debt, d.decimals, d.price, d.expo, Rounding::Up).unwrap();
            h.add_debt(value, value, d.borrow_factor_bps).unwrap();
        }
        h
    }

    /// `units` of a $`price` 9-decimal token at weight `w`, and `debt` USDC (6 decimals, $1).
    fn position(units: u64, price: u64, w: u128, debt: u64) -> (Health, RepaySide, SeizeSide) {
        let (r, s) = (debt_of(debt, 10_000), collateral(units, price, w));
        (health_of(&[s], &[r]), r, s)
    }

    fn after(l: &Liquidation, r: &RepaySide, s: &SeizeSide) -> Health {
        health_of(
            &[SeizeSide { deposit: s.deposit - l.seize, ..*s }],
            &[RepaySide { debt: r.debt - l.repay, ..*r }],
        )
    }

    /// What the keeper pays (rounded up) and what it receives (rounded down), WAD USD.
    fn keeper_flows(l: &Liquidation, r: &RepaySide, s: &SeizeSide) -> (u128, u128) {
        let paid = usd_value(l.repay, r.decimals, r.price, r.expo, Rounding::Up).unwrap();
        let received = usd_value(l.to_keeper, s.decimals, s.price, s.expo, Rounding::Down).unwrap();
        (paid, received)
    }

    #[test]
    fn a_healthy_position_is_refused() {
        // 10 SOL at $100, weight 0.95, $900 debt: 950 ≥ 900.
        let (h, r, s) = position(10_000_000_000, 100, maint_weight(500), 900_000_000);
        assert_eq!(plan(&h, &r, &s, &params(), u64::MAX), Err(LiquidationError::NotLiquidatable));
    }

    #[test]
    fn the_keeper_gets_back_what_it_repaid_when_the_bonus_is_below_the_fee() {
        // 10.01 SOL at $100 (weight 0.95) against $1000: HF 0.95095, 0.1 % over the debt, so
        // the bound is 10 bps, under the 1 % fee. At exactly 10 bps the health factor would be
        // unchanged, with no room for the program's whole-share booking: 9 bps leaves it.
        let (h, r, s) = position(10_010_000_000, 100, maint_weight(500), 1_000_000_000);
        let l = plan(&h, &r, &s, &params(), 300_000_000).unwrap();
        assert_eq!(l.bonus_bps, 9);
        assert_eq!((l.repay, l.seize), (300_000_000, 3_002_700_000)); // $300 for $300.27
                                                                      // The whole fee, 1 % of 3.0027 SOL, would leave the keeper less than it repaid: only
                                                                      // the bonus, 0.0027 SOL, goes to the protocol.
        assert_eq!(l.fee, 2_700_000);
        assert_eq!(l.to_keeper, 3_000_000_000);
        let (paid, received) = keeper_flows(&l, &r, &s);
        assert_eq!((paid, received), (300 * WAD, 300 * WAD));
        let a = after(&l, &r, &s);
        assert!(a.health_factor_at_least(&h) && !h.health_factor_at_least(&a), "HF up, a little");
        // Two tokens of rounding against the position on either slot still pass.
        let worst = maint_after(
            &h,
            &pair_terms(&r, r.debt, &s, s.deposit).unwrap(),
            &r,
            &s,
            r.debt - l.repay + SHARE_ROUNDING_TOKENS,
            s.deposit - l.seize - SHARE_ROUNDING_TOKENS,
        )
        .unwrap();
        assert!(worst.health_factor_at_least(&h) && worst.maint_surplus_at_least(&h));
    }

    #[test]
    fn an_exactly_solvent_position_pays_no_bonus_and_keeps_its_health_factor() {
        // 10 SOL at $90 = $900 against $900 debt, weight 0.95: HF 0.95, nothing over the debt.
        let (h, r, s) = position(10_000_000_000, 90, maint_weight(500), 900_000_000);
        let l = plan(&h, &r, &s, &params(), u64::MAX).unwrap();
        // (Until this change it got 526 bps: 5.263 SOL, $473.67, for $450, leaving bad debt.)
        assert_eq!(l.bonus_bps, 0);
        // r = (1.05 × 900 − 855) / (1.05 − 0.95) = 900 > the close factor's 450.
        assert_eq!(
            l,
            Liquidation {
                repay: 450_000_000,
                seize: 5_000_000_000,
                to_keeper: 5_000_000_000,
                fee: 0,
                bonus_bps: 0
            }
        );
        let a = after(&l, &r, &s);
        assert_eq!(a.health_factor(), h.health_factor());
        assert!(a.maint_surplus_at_least(&h));
    }

    #[test]
    fn an_insolvent_position_keeps_the_ramp_bonus_under_the_surplus_cap() {
        // 10 SOL at $85 = $850 against $900: insolvent, HF 0.8972.
        let (h, r, s) = position(10_000_000_000, 85, maint_weight(500), 900_000_000);
        let l = plan(&h, &r, &s, &params(), u64::MAX).unwrap();
        // ramp 2 % + 10.28 % capped at 10 %, then (1 + b) × 0.95 ≤ 1: 526 bps.
        assert_eq!(l.bonus_bps, 526);
        // r = (1.05 × 900 − 807.5) / (1.05 − 1.0526 × 0.95) = 2748 > 450; 450 × 1.0526 / 85 SOL.
        assert_eq!((l.repay, l.seize), (450_000_000, 5_572_588_235));
        // 1 % fee, rounded up, is within the bonus (5.5726 − 450 / 85 = 0.2785 SOL).
        assert_eq!((l.fee, l.to_keeper), (55_725_883, 5_516_862_352));
        let a = after(&l, &r, &s);
        assert!(a.maint_surplus_at_least(&h));
        assert!(!a.health_factor_at_least(&h), "an insolvent position's HF may fall");
    }

    #[test]
    fn the_target_binds_before_the_close_factor_for_a_small_shortfall() {
        // weight 0.8 (20 % haircut): 10 SOL at $100 → 800 against $810 debt, HF 0.98765.
        let (h, r, s) = position(10_000_000_000, 100, maint_weight(2_000), 810_000_000);
        let l = plan(&h, &r, &s, &params(), u64::MAX).unwrap();
        // bonus = 2 % + 1.24 % (unhealthiness, bps rounded) = 324 bps.
        assert_eq!(l.bonus_bps, 324);
        // r = (1.05 × 810 − 800) / (1.05 − 1.0324 × 0.8) = 50.5 / 0.22408 = 225.37
        assert_eq!(l.repay, 225_365_940);
        let a = after(&l, &r, &s);
        let hf = a.health_factor().unwrap();
        assert!(hf <= 1_050_000_000 && hf > 1_049_990_000, "hf after {hf}");
    }

    #[test]
    fn max_repay_and_the_slot_bound_the_amounts() {
        // The insolvent $85 position (bonus 526 bps).
        let (h, r, s) = position(10_000_000_000, 85, maint_weight(500), 900_000_000);
        let l = plan(&h, &r, &s, &params(), 1_000_000).unwrap();
        assert_eq!((l.repay, l.seize), (1_000_000, 12_383_529)); // 1.0526 / 85 SOL
                                                                 // Only 1 SOL left in the slot ($85): seizes it all, repays 85 / 1.0526 = 80.75…, up.
        let small = SeizeSide { deposit: 1_000_000_000, ..s };
        let l = plan(&h, &r, &small, &params(), u64::MAX).unwrap();
        assert_eq!((l.seize, l.repay), (1_000_000_000, 80_752_423));
        assert_eq!(l.fee, 10_000_000);
    }

    #[test]
    fn a_dust_position_closes_out_in_full() {
        // $9 of debt against $8.50 of collateral (insolvent): the slot bounds the repayment.
        let (h, r, s) = position(100_000_000, 85, maint_weight(500), 9_000_000);
        let l = plan(&h, &r, &s, &params(), u64::MAX).unwrap();
        assert_eq!(l.repay, (8_500_000u64 * 10_000).div_ceil(10_526));
        // $15 of collateral at weight 0.5 against $9: all $9 may go at once.
        let (h, r, s) = position(150_000_000, 100, maint_weight(5_000), 9_000_000);
        let l = plan(&h, &r, &s, &params(), u64::MAX).unwrap();
        assert_eq!(l.repay, 9_000_000, "whole debt, not half");
    }

    #[test]
    fn an_almost_insolvent_position_gets_no_bonus_that_creates_bad_debt() {
        // weight 0.5: 10 SOL at $100 = $1000 against $990 debt: 1 % left over the debt.
        let (h, _, _) = position(10_000_000_000, 100, maint_weight(5_000), 990_000_000);
        assert_eq!(bonus_bps(&h, &params(), 10_000, maint_weight(5_000)).unwrap(), 101);
    }

    #[test]
    fn seizing_the_high_weight_collateral_of_a_solvent_position_is_refused() {
        // A: 7 units at $100, weight 0.95; B: 10 units at $50, weight 0.5; $1000 debt.
        // C = 665 + 250 = 915, HF 0.915, $1200 of collateral: solvent.
        let (a, b) = (
            collateral(7_000_000_000, 100, maint_weight(500)),
            collateral(10_000_000_000, 50, maint_weight(5_000)),
        );
        let r = debt_of(1_000_000_000, 10_000);
        let h = health_of(&[a, b], &[r]);
        // 0.95 > 0.915 × 1: seizing A lowers the HF at any bonus.
        assert_eq!(plan(&h, &r, &a, &params(), u64::MAX), Err(LiquidationError::WorsensHealth));
        // 0.5 × (1 + b) ≤ 0.915 up to b = 83 %; the ramp's 10 % max binds.
        let l = plan(&h, &r, &b, &params(), u64::MAX).unwrap();
        assert_eq!(l.bonus_bps, 1_000);
        // r = (1.05 × 1000 − 915) / (1.05 − 1.1 × 0.5) = 270; 297 / 50 = 5.94 B.
        assert_eq!(
            l,
            Liquidation {
                repay: 270_000_000,
                seize: 5_940_000_000,
                to_keeper: 5_880_600_000,
                fee: 59_400_000,
                bonus_bps: 1_000
            }
        );
        let after = health_of(
            &[a, SeizeSide { deposit: b.deposit - l.seize, ..b }],
            &[RepaySide { debt: r.debt - l.repay, ..r }],
        );
        assert!(after.health_factor_at_least(&h));
        assert_eq!(after.health_factor(), Some(1_050_000_000)); // (665 + 101.5) / 730
    }

    #[test]
    fn the_health_factor_bound_caps_the_bonus_of_a_solvent_position() {
        // A: 8 units at $100, weight 0.95; B: 3 units at $100, weight 0.8; $1050 debt.
        // C = 760 + 240 = 1000, HF 0.952381; $1100 of collateral, 4.76 % over the debt.
        let (a, b) = (
            collateral(8_000_000_000, 100, maint_weight(500)),
            collateral(3_000_000_000, 100, maint_weight(2_000)),
        );
        let r = debt_of(1_050_000_000, 10_000);
        let h = health_of(&[a, b], &[r]);
        // ramp 6.76 %, surplus cap 5.26 %, solvency cap 4.76 %; (1 + b) × 0.95 ≤ 0.952381 gives 0.25 %.
        assert_eq!(bonus_bps(&h, &params(), 10_000, a.maint_weight), Ok(25));
        let l = plan(&h, &r, &a, &params(), u64::MAX).unwrap();
        // r = (1.05 × 1050 − 1000) / (1.05 − 1.0025 × 0.95) = 1049.9 > the close factor's 525;
        // 525 × 1.0025 / 100 = 5.263125 A, of which 5.25 A cover the $525.
        assert_eq!(
            l,
            Liquidation {
                repay: 525_000_000,
                seize: 5_263_125_000,
                to_keeper: 5_250_000_000,
                fee: 13_125_000,
                bonus_bps: 25
            }
        );
        let after = health_of(
            &[SeizeSide { deposit: a.deposit - l.seize, ..a }, b],
            &[RepaySide { debt: r.debt - l.repay, ..r }],
        );
        // (1000 − 499.996875) / 525 = 0.952387 ≥ 0.952380
        assert_eq!((h.health_factor(), after.health_factor()), (Some(952_380_952), Some(952_386_904)));
    }

    #[test]
    fn the_solvency_cap_binds_when_low_weight_collateral_is_seized() {
        // A: 3 units at $100, weight 0.95; B: 12 units at $60, weight 0.5; $1000 debt.
        // C = 285 + 360 = 645 (HF 0.645), $1020 of collateral: 2 % over the debt.
        let (a, b) = (
            collateral(3_000_000_000, 100, maint_weight(500)),
            collateral(12_000_000_000, 60, maint_weight(5_000)),
        );
        let r = debt_of(1_000_000_000, 10_000);
        let h = health_of(&[a, b], &[r]);
        // ramp 10 % (max), HF bound 0.645 / 0.5 − 1 = 29 %, solvency 2 %.
        assert_eq!(bonus_bps(&h, &params(), 10_000, b.maint_weight), Ok(200));
        let l = plan(&h, &r, &b, &params(), u64::MAX).unwrap();
        // Close factor: $500 for $510 = 8.5 B; 8.333… B cover the $500, the 1 % fee fits the rest.
        assert_eq!(
            l,
            Liquidation {
                repay: 500_000_000,
                seize: 8_500_000_000,
                to_keeper: 8_415_000_000,
                fee: 85_000_000,
                bonus_bps: 200
            }
        );
        let after = health_of(
            &[a, SeizeSide { deposit: b.deposit - l.seize, ..b }],
            &[RepaySide { debt: r.debt - l.repay, ..r }],
        );
        assert!(after.is_solvent() && after.health_factor_at_least(&h)); // $510 against $500
    }

    #[test]
    fn a_solvent_position_needs_its_highest_borrow_factor_debt() {
        // $1100 at weight 0.9 against $500 at bf 1 and $500 at bf 2: C 990, D 1500, HF 0.66.
        let c = collateral(11_000_000_000, 100, maint_weight(1_000));
        let (cheap, dear) = (debt_of(500_000_000, 10_000), debt_of(500_000_000, 20_000));
        let h = health_of(&[c], &[cheap, dear]);
        // 0.9 > 0.66 × 1, but 0.9 × 1.1 ≤ 0.66 × 2.
        assert_eq!(bonus_bps(&h, &params(), 10_000, c.maint_weight), Err(LiquidationError::WorsensHealth));
        assert_eq!(bonus_bps(&h, &params(), 20_000, c.maint_weight), Ok(1_000));
        let l = plan(&h, &dear, &c, &params(), u64::MAX).unwrap();
        let after = health_of(
            &[SeizeSide { deposit: c.deposit - l.seize, ..c }],
            &[cheap, RepaySide { debt: dear.debt - l.repay, ..dear }],
        );
        assert!(after.health_factor_at_least(&h));
    }

    #[test]
    fn a_weight_above_the_borrow_factor_is_refused() {
        // A borrow factor below 1 (misconfigured): even at b = 0 the surplus would fall.
        let (h, _, s) = position(10_000_000_000, 85, maint_weight(500), 900_000_000);
        let r = debt_of(900_000_000, 9_000);
        assert_eq!(plan(&h, &r, &s, &params(), u64::MAX), Err(LiquidationError::WorsensHealth));
    }

    /// `units` of a 0-decimal token priced `price` × 10^-18: one unit is worth `price` WAD, so
    /// every rounding step is visible.
    fn wad_scale(units: u64, price: u64) -> (u64, u8, u64, i32) {
        (units, 0, price, -18)
    }

    #[test]
    fn a_zero_bonus_leaves_no_room_for_token_rounding() {
        // The exactly solvent $90 position: b = 0 and w = HF × bf, so the keeper needs the
        // seized value ≥ the repaid value and the HF needs it ≤: only an exact match works.
        let (h, r, s) = position(10_000_000_000, 90, maint_weight(500), 900_000_000);
        // $1 buys 0.011111111 SOL ($0.99999999); repaying $0.999999 against it would raise the
        // effective bonus above zero and lower the HF.
        assert_eq!(plan(&h, &r, &s, &params(), 1_000_000), Err(LiquidationError::TooSmall));
        // $0.90 buys exactly 0.01 SOL.
        let l = plan(&h, &r, &s, &params(), 900_000).unwrap();
        assert_eq!((l.repay, l.seize, l.fee), (900_000, 10_000_000, 0));
    }

    #[test]
    fn one_bps_less_is_tried_when_rounding_tips_the_bound() {
        // In WAD units: 6 × 15 = 90 of collateral at weight 0.7 (C = 63) against 8 × 10 = 80.
        // HF 0.7875 = 0.7 × 1.125: the bound allows exactly 1250 bps.
        let (deposit, decimals, price, expo) = wad_scale(6, 15);
        let s = SeizeSide { deposit, decimals, price, expo, maint_weight: maint_weight(3_000) };
        let (debt, decimals, price, expo) = wad_scale(8, 10);
        let r = RepaySide { debt, decimals, price, expo, borrow_factor_bps: 10_000 };
        let h = health_of(&[s], &[r]);
        let p = LiquidationParams { bonus_min_bps: 0, bonus_max_bps: 1_500, dust_debt_value: 0, ..params() };
        assert_eq!(bonus_bps(&h, &p, 10_000, s.maint_weight), Ok(1_250));
        // At 1250: repay 4 (40), seize 3 (45), leaving 45 × 0.7 = 31.5, floored to 31: HF
        // 31 / 40 = 0.775. At 1249: 44.99 buys 2 units (30), which cover only 3 units of debt.
        let l = plan(&h, &r, &s, &p, u64::MAX).unwrap();
        assert_eq!(l, Liquidation { repay: 3, seize: 2, to_keeper: 2, fee: 0, bonus_bps: 1_249 });
        let a = after(&l, &r, &s);
        assert_eq!((a.maint_collateral, a.maint_debt), (42, 50)); // HF 0.84
    }

    #[test]
    fn pool_split_and_coverage() {
        assert_eq!(split_to_pool(100, 50, 120), (70, 30));
        assert_eq!(split_to_pool(100, 150, 120), (0, 100));
        assert_eq!(split_to_pool(10, 0, 120), (10, 0));
        assert_eq!(coverage_bps(60, 120), 5_000);
        assert_eq!(coverage_bps(0, 0), 10_000);
    }

    proptest! {
        /// Whatever the figures, a liquidation never lowers the health surplus, never lowers
        /// the health factor of a solvent position, never pays the keeper less than it repaid,
        /// never seizes more than the slot, never repays more than the debt, and never leaves
        /// the position healthier than the target (up to one seized unit).
        ///
        /// The surplus, health-factor and keeper checks are exact, with no rounding slack: the
        /// position is re-aggregated from its slots as the program does, and `plan` checks its
        /// amounts against that same arithmetic.
        #[test]
        fn liquidation_invariants(
            units in 1_000u64..100_000_000_000,
            price in 1u64..10_000,
            haircut in 0u32..9_500,
            debt in 1_000u64..1_000_000_000_000,
            max_repay in 1u64..=u64::MAX,
            bonus_min in 0u32..500,
            bonus_span in 0u32..1_000,
            close in 1_000u32..=10_000,
            fee in 0u32..=500,
        ) {
            let w = maint_weight(haircut);
            let (h, r, s) = position(units, price, w, debt);
            let p = LiquidationParams { bonus_min_bps: bonus_min, bonus_max_bps: bonus_min + bonus_span, close_factor_bps: close, fee_bps: fee, ..params() };
            match plan(&h, &r, &s, &p, max_repay) {
                Err(LiquidationError::NotLiquidatable) => prop_assert!(!h.is_liquidatable()),
                Err(LiquidationError::TooSmall) => {}
                Err(LiquidationError::WorsensHealth) => {
                    // One collateral against one bf-1 debt: HF × bf = C / Dv ≥ w as V ≥ Dv, short
                    // only by the aggregate's own rounding (C = ⌊V × w⌋), i.e. (V − Dv) × w < 1 WAD unit × WEIGHT_ONE.
                    prop_assert!(h.is_solvent());
                    prop_assert!((h.collateral_value - h.debt_value) * w < WEIGHT_ONE);
                }
                Err(e) => prop_assert!(false, "{e:?}"),
                Ok(l) => {
                    prop_assert!(l.seize <= s.deposit && l.repay <= r.debt && l.repay <= max_repay);
                    prop_assert_eq!(l.to_keeper + l.fee, l.seize);
                    let (paid, received) = keeper_flows(&l, &r, &s);
                    prop_assert!(received >= paid, "keeper paid {paid}, received {received}");
                    let a = after(&l, &r, &s);
                    prop_assert!(a.maint_surplus_at_least(&h), "surplus fell: {h:?} → {a:?}");
                    if h.is_solvent() {
                        prop_assert!(a.health_factor_at_least(&h), "HF fell: {:?} → {:?}", h.health_factor(), a.health_factor());
                    }
                    if h.debt_value >= p.dust_debt_value && a.maint_debt > 0 {
                        // maint_collateral / maint_debt ≤ target, up to a seized unit
                        let slack = usd_value(1, 9, s.price, -8, Rounding::Up).unwrap();
                        prop_assert!(a.maint_collateral <= a.maint_debt * 10_500 / 10_000 + slack);
                    }
                }
            }
        }

        /// Liveness: a solvent, liquidatable position always has a pair that plans, namely its
        /// lowest-weight collateral against its highest-borrow-factor debt, unless the amounts
        /// are too small for whole tokens. Every pair that plans keeps the HF and pays the keeper.
        #[test]
        fn a_solvent_position_always_has_a_pair_to_liquidate(
            units_a in 1_000u64..100_000_000_000,
            price_a in 1u64..10_000,
            haircut_a in 0u32..9_000,
            units_b in 1_000u64..100_000_000_000,
            price_b in 1u64..10_000,
            extra_haircut_b in 1u32..1_000,
            bf_dear in 10_000u32..=20_000,
            dear_share in 0u64..=1_000,
            insolvency_room in 0u64..=1_000,
            max_repay in prop_oneof![Just(u64::MAX), 1u64..=u64::MAX],
            bonus_min in 0u32..500,
            bonus_span in 0u32..1_000,
            close in 1_000u32..=10_000,
            fee in 0u32..=500,
        ) {
            let a = collateral(units_a, price_a, maint_weight(haircut_a));
            let b = collateral(units_b, price_b, maint_weight(haircut_a + extra_haircut_b));
            let collaterals = [a, b];
            // Total debt between the maintenance collateral (liquidatable) and the collateral
            // value (solvent), split between a bf-1 debt and a `bf_dear` one.
            let no_debt = health_of(&collaterals, &[]);
            let usdc_units = |value: u128| (value / 1_000_000_000_000) as u64; // < $10^7 here
            let (lowest, highest) = (usdc_units(no_debt.maint_collateral) + 1, usdc_units(no_debt.collateral_value));
            prop_assume!(lowest <= highest);
            let total = highest - (highest - lowest) * insolvency_room / 1_000;
            let dear_debt = total * dear_share / 1_000;
            let debts = [debt_of(total - dear_debt, 10_000), debt_of(dear_debt, bf_dear)];
            let h = health_of(&collaterals, &debts);
            prop_assume!(h.is_liquidatable() && h.is_solvent());
            let p = LiquidationParams { bonus_min_bps: bonus_min, bonus_max_bps: bonus_min + bonus_span, close_factor_bps: close, fee_bps: fee, ..params() };

            let mut planned = 0;
            for (i, r) in debts.iter().enumerate().filter(|(_, d)| d.debt > 0) {
                for (k, s) in collaterals.iter().enumerate() {
                    let Ok(l) = plan(&h, r, s, &p, max_repay) else { continue };
                    planned += 1;
                    let (paid, received) = keeper_flows(&l, r, s);
                    prop_assert!(received >= paid);
                    let mut cs = collaterals;
                    cs[k].deposit -= l.seize;
                    let mut ds = debts;
                    ds[i].debt -= l.repay;
                    prop_assert!(health_of(&cs, &ds).health_factor_at_least(&h));
                }
            }
            // The pair the argument names: B (lowest weight) against the highest-bf debt.
            let dear = if debts[1].debt > 0 && bf_dear > 10_000 { debts[1] } else { debts[0] };
            let named = plan(&h, &dear, &b, &p, max_repay);
            prop_assert!(matches!(named, Ok(_) | Err(LiquidationError::TooSmall)), "{named:?}");
            prop_assert!(planned > 0 || named == Err(LiquidationError::TooSmall));
            // Rounding needs room within one token unit. With ≥ $100 of debt, A worth ≥ 1 % of
            // it and B's haircut ≥ 1 point higher, the room is far wider: the named pair plans,
            // and so does every pair with a bonus of 1 bps or more (one bps less is always tried).
            let a_value = usd_value(a.deposit, a.decimals, a.price, a.expo, Rounding::Down).unwrap();
            if max_repay == u64::MAX && h.debt_value >= 100 * WAD && a_value * 100 >= h.debt_value && extra_haircut_b >= 100 {
                prop_assert!(named.is_ok(), "{named:?}");
                for r in debts.iter().filter(|d| d.debt > 0) {
                    for s in &collaterals {
                        if bonus_bps(&h, &p, r.borrow_factor_bps, s.maint_weight).is_ok_and(|b| b >= 1) {
                            prop_assert!(plan(&h, r, s, &p, max_repay).is_ok());
                        }
                    }
                }
            }
        }

        /// The same promises where every rounding step is visible: a few base units of 0-decimal
        /// tokens, each worth a few WAD (10^-18 USD). Exact checks, no slack.
        #[test]
        fn rounding_at_the_smallest_scale_keeps_every_promise(
            units in 1u64..60,
            price in 1u64..60,
            haircut in 0u32..9_000,
            debt in 1u64..60,
            debt_price in 1u64..60,
            borrow_factor in 10_000u32..=20_000,
            max_repay in 1u64..=u64::MAX,
            bonus_min in 0u32..500,
            bonus_span in 0u32..1_000,
            close in 1_000u32..=10_000,
            fee in 0u32..=500,
        ) {
            let (deposit, decimals, price, expo) = wad_scale(units, price);
            let s = SeizeSide { deposit, decimals, price, expo, maint_weight: maint_weight(haircut) };
            let (debt, decimals, price, expo) = wad_scale(debt, debt_price);
            let r = RepaySide { debt, decimals, price, expo, borrow_factor_bps: borrow_factor };
            let h = health_of(&[s], &[r]);
            let p = LiquidationParams { bonus_min_bps: bonus_min, bonus_max_bps: bonus_min + bonus_span, close_factor_bps: close, fee_bps: fee, dust_debt_value: 0, ..params() };
            match plan(&h, &r, &s, &p, max_repay) {
                Err(LiquidationError::NotLiquidatable) => prop_assert!(!h.is_liquidatable()),
                Err(LiquidationError::TooSmall | LiquidationError::WorsensHealth) => {}
                Err(e) => prop_assert!(false, "{e:?}"),
                Ok(l) => {
                    prop_assert!(l.seize <= s.deposit && l.repay <= r.debt && l.repay <= max_repay);
                    prop_assert_eq!(l.to_keeper + l.fee, l.seize);
                    let (paid, received) = keeper_flows(&l, &r, &s);
                    prop_assert!(received >= paid, "keeper paid {paid}, received {received}");
                    let a = after(&l, &r, &s);
                    prop_assert!(a.maint_surplus_at_least(&h));
                    prop_assert!(!h.is_solvent() || a.health_factor_at_least(&h));
                }
            }
        }
    }
}
