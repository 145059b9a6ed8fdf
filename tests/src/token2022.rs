//! Token-2022 helpers shared by the stock tests and the attack matrix: the real xStocks mints
//! (loaded from mainnet fixtures, or with one extension patched as an issuer would change it),
//! listing them, accounts of them, and mints made by the token program itself.
use anchor_lang::prelude::Pubkey;
use anchor_spl::token_2022::spl_token_2022::extension::transfer_fee::instruction::initialize_transfer_fee_config;
use anchor_spl::token_2022::spl_token_2022::extension::{
    BaseStateWithExtensions, ExtensionType, StateWithExtensions,
};
use anchor_spl::token_2022::spl_token_2022::instruction as token_ix;
use anchor_spl::token_2022::spl_token_2022::state::{Account as TokenAccount, Mint};
use anchor_spl::token_2022::ID as TOKEN_2022;
use ballast::instructions::AddReserveArgs;
use ballast::state::AssetClass;
use ballast_sdk::ix::{self, ReserveKeys};
use ballast_sdk::pda;
use solana_signer::Signer;

use crate::oracles::mainnet_fixture;
use crate::{MarketFixture, TestEnv};

/// The real mainnet mint of an xStock (`AAPLx`, `NFLXx`, `NVDAx`, `SPYx`): its key and account.
pub fn fixture(symbol: &str) -> (Pubkey, solana_account::Account) {
    mainnet_fixture(&format!("xstock_{symbol}_mint_mainnet.json"))
}

/// Listing arguments for an equity: no caps, the issuer opt-in and its extra haircut.
pub fn args(allow_issuer_controls: bool, issuer_haircut_bps: u16) -> AddReserveArgs {
    AddReserveArgs {
        asset_class: AssetClass::Equity,
        deposit_cap: u64::MAX,
        borrow_cap: u64::MAX,
        allow_issuer_controls,
        issuer_haircut_bps,
    }
}

/// Lists `mint` (already in the bank) and returns its reserve keys.
pub async fn list(
    env: &mut TestEnv,
    market: &MarketFixture,
    mint: Pubkey,
    args: AddReserveArgs,
) -> Result<ReserveKeys, crate::TxError> {
    let admin = market.admin.insecure_clone();
    let ixn = ix::add_reserve(admin.pubkey(), market.market, mint, TOKEN_2022, args);
    env.send("add_reserve", &[ixn], &[&admin]).await?;
    let reserve = pda::reserve(&market.market, &mint);
    Ok(ReserveKeys {
        market: market.market,
        reserve,
        mint,
        vault: pda::vault(&reserve),
        token_program: TOKEN_2022,
    })
}

/// A Token-2022 account of `mint` (with the extensions the mint requires) owned by `owner`,
/// holding `amount`: created by the real program, the balance then written into the account
/// (the xStocks mint authorities are not ours).
pub async fn stock_account(env: &mut TestEnv, mint: Pubkey, owner: &Pubkey, amount: u64) -> Pubkey {
    let mint_data = env.account(mint).await.unwrap().data;
    let mint_state = StateWithExtensions::<Mint>::unpack(&mint_data).unwrap();
    let required =
        ExtensionType::get_required_init_account_extensions(&mint_state.get_extension_types().unwrap());
    let len = ExtensionType::try_calculate_account_len::<TokenAccount>(&required).unwrap();
    let account = env.keypair();
    let payer = env.payer();
    let ixs = [
        solana_system_interface::instruction::create_account(
            &payer.pubkey(),
            &account.pubkey(),
            10_000_000,
            len as u64,
            &TOKEN_2022,
        ),
        token_ix::initialize_account3(&TOKEN_2022, &account.pubkey(), &mint, owner).unwrap(),
    ];
    env.send("create stock account", &ixs, &[&account]).await.unwrap();
    let mut a = env.account(account.pubkey()).await.unwrap();
    a.data[64..72].copy_from_slice(&amount.to_le_bytes());
    env.set_account(account.pubkey(), a);
    account.pubkey()
}

/// AAPLx's mint bytes with one extension changed: (type, body offset, new bytes).
pub fn patched_aaplx(
    ext_type: u16,
    patch: impl FnOnce(&mut Vec<u8>, usize, usize),
) -> solana_account::Account {
    let (_, mut account) = fixture("AAPLx");
    let d = &mut account.data;
    let mut at = 166;
    while at + 4 <= d.len() {
        let t = u16::from_le_bytes([d[at], d[at + 1]]);
        let len = u16::from_le_bytes([d[at + 2], d[at + 3]]) as usize;
        if t == ext_type {
            patch(d, at, len);
            return account;
        }
        at += 4 + len;
    }
    panic!("AAPLx has no extension {ext_type}");
}

