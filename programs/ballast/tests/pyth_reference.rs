//! The program's hand-written Pyth parsers held to Pyth's own crates, on the mainnet captures and
//! on images patched from them: hand-picked edge cases and a few thousand random ones.
//!
//! * `oracle::legacy::parse` against `pyth-sdk-solana` 0.10.6: `load_price_account::<32, ()>` on
//!   the raw bytes, then `to_price_feed` and its unchecked price and EMA getters.
//! * `oracle::pull::parse` against `pyth-solana-receiver-sdk` 2.0.0: `PriceUpdateV2` through
//!   Anchor's `AccountDeserialize::try_deserialize`, then `get_price_no_older_than` (Full
//!   verification, the feed id; its age check switched off by a clock at `i64::MIN`).
//!
//! Every image is also given to a model of each decoder, written from the fields the generator
//! set, so each side is held to exact values and exact errors. The pair of answers must then be
//! one of the rows below; any other pair fails the test. Past the first row, each is a
//! difference from Pyth, by a rule of ours with a test of its own:
//!
//! | case | Pyth says | we say | why |
//! |---|---|---|---|
//! | any image both decode | the price | the same price, EMA, exponent, time and aggregate | |
//! | legacy: short, bad magic / version / type | `InvalidAccountData` / `BadVersionNumber` / `WrongAccountType` | `InvalidData` | one error: a reserve can do nothing else with any of them |
//! | legacy: owner not the Pyth oracle | decodes (raw bytes, no owner) | `WrongOwner` | anyone can write those bytes into an account of their own |
//! | legacy: status byte above 4 | undefined (an invalid `PriceStatus` read through a `Pod` cast; not called) | not trading: the last trading aggregate, as for `Halted` | anything but `Trading` is "no fresh price" |
//! | legacy: price type or corporate-action byte invalid | undefined likewise (not called) | ignored | never read |
//! | legacy: data not 8-byte aligned | panics (`bytemuck::from_bytes`) | decodes | read byte by byte (the runtime aligns account data anyway) |
//! | exponent outside -18..=0, price or EMA ≤ 0, not trading | decodes | decodes; `oracle::check` refuses: `OracleNotTrading`, then `OracleNonPositivePrice`, then `OracleExponentOutOfRange` | value checks are `check`'s, after decoding; the maintenance fallback reads a halted account's last price |
//! | pull: Full update cut to 117..=132 bytes | `AccountDidNotDeserialize` | decodes (or `WrongFeed`) | we read through the EMA price only; the receiver allocates 134 bytes, so no genuine update is shorter |
//! | pull: Partial update, 41..=133 bytes | `AccountDidNotDeserialize` | `PartialVerification` | the level is read first, at byte 40 |
//! | pull: Partial update | `InsufficientVerificationLevel` (before the feed; `get_price_unchecked` would return the price) | `PartialVerification` | only Full verification is accepted |
//! | pull: Full update of another feed | `MismatchedFeedId` | `WrongFeed` | |
//! | pull: owner not the receiver | `try_deserialize` does not check it (`Account<PriceUpdateV2>` would, by `Owner`) | `WrongOwner` | |
//! | pull: age | `get_price_no_older_than`'s `maximum_age` | `oracle::check` (the reserve's max age) | |
use std::collections::BTreeMap;

use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::{Clock, Pubkey};
use anchor_lang::{AccountDeserialize, AccountSerialize, Discriminator, Owner};
use ballast::error::BallastError;
use ballast::oracle::{self, legacy, pull, OracleError, RawPrice, MAX_EXPO, MIN_EXPO};
use ballast::state::{OracleConfig, OracleSource};
use pyth_sdk_solana::state::{load_price_account, PriceStatus, SolanaPriceAccount};
use pyth_sdk_solana::PythError;
use pyth_solana_receiver_sdk::error::GetPriceError;
use pyth_solana_receiver_sdk::price_update::{PriceFeedMessage, PriceUpdateV2, VerificationLevel};

// ---------------------------------------------------------------------------------------------
// Shared helpers

/// `(address, owner, data)` of a capture in `tests/fixtures/mainnet/` (no JSON crate here: the
/// three keys are unique in every capture).
fn fixture(file: &str) -> (Pubkey, Pubkey, Vec<u8>) {
    use base64::Engine;
    let path = format!("{}/../../tests/fixtures/mainnet/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let key = json_str(&text, "pubkey").unwrap().parse().unwrap();
    let owner = json_str(&text, "owner").or_else(|| json_str(&text, "owner_inferred")).unwrap();
    let data = json_str(&text, "data").unwrap();
    (key, owner.parse().unwrap(), base64::engine::general_purpose::STANDARD.decode(data).unwrap())
}

/// The first string value of `"key"` (or the first string of its array).
fn json_str<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let rest = &text[text.find(&format!("\"{key}\""))? + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('[').map_or(rest, str::trim_start).strip_prefix('"')?;
    Some(&rest[..rest.find('"')?])
}

/// Account data as the runtime hands it to a program: 8-byte aligned (the legacy SDK casts it).
struct Aligned {
    words: Vec<u64>,
    len: usize,
}

impl Aligned {
    fn new(bytes: &[u8]) -> Self {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
        Aligned { words, len: bytes.len() }
    }

    fn bytes(&self) -> &[u8] {
        &bytemuck::cast_slice(&self.words)[..self.len]
    }
}

/// A small deterministic generator (xorshift64): the same images on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len() as u64) as usize]
    }

    /// An edge value a third of the time, else any.
    fn i64(&mut self, edges: &[i64]) -> i64 {
        if self.one_in(3) {
            self.pick(edges)
        } else {
            self.next() as i64
        }
    }

    fn u64(&mut self) -> u64 {
        if self.one_in(3) {
            self.pick(&[0, 1, 219, u64::MAX])
        } else {
            self.next()
        }
    }

    fn expo(&mut self) -> i32 {
        if self.one_in(2) {
            self.pick(&EXPONENTS)
        } else {
            self.next() as i32
        }
    }
}

