use anchor_lang::prelude::*;

use ballast_risk::fixed::{Rounding, BPS, WAD};
use ballast_risk::interest::{accrue_index_capped, debt_for_shares, shares_for_debt, utilization};
use ballast_risk::shares::shares_to_burn_for_amount;

use crate::constants::RESERVE_SEED;
use crate::error::BallastError;
use crate::state::{InterestConfig, OracleConfig, PodU128, RiskConfig, SessionConfig};

/// Seconds either side of a `ScaledUiAmount` change during which the asset is reduce-only.
pub const MULTIPLIER_CHANGE_WINDOW_SECS: u64 = 900;

/// How long after a multiplier change Pyth's per-share EMA may still lag the per-share price
/// (its time constant is about an hour; a tenfold move needs ~7 of them to come within the
/// breaker's levels): until then the EMA breaker never reaches "force" for that asset.
pub const EMA_SETTLE_SECS: i64 = 24 * 3600;

/// How old a dynamic mint's cached state (pause flag, multiplier schedule, transfer rules) may
/// be for its collateral to back a new borrow or a withdrawal: clients put `refresh_mint` for
/// such slots in the same transaction (the SDK does).
pub const MINT_CACHE_MAX_AGE_SECS: i64 = 60;

/// What a reserve's token represents; equities get session rules later (SPEC §6).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssetClass {
    Crypto,
    Equity,
}

