//! How much more a position may borrow or withdraw of each asset, and why not when it may not:
//! the steps of the program's `borrow` and `withdraw` handlers, in their order, on copies of the
//! fetched accounts, with the program's own state methods (`Reserve::accrue`, the share maths,
//! `Position::find_or_claim_slot`), pricing (`price_slot_from_oracle`, `oracle::check`) and health
//! (`initial_health_with_shocks`). A view that says "can borrow 12.5 USDC" means a borrow of 12.5
//! USDC sent now passes every check; the CLI's validator test holds it to the program.
//!
//! A dynamic mint's refresh (the `refresh_mint` the CLI and SDK put before a borrow or a
//! withdrawal for each dynamic slot) is applied with `after_mint_refresh`. Not modelled: the token
//! transfer itself (a frozen account or a paused mint refuses there).
use std::collections::HashMap;

use anchor_lang::prelude::Pubkey;
use ballast::error::BallastError;
use ballast::health::{initial_health_with_shocks, price_slot_from_oracle, PricedSlot};
use ballast::oracle::{self, EmaLevel};
use ballast::state::{Market, Position, Reserve};
use ballast_risk::fixed::Rounding;
use ballast_risk::interest::{debt_for_shares, shares_for_debt};
use ballast_risk::shares::amount_for_shares;

use crate::health::OracleAccount;

/// Why the program would refuse: its error by name and message
/// (`InsufficientCollateral: The position would not pass initial health`).
pub type Refusal = String;

/// The reserves as a transaction finds them after its `refresh_mint` instructions: each reserve
/// of a dynamic mint re-reads that mint (`mints`: mint address to account data) at `now` with
/// the program's own `inspect_mint` and `set_mint_traits`. A dynamic reserve whose mint is not
/// in `mints` keeps its cache; a mint that does not decode is the program's refusal.
pub fn after_mint_refresh(
    reserves: &HashMap<Pubkey, Reserve>,
    mints: &HashMap<Pubkey, Vec<u8>>,
    now: i64,
) -> Result<HashMap<Pubkey, Reserve>, Refusal> {
    let mut out = reserves.clone();
    for reserve in out.values_mut().filter(|r| r.mint_dynamic != 0) {
        if let Some(data) = mints.get(&reserve.mint) {
            let traits = ballast::mint_rules::inspect_mint(data).map_err(name)?;
            reserve.set_mint_traits(&traits, now);
        }
    }
    Ok(out)
}

/// What one asset allows now, in token units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetLimits {
    pub reserve: Pubkey,
    /// The most a borrow of this asset may take now (0 when refused).
    pub max_borrow: u64,
    /// Why a borrow of even one unit is refused.
    pub borrow_refusal: Option<Refusal>,
    /// The most a withdrawal of this asset may take now (0 without a deposit or when refused).
    pub max_withdraw: u64,
    /// Why a withdrawal of even one unit is refused (`None` without a deposit).
    pub withdraw_refusal: Option<Refusal>,
}

/// The accounts a limit is computed from, as fetched at unix time `now`.
pub struct Accounts<'a> {
    pub market: &'a Market,
    pub position: &'a Position,
    pub reserves: &'a HashMap<Pubkey, Reserve>,
    pub oracles: &'a HashMap<Pubkey, OracleAccount>,
    pub now: i64,
}

fn name(e: anchor_lang::error::Error) -> Refusal {
    match e {
        anchor_lang::error::Error::AnchorError(a) => format!("{}: {}", a.error_name, a.error_msg),
        anchor_lang::error::Error::ProgramError(p) => p.program_error.to_string(),
    }
}

fn refuse(e: BallastError) -> Refusal {
    name(e.into())
}

