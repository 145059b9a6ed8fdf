//! Prices (SPEC §2): both Pyth sources behind one staleness guard and the lag band.
//!
//! `read` returns a price only after every check: owner, key or feed id, verification level,
//! status, positive price, exponent range, age, confidence, and the lag band's cap. Each
//! rejection is its own `BallastError`, logged with the reserve and the numbers behind it.
use anchor_lang::prelude::*;
use ballast_risk::fixed::product_le;
use ballast_risk::health::{band_within_cap, ema_divergence_bps, lag_band};

use crate::error::BallastError;
use crate::state::{OracleConfig, OracleSource};

pub mod legacy;
pub mod pull;

/// Exponents a price may have: Pyth publishes between -12 and -5 for every feed we list; the
/// range leaves room without letting `usd_value` overflow.
pub const MIN_EXPO: i32 = -18;
pub const MAX_EXPO: i32 = 0;

/// A price as the oracle account holds it, before any check of its value or age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawPrice {
    pub price: i64,
    pub conf: u64,
    pub expo: i32,
    pub ema_price: i64,
    pub publish_time: i64,
    /// The account's status was `Trading` (always, for a pull update). A legacy account that
    /// is not carries its last trading price here, which `check` refuses and the maintenance
    /// fallback may use (SPEC §2).
    pub trading: bool,
}

/// Why an oracle account was refused, before the reserve's name is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OracleError {
    WrongOwner,
    WrongFeed,
    PartialVerification,
    InvalidData,
}

impl From<OracleError> for BallastError {
    fn from(e: OracleError) -> Self {
        match e {
            OracleError::WrongOwner => BallastError::OracleWrongOwner,
            OracleError::WrongFeed => BallastError::OracleWrongFeed,
            OracleError::PartialVerification => BallastError::OraclePartialVerification,
            OracleError::InvalidData => BallastError::OracleInvalidData,
        }
    }
}

/// How far the price is from its EMA, against the reserve's three levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EmaLevel {
    Normal,
    /// Emits an event; nothing else changes.
    Warn,
    /// Reduce-only: no new borrow of the asset, nothing that relies on it as collateral.
    Pause,
    /// The maintenance haircut gets the stress add-on.
    Force,
}

/// A price that passed every check, in the oracle's mantissa units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OraclePrice {
    pub price: u64,
    pub conf: u64,
    pub expo: i32,
    pub ema_price: u64,
    pub age_secs: u64,
    /// When the oracle published this price (unix seconds): a `ScaledUiAmount` multiplier is
    /// taken at this time, never at the clock's (SPEC §6).
    pub publish_time: i64,
    /// `conf + price × lag_bps_per_sec × age / 10 000`, rounded up, within the cap.
    pub band: u64,
    pub ema_divergence_bps: u64,
    pub ema_level: EmaLevel,
}

impl OraclePrice {
    /// No price: what an unpriced slot carries (it counts for nothing, see `health`).
    pub const NONE: OraclePrice = OraclePrice {
        price: 0,
        conf: 0,
        expo: 0,
        ema_price: 0,
        age_secs: 0,
        publish_time: 0,
        band: 0,
        ema_divergence_bps: 0,
        ema_level: EmaLevel::Pause,
    };

    /// Collateral price for initial health: `price − band`.
    pub fn low(&self) -> u64 {
        self.price - self.band // band < price: the cap is below 100 %
    }

    /// Debt price for initial health: `price + band`.
    pub fn high(&self) -> u64 {
        self.price.saturating_add(self.band)
    }

    /// The price of one *token* when the oracle prices one share and a token is `multiplier`
    /// (WAD) shares (Token-2022 `ScaledUiAmount`): price, confidence and EMA scale alike, the
    /// price rounded down and the band up, so the band's share of the price is kept.
    pub fn per_token(&self, multiplier: u128) -> std::result::Result<OraclePrice, BallastError> {
        use ballast_risk::fixed::{mul_div, Rounding, WAD};
        let scale = |v: u64, r: Rounding| {
            mul_div(v as u128, multiplier, WAD, r)
                .ok()
                .and_then(|x| u64::try_from(x).ok())
                .ok_or(BallastError::MathOverflow)
        };
        let price = scale(self.price, Rounding::Down)?;
        let band = scale(self.band, Rounding::Up)?.min(price.saturating_sub(1));
        Ok(OraclePrice {
            price,
            conf: scale(self.conf, Rounding::Up)?,
            ema_price: scale(self.ema_price, Rounding::Down)?,
            band,
            ..*self
        })
    }
}

