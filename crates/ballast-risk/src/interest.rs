//! Borrow interest (SPEC §4): a kinked utilization curve and a cumulative borrow index.
//!
//! A borrower holds borrow shares; their debt is `shares × index / WAD` (rounded up). The index
//! starts at WAD and grows on every accrual by `1 + apr × elapsed / year`.

use crate::fixed::{div_wad, mul, mul_div, Rounding, BPS, WAD};
use crate::MathError;

pub const SECONDS_PER_YEAR: u128 = 365 * 24 * 3600;

/// Borrow APR as a function of utilization, in basis points: linear from `base` at 0 % to
/// `optimal` at `optimal_utilization`, then linear to `max` at 100 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterestCurve {
    pub optimal_utilization_bps: u32,
    pub base_rate_bps: u32,
    pub optimal_rate_bps: u32,
    pub max_rate_bps: u32,
}

/// `debt / (available + debt)`, WAD-scaled, rounded down; zero for an empty reserve.
pub fn utilization(debt: u64, available: u64) -> u128 {
    let total = debt as u128 + available as u128;
    if total == 0 {
        return 0;
    }
    debt as u128 * WAD / total
}

impl InterestCurve {
    /// Borrow APR at `utilization` (WAD), WAD-scaled.
    pub fn borrow_apr(&self, utilization: u128) -> u128 {
        let u = utilization.min(WAD);
        // WAD / BPS is exact: a multiply, not a 128-bit division.
        let bps = |b: u32| b as u128 * (WAD / BPS);
        let opt_u = bps(self.optimal_utilization_bps);
        let (base, opt, max) = (bps(self.base_rate_bps), bps(self.optimal_rate_bps), bps(self.max_rate_bps));
        if u <= opt_u || opt_u >= WAD {
            if opt_u == 0 {
                return opt;
            }
            base + (opt.saturating_sub(base)) * u / opt_u
        } else {
            opt + (max.saturating_sub(opt)) * (u - opt_u) / (WAD - opt_u)
        }
    }
}

/// The index after `elapsed_secs` at `apr` (WAD), rounded up (debt grows in the protocol's favour).
pub fn accrue_index(index: u128, apr: u128, elapsed_secs: u64) -> Result<u128, MathError> {
    let growth = WAD + mul_div(apr, elapsed_secs as u128, SECONDS_PER_YEAR, Rounding::Up)?;
    mul_div(index, growth, WAD, Rounding::Up)
}

/// Debt of `shares` at `index`, rounded as asked (what a borrower owes: up).
/// `accrue_index`, but never past the index at which `total_shares` would owe more than
/// `max_debt` tokens (the reserve passes what still fits in u64 beside its free liquidity), nor
/// past `u128`: a reserve stuck at its maximum rate for years stops accruing there instead of
/// failing every instruction that touches it (repay and withdraw included). Never below `index`.
pub fn accrue_index_capped(
    index: u128,
    apr: u128,
    elapsed_secs: u64,
    total_shares: u64,
    max_debt: u64,
) -> u128 {
    let ceiling = if total_shares == 0 {
        u128::MAX
    } else {
        // shares × ceiling / WAD ≤ max_debt, also once rounded up
        mul_div(max_debt as u128, WAD, total_shares as u128, Rounding::Down).unwrap_or(u128::MAX)
    };
    let grown = accrue_index(index, apr, elapsed_secs).unwrap_or(u128::MAX);
    grown.min(ceiling.saturating_sub(1)).max(index)
}

pub fn debt_for_shares(shares: u64, index: u128, rounding: Rounding) -> Result<u64, MathError> {
    // index / WAD in two small divisions: the 128-bit division helper is the costly step on SBF.
    u64::try_from(div_wad(mul(shares as u128, index)?, rounding)).map_err(|_| MathError::Overflow)
}

