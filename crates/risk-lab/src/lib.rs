//! The risk lab: Ballast's own rules replayed on real market history (docs/risk.md).
//!
//! `data` loads and checks the history files, `paths` turns bars into a price path and the
//! oracle's lagging view of it, `replay` runs one population through one window with the
//! program's code making every decision, `rules` holds the parameters as the program stores
//! them.
pub mod data;
pub mod events;
pub mod paths;
pub mod replay;
pub mod report;
pub mod rules;
pub mod study;

/// The shipped window the test command's short replay runs (and the LiteSVM cross-check samples).
pub const SHORT_EVENT: &str = "2021-05-19";
/// How much of it the short replay runs past the warm-up, seconds.
pub const SHORT_SECS: i64 = 16 * 3600;
