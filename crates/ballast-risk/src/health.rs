//! Position health (SPEC §3): weights, the oracle lag band, and the aggregate figures.
//!
//! ```text
//! init_collateral  = Σ value_i × init_weight_i    (collateral at price − band)
//! maint_collateral = Σ value_i × maint_weight_i   (collateral at price)
//! init_debt        = Σ debt_j × borrow_factor_j   (debt at price + band)
//! maint_debt       = Σ debt_j × borrow_factor_j   (debt at price)
//! ```

use crate::fixed::{
    checked_mul_u64, fits_small_product, mul_div, mul_div_small, mul_wide, product_le, Rounding, BPS,
};
use crate::MathError;

/// No asset may be configured above 5× leverage.
pub const MAX_LEVERAGE_BPS: u32 = 50_000;

/// Weights are scaled by 1e9 (not WAD): a WAD value times a 1e9 weight stays within `u128` for
/// slot values up to $3.4 × 10^11, and 1e-9 is fine enough for a leverage cap to bind exactly.
pub const WEIGHT_ONE: u128 = 1_000_000_000;

/// Reported ratios (health factor, leverage) are scaled by 1e9.
pub const RATIO_ONE: u128 = 1_000_000_000;

/// `a / b` scaled by `RATIO_ONE`, computed in two steps so WAD-sized operands cannot overflow.
fn ratio(a: u128, b: u128, rounding: Rounding) -> Option<u128> {
    if b == 0 {
        return None;
    }
    // One division when `a × RATIO_ONE` fits (every position below $3 × 10¹¹): wide divisions
    // are the costly step on SBF.
    if let Ok(r) = mul_div(a, RATIO_ONE, b, rounding) {
        return Some(r);
    }
    // Otherwise in two steps, the remainder from the quotient (q × b ≤ a), not a second division.
    let q = a / b;
    let whole = q.checked_mul(RATIO_ONE)?;
    let frac = mul_div(a - q * b, RATIO_ONE, b, rounding).ok()?;
    whole.checked_add(frac)
}

/// `a × b` exactly, as its (high, low) 128-bit halves: products of two WAD figures do not fit
/// in `u128`, and comparing them must not divide (SBF has no cheap wide division).
fn wide_mul(a: u128, b: u128) -> (u128, u128) {
    const LOW: u128 = u64::MAX as u128;
    let (a_high, a_low, b_high, b_low) = ((a >> 64) as u64, a as u64, (b >> 64) as u64, b as u64);
    // One factor below 2^64 (weights, factors, most figures): two partial products, not four.
    if b_high == 0 || a_high == 0 {
        let (big_high, big_low, small) =
            if b_high == 0 { (a_high, a_low, b_low) } else { (b_high, b_low, a_low) };
        let low_part = mul_wide(big_low, small);
        let high_part = mul_wide(big_high, small); // < 2^128
        let middle = (low_part >> 64) + (high_part & LOW); // < 2^65
        return ((high_part >> 64) + (middle >> 64), (low_part & LOW) | (middle << 64));
    }
    // Four 64 × 64-bit partial products, each < 2^128.
    let low_low = mul_wide(a_low, b_low);
    let cross_a = mul_wide(a_high, b_low);
    let cross_b = mul_wide(a_low, b_high);
    let high_high = mul_wide(a_high, b_high);
    // Bits 64..192: the carry out of `low_low` and the low halves of the cross terms (< 3 × 2^64).
    let middle = (low_low >> 64) + (cross_a & LOW) + (cross_b & LOW);
    let low = (low_low & LOW) | (middle << 64);
    // The product is below 2^256, so the high half cannot overflow.
    let high = high_high + (cross_a >> 64) + (cross_b >> 64) + (middle >> 64);
    (high, low)
}

/// `a × b ≥ c × d`, exactly for every `u128` input (256-bit products, compared high half first).
pub(crate) fn product_at_least(a: u128, b: u128, c: u128, d: u128) -> bool {
    wide_mul(a, b) >= wide_mul(c, d)
}