/// One listed asset of a market. Zero-copy: it is read and written by every instruction that
/// touches the asset, and (from the risk issue on) several reserves are loaded per instruction.
/// Every field is at most 8-byte aligned and the layout has no implicit padding.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Reserve {
    pub market: Pubkey,
    pub mint: Pubkey,
    /// SPL Token or Token-2022: the program that owns `mint`; every CPI goes to it.
    pub token_program: Pubkey,
    /// PDA token account `[VAULT_SEED, reserve]` holding depositors' liquidity; authority = reserve.
    pub vault: Pubkey,
    /// PDA token account `[INSURANCE_SEED, reserve]`; authority = reserve.
    pub insurance_vault: Pubkey,
    /// Depositors' tokens held in the vault (tracked, not read from the vault, so a donation to
    /// the vault cannot move the share price).
    pub available_liquidity: u64,
    /// Deposit shares outstanding across all positions.
    pub total_deposit_shares: u64,
    /// Maximum total deposits, in token units.
    pub deposit_cap: u64,
    /// Maximum total borrows, in token units (enforced by borrow).
    pub borrow_cap: u64,
    /// Cumulative borrow index, WAD-scaled (starts at 1.0).
    pub borrow_index: PodU128,
    /// Borrow shares outstanding; debt = shares × index.
    pub total_borrow_shares: u64,
    /// The protocol's fees not yet collected, in tokens, not the depositors': its share of
    /// accrued interest (reserve factor) and liquidation fees beyond the insurance pool's target.
    /// In the vault (part of `available_liquidity`) until `collect_fees` pays them out.
    pub pending_fees: u64,
    /// Liquidation fees the insurance pool took that are still in the vault, outside
    /// `available_liquidity`: booked, not transferred, by `liquidate` (a transfer per liquidation
    /// cost keepers ~1,450 compute units, docs/decisions.md issue 28); `collect_fees` moves them
    /// to `insurance_vault`. The pool's balance is this plus the insurance vault's.
    pub insurance_booked: u64,
    /// Unix time interest was last accrued to.
    pub last_accrual_ts: i64,
    pub oracle: OracleConfig,
    pub risk: RiskConfig,
    pub interest: InterestConfig,
    /// Market hours of an equity reserve.
    pub session: SessionConfig,
    /// A session change waiting for the market timelock (`pending_session_eta` 0: none).
    pub pending_session: SessionConfig,
    pub pending_session_eta: i64,
    /// Token volume (deposit, withdraw, borrow, repay, liquidation) per hour, `unix_hour % 24`.
    pub volume_buckets: [u64; 24],
    /// The newest hour written to `volume_buckets`.
    pub volume_last_hour: u64,
    /// A loosening configuration waiting for the market timelock (`pending_eta` 0: none).
    pub pending_oracle: OracleConfig,
    pub pending_risk: RiskConfig,
    pub pending_interest: InterestConfig,
    pub pending_deposit_cap: u64,
    pub pending_borrow_cap: u64,
    /// Unix time from which `apply_reserve_config` may apply the pending change.
    pub pending_eta: i64,
    /// The mint's `ScaledUiAmount` schedule (WAD; 1.0 without the extension): one token is
    /// worth `multiplier` shares until `multiplier_effective_ts`, `new_multiplier` from then on.
    /// Cached from the mint at listing and by every instruction that passes the mint.
    pub multiplier: PodU128,
    pub new_multiplier: PodU128,
    pub multiplier_effective_ts: i64,
    /// When the mint's state above was last read (listing, `refresh_mint`, or any instruction
    /// that passes the mint). A dynamic mint's collateral counts for initial health only while
    /// this is at most `MINT_CACHE_MAX_AGE_SECS` old.
    pub mint_checked_ts: i64,
    /// The last two changes before the mint's schedule, kept once the mint no longer shows them
    /// (`[0]` the newer; `until_ts` 0: none). A change the reserve never saw scheduled is
    /// recorded here, effective from the moment a refresh saw it.
    pub past_multipliers: [PastMultiplier; 2],
    pub decimals: u8,
    /// `AssetClass` as u8.
    pub asset_class: u8,
    pub bump: u8,
    pub vault_bump: u8,
    pub insurance_vault_bump: u8,
    /// The mint is paused (Token-2022 `Pausable`): no deposits, worth nothing for initial health.
    pub mint_paused: u8,
    /// The mint has extensions whose state can change (ScaledUiAmount, Pausable): instructions
    /// that pass the mint re-read it.
    pub mint_dynamic: u8,
    /// Reserve pause (admin): no deposits and no borrows of this asset.
    pub paused: u8,
    /// Extra haircut for a mint whose issuer can claw back or freeze (PermanentDelegate, freeze
    /// authority), listed by explicit opt-in (SPEC §6).
    pub issuer_haircut_bps: u16,
    /// The mint has since listing gained what listing refuses (`mint_rules::MINT_IMPAIRED_*`: a
    /// transfer fee or a transfer hook): no deposit, no borrow, nothing for initial health;
    /// repay, withdraw and liquidation go on, booking what actually arrives.
    pub mint_impaired: u8,
    /// The admin marked the price unusable (emergency, instant): deposits count nothing, a debt
    /// stands at the account's last price, no liquidation repays or seizes this asset.
    pub price_unusable: u8,
    /// The protocol's share of interest below one token unit, in 1/10 000 of a unit, carried
    /// from one accrual to the next (fees are otherwise rounded down at every accrual).
    pub fee_remainder_bps: u32,
}

/// A multiplier change the reserve remembers: prices published before `until_ts` take
/// `multiplier`. Which side of it a price published from `doubt_from_ts − window` to
/// `until_ts + window` belongs to is in doubt (the feed and the issuer may switch at different
/// moments, and an unannounced change happened at some time after the mint was last read,
/// `doubt_from_ts`, and before it was seen, `until_ts`).
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PastMultiplier {
    pub multiplier: PodU128,
    pub until_ts: i64,
    pub doubt_from_ts: i64,
}

/// A multiplier change as valuation sees it: when, since when it is in doubt, and the
/// multipliers before and after.
#[derive(Debug, Clone, Copy)]
struct Transition {
    at: i64,
    doubt_from: i64,
    before: u128,
    after: u128,
}

/// A reserve's figures as of a moment, computed without writing (health views use this for
/// every reserve of a position; `accrue` writes the same numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accrued {
    pub borrow_index: u128,
    pub pending_fees: u64,
    pub fee_remainder_bps: u32,
}

impl Reserve {
    /// Token units owned by depositors (the value of all deposit shares) at the stored index.
    pub fn total_deposit_assets(&self) -> Result<u64> {
        self.deposit_assets_at(self.borrow_index.get(), self.pending_fees)
    }

