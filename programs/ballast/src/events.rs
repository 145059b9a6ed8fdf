//! Anchor events: one per state change, so indexers and keepers can follow along.
use anchor_lang::prelude::*;

use crate::instructions::{CapsParams, InterestParams, OracleParams, RiskParams};

#[event]
pub struct MarketInitialized {
    pub market: Pubkey,
    pub admin: Pubkey,
    pub market_id: u64,
    pub fee_receiver: Pubkey,
}

#[event]
pub struct ReserveAdded {
    pub market: Pubkey,
    pub reserve: Pubkey,
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub asset_class: u8,
    pub deposit_cap: u64,
    pub borrow_cap: u64,
}

#[event]
pub struct PositionOpened {
    pub market: Pubkey,
    pub position: Pubkey,
    pub owner: Pubkey,
    pub index: u32,
}

#[event]
pub struct Deposited {
    pub position: Pubkey,
    pub reserve: Pubkey,
    pub amount: u64,
    pub shares_minted: u64,
    pub reserve_total_assets: u64,
    pub reserve_total_shares: u64,
}

#[event]
pub struct Withdrawn {
    pub position: Pubkey,
    pub reserve: Pubkey,
    pub amount: u64,
    pub shares_burned: u64,
    pub reserve_total_assets: u64,
    pub reserve_total_shares: u64,
}

/// A configuration took effect (at once, or when its timelock was applied).
#[event]
pub struct ReserveConfigured {
    pub reserve: Pubkey,
    pub oracle: OracleParams,
    pub risk: RiskParams,
    pub interest: InterestParams,
    pub caps: CapsParams,
}

/// A configuration that loosens `loosened` waits until `eta`.
#[event]
pub struct ReserveConfigQueued {
    pub reserve: Pubkey,
    pub loosened: String,
    pub eta: i64,
    pub oracle: OracleParams,
    pub risk: RiskParams,
    pub interest: InterestParams,
    pub caps: CapsParams,
}

/// The queued configuration of `reserve` took effect (`applied`) or was cancelled.
#[event]
pub struct ReserveConfigResolved {
    pub reserve: Pubkey,
    pub applied: bool,
}

#[event]
pub struct AdminProposed {
    pub market: Pubkey,
    pub admin: Pubkey,
    pub pending_admin: Pubkey,
}

#[event]
pub struct AdminChanged {
    pub market: Pubkey,
    pub previous: Pubkey,
    pub admin: Pubkey,
}

#[event]
pub struct SessionConfigured {
    pub reserve: Pubkey,
    pub session: Option<crate::instructions::SessionParams>,
    /// Now, or when the market timelock lets `apply_session` apply it.
    pub applies_at: i64,
}

/// The market's stress shocks per group, in effect from `applies_at`.
#[event]
pub struct StressShocksSet {
    pub market: Pubkey,
    pub shocks: [u16; 8],
    pub applies_at: i64,
}

/// The market-level parameters, in effect from `applies_at` (queued when in the future).
#[event]
pub struct MarketConfigured {
    pub market: Pubkey,
    pub params: crate::instructions::MarketParams,
    pub applies_at: i64,
}

/// `reserve` is `Pubkey::default()` for the market-wide switch.
#[event]
pub struct PauseSet {
    pub market: Pubkey,
    pub reserve: Pubkey,
    pub paused: bool,
}

/// The admin marked a reserve's price unusable (or usable again).
#[event]
pub struct PriceUsabilitySet {
    pub market: Pubkey,
    pub reserve: Pubkey,
    pub unusable: bool,
}

/// The price of a reserve diverged from its EMA past the warn level (SPEC §2).
#[event]
pub struct EmaDivergenceWarning {
    pub reserve: Pubkey,
    pub divergence_bps: u64,
}

#[event]
pub struct Borrowed {
    pub position: Pubkey,
    pub reserve: Pubkey,
    pub amount: u64,
    pub shares_minted: u64,
    pub reserve_total_debt: u64,
}

#[event]
pub struct Repaid {
    pub position: Pubkey,
    pub reserve: Pubkey,
    pub payer: Pubkey,
    pub amount: u64,
    pub shares_burned: u64,
    pub reserve_total_debt: u64,
}