// Weights and bps fit in u64: native 64-bit arithmetic is several times cheaper on SBF.
const WEIGHT_ONE_U64: u64 = WEIGHT_ONE as u64;

fn bps_to_weight(bps: u32) -> u128 {
    // < 2^32 × 10^5: no overflow (wrapping: a checked u64 multiply is a 128-bit libcall on SBF).
    (bps as u64).wrapping_mul(WEIGHT_ONE_U64 / 10_000) as u128
}

/// `min(1 − init_haircut, 1 − 1/max_leverage)`, scaled by `WEIGHT_ONE`, rounded down.
pub fn init_weight(init_haircut_bps: u32, max_leverage_bps: u32) -> Result<u128, MathError> {
    if init_haircut_bps as u128 > BPS || max_leverage_bps as u128 <= BPS {
        return Err(MathError::Overflow);
    }
    let from_haircut = WEIGHT_ONE - bps_to_weight(init_haircut_bps);
    // 1/L rounded up, so the weight rounds down.
    let inverse_leverage = (WEIGHT_ONE_U64 * 10_000).div_ceil(max_leverage_bps as u64) as u128;
    Ok(from_haircut.min(WEIGHT_ONE - inverse_leverage))
}

/// `1 − haircut`, scaled by `WEIGHT_ONE`; a haircut of 100 % or more gives zero.
pub fn maint_weight(maint_haircut_bps: u32) -> u128 {
    WEIGHT_ONE.saturating_sub(bps_to_weight(maint_haircut_bps))
}

/// The lag band of SPEC §2, in price-mantissa units, rounded up:
/// `band = conf + price × lag_bps_per_sec × age / 10 000`.
pub fn lag_band(price: u64, conf: u64, lag_bps_per_sec: u32, age_secs: u64) -> Result<u64, MathError> {
    let rate = checked_mul_u64(lag_bps_per_sec as u64, age_secs).ok_or(MathError::Overflow)?;
    let lag = if fits_small_product(price, rate) {
        price.wrapping_mul(rate).div_ceil(10_000) as u128 // < 2^64
    } else {
        let product = mul_wide(price, rate);
        match u64::try_from(product) {
            Ok(n) => n.div_ceil(10_000) as u128,
            Err(_) => product.div_ceil(BPS),
        }
    };
    let band = (conf as u128).checked_add(lag).ok_or(MathError::Overflow)?;
    u64::try_from(band).map_err(|_| MathError::Overflow)
}

/// Whether `band` stays within `max_band_bps` of `price`.
pub fn band_within_cap(price: u64, band: u64, max_band_bps: u32) -> bool {
    product_le(band, 10_000, price, max_band_bps as u64)
}

/// `|price − ema| / ema` in basis points, rounded down.
pub fn ema_divergence_bps(price: u64, ema: u64) -> u64 {
    if ema == 0 {
        return u64::MAX;
    }
    let diff = price.abs_diff(ema);
    match checked_mul_u64(diff, 10_000) {
        Some(n) => n / ema,
        None => u64::try_from(mul_wide(diff, 10_000) / ema as u128).unwrap_or(u64::MAX),
    }
}

/// A position's aggregate figures, all WAD-scaled USD.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Health {
    /// Σ collateral at `price − band` × init weight.
    pub init_collateral: u128,
    /// Σ collateral at `price` × maint weight.
    pub maint_collateral: u128,
    /// Σ debt at `price + band` × borrow factor.
    pub init_debt: u128,
    /// Σ debt at `price` × borrow factor.
    pub maint_debt: u128,
    /// Σ collateral at `price`, unweighted (for leverage).
    pub collateral_value: u128,
    /// Σ debt at `price`, unweighted (for leverage).
    pub debt_value: u128,
    /// `init_collateral` with every stress group shocked at once (SPEC §6): each collateral
    /// valued at `(price − band) × (1 − shock of its group)`.
    pub stressed_init_collateral: u128,
}

/// One collateral's maintenance term: its value at the price × its maintenance weight, down.
pub fn maint_collateral_term(value: u128, maint_weight: u128) -> Result<u128, MathError> {
    mul_div_small(value, maint_weight, WEIGHT_ONE, Rounding::Down)
}

