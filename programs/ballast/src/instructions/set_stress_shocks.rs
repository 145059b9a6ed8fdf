use anchor_lang::prelude::*;

use crate::constants::STRESS_GROUPS;
use crate::error::BallastError;
use crate::events::StressShocksSet;
use crate::instructions::admin::MarketAdmin;

/// Admin: the joint stress test's move per stress group (bps of price, ≤ 50 %; index 0 must be
/// 0). Higher or equal shocks apply at once (and drop a queued change); any lower shock waits
/// for the timelock (`apply_stress_shocks`).
pub fn set_stress_shocks(ctx: Context<MarketAdmin>, shocks: [u16; STRESS_GROUPS]) -> Result<()> {
    if shocks[0] != 0 || shocks.iter().any(|s| *s > 5_000) {
        msg!("stress shocks {:?}: group 0 must be 0 and every shock at most 5000 bps", shocks);
        return err!(BallastError::ParameterOutOfBounds);
    }
    let now = Clock::get()?.unix_timestamp;
    let market = &mut ctx.accounts.market;
    let tightening = shocks.iter().zip(market.stress_shocks_bps.iter()).all(|(new, old)| new >= old);
    if tightening || market.timelock_secs == 0 {
        market.stress_shocks_bps = shocks;
        market.stress_shocks_eta = 0;
    } else {
        market.pending_stress_shocks_bps = shocks;
        market.stress_shocks_eta =
            now.checked_add(market.timelock_secs as i64).ok_or(BallastError::MathOverflow)?;
    }
    emit!(StressShocksSet {
        market: market.key(),
        shocks,
        applies_at: if market.stress_shocks_eta == 0 { now } else { market.stress_shocks_eta }
    });
    Ok(())
}