/// Decodes the raw price of `account` as the reserve's oracle config says.
pub fn decode(config: &OracleConfig, account: &AccountInfo) -> std::result::Result<RawPrice, BallastError> {
    let data = account.try_borrow_data().map_err(|_| BallastError::OracleInvalidData)?;
    decode_data(config, account.key, account.owner, &data)
}

/// `decode` on an account's key, owner and bytes: what clients (SDK, keeper) hold after an RPC
/// fetch. One decoder on and off chain. Any account but the reserve's pinned one is
/// `OracleWrongAccount`, before anything else is read.
pub fn decode_data(
    config: &OracleConfig,
    key: &Pubkey,
    owner: &Pubkey,
    data: &[u8],
) -> std::result::Result<RawPrice, BallastError> {
    // The pinned account first: any other is the caller's choice, and refused as such.
    if !crate::keys::same_key(key, &config.price_account) {
        return Err(BallastError::OracleWrongAccount);
    }
    let raw = match OracleSource::from_u8(config.source) {
        Some(OracleSource::PythLegacy) => legacy::parse(owner, data),
        Some(OracleSource::PythPull) => pull::parse(owner, data, &config.feed_id),
        None => return Err(BallastError::OracleNotConfigured),
    };
    raw.map_err(BallastError::from)
}

/// The `N` bytes of `data` at `at` (the parsers check the length first).
fn field<const N: usize>(data: &[u8], at: usize) -> [u8; N] {
    data[at..at + N].try_into().expect("the parser checked the length")
}

/// Reads and checks the price of `reserve` from `account` at unix time `now`.
pub fn read(
    reserve: &Pubkey,
    config: &OracleConfig,
    account: &AccountInfo,
    now: i64,
) -> std::result::Result<OraclePrice, BallastError> {
    let raw = decode(config, account)
        .inspect_err(|e| crate::diag!("reserve {}: oracle {} refused: {:?}", reserve, account.key, e))?;
    check(reserve, config, &raw, now)
}

/// The value checks of SPEC §2 on a decoded price.
pub fn check(
    reserve: &Pubkey,
    config: &OracleConfig,
    raw: &RawPrice,
    now: i64,
) -> std::result::Result<OraclePrice, BallastError> {
    if !raw.trading {
        crate::diag!("reserve {}: legacy price not trading (last trading price {})", reserve, raw.price);
        return Err(BallastError::OracleNotTrading);
    }
    if raw.price <= 0 || raw.ema_price <= 0 {
        crate::diag!("reserve {}: non-positive price {} (ema {})", reserve, raw.price, raw.ema_price);
        return Err(BallastError::OracleNonPositivePrice);
    }
    if !(MIN_EXPO..=MAX_EXPO).contains(&raw.expo) {
        crate::diag!("reserve {}: price exponent {} outside {}..={}", reserve, raw.expo, MIN_EXPO, MAX_EXPO);
        return Err(BallastError::OracleExponentOutOfRange);
    }
    let (price, ema_price) = (raw.price as u64, raw.ema_price as u64);
    // A publish time ahead of the validator's clock counts as fresh, not as negative age.
    let age_secs = now.saturating_sub(raw.publish_time).max(0) as u64;
    if age_secs > config.max_age_secs as u64 {
        crate::diag!(
            "reserve {}: price stale by {} s (max age {} s)",
            reserve,
            age_secs,
            config.max_age_secs
        );
        return Err(BallastError::OracleStale);
    }
    if !product_le(raw.conf, 10_000, price, config.max_conf_bps as u64) {
        crate::diag!(
            "reserve {}: confidence {} too wide for price {} (max {} bps)",
            reserve,
            raw.conf,
            price,
            config.max_conf_bps
        );
        return Err(BallastError::OracleConfidenceTooWide);
    }
    let band = lag_band(price, raw.conf, config.lag_bps_per_sec as u32, age_secs)
        .map_err(|_| BallastError::MathOverflow)?;
    if !band_within_cap(price, band, config.max_band_bps as u32) {
        crate::diag!(
            "reserve {}: lag band {} over the cap of {} bps of {}",
            reserve,
            band,
            config.max_band_bps,
            price
        );
        return Err(BallastError::OracleBandTooWide);
    }
    let divergence = ema_divergence_bps(price, ema_price);
    let ema_level = ema_level(config, divergence);
    Ok(OraclePrice {
        price,
        conf: raw.conf,
        expo: raw.expo,
        ema_price,
        age_secs,
        publish_time: raw.publish_time,
        band,
        ema_divergence_bps: divergence,
        ema_level,
    })
}

