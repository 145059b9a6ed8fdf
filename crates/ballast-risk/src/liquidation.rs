//! Partial liquidation (SPEC §5): how much a keeper may repay, what it seizes, and the fee.
//!
//! All values are WAD-scaled USD at the plain oracle price (maintenance rules); weights are
//! scaled by `WEIGHT_ONE`, everything else is in basis points. The program, the keeper bot and
//! the CLI all plan liquidations with [`plan`], so a keeper can predict the outcome exactly.
//!
//! Repaying `r` (USD) of debt `j` and seizing `r × (1 + bonus)` of collateral `i` moves the
//! maintenance figures by
//!
//! ```text
//! maint_debt'       = maint_debt       − r × borrow_factor_j
//! maint_collateral' = maint_collateral − r × (1 + bonus) × maint_weight_i
//! ```
//!
//! so the health surplus `maint_collateral − maint_debt` never falls while
//! `(1 + bonus) × maint_weight_i ≤ borrow_factor_j`, and the health factor reaches the target
//! `T` at `r = (T × maint_debt − maint_collateral) / (T × borrow_factor_j − (1 + bonus) × w_i)`.

use crate::fixed::{mul_div, Rounding, BPS};
use crate::health::{Health, WEIGHT_ONE};
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
    /// Share of the seized collateral kept by the protocol (insurance pool, then fee receiver).
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
    pub to_keeper: u64,
    /// The protocol's share of `seize`, rounded up.
    pub fee: u64,
    pub bonus_bps: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiquidationError {
    /// Maintenance collateral covers maintenance debt.
    NotLiquidatable,
    /// The allowed amounts round to zero tokens.
    TooSmall,
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

/// The keeper's bonus: `bonus_min + (1 − health_factor)`, at most `bonus_max`, and lowered so
/// that (a) the liquidation cannot lower the health surplus, `(1 + bonus) × w ≤ borrow_factor`,
/// and (b) a solvent position is not pushed into bad debt, `1 + bonus ≤ collateral / debt`.
/// An insolvent position keeps the ramp's bonus: its bad debt is unavoidable, and keepers must
/// still be paid to take its collateral so the rest can be resolved.
pub fn bonus_bps(
    health: &Health,
    params: &LiquidationParams,
    borrow_factor_bps: u32,
    maint_weight: u128,
) -> Result<u32, MathError> {
    let hf_bps = ratio_bps(health.maint_collateral, health.maint_debt)?;
    let unhealthiness = (BPS as u32).saturating_sub(hf_bps);
    let mut bonus = params.bonus_max_bps.min(params.bonus_min_bps.saturating_add(unhealthiness));
    if maint_weight > 0 {
        // 1 + bonus ≤ borrow_factor / w
        let limit = mul_div(borrow_factor_bps as u128, WEIGHT_ONE, maint_weight, Rounding::Down)?;
        bonus = bonus.min(u32::try_from(limit.saturating_sub(BPS)).unwrap_or(u32::MAX));
    }
    if health.collateral_value > health.debt_value {
        let surplus = health.collateral_value - health.debt_value;
        bonus = bonus.min(ratio_bps(surplus, health.debt_value)?);
    }
    Ok(bonus)
}

/// Plans one liquidation of a position with maintenance figures `health`:
///
/// repay = min(`max_repay`, close factor × debt, what restores the target health), or up to the
/// whole debt for a dust position; seized = repaid value × (1 + bonus), at most the slot (the
/// repayment shrinks to match); fee = `fee_bps` of the seized tokens. Rounding favours the
/// position and the protocol: repay and seize round down, the repay that buys a whole slot and
/// the fee round up.
pub fn plan(
    health: &Health,
    repay: &RepaySide,
    seize: &SeizeSide,
    params: &LiquidationParams,
    max_repay: u64,
) -> Result<Liquidation, LiquidationError> {
    if !health.is_liquidatable() {
        return Err(LiquidationError::NotLiquidatable);
    }
    let bonus = bonus_bps(health, params, repay.borrow_factor_bps, seize.maint_weight)?;

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
    if amount == 0 || seized == 0 {
        return Err(LiquidationError::TooSmall);
    }
    let fee = mul_div(seized as u128, params.fee_bps as u128, BPS, Rounding::Up)? as u64;
    Ok(Liquidation { repay: amount, seize: seized, to_keeper: seized - fee, fee, bonus_bps: bonus })
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
    match token_amount(value, repay.decimals, repay.price, repay.expo, Rounding::Down) {
        Ok(t) => Ok(t),
        Err(MathError::Overflow) => Ok(u64::MAX),
        Err(e) => Err(e),
    }
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
    u32::try_from(balance as u128 * BPS / target as u128).unwrap_or(u32::MAX)
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

    /// `units` of a $`price` 9-decimal token at weight `w`, and `debt` USDC (6 decimals, $1).
    fn position(units: u64, price: u64, w: u128, debt: u64) -> (Health, RepaySide, SeizeSide) {
        let mut h = Health::default();
        let value = usd_value(units, 9, price * 100_000_000, -8, Rounding::Down).unwrap();
        h.add_collateral(value, value, w, w).unwrap();
        let dv = usd_value(debt, 6, 100_000_000, -8, Rounding::Up).unwrap();
        h.add_debt(dv, dv, 10_000).unwrap();
        (
            h,
            RepaySide { debt, decimals: 6, price: 100_000_000, expo: -8, borrow_factor_bps: 10_000 },
            SeizeSide { deposit: units, decimals: 9, price: price * 100_000_000, expo: -8, maint_weight: w },
        )
    }

    fn after(l: &Liquidation, r: &RepaySide, s: &SeizeSide) -> Health {
        let (units, debt) = (s.deposit - l.seize, r.debt - l.repay);
        let mut out = Health::default();
        let value = usd_value(units, 9, s.price, -8, Rounding::Down).unwrap();
        out.add_collateral(value, value, s.maint_weight, s.maint_weight).unwrap();
        let dv = usd_value(debt, 6, r.price, -8, Rounding::Up).unwrap();
        out.add_debt(dv, dv, r.borrow_factor_bps).unwrap();
        out
    }

    #[test]
    fn a_healthy_position_is_refused() {
        // 10 SOL at $100, weight 0.95, $900 debt: 950 ≥ 900.
        let (h, r, s) = position(10_000_000_000, 100, maint_weight(500), 900_000_000);
        assert_eq!(plan(&h, &r, &s, &params(), u64::MAX), Err(LiquidationError::NotLiquidatable));
    }

    #[test]
    fn stops_at_the_target_health() {
        // 10 SOL at $90, weight 0.95: 855 maintenance collateral against $900 debt (HF 0.95).
        let (h, r, s) = position(10_000_000_000, 90, maint_weight(500), 900_000_000);
        let l = plan(&h, &r, &s, &params(), u64::MAX).unwrap();
        // bonus = 2 % + 5 % = 7 %, under the caps (1/0.95 − 1 = 5.26 %!): the health cap binds.
        assert_eq!(l.bonus_bps, 526);
        // r = (1.05 × 900 − 855) / (1.05 − 1.0526 × 0.95) = 90 / 0.05003 = 1798.9… > close factor.
        assert_eq!(l.repay, 450_000_000);
        // 450 × 1.0526 / 90 = 5.263 SOL
        assert_eq!(l.seize, 5_263_000_000);
        assert_eq!(l.fee, 52_630_000);
        assert_eq!(l.to_keeper + l.fee, l.seize);
        let a = after(&l, &r, &s);
        assert!(
            a.maint_collateral as i128 - a.maint_debt as i128
                >= h.maint_collateral as i128 - h.maint_debt as i128
        );
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
        let (h, r, s) = position(10_000_000_000, 90, maint_weight(500), 900_000_000);
        let l = plan(&h, &r, &s, &params(), 1_000_000).unwrap();
        assert_eq!(l.repay, 1_000_000);
        // Only 1 SOL left in the slot ($90): seizes it all, repays 90 / 1.0526 = 85.50…, up.
        let small = SeizeSide { deposit: 1_000_000_000, ..s };
        let l = plan(&h, &r, &small, &params(), u64::MAX).unwrap();
        assert_eq!(l.seize, 1_000_000_000);
        assert_eq!(l.repay, 85_502_566);
    }

    #[test]
    fn a_dust_position_closes_out_in_full() {
        // $9 of debt against $8.55 of weighted collateral.
        let (h, r, s) = position(100_000_000, 90, maint_weight(500), 9_000_000);
        let l = plan(&h, &r, &s, &params(), u64::MAX).unwrap();
        assert_eq!(l.repay, (9_000_000u64 * 10_000).div_ceil(10_526)); // the slot bounds it
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
    fn pool_split_and_coverage() {
        assert_eq!(split_to_pool(100, 50, 120), (70, 30));
        assert_eq!(split_to_pool(100, 150, 120), (0, 100));
        assert_eq!(split_to_pool(10, 0, 120), (10, 0));
        assert_eq!(coverage_bps(60, 120), 5_000);
        assert_eq!(coverage_bps(0, 0), 10_000);
    }

    proptest! {
        /// Whatever the figures, a liquidation never lowers the health surplus (up to one token
        /// unit of rounding on each side), never seizes more than the slot, never repays more
        /// than the debt, and never leaves the position healthier than the target.
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
        ) {
            let w = maint_weight(haircut);
            let (h, r, s) = position(units, price, w, debt);
            let p = LiquidationParams { bonus_min_bps: bonus_min, bonus_max_bps: bonus_min + bonus_span, close_factor_bps: close, ..params() };
            match plan(&h, &r, &s, &p, max_repay) {
                Err(LiquidationError::NotLiquidatable) => prop_assert!(!h.is_liquidatable()),
                Err(LiquidationError::TooSmall) => {}
                Err(e) => prop_assert!(false, "{e:?}"),
                Ok(l) => {
                    prop_assert!(l.seize <= s.deposit && l.repay <= r.debt && l.repay <= max_repay);
                    prop_assert_eq!(l.to_keeper + l.fee, l.seize);
                    let a = after(&l, &r, &s);
                    let unit = usd_value(1, 9, s.price, -8, Rounding::Up).unwrap() + usd_value(1, 6, r.price, -8, Rounding::Up).unwrap();
                    let before = h.maint_collateral as i128 - h.maint_debt as i128;
                    let after_surplus = a.maint_collateral as i128 - a.maint_debt as i128;
                    prop_assert!(after_surplus + unit as i128 >= before, "surplus fell: {before} → {after_surplus}");
                    if h.debt_value >= p.dust_debt_value && a.maint_debt > 0 {
                        // maint_collateral / maint_debt ≤ target, up to a seized unit
                        let slack = usd_value(1, 9, s.price, -8, Rounding::Up).unwrap();
                        prop_assert!(a.maint_collateral <= a.maint_debt * 10_500 / 10_000 + slack);
                    }
                }
            }
        }
    }
}
