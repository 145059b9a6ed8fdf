//! Position health and liquidation planning off chain, from decoded accounts, with the program's
//! own code: `ballast::oracle` decodes and checks prices, `ballast::health` prices slots and
//! aggregates, `ballast_risk::liquidation` plans. No second copy of the maths.
use std::collections::HashMap;

use anchor_lang::prelude::Pubkey;
use ballast::health::{
    health as aggregate, health_with_shocks, liquidation_params, price_slot_from_oracle, PricedSlot,
};
use ballast::state::{Market, Position, Reserve};
use ballast_risk::fixed::Rounding;
use ballast_risk::health::Health;
use ballast_risk::liquidation::{self, Liquidation};
use ballast_risk::value::usd_value;

/// An oracle account as fetched: key, owner and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OracleAccount {
    pub key: Pubkey,
    pub owner: Pubkey,
    pub data: Vec<u8>,
}

/// A position priced at `now`: its slots in slot order and the aggregate figures.
#[derive(Debug, Clone)]
pub struct PositionView {
    pub slots: Vec<PricedSlot>,
    /// Maintenance and initial figures, as liquidation sees them.
    pub health: Health,
    /// The same under the market's joint stress shock, as borrow and withdraw see them:
    /// `passes_initial()` here is whether the figures allow more; the program also needs every
    /// debt slot priced fresh and its mint re-read within the minute (`PricedSlot::require_fresh`,
    /// `init_debt_refusal`).
    pub stressed: Health,
}

/// Why a position could not be priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewError {
    /// A slot's reserve was not among the reserves given.
    UnknownReserve(Pubkey),
    /// No oracle account was given for a slot's reserve.
    MissingOracle(Pubkey),
    /// The program's checks refused (stale price, bad oracle, overflow): its error in words.
    Refused(Pubkey, String),
}

impl std::fmt::Display for ViewError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ViewError::UnknownReserve(r) => write!(f, "reserve {r} is not listed"),
            ViewError::MissingOracle(r) => write!(f, "no oracle account for reserve {r}"),
            ViewError::Refused(r, why) => write!(f, "reserve {r}: {why}"),
        }
    }
}

impl std::error::Error for ViewError {}

fn refused(reserve: Pubkey, e: impl std::fmt::Debug) -> ViewError {
    ViewError::Refused(reserve, format!("{e:?}"))
}

/// Prices every occupied slot of `position` under the program's rules at unix time `now`, with
/// the program's own pricing path (`price_slot_from_oracle`) and `market`'s stress shocks.
/// `oracles` maps a reserve's key to its oracle account.
pub fn position_view(
    market: &Market,
    position: &Position,
    reserves: &HashMap<Pubkey, Reserve>,
    oracles: &HashMap<Pubkey, OracleAccount>,
    now: i64,
) -> Result<PositionView, ViewError> {
    let mut slots = Vec::with_capacity(position.occupied_slots());
    for slot in position.slots.iter().filter(|s| !s.is_free()) {
        let key = slot.reserve;
        let reserve = reserves.get(&key).ok_or(ViewError::UnknownReserve(key))?;
        let o = oracles.get(&key).ok_or(ViewError::MissingOracle(key))?;
        let priced = price_slot_from_oracle(slot, reserve, &o.key, &o.owner, &o.data, now);
        slots.push(priced.map_err(|e| refused(key, e))?);
    }
    let health = aggregate(&slots).map_err(|e| refused(Pubkey::default(), e))?;
    let stressed =
        health_with_shocks(&slots, &market.stress_shocks_bps).map_err(|e| refused(Pubkey::default(), e))?;
    Ok(PositionView { slots, health, stressed })
}

/// A liquidation a keeper can send: which debt to repay, which collateral to seize, and the
/// amounts the program will compute for `max_repay = u64::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiquidationChoice {
    pub repay_reserve: Pubkey,
    pub seize_reserve: Pubkey,
    pub plan: Liquidation,
    /// Value of what the keeper receives minus what it pays, WAD USD (rounded down).
    pub profit: u128,
    /// Liquidations of this pair, one after the other, that bring the position out of
    /// liquidation (1 when this one does), at most [`MAX_ROUNDS_PREDICTED`]: a hint for
    /// chaining them in one transaction, which the program re-plans round by round.
    pub rounds: usize,
}

/// How far [`rounds_to_restore`] looks ahead.
pub const MAX_ROUNDS_PREDICTED: usize = 4;