/// A reserve's insurance pool (SPEC §5), as reported by events and the reserve view.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStatus {
    /// Tokens in the pool: its insurance vault's and those booked to it in the reserve's vault
    /// (`Reserve::pool_balance`).
    pub balance: u64,
    /// `insurance_target_bps` × 24 h volume / 10 000, rounded up.
    pub target: u64,
    /// balance / target in bps (see `ballast_risk::liquidation::coverage_bps`).
    pub coverage_bps: u32,
    /// Deposit, withdraw, borrow, repay and liquidation flows of the last 24 hours, in tokens.
    pub volume_24h: u64,
}

impl PoolStatus {
    pub fn new(reserve: &crate::state::Reserve, balance: u64, now: i64) -> Self {
        let volume_24h = reserve.volume_24h(now);
        let target = ballast_risk::volume::pool_target(volume_24h, reserve.interest.insurance_target_bps);
        PoolStatus {
            balance,
            target,
            coverage_bps: ballast_risk::liquidation::coverage_bps(balance, target),
            volume_24h,
        }
    }

    /// The same pool holding `balance` instead (the 24 h volume and target unchanged).
    pub fn with_balance(self, balance: u64) -> Self {
        PoolStatus {
            balance,
            coverage_bps: ballast_risk::liquidation::coverage_bps(balance, self.target),
            ..self
        }
    }
}

#[event]
pub struct FeesCollected {
    pub reserve: Pubkey,
    pub to_insurance_pool: u64,
    pub to_fee_receiver: u64,
    /// The pool after the transfer.
    pub pool: PoolStatus,
}

/// A reserve's cached mint state after `refresh_mint` (multipliers WAD-scaled).
#[event]
pub struct MintRefreshed {
    pub reserve: Pubkey,
    pub multiplier: u128,
    pub new_multiplier: u128,
    pub multiplier_effective_ts: i64,
    pub paused: bool,
    /// `mint_rules::MINT_IMPAIRED_*`: 1 a transfer fee, 2 a transfer hook was set since listing.
    pub impaired: u8,
}

/// A keeper repaid `repaid` of the position's debt in `repay_reserve` and seized `seized` of its
/// deposit in `seize_reserve`: `to_liquidator` to the keeper, the fee to the seized asset's
/// insurance pool (up to its target) and the fee receiver.
#[event]
pub struct Liquidated {
    pub position: Pubkey,
    pub liquidator: Pubkey,
    pub repay_reserve: Pubkey,
    pub seize_reserve: Pubkey,
    pub repaid: u64,
    pub seized: u64,
    pub to_liquidator: u64,
    /// Deposit shares of the seized reserve credited to the liquidator's position instead of
    /// tokens (0 when paid in tokens). Paid in shares, no fee moves: it stays with the
    /// reserve's depositors.
    pub to_liquidator_shares: u64,
    /// The fee's part booked to the seized reserve's insurance pool (in the reserve's vault
    /// until `collect_fees` moves it to the insurance vault).
    pub fee_to_insurance_pool: u64,
    /// The fee's part past the pool's target, booked as pending fees (paid to the fee receiver
    /// by `collect_fees`).
    pub fee_to_fee_receiver: u64,
    pub bonus_bps: u32,
    /// Maintenance health factors (1e9 = 1.0); `None` once no debt is left.
    pub health_factor_before: Option<u128>,
    pub health_factor_after: Option<u128>,
    /// The seized asset's pool after the fee.
    pub pool: PoolStatus,
}

