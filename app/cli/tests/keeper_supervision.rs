//! The keeper as an operator supervises it (issue 25 item 8): `--once` fails with the reason,
//! a taken metrics port stops it at start, `--help` names only commands that exist, a market
//! address that is not a market stops it at once (item 6), and on a real validator: a position
//! its first liquidation leaves liquidatable (close factor: health 0.9973) is liquidated again
//! before its price ages out, logged with symbols and amounts in tokens and USD (item 4); a
//! position it leaves alone is counted and logged with the reason, and one left alone for
//! `--stuck-scans` scans is reported stuck; a keeper without SOL for fees says so in words
//! (item 2).
//!
//! The validator part needs `target/deploy/*.so` and the validator, as `tests/localnet.rs` does.
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// The keeper at its default log level, whatever RUST_LOG the test command runs with (the
/// tests read its info lines).
fn keeper() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ballast-keeper"));
    cmd.env("RUST_LOG", "info");
    cmd
}

/// A fresh directory under target/ for one test.
fn test_dir(name: &str) -> PathBuf {
    let dir = root().join(format!("target/keeper-supervision/{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A keypair file nobody funded.
fn keypair_file(dir: &Path, name: &str) -> String {
    let path = dir.join(format!("{name}.json"));
    let bytes = solana_keypair::Keypair::new().to_bytes().to_vec();
    std::fs::write(&path, serde_json::to_string(&bytes).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

/// What a finished keeper process left: exit status, stdout, stderr.
struct Ran {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs `cmd` to its end, its output in files under `dir` (no pipe to fill); kills it and fails
/// when it runs past `limit`.
fn run_within(mut cmd: Command, dir: &Path, name: &str, limit: Duration) -> Ran {
    let (out, err) = (dir.join(format!("{name}.out")), dir.join(format!("{name}.err")));
    let mut child = Process(
        cmd.stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .expect("start the keeper"),
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            drop(child);
            panic!(
                "{name}: still running after {limit:?}; stderr:\n{}",
                std::fs::read_to_string(&err).unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    Ran { status, stdout: read(&out), stderr: read(&err) }
}

/// A loopback URL nothing answers on.
fn dead_rpc() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn help_names_only_commands_that_exist() {
    let help = Command::new(env!("CARGO_BIN_EXE_ballast-keeper")).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).to_string();
    // Every `ballast …` the help quotes, as words up to the closing backtick.
    let quoted: Vec<Vec<String>> = help
        .split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|q| q.strip_prefix("ballast "))
        .map(|q| q.split_whitespace().take_while(|w| !w.starts_with('-')).map(str::to_string).collect())
        .collect();
    assert!(!quoted.is_empty(), "the help points to the CLI command that makes the lookup table:\n{help}");
    let exists = |words: &[String]| {
        Command::new(env!("CARGO_BIN_EXE_ballast"))
            .args(words)
            .arg("--help")
            .output()
            .unwrap()
            .status
            .success()
    };
    for words in &quoted {
        assert!(
            exists(words),
            "`ballast-keeper --help` names `ballast {}`, which does not exist",
            words.join(" ")
        );
    }
    assert!(quoted.iter().any(|w| w == &["market", "bootstrap"]), "{help}");
    // The check can fail: the subcommand the help used to name is not there.
    assert!(!exists(&["market".to_string(), "lookup-table".to_string()]));
}

#[test]
fn once_exits_non_zero_with_the_reason_when_the_rpc_is_down() {
    let dir = test_dir("once-rpc-down");
    let mut cmd = keeper();
    let market = solana_keypair::Keypair::new();
    let market = solana_signer::Signer::pubkey(&market).to_string();
    cmd.args(["-u", &dead_rpc(), "-k", &keypair_file(&dir, "keeper"), "--market", &market, "--once"]);
    let ran = run_within(cmd, &dir, "keeper", Duration::from_secs(60));
    assert!(!ran.status.success(), "a failed scan is a failure: {:?}\n{}", ran.status, ran.stderr);
    let last = ran.stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: RPC request failed"), "the reason, last on stderr:\n{}", ran.stderr);
}

#[test]
fn a_taken_metrics_port_stops_the_keeper_at_start() {
    let dir = test_dir("metrics-port-taken");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let mut cmd = keeper();
    let market = solana_signer::Signer::pubkey(&solana_keypair::Keypair::new()).to_string();
    cmd.args(["-u", &dead_rpc(), "-k", &keypair_file(&dir, "keeper"), "--market", &market])
        .args(["--metrics-addr", &addr]);
    // Without the fix it runs on (retrying the dead RPC) without /health: the limit fails it.
    let ran = run_within(cmd, &dir, "keeper", Duration::from_secs(20));
    assert!(!ran.status.success(), "{:?}", ran.status);
    assert!(
        ran.stderr.contains(&format!("error: cannot serve metrics and health on {addr}")),
        "{}",
        ran.stderr
    );
    drop(taken);
}

/// The JSON log lines of a keeper run with `--log-format json`.
fn log_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn with_message<'a>(lines: &'a [Value], prefix: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["fields"]["message"].as_str().is_some_and(|m| m.starts_with(prefix))).collect()
}

/// Polls `check` every 200 ms until it gives a value, failing with `what` after `limit`.
fn wait_for<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `/metrics` once the keeper serves it ("" before).
fn metrics_text(port: u16) -> String {
    match std::net::TcpStream::connect(("127.0.0.1", port)) {
        Ok(_) => http_get(port, "/metrics"),
        Err(_) => String::new(),
    }
}

fn metric_or_zero(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn the_keeper_is_supervisable_on_a_real_validator() {
    let dir = test_dir("validator");
    let validator = Validator::start(&dir);
    let mut w = Wallets { url: validator.url.clone(), dir: dir.clone(), market: None };
    let mut pubkeys = std::collections::HashMap::new();
    for who in ["admin", "alice", "keeper", "poor"] {
        let made = w.cli(who, &["keygen", &w.keypair(who)]);
        pubkeys.insert(who, made["pubkey"].as_str().unwrap().to_string());
        if who != "poor" {
            w.cli(who, &["airdrop", "10"]);
        }
    }

    // Item 6: a market address that holds no market. The clock sysvar: owner and size known.
    let clock = "SysvarC1ock11111111111111111111111111111111";
    let expected = format!(
        "error: {clock} is not a Ballast market (owner Sysvar1111111111111111111111111111111111111, size 40 bytes)"
    );
    let wrong = |name: &str, extra: &[&str]| {
        let mut cmd = keeper();
        cmd.args(["-u", &w.url, "-k", &w.keypair("keeper"), "--market", clock]).args(extra);
        run_within(cmd, &dir, name, Duration::from_secs(30))
    };
    let ran = wrong("wrong-once", &["--once"]);
    assert!(!ran.status.success() && ran.stderr.contains(&expected), "{:?}\n{}", ran.status, ran.stderr);
    // Without --once too: it stops at once instead of retrying for ever.
    let port = free_ports().to_string();
    let ran = wrong("wrong-running", &["--metrics-addr", &format!("127.0.0.1:{port}")]);
    assert!(!ran.status.success() && ran.stderr.contains(&expected), "{:?}\n{}", ran.status, ran.stderr);

    let config = root().join("migrations/localnet.toml");
    let report = w.cli("admin", &["market", "bootstrap", "--config", config.to_str().unwrap()]);
    let market = report["market"].as_str().unwrap().to_string();
    w.market = Some(market.clone());
    let mint = |name: &str| {
        report["reserves"].as_array().unwrap().iter().find(|r| r["name"] == name).unwrap()["mint"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (sol, usdc) = (mint("SOL"), mint("USDC"));
    w.cli("admin", &["token", "mint", &sol, "10", "--to", &pubkeys["alice"]]);
    w.cli("admin", &["token", "mint", &usdc, "10000", "--to", &pubkeys["admin"]]);
    w.cli("admin", &["token", "mint", &usdc, "2000", "--to", &pubkeys["keeper"]]);
    w.cli("admin", &["token", "mint", &usdc, "100", "--to", &pubkeys["poor"]]);
    w.post_prices(100.0, 1.0, 250.0);
    for who in ["admin", "alice"] {
        w.cli(who, &["position", "open"]);
    }
    w.cli("admin", &["deposit", &usdc, "10000"]);
    w.cli("alice", &["deposit", &sol, "10"]);
    w.post_prices(100.0, 1.0, 250.0);
    w.cli("alice", &["borrow", &usdc, "600"]);

    // The keeper follows the market over the websocket; a full load only every 10 minutes, so
    // only a change or the end of its own transaction wakes it.
    let metrics_port = free_ports();
    let log_path = dir.join("keeper.log");
    let running = Process(
        keeper()
            .args(["-u", &w.url, "-k", &w.keypair("keeper"), "--market", &market])
            .args(["--interval-ms", "200", "--full-load-secs", "600", "--log-format", "json"])
            .args(["--metrics-addr", &format!("127.0.0.1:{metrics_port}")])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .expect("start the keeper"),
    );
    wait_for(Duration::from_secs(30), "websocket up", || {
        let m = metrics_text(metrics_port);
        (metric_or_zero(&m, "ballast_keeper_websocket_connected") == 1).then_some(())
    });

    // The defect of issue 25: SOL from $100 to $70 puts alice at health 0.9333; one liquidation
    // may repay half the debt (close factor), which leaves 0.9973. The keeper must liquidate
    // again while the price is fresh (the lag band refuses it after 20 s).
    w.post_prices(70.0, 1.0, 250.0);
    let posted = Instant::now();
    let settled = wait_for(Duration::from_secs(18), "alice liquidated back to health", || {
        let a = w.cli("alice", &["position", "show"]);
        (a["liquidatable"] == false).then_some(a)
    });
    eprintln!("liquidated to health {} after {:?}", settled["health_factor"], posted.elapsed());
    let debt = settled["debt_usd"].as_f64().unwrap();
    assert!(debt < 300.0, "two liquidations: 300 (the close factor), then the rest to the target: {settled}");
    let hf = settled["health_factor"].as_f64().unwrap();
    assert!((1.0..=1.0501).contains(&hf), "{settled}");
    // Logged with symbols, amounts in tokens and USD (item 4).
    // Two liquidations: one transaction each, or both chained in one (the planner foresees the
    // second; `rounds` on the log line).
    let liquidated = wait_for(Duration::from_secs(20), "two liquidations logged", || {
        let lines = log_lines(&log_path);
        let found: Vec<Value> = with_message(&lines, "liquidated").into_iter().cloned().collect();
        let rounds: u64 = found.iter().map(|l| l["fields"]["rounds"].as_u64().unwrap_or(1)).sum();
        (rounds >= 2).then_some(found)
    });
    let first = &liquidated[0]["fields"];
    // Half the debt: 300 USDC and the interest accrued on it since the borrow.
    let repay = first["repay"].as_str().unwrap();
    assert!(repay.starts_with("300.000") && repay.ends_with(" USDC ($300.00)"), "{first}");
    let seize = first["seize"].as_str().unwrap();
    assert!(seize.ends_with(')') && seize.contains(" SOL ($"), "{first}");
    drop(running);

    // SOL at $60: alice at 0.9, and a keeper asking a million dollars per liquidation.
    w.post_prices(60.0, 1.0, 250.0);
    let posted = Instant::now();
    // Item 2: a keeper with USDC but no SOL is refused by the simulation, in words.
    let mut cmd = keeper();
    cmd.args(["-u", &w.url, "-k", &w.keypair("poor"), "--market", &market, "--once"]);
    let poor = run_within(cmd, &dir, "poor", Duration::from_secs(30));
    assert!(poor.status.success(), "the scan worked: {}", poor.stderr);
    assert!(
        metric_or_zero(&poor.stdout, r#"ballast_keeper_not_liquidated_total{reason="refused"}"#) == 1,
        "{}",
        poor.stdout
    );
    let no_sol = format!("the fee payer {} has no SOL on this cluster", pubkeys["poor"]);
    assert!(poor.stderr.contains(&no_sol), "{}", poor.stderr);
    assert!(!poor.stderr.contains("prior credit"), "{}", poor.stderr);

    let metrics_port = free_ports();
    let log_path = dir.join("greedy.log");
    let _greedy = Process(
        keeper()
            .args(["-u", &w.url, "-k", &w.keypair("keeper"), "--market", &market])
            .args(["--interval-ms", "200", "--no-websocket", "--stuck-scans", "3", "--log-format", "json"])
            .args(["--min-profit-usd", "1000000", "--metrics-addr", &format!("127.0.0.1:{metrics_port}")])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .expect("start the keeper"),
    );
    let m = wait_for(Duration::from_secs(15), "a stuck position", || {
        let m = metrics_text(metrics_port);
        (metric_or_zero(&m, "ballast_keeper_stuck_positions") == 1).then_some(m)
    });
    let skipped = r#"ballast_keeper_not_liquidated_total{reason="below_min_profit"}"#;
    assert!(metric_or_zero(&m, skipped) >= 3, "{m}");
    assert_eq!(metric_or_zero(&m, "ballast_keeper_liquidations_sent_total"), 0, "{m}");
    let lines = log_lines(&log_path);
    let stuck = with_message(&lines, "position stuck");
    assert_eq!(stuck.len(), 1, "warned once: {lines:?}");
    assert_eq!(stuck[0]["level"], "WARN");
    assert_eq!(stuck[0]["fields"]["reason"], "below_min_profit", "{}", stuck[0]);
    assert!(!with_message(&lines, "skipped: proceeds less fees below the minimum").is_empty());

    // Past the lag band (20 s) nobody can liquidate at SOL's price: said so, by name.
    let m = wait_for(Duration::from_secs(60), "the stale price counted", || {
        let m = metrics_text(metrics_port);
        let stale = r#"ballast_keeper_not_liquidated_total{reason="price_not_fresh"}"#;
        (metric_or_zero(&m, stale) >= 1).then_some(m)
    });
    // The USDC price went out a second or two before SOL's, and ages out first.
    assert!(posted.elapsed() > Duration::from_secs(15), "only once the band is too wide: {m}");
    assert_eq!(metric_or_zero(&m, "ballast_keeper_stuck_positions"), 1, "still stuck: {m}");
    let lines = log_lines(&log_path);
    let said = with_message(&lines, "liquidatable, not liquidated: the price of");
    let text = said.first().map(|l| l["fields"]["message"].to_string()).unwrap_or_default();
    assert!(
        text.contains("OracleBandTooWide") && (text.contains("SOL") || text.contains("USDC")),
        "{lines:?}"
    );
    assert_eq!(said[0]["fields"]["reason"], "price_not_fresh");
    assert_eq!(said[0]["level"], "INFO");
}