/// The breaker's level for a price `divergence_bps` away from its EMA.
pub fn ema_level(config: &OracleConfig, divergence_bps: u64) -> EmaLevel {
    if divergence_bps >= config.ema_force_bps as u64 {
        EmaLevel::Force
    } else if divergence_bps >= config.ema_pause_bps as u64 {
        EmaLevel::Pause
    } else if divergence_bps >= config.ema_warn_bps as u64 {
        EmaLevel::Warn
    } else {
        EmaLevel::Normal
    }
}

/// Past its max age a refused price keeps counting for maintenance, losing value linearly until
/// it counts nothing this long after (a day): a feed a minute late cannot expose a healthy
/// position, and a dead feed cannot prop a position up for ever (docs/decisions.md).
pub const STALE_PRICE_HORIZON_SECS: u64 = 24 * 3600;

/// The maintenance price of a slot whose price `check` refused (stale, too wide a confidence or
/// lag band, a closed market's old print), from the pinned account's last price `raw`:
///
/// * a debt at that price as it stands (never marked down: nobody gains from a stale debt);
/// * a deposit at that price less `age past max age / STALE_PRICE_HORIZON_SECS` of it.
///
/// `None` when nothing usable is left: a price that is not positive, an exponent out of range,
/// or a deposit past the horizon. The result sits at the EMA "pause" level, so it never counts
/// for initial health; a liquidation never repays or seizes at it.
pub fn last_price_fallback(
    config: &OracleConfig,
    raw: &RawPrice,
    now: i64,
    is_debt: bool,
) -> Option<OraclePrice> {
    if raw.price <= 0 || !(MIN_EXPO..=MAX_EXPO).contains(&raw.expo) {
        return None;
    }
    let age_secs = now.saturating_sub(raw.publish_time).max(0) as u64;
    let last = raw.price as u64;
    let price = if is_debt {
        last
    } else {
        let past = age_secs.saturating_sub(config.max_age_secs as u64);
        let left = STALE_PRICE_HORIZON_SECS.checked_sub(past)?;
        (last as u128 * left as u128 / STALE_PRICE_HORIZON_SECS as u128) as u64
    };
    (price > 0).then_some(OraclePrice {
        price,
        conf: 0,
        expo: raw.expo,
        ema_price: price,
        age_secs,
        publish_time: raw.publish_time,
        band: 0,
        ema_divergence_bps: 0,
        ema_level: EmaLevel::Pause,
    })
}

#[cfg(test)]
mod tests {
    //! Decoding of the real mainnet captures in `tests/fixtures/mainnet/` on the host (the
    //! integration tests check the same through the SBF program's health view).
    use super::*;

    fn fixture(file: &str) -> (Vec<u8>, String) {
        let path = format!("{}/../../tests/fixtures/mainnet/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).unwrap();
        let b64 = text.split("\"data\"").nth(1).unwrap().split('"').nth(1).unwrap().to_string();
        (base64_decode(&b64), text)
    }

    fn base64_decode(s: &str) -> Vec<u8> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.decode(s).unwrap()
    }