/// How many liquidations of the pair (repay, seize), each planned by the program's planner on
/// what the one before left, bring the position out of liquidation; at most `max`. An estimate
/// past the first round: the planner is re-run on the two slots' new amounts and maintenance
/// figures (`plan_with_health_after`), not on a re-priced position, so the dust close-out is not
/// foreseen; the program decides.
pub fn rounds_to_restore(
    market: &Market,
    view: &PositionView,
    repay: &PricedSlot,
    seize: &PricedSlot,
    max: usize,
) -> usize {
    let params = liquidation_params(market, repay, seize);
    let (mut repay_side, mut seize_side) = (repay.repay_side(), seize.seize_side());
    let mut health = view.health;
    for round in 1..=max {
        let Ok((plan, after)) =
            liquidation::plan_with_health_after(&health, &repay_side, &seize_side, &params, u64::MAX)
        else {
            return (round - 1).max(1);
        };
        if !after.is_liquidatable() {
            return round;
        }
        // The planner never repays or seizes more than the slot holds.
        repay_side.debt = repay_side.debt.saturating_sub(plan.repay);
        seize_side.deposit = seize_side.deposit.saturating_sub(plan.seize);
        health = after;
    }
    max
}

/// Why the program would refuse to liquidate a (repay, seize) pair.
#[derive(Debug, Clone, Copy)]
pub enum PairRefusal {
    /// Not a pair: one reserve on both sides, no debt to repay or no deposit to seize.
    NotAPair,
    /// The slot of `reserve` is not priced fresh (`error`: the oracle's refusal): the program
    /// repays and seizes only at fresh prices.
    NotFresh { reserve: Pubkey, error: ballast::error::BallastError },
    /// The planner's refusal (`WorsensHealth`, `TooSmall`, ...).
    Plan(liquidation::LiquidationError),
}

/// Plans `max_repay = u64::MAX` on the pair (repay, seize) exactly as the program will, or says
/// why the program would refuse it.
pub fn try_plan_pair(
    market: &Market,
    view: &PositionView,
    repay: &PricedSlot,
    seize: &PricedSlot,
) -> Result<Liquidation, PairRefusal> {
    if repay.reserve == seize.reserve || repay.debt_amount == 0 || seize.deposit_amount == 0 {
        return Err(PairRefusal::NotAPair);
    }
    // The program repays and seizes only at fresh prices.
    for slot in [repay, seize] {
        slot.require_fresh().map_err(|error| PairRefusal::NotFresh { reserve: slot.reserve, error })?;
    }
    let params = liquidation_params(market, repay, seize);
    let (repay_side, seize_side) = (repay.repay_side(), seize.seize_side());
    liquidation::plan(&view.health, &repay_side, &seize_side, &params, u64::MAX).map_err(PairRefusal::Plan)
}

/// Plans `max_repay = u64::MAX` on the pair (repay, seize) exactly as the program will.
pub fn plan_pair(
    market: &Market,
    view: &PositionView,
    repay: &PricedSlot,
    seize: &PricedSlot,
) -> Option<Liquidation> {
    try_plan_pair(market, view, repay, seize).ok()
}

/// The most profitable liquidation of a liquidatable position (the keeper's choice of pair), or
/// `None` when it is healthy or nothing can be liquidated.
pub fn best_liquidation(market: &Market, view: &PositionView) -> Option<LiquidationChoice> {
    if !view.health.is_liquidatable() {
        return None;
    }
    let mut best: Option<LiquidationChoice> = None;
    for repay in view.slots.iter().filter(|s| s.debt_amount > 0) {
        for seize in view.slots.iter().filter(|s| s.deposit_amount > 0) {
            let Some(plan) = plan_pair(market, view, repay, seize) else { continue };
            let p = &seize.price;
            let received = usd_value(plan.to_keeper, seize.decimals, p.price, p.expo, Rounding::Down).ok()?;
            let r = &repay.price;
            let paid = usd_value(plan.repay, repay.decimals, r.price, r.expo, Rounding::Up).ok()?;
            let profit = received.saturating_sub(paid);
            if best.is_none_or(|b| profit > b.profit) {
                best = Some(LiquidationChoice {
                    repay_reserve: repay.reserve,
                    seize_reserve: seize.reserve,
                    plan,
                    profit,
                    rounds: 1,
                });
            }
        }
    }
    // The chain's length for the chosen pair only (the planner runs a few more times).
    if let Some(b) = best.as_mut() {
        let slot = |key: &Pubkey| view.slots.iter().find(|s| s.reserve == *key);
        if let (Some(repay), Some(seize)) = (slot(&b.repay_reserve), slot(&b.seize_reserve)) {
            b.rounds = rounds_to_restore(market, view, repay, seize, MAX_ROUNDS_PREDICTED);
        }
    }
    best
}

/// What `position` owes `reserve` (key `key`) at unix time `at`, interest accrued to then,
/// rounded up as the program's repay counts it; a missing slot owes nothing.
pub fn debt_owed(position: &Position, key: &Pubkey, reserve: &Reserve, at: i64) -> Result<u64, String> {
    let Some(i) = position.find_slot(key) else { return Ok(0) };
    let index = reserve.accrued(at).map_err(|e| e.to_string())?.borrow_index;
    ballast_risk::interest::debt_for_shares(position.slots[i].borrow_shares, index, Rounding::Up)
        .map_err(|e| format!("{e:?}"))
}
