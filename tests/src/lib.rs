//! Test harness for Ballast: one set of test bodies, run in two modes.
//!
//! - `Mode::Native`: the program compiled for the host, run as a builtin by `solana-program-test`
//!   against the real bank and the real SPL Token / Token-2022 programs.
//! - `Mode::Sbf`: the real `target/deploy/ballast.so` (scripts/build-sbf.sh), executed by the
//!   same bank's SBF VM; compute units of every transaction are recorded.
//!
//! `dual_mode_tests!` turns each `async fn name(mode: Mode)` into `native::name` and `sbf::name`.

// solana-program-test 3.x marks its whole API deprecated ("to become agave-unstable-api"); it is
// the supported way to run the real bank in tests, pinned with `=`.
#![allow(deprecated)]

pub mod env;
pub mod fixtures;
pub mod oracles;

pub use env::{Mode, TestEnv, TxError};
pub use fixtures::{
    Keeper, MarketFixture, OneReserve, PricedMarket, ReserveFixture, UserFixture, WidePosition,
};

/// Generates `native::$name` and `sbf::$name` tests calling `$name(Mode)`.
#[macro_export]
macro_rules! dual_mode_tests {
    ($($name:ident),* $(,)?) => {
        mod native {
            $(#[tokio::test] async fn $name() { super::$name($crate::Mode::Native).await })*
        }
        mod sbf {
            $(#[tokio::test] async fn $name() { super::$name($crate::Mode::Sbf).await })*
        }
    };
}