impl Accounts<'_> {
    fn reserve(&self, key: &Pubkey) -> Result<Reserve, Refusal> {
        self.reserves.get(key).copied().ok_or_else(|| format!("reserve {key} not listed"))
    }

    /// The program's `require_initial_health` on `position` with `changed` in place of its
    /// stored reserve.
    fn require_initial_health(
        &self,
        position: &Position,
        changed: (&Pubkey, &Reserve),
    ) -> Result<(), Refusal> {
        let mut slots: Vec<PricedSlot> = Vec::with_capacity(position.occupied_slots());
        for slot in position.slots.iter().filter(|s| !s.is_free()) {
            let reserve = if slot.reserve == *changed.0 { *changed.1 } else { self.reserve(&slot.reserve)? };
            let o = self
                .oracles
                .get(&slot.reserve)
                .ok_or_else(|| refuse(BallastError::RemainingAccountsMismatch))?;
            slots.push(
                price_slot_from_oracle(slot, &reserve, &o.key, &o.owner, &o.data, self.now).map_err(name)?,
            );
        }
        for s in slots.iter().filter(|s| s.debt_amount > 0) {
            s.require_fresh().map_err(refuse)?;
            if let Some(e) = s.init_debt_refusal {
                return Err(refuse(e));
            }
        }
        let h = initial_health_with_shocks(&slots, &self.market.stress_shocks_bps).map_err(name)?;
        if !h.passes_initial() {
            return Err(refuse(BallastError::InsufficientCollateral));
        }
        Ok(())
    }

    /// What the program's `borrow` of `amount` of `key` would answer now.
    pub fn borrow(&self, key: &Pubkey, amount: u64) -> Result<(), Refusal> {
        if amount == 0 {
            return Err(refuse(BallastError::ZeroAmount));
        }
        let mut reserve = self.reserve(key)?;
        if self.market.paused {
            return Err(refuse(BallastError::MarketPaused));
        }
        if reserve.paused != 0 {
            return Err(refuse(BallastError::ReservePaused));
        }
        reserve.accrue(self.now).map_err(name)?;
        if reserve.risk.borrow_enabled == 0 {
            return Err(refuse(BallastError::BorrowDisabled));
        }
        reserve.require_mint_unimpaired().map_err(name)?;
        if amount > reserve.available_liquidity {
            return Err(refuse(BallastError::InsufficientLiquidity));
        }
        let debt_after = reserve.total_debt().map_err(name)?.checked_add(amount);
        if debt_after.is_none_or(|d| d > reserve.borrow_cap) {
            return Err(refuse(BallastError::BorrowCapExceeded));
        }
        let index = reserve.borrow_index.get();
        let minted = shares_for_debt(amount, index, Rounding::Up).map_err(|e| refuse(e.into()))?;
        reserve.total_borrow_shares = reserve
            .total_borrow_shares
            .checked_add(minted)
            .ok_or_else(|| refuse(BallastError::MathOverflow))?;
        reserve.available_liquidity -= amount;
        let mut position = *self.position;
        let i = position.find_or_claim_slot(key).map_err(name)?;
        let slot = &mut position.slots[i];
        if slot.deposit_shares != 0 {
            return Err(refuse(BallastError::BorrowAgainstOwnDeposit));
        }
        slot.borrow_shares =
            slot.borrow_shares.checked_add(minted).ok_or_else(|| refuse(BallastError::MathOverflow))?;
        let slot_debt =
            debt_for_shares(slot.borrow_shares, index, Rounding::Up).map_err(|e| refuse(e.into()))?;
        if slot_debt > reserve.per_position_cap(reserve.borrow_cap) {
            return Err(refuse(BallastError::ConcentrationLimitExceeded));
        }
        if !reserve.session.is_open(self.now) {
            return Err(refuse(BallastError::MarketClosed));
        }
        if reserve.in_multiplier_change_window(self.now) {
            return Err(refuse(BallastError::MultiplierChangeWindow));
        }
        let o = self.oracles.get(key).ok_or_else(|| refuse(BallastError::RemainingAccountsMismatch))?;
        let config = reserve.effective_oracle(self.now);
        let raw = oracle::decode_data(&config, &o.key, &o.owner, &o.data).map_err(refuse)?;
        let price = oracle::check(key, &config, &raw, self.now).map_err(refuse)?;
        if price.ema_level >= EmaLevel::Pause {
            return Err(refuse(BallastError::EmaBreakerPaused));
        }
        self.require_initial_health(&position, (key, &reserve))
    }

    /// What the program's `withdraw` of `amount` of `key` would answer now.
    pub fn withdraw(&self, key: &Pubkey, amount: u64) -> Result<(), Refusal> {
        if amount == 0 {
            return Err(refuse(BallastError::ZeroAmount));
        }
        let mut position = *self.position;
        let i = position.find_slot(key).ok_or_else(|| refuse(BallastError::NoDepositInReserve))?;
        let held = position.slots[i].deposit_shares;
        let mut reserve = self.reserve(key)?;
        reserve.accrue(self.now).map_err(name)?;
        let burned = reserve.deposit_shares_for(amount).map_err(name)?;
        if burned > held {
            return Err(refuse(BallastError::InsufficientDeposit));
        }
        reserve.pay_out_deposit(burned, amount, self.now).map_err(name)?;
        position.slots[i].deposit_shares = held - burned;
        position.release_slot_if_empty(i);
        if position.has_debt() {
            self.require_initial_health(&position, (key, &reserve))?;
        }
        Ok(())
    }

    /// Everything the slot holding `key` may take out: its deposit's worth (what `withdraw all`
    /// pays), 0 without a deposit.
    fn deposit_worth(&self, key: &Pubkey) -> u64 {
        let (Some(i), Ok(mut reserve)) = (self.position.find_slot(key), self.reserve(key)) else { return 0 };
        if reserve.accrue(self.now).is_err() {
            return 0;
        }
        let held = self.position.slots[i].deposit_shares;
        let total = reserve.total_deposit_assets().unwrap_or(0);
        amount_for_shares(held, reserve.total_deposit_shares, total).unwrap_or(0)
    }

    /// The limits of every listed reserve, sorted by reserve key.
    pub fn limits(&self) -> Vec<AssetLimits> {
        let mut keys: Vec<&Pubkey> = self.reserves.keys().collect();
        keys.sort();
        keys.into_iter()
            .map(|key| {
                let reserve = &self.reserves[key];
                let borrow_ceiling = reserve.available_liquidity;
                let (max_borrow, borrow_refusal) = largest_passing(borrow_ceiling, |a| self.borrow(key, a));
                let worth = self.deposit_worth(key);
                let (max_withdraw, withdraw_refusal) =
                    if worth == 0 { (0, None) } else { largest_passing(worth, |a| self.withdraw(key, a)) };
                AssetLimits { reserve: *key, max_borrow, borrow_refusal, max_withdraw, withdraw_refusal }
            })
            .collect()
    }
}

