use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::extension::{
    BaseStateWithExtensions, ExtensionType, StateWithExtensions,
};
use anchor_spl::token_2022::spl_token_2022::state::{Account as AccountState, Mint as MintState};
use anchor_spl::token_interface::{initialize_account3, InitializeAccount3, TokenInterface};

use crate::constants::{
    DEFAULT_EMA_FORCE_BPS, DEFAULT_EMA_PAUSE_BPS, DEFAULT_EMA_WARN_BPS, DEFAULT_INSURANCE_TARGET_BPS,
    INSURANCE_SEED, RESERVE_SEED, VAULT_SEED,
};
use crate::error::BallastError;
use crate::events::ReserveAdded;
use crate::mint_rules::inspect_mint;
use crate::state::{AssetClass, Market, Reserve};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct AddReserveArgs {
    pub asset_class: AssetClass,
    /// Maximum total deposits in token units (`u64::MAX`: no cap).
    pub deposit_cap: u64,
    /// Maximum total borrows in token units (`u64::MAX`: no cap).
    pub borrow_cap: u64,
    /// Opt-in for a mint whose issuer can claw back or freeze the vault (PermanentDelegate or a
    /// freeze authority, as every xStocks mint has); refused without it.
    pub allow_issuer_controls: bool,
    /// Extra haircut (initial and maintenance) for such a mint, bps; at most 50 %.
    pub issuer_haircut_bps: u16,
}

#[derive(Accounts)]
pub struct AddReserve<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ BallastError::NotMarketAdmin)]
    pub market: Account<'info, Market>,
    /// CHECK: owned by `token_program` (constraint), so SPL Token and Token-2022 mints both list
    /// and every later CPI goes to the mint's own program; decoded by `inspect_mint`, which
    /// names a refused extension (Anchor's own mint decoding would only say "invalid data").
    #[account(owner = token_program.key() @ BallastError::WrongTokenProgram)]
    pub mint: UncheckedAccount<'info>,
    #[account(
        init,
        payer = admin,
        space = 8 + core::mem::size_of::<Reserve>(),
        seeds = [RESERVE_SEED, market.key().as_ref(), mint.key().as_ref()],
        bump,
    )]
    pub reserve: AccountLoader<'info, Reserve>,
    /// CHECK: the vault PDA, created by the handler as a token account of `mint` owned by the
    /// reserve, sized for the extensions the mint requires (created there, not by `init`, so
    /// the mint's allowlist check runs first and names a refused extension).
    #[account(mut, seeds = [VAULT_SEED, reserve.key().as_ref()], bump)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: the insurance-pool PDA, created like the vault.
    #[account(mut, seeds = [INSURANCE_SEED, reserve.key().as_ref()], bump)]
    pub insurance_vault: UncheckedAccount<'info>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

/// Creates the PDA token account `account` (`seed`, reserve, `bump`) of the mint, owned by the
/// reserve, with room for the account extensions the mint requires.
fn create_pool_account<'info>(
    accounts: &AddReserve<'info>,
    account: &UncheckedAccount<'info>,
    seed: &[u8],
    bump: u8,
) -> Result<()> {
    let mint_data = accounts.mint.try_borrow_data()?;
    let len = if accounts.token_program.key() == anchor_spl::token::ID {
        165
    } else {
        let mint =
            StateWithExtensions::<MintState>::unpack(&mint_data).map_err(|_| BallastError::MintInvalid)?;
        let types = mint.get_extension_types().map_err(|_| BallastError::MintInvalid)?;
        let required = ExtensionType::get_required_init_account_extensions(&types);
        ExtensionType::try_calculate_account_len::<AccountState>(&required)
            .map_err(|_| BallastError::MintInvalid)?
    };
    drop(mint_data);
    let reserve_key = accounts.reserve.key();
    let seeds: &[&[u8]] = &[seed, reserve_key.as_ref(), &[bump]];
    let lamports = Rent::get()?.minimum_balance(len);
    let system = accounts.system_program.key();
    if account.lamports() == 0 {
        anchor_lang::system_program::create_account(
            CpiContext::new_with_signer(
                system,
                anchor_lang::system_program::CreateAccount {
                    from: accounts.admin.to_account_info(),
                    to: account.to_account_info(),
                },
                &[seeds],
            ),
            lamports,
            len as u64,
            &accounts.token_program.key(),
        )?;
    } else {
        // Someone sent lamports to the address first (which would make `create_account` fail
        // and block the listing): top up, allocate and assign instead.
        let top_up = lamports.saturating_sub(account.lamports());
        if top_up > 0 {
            anchor_lang::system_program::transfer(
                CpiContext::new(
                    system,
                    anchor_lang::system_program::Transfer {
                        from: accounts.admin.to_account_info(),
                        to: account.to_account_info(),
                    },
                ),
                top_up,
            )?;
        }
        anchor_lang::system_program::allocate(
            CpiContext::new_with_signer(
                system,
                anchor_lang::system_program::Allocate { account_to_allocate: account.to_account_info() },
                &[seeds],
            ),
            len as u64,
        )?;
        anchor_lang::system_program::assign(
            CpiContext::new_with_signer(
                system,
                anchor_lang::system_program::Assign { account_to_assign: account.to_account_info() },
                &[seeds],
            ),
            &accounts.token_program.key(),
        )?;
    }
    initialize_account3(CpiContext::new(
        accounts.token_program.key(),
        InitializeAccount3 {
            account: account.to_account_info(),
            mint: accounts.mint.to_account_info(),
            authority: accounts.reserve.to_account_info(),
        },
    ))
}

