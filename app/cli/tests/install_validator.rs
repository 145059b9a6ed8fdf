//! `scripts/localnet/install-validator.sh` takes a developer's own `solana-test-validator` when
//! its version runs the program, names and passes over one that cannot, and keeps the pinned
//! build when asked (`BALLAST_VALIDATOR=pinned`, as the test command runs). `--which` builds
//! nothing, so these run in a second.
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// A directory holding a fake `solana-test-validator` that reports `version`.
fn fake_validator(dir: &Path, version: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join(version);
    std::fs::create_dir_all(&bin).unwrap();
    let exe = bin.join("solana-test-validator");
    std::fs::write(
        &exe,
        format!("#!/bin/sh\necho 'solana-test-validator {version} (src:0; feat:0, client:Agave)'\n"),
    )
    .unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    exe
}

/// Runs `install-validator.sh --which` with `path_dir` first on PATH; (stdout, stderr).
fn which(path_dir: Option<&Path>, pinned: bool, cache: &Path) -> (String, String) {
    let path = std::env::var("PATH").unwrap();
    let path = match path_dir {
        Some(d) => format!("{}:{path}", d.display()),
        None => path,
    };
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("scripts/localnet/install-validator.sh"))
        .arg("--which")
        .env("PATH", path)
        .env("BALLAST_CACHE", cache)
        .env_remove("BALLAST_VALIDATOR");
    if pinned {
        cmd.env("BALLAST_VALIDATOR", "pinned");
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_validator_on_path_is_used_when_it_can_run_the_program_and_named_when_not() {
    let dir = std::env::temp_dir().join(format!("ballast-which-validator-{}", std::process::id()));
    let cache = dir.join("cache");
    let pinned = cache.join("validator/agave-validator-4.2.2/bin/solana-test-validator");

    let recent = fake_validator(&dir, "4.3.1");
    let (out, err) = which(recent.parent(), false, &cache);
    assert_eq!(out.trim(), format!("SOLANA_TEST_VALIDATOR={}", recent.display()));
    assert!(err.contains("4.3.1, from PATH"), "{err}");

    let old = fake_validator(&dir, "2.1.0");
    let (out, err) = which(old.parent(), false, &cache);
    assert_eq!(out.trim(), format!("SOLANA_TEST_VALIDATOR={}", pinned.display()));
    assert!(err.contains("not using") && err.contains("version 2.1.0") && err.contains("needs 4.0"), "{err}");

    let (out, _) = which(recent.parent(), true, &cache);
    assert_eq!(out.trim(), format!("SOLANA_TEST_VALIDATOR={}", pinned.display()), "the test command's pin");
    let _ = std::fs::remove_dir_all(dir);
}
