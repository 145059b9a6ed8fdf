//! Token amounts to USD values.

use crate::fixed::{mul, mul_div, mul_wide, pow10, Rounding};
use crate::MathError;

/// USD value, WAD-scaled, of `amount` base units of a token with `decimals`, at a price of
/// `mantissa × 10^expo` USD per whole token.
///
/// `value = amount × mantissa × 10^(expo − decimals) × 10^18`, rounded as asked.
#[inline]
pub fn usd_value(
    amount: u64,
    decimals: u8,
    mantissa: u64,
    expo: i32,
    rounding: Rounding,
) -> Result<u128, MathError> {
    let raw = mul_wide(amount, mantissa); // u64 × u64 fits
    let shift = 18i64 + expo as i64 - decimals as i64;
    if shift >= 0 {
        mul(raw, pow10(shift as u32)?)
    } else {
        let div = pow10((-shift) as u32)?;
        mul_div(raw, 1, div, rounding)
    }
}

/// Base units of a token worth `value` (WAD USD) at `mantissa × 10^expo`, rounded as asked.
pub fn token_amount(
    value: u128,
    decimals: u8,
    mantissa: u64,
    expo: i32,
    rounding: Rounding,
) -> Result<u64, MathError> {
    if mantissa == 0 {
        return Err(MathError::Overflow);
    }
    // amount = value / 1e18 / (mantissa × 10^expo) × 10^decimals: one power of ten, one division.
    let shift = decimals as i64 - expo as i64 - 18;
    let q = if shift >= 0 {
        mul_div(value, pow10(shift as u32)?, mantissa as u128, rounding)?
    } else {
        let den = mul(mantissa as u128, pow10((-shift) as u32)?)?;
        mul_div(value, 1, den, rounding)?
    };
    u64::try_from(q).map_err(|_| MathError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sol_at_134_dollars() {
        // 2.5 SOL (9 decimals) at 134.67731930 USD (expo -8).
        let v = usd_value(2_500_000_000, 9, 13_467_731_930, -8, Rounding::Down).unwrap();
        assert_eq!(v, 336_693_298_250_000_000_000); // $336.69329825
    }

    #[test]
    fn rounding_direction_applies_when_precision_is_lost() {
        // 1 base unit of a 6-decimal token at 0.0000345526 USD (BONK-like, expo -10).
        assert_eq!(usd_value(1, 6, 345_526, -10, Rounding::Down).unwrap(), 34_552_600);
        assert_eq!(usd_value(1, 5, 345_526, -10, Rounding::Down).unwrap(), 345_526_000);
        assert_eq!(usd_value(3, 9, 1, -12, Rounding::Down).unwrap(), 0);
        assert_eq!(usd_value(3, 9, 1, -12, Rounding::Up).unwrap(), 1);
    }

    #[test]
    fn amount_round_trips_through_value() {
        let v = usd_value(123_456_789, 6, 99_987_654, -8, Rounding::Down).unwrap();
        let a = token_amount(v, 6, 99_987_654, -8, Rounding::Down).unwrap();
        assert!((123_456_788..=123_456_789).contains(&a));
        let up = token_amount(v, 6, 99_987_654, -8, Rounding::Up).unwrap();
        assert!(up >= a && up <= a + 1);
    }

    #[test]
    fn large_values_keep_their_cents() {
        // $6 072.826084 at $3 632 per 9-decimal token (value × 10^17 would not fit in u128).
        let v = 6_072_826_084_000_000_000_000;
        assert_eq!(token_amount(v, 9, 363_200_000_000, -8, Rounding::Down).unwrap(), 1_672_033_613);
        assert_eq!(token_amount(v, 9, 363_200_000_000, -8, Rounding::Up).unwrap(), 1_672_033_614);
    }

    #[test]
    fn overflow_is_an_error() {
        assert_eq!(usd_value(u64::MAX, 0, u64::MAX, 10, Rounding::Down), Err(MathError::Overflow));
    }
}