/// The largest amount in `1..=ceiling` that `check` passes (the checks only get harder as the
/// amount grows), or 0 and the refusal of a single unit.
pub fn largest_passing(ceiling: u64, check: impl Fn(u64) -> Result<(), Refusal>) -> (u64, Option<Refusal>) {
    if let Err(why) = check(1) {
        return (0, Some(why));
    }
    if ceiling <= 1 || check(ceiling).is_ok() {
        return (ceiling.max(1), None);
    }
    let (mut ok, mut refused) = (1u64, ceiling);
    while refused - ok > 1 {
        let mid = ok + (refused - ok) / 2;
        if check(mid).is_ok() {
            ok = mid;
        } else {
            refused = mid;
        }
    }
    (ok, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_passing_amount_is_found_at_every_boundary() {
        for limit in [1u64, 2, 3, 999, 1_000, 123_456_789, u64::MAX / 3] {
            let check =
                |a: u64| if a <= limit { Ok(()) } else { Err(refuse(BallastError::InsufficientCollateral)) };
            assert_eq!(largest_passing(u64::MAX, check), (limit, None));
            assert_eq!(largest_passing(limit, check), (limit, None));
        }
        let never = |_| Err::<(), _>(refuse(BallastError::MarketClosed));
        let (max, why) = largest_passing(1_000, never);
        assert_eq!(max, 0);
        assert!(why.unwrap().starts_with("MarketClosed: "));
    }
}