    /// Depositors' assets at `index`: free liquidity plus what borrowers owe (rounded down: the
    /// depositors are never credited a rounding unit the borrowers will not pay), less fees.
    pub fn deposit_assets_at(&self, index: u128, pending_fees: u64) -> Result<u64> {
        // Nothing borrowed (most reserves a position holds as collateral): no share maths.
        let debt = match self.total_borrow_shares {
            0 => 0,
            shares => debt_for_shares(shares, index, Rounding::Down).map_err(BallastError::from)?,
        };
        Ok(self
            .available_liquidity
            .checked_add(debt)
            .and_then(|v| v.checked_sub(pending_fees))
            .ok_or(BallastError::MathOverflow)?)
    }

    /// Total debt at the stored index, rounded up.
    pub fn total_debt(&self) -> Result<u64> {
        Ok(debt_for_shares(self.total_borrow_shares, self.borrow_index.get(), Rounding::Up)
            .map_err(BallastError::from)?)
    }

    /// The index, debt and fees this reserve will have once accrued to `now`.
    pub fn accrued(&self, now: i64) -> Result<Accrued> {
        let index = self.borrow_index.get();
        let elapsed = now.saturating_sub(self.last_accrual_ts).max(0) as u64;
        if elapsed == 0 || self.total_borrow_shares == 0 {
            // Nothing accrues (no 128-bit maths).
            return Ok(Accrued {
                borrow_index: index,
                pending_fees: self.pending_fees,
                fee_remainder_bps: self.fee_remainder_bps,
            });
        }
        let debt_before = self.total_debt()?;
        let apr = self.interest.curve().borrow_apr(utilization(debt_before, self.available_liquidity));
        // Depositors' assets (free liquidity + debt) must stay a u64: debt stops growing there.
        let max_debt = u64::MAX - self.available_liquidity;
        let new_index = accrue_index_capped(index, apr, elapsed, self.total_borrow_shares, max_debt);
        let debt_after =
            debt_for_shares(self.total_borrow_shares, new_index, Rounding::Up).map_err(BallastError::from)?;
        let interest = debt_after.saturating_sub(debt_before);
        // interest < 2^64 and the factor ≤ 10 000: no overflow in 128 bits.
        let fee_bps =
            interest as u128 * self.interest.reserve_factor_bps as u128 + self.fee_remainder_bps as u128;
        let fee = u64::try_from(fee_bps / BPS).map_err(|_| BallastError::MathOverflow)?;
        let pending_fees = self.pending_fees.checked_add(fee).ok_or(BallastError::MathOverflow)?;
        Ok(Accrued { borrow_index: new_index, pending_fees, fee_remainder_bps: (fee_bps % BPS) as u32 })
    }

    /// Accrues interest up to `now` (SPEC §4): every instruction that touches the reserve calls it.
    pub fn accrue(&mut self, now: i64) -> Result<()> {
        if now <= self.last_accrual_ts {
            return Ok(()); // accrued already this second (or the clock is behind): nothing moves
        }
        let a = self.accrued(now)?;
        self.borrow_index.set(a.borrow_index);
        self.pending_fees = a.pending_fees;
        self.fee_remainder_bps = a.fee_remainder_bps;
        self.last_accrual_ts = self.last_accrual_ts.max(now);
        Ok(())
    }

    /// Deposit shares to burn for taking `amount` tokens out of the reserve, rounded up (at the
    /// stored index: accrue first).
    pub fn deposit_shares_for(&self, amount: u64) -> Result<u64> {
        let (shares, assets) = (self.total_deposit_shares, self.total_deposit_assets()?);
        Ok(shares_to_burn_for_amount(amount, shares, assets).map_err(BallastError::from)?)
    }

    /// Books a withdrawal or seizure paid out of the vault: `shares` burned for `amount`
    /// tokens (the caller has taken them from a position), counted as volume. Withdraw and
    /// liquidate both go through here.
    pub fn pay_out_deposit(&mut self, shares: u64, amount: u64, now: i64) -> Result<()> {
        require!(amount <= self.available_liquidity, BallastError::InsufficientLiquidity);
        self.total_deposit_shares =
            self.total_deposit_shares.checked_sub(shares).ok_or(BallastError::InsufficientDeposit)?;
        self.available_liquidity -= amount; // checked above
        self.record_volume(now, amount);
        Ok(())
    }

