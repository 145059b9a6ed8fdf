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

/// `a * b / c` in 128 bits, rounded as asked. Always inlined, as is [`mul`]: the program crate is
/// built for size, and a call per use cost more than its copies (docs/decisions.md).
#[inline(always)]
pub fn mul_div(a: u128, b: u128, c: u128, rounding: Rounding) -> Result<u128, MathError> {
    if c == 0 {
        return Err(MathError::Overflow);
    }
    Ok(div(mul(a, b)?, c, rounding))
}

/// `n / d` rounded as asked (`d > 0`), by the cheapest exact route on SBF, never the 128-bit
/// division helper (a software loop of several hundred compute units): one native division when
/// both fit 64 bits; [`div_u64`] when the divisor does; [`div_wide`] when it does not.
#[inline(always)]
pub fn div(n: u128, d: u128, rounding: Rounding) -> u128 {
    if let Ok(d) = u64::try_from(d) {
        if let Ok(n) = u64::try_from(n) {
            return match rounding {
                Rounding::Down => n / d,
                Rounding::Up => n.div_ceil(d),
            } as u128;
        }
        // A divisor below 2^32 (basis points, weights): four digits, inline.
        if d >> 32 == 0 {
            return div_small(n, d, rounding);
        }
        return div_u64(n, d, rounding);
    }
    let (q, r) = div_wide(n, d);
    match rounding {
        Rounding::Up if r != 0 => q + 1, // q < 2^64
        _ => q,
    }
}

/// `n / d` rounded as asked for a 64-bit divisor `d > 0`: the high word natively, then the
/// remainder and the low word as a 128-by-64 division from 32-bit digits (Knuth's algorithm D,
/// in the form of Hacker's Delight §9.4): native 64-bit divisions, each digit estimate
/// corrected at most twice. Not inlined: one copy serves every caller.
#[inline(never)]
pub fn div_u64(n: u128, d: u64, rounding: Rounding) -> u128 {
    debug_assert!(d != 0);
    let (hi, lo) = ((n >> 64) as u64, n as u64);
    let (q_hi, r) = (hi / d, hi % d);
    let (q_lo, remainder) = div_128_by_64(r, lo, d);
    let q = ((q_hi as u128) << 64) | q_lo as u128;
    match rounding {
        Rounding::Up if remainder != 0 => q + 1, // q < n: no overflow
        _ => q,
    }
}

/// `n / d` and its remainder for a divisor of 2^64 or more (the quotient then fits 64 bits):
/// the divisor's top 64 bits, normalized, give an estimate from [`div_128_by_64`] that is
/// exact or one too small (Hacker's Delight §9.5), then one multiply and compare correct it.
/// Instead of the 128-bit division helper's bit loop.
#[inline(never)]
fn div_wide(n: u128, d: u128) -> (u128, u128) {
    debug_assert!(d >> 64 != 0);
    if n < d {
        return (0, n);
    }
    let s = ((d >> 64) as u64).leading_zeros(); // 0..=63
    let top = ((d << s) >> 64) as u64; // the divisor's top 64 bits, top bit set
    let half = n >> 1; // < 2^127, so its high word is below `top` (≥ 2^63)
    let (estimate, _) = div_128_by_64((half >> 64) as u64, half as u64, top);
    let mut q = (estimate >> (63 - s)) as u128;
    q = q.saturating_sub(1);
    // q ≤ n / d, so q × d ≤ n: no overflow (q < 2^64, and the product is at most n).
    let mut r = n - mul_wide_u128(q as u64, d);
    if r >= d {
        q += 1;
        r -= d;
    }
    (q, r)
}

/// `a × b` for a 64-bit `a`, when the product is known to fit 128 bits.
#[inline(always)]
fn mul_wide_u128(a: u64, b: u128) -> u128 {
    let lo = mul_wide(a, b as u64);
    let hi = mul_wide(a, (b >> 64) as u64);
    lo.wrapping_add(hi << 64)
}