/// One debt's term: its value × its borrow factor, up (maintenance at the price, initial at
/// `price + band`).
pub fn debt_term(value: u128, borrow_factor_bps: u32) -> Result<u128, MathError> {
    mul_div_small(value, borrow_factor_bps as u128, BPS, Rounding::Up)
}

/// `total − old + new`, checked: one slot's term replaced in a sum.
fn swap(total: u128, old: u128, new: u128) -> Result<u128, MathError> {
    total.checked_sub(old).and_then(|t| t.checked_add(new)).ok_or(MathError::Overflow)
}

impl Health {
    /// Adds one collateral slot: `value` at the price, `value_low` at `price − band`.
    pub fn add_collateral(
        &mut self,
        value: u128,
        value_low: u128,
        init_weight: u128,
        maint_weight: u128,
    ) -> Result<(), MathError> {
        self.add_collateral_shocked(value, value_low, init_weight, maint_weight, 0)
    }

    /// `add_collateral` for an asset whose stress group moves by `shock_bps` in the joint shock.
    pub fn add_collateral_shocked(
        &mut self,
        value: u128,
        value_low: u128,
        init_weight: u128,
        maint_weight: u128,
        shock_bps: u32,
    ) -> Result<(), MathError> {
        self.add_initial_collateral(value_low, init_weight, shock_bps)?;
        self.add_maint_collateral(value, maint_weight).map(|_| ())
    }

    /// The maintenance part of [`Health::add_collateral_shocked`] alone (`maint_collateral` and
    /// `collateral_value`, all a liquidation reads of a collateral). Returns the term it added.
    pub fn add_maint_collateral(&mut self, value: u128, maint_weight: u128) -> Result<u128, MathError> {
        let term = maint_collateral_term(value, maint_weight)?;
        self.maint_collateral = self.maint_collateral.checked_add(term).ok_or(MathError::Overflow)?;
        self.collateral_value = self.collateral_value.checked_add(value).ok_or(MathError::Overflow)?;
        Ok(term)
    }

    /// The initial-health part of [`Health::add_collateral_shocked`] alone (`init_collateral` and
    /// `stressed_init_collateral`, all that [`Health::passes_initial`] reads of a collateral).
    pub fn add_initial_collateral(
        &mut self,
        value_low: u128,
        init_weight: u128,
        shock_bps: u32,
    ) -> Result<(), MathError> {
        let init = mul_div_small(value_low, init_weight, WEIGHT_ONE, Rounding::Down)?;
        // Without a shock the stressed term is the initial one (no second division on chain).
        let stressed = if shock_bps == 0 {
            init
        } else {
            let shocked_low =
                mul_div_small(value_low, BPS.saturating_sub(shock_bps as u128), BPS, Rounding::Down)?;
            mul_div_small(shocked_low, init_weight, WEIGHT_ONE, Rounding::Down)?
        };
        self.stressed_init_collateral =
            self.stressed_init_collateral.checked_add(stressed).ok_or(MathError::Overflow)?;
        self.init_collateral = self.init_collateral.checked_add(init).ok_or(MathError::Overflow)?;
        Ok(())
    }

    /// Adds one debt slot: `value` at the price, `value_high` at `price + band`.
    pub fn add_debt(
        &mut self,
        value: u128,
        value_high: u128,
        borrow_factor_bps: u32,
    ) -> Result<(), MathError> {
        self.add_initial_debt(value_high, borrow_factor_bps)?;
        self.add_maint_debt(value, borrow_factor_bps).map(|_| ())
    }

    /// The maintenance part of [`Health::add_debt`] alone (`maint_debt` and `debt_value`).
    /// Returns the term it added.
    pub fn add_maint_debt(&mut self, value: u128, borrow_factor_bps: u32) -> Result<u128, MathError> {
        let term = debt_term(value, borrow_factor_bps)?;
        self.maint_debt = self.maint_debt.checked_add(term).ok_or(MathError::Overflow)?;
        self.debt_value = self.debt_value.checked_add(value).ok_or(MathError::Overflow)?;
        Ok(term)
    }