    /// Burns deposit shares whose tokens stay in the reserve (forfeited dust, a seizure's fee
    /// paid in shares): the other depositors' shares are worth that much more.
    pub fn burn_deposit_shares(&mut self, shares: u64) -> Result<()> {
        self.total_deposit_shares =
            self.total_deposit_shares.checked_sub(shares).ok_or(BallastError::MathOverflow)?;
        Ok(())
    }

    /// Books a repayment of up to `amount` tokens against `held` borrow shares (one position's
    /// debt, at the stored index: accrue first) and returns `(paid, burned)`: everything owed
    /// (rounded up) for all the shares when `amount` covers it, else `amount` for the shares it
    /// covers, rounded down. Counted as volume. Repay and liquidate both go through here.
    pub fn repay_debt(&mut self, held: u64, amount: u64, now: i64) -> Result<(u64, u64)> {
        let index = self.borrow_index.get();
        let debt = debt_for_shares(held, index, Rounding::Up).map_err(BallastError::from)?;
        let (paid, burned) = if amount >= debt {
            (debt, held)
        } else {
            (amount, shares_for_debt(amount, index, Rounding::Down).map_err(BallastError::from)?.min(held))
        };
        self.total_borrow_shares = self.total_borrow_shares.saturating_sub(burned);
        self.available_liquidity =
            self.available_liquidity.checked_add(paid).ok_or(BallastError::MathOverflow)?;
        self.record_volume(now, paid);
        Ok((paid, burned))
    }

    /// Assets left in a reserve whose every deposit share has gone (its depositors withdrew
    /// to the last share, or were written off and forfeited): nobody owns them, and minting
    /// the next deposit 1:1 against them would hand them to the next depositor. Those held in
    /// the vault become protocol fees (`collect_fees`: the insurance pool up to its target,
    /// then the fee receiver); returns how many tokens moved. Called before a deposit into such
    /// a reserve. What is still owed to the reserve stays with its depositors: made fees, it
    /// would let `collect_fees` pay them out of the next depositor's tokens before the
    /// borrowers repay (and a default would then fall on that depositor alone).
    pub fn sweep_unowned_assets(&mut self) -> Result<u64> {
        let cash = self.available_liquidity.saturating_sub(self.pending_fees);
        let unowned = self.total_deposit_assets()?.min(cash);
        if unowned > 0 {
            crate::diag!("{} tokens without deposit shares become protocol fees", unowned);
            self.pending_fees = self.pending_fees.checked_add(unowned).ok_or(BallastError::MathOverflow)?;
        }
        Ok(unowned)
    }

    /// Writes off a position's `held` borrow shares (interest accrued first by the caller): the
    /// insurance pool holding `pool_balance` pays what it can into the vault, the rest lowers
    /// the depositors' share value. Returns (the debt, rounded up; what the pool pays; what the
    /// depositors lose). `resolve_bad_debt` books it; the risk lab replays it.
    pub fn write_off_debt(&mut self, held: u64, pool_balance: u64) -> Result<(u64, u64, u64)> {
        let debt =
            debt_for_shares(held, self.borrow_index.get(), Rounding::Up).map_err(BallastError::from)?;
        let from_pool = debt.min(pool_balance);
        let assets_before = self.total_deposit_assets()?;
        self.total_borrow_shares =
            self.total_borrow_shares.checked_sub(held).ok_or(BallastError::MathOverflow)?;
        self.available_liquidity =
            self.available_liquidity.checked_add(from_pool).ok_or(BallastError::MathOverflow)?;
        self.write_off_unbacked_fees()?;
        let socialized = assets_before.saturating_sub(self.total_deposit_assets()?);
        Ok((debt, from_pool, socialized))
    }