    #[test]
    fn pull_updates_decode_to_their_captured_values() {
        for (file, price, conf, expo, publish_time, ema) in [
            (
                "pyth_v2_SOLUSD_mainnet_drift.json",
                13_467_731_930,
                13_012_302,
                -8,
                1_718_727_936,
                13_548_284_100,
            ),
            (
                "pyth_v2_TSLAX_xstock_mainnet_Blinds.json",
                36_523_000_001,
                8_533_118,
                -8,
                1_789_215_534,
                36_525_395_590,
            ),
            (
                "pyth_v2_AAPL_equity_shard1_mainnet_Solera.json",
                33_563_050,
                3_951,
                -5,
                1_789_666_422,
                33_534_774,
            ),
        ] {
            let (data, _) = fixture(file);
            let feed: [u8; 32] = data[41..73].try_into().unwrap();
            let (key, receiver) = (Pubkey::new_unique(), pull::PYTH_RECEIVER_PROGRAM_ID);
            let config = OracleConfig {
                price_account: key,
                feed_id: feed,
                source: OracleSource::PythPull.to_u8(),
                ..OracleConfig::default()
            };
            let raw = decode_data(&config, &key, &receiver, &data).unwrap();
            assert_eq!(
                raw,
                RawPrice { price, conf, expo, ema_price: ema, publish_time, trading: true },
                "{file}"
            );
            assert_eq!(pull::parse(&receiver, &data, &[0; 32]), Err(OracleError::WrongFeed));
            // A genuine update in any other account than the pinned one is refused.
            let other = Pubkey::new_unique();
            let refused = decode_data(&config, &other, &receiver, &data);
            assert!(matches!(refused, Err(BallastError::OracleWrongAccount)), "{refused:?}");
            // Cut short anywhere before the last field read, it does not decode.
            for len in [0, 8, 40, 41, 72, 116] {
                assert_eq!(
                    pull::parse(&receiver, &data[..len], &feed),
                    Err(OracleError::InvalidData),
                    "{len}"
                );
            }
        }
    }

    #[test]
    fn third_party_receiver_is_refused() {
        let (data, _) = fixture("pyth_v2_BONK_drift_receiver_mainnet_drift.json");
        let feed: [u8; 32] = data[41..73].try_into().unwrap();
        let drift_receiver = pubkey!("G6EoTTTgpkNBtVXo96EQp2m6uwwVh2Kt6YidjkmQqoha");
        assert_eq!(pull::parse(&drift_receiver, &data, &feed), Err(OracleError::WrongOwner));
    }

    #[test]
    fn legacy_account_decodes_to_its_captured_values() {
        let (data, _) = fixture("pyth_legacy_BONKUSD_mainnet_drift.json");
        let key = pubkey!("8ihFLu5FimgTQ1Unh4dVyEHUGodJ5gJQCrQf4KUVB9bN");
        // Copy into 8-aligned memory, as the runtime hands account data to programs.
        let mut aligned = vec![0u64; data.len().div_ceil(8)];
        let bytes = bytemuck::cast_slice_mut::<u64, u8>(&mut aligned);
        bytes[..data.len()].copy_from_slice(&data);
        let config = OracleConfig {
            price_account: key,
            source: OracleSource::PythLegacy.to_u8(),
            ..OracleConfig::default()
        };
        let owner = legacy::PYTH_ORACLE_PROGRAM_ID;
        let raw = decode_data(&config, &key, &owner, &bytes[..data.len()]).unwrap();
        assert_eq!(
            raw,
            RawPrice {
                price: 145_975,
                conf: 219,
                expo: -10,
                ema_price: 143_452,
                publish_time: 1_702_120_657,
                trading: true,
            }
        );
        let refused = decode_data(&config, &Pubkey::new_unique(), &owner, &bytes[..data.len()]);
        assert!(matches!(refused, Err(BallastError::OracleWrongAccount)), "{refused:?}");
        assert_eq!(legacy::parse(&Pubkey::new_unique(), &bytes[..data.len()]), Err(OracleError::WrongOwner));
    }
}