impl Liquidated {
    /// The bytes `emit!` logs (discriminator, then the fields in Borsh), written into a stack
    /// buffer: Anchor's `emit!` grows a heap vector through Borsh's writer, about 1,000 compute
    /// units more on the keepers' instruction (docs/decisions.md, issue 28). Decoders see the
    /// same bytes; a test holds the two to each other.
    pub fn log_record(&self) -> LogRecord<LIQUIDATED_LEN> {
        let mut r = LogRecord::new(Self::DISCRIMINATOR);
        for key in [&self.position, &self.liquidator, &self.repay_reserve, &self.seize_reserve] {
            r.put(&key.to_bytes());
        }
        for value in [
            self.repaid,
            self.seized,
            self.to_liquidator,
            self.to_liquidator_shares,
            self.fee_to_insurance_pool,
            self.fee_to_fee_receiver,
        ] {
            r.put(&value.to_le_bytes());
        }
        r.put(&self.bonus_bps.to_le_bytes());
        for factor in [self.health_factor_before, self.health_factor_after] {
            match factor {
                Some(f) => {
                    r.put(&[1]);
                    r.put(&f.to_le_bytes());
                }
                None => r.put(&[0]),
            }
        }
        r.put(&self.pool.balance.to_le_bytes());
        r.put(&self.pool.target.to_le_bytes());
        r.put(&self.pool.coverage_bps.to_le_bytes());
        r.put(&self.pool.volume_24h.to_le_bytes());
        r
    }

    /// Logs the event as `emit!` would.
    pub fn emit(&self) {
        anchor_lang::solana_program::log::sol_log_data(&[self.log_record().bytes()]);
    }
}

/// The longest `Liquidated` record: both health factors present.
pub const LIQUIDATED_LEN: usize = 8 + 4 * 32 + 6 * 8 + 4 + 2 * 17 + (8 + 8 + 4 + 8);

/// An event's log record built in place (see [`Liquidated::log_record`]).
pub struct LogRecord<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> LogRecord<N> {
    fn new(discriminator: &[u8]) -> Self {
        let mut r = LogRecord { buf: [0; N], len: discriminator.len() };
        r.buf[..discriminator.len()].copy_from_slice(discriminator);
        r
    }

    /// Appends `bytes`; `N` is the record's longest length, so this never runs past it. Inlined
    /// with the field's size known: a few stores, where a copy of unknown length is a call to
    /// the runtime's `memcpy` (about 25 compute units a field).
    #[inline(always)]
    fn put<const M: usize>(&mut self, bytes: &[u8; M]) {
        self.buf[self.len..self.len + M].copy_from_slice(bytes);
        self.len += M;
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// Bad debt step 1: the debt reserve's insurance pool paid `amount` into the vault.
#[event]
pub struct BadDebtCoveredByPool {
    pub position: Pubkey,
    pub reserve: Pubkey,
    pub amount: u64,
    /// The pool after the payment.
    pub pool: PoolStatus,
}

/// Bad debt step 2: what the pool could not cover, taken from the reserve's depositors (the
/// deposit share value drops).
#[event]
pub struct BadDebtSocialized {
    pub position: Pubkey,
    pub reserve: Pubkey,
    pub amount: u64,
    pub reserve_total_assets: u64,
    pub reserve_total_shares: u64,
}

/// Bad debt step 0: a deposit too small to liquidate, burned from the position; its tokens stay
/// in the reserve for the reserve's other depositors.
#[event]
pub struct DepositDustForfeited {
    pub position: Pubkey,
    pub reserve: Pubkey,
    pub shares: u64,
    /// What the shares were worth (tokens, rounded down).
    pub amount: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_liquidated_record_is_the_bytes_emit_logs() {
        let key = |b: u8| Pubkey::new_from_array([b; 32]);
        for (before, after) in
            [(Some(987_654_321u128), Some(u128::MAX - 3)), (None, Some(1)), (Some(7), None), (None, None)]
        {
            let event = Liquidated {
                position: key(1),
                liquidator: key(2),
                repay_reserve: key(3),
                seize_reserve: key(4),
                repaid: 5,
                seized: u64::MAX,
                to_liquidator: 7 << 40,
                to_liquidator_shares: 8,
                fee_to_insurance_pool: 9,
                fee_to_fee_receiver: 10,
                bonus_bps: 0xdead_beef,
                health_factor_before: before,
                health_factor_after: after,
                pool: PoolStatus { balance: 11, target: 12, coverage_bps: 13, volume_24h: 14 },
            };
            assert_eq!(event.log_record().bytes(), anchor_lang::Event::data(&event).as_slice());
        }
    }
}
