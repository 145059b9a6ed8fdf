//! Solana CLI conventions: `--url`/`-u` (URL or moniker) and `--keypair`/`-k`, defaulting to the
//! Solana CLI config (read by the `solana-cli-config` crate) and `~/.config/solana/id.json`.
use std::path::PathBuf;

use solana_cli_config::{Config, ConfigInput, CONFIG_FILE};
use solana_keypair::Keypair;

/// Where a client connects without `--url` and without a Solana CLI config: the local
/// validator (the Solana CLI would pick mainnet-beta; a tool that moves funds should not reach
/// mainnet unasked).
pub const DEFAULT_RPC_URL: &str = "http://127.0.0.1:8899";

/// The Solana CLI config (`~/.config/solana/cli/config.yml`, or where `solana config` put it),
/// read by the Solana CLI's own crate; `None` when there is none.
pub fn solana_config() -> Option<Config> {
    CONFIG_FILE.as_ref().and_then(|path| Config::load(path).ok())
}

/// The RPC URL for `url` (a URL or one of `localhost`, `devnet`, `testnet`, `mainnet-beta`, and
/// their initials), else `config`'s, else `DEFAULT_RPC_URL`.
pub fn rpc_url_with(url: Option<&str>, config: Option<&Config>) -> String {
    let configured = config.map_or(DEFAULT_RPC_URL, |c| c.json_rpc_url.as_str());
    ConfigInput::compute_json_rpc_url_setting(url.unwrap_or(""), configured).1
}

/// The websocket URL: `ws` if given, else the config's `websocket_url`, else computed from the
/// RPC URL as the Solana CLI does (http→ws, port + 1).
pub fn websocket_url_with(ws: Option<&str>, url: Option<&str>, config: Option<&Config>) -> String {
    let configured_ws = config.map_or("", |c| c.websocket_url.as_str());
    let rpc = rpc_url_with(url, config);
    ConfigInput::compute_websocket_url_setting(ws.unwrap_or(""), configured_ws, &rpc, "").1
}

/// The keypair file for `path`, else `config`'s, else `~/.config/solana/id.json`.
pub fn keypair_path_with(path: Option<&str>, config: Option<&Config>) -> PathBuf {
    let configured = config.map_or("", |c| c.keypair_path.as_str());
    PathBuf::from(ConfigInput::compute_keypair_path_setting(path.unwrap_or(""), configured).1)
}

/// `rpc_url_with` the user's Solana CLI config.
pub fn rpc_url(url: Option<&str>) -> String {
    rpc_url_with(url, solana_config().as_ref())
}

/// `rpc_url`, refused in words unless it is an http(s) URL with a host (`-u notaurl` would
/// otherwise fail at the first request as a "builder error").
pub fn checked_rpc_url(url: Option<&str>) -> Result<String, String> {
    let resolved = rpc_url(url);
    let host = resolved
        .strip_prefix("http://")
        .or_else(|| resolved.strip_prefix("https://"))
        .map(|rest| rest.split(['/', ':', '?']).next().unwrap_or_default());
    match host {
        Some(h) if !h.is_empty() => Ok(resolved),
        _ => Err(format!(
            "`{}` is not an RPC URL: give http(s)://host[:port] or localhost, devnet, testnet, mainnet-beta",
            url.unwrap_or(&resolved)
        )),
    }
}

/// `websocket_url_with` the user's Solana CLI config.
pub fn websocket_url(ws: Option<&str>, url: Option<&str>) -> String {
    websocket_url_with(ws, url, solana_config().as_ref())
}

/// `keypair_path_with` the user's Solana CLI config.
pub fn keypair_path(path: Option<&str>) -> PathBuf {
    keypair_path_with(path, solana_config().as_ref())
}

/// Reads a keypair file in the Solana CLI's format (a JSON array of 64 bytes), with the Solana
/// keypair crate.
pub fn read_keypair(path: &std::path::Path) -> Result<Keypair, String> {
    solana_keypair::read_keypair_file(path).map_err(|e| format!("keypair {}: {e}", path.display()))
}

/// Writes `keypair` in the Solana CLI's format with the Solana keypair crate (a new file is
/// readable by its owner only, mode 0600, as `solana-keygen` makes it).
pub fn write_keypair(keypair: &Keypair, path: &std::path::Path) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    solana_keypair::write_keypair_file(keypair, path)
        .map(|_| ())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_keypair_is_private_and_reads_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("ballast-keypair-{}", std::process::id()));
        let path = dir.join("id.json");
        let keypair = Keypair::new();
        write_keypair(&keypair, &path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read_keypair(&path).unwrap().to_bytes(), keypair.to_bytes());
        std::fs::write(&path, "not a keypair").unwrap();
        assert!(read_keypair(&path).unwrap_err().contains("id.json"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn urls_and_keypair_come_from_the_flag_then_the_solana_config_then_the_default() {
        let dir = std::env::temp_dir().join(format!("ballast-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("config.yml");
        std::fs::write(
            &file,
            "---\njson_rpc_url: https://rpc.example.org:8899\nwebsocket_url: ''\nkeypair_path: /keys/me.json\naddress_labels: {}\ncommitment: confirmed\n",
        )
        .unwrap();
        let config = Config::load(file.to_str().unwrap()).unwrap();
        let c = Some(&config);
        assert_eq!(rpc_url_with(None, c), "https://rpc.example.org:8899");
        assert_eq!(rpc_url_with(Some("devnet"), c), "https://api.devnet.solana.com");
        assert_eq!(rpc_url_with(None, None), DEFAULT_RPC_URL);
        assert_eq!(websocket_url_with(None, None, c), "wss://rpc.example.org:8900/");
        assert_eq!(websocket_url_with(None, None, None), "ws://127.0.0.1:8900/");
        assert_eq!(websocket_url_with(Some("ws://x:1"), None, c), "ws://x:1");
        assert_eq!(keypair_path_with(None, c), PathBuf::from("/keys/me.json"));
        assert_eq!(keypair_path_with(Some("k.json"), c), PathBuf::from("k.json"));
        assert!(keypair_path_with(None, None).ends_with(".config/solana/id.json"));
        assert_eq!(checked_rpc_url(Some("http://127.0.0.1:8899")).unwrap(), "http://127.0.0.1:8899");
        assert_eq!(checked_rpc_url(Some("localhost")).unwrap(), "http://localhost:8899");
        for bad in ["notaurl", "http://", "ftp://x"] {
            let e = checked_rpc_url(Some(bad)).unwrap_err();
            assert!(e.starts_with(&format!("`{bad}` is not an RPC URL")), "{e}");
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
