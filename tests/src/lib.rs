//! Test harness for Ballast: one set of test bodies, run in three modes.
//!
//! - `Mode::Native`: the program compiled for the host, run as a builtin by `solana-program-test`
//!   3.1 against the real bank and the real SPL Token / Token-2022 programs.
//! - `Mode::Sbf`: the deployable `target/deploy/ballast.so` (scripts/build-sbf.sh, SIMD-0460
//!   layout) on LiteSVM 0.16, the agave 4.2 runtime with every feature active, as devnet,
//!   testnet and a default `solana-test-validator` run it; compute units are recorded here.
//! - `Mode::SbfV0Gaps`: the old-layout artifact `target/deploy/ballast-v0-gaps.so` on
//!   `solana-program-test` 3.1's SBF VM (stack-frame gaps, as mainnet runs until SIMD-0460).
//!
//! `dual_mode_tests!` turns each `async fn name(mode: Mode)` into `native::name`, `sbf::name`
//! and `sbf_v0_gaps::name`.

// solana-program-test 3.x marks its whole API deprecated ("to become agave-unstable-api"); it is
// the supported way to run the real bank in tests, pinned with `=`.
#![allow(deprecated)]

pub mod attacks;
pub mod env;
pub mod fixtures;
pub mod oracles;
pub mod sim;
pub mod time_events;
pub mod token2022;

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
        mod sbf_v0_gaps {
            $(#[tokio::test] async fn $name() { super::$name($crate::Mode::SbfV0Gaps).await })*
        }
    };
}
