pub mod config;
pub mod market;
pub mod position;
pub mod reserve;

pub use config::*;
pub use market::*;
pub use position::*;
pub use reserve::*;
