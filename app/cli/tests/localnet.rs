//! End to end on a real `solana-test-validator` over JSON-RPC: the CLI bootstraps a market
//! (crypto, stablecoin, Token-2022 stock), two wallets deposit and borrow through the CLI, the
//! price drops, and the keeper process finds and partially liquidates the unhealthy position,
//! leaves the healthy one alone and fills the insurance pool; the CLI shows the new health.
//!
//! Needs `target/deploy/*.so` (scripts/build-sbf.sh) and the validator
//! (scripts/localnet/install-validator.sh, cached after the first ~30 min build); both are done
//! by `scripts/test.sh`. The validator and the keeper are stopped however the test ends.
mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

#[test]
fn keeper_liquidates_the_unhealthy_position_on_a_real_validator() {
    let dir = root().join(format!("target/localnet-e2e/{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let validator = Validator::start(&dir);
    let mut w = Wallets { url: validator.url.clone(), dir: dir.clone(), market: None };

    let mut pubkeys = std::collections::HashMap::new();
    for who in ["admin", "alice", "bob", "keeper"] {
        let made = w.cli(who, &["keygen", &w.keypair(who)]);
        pubkeys.insert(who, made["pubkey"].as_str().unwrap().to_string());
        w.cli(who, &["airdrop", "10"]);
    }

    // The market, from the migrations file; a second run sends nothing.
    let config = root().join("migrations/localnet.toml");
    let report = w.cli("admin", &["market", "bootstrap", "--config", config.to_str().unwrap()]);
    assert_eq!(report["reserves"].as_array().unwrap().len(), 3);
    let again = w.cli("admin", &["market", "bootstrap", "--config", config.to_str().unwrap()]);
    assert_eq!(again["transactions"], 0, "bootstrap is idempotent: {again}");
    w.market = Some(report["market"].as_str().unwrap().to_string());
    let mint = |name: &str| {
        report["reserves"].as_array().unwrap().iter().find(|r| r["name"] == name).unwrap()["mint"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (sol, usdc, tsla) = (mint("SOL"), mint("USDC"), mint("TSLAx"));

    // Tokens: the admin is the localnet mint authority.
    let pubkey = |who: &str| pubkeys[who].clone();
    w.cli("admin", &["token", "mint", &sol, "10", "--to", &pubkey("alice")]);
    w.cli("admin", &["token", "mint", &tsla, "10", "--to", &pubkey("bob")]);
    w.cli("admin", &["token", "mint", &usdc, "10000", "--to", &pubkey("admin")]);
    w.cli("admin", &["token", "mint", &usdc, "2000", "--to", &pubkey("keeper")]);

    // A lender, and two borrowers: alice on SOL (crypto), bob on TSLAx (Token-2022 stock).
    w.post_prices(100.0, 1.0, 250.0);
    for who in ["admin", "alice", "bob"] {
        w.cli(who, &["position", "open"]);
    }
    w.cli("admin", &["deposit", &usdc, "10000"]);
    w.cli("alice", &["deposit", &sol, "10"]);
    w.cli("bob", &["deposit", &tsla, "10"]);
    // Fresh prices for the borrows (the lag band allows 20 s; a loaded machine takes that).
    w.post_prices(100.0, 1.0, 250.0);
    w.cli("alice", &["borrow", &usdc, "600"]); // $1000 × 0.667 allows 666
    w.cli("bob", &["borrow", &usdc, "500"]); // $2500 × 0.5 allows 1250
    let refused = w.try_cli("alice", &["borrow", &usdc, "100"]);
    let error = refused["error"].as_str().unwrap_or_default();
    assert!(error.contains("InsufficientCollateral"), "a named error in words: {refused}");

    // A market pause stops deposits by name; repay stays open; the admin resumes.
    w.cli("admin", &["admin", "pause"]);
    let paused = w.try_cli("alice", &["deposit", &usdc, "1"]);
    assert!(paused["error"].as_str().unwrap_or_default().contains("MarketPaused"), "{paused}");
    w.cli("alice", &["repay", &usdc, "1"]);
    w.cli("admin", &["admin", "resume"]);

    let before = w.cli("alice", &["position", "show"]);
    assert_eq!(before["liquidatable"], false);
    let bob_before = w.cli("bob", &["position", "show"]);

    // The keeper runs as its own process.
    let metrics_port = free_ports();
    let keeper_log = std::fs::File::create(dir.join("keeper.log")).unwrap();
    let _keeper = Process(
        Command::new(env!("CARGO_BIN_EXE_ballast-keeper"))
            .args(["-u", &w.url, "-k", &w.keypair("keeper"), "--market", w.market.as_deref().unwrap()])
            .args(["--interval-ms", "300", "--metrics-addr", &format!("127.0.0.1:{metrics_port}")])
            .stdout(Stdio::null())
            .stderr(keeper_log)
            .spawn()
            .expect("start the keeper"),
    );

    // SOL falls from $100 to $74: 10 × 74 × 0.8 = 592 < 600.
    w.post_prices(74.0, 1.0, 250.0);
    let started = Instant::now();
    let after = loop {
        let a = w.cli("alice", &["position", "show"]);
        let debt = a["debt_usd"].as_f64().unwrap();
        if debt < 590.0 {
            break a;
        }
        assert!(started.elapsed() < Duration::from_secs(45), "the keeper did not liquidate within 45 s: {a}");
        std::thread::sleep(Duration::from_millis(300));
    };
    let first_latency = started.elapsed();
    eprintln!("liquidated after {first_latency:?}");
    // Partially: the debt fell to what restores the target health (1.05), not to zero.
    let debt = after["debt_usd"].as_f64().unwrap();
    assert!(debt > 350.0 && debt < 500.0, "partial liquidation: debt {debt}");
    let hf = after["health_factor"].as_f64().unwrap();
    assert!(hf > 1.0 && hf <= 1.0501, "health restored to the target: {hf}");
    assert_eq!(after["liquidatable"], false);

    // Give the keeper a few more scans: it must leave both positions alone now.
    std::thread::sleep(Duration::from_secs(2));
    // (Interest keeps accruing: debts may only grow.)
    let settled = w.cli("alice", &["position", "show"]);
    let grew = |a: &Value, b: &Value, k: &str| a[k].as_f64().unwrap() >= b[k].as_f64().unwrap();
    assert!(grew(&settled, &after, "debt_usd"), "no second liquidation of a healthy position: {settled}");
    let bob_after = w.cli("bob", &["position", "show"]);
    assert!(grew(&bob_after, &bob_before, "debt_usd"), "bob's debt untouched: {bob_after}");
    for (a, b) in bob_after["slots"].as_array().unwrap().iter().zip(bob_before["slots"].as_array().unwrap()) {
        assert_eq!(a["deposit"], b["deposit"], "bob's collateral untouched");
    }

    // The SOL insurance pool holds the liquidation fee.
    let reserve = w.cli("admin", &["reserve", "show", &sol]);
    assert!(reserve["pool_balance"].as_u64().unwrap() > 0, "the insurance pool grew: {reserve}");
    assert!(reserve["pool_target"].as_u64().unwrap() > 0);

    let m = http_get(metrics_port, "/metrics");
    assert!(metric(&m, "ballast_keeper_liquidations_landed_total") >= 1, "{m}");
    let health = http_get(metrics_port, "/health");
    assert!(health.starts_with("HTTP/1.1 200") && health.contains("last successful scan"), "{health}");
    assert!(metric(&m, "ballast_keeper_positions_scanned_total") >= 3, "{m}");
    assert_eq!(metric(&m, "ballast_keeper_liquidations_failed_total"), 0, "{m}");
    // It follows the market over the websocket (a full load only at start and every 30 s),
    // and reports its balance of the repay token.
    assert_eq!(metric(&m, "ballast_keeper_websocket_connected"), 1, "{m}");
    assert!(metric(&m, "ballast_keeper_updates_received_total") >= 1, "{m}");
    let repay_balance = metric(&m, &format!("ballast_keeper_repay_balance{{mint=\"{usdc}\"}}"));
    assert_eq!(repay_balance, 2_000_000_000, "2,000 USDC, read before it repaid: {m}");

    // Price update → liquidation latency: four more drops of SOL, each making alice's position
    // liquidatable again; timed from the confirmed price update to the CLI seeing the debt fall.
    let mut latencies = vec![first_latency];
    let mut debt = w.cli("alice", &["position", "show"])["debt_usd"].as_f64().unwrap();
    for sol_price in [70.0, 66.0, 62.0, 58.0] {
        w.post_prices(sol_price, 1.0, 250.0);
        let started = Instant::now();
        debt = loop {
            let now = w.cli("alice", &["position", "show"])["debt_usd"].as_f64().unwrap();
            if now < debt - 5.0 {
                break now;
            }
            assert!(started.elapsed() < Duration::from_secs(45), "no liquidation at SOL ${sol_price}");
            std::thread::sleep(Duration::from_millis(100));
        };
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let ms: Vec<u128> = latencies.iter().map(|d| d.as_millis()).collect();
    let line = format!("price update -> liquidation seen, ms (sorted): {ms:?}; median {}", ms[ms.len() / 2]);
    eprintln!("{line}");
    std::fs::write(dir.join("../keeper-latency.txt"), format!("{line}\n")).unwrap();
    let m = http_get(metrics_port, "/metrics");
    assert!(
        metric(&m, "ballast_keeper_scans_total") > metric(&m, "ballast_keeper_full_loads_total"),
        "scans woken by the websocket without a full load: {m}"
    );
    let repay_balance = metric(&m, &format!("ballast_keeper_repay_balance{{mint=\"{usdc}\"}}"));
    assert!(repay_balance < 2_000_000_000, "read again before each later liquidation: {m}");

    a_new_user_gets_answers_it_can_act_on(&w, &sol);
    reserves_show_the_symbols_of_the_solana_cli_config(&w, &usdc);
    a_new_users_first_hour(&w, &pubkeys["admin"]);
    sixteen_slot_position_is_liquidated_by_the_keeper(&mut w, &pubkeys["keeper"], &dir);
}

/// Issue 12 item 5: what a new wallet meets when it gets the order wrong, and the words it gets.
fn a_new_user_gets_answers_it_can_act_on(w: &Wallets, sol: &str) {
    let dave = w.cli("dave", &["keygen", &w.keypair("dave")])["pubkey"].as_str().unwrap().to_string();
    w.cli("dave", &["airdrop", "1"]);
    let error = |out: Value| out["error"].as_str().unwrap_or_default().to_string();
    // No token account yet: named, with the balance.
    let e = error(w.try_cli("dave", &["deposit", sol, "1"]));
    assert!(e.contains("has no token account of SOL") && e.contains("balance 0"), "{e}");
    // No position: said so, and how to get one.
    let e = error(w.try_cli("dave", &["withdraw", sol, "1"]));
    assert!(e.contains("has no position 0") && e.contains("a deposit opens one"), "{e}");
    // More than the wallet holds.
    w.cli("admin", &["token", "mint", sol, "2", "--to", &dave]);
    let e = error(w.try_cli("dave", &["deposit", sol, "5"]));
    assert!(e.contains("holds 2") && e.contains("less than 5"), "{e}");
    // `--simulate` reports and sends nothing (the position is not opened yet either).
    let simulated = w.cli("dave", &["deposit", sol, "1", "--simulate"]);
    assert!(
        simulated["compute_units"].as_u64().unwrap() > 0
            && simulated["fee_lamports"].as_u64().unwrap() >= 5_000
    );
    let e = error(w.try_cli("dave", &["withdraw", sol, "1"]));
    assert!(e.contains("has no position 0"), "nothing was sent: {e}");
    // The first deposit opens the position in the same transaction.
    w.cli("dave", &["deposit", sol, "1"]);
    // Withdrawing more than the position holds, without debt: the program's own answer (no
    // price is looked up, none is needed).
    // The program's last log lines come with its refusal.
    let e = error(w.try_cli("dave", &["withdraw", sol, "3"]));
    assert!(e.contains("InsufficientDeposit") && e.contains("program log:"), "{e}");
    // By the name the localnet bootstrap made the mint under, as well as by mint.
    w.cli("dave", &["withdraw", "SOL", "1"]);
    let e = error(w.try_cli("dave", &["withdraw", "DOGE", "1"]));
    assert!(e.contains("DOGE is not a symbol, mint or reserve"), "{e}");
}

/// Issue 25: a new user's first hour, each answer in words and each view what the program does.
fn a_new_users_first_hour(w: &Wallets, admin: &str) {
    let error = |out: Value| out["error"].as_str().unwrap_or_default().to_string();
    let market = w.market.clone().unwrap();

    // Item 3: keygen never replaces a key unless told to.
    let erin = w.cli("erin", &["keygen", &w.keypair("erin")])["pubkey"].as_str().unwrap().to_string();
    let kept = std::fs::read(w.keypair("erin")).unwrap();
    let e = error(w.try_cli("erin", &["keygen", &w.keypair("erin")]));
    assert!(e.contains("refusing to overwrite") && e.contains(&erin) && e.contains("--force"), "{e}");
    assert_eq!(std::fs::read(w.keypair("erin")).unwrap(), kept, "the key file is untouched");
    let spare = w.keypair("spare");
    let first = w.cli("erin", &["keygen", &spare])["pubkey"].as_str().unwrap().to_string();
    let second = w.cli("erin", &["keygen", &spare, "--force"])["pubkey"].as_str().unwrap().to_string();
    assert_ne!(first, second, "--force replaces the key");

    // Item 9: a negative airdrop and a URL that is not one are refused in words.
    let e = error(w.try_cli("erin", &["airdrop", "-1"]));
    assert!(e.contains("give a positive number of SOL"), "{e}");
    let out = Command::new(env!("CARGO_BIN_EXE_ballast"))
        .args(["-u", "notaurl", "--output", "json", "--market", &market, "market", "show"])
        .output()
        .expect("run ballast");
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("`notaurl` is not an RPC URL"), "{text}");
    w.cli("erin", &["airdrop", "2"]);

    // Item 9: reading needs no keypair file ("nobody" has none).
    assert!(!Path::new(&w.keypair("nobody")).exists());
    let market_shown = w.cli("nobody", &["market", "show"]);
    assert_eq!(market_shown["admin"], admin, "{market_shown}");
    // Item 4: the bootstrap's Token-2022 mints carry their names (no CLI config here).
    let listed = w.cli("nobody", &["reserve", "list"]);
    let mut symbols: Vec<&str> =
        listed["reserves"].as_array().unwrap().iter().map(|r| r["symbol"].as_str().unwrap_or("-")).collect();
    symbols.sort();
    assert_eq!(symbols, ["SOL", "TSLAx", "USDC"], "{listed}");
    w.cli("nobody", &["position", "show", "--owner", admin]);
    let shown = w.cli("nobody", &["reserve", "show", "usdc"]);
    assert!(shown["total_deposits"].as_u64().unwrap() > 0, "the view simulated without a wallet: {shown}");

    // Item 6: a wrong market is named for what it is, by every command, with a failing exit.
    for args in [&["market", "show"][..], &["reserve", "list"], &["position", "show", "--owner", admin]] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ballast"));
        cmd.args(["-u", &w.url, "-k", &w.keypair("nobody"), "--output", "json", "--market", admin]);
        let out = cmd.args(args).output().expect("run ballast");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{args:?}: {text}");
        assert!(text.contains(&format!("{admin} is not a Ballast market (owner")), "{args:?}: {text}");
    }

    // Item 9: an empty position neither has an infinite health nor "can borrow more".
    w.cli("erin", &["position", "open"]);
    let empty = w.cli("erin", &["position", "show"]);
    let said = empty["display"].as_str().unwrap_or_default();
    assert!(said.contains("no debt") && !said.contains('∞'), "{said}");
    assert_eq!(empty["can_borrow_more"], false, "{empty}");
    assert!(empty["borrow"].as_str().unwrap().contains("nothing deposited"), "{empty}");

    // Item 4 and 5: symbols in any case where a mint is taken; `deposit all` is the balance.
    w.cli("admin", &["token", "mint", "sol", "10", "--to", &erin]);
    let held = w.cli("erin", &["token", "balance", "Sol"]);
    assert_eq!(held["amount"], 10_000_000_000u64, "{held}");
    let deposited = w.cli("erin", &["deposit", "SOL", "all"]);
    assert_eq!(deposited["amount"], 10_000_000_000u64, "{deposited}");
    assert_eq!(deposited["symbol"], "SOL");
    assert_eq!(w.cli("erin", &["token", "balance", "sol"])["amount"], 0);

    // Item 1: with no price posted for longer than the lag band allows, the view says the
    // borrow is refused, and the program refuses it by the same name.
    let (refusal, waited) = {
        let started = Instant::now();
        loop {
            let view = w.cli("erin", &["position", "show"]);
            if view["can_borrow_more"] == false {
                let usdc = limit_of(&view, "USDC");
                break (usdc["borrow_refusal"].as_str().unwrap().to_string(), started.elapsed());
            }
            assert!(started.elapsed() < Duration::from_secs(60), "prices never went stale: {view}");
            std::thread::sleep(Duration::from_secs(1));
        }
    };
    eprintln!("borrowing closed {waited:?} into the wait: {refusal}");
    let name = refusal.split(':').next().unwrap();
    let e = error(w.try_cli("erin", &["borrow", "USDC", "1"]));
    assert!(e.contains(name), "the view said {refusal}; the program: {e}");
    let debt_usd = |who: &str| w.cli(who, &["position", "show"])["debt_usd"].as_f64().unwrap();
    assert_eq!(debt_usd("erin"), 0.0, "the refused borrow left no debt");

    // The publisher keeps the feeds fresh: long after the lag band would have closed, the view
    // says how much can be borrowed, and the program agrees on both sides of that figure.
    let log = std::fs::File::create(w.dir.join("publisher.log")).unwrap();
    let _publisher = Process(
        Command::new(env!("CARGO_BIN_EXE_ballast"))
            .args(["-u", &w.url, "-k", &w.keypair("admin"), "--market", &market, "oracle", "publish"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start the publisher"),
    );
    std::thread::sleep(Duration::from_secs(30));
    let view = w.cli("erin", &["position", "show"]);
    assert_eq!(view["can_borrow_more"], true, "{view}");
    assert!(view["borrow"].as_str().unwrap().contains("USDC"), "{view}");
    let max = limit_of(&view, "USDC")["max_borrow"].as_u64().unwrap();
    // 10 SOL at $58, 0.667 of it for initial health: ~386 USDC.
    assert!(max > 300_000_000 && max < 400_000_000, "{view}");
    let units = |x: u64| format!("{}.{:06}", x / 1_000_000, x % 1_000_000);
    let e = error(w.try_cli("erin", &["borrow", "USDC", &units(max + max / 33)]));
    assert!(e.contains("InsufficientCollateral"), "3 % over the view's figure: {e}");
    assert_eq!(debt_usd("erin"), 0.0, "the refused borrow left no debt");
    w.cli("erin", &["borrow", "USDC", &units(max - max / 50)]);
    let after = w.cli("erin", &["position", "show"]);
    let left = limit_of(&after, "USDC")["max_borrow"].as_u64().unwrap();
    assert!(left < max / 25, "the figure fell by what was borrowed: {after}");
    let sol = limit_of(&after, "SOL");
    assert!(sol["max_withdraw"].as_u64().unwrap() < 1_000_000_000, "little collateral to spare: {after}");

    // Item 2: `repay all` with exactly what was borrowed, once interest has accrued: short, and
    // by how much, before anything is sent.
    std::thread::sleep(Duration::from_secs(2));
    let e = error(w.try_cli("erin", &["repay", "usdc", "all"]));
    assert!(e.contains("owes") && e.contains("holds") && e.contains("short by") && e.contains("USDC"), "{e}");
    let usdc_held = w.cli("erin", &["token", "balance", "USDC"])["amount"].as_u64().unwrap();
    assert_eq!(usdc_held, max - max / 50, "nothing was sent: the wallet still holds what it borrowed");
    w.cli("admin", &["token", "mint", "USDC", "1", "--to", &erin]);
    w.cli("erin", &["repay", "usdc", "all"]);
    let repaid = w.cli("erin", &["position", "show"]);
    assert_eq!(repaid["debt_usd"], 0.0, "{repaid}");
    assert!(repaid["display"].as_str().unwrap().contains("no debt"), "{repaid}");
}

/// One asset's entry of `position show`'s limits, by symbol.
fn limit_of<'a>(view: &'a Value, symbol: &str) -> &'a Value {
    view["limits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["symbol"] == symbol)
        .unwrap_or_else(|| panic!("{view}"))
}

/// Reserves are shown by symbol where one is known: here from the Solana CLI config's address
/// labels (read by the Solana CLI's crate from `$HOME/.config/solana/cli/config.yml`).
fn reserves_show_the_symbols_of_the_solana_cli_config(w: &Wallets, usdc: &str) {
    let home = w.dir.join("home");
    std::fs::create_dir_all(home.join(".config/solana/cli")).unwrap();
    let config = format!(
        "---\njson_rpc_url: {}\nwebsocket_url: ''\nkeypair_path: {}\naddress_labels:\n  {usdc}: USDC\ncommitment: confirmed\n",
        w.url,
        w.keypair("admin")
    );
    std::fs::write(home.join(".config/solana/cli/config.yml"), config).unwrap();
    // No -u, no -k: both come from the config.
    let out = Command::new(env!("CARGO_BIN_EXE_ballast"))
        .args(["--output", "json", "--market", w.market.as_deref().unwrap(), "reserve", "list"])
        .env("HOME", &home)
        .output()
        .expect("run ballast");
    let listed: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let usdc_entry = listed["reserves"].as_array().unwrap().iter().find(|r| r["mint"] == usdc).unwrap();
    assert_eq!(usdc_entry["symbol"], "USDC", "{listed}");
    let out = Command::new(env!("CARGO_BIN_EXE_ballast"))
        .args(["--market", w.market.as_deref().unwrap(), "reserve", "show", "usdc"])
        .env("HOME", &home)
        .output()
        .expect("run ballast");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains(&format!("(USDC, mint {usdc})")),
        "{shown}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issue 12: a position of 16 slots (one debt, fifteen collaterals) borrows through the CLI and
/// is liquidated by the keeper, both in v0 transactions with the market's lookup table (without
/// it the liquidation takes ~1,700 bytes; the validator refuses anything over 1,232), and the
/// keeper reports the compute-unit price it paid.
fn sixteen_slot_position_is_liquidated_by_the_keeper(w: &mut Wallets, keeper: &str, dir: &Path) {
    let names: Vec<String> = (0..16).map(|i| format!("A{i:02}")).collect();
    let feed = |i: usize| hex(0x10 + i as u8);
    let mut file = String::from("[market]\nid = 2\ntimelock_secs = 0\n");
    for (i, name) in names.iter().enumerate() {
        file.push_str(&format!(
            "\n[[reserve]]\nname = \"{name}\"\ncreate_mint = {{ decimals = 6, token_program = \"spl-token\" }}\n\
             asset_class = \"crypto\"\n[reserve.oracle]\nsource = \"pull\"\nprice_account = \"localnet-writer\"\n\
             feed_id = \"{}\"\nlag_bps_per_sec = 5\n[reserve.risk]\nmax_leverage_bps = 30000\ninit_haircut_bps = 2500\nmaint_haircut_bps = 2000\n",
            feed(i)
        ));
    }
    let path = dir.join("sixteen.toml");
    std::fs::write(&path, file).unwrap();
    w.market = None;
    let report = w.cli("admin", &["market", "bootstrap", "--config", path.to_str().unwrap()]);
    assert!(report["lookup_table"].as_str().is_some_and(|t| !t.is_empty()), "{report}");
    w.market = Some(report["market"].as_str().unwrap().to_string());
    let mints: Vec<String> = report["reserves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["mint"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(mints.len(), 16);
    let carol = w.cli("carol", &["keygen", &w.keypair("carol")])["pubkey"].as_str().unwrap().to_string();
    w.cli("carol", &["airdrop", "10"]);
    let post = |w: &Wallets, debt: f64, collateral: f64| {
        for i in 0..16 {
            let price = if i == 0 { debt } else { collateral };
            w.cli("admin", &["oracle", "post", "--feed", &feed(i), "--price", &price.to_string()]);
        }
    };
    w.cli("admin", &["token", "mint", &mints[0], "10000"]);
    w.cli("admin", &["token", "mint", &mints[0], "2000", "--to", keeper]);
    for mint in &mints[1..] {
        w.cli("admin", &["token", "mint", mint, "10", "--to", &carol]);
    }
    for who in ["admin", "carol"] {
        w.cli(who, &["position", "open"]);
    }
    w.cli("admin", &["deposit", &mints[0], "10000"]);
    for mint in &mints[1..] {
        w.cli("carol", &["deposit", mint, "10", "--with-compute-unit-price", "100"]);
    }
    // Deposits need no price, and none is posted yet: `position show` still lists every slot,
    // each priced as the program would price it (no price, counts nothing).
    let shown = w.cli("carol", &["position", "show"]);
    let slots = shown["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 15, "{shown}");
    assert!(slots.iter().all(|s| s["pricing"].as_str().unwrap().starts_with("no price")), "{shown}");
    assert_eq!(shown["collateral_usd"], 0.0, "{shown}");
    // $1,500 of collateral at a 25 % haircut backs $1,125: borrow $900 across all 16 slots,
    // naming the reserve by the name its localnet mint was made under and the lookup table
    // explicitly (as against an RPC endpoint that refuses the table search).
    post(w, 1.0, 10.0);
    let table = report["lookup_table"].as_str().unwrap();
    w.cli("carol", &["borrow", "A00", "900", "--lookup-table", table]);
    let shown = w.cli("carol", &["position", "show"]);
    assert_eq!(shown["slots"].as_array().unwrap().len(), 16, "{shown}");
    assert_eq!(shown["liquidatable"], false);

    // The collateral falls from $10 to $7: 15 × 10 × 7 × 0.8 = $840 < $900.
    post(w, 1.0, 7.0);
    // A keeper asking a million dollars a liquidation skips it and counts the skip.
    let greedy = Command::new(env!("CARGO_BIN_EXE_ballast-keeper"))
        .args(["-u", &w.url, "-k", &w.keypair("keeper"), "--market", w.market.as_deref().unwrap()])
        .args(["--once", "--min-profit-usd", "1000000"])
        .output()
        .expect("run the keeper once");
    let printed = String::from_utf8_lossy(&greedy.stdout);
    assert_eq!(metric(&printed, "ballast_keeper_skipped_unprofitable_total"), 1, "{printed}");
    assert_eq!(metric(&printed, "ballast_keeper_liquidations_sent_total"), 0, "{printed}");
    assert_eq!(w.cli("carol", &["position", "show"])["liquidatable"], true);
    // A keeper holding none of the repay token skips it by that reason and says so.
    w.cli("dave", &["keygen", &w.keypair("pauper")]);
    let pauper = Command::new(env!("CARGO_BIN_EXE_ballast-keeper"))
        .args(["-u", &w.url, "-k", &w.keypair("pauper"), "--market", w.market.as_deref().unwrap()])
        .arg("--once")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run the keeper once");
    let printed = String::from_utf8_lossy(&pauper.stdout);
    assert_eq!(metric(&printed, "ballast_keeper_skipped_no_balance_total"), 1, "{printed}");
    let balance = format!("ballast_keeper_repay_balance{{mint=\"{}\"}}", mints[0]);
    assert_eq!(metric(&printed, &balance), 0, "{printed}");
    let said = String::from_utf8_lossy(&pauper.stderr);
    assert!(said.contains("no tokens to repay with"), "{said}");

    let metrics_port = free_ports();
    let log_path = dir.join("keeper-16.log");
    let _keeper = Process(
        Command::new(env!("CARGO_BIN_EXE_ballast-keeper"))
            .args(["-u", &w.url, "-k", &w.keypair("keeper"), "--market", w.market.as_deref().unwrap()])
            .args(["--interval-ms", "300", "--metrics-addr", &format!("127.0.0.1:{metrics_port}")])
            .args(["--min-compute-unit-price", "1000", "--max-compute-unit-price", "5000"])
            .args(["--log-format", "json", "--no-websocket"])
            .env("RUST_LOG", "info") // the test reads its "liquidated" line
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .expect("start the keeper"),
    );
    let started = Instant::now();
    loop {
        let a = w.cli("carol", &["position", "show"]);
        if a["debt_usd"].as_f64().unwrap() < 895.0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the keeper did not liquidate within 60 s: {a}");
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!("16-slot position liquidated after {:?}", started.elapsed());
    // JSON log lines: the liquidation's fields, as a log collector reads them. The keeper logs
    // once its confirmation poll returns, which can be after the CLI already sees the new state.
    let logged = Instant::now();
    let landed = loop {
        let log = std::fs::read_to_string(&log_path).unwrap();
        let found = log
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| l["fields"]["message"] == "liquidated");
        match found {
            Some(line) => break line,
            None if logged.elapsed() < Duration::from_secs(20) => {
                std::thread::sleep(Duration::from_millis(200))
            }
            None => panic!("no liquidation logged:\n{log}"),
        }
    };
    let fields = &landed["fields"];
    let paid = (fields["slots"].as_u64(), fields["compute_unit_price"].as_u64());
    assert_eq!(paid, (Some(16), Some(1000)), "{landed}");
    let m = http_get(metrics_port, "/metrics");
    assert_eq!(metric(&m, "ballast_keeper_last_compute_unit_price"), 1000, "{m}");
    // Without the websocket every scan is a full load.
    assert_eq!(metric(&m, "ballast_keeper_websocket_connected"), 0, "{m}");
    assert!(metric(&m, "ballast_keeper_full_loads_total") >= metric(&m, "ballast_keeper_scans_total"), "{m}");
}
