//! `ts-fixtures`: what the Rust SDK and the program compute for fixed inputs, as JSON, for the
//! TypeScript client's tests (`app/ts/test`): PDAs, account sizes, error names, a lookup table's
//! bytes, the compute-budget instructions, a `health` view's return data, and the token, system
//! and associated token programs' errors in words. The TypeScript client must agree with each
//! (`scripts/test.sh` writes the file, then runs those tests).
use anchor_lang::prelude::Pubkey;
use anchor_lang::AnchorSerialize;
use ballast::instructions::{HealthReport, SlotReport};
use ballast::state::{Position, Reserve};
use ballast_sdk::{errors, pda, tx};
use serde_json::json;

fn key(n: u8) -> Pubkey {
    Pubkey::new_from_array([n; 32])
}

/// A mainnet oracle account from `tests/fixtures/mainnet` and the price the program's own
/// parser reads from it.
fn oracle_fixture(file: &str, source: u8) -> serde_json::Value {
    use ballast::oracle::{legacy, pull};
    use base64::Engine;
    let path = format!("{}/../../tests/fixtures/mainnet/{file}", env!("CARGO_MANIFEST_DIR"));
    let fixture: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let data_base64 = fixture["account"]["data"][0].as_str().unwrap().to_string();
    let data = base64::engine::general_purpose::STANDARD.decode(&data_base64).unwrap();
    let raw = if source == 1 {
        legacy::parse(&legacy::PYTH_ORACLE_PROGRAM_ID, &data)
    } else {
        // The feed id follows the verification level (2 bytes when Partial, 1 when Full).
        let feed_at = if data[40] == 0 { 42 } else { 41 };
        let feed_id: [u8; 32] = data[feed_at..feed_at + 32].try_into().unwrap();
        pull::parse(&pull::PYTH_RECEIVER_PROGRAM_ID, &data, &feed_id)
    }
    .unwrap_or_else(|e| panic!("{file}: {e:?}"));
    json!({
        "file": file, "source": source, "data_base64": data_base64,
        "price": raw.price, "conf": raw.conf, "expo": raw.expo, "publish_time": raw.publish_time,
    })
}