    /// The initial-health part of [`Health::add_debt`] alone (`init_debt`).
    pub fn add_initial_debt(&mut self, value_high: u128, borrow_factor_bps: u32) -> Result<(), MathError> {
        self.init_debt = self
            .init_debt
            .checked_add(debt_term(value_high, borrow_factor_bps)?)
            .ok_or(MathError::Overflow)?;
        Ok(())
    }

    /// These figures with the slots in `old` replaced by those in `new` (each a sum over the
    /// same slots before and after a change): every figure is a sum of per-slot terms, so the
    /// result equals re-aggregating every slot.
    pub fn replace(&self, old: &Health, new: &Health) -> Result<Health, MathError> {
        Ok(Health {
            init_collateral: swap(self.init_collateral, old.init_collateral, new.init_collateral)?,
            maint_collateral: swap(self.maint_collateral, old.maint_collateral, new.maint_collateral)?,
            init_debt: swap(self.init_debt, old.init_debt, new.init_debt)?,
            maint_debt: swap(self.maint_debt, old.maint_debt, new.maint_debt)?,
            collateral_value: swap(self.collateral_value, old.collateral_value, new.collateral_value)?,
            debt_value: swap(self.debt_value, old.debt_value, new.debt_value)?,
            stressed_init_collateral: swap(
                self.stressed_init_collateral,
                old.stressed_init_collateral,
                new.stressed_init_collateral,
            )?,
        })
    }

    /// [`Health::replace`] of the maintenance terms alone (`maint_collateral`, `maint_debt`);
    /// every other figure is kept. Equal to `replace` when `old` and `new` carry nothing else,
    /// as a liquidation's two slots do: two swaps instead of seven.
    pub fn replace_maint(&self, old: &Health, new: &Health) -> Result<Health, MathError> {
        Ok(Health {
            maint_collateral: swap(self.maint_collateral, old.maint_collateral, new.maint_collateral)?,
            maint_debt: swap(self.maint_debt, old.maint_debt, new.maint_debt)?,
            ..*self
        })
    }

    /// `maint_collateral − maint_debt` compared: true when `self` has at least `other`'s surplus.
    pub fn maint_surplus_at_least(&self, other: &Health) -> bool {
        // a_c − a_d ≥ b_c − b_d  ⇔  a_c + b_d ≥ b_c + a_d (no signed arithmetic on chain)
        match (
            self.maint_collateral.checked_add(other.maint_debt),
            other.maint_collateral.checked_add(self.maint_debt),
        ) {
            (Some(a), Some(b)) => a >= b,
            _ => false,
        }
    }

    /// `maint_collateral / maint_debt` compared: true when `self`'s health factor is at least
    /// `other`'s. Exact: `a_c / a_d ≥ b_c / b_d ⇔ a_c × b_d ≥ b_c × a_d`, cross-multiplied in
    /// 256 bits, so there is no division, no rounding and no signed arithmetic. Without
    /// maintenance debt the factor is unbounded: `self` without debt is at least anything, and
    /// nothing with debt is at least an `other` without debt.
    pub fn health_factor_at_least(&self, other: &Health) -> bool {
        if self.maint_debt == 0 {
            return true;
        }
        if other.maint_debt == 0 {
            return false;
        }
        product_at_least(self.maint_collateral, other.maint_debt, other.maint_collateral, self.maint_debt)
    }

    /// Collateral covers debt at the plain price, unweighted: `collateral_value ≥ debt_value`.
    /// A liquidation of a solvent position must not lower its health factor (SPEC §5).
    pub fn is_solvent(&self) -> bool {
        self.collateral_value >= self.debt_value
    }

    /// Borrow and withdraw need `init_collateral ≥ init_debt` afterwards, also under the joint
    /// stress shock (which never values collateral higher, so it is the binding test).
    pub fn passes_initial(&self) -> bool {
        self.init_collateral >= self.init_debt && self.stressed_init_collateral >= self.init_debt
    }

    /// A position may be liquidated when `maint_collateral < maint_debt`.
    pub fn is_liquidatable(&self) -> bool {
        self.maint_collateral < self.maint_debt
    }

