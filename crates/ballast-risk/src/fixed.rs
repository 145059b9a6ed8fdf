//! Fixed-point helpers. USD values are `u128` scaled by `WAD` (1e18 = $1); weights are scaled
//! by `health::WEIGHT_ONE` (1e9); basis points have `BPS` = 10 000 = 100 %.

use crate::MathError;

pub const WAD: u128 = 1_000_000_000_000_000_000;
pub const BPS: u128 = 10_000;

/// Which way a division rounds. The protocol's side decides: what a user is credited rounds
/// down, what a user owes rounds up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    Down,
    Up,
}

/// `a * b / c` in 128 bits, rounded as asked.
pub fn mul_div(a: u128, b: u128, c: u128, rounding: Rounding) -> Result<u128, MathError> {
    if c == 0 {
        return Err(MathError::Overflow);
    }
    let n = mul(a, b)?;
    Ok(match rounding {
        Rounding::Down => n / c,
        Rounding::Up => n.div_ceil(c),
    })
}

/// `a * b`, checked, from 64-bit halves: Rust's `checked_mul` on u128 is a slow generic
/// libcall on SBF, and here at least one operand is almost always below 2^64.
pub fn mul(a: u128, b: u128) -> Result<u128, MathError> {
    let (a_hi, b_hi) = ((a >> 64) as u64, (b >> 64) as u64);
    if a_hi == 0 && b_hi == 0 {
        return Ok(a * b);
    }
    if a_hi != 0 && b_hi != 0 {
        return Err(MathError::Overflow);
    }
    let (big, small) = if a_hi != 0 { (a, b as u64) } else { (b, a as u64) };
    let hi = ((big >> 64) as u64 as u128) * small as u128;
    if hi >> 64 != 0 {
        return Err(MathError::Overflow);
    }
    let lo = (big as u64 as u128) * small as u128;
    (hi << 64).checked_add(lo).ok_or(MathError::Overflow)
}

const POW10: [u128; 39] = {
    let mut t = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `10^exp` for `exp <= 38`, from a table.
pub fn pow10(exp: u32) -> Result<u128, MathError> {
    POW10.get(exp as usize).copied().ok_or(MathError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_and_pow10_agree_with_checked_arithmetic() {
        let samples = [
            0,
            1,
            3,
            u64::MAX as u128,
            1 << 64,
            (1 << 64) + 12_345,
            u128::MAX / 2,
            u128::MAX / 3,
            1_000_000_000_000_000_000_000,
            u128::MAX,
        ];
        for a in samples {
            for b in samples {
                assert_eq!(mul(a, b).ok(), a.checked_mul(b), "{a} * {b}");
            }
        }
        for e in 0..=38 {
            assert_eq!(pow10(e), Ok(10u128.pow(e)));
        }
        assert_eq!(pow10(39), Err(MathError::Overflow));
    }
}
