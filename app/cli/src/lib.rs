//! The Ballast command-line tools: the wallet CLI (`ballast`), the keeper bot
//! (`ballast-keeper`) and the market bootstrap they share (`migrations/`). Everything on chain is
//! built with `ballast-sdk`; health and liquidation amounts come from the program's own code.

pub mod amounts;
pub mod bootstrap;
pub mod config;
pub mod crash;
pub mod faults;
pub mod keeper;
pub mod metrics;
pub mod publisher;
pub mod synthetic;
pub mod watch;
