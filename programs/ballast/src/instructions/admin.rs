//! The accounts the admin instructions share: the market admin signing for a reserve, or for
//! the market itself. Each instruction has its own file (configure_*, apply_*, cancel_*,
//! set_*_pause, propose_admin, accept_admin, set_stress_shocks).
use anchor_lang::prelude::*;

use crate::error::BallastError;
use crate::state::{Market, Reserve};

#[derive(Accounts)]
pub struct ReserveAdmin<'info> {
    pub admin: Signer<'info>,
    #[account(has_one = admin @ BallastError::NotMarketAdmin)]
    pub market: Account<'info, Market>,
    #[account(mut, has_one = market @ BallastError::WrongMarket)]
    pub reserve: AccountLoader<'info, Reserve>,
}

#[derive(Accounts)]
pub struct MarketAdmin<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ BallastError::NotMarketAdmin)]
    pub market: Account<'info, Market>,
}
