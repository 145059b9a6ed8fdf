//! Market bootstrap from a TOML file (`migrations/*.toml`): creates the market, the mints a
//! localnet needs, the reserves, and configures them. Idempotent: what exists is left alone,
//! a reserve whose parameters differ from the file is reconfigured, and a second run sends
//! nothing.
use anchor_lang::prelude::Pubkey;
use anchor_spl::token_2022::spl_token_2022::extension::metadata_pointer;
use anchor_spl::token_2022::spl_token_2022::instruction as token_ix;
use ballast::instructions::{AddReserveArgs, InterestParams, OracleParams, RiskParams};
use ballast::state::{AssetClass, OracleSource};
use ballast_sdk::rpc::{Client, RpcError};
use ballast_sdk::{ix, params, pda};
use serde::Deserialize;
use solana_signer::Signer;
use solana_system_interface::instruction as system_ix;

pub const SPL_TOKEN: Pubkey = anchor_spl::token::ID;
pub const TOKEN_2022: Pubkey = anchor_spl::token_2022::ID;
const MINT_LEN: u64 = 82;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketFile {
    pub market: MarketSection,
    #[serde(default, rename = "reserve")]
    pub reserves: Vec<ReserveSection>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketSection {
    /// Part of the market's address (with the creator's key).
    pub id: u64,
    /// Owner of the fee token accounts; default: the creator.
    pub fee_receiver: Option<String>,
    /// Delay of loosening changes, seconds (default 24 h). Set before the first listing it
    /// applies at once; later a shorter one waits for the current timelock.
    pub timelock_secs: Option<u32>,
    /// Health factor (bps) a liquidation restores (default 10 500).
    pub liquidation_target_health_bps: Option<u16>,
    /// Debt below this (whole USD) may be closed out in one liquidation (default $10).
    pub dust_debt_usd: Option<u32>,
}

impl MarketSection {
    pub fn params(&self) -> ballast::instructions::MarketParams {
        use ballast::constants::*;
        ballast::instructions::MarketParams {
            liquidation_target_health_bps: self
                .liquidation_target_health_bps
                .unwrap_or(DEFAULT_LIQUIDATION_TARGET_HEALTH_BPS),
            dust_debt_usd: self.dust_debt_usd.unwrap_or(DEFAULT_DUST_DEBT_USD),
            timelock_secs: self.timelock_secs.unwrap_or(DEFAULT_TIMELOCK_SECS),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReserveSection {
    pub name: String,
    /// An existing mint. Without it, `create_mint` makes one (localnet: the payer is its
    /// authority, the address derives from the payer and the name).
    pub mint: Option<String>,
    pub create_mint: Option<CreateMint>,
    #[serde(default = "crypto")]
    pub asset_class: String,
    pub deposit_cap: Option<u64>,
    pub borrow_cap: Option<u64>,
    /// Required to list a mint whose issuer can claw back or freeze (every xStocks mint).
    #[serde(default)]
    pub allow_issuer_controls: bool,
    /// The extra haircut such a mint carries, bps.
    #[serde(default)]
    pub issuer_haircut_bps: u16,
    pub oracle: OracleSection,
    #[serde(default)]
    pub risk: RiskSection,
    #[serde(default)]
    pub interest: InterestSection,
    /// Market hours of an equity reserve (New York time); none: trades around the clock.
    pub session: Option<SessionSection>,
}

/// An equity session; `weekdays` are names (`mon` … `sun`), times `HH:MM` New York time,
/// holidays `YYYY-MM-DD` local dates.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSection {
    pub weekdays: Vec<String>,
    pub open: String,
    pub close: String,
    pub closed_max_age_secs: u32,
    #[serde(default)]
    pub gap_haircut_bps: u16,
    #[serde(default)]
    pub holidays: Vec<String>,
    /// Half-days (`YYYY-MM-DD`), closing at `early_close` (default 13:00).
    #[serde(default)]
    pub early_closes: Vec<String>,
    #[serde(default = "thirteen_hundred")]
    pub early_close: String,
}

fn thirteen_hundred() -> String {
    "13:00".into()
}

impl SessionSection {
    pub fn to_params(&self) -> Result<ballast::instructions::SessionParams, String> {
        const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
        let mut weekday_mask = 0u8;
        for d in &self.weekdays {
            let i = DAYS
                .iter()
                .position(|x| d.eq_ignore_ascii_case(x))
                .ok_or(format!("weekday `{d}`: use mon … sun"))?;
            weekday_mask |= 1 << i;
        }
        let minute = |t: &str| -> Result<u16, String> {
            let (h, m) = t.split_once(':').ok_or(format!("time `{t}`: use HH:MM"))?;
            let (h, m): (u16, u16) = (
                h.parse().map_err(|_| format!("time `{t}`"))?,
                m.parse().map_err(|_| format!("time `{t}`"))?,
            );
            if h > 24 || m > 59 {
                return Err(format!("time `{t}`"));
            }
            Ok(h * 60 + m)
        };
        let dates = |list: &[String]| {
            list.iter()
                .map(|d| {
                    let parts: Vec<u64> = d
                        .split('-')
                        .map(|p| p.parse().map_err(|_| format!("date `{d}`")))
                        .collect::<Result<_, _>>()?;
                    match parts[..] {
                        [y, m, day] if y >= 1970 && (1..=12).contains(&m) && (1..=31).contains(&day) => {
                            Ok(ballast_risk::session::days_from_civil(y, m, day) as u32)
                        }
                        _ => Err(format!("date `{d}`: use YYYY-MM-DD")),
                    }
                })
                .collect::<Result<Vec<u32>, String>>()
        };
        Ok(ballast::instructions::SessionParams {
            weekday_mask,
            open_minute: minute(&self.open)?,
            close_minute: minute(&self.close)?,
            closed_max_age_secs: self.closed_max_age_secs,
            gap_haircut_bps: self.gap_haircut_bps,
            holidays: dates(&self.holidays)?,
            early_closes: dates(&self.early_closes)?,
            early_close_minute: minute(&self.early_close)?,
        })
    }
}

fn crypto() -> String {
    "crypto".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateMint {
    pub decimals: u8,
    /// `spl-token` or `token-2022`.
    pub token_program: String,
}

/// Oracle parameters; anything left out takes `ballast_sdk::params::default_oracle`'s value.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OracleSection {
    /// `pull` (a pinned PriceUpdateV2 carrying `feed_id`) or `legacy` (a price account).
    pub source: String,
    pub feed_id: Option<String>,
    /// The account every price read uses. Pull feeds: a base58 key, or `"localnet-writer"` for
    /// the account `ballast oracle post` writes with the bootstrap's wallet; without it, the
    /// Pyth push oracle's sponsored feed account on `push_shard` (default 0).
    pub price_account: Option<String>,
    pub push_shard: Option<u16>,
    pub max_age_secs: Option<u32>,
    pub max_conf_bps: Option<u16>,
    pub lag_bps_per_sec: Option<u16>,
    pub max_band_bps: Option<u16>,
    pub ema_warn_bps: Option<u16>,
    pub ema_pause_bps: Option<u16>,
    pub ema_force_bps: Option<u16>,
    pub stress_addon_bps: Option<u16>,
}

/// Risk parameters; anything left out takes `ballast_sdk::params::default_risk`'s value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskSection {
    pub max_leverage_bps: Option<u32>,
    pub init_haircut_bps: Option<u16>,
    pub maint_haircut_bps: Option<u16>,
    pub borrow_factor_bps: Option<u16>,
    pub position_cap_bps: Option<u16>,
    pub liquidation_bonus_min_bps: Option<u16>,
    pub liquidation_bonus_max_bps: Option<u16>,
    pub liquidation_fee_bps: Option<u16>,
    pub close_factor_bps: Option<u16>,
    pub stress_group: Option<u8>,
    pub collateral_enabled: Option<bool>,
    pub borrow_enabled: Option<bool>,
}

/// Interest parameters; anything left out takes `ballast_sdk::params::default_interest`'s value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterestSection {
    pub optimal_utilization_bps: Option<u32>,
    pub base_rate_bps: Option<u32>,
    pub optimal_rate_bps: Option<u32>,
    pub max_rate_bps: Option<u32>,
    pub reserve_factor_bps: Option<u16>,
    pub insurance_target_bps: Option<u16>,
}

/// The `PriceUpdateV2` account `ballast oracle post` writes for `feed_id` with `authority` on a
/// local validator (the localnet oracle writer's account, created with a seed of the authority).
pub fn localnet_feed(authority: &Pubkey, feed_id: &[u8; 32]) -> Pubkey {
    Pubkey::create_with_seed(authority, &localnet_feed_seed(feed_id), &localnet_oracle::ID)
        .expect("the seed is short")
}

/// The seed of `localnet_feed`.
pub fn localnet_feed_seed(feed_id: &[u8; 32]) -> String {
    format!("ballast-feed-{}", &hex::encode(feed_id)[..16])
}

pub fn parse_pubkey(text: &str, what: &str) -> Result<Pubkey, String> {
    text.parse().map_err(|_| format!("{what}: `{text}` is not a base58 public key"))
}

pub fn parse_feed_id(text: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(text.trim_start_matches("0x")).map_err(|e| format!("feed id `{text}`: {e}"))?;
    bytes.try_into().map_err(|_| format!("feed id `{text}` is not 32 bytes"))
}

pub fn token_program(name: &str) -> Result<Pubkey, String> {
    match name {
        "spl-token" => Ok(SPL_TOKEN),
        "token-2022" => Ok(TOKEN_2022),
        other => Err(format!("token program `{other}`: use spl-token or token-2022")),
    }
}

impl OracleSection {
    /// The oracle parameters; `payer` is the wallet whose localnet writer account
    /// `price_account = "localnet-writer"` names.
    pub fn to_params(&self, payer: &Pubkey) -> Result<OracleParams, String> {
        let d = params::default_oracle([0; 32], Pubkey::default());
        let (source, feed_id, price_account) = match self.source.as_str() {
            "pull" => {
                let feed = parse_feed_id(self.feed_id.as_deref().ok_or("a pull oracle needs feed_id")?)?;
                let account = match self.price_account.as_deref() {
                    Some("localnet-writer") => localnet_feed(payer, &feed),
                    Some(key) => parse_pubkey(key, "price_account")?,
                    None => ballast_sdk::pda::pyth_push_feed(self.push_shard.unwrap_or(0), &feed),
                };
                (OracleSource::PythPull, feed, account)
            }
            "legacy" => {
                let account = self.price_account.as_deref().ok_or("a legacy oracle needs price_account")?;
                (OracleSource::PythLegacy, [0; 32], parse_pubkey(account, "price_account")?)
            }
            other => return Err(format!("oracle source `{other}`: use pull or legacy")),
        };
        Ok(OracleParams {
            source,
            price_account,
            feed_id,
            max_age_secs: self.max_age_secs.unwrap_or(d.max_age_secs),
            max_conf_bps: self.max_conf_bps.unwrap_or(d.max_conf_bps),
            lag_bps_per_sec: self.lag_bps_per_sec.unwrap_or(d.lag_bps_per_sec),
            max_band_bps: self.max_band_bps.unwrap_or(d.max_band_bps),
            ema_warn_bps: self.ema_warn_bps.unwrap_or(d.ema_warn_bps),
            ema_pause_bps: self.ema_pause_bps.unwrap_or(d.ema_pause_bps),
            ema_force_bps: self.ema_force_bps.unwrap_or(d.ema_force_bps),
            stress_addon_bps: self.stress_addon_bps.unwrap_or(d.stress_addon_bps),
            push_shard: self.push_shard.unwrap_or(0),
        })
    }
}

impl RiskSection {
    pub fn to_params(&self) -> RiskParams {
        let d = params::default_risk();
        RiskParams {
            max_leverage_bps: self.max_leverage_bps.unwrap_or(d.max_leverage_bps),
            init_haircut_bps: self.init_haircut_bps.unwrap_or(d.init_haircut_bps),
            maint_haircut_bps: self.maint_haircut_bps.unwrap_or(d.maint_haircut_bps),
            borrow_factor_bps: self.borrow_factor_bps.unwrap_or(d.borrow_factor_bps),
            position_cap_bps: self.position_cap_bps.unwrap_or(d.position_cap_bps),
            liquidation_bonus_min_bps: self.liquidation_bonus_min_bps.unwrap_or(d.liquidation_bonus_min_bps),
            liquidation_bonus_max_bps: self.liquidation_bonus_max_bps.unwrap_or(d.liquidation_bonus_max_bps),
            liquidation_fee_bps: self.liquidation_fee_bps.unwrap_or(d.liquidation_fee_bps),
            close_factor_bps: self.close_factor_bps.unwrap_or(d.close_factor_bps),
            stress_group: self.stress_group.unwrap_or(d.stress_group),
            collateral_enabled: self.collateral_enabled.unwrap_or(d.collateral_enabled),
            borrow_enabled: self.borrow_enabled.unwrap_or(d.borrow_enabled),
        }
    }
}

impl InterestSection {
    pub fn to_params(&self) -> InterestParams {
        let d = params::default_interest();
        InterestParams {
            optimal_utilization_bps: self.optimal_utilization_bps.unwrap_or(d.optimal_utilization_bps),
            base_rate_bps: self.base_rate_bps.unwrap_or(d.base_rate_bps),
            optimal_rate_bps: self.optimal_rate_bps.unwrap_or(d.optimal_rate_bps),
            max_rate_bps: self.max_rate_bps.unwrap_or(d.max_rate_bps),
            reserve_factor_bps: self.reserve_factor_bps.unwrap_or(d.reserve_factor_bps),
            insurance_target_bps: self.insurance_target_bps.unwrap_or(d.insurance_target_bps),
        }
    }
}

/// A Token-2022 mint's length with a `MetadataPointer` to itself (82-byte base, padding to 165,
/// the account type, then the pointer's 4-byte header and 64-byte value).
const MINT_WITH_POINTER_LEN: usize = 166 + 4 + 64;

/// The instructions that create the mint a bootstrap makes for `name`. A Token-2022 mint carries
/// its name in its own `TokenMetadata` (name and symbol = `name`, pointed to by its
/// `MetadataPointer`), so every client (the CLI, the keeper's logs, the web app) shows `SOL`
/// rather than an address without any local configuration; an SPL Token mint cannot hold one
/// (its name is then only found from the seed it was created under, see `created_mint_address`).
async fn create_named_mint(
    client: &Client,
    payer: &Pubkey,
    name: &str,
    token_program: &Pubkey,
    decimals: u8,
) -> Result<Vec<anchor_lang::solana_program::instruction::Instruction>, String> {
    let mint = created_mint_address(payer, name, token_program);
    let named = *token_program == TOKEN_2022;
    let (space, funded) = if named {
        // The metadata is appended by the token program, which reallocates the account: fund
        // the final length now (TLV header, update authority, mint, name, symbol, empty uri and
        // additional fields).
        let metadata = 4 + 32 + 32 + (4 + name.len()) * 2 + 4 + 4;
        (MINT_WITH_POINTER_LEN, MINT_WITH_POINTER_LEN + metadata)
    } else {
        (MINT_LEN as usize, MINT_LEN as usize)
    };
    let rent = client.rpc.get_minimum_balance_for_rent_exemption(funded).await.map_err(|e| e.to_string())?;
    let mut ixs = vec![system_ix::create_account_with_seed(
        payer,
        &mint,
        payer,
        &mint_seed(name),
        rent,
        space as u64,
        token_program,
    )];
    if named {
        ixs.push(
            metadata_pointer::instruction::initialize(token_program, &mint, Some(*payer), Some(mint))
                .map_err(|e| e.to_string())?,
        );
    }
    ixs.push(
        token_ix::initialize_mint2(token_program, &mint, payer, None, decimals).map_err(|e| e.to_string())?,
    );
    if named {
        ixs.push(spl_token_metadata_interface::instruction::initialize(
            token_program,
            &mint,
            payer,
            &mint,
            payer,
            name.to_string(),
            name.to_string(),
            String::new(),
        ));
    }
    Ok(ixs)
}

/// The mint a localnet bootstrap creates for `name`: derived from the payer and the name.
pub fn created_mint_address(payer: &Pubkey, name: &str, token_program: &Pubkey) -> Pubkey {
    Pubkey::create_with_seed(payer, &mint_seed(name), token_program).expect("seed within 32 bytes")
}

fn mint_seed(name: &str) -> String {
    let mut s = format!("ballast-mint-{name}");
    s.truncate(32);
    s
}

/// What a bootstrap found or made.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BootstrapReport {
    pub market: String,
    pub reserves: Vec<ReserveReport>,
    /// The market's address lookup table (every reserve, mint, vault, pool and price account):
    /// wallets and keepers send v0 transactions with it.
    pub lookup_table: String,
    /// Transactions sent (0 on a re-run against an unchanged file).
    pub transactions: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ReserveReport {
    pub name: String,
    pub reserve: String,
    pub mint: String,
    pub token_program: String,
    pub action: String,
}

/// Which reserves a run may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Bootstrap: list what is missing, reconfigure what differs.
    Any,
    /// `reserve add`: every reserve of the file must be new.
    Add,
    /// `reserve update`: every reserve of the file must be listed already.
    Update,
}