const PRICES: [i64; 6] = [0, -1, 1, i64::MIN, i64::MAX, 145_975];
const TIMES: [i64; 5] = [0, -1, i64::MIN, i64::MAX, 1_702_120_657];
/// At and past the program's bounds (-18..=0), and the extremes.
const EXPONENTS: [i32; 9] = [-18, -19, 0, 1, -12, -8, -5, i32::MIN, i32::MAX];

/// A reserve's oracle limits wide enough that, on a price of age 0, only the value rules and
/// the confidence (at most the price) are left to refuse it.
fn lenient_config() -> OracleConfig {
    OracleConfig {
        max_age_secs: u32::MAX,
        max_conf_bps: 10_000,
        lag_bps_per_sec: 0,
        max_band_bps: 10_000,
        ema_warn_bps: u16::MAX,
        ema_pause_bps: u16::MAX,
        ema_force_bps: u16::MAX,
        ..OracleConfig::default()
    }
}

fn code(e: BallastError) -> u32 {
    e.into()
}

/// What a parser passes on, `oracle::check` judges, in this order: not trading, a
/// non-positive price or EMA, an exponent outside `MIN_EXPO..=MAX_EXPO`.
fn assert_value_rules(raw: &RawPrice) {
    ballast::log::set_off_chain_hook(|_| {}); // thousands of refusals: no log lines
    let rule = if !raw.trading {
        Some(BallastError::OracleNotTrading)
    } else if raw.price <= 0 || raw.ema_price <= 0 {
        Some(BallastError::OracleNonPositivePrice)
    } else if !(MIN_EXPO..=MAX_EXPO).contains(&raw.expo) {
        Some(BallastError::OracleExponentOutOfRange)
    } else if raw.conf > raw.price as u64 {
        Some(BallastError::OracleConfidenceTooWide) // the lenient config's one limit
    } else {
        None
    };
    match (rule, oracle::check(&Pubkey::default(), &lenient_config(), raw, raw.publish_time)) {
        (Some(want), Err(got)) => assert_eq!(code(got), code(want), "{raw:?}: {got:?}, want {want:?}"),
        (Some(want), Ok(p)) => panic!("{raw:?} passed ({p:?}), want {want:?}"),
        (None, Ok(p)) => assert_eq!(
            (p.price, p.conf, p.expo, p.ema_price, p.publish_time, p.age_secs),
            (raw.price as u64, raw.conf, raw.expo, raw.ema_price as u64, raw.publish_time, 0),
            "{raw:?}"
        ),
        (None, Err(got)) => panic!("{raw:?} refused: {got:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Legacy price accounts

const BONK_LEGACY: &str = "pyth_legacy_BONKUSD_mainnet_drift.json";
const MAGIC: u32 = 0xa1b2_c3d4;

/// The fields either decoder reads from a legacy price account (`pc_price_t`), and its length.
#[derive(Debug, Clone, Copy)]
struct Legacy {
    magic: u32,
    version: u32,
    account_type: u32,
    expo: i32,
    ema_price: i64,
    timestamp: i64,
    prev_price: i64,
    prev_conf: u64,
    prev_timestamp: i64,
    agg_price: i64,
    agg_conf: u64,
    status: u8,
    len: usize,
}

/// The BONK/USD capture's fields (2023-12, trading).
const BONK: Legacy = Legacy {
    magic: MAGIC,
    version: 2,
    account_type: 3,
    expo: -10,
    ema_price: 143_452,
    timestamp: 1_702_120_657,
    prev_price: 145_962,
    prev_conf: 206,
    prev_timestamp: 1_702_120_656,
    agg_price: 145_975,
    agg_conf: 219,
    status: 1,
    len: 3312,
};

impl Legacy {
    /// `base` with these fields written over it at the `pc_price_t` offsets, then cut to `len`
    /// or padded with `fill`.
    fn image(&self, base: &[u8], fill: u8) -> Vec<u8> {
        let mut d = base.to_vec();
        let mut put = |at: usize, bytes: &[u8]| d[at..at + bytes.len()].copy_from_slice(bytes);
        put(0, &self.magic.to_le_bytes());
        put(4, &self.version.to_le_bytes());
        put(8, &self.account_type.to_le_bytes());
        put(20, &self.expo.to_le_bytes());
        put(48, &self.ema_price.to_le_bytes());
        put(96, &self.timestamp.to_le_bytes());
        put(184, &self.prev_price.to_le_bytes());
        put(192, &self.prev_conf.to_le_bytes());
        put(200, &self.prev_timestamp.to_le_bytes());
        put(208, &self.agg_price.to_le_bytes());
        put(216, &self.agg_conf.to_le_bytes());
        put(224, &[self.status]);
        d.resize(self.len, fill);
        d
    }

    /// The aggregate the status selects: the current one when trading, else the last trading one.
    fn raw(&self) -> RawPrice {
        let trading = self.status == 1;
        let (price, conf, publish_time) = if trading {
            (self.agg_price, self.agg_conf, self.timestamp)
        } else {
            (self.prev_price, self.prev_conf, self.prev_timestamp)
        };
        RawPrice { price, conf, expo: self.expo, ema_price: self.ema_price, publish_time, trading }
    }

    /// `load_price_account`'s checks in its order, then `to_price_feed`.
    fn pyth_expected(&self) -> Result<RawPrice, PythError> {
        if self.len < 3312 || self.magic != MAGIC {
            Err(PythError::InvalidAccountData)
        } else if self.version != 2 {
            Err(PythError::BadVersionNumber)
        } else if self.account_type != 3 {
            Err(PythError::WrongAccountType)
        } else {
            Ok(self.raw())
        }
    }

    /// Ours: the same checks, every error `InvalidData`; any status but 1 is not trading.
    fn ours_expected(&self) -> Result<RawPrice, OracleError> {
        match self.pyth_expected() {
            Err(_) => Err(OracleError::InvalidData),
            Ok(raw) => Ok(raw),
        }
    }
}

/// `pyth-sdk-solana`'s reading of `data` (8-byte aligned, valid enum bytes) as a `RawPrice`.
fn pyth_legacy(data: &[u8]) -> Result<RawPrice, PythError> {
    let account: &SolanaPriceAccount = load_price_account::<32, ()>(data)?;
    // The SDK's `Pubkey` is solana-program 2.x's, which it does not re-export: take its type
    // from a field.
    let key = same_type_from(&account.prod, [7; 32]);
    let feed = account.to_price_feed(&key);
    assert_eq!(feed.id.to_bytes(), [7; 32]);
    let (price, ema) = (feed.get_price_unchecked(), feed.get_ema_price_unchecked());
    assert_eq!((ema.expo, ema.publish_time), (price.expo, price.publish_time));
    assert_eq!(account.get_publish_time(), price.publish_time);
    Ok(RawPrice {
        price: price.price,
        conf: price.conf,
        expo: price.expo,
        ema_price: ema.price,
        publish_time: price.publish_time,
        trading: account.agg.status == PriceStatus::Trading,
    })
}

fn same_type_from<K: From<[u8; 32]>>(_like: &K, bytes: [u8; 32]) -> K {
    K::from(bytes)
}

fn ours_legacy(data: &[u8]) -> Result<RawPrice, OracleError> {
    legacy::parse(&legacy::PYTH_ORACLE_PROGRAM_ID, data)
}

/// The rows of the table a legacy pair may be in; any other pair fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum LegacyRow {
    Trading,
    LastTrading,
    Short,
    BadMagic,
    BadVersion,
    BadType,
}

fn legacy_row(
    pyth: &Result<RawPrice, PythError>,
    ours: &Result<RawPrice, OracleError>,
    len: usize,
) -> LegacyRow {
    match (pyth, ours) {
        (Ok(p), Ok(o)) => {
            assert_eq!(p, o);
            if o.trading {
                LegacyRow::Trading
            } else {
                LegacyRow::LastTrading
            }
        }
        (Err(PythError::InvalidAccountData), Err(OracleError::InvalidData)) if len < 3312 => LegacyRow::Short,
        (Err(PythError::InvalidAccountData), Err(OracleError::InvalidData)) => LegacyRow::BadMagic,
        (Err(PythError::BadVersionNumber), Err(OracleError::InvalidData)) => LegacyRow::BadVersion,
        (Err(PythError::WrongAccountType), Err(OracleError::InvalidData)) => LegacyRow::BadType,
        other => panic!("no rule for {other:?}"),
    }
}

/// One image through the model, both decoders and the value rules; its row.
fn legacy_case(fields: &Legacy, image: &[u8]) -> LegacyRow {
    assert!(fields.status <= 4, "the SDK reads the status as an enum");
    let data = Aligned::new(image);
    let (pyth, ours) = (pyth_legacy(data.bytes()), ours_legacy(data.bytes()));
    assert_eq!(pyth, fields.pyth_expected(), "Pyth on {fields:?}");
    assert_eq!(ours, fields.ours_expected(), "ours on {fields:?}");
    if let Ok(raw) = &ours {
        assert_value_rules(raw);
    }
    legacy_row(&pyth, &ours, fields.len)
}

#[test]
fn legacy_capture_reads_the_same() {
    let (key, owner, data) = fixture(BONK_LEGACY);
    assert_eq!(
        (key, owner),
        ("8ihFLu5FimgTQ1Unh4dVyEHUGodJ5gJQCrQf4KUVB9bN".parse().unwrap(), legacy::PYTH_ORACLE_PROGRAM_ID)
    );
    assert_eq!(std::mem::size_of::<SolanaPriceAccount>(), legacy::PRICE_ACCOUNT_LEN);
    assert_eq!(BONK.image(&data, 0), data, "the test's offsets and values are the capture's");
    let want = RawPrice {
        price: 145_975,
        conf: 219,
        expo: -10,
        ema_price: 143_452,
        publish_time: 1_702_120_657,
        trading: true,
    };
    assert_eq!(legacy_case(&BONK, &data), LegacyRow::Trading);
    assert_eq!(ours_legacy(Aligned::new(&data).bytes()), Ok(want));
    // Through the program's entry point too, as the reserve's pinned account.
    let config = OracleConfig {
        price_account: key,
        source: OracleSource::PythLegacy.to_u8(),
        ..OracleConfig::default()
    };
    assert_eq!(oracle::decode_data(&config, &key, &owner, Aligned::new(&data).bytes()).ok(), Some(want));
}

#[test]
fn legacy_every_status_picks_the_aggregate_pyth_picks() {
    let (_, _, data) = fixture(BONK_LEGACY);
    // The capture's own previous aggregate, and distinct values in its place.
    for prev in [(145_962, 206, 1_702_120_656), (7, 8, 9)] {
        for status in 0..=4u8 {
            let fields =
                Legacy { status, prev_price: prev.0, prev_conf: prev.1, prev_timestamp: prev.2, ..BONK };
            let row = legacy_case(&fields, &fields.image(&data, 0));
            let want = if status == PriceStatus::Trading as u8 {
                assert_eq!(row, LegacyRow::Trading);
                (145_975, 219, 1_702_120_657, true)
            } else {
                assert_eq!(row, LegacyRow::LastTrading);
                (prev.0, prev.1, prev.2, false)
            };
            let raw = ours_legacy(Aligned::new(&fields.image(&data, 0)).bytes()).unwrap();
            assert_eq!((raw.price, raw.conf, raw.publish_time, raw.trading), want, "status {status}");
            assert_eq!((raw.expo, raw.ema_price), (-10, 143_452));
        }
    }
}

/// Not trading is a decoded price `check` refuses, which the maintenance fallback still reads.
#[test]
fn legacy_halted_price_is_refused_by_check_and_kept_for_the_fallback() {
    let (_, _, data) = fixture(BONK_LEGACY);
    let halted = Legacy { status: PriceStatus::Halted as u8, ..BONK };
    let raw = ours_legacy(Aligned::new(&halted.image(&data, 0)).bytes()).unwrap();
    let config = lenient_config();
    let refused = oracle::check(&Pubkey::default(), &config, &raw, raw.publish_time);
    assert!(matches!(refused, Err(BallastError::OracleNotTrading)), "{refused:?}");
    let fallback = oracle::last_price_fallback(&config, &raw, raw.publish_time, true).unwrap();
    assert_eq!((fallback.price, fallback.publish_time), (145_962, 1_702_120_656));
}

#[test]
fn legacy_status_outside_pyths_enum_is_not_trading() {
    let (_, _, data) = fixture(BONK_LEGACY);
    // The SDK's `PriceStatus` has values 0..=4 only: it would read these through a `Pod` cast
    // into an enum (undefined), so its answer for `Halted` is the reference.
    let halted =
        Legacy { status: PriceStatus::Halted as u8, prev_price: 7, prev_conf: 8, prev_timestamp: 9, ..BONK };
    let reference = pyth_legacy(Aligned::new(&halted.image(&data, 0)).bytes()).unwrap();
    assert_eq!(
        reference,
        RawPrice { price: 7, conf: 8, expo: -10, ema_price: 143_452, publish_time: 9, trading: false }
    );
    for status in [5, 9, 0x80, 255] {
        let fields = Legacy { status, ..halted };
        assert_eq!(ours_legacy(Aligned::new(&fields.image(&data, 0)).bytes()), Ok(reference), "{status}");
    }
}

#[test]
fn legacy_bytes_we_never_read_are_ignored() {
    let (_, _, data) = fixture(BONK_LEGACY);
    let reference = pyth_legacy(Aligned::new(&data).bytes()).unwrap();
    // Price type (16), the aggregate's corporate action (225), a component's status (288):
    // enums to the SDK (not called on invalid values), never read by us.
    for (at, value) in [(16, 7u8), (225, 3), (288, 9), (12, 0xff), (232, 0xff)] {
        let mut image = data.clone();
        image[at] = value;
        assert_eq!(ours_legacy(Aligned::new(&image).bytes()), Ok(reference), "byte {at}");
    }
    // Price type 0 (`Unknown`) is a valid enum: the SDK decodes it as it was.
    let mut image = data.clone();
    image[16] = 0;
    assert_eq!(pyth_legacy(Aligned::new(&image).bytes()), Ok(reference));
}

#[test]
fn legacy_header_errors_are_one_error_to_us() {
    let (_, _, data) = fixture(BONK_LEGACY);
    let cases: &[(Legacy, PythError)] = &[
        (Legacy { magic: 0, ..BONK }, PythError::InvalidAccountData),
        (Legacy { magic: MAGIC ^ 1, ..BONK }, PythError::InvalidAccountData),
        (Legacy { magic: MAGIC.swap_bytes(), ..BONK }, PythError::InvalidAccountData),
        (Legacy { magic: 0, version: 1, account_type: 0, ..BONK }, PythError::InvalidAccountData),
        (Legacy { version: 0, ..BONK }, PythError::BadVersionNumber),
        (Legacy { version: 1, ..BONK }, PythError::BadVersionNumber),
        (Legacy { version: 3, ..BONK }, PythError::BadVersionNumber),
        (Legacy { version: u32::MAX, account_type: 1, ..BONK }, PythError::BadVersionNumber),
        (Legacy { account_type: 0, ..BONK }, PythError::WrongAccountType),
        (Legacy { account_type: 1, ..BONK }, PythError::WrongAccountType),
        (Legacy { account_type: 2, ..BONK }, PythError::WrongAccountType),
        (Legacy { account_type: 4, ..BONK }, PythError::WrongAccountType),
    ];
    for (fields, pyth) in cases {
        let image = Aligned::new(&fields.image(&data, 0));
        assert_eq!(pyth_legacy(image.bytes()), Err(pyth.clone()), "{fields:?}");
        assert_eq!(ours_legacy(image.bytes()), Err(OracleError::InvalidData), "{fields:?}");
        legacy_case(fields, &fields.image(&data, 0));
    }
}

#[test]
fn legacy_lengths() {
    let (_, _, data) = fixture(BONK_LEGACY);
    for len in [0, 1, 4, 12, 224, 232, 240, 3311] {
        let fields = Legacy { len, ..BONK };
        let image = Aligned::new(&fields.image(&data, 0));
        assert_eq!(pyth_legacy(image.bytes()), Err(PythError::InvalidAccountData), "{len}");
        assert_eq!(ours_legacy(image.bytes()), Err(OracleError::InvalidData), "{len}");
        assert_eq!(legacy_case(&fields, &fields.image(&data, 0)), LegacyRow::Short);
    }
    // Longer data: both read the first 3,312 bytes.
    for len in [3313, 3320, 4096] {
        let fields = Legacy { len, ..BONK };
        assert_eq!(legacy_case(&fields, &fields.image(&data, 0xee)), LegacyRow::Trading, "{len}");
        assert_eq!(ours_legacy(Aligned::new(&fields.image(&data, 0xee)).bytes()), Ok(BONK.raw()));
    }
}

#[test]
fn legacy_exponent_and_sign_are_checks_not_decoding() {
    ballast::log::set_off_chain_hook(|_| {});
    let (_, _, data) = fixture(BONK_LEGACY);
    let config = lenient_config();
    for (expo, in_range) in [(-18, true), (-19, false), (0, true), (1, false), (-12, true), (i32::MIN, false)]
    {
        let fields = Legacy { expo, ..BONK };
        assert_eq!(legacy_case(&fields, &fields.image(&data, 0)), LegacyRow::Trading);
        let raw = ours_legacy(Aligned::new(&fields.image(&data, 0)).bytes()).unwrap();
        assert_eq!(raw.expo, expo);
        let checked = oracle::check(&Pubkey::default(), &config, &raw, raw.publish_time);
        match checked {
            Ok(p) => assert!(in_range && p.price == 145_975 && p.expo == expo, "{expo}: {p:?}"),
            Err(e) => {
                assert!(!in_range && matches!(e, BallastError::OracleExponentOutOfRange), "{expo}: {e:?}")
            }
        }
    }
    // Non-positive prices decode as they are, in either aggregate and in the EMA.
    for price in [0, -1, i64::MIN] {
        for fields in [
            Legacy { agg_price: price, ..BONK },
            Legacy { ema_price: price, ..BONK },
            Legacy { prev_price: price, status: PriceStatus::Unknown as u8, ..BONK },
        ] {
            assert!(matches!(
                legacy_case(&fields, &fields.image(&data, 0)),
                LegacyRow::Trading | LegacyRow::LastTrading
            ));
            let raw = ours_legacy(Aligned::new(&fields.image(&data, 0)).bytes()).unwrap();
            assert!(raw.price == price || raw.ema_price == price, "{raw:?}");
            let want = if raw.trading {
                BallastError::OracleNonPositivePrice
            } else {
                BallastError::OracleNotTrading
            };
            let got = oracle::check(&Pubkey::default(), &config, &raw, raw.publish_time).unwrap_err();
            assert_eq!(code(got), code(want), "{raw:?}");
        }
    }
    // A halted account whose last trading price is not positive leaves the fallback nothing.
    let fields = Legacy { prev_price: 0, status: PriceStatus::Halted as u8, ..BONK };
    let raw = ours_legacy(Aligned::new(&fields.image(&data, 0)).bytes()).unwrap();
    assert_eq!(oracle::last_price_fallback(&config, &raw, raw.publish_time, true), None);
}

#[test]
fn legacy_publish_times_are_passed_through() {
    let (_, _, data) = fixture(BONK_LEGACY);
    for t in TIMES {
        for status in [1, 2] {
            let fields = Legacy { timestamp: t, prev_timestamp: t ^ 1, status, ..BONK };
            legacy_case(&fields, &fields.image(&data, 0));
            let raw = ours_legacy(Aligned::new(&fields.image(&data, 0)).bytes()).unwrap();
            assert_eq!(raw.publish_time, if status == 1 { t } else { t ^ 1 });
        }
    }
}

#[test]
fn legacy_owner_is_ours_to_check() {
    let (key, _, data) = fixture(BONK_LEGACY);
    let image = Aligned::new(&data);
    assert_eq!(pyth_legacy(image.bytes()), Ok(BONK.raw()), "raw bytes carry no owner");
    for owner in [Pubkey::default(), pull::PYTH_RECEIVER_PROGRAM_ID, key] {
        assert_eq!(legacy::parse(&owner, image.bytes()), Err(OracleError::WrongOwner));
    }
}

#[test]
fn legacy_unaligned_data_panics_in_pyth_and_reads_in_ours() {
    let (_, _, data) = fixture(BONK_LEGACY);
    let mut words = vec![0u64; data.len() / 8 + 1];
    let bytes = bytemuck::cast_slice_mut::<u64, u8>(&mut words);
    bytes[1..1 + data.len()].copy_from_slice(&data);
    let unaligned = &bytes[1..1 + data.len()];
    assert_eq!(ours_legacy(unaligned), Ok(BONK.raw()));
    let pyth = std::panic::catch_unwind(|| pyth_legacy(unaligned).is_ok());
    assert!(pyth.is_err(), "load_price_account casts the bytes: it needs them 8-byte aligned");
}

/// Bytes neither decoder reads and that are no enum: scrambled, they change nothing.
const LEGACY_UNREAD: [std::ops::Range<usize>; 5] = [12..16, 24..48, 56..96, 104..184, 232..240];

#[test]
fn legacy_random_images() {
    let (_, _, data) = fixture(BONK_LEGACY);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut rows = BTreeMap::new();
    for _ in 0..4000 {
        let mut fields = Legacy {
            status: rng.below(5) as u8,
            expo: rng.expo(),
            ema_price: rng.i64(&PRICES),
            timestamp: rng.i64(&TIMES),
            prev_price: rng.i64(&PRICES),
            prev_conf: rng.u64(),
            prev_timestamp: rng.i64(&TIMES),
            agg_price: rng.i64(&PRICES),
            agg_conf: rng.u64(),
            ..BONK
        };
        if rng.one_in(10) {
            let magics = [0, MAGIC ^ (1 << rng.below(32)), rng.next() as u32];
            fields.magic = rng.pick(&magics);
        }
        if rng.one_in(10) {
            let versions = [0, 1, 3, rng.next() as u32];
            fields.version = rng.pick(&versions);
        }
        if rng.one_in(10) {
            let types = [0, 1, 2, 4, rng.next() as u32];
            fields.account_type = rng.pick(&types);
        }
        fields.len = match rng.below(10) {
            0 => rng.below(3312) as usize,
            1 => 3313 + rng.below(800) as usize,
            _ => 3312,
        };
        let mut image = fields.image(&data, rng.next() as u8);
        if rng.one_in(3) {
            for range in LEGACY_UNREAD {
                for b in image.iter_mut().take(range.end).skip(range.start) {
                    *b = rng.next() as u8;
                }
            }
        }
        let row = legacy_case(&fields, &image);
        *rows.entry(row).or_insert(0) += 1;
    }
    // The generator reaches every row of the table, each often.
    for row in [
        LegacyRow::Trading,
        LegacyRow::LastTrading,
        LegacyRow::Short,
        LegacyRow::BadMagic,
        LegacyRow::BadVersion,
        LegacyRow::BadType,
    ] {
        assert!(rows.get(&row).copied().unwrap_or(0) >= 50, "{row:?} too rare: {rows:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Pull `PriceUpdateV2` accounts

/// The receiver's captures, and the price each mainnet account holds.
const PULL_CAPTURES: [(&str, RawPrice); 4] = [
    (
        "pyth_v2_SOLUSD_mainnet_drift.json",
        pulled(13_467_731_930, 13_012_302, -8, 1_718_727_936, 13_548_284_100),
    ),
    (
        "pyth_v2_TSLAX_xstock_mainnet_Blinds.json",
        pulled(36_523_000_001, 8_533_118, -8, 1_789_215_534, 36_525_395_590),
    ),
    (
        "pyth_v2_AAPL_equity_shard1_mainnet_Solera.json",
        pulled(33_563_050, 3_951, -5, 1_789_666_422, 33_534_774),
    ),
    ("pyth_v2_BONK_drift_receiver_mainnet_drift.json", pulled(345_526, 517, -10, 1_717_074_117, 335_763)),
];

const fn pulled(price: i64, conf: u64, expo: i32, publish_time: i64, ema_price: i64) -> RawPrice {
    RawPrice { price, conf, expo, ema_price, publish_time, trading: true }
}

/// Serialized sizes: a Full update (the receiver allocates one byte more, for Partial).
const FULL_LEN: usize = PriceUpdateV2::LEN - 1;
/// Through the EMA price in a Full update: the last byte `pull::parse` reads.
const FULL_READ_LEN: usize = 117;
/// The verification level's tag, after the discriminator and the write authority.
const LEVEL_AT: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Full,
    Partial(u8),
    /// Neither `VerificationLevel` tag (0 Partial, 1 Full): byte 40 set to it.
    Invalid(u8),
}

/// A `PriceUpdateV2` image: what the receiver writes, then cut, padded or corrupted.
#[derive(Debug, Clone, Copy)]
struct Pull {
    disc: [u8; 8],
    write_authority: [u8; 32],
    level: Level,
    message: PriceFeedMessage,
    posted_slot: u64,
    len: usize,
    fill: u8,
}

impl Pull {
    fn from_update(update: &PriceUpdateV2) -> Self {
        Pull {
            disc: PriceUpdateV2::DISCRIMINATOR.try_into().unwrap(),
            write_authority: update.write_authority.to_bytes(),
            level: match update.verification_level {
                VerificationLevel::Full => Level::Full,
                VerificationLevel::Partial { num_signatures } => Level::Partial(num_signatures),
            },
            message: update.price_message,
            posted_slot: update.posted_slot,
            len: PriceUpdateV2::LEN,
            fill: 0,
        }
    }

    /// Encoded by the receiver SDK's own serializer (the captures show it writes their bytes)
    /// into the 134 bytes the receiver allocates, then patched.
    fn image(&self) -> Vec<u8> {
        let verification_level = match self.level {
            Level::Partial(num_signatures) => VerificationLevel::Partial { num_signatures },
            Level::Full | Level::Invalid(_) => VerificationLevel::Full,
        };
        let update = PriceUpdateV2 {
            write_authority: Pubkey::new_from_array(self.write_authority),
            verification_level,
            price_message: self.message,
            posted_slot: self.posted_slot,
        };
        let mut d = Vec::new();
        update.try_serialize(&mut d).unwrap();
        d.resize(PriceUpdateV2::LEN, 0);
        if let Level::Invalid(tag) = self.level {
            d[LEVEL_AT] = tag;
        }
        d[..8].copy_from_slice(&self.disc);
        d.resize(self.len, self.fill);
        d
    }

    fn raw(&self) -> RawPrice {
        let m = &self.message;
        RawPrice {
            price: m.price,
            conf: m.conf,
            expo: m.exponent,
            ema_price: m.ema_price,
            publish_time: m.publish_time,
            trading: true,
        }
    }

    /// `try_deserialize` (discriminator, then Borsh), then `get_price_no_older_than` (level,
    /// then feed).
    fn pyth_expected(&self, feed: &[u8; 32]) -> Result<RawPrice, PullRefusal> {
        let anchor = |e: ErrorCode| Err(PullRefusal::Anchor(e.into()));
        if self.len < 8 {
            return anchor(ErrorCode::AccountDiscriminatorNotFound);
        }
        if self.disc != *PriceUpdateV2::DISCRIMINATOR {
            return anchor(ErrorCode::AccountDiscriminatorMismatch);
        }
        match self.level {
            Level::Invalid(_) => anchor(ErrorCode::AccountDidNotDeserialize),
            Level::Full if self.len < FULL_LEN => anchor(ErrorCode::AccountDidNotDeserialize),
            Level::Partial(_) if self.len < PriceUpdateV2::LEN => anchor(ErrorCode::AccountDidNotDeserialize),
            Level::Partial(_) => Err(PullRefusal::Sdk(GetPriceError::InsufficientVerificationLevel)),
            Level::Full if self.message.feed_id != *feed => {
                Err(PullRefusal::Sdk(GetPriceError::MismatchedFeedId))
            }
            Level::Full => Ok(self.raw()),
        }
    }

    /// Ours: length and discriminator, the level, the length read, the feed.
    fn ours_expected(&self, feed: &[u8; 32]) -> Result<RawPrice, OracleError> {
        if self.len <= LEVEL_AT || self.disc != *PriceUpdateV2::DISCRIMINATOR {
            return Err(OracleError::InvalidData);
        }
        match self.level {
            Level::Invalid(_) => Err(OracleError::InvalidData),
            Level::Partial(_) => Err(OracleError::PartialVerification),
            Level::Full if self.len < FULL_READ_LEN => Err(OracleError::InvalidData),
            Level::Full if self.message.feed_id != *feed => Err(OracleError::WrongFeed),
            Level::Full => Ok(self.raw()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum PullRefusal {
    /// An Anchor `ErrorCode` from `try_deserialize`.
    Anchor(u32),
    Sdk(GetPriceError),
}

/// The receiver SDK's reading of `data` for the reserve's `feed`, as a `RawPrice`.
fn pyth_pull(data: &[u8], feed: &[u8; 32]) -> Result<RawPrice, PullRefusal> {
    let update = PriceUpdateV2::try_deserialize(&mut &data[..]).map_err(|e| match e {
        anchor_lang::error::Error::AnchorError(e) => PullRefusal::Anchor(e.error_code_number),
        e => panic!("not an Anchor error: {e:?}"),
    })?;
    // Age is the reserve's limit, checked in `oracle::check`: the clock here makes any age pass.
    let clock = Clock { unix_timestamp: i64::MIN, ..Clock::default() };
    let price = update.get_price_no_older_than(&clock, 0, feed).map_err(PullRefusal::Sdk)?;
    Ok(RawPrice {
        price: price.price,
        conf: price.conf,
        expo: price.exponent,
        ema_price: update.price_message.ema_price,
        publish_time: price.publish_time,
        trading: true,
    })
}

fn ours_pull(data: &[u8], feed: &[u8; 32]) -> Result<RawPrice, OracleError> {
    pull::parse(&pull::PYTH_RECEIVER_PROGRAM_ID, data, feed)
}

/// The rows of the table a pull pair may be in; any other pair fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PullRow {
    Price,
    Undecodable,
    OtherFeed,
    Partial,
    /// A Partial update too short for the SDK: refused by both, for different reasons.
    PartialShort,
    /// A Full update of 117..=132 bytes: we read it (or find it of another feed), Anchor cannot.
    FullShort,
}

fn pull_row(
    pyth: &Result<RawPrice, PullRefusal>,
    ours: &Result<RawPrice, OracleError>,
    len: usize,
) -> PullRow {
    const NOT_FOUND: u32 = 3001;
    const MISMATCH: u32 = 3002;
    const NOT_DESERIALIZED: u32 = 3003;
    let short_full = (FULL_READ_LEN..FULL_LEN).contains(&len);
    match (pyth, ours) {
        (Ok(p), Ok(o)) => {
            assert_eq!(p, o);
            PullRow::Price
        }
        (
            Err(PullRefusal::Anchor(NOT_FOUND | MISMATCH | NOT_DESERIALIZED)),
            Err(OracleError::InvalidData),
        ) => PullRow::Undecodable,
        (Err(PullRefusal::Sdk(GetPriceError::MismatchedFeedId)), Err(OracleError::WrongFeed)) => {
            PullRow::OtherFeed
        }
        (
            Err(PullRefusal::Sdk(GetPriceError::InsufficientVerificationLevel)),
            Err(OracleError::PartialVerification),
        ) => PullRow::Partial,
        (Err(PullRefusal::Anchor(NOT_DESERIALIZED)), Err(OracleError::PartialVerification))
            if (LEVEL_AT + 1..PriceUpdateV2::LEN).contains(&len) =>
        {
            PullRow::PartialShort
        }
        (Err(PullRefusal::Anchor(NOT_DESERIALIZED)), Ok(_) | Err(OracleError::WrongFeed)) if short_full => {
            PullRow::FullShort
        }
        other => panic!("no rule for {other:?} at {len} bytes"),
    }
}

/// One image through the model, both decoders and the value rules; its row.
fn pull_case(fields: &Pull, feed: &[u8; 32]) -> PullRow {
    let image = fields.image();
    assert_eq!(image.len(), fields.len);
    let (pyth, ours) = (pyth_pull(&image, feed), ours_pull(&image, feed));
    assert_eq!(pyth, fields.pyth_expected(feed), "Pyth on {fields:?}");
    assert_eq!(ours, fields.ours_expected(feed), "ours on {fields:?}");
    if let Ok(raw) = &ours {
        assert_value_rules(raw);
    }
    pull_row(&pyth, &ours, fields.len)
}

/// Each capture as the SDK reads it, with its bytes and feed id.
fn pull_captures() -> Vec<(Pubkey, Vec<u8>, PriceUpdateV2)> {
    PULL_CAPTURES
        .iter()
        .map(|(file, _)| {
            let (_, owner, data) = fixture(file);
            (owner, data.clone(), PriceUpdateV2::try_deserialize(&mut &data[..]).unwrap())
        })
        .collect()
}

#[test]
fn pull_program_constants_are_the_receivers() {
    assert_eq!(*PriceUpdateV2::DISCRIMINATOR, pull::PRICE_UPDATE_V2_DISCRIMINATOR);
    assert_eq!(PriceUpdateV2::owner(), pull::PYTH_RECEIVER_PROGRAM_ID);
    assert_eq!(pyth_solana_receiver_sdk::ID, pull::PYTH_RECEIVER_PROGRAM_ID);
    assert_eq!(pyth_solana_receiver_sdk::PYTH_PUSH_ORACLE_ID, pull::PYTH_PUSH_ORACLE_PROGRAM_ID);
    assert_eq!(PriceUpdateV2::LEN, 134);
}

#[test]
fn pull_captures_read_the_same() {
    for ((owner, data, update), (file, want)) in pull_captures().iter().zip(PULL_CAPTURES) {
        assert_eq!(data.len(), PriceUpdateV2::LEN, "{file}");
        let fields = Pull::from_update(update);
        assert_eq!(fields.level, Level::Full, "{file}");
        assert_eq!(fields.image(), *data, "{file}: the SDK's encoder writes the capture back");
        let feed = update.price_message.feed_id;
        assert_eq!(pull_case(&fields, &feed), PullRow::Price, "{file}");
        assert_eq!(ours_pull(data, &feed), Ok(want), "{file}");
        // The owner: ours to check (`try_deserialize` reads any account's bytes).
        let ours = pull::parse(owner, data, &feed);
        if *owner == pull::PYTH_RECEIVER_PROGRAM_ID {
            assert_eq!(ours, Ok(want), "{file}");
        } else {
            assert_eq!(owner.to_string(), "G6EoTTTgpkNBtVXo96EQp2m6uwwVh2Kt6YidjkmQqoha");
            assert_eq!(ours, Err(OracleError::WrongOwner), "{file}");
            assert_eq!(pyth_pull(data, &feed), Ok(want), "{file}: the SDK takes the bytes");
        }
    }
}

#[test]
fn pull_partial_is_refused_where_pyth_would_read_it() {
    for (_, _, update) in pull_captures() {
        let feed = update.price_message.feed_id;
        for n in [0, 1, 5, 255] {
            let fields = Pull { level: Level::Partial(n), ..Pull::from_update(&update) };
            let image = fields.image();
            // One byte more: every field after the level is shifted by one, and the SDK reads it.
            assert_eq!(image.len(), PriceUpdateV2::LEN);
            let partial = PriceUpdateV2::try_deserialize(&mut &image[..]).unwrap();
            assert_eq!(partial.price_message, update.price_message);
            let unchecked = partial.get_price_unchecked(&feed).unwrap();
            assert_eq!(
                (unchecked.price, unchecked.conf),
                (update.price_message.price, update.price_message.conf)
            );
            assert_eq!(pull_case(&fields, &feed), PullRow::Partial);
            // The level before the feed, in both.
            assert_eq!(pull_case(&fields, &[0; 32]), PullRow::Partial);
        }
        // A Full update with its level byte zeroed reads as a (shifted) Partial one to both.
        let mut image = Pull::from_update(&update).image();
        image[LEVEL_AT] = 0;
        assert_eq!(
            pyth_pull(&image, &feed),
            Err(PullRefusal::Sdk(GetPriceError::InsufficientVerificationLevel))
        );
        assert_eq!(ours_pull(&image, &feed), Err(OracleError::PartialVerification));
    }
}

#[test]
fn pull_every_length() {
    for (_, _, update) in pull_captures() {
        let feed = update.price_message.feed_id;
        let mut other = feed;
        other[31] ^= 1;
        for level in [Level::Full, Level::Partial(3), Level::Invalid(2)] {
            for len in 0..=PriceUpdateV2::LEN + 66 {
                let fields = Pull { level, len, fill: 0xa5, ..Pull::from_update(&update) };
                let row = pull_case(&fields, &feed);
                let want = match level {
                    _ if len <= LEVEL_AT => PullRow::Undecodable,
                    Level::Full if len < FULL_READ_LEN => PullRow::Undecodable,
                    Level::Full if len < FULL_LEN => PullRow::FullShort,
                    Level::Full => PullRow::Price,
                    Level::Partial(_) if len < PriceUpdateV2::LEN => PullRow::PartialShort,
                    Level::Partial(_) => PullRow::Partial,
                    Level::Invalid(_) => PullRow::Undecodable,
                };
                assert_eq!(row, want, "{level:?} at {len} bytes");
                let row = pull_case(&fields, &other);
                let want = match want {
                    PullRow::Price => PullRow::OtherFeed,
                    w => w,
                };
                assert_eq!(row, want, "{level:?} at {len} bytes, other feed");
            }
        }
    }
}

#[test]
fn pull_discriminator_and_level_byte() {
    for (_, _, update) in pull_captures() {
        let feed = update.price_message.feed_id;
        let base = Pull::from_update(&update);
        for bit in 0..64 {
            let mut disc = base.disc;
            disc[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(pull_case(&Pull { disc, ..base }, &feed), PullRow::Undecodable);
        }
        // The Anchor discriminator of another account type of the receiver.
        let twap = pyth_solana_receiver_sdk::price_update::TwapUpdate::DISCRIMINATOR.try_into().unwrap();
        assert_eq!(pull_case(&Pull { disc: twap, ..base }, &feed), PullRow::Undecodable);
        for tag in 2..=255 {
            assert_eq!(pull_case(&Pull { level: Level::Invalid(tag), ..base }, &feed), PullRow::Undecodable);
        }
    }
}

#[test]
fn pull_random_images() {
    let bases: Vec<Pull> = pull_captures().iter().map(|(_, _, u)| Pull::from_update(u)).collect();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut rows = BTreeMap::new();
    for _ in 0..4000 {
        let base = bases[rng.below(bases.len() as u64) as usize];
        let feed = base.message.feed_id;
        let mut fields = base;
        fields.level = match rng.below(6) {
            0 => Level::Partial(rng.next() as u8),
            1 => Level::Invalid(2 + rng.below(254) as u8),
            _ => Level::Full,
        };
        let m = &mut fields.message;
        m.price = rng.i64(&PRICES);
        m.conf = rng.u64();
        m.exponent = rng.expo();
        m.publish_time = rng.i64(&TIMES);
        m.prev_publish_time = rng.i64(&TIMES);
        m.ema_price = rng.i64(&PRICES);
        m.ema_conf = rng.u64();
        if rng.one_in(6) {
            m.feed_id[rng.below(32) as usize] ^= 1 << rng.below(8);
        }
        fields.posted_slot = rng.next();
        fields.write_authority = std::array::from_fn(|_| rng.next() as u8);
        if rng.one_in(10) {
            fields.disc[rng.below(8) as usize] ^= 1 << rng.below(8);
        }
        fields.len = match rng.below(8) {
            0 => rng.below(PriceUpdateV2::LEN as u64) as usize,
            1 => FULL_READ_LEN + rng.below((PriceUpdateV2::LEN - FULL_READ_LEN) as u64) as usize,
            2 => PriceUpdateV2::LEN + 1 + rng.below(200) as usize,
            _ => PriceUpdateV2::LEN,
        };
        fields.fill = rng.next() as u8;
        *rows.entry(pull_case(&fields, &feed)).or_insert(0) += 1;
    }
    for row in [
        PullRow::Price,
        PullRow::Undecodable,
        PullRow::OtherFeed,
        PullRow::Partial,
        PullRow::PartialShort,
        PullRow::FullShort,
    ] {
        assert!(rows.get(&row).copied().unwrap_or(0) >= 30, "{row:?} too rare: {rows:?}");
    }
}
