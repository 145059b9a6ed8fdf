//! Pure, fixed-point risk and accounting maths for Ballast.
//!
//! One source of truth: the on-chain program, the client SDK, the CLI and the keeper all call
//! these functions, so a position's figures are computed the same way everywhere. Nothing here
//! touches Solana types; every function is integer-only, checked, and rounds in the protocol's
//! favour (what a user receives rounds down, what a user owes rounds up).

pub mod error;
pub mod fixed;
pub mod health;
pub mod interest;
pub mod liquidation;
pub mod session;
pub mod shares;
pub mod value;
pub mod volume;

pub use error::MathError;
