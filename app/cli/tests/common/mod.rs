//! What the validator tests share: a local validator on free loopback ports, wallets that run
//! the `ballast` CLI as a JSON-answering subprocess, and the keeper's metrics endpoint.
#![allow(dead_code)] // each test binary uses its own part
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use serde_json::Value;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// A base port with `base..base+61` free on loopback.
pub fn free_ports() -> u16 {
    let seed = std::process::id() as u16;
    for attempt in 0..200u16 {
        let base = 20_000 + (seed.wrapping_mul(131).wrapping_add(attempt * 97)) % 30_000;
        if (base..base + 61).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            return base;
        }
    }
    panic!("no free block of ports on 127.0.0.1");
}

pub struct Validator {
    pub ledger: PathBuf,
    pub url: String,
}

impl Validator {
    pub fn start(dir: &Path) -> Self {
        let port = free_ports();
        let ledger = dir.join("ledger");
        let status = Command::new("bash")
            .arg(root().join("scripts/localnet/validator.sh"))
            .args(["start", ledger.to_str().unwrap(), &port.to_string()])
            .status()
            .expect("run validator.sh");
        assert!(status.success(), "the local validator did not start (log: {}.log)", ledger.display());
        Validator { ledger, url: format!("http://127.0.0.1:{port}") }
    }
}

impl Drop for Validator {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(root().join("scripts/localnet/validator.sh"))
            .args(["stop", self.ledger.to_str().unwrap()])
            .status();
        // The ledger (~300 MB) is kept only when the test failed, for its log.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.ledger);
        }
    }
}

/// A child process killed on drop (the keeper).
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Wallets {
    pub url: String,
    pub dir: PathBuf,
    pub market: Option<String>,
}

impl Wallets {
    pub fn keypair(&self, name: &str) -> String {
        self.dir.join(format!("{name}.json")).to_str().unwrap().to_string()
    }

    /// Runs `ballast` as `who` and returns its JSON output; panics with its error otherwise.
    pub fn cli(&self, who: &str, args: &[&str]) -> Value {
        let out = self.try_cli(who, args);
        assert!(out.get("error").is_none(), "ballast {args:?} as {who}: {out}");
        out
    }

    pub fn try_cli(&self, who: &str, args: &[&str]) -> Value {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ballast"));
        cmd.args(["-u", &self.url, "-k", &self.keypair(who), "--output", "json"]);
        if let Some(m) = &self.market {
            cmd.args(["--market", m]);
        }
        let out = cmd.args(args).output().expect("run ballast");
        let text = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!("ballast {args:?}: {e}\nstdout: {text}\nstderr: {}", String::from_utf8_lossy(&out.stderr))
        })
    }

    /// Posts the three localnet prices, SOL's last (the latency rounds time from it).
    pub fn post_prices(&self, sol: f64, usdc: f64, tsla: f64) {
        for (feed, price) in [(2u8, usdc), (3, tsla), (1, sol)] {
            let feed = hex(feed);
            self.cli("admin", &["oracle", "post", "--feed", &feed, "--price", &price.to_string()]);
        }
    }
}

pub fn hex(byte: u8) -> String {
    format!("{byte:02x}").repeat(32)
}

pub fn http_get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("metrics port");
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n").as_bytes())
        .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

pub fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("metric {name} missing in:\n{text}"))
}
