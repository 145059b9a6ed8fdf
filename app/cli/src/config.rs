//! Solana CLI conventions: `--url`/`-u` (URL or moniker) and `--keypair`/`-k`, defaulting to the
//! Solana CLI config (`~/.config/solana/cli/config.yml`) and `~/.config/solana/id.json`.
use std::path::PathBuf;

use solana_keypair::Keypair;

fn home() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."))
}

/// A value of the Solana CLI config file (a flat YAML map), if the file and key exist.
fn solana_config_value(key: &str) -> Option<String> {
    let path = home().join(".config/solana/cli/config.yml");
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
    })
}

/// The RPC URL for `url` (a URL or one of `localhost`, `devnet`, `testnet`, `mainnet-beta`, and
/// their initials), or the Solana CLI config's, or localhost.
pub fn rpc_url(url: Option<&str>) -> String {
    let chosen = url.map(str::to_string).or_else(|| solana_config_value("json_rpc_url"));
    match chosen.as_deref() {
        None | Some("l") | Some("localhost") => "http://127.0.0.1:8899".into(),
        Some("d") | Some("devnet") => "https://api.devnet.solana.com".into(),
        Some("t") | Some("testnet") => "https://api.testnet.solana.com".into(),
        Some("m") | Some("mainnet-beta") => "https://api.mainnet-beta.solana.com".into(),
        Some(other) => other.to_string(),
    }
}

/// The keypair file for `path`, or the Solana CLI config's, or `~/.config/solana/id.json`.
pub fn keypair_path(path: Option<&str>) -> PathBuf {
    path.map(PathBuf::from)
        .or_else(|| solana_config_value("keypair_path").map(PathBuf::from))
        .unwrap_or_else(|| home().join(".config/solana/id.json"))
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
}
