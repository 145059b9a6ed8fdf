//! Ballast client SDK: PDA derivations, instruction builders that fill every account, and
//! decoders for the program's accounts. The keeper, the CLI and the tests all build their
//! transactions here, and compute figures with `ballast-risk` (the program's own maths).

pub mod accounts;
pub mod errors;
pub mod events;
pub mod health;
pub mod ix;
pub mod limits;
pub mod params;
pub mod pda;
#[cfg(feature = "rpc")]
pub mod retry;
#[cfg(feature = "rpc")]
pub mod rpc;
pub mod token;
#[cfg(feature = "rpc")]
pub mod tx;

pub use ballast::ID as PROGRAM_ID;
pub use ballast_risk as risk;
