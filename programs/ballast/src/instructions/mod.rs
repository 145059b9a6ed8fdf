// Anchor's #[program] needs each instruction module glob-re-exported; their `handler`s clash
// harmlessly (lib.rs calls them by full path).
#![allow(ambiguous_glob_reexports)]

pub mod accept_admin;
pub mod add_reserve;
pub mod admin;
pub mod apply_reserve_config;
pub mod apply_stress_shocks;
pub mod borrow;
pub mod cancel_reserve_config;
pub mod collect_fees;
pub mod configure_market;
pub mod configure_reserve;
pub mod configure_session;
pub mod deposit;
pub mod forfeit_worthless_deposit;
pub mod health;
pub mod init_market;
pub mod liquidate;
pub mod open_position;
pub mod propose_admin;
pub mod refresh_mint;
pub mod repay;
pub mod reserve_status;
pub mod reserve_tokens;
pub mod resolve_bad_debt;
pub mod set_market_pause;
pub mod set_price_unusable;
pub mod set_reserve_pause;
pub mod set_stress_shocks;
pub mod withdraw;

pub use accept_admin::*;
pub use add_reserve::*;
pub use admin::*;
pub use apply_reserve_config::*;
pub use apply_stress_shocks::*;
pub use cancel_reserve_config::*;
pub use collect_fees::*;
pub use configure_market::*;
pub use configure_reserve::*;
pub use configure_session::*;
pub use forfeit_worthless_deposit::*;
pub use health::*;
pub use init_market::*;
pub use liquidate::*;
pub use open_position::*;
pub use propose_admin::*;
pub use refresh_mint::*;
pub use repay::*;
pub use reserve_status::*;
pub use reserve_tokens::*;
pub use resolve_bad_debt::*;
pub use set_market_pause::*;
pub use set_price_unusable::*;
pub use set_reserve_pause::*;
pub use set_stress_shocks::*;
