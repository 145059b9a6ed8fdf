use anchor_lang::prelude::*;

use crate::constants::MAX_POSITION_SLOTS;
use crate::error::BallastError;
use crate::keys::same_key;

/// One reserve's share of a position. A slot is free when `reserve` is the default key.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PositionSlot {
    pub reserve: Pubkey,
    pub deposit_shares: u64,
    pub borrow_shares: u64,
}

impl PositionSlot {
    pub fn is_free(&self) -> bool {
        crate::keys::is_default_key(&self.reserve)
    }
}

/// A user's account in a market: up to 16 reserves, fixed size, never reallocated.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Position {
    pub market: Pubkey,
    pub owner: Pubkey,
    pub index: u32,
    pub bump: u8,
    pub _padding: [u8; 3],
    pub slots: [PositionSlot; MAX_POSITION_SLOTS],
}

impl Position {
    /// Index of the slot holding `reserve`, if any.
    pub fn find_slot(&self, reserve: &Pubkey) -> Option<usize> {
        self.slots.iter().position(|s| same_key(&s.reserve, reserve))
    }

    /// Index of the slot holding `reserve`, claiming a free slot if it has none.
    pub fn find_or_claim_slot(&mut self, reserve: &Pubkey) -> Result<usize> {
        if let Some(i) = self.find_slot(reserve) {
            return Ok(i);
        }
        let i = self.slots.iter().position(PositionSlot::is_free).ok_or(BallastError::PositionFull)?;
        self.slots[i] = PositionSlot { reserve: *reserve, deposit_shares: 0, borrow_shares: 0 };
        Ok(i)
    }

    /// Frees slot `i` once it holds neither deposit nor debt.
    pub fn release_slot_if_empty(&mut self, i: usize) {
        let s = &self.slots[i];
        if s.deposit_shares == 0 && s.borrow_shares == 0 {
            self.slots[i] = PositionSlot::default();
        }
    }

    pub fn has_debt(&self) -> bool {
        self.slots.iter().any(|s| s.borrow_shares != 0)
    }

    pub fn occupied_slots(&self) -> usize {
        self.slots.iter().filter(|s| !s.is_free()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty() -> Position {
        Position {
            market: Pubkey::default(),
            owner: Pubkey::default(),
            index: 0,
            bump: 0,
            _padding: [0; 3],
            slots: [PositionSlot::default(); MAX_POSITION_SLOTS],
        }
    }

    #[test]
    fn sixteen_reserves_fit_and_the_seventeenth_does_not() {
        let mut p = empty();
        let keys: Vec<Pubkey> = (0..17).map(|_| Pubkey::new_unique()).collect();
        for (n, k) in keys.iter().take(16).enumerate() {
            assert_eq!(p.find_or_claim_slot(k).unwrap(), n);
        }
        assert_eq!(p.find_or_claim_slot(&keys[3]).unwrap(), 3);
        assert_eq!(p.find_or_claim_slot(&keys[16]).unwrap_err(), BallastError::PositionFull.into());
        p.release_slot_if_empty(5);
        assert_eq!(p.find_or_claim_slot(&keys[16]).unwrap(), 5);
        assert_eq!(p.occupied_slots(), 16);
    }

    #[test]
    fn a_slot_with_shares_is_kept() {
        let mut p = empty();
        let k = Pubkey::new_unique();
        let i = p.find_or_claim_slot(&k).unwrap();
        p.slots[i].deposit_shares = 1;
        p.release_slot_if_empty(i);
        assert_eq!(p.find_slot(&k), Some(i));
    }
}