    /// Uncollected protocol fees beyond what free liquidity and the remaining debt can back are
    /// written off (after bad debt): the depositors' assets never go negative.
    pub fn write_off_unbacked_fees(&mut self) -> Result<()> {
        let debt = debt_for_shares(self.total_borrow_shares, self.borrow_index.get(), Rounding::Down)
            .map_err(BallastError::from)?;
        let backing = self.available_liquidity.checked_add(debt).ok_or(BallastError::MathOverflow)?;
        self.pending_fees = self.pending_fees.min(backing);
        Ok(())
    }

    /// The insurance pool's balance: the insurance vault's tokens (`vault_amount`) and the fees
    /// booked to it in the vault.
    pub fn pool_balance(&self, vault_amount: u64) -> Result<u64> {
        Ok(vault_amount.checked_add(self.insurance_booked).ok_or(BallastError::MathOverflow)?)
    }

    /// Books a liquidation fee whose tokens stay in the vault: `to_pool` for the insurance pool
    /// (outside the depositors' liquidity), `to_receiver` as pending protocol fees (inside it,
    /// until `collect_fees`). Call after `pay_out_deposit` took the whole seizure out of
    /// `available_liquidity`: the depositors' assets fall by the seizure either way.
    pub fn book_liquidation_fee(&mut self, to_pool: u64, to_receiver: u64) -> Result<()> {
        let add = |a: u64, b: u64| a.checked_add(b).ok_or(BallastError::MathOverflow);
        self.insurance_booked = add(self.insurance_booked, to_pool)?;
        self.pending_fees = add(self.pending_fees, to_receiver)?;
        self.available_liquidity = add(self.available_liquidity, to_receiver)?;
        Ok(())
    }

    /// The pool pays `amount` (at most its balance) into the reserve: from the fees booked to it
    /// in the vault first (already there, no transfer), and returns the rest, which the
    /// insurance vault pays.
    pub fn draw_pool(&mut self, amount: u64) -> u64 {
        let booked = amount.min(self.insurance_booked);
        self.insurance_booked -= booked;
        amount - booked
    }

    /// Adds a flow of `amount` tokens to the rolling 24 h volume.
    pub fn record_volume(&mut self, now: i64, amount: u64) {
        ballast_risk::volume::record(&mut self.volume_buckets, &mut self.volume_last_hour, now, amount);
    }

    pub fn volume_24h(&self, now: i64) -> u64 {
        ballast_risk::volume::volume_24h(&self.volume_buckets, self.volume_last_hour, now)
    }

    /// The insurance pool's target: `insurance_target_bps` of the 24 h volume.
    pub fn insurance_target(&self, now: i64) -> u64 {
        ballast_risk::volume::pool_target(self.volume_24h(now), self.interest.insurance_target_bps)
    }

    /// The oracle rules in force at `now`: outside an equity session the last price is accepted
    /// up to `closed_max_age_secs` and its age does not widen the band (the market is shut, the
    /// price is not lagging).
    pub fn effective_oracle(&self, now: i64) -> OracleConfig {
        let mut o = self.oracle;
        if !self.session.is_open(now) {
            o.max_age_secs = self.session.closed_max_age_secs;
            o.lag_bps_per_sec = 0;
        }
        o
    }

    /// Outside its session an equity is priced at its last close: an update published before
    /// that close (less the open-market max age) is refused as stale, so nobody can pick an
    /// older print from the closed-market window.
    pub fn check_closed_session_price(
        &self,
        price: &crate::oracle::OraclePrice,
        now: i64,
    ) -> std::result::Result<(), BallastError> {
        if self.session.is_open(now) {
            return Ok(());
        }
        if let Some(close) = self.session.last_close(now) {
            let published = (now.max(0) as u64).saturating_sub(price.age_secs);
            let earliest = close.saturating_sub(self.oracle.max_age_secs as u64);
            if published < earliest {
                msg!(
                    "closed market: price published at {} is older than the last close {}",
                    published,
                    close
                );
                return Err(BallastError::OracleStale);
            }
        }
        Ok(())
    }