pub fn handler(ctx: Context<AddReserve>, args: AddReserveArgs) -> Result<()> {
    let market_key = ctx.accounts.market.key();
    // SPEC §6: the mint's extensions against the allowlist; issuer controls only by opt-in.
    let traits = inspect_mint(&ctx.accounts.mint.to_account_info().try_borrow_data()?)?;
    traits.check_listable()?;
    if traits.issuer_controls() && !args.allow_issuer_controls {
        msg!(
            "mint {} has issuer controls (permanent delegate: {}, freeze authority: {}, transfer fee or hook authority: {})",
            ctx.accounts.mint.key(),
            traits.permanent_delegate,
            traits.freeze_authority,
            traits.transfer_rules_authority
        );
        return err!(BallastError::IssuerControlsNotAllowed);
    }
    require!(!traits.paused, BallastError::MintPaused);
    if args.issuer_haircut_bps > 5_000 {
        msg!("parameter issuer_haircut_bps = {} is out of bounds", args.issuer_haircut_bps);
        return err!(BallastError::ParameterOutOfBounds);
    }
    create_pool_account(ctx.accounts, &ctx.accounts.vault, VAULT_SEED, ctx.bumps.vault)?;
    create_pool_account(
        ctx.accounts,
        &ctx.accounts.insurance_vault,
        INSURANCE_SEED,
        ctx.bumps.insurance_vault,
    )?;
    let mut reserve = ctx.accounts.reserve.load_init()?;
    reserve.set_mint_traits(&traits, Clock::get()?.unix_timestamp);
    reserve.issuer_haircut_bps = if traits.issuer_controls() { args.issuer_haircut_bps } else { 0 };
    reserve.market = market_key;
    reserve.mint = ctx.accounts.mint.key();
    reserve.token_program = ctx.accounts.token_program.key();
    reserve.vault = ctx.accounts.vault.key();
    reserve.insurance_vault = ctx.accounts.insurance_vault.key();
    reserve.decimals = traits.decimals;
    reserve.asset_class = args.asset_class as u8;
    reserve.deposit_cap = args.deposit_cap;
    reserve.borrow_cap = args.borrow_cap;
    reserve.bump = ctx.bumps.reserve;
    reserve.vault_bump = ctx.bumps.vault;
    reserve.insurance_vault_bump = ctx.bumps.insurance_vault;
    reserve.borrow_index.set(Reserve::initial_index());
    reserve.last_accrual_ts = Clock::get()?.unix_timestamp;
    reserve.interest.insurance_target_bps = DEFAULT_INSURANCE_TARGET_BPS;
    // Until `configure_reserve` sets an oracle the reserve has no price (source 0), but its EMA
    // levels already hold the SPEC defaults.
    reserve.oracle.ema_warn_bps = DEFAULT_EMA_WARN_BPS;
    reserve.oracle.ema_pause_bps = DEFAULT_EMA_PAUSE_BPS;
    reserve.oracle.ema_force_bps = DEFAULT_EMA_FORCE_BPS;

    let market = &mut ctx.accounts.market;
    market.reserve_count = market.reserve_count.checked_add(1).ok_or(BallastError::MathOverflow)?;

    emit!(ReserveAdded {
        market: market_key,
        reserve: ctx.accounts.reserve.key(),
        mint: reserve.mint,
        token_program: reserve.token_program,
        asset_class: reserve.asset_class,
        deposit_cap: reserve.deposit_cap,
        borrow_cap: reserve.borrow_cap,
    });
    Ok(())
}
