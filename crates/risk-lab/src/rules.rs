//! The parameters a replay runs under, as the program stores them: each asset's risk, oracle and
//! interest parameters (taken from a `migrations/` market file, the SDK's defaults filling what it
//! leaves out) and the market's liquidation figures. Every set passes through the program's own
//! bounds (`to_config`) before a replay uses it, so the lab never replays a market the program
//! would refuse to configure.
use std::path::Path;

use ballast::instructions::{InterestParams, OracleParams, RiskParams};
use ballast_cli::bootstrap::{MarketFile, ReserveSection};
use ballast_sdk::params::{default_interest, default_oracle, default_risk};

/// One asset's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetRules {
    pub symbol: String,
    pub decimals: u8,
    pub risk: RiskParams,
    pub oracle: OracleParams,
    pub interest: InterestParams,
}

/// The market's liquidation figures (`[market]` of the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarketRules {
    pub target_health_bps: u16,
    pub dust_debt_usd: u32,
}

/// A parameter outside the program's bounds, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfBounds {
    pub asset: String,
    pub parameter: String,
    pub value: u64,
    /// Which set (`risk`, `oracle`, `interest`).
    pub set: &'static str,
}

impl std::fmt::Display for OutOfBounds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} parameter {} = {} is outside the program's bounds (configure_reserve refuses it)",
            self.asset, self.set, self.parameter, self.value
        )
    }
}

impl std::error::Error for OutOfBounds {}

thread_local! {
    /// The program's last diagnostic line on this thread (its bound checks name the parameter).
    static LAST_DIAGNOSTIC: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

fn keep_diagnostic(line: &str) {
    LAST_DIAGNOSTIC.with(|l| *l.borrow_mut() = line.to_string());
}

/// Routes the program's off-chain diagnostics to the lab (a replay prices millions of times;
/// the program's pricing notes stay quiet, its bound refusals are kept to be named).
pub fn install_diagnostics_hook() {
    ballast::log::set_off_chain_hook(keep_diagnostic);
}

impl AssetRules {
    /// Fails, naming the parameter and its value, unless the program's own `to_config` (what
    /// `configure_reserve` runs) accepts each set.
    pub fn check(&self) -> Result<(), OutOfBounds> {
        install_diagnostics_hook();
        let refused = |set: &'static str| {
            // "parameter <name> = <value> is out of bounds", as the program words it.
            let line = LAST_DIAGNOSTIC.with(|l| l.borrow().clone());
            let mut words = line.split_whitespace().skip(1);
            let parameter = words.next().unwrap_or(set).to_string();
            let value = words.nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
            OutOfBounds { asset: self.symbol.clone(), parameter, value, set }
        };
        LAST_DIAGNOSTIC.with(|l| l.borrow_mut().clear());
        self.risk.to_config().map_err(|_| refused("risk"))?;
        self.oracle.to_config().map_err(|_| refused("oracle"))?;
        self.interest.to_config().map_err(|_| refused("interest"))?;
        Ok(())
    }
}

/// An asset's rules from its `[[reserve]]` section: the file's values, the SDK's defaults for the
/// rest (as `ballast market bootstrap` fills them).
fn from_section(section: &ReserveSection, decimals: u8) -> AssetRules {
    let mut oracle = default_oracle([0; 32], anchor_lang::prelude::Pubkey::new_from_array([1; 32]));
    let o = &section.oracle;
    let set = |field: &mut u16, value: Option<u16>| *field = value.unwrap_or(*field);
    set(&mut oracle.lag_bps_per_sec, o.lag_bps_per_sec);
    set(&mut oracle.max_band_bps, o.max_band_bps);
    set(&mut oracle.max_conf_bps, o.max_conf_bps);
    set(&mut oracle.ema_warn_bps, o.ema_warn_bps);
    set(&mut oracle.ema_pause_bps, o.ema_pause_bps);
    set(&mut oracle.ema_force_bps, o.ema_force_bps);
    set(&mut oracle.stress_addon_bps, o.stress_addon_bps);
    oracle.max_age_secs = o.max_age_secs.unwrap_or(oracle.max_age_secs);
    AssetRules {
        symbol: section.name.clone(),
        decimals,
        risk: section.risk.to_params(),
        oracle,
        interest: section.interest.to_params(),
    }
}

/// The rules of `symbols` in the market file at `path`, and the market's figures. Decimals come
/// from the file's `create_mint`, else `fallback_decimals`.
pub fn from_market_file(
    path: &Path,
    symbols: &[&str],
    fallback_decimals: impl Fn(&str) -> u8,
) -> Result<(Vec<AssetRules>, MarketRules), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: MarketFile = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let market = file.market.params();
    let mut out = Vec::new();
    for symbol in symbols {
        let section = file
            .reserves
            .iter()
            .find(|r| r.name == *symbol)
            .ok_or_else(|| format!("{}: no [[reserve]] named {symbol}", path.display()))?;
        let decimals =
            section.create_mint.as_ref().map(|m| m.decimals).unwrap_or_else(|| fallback_decimals(symbol));
        let rules = from_section(section, decimals);
        rules.check().map_err(|e| format!("{}: {e}", path.display()))?;
        out.push(rules);
    }
    let rules = MarketRules {
        target_health_bps: market.liquidation_target_health_bps,
        dust_debt_usd: market.dust_debt_usd,
    };
    Ok((out, rules))
}

/// The SDK's default rules for an asset (what a reserve listed without parameters gets).
pub fn sdk_default(symbol: &str, decimals: u8) -> AssetRules {
    AssetRules {
        symbol: symbol.into(),
        decimals,
        risk: default_risk(),
        oracle: default_oracle([0; 32], anchor_lang::prelude::Pubkey::new_from_array([1; 32])),
        interest: default_interest(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crash_bench_market_file_gives_each_assets_rules() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/crash-bench.toml");
        let (rules, market) = from_market_file(&path, &["SOL", "USDC"], |_| 9).unwrap();
        assert_eq!(rules[0].risk.max_leverage_bps, 30_000);
        assert_eq!(rules[0].risk.maint_haircut_bps, 2_000);
        assert_eq!(rules[1].symbol, "USDC");
        assert!(market.target_health_bps > 10_000);
        let e = from_market_file(&path, &["DOGE"], |_| 9).unwrap_err();
        assert!(e.ends_with("no [[reserve]] named DOGE"), "{e}");
    }

    #[test]
    fn parameters_outside_the_programs_bounds_are_named() {
        let mut r = sdk_default("SOL", 9);
        r.check().unwrap();
        r.risk.max_leverage_bps = 60_000;
        assert_eq!(
            r.check().unwrap_err().to_string(),
            "SOL: risk parameter max_leverage_bps = 60000 is outside the program's bounds (configure_reserve refuses it)"
        );
        let mut r = sdk_default("SOL", 9);
        r.oracle.lag_bps_per_sec = 150;
        assert_eq!(r.check().unwrap_err().parameter, "lag_bps_per_sec");
        let mut r = sdk_default("SOL", 9);
        r.risk.maint_haircut_bps = r.risk.init_haircut_bps + 1;
        assert_eq!(r.check().unwrap_err().parameter, "maint_haircut_bps");
    }
}
