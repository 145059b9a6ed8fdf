//! Project tasks.
//!
//! - `cargo run -p xtask -- idl`: regenerate `idl/ballast.json` from the program (Anchor's
//!   `idl-build` feature, the same path `anchor idl build` takes).
//! - `cargo run -p xtask -- idl-check`: fail when `idl/ballast.json` is stale.
//!
//! The IDL is Anchor's build plus the account links of `links.rs` (relations and PDAs for
//! clients that resolve accounts, such as `@coral-xyz/anchor`).
mod links;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anchor_lang_idl::build::IdlBuilder;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn build_idl() -> Result<String, String> {
    let root = root();
    // anchor-lang-idl re-invokes `cargo +<toolchain>` when this is set (and formats it wrongly):
    // use the cargo on PATH, which is the one running this task.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    // The IDL build sets its own RUSTFLAGS; a separate target dir keeps it from invalidating
    // the test build's artifacts.
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    std::env::set_var("CARGO_TARGET_DIR", target.join("idl"));
    let mut idl = IdlBuilder::new()
        .program_path(root.join("programs/ballast"))
        .cargo_args(vec!["--locked".into()])
        .build()
        .map_err(|e| format!("IDL build failed: {e}"))?;
    links::apply(&mut idl)?;
    let mut json = serde_json::to_string_pretty(&idl).map_err(|e| e.to_string())?;
    json.push('\n');
    Ok(json)
}

fn main() -> ExitCode {
    let idl_path = root().join("idl/ballast.json");
    let task = std::env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "idl" => build_idl().and_then(|json| {
            std::fs::write(&idl_path, json).map_err(|e| e.to_string())?;
            eprintln!("wrote {}", idl_path.display());
            Ok(())
        }),
        "idl-check" => build_idl().and_then(|json| {
            let committed = std::fs::read_to_string(&idl_path).unwrap_or_default();
            if committed == json {
                eprintln!("idl/ballast.json is up to date");
                Ok(())
            } else {
                Err("idl/ballast.json is stale: run `cargo run -p xtask -- idl` and commit it".into())
            }
        }),
        _ => Err("usage: cargo run -p xtask -- idl | idl-check".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