    /// `maint_collateral / maint_debt`, scaled by `RATIO_ONE`, rounded down; `None` without debt.
    pub fn health_factor(&self) -> Option<u128> {
        ratio(self.maint_collateral, self.maint_debt, Rounding::Down)
    }

    /// `Σ value / (Σ value − Σ debt)`, scaled by `RATIO_ONE`, rounded up; `None` when equity is
    /// zero or negative.
    pub fn leverage(&self) -> Option<u128> {
        let equity = self.collateral_value.checked_sub(self.debt_value).filter(|e| *e > 0)?;
        ratio(self.collateral_value, equity, Rounding::Up)
    }

    /// The price of one collateral asset at which the position becomes liquidatable, others
    /// fixed: the asset contributes `weighted_value` (= value × maint weight) at `price`.
    /// `None` when no drop of this asset alone can make it liquidatable (or it already is).
    pub fn liquidation_price(&self, price: u64, weighted_value: u128) -> Option<u64> {
        if self.maint_debt == 0 || weighted_value == 0 || self.is_liquidatable() {
            return None;
        }
        let surplus = self.maint_collateral - self.maint_debt;
        if surplus >= weighted_value {
            return None;
        }
        // price × (1 − surplus / weighted_value), rounded up (the warning comes early).
        let keep = weighted_value - surplus;
        mul_div(price as u128, keep, weighted_value, Rounding::Up).ok().and_then(|p| u64::try_from(p).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::WAD;
    use proptest::prelude::*;

    #[test]
    fn leverage_cap_binds_when_it_is_tighter_than_the_haircut() {
        // 3× ⇒ 1 − 1/3 = 0.666…; a 20 % haircut alone would allow 0.8.
        assert_eq!(init_weight(2_000, 30_000).unwrap(), 666_666_666);
        // a 50 % haircut is tighter than 5× (0.8).
        assert_eq!(init_weight(5_000, 50_000).unwrap(), WEIGHT_ONE / 2);
        assert!(init_weight(0, 10_000).is_err(), "1× leverage leaves nothing to borrow");
    }

    #[test]
    fn band_grows_with_age() {
        // price 100.00000000, conf 0.05, 25 bps per second.
        let price = 10_000_000_000;
        assert_eq!(lag_band(price, 5_000_000, 25, 0).unwrap(), 5_000_000);
        assert_eq!(lag_band(price, 5_000_000, 25, 1).unwrap(), 30_000_000);
        assert_eq!(lag_band(price, 5_000_000, 25, 3).unwrap(), 80_000_000);
        assert!(band_within_cap(price, 80_000_000, 80));
        assert!(!band_within_cap(price, 80_000_001, 80));
    }

    #[test]
    fn divergence_in_bps() {
        assert_eq!(ema_divergence_bps(10_120, 10_000), 120);
        assert_eq!(ema_divergence_bps(9_850, 10_000), 150);
    }

    #[test]
    fn a_three_x_position_at_the_limit() {
        // $300 of collateral with weight 0.666666666 supports $199.9999998 of debt: 3× leverage.
        let w = init_weight(0, 30_000).unwrap();
        let mut h = Health::default();
        h.add_collateral(300 * WAD, 300 * WAD, w, w).unwrap();
        h.add_debt(199_999_999_800_000_000_000, 199_999_999_800_000_000_000, 10_000).unwrap();
        assert!(h.passes_initial());
        // 300 / 100.0000002 = 2.999999994
        assert_eq!(h.leverage(), Some(2_999_999_995));
        h.add_debt(1, 1, 10_000).unwrap();
        assert!(!h.passes_initial());
    }

    #[test]
    fn liquidation_price_is_where_maintenance_breaks() {
        let mut h = Health::default();
        let w = maint_weight(2_000); // 0.8
        h.add_collateral(1_000 * WAD, 1_000 * WAD, w, w).unwrap(); // 10 units at $100
        h.add_debt(600 * WAD, 600 * WAD, 10_000).unwrap();
        // 10 × p × 0.8 = 600 ⇒ p = 75.
        assert_eq!(h.liquidation_price(10_000_000_000, 800 * WAD), Some(7_500_000_000));
        assert_eq!(h.health_factor(), Some(1_333_333_333));
    }

    #[test]
    fn the_joint_shock_binds_across_groups() {
        // $500 of equities (shock 20 %) and $500 of majors (shock 10 %) at weight 0.8.
        let w = 800_000_000;
        let mut h = Health::default();
        h.add_collateral_shocked(500 * WAD, 500 * WAD, w, w, 2_000).unwrap();
        h.add_collateral_shocked(500 * WAD, 500 * WAD, w, w, 1_000).unwrap();
        assert_eq!(h.init_collateral, 800 * WAD);
        assert_eq!(h.stressed_init_collateral, 680 * WAD); // (400 + 450) × 0.8
        h.add_debt(700 * WAD, 700 * WAD, 10_000).unwrap();
        assert!(!h.passes_initial(), "800 covers 700, the joint shock's 680 does not");
    }

    #[test]
    fn wide_products_are_exact() {
        let max = u128::MAX;
        // (2^128 − 1)^2 = 2^256 − 2^129 + 1
        assert_eq!(wide_mul(max, max), (max - 1, 1));
        assert_eq!(wide_mul(1 << 64, 1 << 64), (1, 0));
        assert_eq!(wide_mul(max, 2), (1, max - 1));
        assert!(product_at_least(max, max, max - 1, max));
        assert!(!product_at_least(max - 1, max, max, max));
    }

    /// The 256-bit product against big integers, with either factor below 2^64 (the two-product
    /// path) or both above it.
    #[test]
    fn wide_products_match_big_integers() {
        use num_bigint::BigUint;
        let mut x: u128 = 0x2545_f491_4f6c_dd1d_9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let a = x >> (x as u32 % 128);
            let b = x.rotate_left(43) >> (x.rotate_left(11) as u32 % 128);
            for (a, b) in [(a, b), (b, a), (a, b as u64 as u128), (a as u64 as u128, b)] {
                let (high, low) = wide_mul(a, b);
                let got = (BigUint::from(high) << 128u32) + BigUint::from(low);
                assert_eq!(got, BigUint::from(a) * BigUint::from(b), "{a} * {b}");
            }
        }
    }

    #[test]
    fn health_factor_comparison_is_exact_beyond_u128() {
        // $10^12 figures: their cross products (~10^60) overflow u128.
        let big = 1_000_000_000_000 * WAD;
        let before = Health { maint_collateral: big - 3, maint_debt: big, ..Health::default() };
        let same = Health { maint_collateral: 2 * (big - 3), maint_debt: 2 * big, ..Health::default() };
        let lower = Health { maint_collateral: big - 4, maint_debt: big, ..Health::default() };
        assert!(same.health_factor_at_least(&before) && before.health_factor_at_least(&same));
        assert!(before.health_factor_at_least(&lower) && !lower.health_factor_at_least(&before));
        // Without debt the factor is unbounded.
        let repaid = Health { maint_collateral: 5, ..Health::default() };
        assert!(repaid.health_factor_at_least(&before) && !before.health_factor_at_least(&repaid));
        assert!(Health::default().health_factor_at_least(&Health::default()));
    }

    proptest! {
        /// Where the products fit in u128, the wide comparison agrees with the plain one; the
        /// health-factor comparison agrees with the (rounded) reported factor whenever those differ.
        #[test]
        fn wide_comparison_agrees_with_u128(a in any::<u64>(), b in any::<u128>(), c in any::<u64>(), d in any::<u128>()) {
            let (b, d) = (b >> 64 | 1, d >> 64 | 1); // keep both products below 2^128
            prop_assert_eq!(product_at_least(a as u128, b, c as u128, d), a as u128 * b >= c as u128 * d);
            let (x, y) = (wide_mul(a as u128, b), wide_mul(b, a as u128));
            prop_assert_eq!(x, y);
            prop_assert_eq!(x, (0, a as u128 * b));
        }

        #[test]
        fn health_factor_comparison_agrees_with_the_ratio(c1 in 0u128..1 << 100, d1 in 1u128..1 << 100, c2 in 0u128..1 << 100, d2 in 1u128..1 << 100) {
            let one = Health { maint_collateral: c1, maint_debt: d1, ..Health::default() };
            let two = Health { maint_collateral: c2, maint_debt: d2, ..Health::default() };
            let (Some(f1), Some(f2)) = (one.health_factor(), two.health_factor()) else { return Ok(()) }; // factor ≥ 2^128 / 10^9
            if f1 > f2 {
                prop_assert!(one.health_factor_at_least(&two) && !two.health_factor_at_least(&one));
            }
            prop_assert!(one.health_factor_at_least(&two) || two.health_factor_at_least(&one));
        }

        /// Replacing a pair of maintenance terms alone is `replace` with nothing else in the
        /// pair: every other figure kept, the two swapped, the same overflow refusals.
        #[test]
        fn replacing_maintenance_terms_is_replacing_a_pair(
            total in proptest::array::uniform7(0u128..1 << 100),
            old in (0u128..1 << 101, 0u128..1 << 101),
            new in (0u128..1 << 101, 0u128..1 << 101),
        ) {
            let [a, b, c, d, e, f, g] = total;
            let health = Health { init_collateral: a, maint_collateral: b, init_debt: c, maint_debt: d,
                collateral_value: e, debt_value: f, stressed_init_collateral: g };
            let pair = |(c, d): (u128, u128)| Health { maint_collateral: c, maint_debt: d, ..Health::default() };
            prop_assert_eq!(health.replace_maint(&pair(old), &pair(new)), health.replace(&pair(old), &pair(new)));
        }

        /// The weight never exceeds what the leverage cap allows: collateral × w ≥ debt implies
        /// leverage ≤ cap.
        #[test]
        fn weight_respects_the_leverage_cap(haircut in 0u32..=9_500, lev in 10_001u32..=50_000) {
            let w = init_weight(haircut, lev).unwrap();
            // leverage at the limit = 1 / (1 − w) ≤ L/10 000  ⇔  (1 − w) × L ≥ 10 000 (in WAD)
            prop_assert!((WEIGHT_ONE - w) * lev as u128 >= WEIGHT_ONE * BPS);
        }

        /// A larger band never makes a position look healthier.
        #[test]
        fn band_is_monotonic(price in 1u64..1_000_000_000_000, conf in 0u64..1_000_000, lag in 0u32..100, age in 0u64..300) {
            prop_assert!(lag_band(price, conf, lag, age + 1).unwrap() >= lag_band(price, conf, lag, age).unwrap());
        }

        /// The band and its cap are exact on both sides of the native-multiply bound (a price at
        /// 2^48, a rate at 2^16): `conf + ⌈price × lag × age / 10 000⌉` and `band × 10 000 ≤
        /// price × cap`, in big integers.
        #[test]
        fn band_and_cap_are_exact_around_the_native_bound(
            price in prop_oneof![1u64..1 << 20, (1u64 << 47)..(1 << 49), any::<u64>()],
            conf in any::<u32>(),
            lag in prop_oneof![0u32..4, 0u32..=u16::MAX as u32, any::<u32>()],
            age in prop_oneof![0u64..70_000, any::<u32>().prop_map(u64::from)],
            cap in 0u32..=u16::MAX as u32,
        ) {
            use num_bigint::BigUint;
            let big = |v: u64| BigUint::from(v);
            let lag_part = (big(price) * big(lag as u64) * big(age) + 9_999u32) / 10_000u32;
            let want = big(conf as u64) + lag_part;
            match lag_band(price, conf as u64, lag, age) {
                Ok(band) => {
                    prop_assert_eq!(big(band), want);
                    prop_assert_eq!(
                        band_within_cap(price, band, cap),
                        big(band) * 10_000u32 <= big(price) * big(cap as u64)
                    );
                }
                // Refused only when the rate or the band does not fit 64 bits.
                Err(_) => prop_assert!(want.bits() > 64 || (lag as u64).checked_mul(age).is_none()),
            }
        }
    }
}
