//! Diagnostics of the code clients share with the program (pricing, health, oracle checks).
//! On chain they are `msg!` lines in the transaction's log. Off chain, where `msg!` prints to
//! stdout, they go to a hook the host sets: the keeper and the CLI route them to `tracing` at
//! debug level, so a keeper is quiet by default instead of printing every stale price it reads.
//! Without a hook they print as `msg!` would (native tests keep their logs).

#[cfg(not(target_os = "solana"))]
static HOOK: std::sync::OnceLock<fn(&str)> = std::sync::OnceLock::new();

/// Sends off-chain diagnostics to `hook` instead of stdout (the first call wins).
#[cfg(not(target_os = "solana"))]
pub fn set_off_chain_hook(hook: fn(&str)) {
    let _ = HOOK.set(hook);
}

#[doc(hidden)]
#[cfg(not(target_os = "solana"))]
pub fn off_chain(message: &str) {
    match HOOK.get() {
        Some(hook) => hook(message),
        None => anchor_lang::prelude::msg!("{}", message),
    }
}

/// `msg!` on chain; the host's hook off chain (see the module).
#[macro_export]
macro_rules! diag {
    ($($arg:tt)*) => {{
        #[cfg(target_os = "solana")]
        anchor_lang::prelude::msg!($($arg)*);
        #[cfg(not(target_os = "solana"))]
        $crate::log::off_chain(&format!($($arg)*));
    }};
}