fn main() {
    use base64::Engine;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let (creator, mint, owner) = (key(1), key(2), key(3));
    let market = pda::market(&creator, 7);
    let reserve = pda::reserve(&market, &mint);

    // A lookup table as the runtime stores it: the market's, with the authority at offset 22.
    let addresses = vec![market, reserve, mint];
    let table = {
        use solana_address_lookup_table_interface::state::{AddressLookupTable, LookupTableMeta};
        let meta = LookupTableMeta { authority: Some(creator), ..LookupTableMeta::default() };
        AddressLookupTable { meta, addresses: addresses.clone().into() }.serialize_for_tests().unwrap()
    };

    // A health view's return data: one collateral at $100 (expo -8), one debt.
    let report = HealthReport {
        init_collateral: 750 * ballast_risk::fixed::WAD,
        init_debt: 600 * ballast_risk::fixed::WAD,
        maint_collateral: 800 * ballast_risk::fixed::WAD,
        maint_debt: 600 * ballast_risk::fixed::WAD,
        collateral_value: 1_000 * ballast_risk::fixed::WAD,
        debt_value: 600 * ballast_risk::fixed::WAD,
        health_factor: Some(1_333_333_333),
        leverage: Some(2_500_000_000),
        liquidatable: false,
        stressed_init_collateral: 700 * ballast_risk::fixed::WAD,
        passes_initial: true,
        slots: vec![
            SlotReport {
                reserve: key(10),
                deposit_amount: 10_000_000_000,
                debt_amount: 0,
                price: 10_000_000_000,
                band: 1_000_000,
                expo: -8,
                age_secs: 3,
                ema_divergence_bps: 12,
                liquidation_price: Some(7_500_000_000),
            },
            SlotReport {
                reserve: key(11),
                deposit_amount: 0,
                debt_amount: 600_000_001,
                price: 100_000_000,
                band: 0,
                expo: -8,
                age_secs: 3,
                ema_divergence_bps: 0,
                liquidation_price: None,
            },
        ],
    };
    let mut report_bytes = Vec::new();
    report.serialize(&mut report_bytes).unwrap();

    let budget = tx::compute_budget(200_000, 1_000);
    let oracles = [
        ("pyth_legacy_BONKUSD_mainnet_drift.json", 1u8),
        ("pyth_v2_SOLUSD_mainnet_drift.json", 2),
        ("pyth_v2_TSLAX_xstock_mainnet_Blinds.json", 2),
    ]
    .map(|(file, source)| oracle_fixture(file, source));
    // The legacy capture halted (status 2), its last trading aggregate set apart from the
    // aggregate: the program reads the last trading price (issue 24 item 4).
    let halted_legacy = {
        use base64::Engine;
        let mut o = oracle_fixture("pyth_legacy_BONKUSD_mainnet_drift.json", 1);
        let mut data =
            base64::engine::general_purpose::STANDARD.decode(o["data_base64"].as_str().unwrap()).unwrap();
        data[184..192].copy_from_slice(&140_001i64.to_le_bytes());
        data[192..200].copy_from_slice(&333u64.to_le_bytes());
        data[200..208].copy_from_slice(&1_702_120_001i64.to_le_bytes());
        data[224..228].copy_from_slice(&2u32.to_le_bytes());
        let raw =
            ballast::oracle::legacy::parse(&ballast::oracle::legacy::PYTH_ORACLE_PROGRAM_ID, &data).unwrap();
        assert!(!raw.trading);
        o["data_base64"] = json!(b64(&data));
        o["price"] = json!(raw.price);
        o["conf"] = json!(raw.conf);
        o["publish_time"] = json!(raw.publish_time);
        o["file"] = json!("pyth_legacy_BONKUSD_mainnet_drift.json, halted");
        o
    };
    let codes = [6000u32, 6010, 6029];
    // Every code the SDK puts in words for the programs a Ballast transaction calls (the TS
    // client keeps the same table and is held to it code by code), and Anchor's own codes.
    let programs = [
        errors::TOKEN_PROGRAM,
        errors::TOKEN_2022_PROGRAM,
        errors::SYSTEM_PROGRAM,
        errors::ASSOCIATED_TOKEN_PROGRAM,
        ballast::ID,
    ];
    let program_errors: Vec<serde_json::Value> = programs
        .iter()
        .map(|p| {
            json!({
                "program": p.to_string(),
                "name": errors::program_name(p),
                "codes": (0u32..100).map(|c| errors::describe_program_error(p, c)).collect::<Vec<_>>(),
            })
        })
        .collect();
    // The xStocks' mints as mainnet holds them, and the symbol their TokenMetadata names.
    let mint_symbols: Vec<serde_json::Value> = ["AAPLx", "NFLXx", "NVDAx", "SPYx"]
        .iter()
        .map(|name| {
            let path = format!(
                "{}/../../tests/fixtures/mainnet/xstock_{name}_mint_mainnet.json",
                env!("CARGO_MANIFEST_DIR")
            );
            let fixture: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            let data_base64 = fixture["dataBase64"].as_str().unwrap().to_string();
            let data = base64::engine::general_purpose::STANDARD.decode(&data_base64).unwrap();
            json!({ "data_base64": data_base64, "symbol": ballast_sdk::token::token_2022_symbol(&data) })
        })
        .collect();
    let framework_errors: Vec<serde_json::Value> = (100u32..6000)
        .filter_map(|c| Some(json!({ "code": c, "description": errors::describe(c)? })))
        .collect();
    let fixtures = json!({
        "program": ballast::ID.to_string(),
        "pdas": {
            "market": { "creator": creator.to_string(), "market_id": 7, "address": market.to_string() },
            "reserve": { "market": market.to_string(), "mint": mint.to_string(), "address": reserve.to_string() },
            "vault": { "reserve": reserve.to_string(), "address": pda::vault(&reserve).to_string() },
            "insurance_vault": { "reserve": reserve.to_string(), "address": pda::insurance_vault(&reserve).to_string() },
            "position": {
                "market": market.to_string(), "owner": owner.to_string(), "index": 3,
                "address": pda::position(&market, &owner, 3).to_string(),
            },
        },
        "sizes": {
            "reserve": 8 + core::mem::size_of::<Reserve>(),
            "position": 8 + core::mem::size_of::<Position>(),
        },
        "program_errors": program_errors,
        "mint_symbols": mint_symbols,
        "framework_errors": framework_errors,
        "errors": codes.iter().map(|&c| json!({ "code": c, "description": errors::describe(c) })).collect::<Vec<_>>(),
        "lookup_table": {
            "data_base64": b64(&table),
            "authority": creator.to_string(),
            "authority_offset": tx::LOOKUP_TABLE_AUTHORITY_OFFSET,
            "addresses": addresses.iter().map(Pubkey::to_string).collect::<Vec<_>>(),
        },
        "compute_budget": budget.iter().map(|i| json!({ "program": i.program_id.to_string(), "data_base64": b64(&i.data) })).collect::<Vec<_>>(),
        "oracles": oracles,
        "halted_legacy": halted_legacy,
        "health_report": {
            "data_base64": b64(&report_bytes),
            "health_factor": 1.333333333,
            "leverage": 2.5,
            "collateral_usd": 1000.0,
            "debt_usd": 600.0,
            "liquidation_price_of_slot_0": 75.0,
            "stressed_init_collateral_usd": 700.0,
            "passes_initial": true,
        },
    });
    println!("{}", serde_json::to_string_pretty(&fixtures).unwrap());
}
