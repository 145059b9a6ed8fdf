#!/usr/bin/env bash
# Installs (once) and caches the real `solana-test-validator` from crates.io
# (agave-validator, built from source at optimization level 1: 28 min on 2 idle cores the first
# time, printing progress every minute). Idempotent: a second
# run finds the cached binary and prints its path.
#
# A `solana-test-validator` already on PATH (the Solana installer puts one there) is used when
# its version runs the deployable artifact: 4.0 or later, whose default features include
# SIMD-0460's layout (docs/sbf-build.md). An older one is named and passed over. With
# BALLAST_VALIDATOR=pinned (scripts/test.sh sets it, so CI stays reproducible) only the pinned
# build below is used. `--which` prints the choice and its reason and builds nothing.
#
# Prints SOLANA_TEST_VALIDATOR=<path> on stdout.
set -euo pipefail
which_only=0
[ "${1:-}" = "--which" ] && which_only=1

AGAVE_VERSION=4.2.2
log() { echo "[validator] $*" >&2; }
# shellcheck source=../lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/apt.sh"
# shellcheck source=../lib/progress.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/progress.sh"

cache_root="${BALLAST_CACHE:-$HOME/.cache/ballast}"
dir="$cache_root/validator/agave-validator-$AGAVE_VERSION"
bin="$dir/bin/solana-test-validator"

# The first version whose default features run the program's layout.
MIN_MAJOR=4
if [ "${BALLAST_VALIDATOR:-}" != "pinned" ] && on_path="$(command -v solana-test-validator)"; then
  version="$("$on_path" --version 2>/dev/null | awk '{ print $2 }')" || version=""
  major="${version%%.*}"
  if [[ "$major" =~ ^[0-9]+$ ]] && [ "$major" -ge "$MIN_MAJOR" ]; then
    log "using $on_path ($version, from PATH): $MIN_MAJOR.x or later runs the program's SIMD-0460 layout"
    echo "SOLANA_TEST_VALIDATOR=$on_path"
    exit 0
  fi
  log "not using $on_path (version ${version:-unknown}): the program needs $MIN_MAJOR.0 or later (SIMD-0460 layout); using the pinned $AGAVE_VERSION build"
fi
if [ "$which_only" = 1 ]; then
  log "using the pinned agave-validator $AGAVE_VERSION (${bin})$([ -x "$bin" ] || echo ', to be built')"
  echo "SOLANA_TEST_VALIDATOR=$bin"
  exit 0
fi

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