    /// The `ScaledUiAmount` multiplier in force at unix time `ts` (WAD). Prices take the one in
    /// force when they were published: a pre-split price never meets a post-split multiplier.
    pub fn multiplier_at(&self, ts: i64) -> u128 {
        // The older remembered change first: its `until_ts` is the earlier.
        for past in self.past_multipliers.iter().rev() {
            if past.until_ts != 0 && ts < past.until_ts {
                return past.multiplier.get();
            }
        }
        if ts >= self.multiplier_effective_ts {
            self.new_multiplier.get()
        } else {
            self.multiplier.get()
        }
    }

    /// The changes the reserve knows of: the mint's scheduled one and the two it remembers.
    fn multiplier_transitions(&self) -> impl Iterator<Item = Transition> + '_ {
        let (old, new, at) = (self.multiplier.get(), self.new_multiplier.get(), self.multiplier_effective_ts);
        let scheduled = (old != new).then_some(Transition { at, doubt_from: at, before: old, after: new });
        let past = self.past_multipliers.iter().filter(|p| p.until_ts != 0).map(|p| Transition {
            at: p.until_ts,
            doubt_from: p.doubt_from_ts.min(p.until_ts),
            before: p.multiplier.get(),
            after: self.multiplier_at(p.until_ts),
        });
        scheduled.into_iter().chain(past).filter(|t| t.before != t.after)
    }

    /// Whether `ts` lies in a change's doubt: from `MULTIPLIER_CHANGE_WINDOW_SECS` before the
    /// earliest moment it may have happened to as long after the latest.
    fn in_doubt(t: &Transition, ts: i64) -> bool {
        let w = MULTIPLIER_CHANGE_WINDOW_SECS as i64;
        ts >= t.doubt_from.saturating_sub(w) && ts <= t.at.saturating_add(w)
    }

    /// Whether `now` lies in a multiplier change's window: the feed and the issuer may switch at
    /// slightly different moments (and an unannounced change may have come at any time since the
    /// mint was last read), so the asset is reduce-only then (SPEC §6, docs/decisions.md).
    pub fn in_multiplier_change_window(&self, now: i64) -> bool {
        self.multiplier_transitions().any(|t| Self::in_doubt(&t, now))
    }

    /// The smallest and largest multiplier a price published at `published` may stand at: the
    /// multiplier in force then and both sides of every change it is in doubt of; `None` when it
    /// is in doubt of none (it takes `multiplier_at(published)`).
    pub fn multiplier_doubt(&self, published: i64) -> Option<(u128, u128)> {
        let at = self.multiplier_at(published);
        self.multiplier_transitions().filter(|t| Self::in_doubt(t, published)).fold(None, |bounds, t| {
            let (lo, hi) = bounds.unwrap_or((at, at));
            Some((lo.min(t.before).min(t.after), hi.max(t.before).max(t.after)))
        })
    }

    /// The change whose per-share EMA may still lag at `now` (from the window's opening to
    /// `EMA_SETTLE_SECS` after the change), as `(before, after)`, if the step is one the breaker
    /// would notice (at least `ema_pause_bps`): a smaller one leaves the breaker as it is.
    pub fn multiplier_settling(&self, now: i64) -> Option<(u128, u128)> {
        let pause = self.oracle.ema_pause_bps as u64;
        self.multiplier_transitions().find_map(|t| {
            let opens = t.doubt_from.saturating_sub(MULTIPLIER_CHANGE_WINDOW_SECS as i64);
            let settling = now >= opens && now <= t.at.saturating_add(EMA_SETTLE_SECS);
            let step = ballast_risk::health::ema_divergence_bps(
                u64::try_from(t.after).unwrap_or(u64::MAX),
                u64::try_from(t.before).unwrap_or(u64::MAX),
            );
            (settling && step >= pause).then_some((t.before, t.after))
        })
    }

    /// Remembers a change that the mint's schedule no longer shows (the older one is dropped).
    fn remember_change(&mut self, before: u128, until_ts: i64, doubt_from_ts: i64) {
        self.past_multipliers[1] = self.past_multipliers[0];
        let mut past = PastMultiplier { until_ts, doubt_from_ts, ..PastMultiplier::default() };
        past.multiplier.set(before);
        self.past_multipliers[0] = past;
    }

    /// Records the mint's state as read at `now`. The multiplier schedule is merged, not
    /// copied: Token-2022's `update_multiplier` with an effective time at or before now sets
    /// both of the mint's multipliers to the new value, so the mint forgets the old one. A
    /// multiplier in force now that differs from what the reserve knew to be in force now is
    /// a change it never saw scheduled: it takes effect at `now`, the moment it was seen, and
    /// is in doubt back to the mint's last read (prices published in between may stand on
    /// either side of it; the window around it is reduce-only). A change already past that
    /// the mint's new schedule no longer shows is remembered too. (The first read, at listing,
    /// takes the mint's schedule as it is.)
    pub fn set_mint_traits(&mut self, traits: &crate::mint_rules::MintTraits, now: i64) {
        let read = traits.multiplier;
        if self.mint_checked_ts != 0 {
            let known = self.multiplier_at(now);
            let (old, new, at) =
                (self.multiplier.get(), self.new_multiplier.get(), self.multiplier_effective_ts);
            let scheduled_passed = old != new && at <= now;
            let same_schedule =
                read.multiplier == old && read.new_multiplier == new && read.effective_ts == at;
            if scheduled_passed && (read.at(now) != known || !same_schedule) {
                self.remember_change(old, at, at);
            }
            if read.at(now) != known {
                crate::diag!(
                    "multiplier {} in force without a schedule (knew {}): from {}",
                    read.at(now),
                    known,
                    now
                );
                self.remember_change(known, now, self.mint_checked_ts);
            }
        }
        self.mint_checked_ts = now;
        self.multiplier.set(read.multiplier);
        self.new_multiplier.set(read.new_multiplier);
        self.multiplier_effective_ts = read.effective_ts;
        self.mint_paused = traits.paused as u8;
        self.mint_impaired = traits.impairment();
        self.mint_dynamic = (traits.pausable
            || traits.mutable_transfer_rules
            || read != crate::mint_rules::Multiplier::ONE) as u8;
    }

    /// Whether the cached state of a mint that can change is too old to back new risk.
    pub fn mint_cache_stale(&self, now: i64) -> bool {
        self.mint_dynamic != 0 && now.saturating_sub(self.mint_checked_ts) > MINT_CACHE_MAX_AGE_SECS
    }

    /// No new exposure to a mint that has gained a transfer fee or hook since listing.
    pub fn require_mint_unimpaired(&self) -> Result<()> {
        match self.mint_impaired {
            crate::mint_rules::MINT_IMPAIRED_NONE => Ok(()),
            crate::mint_rules::MINT_IMPAIRED_TRANSFER_FEE => err!(BallastError::MintTransferFee),
            _ => err!(BallastError::MintTransferHook),
        }
    }

    /// Re-reads a mint with dynamic extensions (`mint` must be the reserve's mint account) at
    /// the instruction's clock `now`.
    pub fn refresh_mint(&mut self, mint: &AccountInfo, now: i64) -> Result<()> {
        if self.mint_dynamic != 0 {
            let traits = crate::mint_rules::inspect_mint(&mint.try_borrow_data()?)?;
            self.set_mint_traits(&traits, now);
        }
        Ok(())
    }

    /// The most one position may hold of a reserve-wide `cap` (the concentration limit).
    pub fn per_position_cap(&self, cap: u64) -> u64 {
        (cap as u128 * self.risk.position_cap_bps as u128 / BPS) as u64
    }

    /// The index a newly listed reserve starts with.
    pub fn initial_index() -> u128 {
        WAD
    }

    /// Rejects `token_program` unless it is the one that owns the reserve's mint.
    pub fn check_token_program(&self, token_program: &Pubkey) -> Result<()> {
        require_keys_eq!(*token_program, self.token_program, BallastError::WrongTokenProgram);
        Ok(())
    }

    /// Runs `f` with the reserve's PDA signer seeds (the reserve is its vaults' token authority).
    pub fn with_signer_seeds<R>(&self, f: impl FnOnce(&[&[&[u8]]]) -> R) -> R {
        let bump = [self.bump];
        let seeds: [&[u8]; 4] = [RESERVE_SEED, self.market.as_ref(), self.mint.as_ref(), &bump];
        f(&[&seeds])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::InterestConfig;

    /// A reserve half borrowed at a fixed 20 % APR with a 10 % reserve factor.
    fn busy_reserve() -> Reserve {
        let mut r: Reserve = bytemuck::Zeroable::zeroed();
        r.borrow_index.set(WAD);
        r.available_liquidity = 1_000_000_000;
        r.total_borrow_shares = 1_000_000_000;
        r.interest = InterestConfig {
            optimal_utilization_bps: 8_000,
            base_rate_bps: 2_000,
            optimal_rate_bps: 2_000,
            max_rate_bps: 2_000,
            reserve_factor_bps: 1_000,
            ..bytemuck::Zeroable::zeroed()
        };
        r
    }

    /// Issue 10, smaller items: accrued every second for an hour, the protocol books the same
    /// fees as accrued once after the hour (to rounding), not the ~zero that per-accrual
    /// rounding down left it.
    #[test]
    fn protocol_fees_carry_their_remainder_across_accruals() {
        let (mut every_second, mut once) = (busy_reserve(), busy_reserve());
        for t in 1..=3_600 {
            every_second.accrue(t).unwrap();
        }
        once.accrue(3_600).unwrap();
        // 20 % APR on 10^9 units for an hour ≈ 22,831 units of interest, 10 % of it in fees.
        assert!((2_270..=2_290).contains(&once.pending_fees), "{}", once.pending_fees);
        // Per second the fee is ~0.63 units: rounded down each time it was lost entirely.
        let (a, b) = (every_second.pending_fees, once.pending_fees);
        assert!(a * 100 >= b * 99 && a * 100 <= b * 101, "every second {a} vs once {b}");
    }

    /// A reserve of a ScaledUiAmount mint read at `at` with `schedule` (WAD multipliers).
    fn read(r: &mut Reserve, (multiplier, new_multiplier, effective_ts): (u128, u128, i64), at: i64) {
        let traits = crate::mint_rules::MintTraits {
            multiplier: crate::mint_rules::Multiplier { multiplier, new_multiplier, effective_ts },
            pausable: true,
            ..crate::mint_rules::MintTraits::plain(8)
        };
        r.set_mint_traits(&traits, at);
    }

    /// Issue 24 review: a scheduled 1:10 split, then (the next day) an unannounced 2 % step.
    /// Friday's price keeps the multiplier of Friday (1), Saturday's after the split 10, and
    /// a price within the step's doubt stands between 10 and 10.2; before, the second change
    /// overwrote the first and Friday's price met 10.
    #[test]
    fn two_changes_in_a_row_keep_every_price_at_its_own_multiplier() {
        let (friday, saturday, sunday, monday) = (100_000, 186_400, 272_800, 359_200);
        let mut r: Reserve = bytemuck::Zeroable::zeroed();
        read(&mut r, (WAD, 10 * WAD, saturday), friday);
        read(&mut r, (WAD, 10 * WAD, saturday), saturday + 60);
        read(&mut r, (WAD, 10 * WAD, saturday), sunday);
        let step = 10 * WAD + WAD / 5;
        read(&mut r, (step, step, sunday + 30), monday);
        assert_eq!(r.multiplier_at(friday), WAD);
        assert_eq!(r.multiplier_at(saturday + 1), 10 * WAD);
        assert_eq!(r.multiplier_at(monday), step);
        assert_eq!(r.multiplier_doubt(friday), None, "out of every doubt");
        assert_eq!(r.multiplier_doubt(saturday + 3_600), None, "read on Sunday: no change yet");
        assert_eq!(
            r.multiplier_doubt(sunday + 3_600),
            Some((10 * WAD, step)),
            "between the last read and the step"
        );
        assert!(r.in_multiplier_change_window(monday) && !r.in_multiplier_change_window(monday + 901));
        // A third change drops the oldest: only the last two are remembered.
        read(&mut r, (WAD, WAD, 0), monday + 7_200);
        assert_eq!(r.past_multipliers[1].until_ts, monday);
    }
}
