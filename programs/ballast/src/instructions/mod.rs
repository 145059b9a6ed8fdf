// Anchor's #[program] needs each instruction module glob-re-exported; their `handler`s clash
// harmlessly (lib.rs calls them by full path).
#![allow(ambiguous_glob_reexports)]

pub mod add_reserve;
pub mod admin;
pub mod borrow;
pub mod collect_fees;
pub mod configure_reserve;
pub mod configure_session;
pub mod deposit;
pub mod health;
pub mod init_market;
pub mod liquidate;
pub mod open_position;
pub mod refresh_mint;
pub mod repay;
pub mod reserve_status;
pub mod reserve_tokens;
pub mod resolve_bad_debt;
pub mod withdraw;

pub use add_reserve::*;
pub use admin::*;
pub use collect_fees::*;
pub use configure_reserve::*;
pub use configure_session::*;
pub use health::*;
pub use init_market::*;
pub use liquidate::*;
pub use open_position::*;
pub use refresh_mint::*;
pub use repay::*;
pub use reserve_status::*;
pub use reserve_tokens::*;
pub use resolve_bad_debt::*;