/// `(u1 · 2^64 + u0) / v` and its remainder, for `u1 < v` (the quotient fits 64 bits).
#[inline(always)]
fn div_128_by_64(u1: u64, u0: u64, v: u64) -> (u64, u64) {
    const B: u64 = 1 << 32;
    const LOW: u64 = B - 1;
    // Normalized: the divisor's top bit set, so each digit estimate is at most 2 too large.
    let s = v.leading_zeros();
    let v = v << s;
    let (vn1, vn0) = (v >> 32, v & LOW);
    let un32 = if s == 0 { u1 } else { (u1 << s) | (u0 >> (64 - s)) };
    let un10 = u0 << s;
    let (un1, un0) = (un10 >> 32, un10 & LOW);
    // One 32-bit digit of (top · 2^32 + next) / v: estimated from the divisor's high digit,
    // lowered while too large. In the test q < B, so q × vn0 < 2^64; and rhat < B, so
    // rhat × B + next < 2^64. The algorithm's other steps wrap by design.
    let digit = |top: u64, next: u64| -> u64 {
        let mut q = top / vn1;
        let mut rhat = top - q.wrapping_mul(vn1);
        while q >= B || q.wrapping_mul(vn0) > rhat.wrapping_mul(B).wrapping_add(next) {
            q -= 1;
            rhat += vn1;
            if rhat >= B {
                break;
            }
        }
        q
    };
    let q1 = digit(un32, un1);
    let un21 = un32.wrapping_mul(B).wrapping_add(un1).wrapping_sub(q1.wrapping_mul(v));
    let q0 = digit(un21, un0);
    let r = un21.wrapping_mul(B).wrapping_add(un0).wrapping_sub(q0.wrapping_mul(v)) >> s;
    (q1.wrapping_mul(B).wrapping_add(q0), r)
}

/// `n / c` rounded as asked for `0 < c < 2^32`: four 32-bit digits from the top, one native
/// 64-bit division each (the remainder stays below `c`).
#[inline(always)]
fn div_small(n: u128, c: u64, rounding: Rounding) -> u128 {
    let (mut quotient, mut remainder) = (0u128, 0u64);
    for shift in [96u32, 64, 32, 0] {
        let current = (remainder << 32) | ((n >> shift) as u64 & 0xffff_ffff);
        quotient = (quotient << 32) | (current / c) as u128;
        remainder = current % c;
    }
    match rounding {
        Rounding::Up if remainder != 0 => quotient + 1, // the quotient is below n: no overflow
        _ => quotient,
    }
}

/// `n / 10^18` (a WAD) rounded as asked ([`div`]: natively when `n` fits 64 bits).
#[inline(always)]
pub fn div_wad(n: u128, rounding: Rounding) -> u128 {
    div(n, WAD, rounding)
}

/// `a × b / c` rounded as asked, where `b` and `c` are below 2^32 (weights, basis points): the
/// product in five 32-bit limbs and a schoolbook division with one native 64-bit division per
/// limb, instead of [`mul_div`]'s call to the 128-bit division helper (about 60 instructions
/// less on SBF). Exact for every `a`: the product may pass 128 bits as long as the quotient does
/// not. Any other `b` or `c` goes to [`mul_div`].
#[inline]
pub fn mul_div_small(a: u128, b: u128, c: u128, rounding: Rounding) -> Result<u128, MathError> {
    if (b | c) >> 32 != 0 || c == 0 {
        return mul_div(a, b, c, rounding);
    }
    const LOW: u64 = 0xffff_ffff;
    let (b, c) = (b as u64, c as u64);
    let (lo, hi) = (a as u64, (a >> 64) as u64);
    // Wrapping, not checked (a checked u64 multiply is a 128-bit libcall on SBF): a limb times
    // `b` plus a carry is at most (2^32 − 1)^2 + 2^32 − 1 < 2^64.
    let mut product = [0u64; 5];
    let mut carry = 0u64;
    for (i, limb) in [lo & LOW, lo >> 32, hi & LOW, hi >> 32].into_iter().enumerate() {
        let t = limb.wrapping_mul(b).wrapping_add(carry);
        product[i] = t & LOW;
        carry = t >> 32;
    }
    product[4] = carry;
    // From the top limb down; the remainder stays below `c` < 2^32, so each step fits 64 bits.
    let (mut quotient, mut remainder) = (0u128, 0u64);
    for (i, limb) in product.into_iter().enumerate().rev() {
        let current = (remainder << 32) | limb;
        let digit = current / c;
        remainder = current % c;
        if i == 4 && digit != 0 {
            return Err(MathError::Overflow); // the quotient needs more than 128 bits
        }
        quotient = (quotient << 32) | digit as u128;
    }
    match rounding {
        Rounding::Up if remainder != 0 => quotient.checked_add(1).ok_or(MathError::Overflow),
        _ => Ok(quotient),
    }
}

