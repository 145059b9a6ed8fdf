//! Ballast: borrow against crypto tokens and tokenized stocks, priced by Pyth, with per-asset
//! haircuts and leverage caps, and permissionless partial liquidation.
//!
//! Layout: `state/` (accounts), `instructions/` (one file per instruction, accounts struct beside
//! its handler), `error.rs`, `events.rs`. The maths lives in the pure `ballast-risk` crate.
//! "SPEC §N" in comments refers to `docs/spec.md`; decisions beyond it: `docs/decisions.md`.

// The upstream-LLVM SBF build links these for compiler intrinsics and i128 libcalls.
#[cfg(target_os = "solana")]
extern crate sbf_i128;
#[cfg(target_os = "solana")]
extern crate solana_compiler_builtins;

use anchor_lang::prelude::*;

pub mod constants;
pub mod error;
pub mod events;
#[cfg(any(test, feature = "fast-entrypoint"))]
mod fast_entrypoint;
pub mod health;
pub mod instructions;
pub mod keys;
pub mod log;
pub mod mint_rules;
pub mod oracle;
pub mod state;

use instructions::*;

// The program id. By default the localnet id, whose keypair (`keys/ballast-program-keypair.json`)
// is the only program keypair in git. A real cluster's build takes its id from the build:
// `--features cluster-program-id` with `BALLAST_PROGRAM_ID=<base58>` set (it does not compile
// without it), so that its keypair never enters the repository (migrations/README.md).
#[cfg(not(feature = "cluster-program-id"))]
declare_id!("AGBGg7q9xdMcEik3583mov2g9xAnQBBum4PwNyGzVUh9");
#[cfg(feature = "cluster-program-id")]
declare_id!(anchor_lang::solana_program::pubkey::Pubkey::from_str_const(env!("BALLAST_PROGRAM_ID")));

#[cfg(test)]
mod program_id_tests {
    #[test]
    fn the_program_id_is_the_localnet_one_unless_the_build_names_another() {
        let localnet = anchor_lang::pubkey!("AGBGg7q9xdMcEik3583mov2g9xAnQBBum4PwNyGzVUh9");
        match option_env!("BALLAST_PROGRAM_ID") {
            Some(id) if cfg!(feature = "cluster-program-id") => assert_eq!(super::ID.to_string(), id),
            _ => assert_eq!(super::ID, localnet),
        }
    }
}

#[program]
pub mod ballast {
    use super::*;

    // Anchor's dispatcher compares the instruction's discriminator with each one's in this order
    // (a few compute units each): the market's two set-up instructions, then the keepers'
    // liquidate, the users' instructions and the cranks, the admin's configuration last. The
    // IDL lists them by name, whatever the order here.

    /// Creates a lending market whose admin is the signer.
    pub fn init_market(ctx: Context<InitMarket>, market_id: u64, fee_receiver: Pubkey) -> Result<()> {
        instructions::init_market::handler(ctx, market_id, fee_receiver)
    }

    /// Lists a mint (SPL Token or Token-2022) in the market, creating its PDA-owned vault and
    /// insurance-pool token accounts.
    pub fn add_reserve(ctx: Context<AddReserve>, args: AddReserveArgs) -> Result<()> {
        instructions::add_reserve::handler(ctx, args)
    }