/// A 6-decimal Token-2022 mint with one `extension`, initialized by `init` (given the mint's
/// address), made by the token program; the payer mints.
async fn mint_with_extension(
    env: &mut TestEnv,
    extension: ExtensionType,
    init: impl FnOnce(&Pubkey) -> anchor_lang::solana_program::instruction::Instruction,
) -> solana_keypair::Keypair {
    let mint = env.keypair();
    let len = ExtensionType::try_calculate_account_len::<Mint>(&[extension]).unwrap();
    let payer = env.payer();
    let ixs = [
        solana_system_interface::instruction::create_account(
            &payer.pubkey(),
            &mint.pubkey(),
            10_000_000,
            len as u64,
            &TOKEN_2022,
        ),
        init(&mint.pubkey()),
        token_ix::initialize_mint2(&TOKEN_2022, &mint.pubkey(), &payer.pubkey(), None, 6).unwrap(),
    ];
    env.send("mint with an extension", &ixs, &[&mint]).await.unwrap();
    mint
}

/// A 6-decimal Token-2022 mint with a TransferFeeConfig (`fee_bps`, at most 1,000 units a
/// transfer) and the fee `authority` given, made by the token program; the payer mints.
pub async fn transfer_fee_mint(
    env: &mut TestEnv,
    authority: Option<&Pubkey>,
    fee_bps: u16,
) -> solana_keypair::Keypair {
    mint_with_extension(env, ExtensionType::TransferFeeConfig, |mint| {
        initialize_transfer_fee_config(&TOKEN_2022, mint, authority, None, fee_bps, 1_000).unwrap()
    })
    .await
}

/// A 6-decimal Token-2022 mint with a TransferHook extension whose program is unset and whose
/// `authority` can set one later, made by the token program; the payer mints.
pub async fn transfer_hook_mint(env: &mut TestEnv, authority: &Pubkey) -> solana_keypair::Keypair {
    use anchor_spl::token_2022::spl_token_2022::extension::transfer_hook::instruction::initialize;
    mint_with_extension(env, ExtensionType::TransferHook, |mint| {
        initialize(&TOKEN_2022, mint, Some(*authority), None).unwrap()
    })
    .await
}

/// `list`, then the default parameters with a placeholder feed (deposits need a configured
/// oracle; the asset is never priced).
pub async fn list_configured(
    env: &mut TestEnv,
    market: &MarketFixture,
    mint: Pubkey,
    args: AddReserveArgs,
) -> ReserveKeys {
    use crate::fixtures::{default_interest, default_oracle, default_risk, placeholder_oracle};
    let keys = list(env, market, mint, args).await.unwrap();
    let decimals =
        StateWithExtensions::<Mint>::unpack(&env.account(mint).await.unwrap().data).unwrap().base.decimals;
    let fixture = crate::ReserveFixture {
        keys,
        insurance_vault: pda::insurance_vault(&keys.reserve),
        mint_authority: env.payer(),
        decimals,
    };
    let oracle = default_oracle(mint.to_bytes(), placeholder_oracle(&mint));
    env.configure(market, &fixture, oracle, default_risk(), default_interest()).await.unwrap();
    keys
}

/// A `ScaledUiAmount` schedule as the issuer writes it (multipliers as the mint's f64).
#[derive(Clone, Copy)]
pub struct Schedule {
    pub multiplier: f64,
    pub new_multiplier: f64,
    pub effective_ts: i64,
}

impl Schedule {
    pub const fn flat(m: f64) -> Self {
        Schedule { multiplier: m, new_multiplier: m, effective_ts: 0 }
    }
}

/// NFLXx's real mint with its ScaledUiAmount extension (type 25: authority, multiplier f64,
/// effective time i64, new multiplier f64) set to `schedule`.
pub fn stock_mint(schedule: Schedule) -> solana_account::Account {
    let (_, mut account) = fixture("NFLXx");
    let d = &mut account.data;
    let mut at = 166;
    while at + 4 <= d.len() {
        let t = u16::from_le_bytes([d[at], d[at + 1]]);
        let len = u16::from_le_bytes([d[at + 2], d[at + 3]]) as usize;
        if t == 25 {
            let body = at + 4 + 32;
            d[body..body + 8].copy_from_slice(&schedule.multiplier.to_le_bytes());
            d[body + 8..body + 16].copy_from_slice(&schedule.effective_ts.to_le_bytes());
            d[body + 16..body + 24].copy_from_slice(&schedule.new_multiplier.to_le_bytes());
            return account;
        }
        at += 4 + len;
    }
    panic!("NFLXx has no ScaledUiAmount extension");
}

/// Lists the real NFLXx mint in `market` with its ScaledUiAmount schedule set to `schedule`
/// (issuer opt-in, no extra haircut); the payer stands as its mint authority (never used: the
/// balances are written in, `stock_account`).
pub async fn list_nflx(
    env: &mut TestEnv,
    market: &MarketFixture,
    schedule: Schedule,
) -> crate::ReserveFixture {
    let mint = fixture("NFLXx").0;
    env.set_account(mint, stock_mint(schedule));
    let keys = list(env, market, mint, args(true, 0)).await.unwrap();
    crate::ReserveFixture {
        keys,
        insurance_vault: pda::insurance_vault(&keys.reserve),
        mint_authority: env.payer(),
        decimals: 8,
    }
}
