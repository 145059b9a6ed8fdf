#!/usr/bin/env bash
# Installs (once) and caches the real `solana-test-validator` from crates.io
# (agave-validator, built from source at optimization level 1: 28 min on 2 idle cores the first
# time, printing progress every minute). Idempotent: a second
# run finds the cached binary and prints its path.
#
# Prints SOLANA_TEST_VALIDATOR=<path> on stdout.
set -euo pipefail

AGAVE_VERSION=4.2.2
log() { echo "[validator] $*" >&2; }
# shellcheck source=../lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/apt.sh"
# shellcheck source=../lib/progress.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/progress.sh"

cache_root="${BALLAST_CACHE:-$HOME/.cache/ballast}"
dir="$cache_root/validator/agave-validator-$AGAVE_VERSION"
bin="$dir/bin/solana-test-validator"

mkdir -p "$cache_root/validator"
# One build at a time (a second caller waits for the first, then finds the binary).
exec 9>"$cache_root/validator/.lock"
flock 9

if [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; then
  echo "SOLANA_TEST_VALIDATOR=$bin"
  exit 0
fi

# Native libraries the validator's -sys crates build against (RocksDB via libclang, protobuf
# for the gossip/RPC types, libudev for hardware-wallet support, OpenSSL).
apt_ensure libclang-dev protobuf-compiler libudev-dev libssl-dev pkg-config curl bzip2

log "building agave-validator $AGAVE_VERSION (solana-test-validator) into $dir; this takes ~30 min once"
mkdir -p "$dir"
# The build directory is kept next to the install, so an interrupted build resumes where it was.
build_dir="$cache_root/validator/build-$AGAVE_VERSION"
# Optimization level 1: a local test validator handles a few transactions a second, and the
# build is the longest step of a cold set-up (same end-to-end results and latency as level 3;
# docs/decisions.md, docs/cold-setup.md).
CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=0 \
  CARGO_TARGET_DIR="$build_dir" with_progress validator "$build_dir" \
  cargo install "agave-validator@$AGAVE_VERSION" --locked --bin solana-test-validator \
  --root "$dir" --quiet >&2
"$bin" --version >&2
rm -rf "$cache_root/validator/build-$AGAVE_VERSION"
echo "SOLANA_TEST_VALIDATOR=$bin"
