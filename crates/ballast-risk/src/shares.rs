//! Deposit-share accounting: a reserve's depositors own `total_shares`, worth `total_assets`
//! token units together. Shares appreciate as interest accrues and drop when bad debt is
//! socialized. Rounding always favours the reserve (the other depositors):
//! shares minted round down, shares burned round up, tokens paid out round down.
//!
//! Every conversion counts one virtual share backed by one virtual token unit (`S + 1` shares
//! for `A + 1` units): an empty reserve still mints 1:1 and a reserve whose shares are worth
//! exactly one unit each is unchanged, but a sole depositor can no longer pump the share price
//! through rounding (deposit just under two shares' worth, withdraw one unit, repeat) and make
//! the next depositor's rounding loss large.

use crate::fixed::{div, mul_wide, Rounding};
use crate::MathError;

/// `a * (b + 1) / (c + 1)`, rounded down, in 128-bit intermediate precision.
fn mul_div_floor(a: u64, b: u64, c: u64) -> Result<u64, MathError> {
    let q = div(mul_wide(a, b) + a as u128, c as u128 + 1, Rounding::Down);
    u64::try_from(q).map_err(|_| MathError::Overflow)
}

/// `a * (b + 1) / (c + 1)`, rounded up, in 128-bit intermediate precision.
fn mul_div_ceil(a: u64, b: u64, c: u64) -> Result<u64, MathError> {
    let q = div(mul_wide(a, b) + a as u128, c as u128 + 1, Rounding::Up);
    u64::try_from(q).map_err(|_| MathError::Overflow)
}

/// Shares minted for depositing `amount` (rounded down). An empty reserve mints 1:1.
pub fn shares_for_deposit(amount: u64, total_shares: u64, total_assets: u64) -> Result<u64, MathError> {
    if total_shares == 0 {
        return Ok(amount);
    }
    if total_assets == 0 {
        return Err(MathError::SharesWithoutAssets);
    }
    mul_div_floor(amount, total_shares, total_assets)
}

/// Shares burned to withdraw exactly `amount` tokens (rounded up).
pub fn shares_to_burn_for_amount(
    amount: u64,
    total_shares: u64,
    total_assets: u64,
) -> Result<u64, MathError> {
    if total_assets == 0 {
        return Err(MathError::SharesWithoutAssets);
    }
    mul_div_ceil(amount, total_shares, total_assets)
}

/// Token value of `shares` (rounded down). Zero shares or an empty reserve are worth nothing.
pub fn amount_for_shares(shares: u64, total_shares: u64, total_assets: u64) -> Result<u64, MathError> {
    if total_shares == 0 {
        return Ok(0);
    }
    mul_div_floor(shares, total_assets, total_shares)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn empty_reserve_mints_one_to_one() {
        assert_eq!(shares_for_deposit(1_000, 0, 0), Ok(1_000));
        assert_eq!(amount_for_shares(0, 0, 0), Ok(0));
    }

    #[test]
    fn appreciated_shares_round_for_the_reserve() {
        // 1 share is worth 1.5 tokens.
        let (s, a) = (2_000, 3_000);
        assert_eq!(shares_for_deposit(10, s, a), Ok(6)); // 6.66.. rounds down
        assert_eq!(shares_to_burn_for_amount(10, s, a), Ok(7)); // 6.66.. rounds up
        assert_eq!(amount_for_shares(7, s, a), Ok(10)); // 10.5 rounds down
    }

    #[test]
    fn a_sole_depositor_cannot_pump_the_share_price() {
        // The sole depositor holds 1 share worth 2 units (interest), then repeats: deposit just
        // under two shares' worth, withdraw one unit.
        let (mut shares, mut assets) = (1u64, 2u64);
        for _ in 0..20 {
            let deposit = 2 * assets - 1;
            shares += shares_for_deposit(deposit, shares, assets).unwrap();
            assets += deposit;
            shares -= shares_to_burn_for_amount(1, shares, assets).unwrap();
            assets -= 1;
        }
        // The price did not run away, and a victim's deposit loses at most a unit of rounding.
        assert!(assets / shares <= 2, "{assets} / {shares}");
        let victim = assets + assets / 2;
        let minted = shares_for_deposit(victim, shares, assets).unwrap();
        let worth = amount_for_shares(minted, shares + minted, assets + victim).unwrap();
        assert!(victim - worth <= 1, "victim lost {}", victim - worth);
    }

    #[test]
    fn shares_without_assets_are_refused() {
        assert_eq!(shares_for_deposit(1, 10, 0), Err(MathError::SharesWithoutAssets));
        assert_eq!(shares_to_burn_for_amount(1, 10, 0), Err(MathError::SharesWithoutAssets));
    }

    #[test]
    fn overflow_is_reported() {
        // 1 share worth u64::MAX tokens: the value of 2 shares does not fit.
        assert_eq!(amount_for_shares(2, 1, u64::MAX), Err(MathError::Overflow));
    }

    proptest! {
        /// Depositing then withdrawing everything the new shares are worth never returns more
        /// than was deposited.
        #[test]
        fn deposit_then_redeem_never_profits(
            amount in 0u64..=u64::MAX / 4,
            total_shares in 1u64..=u64::MAX / 4,
            total_assets in 1u64..=u64::MAX / 4,
        ) {
            if let Ok(minted) = shares_for_deposit(amount, total_shares, total_assets) {
                // Totals that would not fit a u64 are refused on chain before this point.
                if let Some(shares_after) = total_shares.checked_add(minted) {
                    let value = amount_for_shares(minted, shares_after, total_assets + amount).unwrap();
                    prop_assert!(value <= amount);
                }
            }
        }

        /// Burning `shares_to_burn_for_amount(x)` shares always covers `x` tokens.
        #[test]
        fn burned_shares_cover_the_amount(
            amount in 0u64..=u64::MAX / 4,
            total_shares in 1u64..=u64::MAX / 4,
            total_assets in 1u64..=u64::MAX / 4,
        ) {
            if let Ok(burn) = shares_to_burn_for_amount(amount, total_shares, total_assets) {
                let burned_value_ceil = ((burn as u128) * (total_assets as u128 + 1)).div_ceil(total_shares as u128 + 1);
                prop_assert!(burned_value_ceil >= amount as u128);
            }
        }
    }
}
