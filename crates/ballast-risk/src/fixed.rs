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
    let n = a.checked_mul(b).ok_or(MathError::Overflow)?;
    Ok(match rounding {
        Rounding::Down => n / c,
        Rounding::Up => n.div_ceil(c),
    })
}

/// `10^exp` for `exp <= 38`.
pub fn pow10(exp: u32) -> Result<u128, MathError> {
    10u128.checked_pow(exp).ok_or(MathError::Overflow)
}
