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

#[doc(hidden)]
#[cfg(all(feature = "cu-trace", target_os = "solana"))]
pub mod cu_trace {
    extern "C" {
        fn sol_log_(message: *const u8, len: u64);
        fn sol_log_compute_units_();
    }
    /// Logs `label`, then the compute units left (the runtime's own line).
    pub fn mark(label: &str) {
        // SAFETY: the runtime's logging syscalls; `label` is valid for its length.
        unsafe {
            sol_log_(label.as_ptr(), label.len() as u64);
            sol_log_compute_units_();
        }
    }
}

/// A phase boundary for the program's compute-unit breakdown (docs/compute-units.md): in a
/// benchmark build of the program (feature `cu-trace`) it logs `CU phase <name>` and the units
/// left; everywhere else, the deployed program included, it is nothing at all.
#[macro_export]
macro_rules! cu_phase {
    ($name:literal) => {
        #[cfg(all(feature = "cu-trace", target_os = "solana"))]
        $crate::cu_trace::mark(concat!("CU phase ", $name));
    };
}