    /// Permissionless partial liquidation of an unhealthy position: repays up to `max_repay`
    /// (`u64::MAX`: as much as allowed) of its `repay` debt and seizes `seize` collateral with a
    /// bonus; remaining accounts as for borrow.
    pub fn liquidate<'info>(ctx: Context<'info, Liquidate<'info>>, max_repay: u64) -> Result<()> {
        instructions::liquidate::handler(ctx, max_repay)
    }

    /// Opens position number `index` of the signer in the market.
    pub fn open_position(ctx: Context<OpenPosition>, index: u32) -> Result<()> {
        instructions::open_position::handler(ctx, index)
    }

    /// Deposits `amount` tokens of a reserve into the position.
    pub fn deposit(ctx: Context<PositionTokens>, amount: u64) -> Result<()> {
        instructions::deposit::handler(ctx, amount)
    }

    /// Borrows `amount`; remaining accounts: (reserve, oracle) per occupied slot, in slot order.
    pub fn borrow<'info>(ctx: Context<'info, PositionTokens<'info>>, amount: u64) -> Result<()> {
        instructions::borrow::handler(ctx, amount)
    }

    /// Withdraws `amount` tokens (`u64::MAX`: everything the position's shares are worth).
    pub fn withdraw<'info>(ctx: Context<'info, PositionTokens<'info>>, amount: u64) -> Result<()> {
        instructions::withdraw::handler(ctx, amount)
    }

    /// Repays up to `amount` (`u64::MAX`: all) of a position's debt; needs no price.
    pub fn repay(ctx: Context<Repay>, amount: u64) -> Result<()> {
        instructions::repay::handler(ctx, amount)
    }

    /// Permissionless: re-reads a reserve's Token-2022 mint (multiplier schedule, pause).
    pub fn refresh_mint(ctx: Context<RefreshMint>) -> Result<()> {
        instructions::refresh_mint::handler(ctx)
    }

    /// Read-only health view (simulate): figures of SPEC §3 at fresh prices; remaining
    /// accounts as for borrow.
    pub fn health<'info>(ctx: Context<'info, PositionHealth<'info>>) -> Result<HealthReport> {
        instructions::health::handler(ctx)
    }

    /// Permissionless: writes off the debt of a position with no deposits left, from the
    /// reserve's insurance pool first, then against its depositors.
    pub fn resolve_bad_debt<'info>(ctx: Context<'info, ResolveBadDebt<'info>>) -> Result<()> {
        instructions::resolve_bad_debt::handler(ctx)
    }

    /// Read-only reserve view (simulate): liquidity, debt, rates, insurance pool coverage.
    pub fn reserve_status(ctx: Context<ReserveView>) -> Result<ReserveStatus> {
        instructions::reserve_status::handler(ctx)
    }

    /// Permissionless: moves the protocol's pending fees (its share of interest, liquidation
    /// fees past the pool's target) to the insurance pool (up to its target) and the fee
    /// receiver, and the liquidation fees booked to the pool into its insurance vault.
    pub fn collect_fees<'info>(ctx: Context<'info, CollectFees<'info>>) -> Result<()> {
        instructions::collect_fees::handler(ctx)
    }

    /// Permissionless: burns a position's deposit shares of a reserve when they are worth zero
    /// tokens (un-bricks a reserve whose depositors bad debt wiped out).
    pub fn forfeit_worthless_deposit(ctx: Context<ForfeitWorthlessDeposit>) -> Result<()> {
        instructions::forfeit_worthless_deposit::handler(ctx)
    }

    /// Sets a reserve's oracle, risk, interest parameters and caps (admin; on-chain bounds):
    /// tightening at once, loosening queued behind the market timelock.
    pub fn configure_reserve(
        ctx: Context<ConfigureReserve>,
        oracle: OracleParams,
        risk: RiskParams,
        interest: InterestParams,
        caps: CapsParams,
    ) -> Result<()> {
        instructions::configure_reserve::handler(ctx, oracle, risk, interest, caps)
    }

    /// Admin: an equity reserve's market session (New York time, US daylight saving), or none.
    pub fn configure_session(ctx: Context<ReserveAdmin>, session: Option<SessionParams>) -> Result<()> {
        instructions::configure_session::handler(ctx, session)
    }

    /// Permissionless after the timelock: applies a reserve's queued session change.
    pub fn apply_session(ctx: Context<ApplySession>) -> Result<()> {
        instructions::configure_session::apply_session(ctx)
    }

    /// Permissionless after the timelock: applies a reserve's queued configuration.
    pub fn apply_reserve_config(ctx: Context<ApplyReserveConfig>) -> Result<()> {
        instructions::apply_reserve_config::apply_reserve_config(ctx)
    }

    /// Admin: drops a reserve's queued configuration.
    pub fn cancel_reserve_config(ctx: Context<ReserveAdmin>) -> Result<()> {
        instructions::cancel_reserve_config::cancel_reserve_config(ctx)
    }

    /// Admin: pauses or resumes deposits and borrows of one reserve.
    pub fn set_reserve_pause(ctx: Context<ReserveAdmin>, paused: bool) -> Result<()> {
        instructions::set_reserve_pause::set_reserve_pause(ctx, paused)
    }

    /// Admin, instant: marks a reserve's price unusable (its deposits count nothing, other slots
    /// still liquidate), or usable again.
    pub fn set_price_unusable(ctx: Context<ReserveAdmin>, unusable: bool) -> Result<()> {
        instructions::set_price_unusable::set_price_unusable(ctx, unusable)
    }

    /// Admin: the joint stress test's shock per stress group; lower shocks wait for the timelock.
    pub fn set_stress_shocks(ctx: Context<MarketAdmin>, shocks: [u16; 8]) -> Result<()> {
        instructions::set_stress_shocks::set_stress_shocks(ctx, shocks)
    }

    /// Permissionless after the timelock: applies queued (lower) stress shocks.
    pub fn apply_stress_shocks(ctx: Context<ApplyStressShocks>) -> Result<()> {
        instructions::apply_stress_shocks::apply_stress_shocks(ctx)
    }

    /// Admin: the market's liquidation target health, dust threshold and timelock (bounded;
    /// loosening queued behind the timelock).
    pub fn configure_market(ctx: Context<MarketAdmin>, params: MarketParams) -> Result<()> {
        instructions::configure_market::handler(ctx, params)
    }

    /// Permissionless after the timelock: applies the queued market parameters.
    pub fn apply_market_config(ctx: Context<ApplyMarketConfig>) -> Result<()> {
        instructions::configure_market::apply_market_config(ctx)
    }

    /// Admin: pauses or resumes deposits and borrows market-wide.
    pub fn set_market_pause(ctx: Context<MarketAdmin>, paused: bool) -> Result<()> {
        instructions::set_market_pause::set_market_pause(ctx, paused)
    }

    /// Admin: proposes a new admin (two-step transfer).
    pub fn propose_admin(ctx: Context<MarketAdmin>, new_admin: Pubkey) -> Result<()> {
        instructions::propose_admin::propose_admin(ctx, new_admin)
    }

    /// The proposed admin accepts.
    pub fn accept_admin(ctx: Context<AcceptAdmin>) -> Result<()> {
        instructions::accept_admin::accept_admin(ctx)
    }
}