/// `a * b`, checked, from 64-bit halves: Rust's `checked_mul` on u128 is a slow generic
/// libcall on SBF, and here at least one operand is almost always below 2^64.
#[inline(always)]
pub fn mul(a: u128, b: u128) -> Result<u128, MathError> {
    let (a_hi, b_hi) = ((a >> 64) as u64, (b >> 64) as u64);
    if a_hi == 0 && b_hi == 0 {
        return Ok(mul_wide(a as u64, b as u64));
    }
    if a_hi != 0 && b_hi != 0 {
        return Err(MathError::Overflow);
    }
    let (big, small) = if a_hi != 0 { (a, b as u64) } else { (b, a as u64) };
    let hi = mul_wide((big >> 64) as u64, small);
    if hi >> 64 != 0 {
        return Err(MathError::Overflow);
    }
    let lo = mul_wide(big as u64, small);
    (hi << 64).checked_add(lo).ok_or(MathError::Overflow)
}

/// `a × b` in full. SBF has no 64 × 64 → 128-bit multiply: LLVM calls the generic 128-bit
/// `__multi3` for it (and for every `checked_mul` of two u64), about 45 instructions with the
/// call, where [`mul_wide_limbs`] inline is about 15. Other targets multiply natively.
#[inline(always)]
pub fn mul_wide(a: u64, b: u64) -> u128 {
    #[cfg(target_os = "solana")]
    return mul_wide_limbs(a, b);
    #[cfg(not(target_os = "solana"))]
    return a as u128 * b as u128;
}

/// `a × b` from four 32 × 32-bit products. None of the steps can overflow (each partial product
/// is below 2^64, the middle sum below 3 × 2^32); they are written as wrapping operations
/// because a checked 64-bit multiply is itself the 128-bit libcall this avoids.
#[inline(always)]
pub fn mul_wide_limbs(a: u64, b: u64) -> u128 {
    const LOW: u64 = 0xffff_ffff;
    let (a0, a1, b0, b1) = (a & LOW, a >> 32, b & LOW, b >> 32);
    let (p00, p01) = (a0.wrapping_mul(b0), a0.wrapping_mul(b1));
    let (p10, p11) = (a1.wrapping_mul(b0), a1.wrapping_mul(b1));
    let mid = (p00 >> 32).wrapping_add(p01 & LOW).wrapping_add(p10 & LOW);
    let lo = (p00 & LOW) | (mid << 32);
    let hi = p11.wrapping_add(p01 >> 32).wrapping_add(p10 >> 32).wrapping_add(mid >> 32);
    ((hi as u128) << 64) | lo as u128
}

/// `a × b` when it fits in a u64 (`checked_mul` without the libcall, see [`mul_wide`]): one
/// native multiply when both are below 2^32 (basis points, seconds, most differences).
#[inline(always)]
pub fn checked_mul_u64(a: u64, b: u64) -> Option<u64> {
    if (a | b) >> 32 == 0 {
        return Some(a.wrapping_mul(b)); // < 2^64
    }
    u64::try_from(mul_wide(a, b)).ok()
}

/// Whether a product with a small factor fits a native multiply: `a < 2^48` and `b < 2^16`
/// (a price, confidence or band times basis points or a short age), so `a × b < 2^64`.
#[inline(always)]
pub fn fits_small_product(a: u64, b: u64) -> bool {
    a >> 48 == 0 && b >> 16 == 0
}