/// Runs the bootstrap of `file` with the client's payer as market creator and admin.
pub async fn bootstrap(client: &Client, file: &MarketFile, mode: Mode) -> Result<BootstrapReport, String> {
    let payer = client.payer.pubkey();
    let market = pda::market(&payer, file.market.id);
    let mut sent = 0;
    let rpc_err = |e: RpcError| e.to_string();
    if client.account_data(&market).await.map_err(rpc_err)?.is_none() {
        let fee_receiver = match &file.market.fee_receiver {
            Some(k) => parse_pubkey(k, "fee_receiver")?,
            None => payer,
        };
        client.send(&[ix::init_market(payer, file.market.id, fee_receiver)], &[]).await.map_err(rpc_err)?;
        sent += 1;
    }
    // Market parameters first: before the first listing they apply at once.
    let stored = client.market(&market).await.map_err(rpc_err)?;
    let wanted = file.market.params();
    if ballast::instructions::MarketParams::of(&stored) != wanted && stored.market_config_eta == 0 {
        client.send(&[ix::configure_market(payer, market, wanted)], &[]).await.map_err(rpc_err)?;
        sent += 1;
    }
    let eta = client.market(&market).await.map_err(rpc_err)?.market_config_eta;
    if eta != 0 && eta <= client.now().await.map_err(rpc_err)? {
        client.send(&[ix::apply_market_config(market)], &[]).await.map_err(rpc_err)?;
        sent += 1;
    }
    let mut reserves = Vec::new();
    for r in &file.reserves {
        let (mint, tp) = match (&r.mint, &r.create_mint) {
            (Some(m), None) => {
                let mint = parse_pubkey(m, "mint")?;
                let account = client.account_data(&mint).await.map_err(rpc_err)?;
                let owner = account.ok_or(format!("reserve {}: mint {mint} does not exist", r.name))?.owner;
                (mint, owner)
            }
            (None, Some(c)) => {
                let tp = token_program(&c.token_program)?;
                let mint = created_mint_address(&payer, &r.name, &tp);
                if client.account_data(&mint).await.map_err(rpc_err)?.is_none() {
                    client
                        .send(&create_named_mint(client, &payer, &r.name, &tp, c.decimals).await?, &[])
                        .await
                        .map_err(rpc_err)?;
                    sent += 1;
                }
                (mint, tp)
            }
            _ => return Err(format!("reserve {}: give exactly one of mint and create_mint", r.name)),
        };
        let reserve = pda::reserve(&market, &mint);
        let (oracle, risk, interest) =
            (r.oracle.to_params(&payer)?, r.risk.to_params(), r.interest.to_params());
        let desired = (
            oracle.to_config().map_err(|e| format!("reserve {}: oracle {e}", r.name))?,
            risk.to_config().map_err(|e| format!("reserve {}: risk {e}", r.name))?,
            interest.to_config().map_err(|e| format!("reserve {}: interest {e}", r.name))?,
        );
        let mut action = "unchanged";
        let listed = client.account_data(&reserve).await.map_err(rpc_err)?.is_some();
        if mode == Mode::Add && listed {
            return Err(format!("reserve {} is listed already: use `reserve update`", r.name));
        }
        if mode == Mode::Update && !listed {
            return Err(format!("reserve {} is not listed: use `reserve add`", r.name));
        }
        if !listed {
            let asset_class = match r.asset_class.as_str() {
                "crypto" => AssetClass::Crypto,
                "equity" => AssetClass::Equity,
                other => {
                    return Err(format!("reserve {}: asset_class `{other}`: use crypto or equity", r.name))
                }
            };
            let args = AddReserveArgs {
                asset_class,
                deposit_cap: r.deposit_cap.unwrap_or(u64::MAX),
                borrow_cap: r.borrow_cap.unwrap_or(u64::MAX),
                allow_issuer_controls: r.allow_issuer_controls,
                issuer_haircut_bps: r.issuer_haircut_bps,
            };
            client.send(&[ix::add_reserve(payer, market, mint, tp, args)], &[]).await.map_err(rpc_err)?;
            sent += 1;
            action = "listed";
        }
        let current = client.reserve(&reserve).await.map_err(rpc_err)?;
        let caps = ballast::instructions::CapsParams {
            deposit_cap: r.deposit_cap.unwrap_or(u64::MAX),
            borrow_cap: r.borrow_cap.unwrap_or(u64::MAX),
        };
        let wanted = (desired.0, desired.1, desired.2, caps.deposit_cap, caps.borrow_cap);
        let stored =
            (current.oracle, current.risk, current.interest, current.deposit_cap, current.borrow_cap);
        let pending = (
            current.pending_oracle,
            current.pending_risk,
            current.pending_interest,
            current.pending_deposit_cap,
            current.pending_borrow_cap,
        );
        let mut action = action.to_string();
        if current.pending_eta != 0 {
            // A loosening change waits for the market's timelock: the file may only restate it.
            if pending != wanted {
                return Err(format!(
                    "reserve {}: another change is queued until {}; cancel it (`cancel_reserve_config`) first",
                    r.name, current.pending_eta
                ));
            }
            action = format!("queued until {}", current.pending_eta);
        } else if stored != wanted {
            let configure = ix::configure_reserve(payer, market, reserve, oracle, risk, interest, caps);
            client.send(&[configure], &[]).await.map_err(rpc_err)?;
            sent += 1;
            let after = client.reserve(&reserve).await.map_err(rpc_err)?;
            if after.pending_eta != 0 {
                action = format!("loosening queued until {} (market timelock)", after.pending_eta);
            } else if action == "unchanged" {
                action = "reconfigured".into();
            }
        }
        // A queued change whose timelock has run out is applied (anyone may): with a zero
        // timelock (localnet) that is at once.
        let queued = client.reserve(&reserve).await.map_err(rpc_err)?;
        let now = client.now().await.map_err(rpc_err)?;
        if queued.pending_eta != 0 && queued.pending_eta <= now {
            client.send(&[ix::apply_reserve_config(reserve)], &[]).await.map_err(rpc_err)?;
            sent += 1;
            action = format!("{action}, applied");
        }
        // The session: set when the stored one differs (on a reserve with deposits the program
        // queues the change behind the timelock).
        let wanted_session = match &r.session {
            Some(s) => Some(s.to_params()?),
            None => None,
        };
        let stored_session = client.reserve(&reserve).await.map_err(rpc_err)?;
        let wanted_config = match &wanted_session {
            Some(p) => p.to_config().map_err(|e| format!("reserve {}: session {e}", r.name))?,
            None => ballast::state::SessionConfig::default(),
        };
        if stored_session.session != wanted_config && stored_session.pending_session_eta == 0 {
            let ixn = ix::configure_session(payer, market, reserve, wanted_session);
            client.send(&[ixn], &[]).await.map_err(rpc_err)?;
            sent += 1;
            if action == "unchanged" {
                action = "session set".into();
            }
        }
        let queued = client.reserve(&reserve).await.map_err(rpc_err)?;
        if queued.pending_session_eta != 0
            && queued.pending_session_eta <= client.now().await.map_err(rpc_err)?
        {
            client.send(&[ix::apply_session(reserve)], &[]).await.map_err(rpc_err)?;
            sent += 1;
        }
        reserves.push(ReserveReport {
            name: r.name.clone(),
            reserve: reserve.to_string(),
            mint: mint.to_string(),
            token_program: tp.to_string(),
            action,
        });
    }
    // The lookup table follows the listings and oracle changes above.
    let listed = client.reserves(&market).await.map_err(rpc_err)?;
    let (table, table_txs) = client.ensure_market_table(&market, &listed).await.map_err(rpc_err)?;
    sent += table_txs;
    Ok(BootstrapReport {
        market: market.to_string(),
        reserves,
        lookup_table: table.to_string(),
        transactions: sent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_localnet_migration_parses_and_is_within_bounds() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/localnet.toml");
        let file: MarketFile = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(file.reserves.len(), 3);
        for r in &file.reserves {
            r.oracle.to_params(&Pubkey::new_unique()).unwrap().to_config().unwrap();
            r.risk.to_params().to_config().unwrap();
            r.interest.to_params().to_config().unwrap();
        }
        let session = SessionSection {
            weekdays: ["mon", "tue", "wed", "thu", "fri"].map(String::from).to_vec(),
            open: "09:30".into(),
            close: "16:00".into(),
            closed_max_age_secs: 345_600,
            gap_haircut_bps: 1_000,
            holidays: vec!["2026-11-26".into()],
            early_closes: vec!["2026-11-27".into()],
            early_close: thirteen_hundred(),
        };
        let p = session.to_params().unwrap();
        assert_eq!((p.weekday_mask, p.open_minute, p.close_minute), (0b0111110, 570, 960));
        assert_eq!(p.holidays, vec![ballast_risk::session::days_from_civil(2026, 11, 26) as u32]);
        assert_eq!(p.early_closes, vec![ballast_risk::session::days_from_civil(2026, 11, 27) as u32]);
        assert_eq!(p.early_close_minute, 780);
        p.to_config().unwrap();
        let stock = &file.reserves[2];
        assert_eq!(
            (stock.asset_class.as_str(), stock.create_mint.as_ref().unwrap().token_program.as_str()),
            ("equity", "token-2022")
        );
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let bad = "[market]\nid = 1\n[[reserve]]\nname = \"X\"\nmint = \"So11111111111111111111111111111111111111112\"\n[reserve.oracle]\nsource = \"pull\"\n";
        let file: MarketFile = toml::from_str(bad).unwrap();
        assert_eq!(
            file.reserves[0].oracle.to_params(&Pubkey::default()).unwrap_err(),
            "a pull oracle needs feed_id"
        );
        assert!(
            toml::from_str::<MarketFile>("[market]\nid = 1\nsurprise = 2\n").is_err(),
            "unknown keys are refused"
        );
        assert!(parse_feed_id("abcd").is_err());
        assert!(token_program("token-2023").is_err());
    }
}