/// Borrow shares worth `amount` of debt at `index`: minted rounded up on borrow, burned rounded
/// down on repay.
pub fn shares_for_debt(amount: u64, index: u128, rounding: Rounding) -> Result<u64, MathError> {
    u64::try_from(mul_div(amount as u128, WAD, index, rounding)?).map_err(|_| MathError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CURVE: InterestCurve = InterestCurve {
        optimal_utilization_bps: 8_000,
        base_rate_bps: 200,
        optimal_rate_bps: 4_000,
        max_rate_bps: 15_000,
    };

    #[test]
    fn curve_has_its_kink_at_optimal_utilization() {
        assert_eq!(CURVE.borrow_apr(0), WAD * 2 / 100);
        assert_eq!(CURVE.borrow_apr(WAD * 8 / 10), WAD * 40 / 100);
        assert_eq!(CURVE.borrow_apr(WAD), WAD * 150 / 100);
        assert_eq!(CURVE.borrow_apr(WAD * 9 / 10), WAD * 95 / 100);
        // 60 % utilization: 2 % + 38 % × 0.75 = 30.5 % APR, about 0.014 % per 4 hours (SPEC §4).
        let apr = CURVE.borrow_apr(WAD * 6 / 10);
        assert_eq!(apr, WAD * 305 / 1000);
        let four_hours = accrue_index(WAD, apr, 4 * 3600).unwrap() - WAD;
        assert!(four_hours > WAD / 10_000 && four_hours < WAD * 2 / 10_000);
    }

    #[test]
    fn a_stuck_reserve_stops_accruing_before_its_debt_overflows() {
        // 1000 % APR on 10^15 units of debt: u64 runs out within four years.
        let shares = 1_000_000_000_000_000u64;
        let apr = WAD * 10;
        let mut index = WAD;
        for _ in 0..(10 * 365) {
            index = accrue_index_capped(index, apr, 86_400, shares, u64::MAX);
            // Every index this reaches still prices the whole debt in u64.
            assert!(debt_for_shares(shares, index, Rounding::Up).is_ok());
        }
        let debt = debt_for_shares(shares, index, Rounding::Up).unwrap();
        assert!(debt > u64::MAX - u64::MAX / 1_000_000, "it stops at the ceiling: {debt}");
        // Uncapped, the same history overflows.
        let mut plain = Ok(WAD);
        for _ in 0..(10 * 365) {
            plain = plain.and_then(|i| accrue_index(i, apr, 86_400));
        }
        assert!(plain.map(|i| debt_for_shares(shares, i, Rounding::Up).is_err()).unwrap_or(true));
        // Below the ceiling the capped index is the plain one.
        assert_eq!(
            accrue_index_capped(WAD, apr, 3_600, shares, u64::MAX),
            accrue_index(WAD, apr, 3_600).unwrap()
        );
        // The reserve's free liquidity must still fit beside the debt.
        let capped = accrue_index_capped(WAD, apr, 100 * 365 * 86_400, shares, u64::MAX - 5_000);
        assert!(debt_for_shares(shares, capped, Rounding::Up).unwrap() <= u64::MAX - 5_000);
    }

    #[test]
    fn utilization_of_borrowed_over_total() {
        assert_eq!(utilization(0, 0), 0);
        assert_eq!(utilization(25, 75), WAD / 4);
    }

    #[test]
    fn index_rounds_up_and_debt_follows() {
        // 10 % APR for a whole year.
        let idx = accrue_index(WAD, WAD / 10, SECONDS_PER_YEAR as u64).unwrap();
        assert_eq!(idx, WAD * 11 / 10);
        assert_eq!(debt_for_shares(1_000, idx, Rounding::Up).unwrap(), 1_100);
        // one second at 10 %: index grows by ceil(0.1e18 / 31 536 000) = 3 170 979 199
        assert_eq!(accrue_index(WAD, WAD / 10, 1).unwrap(), WAD + 3_170_979_199);
        // shares minted for a borrow round up, so a borrower never owes less than borrowed
        let s = shares_for_debt(1_000, idx, Rounding::Up).unwrap();
        assert!(debt_for_shares(s, idx, Rounding::Up).unwrap() >= 1_000);
    }
}