/// `a × b ≤ c × d`, exactly: in 64 bits when both products have a small factor
/// ([`fits_small_product`], every listed feed's price against basis points), else in 128.
#[inline(always)]
pub fn product_le(a: u64, b: u64, c: u64, d: u64) -> bool {
    if fits_small_product(a, b) && fits_small_product(c, d) {
        return a.wrapping_mul(b) <= c.wrapping_mul(d); // both < 2^64
    }
    mul_wide(a, b) <= mul_wide(c, d)
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

    proptest::proptest! {
        #[test]
        fn a_64_bit_divisor_divides_exactly(n in proptest::prelude::any::<u128>(), d in 1..=u64::MAX, shift in 0u32..128) {
            let n = n >> shift; // every width of numerator
            proptest::prop_assert_eq!(div_u64(n, d, Rounding::Down), n / d as u128);
            proptest::prop_assert_eq!(div_u64(n, d, Rounding::Up), n.div_ceil(d as u128));
        }

        #[test]
        fn a_wide_divisor_divides_exactly(n in proptest::prelude::any::<u128>(), d in proptest::prelude::any::<u128>(), shift in 0u32..64) {
            let d = (d >> shift).max(1 << 64); // every divisor width from 65 to 128 bits
            proptest::prop_assert_eq!(div(n, d, Rounding::Down), n / d);
            proptest::prop_assert_eq!(div(n, d, Rounding::Up), n.div_ceil(d));
        }
    }

    #[test]
    fn divisions_agree_with_u128_division() {
        let mut values: Vec<u128> = vec![0, 1, 2, 3, 999, 10_000, (1 << 32) - 1, 1 << 32, (1 << 32) + 1];
        values.extend([u64::MAX as u128, 1 << 63, (1 << 64) - 2, 1 << 64, (1 << 64) + 1, WAD, WAD * 7 + 1]);
        values.extend([u128::MAX, u128::MAX - 1, u128::MAX / 3, 1 << 127, (1 << 96) + 12_345]);
        // And pseudo-random ones of every width (a fixed linear congruential sequence).
        let mut x: u128 = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834;
        for bits in 1..=128u32 {
            x = x.wrapping_mul(0x2545_f491_4f6c_dd1d_1234_5678_9abc_def1).wrapping_add(0x1405_7b7e_f767_814f);
            values.push(if bits == 128 { x } else { x & ((1u128 << bits) - 1) });
        }
        for &n in &values {
            for &d in values.iter().filter(|d| **d != 0) {
                assert_eq!(div(n, d, Rounding::Down), n / d, "{n} / {d}");
                assert_eq!(div(n, d, Rounding::Up), n.div_ceil(d), "{n} / {d} up");
                if let Ok(d) = u64::try_from(d) {
                    assert_eq!(div_u64(n, d, Rounding::Down), n / d as u128, "{n} / {d}");
                    assert_eq!(div_u64(n, d, Rounding::Up), n.div_ceil(d as u128), "{n} / {d} up");
                }
            }
            assert_eq!(div_wad(n, Rounding::Down), n / WAD, "{n}");
            assert_eq!(div_wad(n, Rounding::Up), n.div_ceil(WAD), "{n} up");
        }
    }

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
        for a in samples {
            for b in samples {
                let (a, b) = (a as u64, b as u64);
                assert_eq!(mul_wide_limbs(a, b), a as u128 * b as u128, "{a} * {b}");
                assert_eq!(checked_mul_u64(a, b), a.checked_mul(b), "{a} * {b}");
            }
        }
        for e in 0..=38 {
            assert_eq!(pow10(e), Ok(10u128.pow(e)));
        }
        assert_eq!(pow10(39), Err(MathError::Overflow));
    }

    mod against_big_integers {
        //! Issue 11 item 3: `mul_div` and `mul` against arbitrary-precision arithmetic, across
        //! the 64-bit limb boundary: exact when they answer, rounded the way they were asked,
        //! and refusing only what does not fit.
        use super::super::*;
        use num_bigint::BigUint;
        use proptest::prelude::*;

        fn big(v: u128) -> BigUint {
            BigUint::from(v)
        }

        /// Operands spread over every magnitude, limb boundaries included.
        fn operand() -> impl Strategy<Value = u128> {
            prop_oneof![
                any::<u64>().prop_map(|v| v as u128),
                (0u32..128, any::<u128>()).prop_map(|(shift, v)| v >> shift),
                (0u32..128).prop_map(|k| 1u128 << k),
                (1u32..128).prop_map(|k| (1u128 << k) - 1),
                (0u32..128).prop_map(|k| (1u128 << k).saturating_add(1)),
            ]
        }

        /// Factors and divisors around 2^32 (the small path's bound), zero included.
        fn divisor() -> impl Strategy<Value = u128> {
            prop_oneof![
                (0u32..34, any::<u64>()).prop_map(|(bits, v)| (v & ((1u64 << bits) - 1)) as u128),
                (28u32..36).prop_map(|k| (1u128 << k) - 1),
                (28u32..36).prop_map(|k| 1u128 << k),
                operand(),
            ]
        }

        /// u64 operands around the fast paths' bounds (2^16, 2^32, 2^48) and everywhere else.
        fn operand64() -> impl Strategy<Value = u64> {
            prop_oneof![
                (0u32..64, any::<u64>()).prop_map(|(shift, v)| v >> shift),
                (0u32..64).prop_map(|k| 1u64 << k),
                (1u32..64).prop_map(|k| (1u64 << k) - 1),
            ]
        }

        proptest! {
            #[test]
            fn mul_div_is_exact_and_rounds_as_asked(a in operand(), b in operand(), c in operand()) {
                let reference = if c == 0 { None } else { Some((big(a) * big(b), big(c))) };
                for rounding in [Rounding::Down, Rounding::Up] {
                    match (mul_div(a, b, c, rounding), &reference) {
                        (Ok(q), Some((n, d))) => {
                            let floor = n / d;
                            let exact = &floor * d == *n;
                            let want = if rounding == Rounding::Up && !exact { floor + 1u32 } else { floor };
                            prop_assert_eq!(big(q), want);
                        }
                        // Refused: divide by zero, or a product past 128 bits (the program's
                        // documented limit), never a wrong answer.
                        (Err(_), None) => {}
                        (Err(_), Some((n, _))) => prop_assert!(n.bits() > 128),
                        (Ok(_), None) => prop_assert!(false, "division by zero answered"),
                    }
                }
            }

            #[test]
            fn mul_div_small_is_exact_and_rounds_as_asked(a in operand(), b in divisor(), c in divisor()) {
                for rounding in [Rounding::Down, Rounding::Up] {
                    let got = mul_div_small(a, b, c, rounding);
                    if c == 0 {
                        prop_assert!(got.is_err());
                        continue;
                    }
                    let (n, d) = (big(a) * big(b), big(c));
                    let floor = &n / &d;
                    let want = if rounding == Rounding::Up && &floor * &d != n { floor + 1u32 } else { floor };
                    match got {
                        Ok(q) => prop_assert_eq!(big(q), want),
                        // Refused only past 128 bits: the quotient's on the small path, the
                        // product's on `mul_div`'s.
                        Err(_) if (b | c) >> 32 == 0 => prop_assert!(want.bits() > 128),
                        Err(_) => prop_assert!(n.bits() > 128),
                    }
                }
            }

            #[test]
            fn small_factor_fast_paths_are_exact(
                a in operand64(), b in operand64(), c in operand64(), d in operand64()
            ) {
                let wide = |x: u64, y: u64| big(x as u128) * big(y as u128);
                prop_assert_eq!(product_le(a, b, c, d), wide(a, b) <= wide(c, d));
                prop_assert_eq!(checked_mul_u64(a, b).map(|p| big(p as u128)), Some(wide(a, b)).filter(|p| p.bits() <= 64));
            }

            #[test]
            fn wide_multiply_from_limbs_is_exact(a in any::<u64>(), b in any::<u64>()) {
                prop_assert_eq!(big(mul_wide_limbs(a, b)), big(a as u128) * big(b as u128));
            }

            #[test]
            fn mul_is_exact_or_refuses_past_128_bits(a in operand(), b in operand()) {
                let n = big(a) * big(b);
                match mul(a, b) {
                    Ok(p) => prop_assert_eq!(big(p), n),
                    Err(_) => prop_assert!(n.bits() > 128),
                }
            }

            /// A value credited to a user rounds down, one owed rounds up: never more than one
            /// unit apart, the exact value always between them.
            #[test]
            fn usd_values_bracket_the_exact_value(
                amount in any::<u64>(),
                decimals in 0u8..=18,
                mantissa in any::<u64>(),
                expo in -18i32..=0,
            ) {
                let down = crate::value::usd_value(amount, decimals, mantissa, expo, Rounding::Down);
                let up = crate::value::usd_value(amount, decimals, mantissa, expo, Rounding::Up);
                // exact × 10^(decimals − expo) = amount × mantissa × 10^18
                let scale = BigUint::from(10u32).pow((decimals as i32 - expo) as u32);
                let numerator = big(amount as u128) * big(mantissa as u128) * BigUint::from(10u32).pow(18);
                if let (Ok(d), Ok(u)) = (down, up) {
                    prop_assert!(big(d) * &scale <= numerator);
                    prop_assert!(big(u) * &scale >= numerator);
                    prop_assert!(u - d <= 1);
                }
            }
        }
    }
}
