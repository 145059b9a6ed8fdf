#!/usr/bin/env bash
# Installs (once) and caches the upstream-LLVM SBF toolchain used to build target/deploy/ballast.so
# on machines without Solana's platform-tools. Idempotent: a second run only checks stamps.
#
# Pieces (why each is needed: docs/sbf-build.md):
#   - Debian rustc-web + rust-web-src: a rustc whose std sources match it exactly (-Zbuild-std)
#   - LLVM 23 static SDK with the BPF target, from the PyPI wheels mlc-llvm-static(-extra-targets)
#   - sbpf-linker 0.2.6 (+ bpf-linker 0.13.0) built against that LLVM, with two small patches
#   - a copy of Rust's std sources patched for os = "solana"
#
# Prints SBF_LINKER=, SBF_RUST_SRC= and SBF_TARGET_JSON= lines on stdout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
patches="$here/patches"

SBPF_LINKER_VERSION=0.2.6
BPF_LINKER_VERSION=0.13.0
LLVM_WHEEL_VERSION=23.1.1.post0
CRATES_DL="${BALLAST_CRATES_DL:-https://static.crates.io/crates}"

log() { echo "[sbf-toolchain] $*" >&2; }
# shellcheck source=../lib/apt.sh
source "$here/../lib/apt.sh"
# shellcheck source=../lib/progress.sh
source "$here/../lib/progress.sh"

# 1. Debian compiler + std sources (apt is idempotent; skip it when already installed).
apt_ensure rustc-web cargo-web rust-web-src libzstd-dev patch unzip
rustc_ver="$(/usr/bin/rustc --version | awk '{print $2}')"
case "$rustc_ver" in
  1.9[6-9]*|1.[1-9][0-9][0-9]*) ;;
  *) log "Debian rustc-web is $rustc_ver; the SBF build needs >= 1.96 (LLVM 22 era std)"; exit 1 ;;
esac

cache_root="${BALLAST_CACHE:-$HOME/.cache/ballast}"
# Each piece is cached under a key of exactly what it is built from.
hash_of() { cat "$@" | sha256sum | cut -c1-12; }
tc="$cache_root/sbf-toolchain/rustc-$rustc_ver-llvm-$LLVM_WHEEL_VERSION"
linker_dir="$tc/sbpf-linker-$SBPF_LINKER_VERSION-$(hash_of "$patches"/sbpf-linker-*.diff "$patches"/bpf-linker-*.diff)"
std_dir="$tc/std-$(hash_of "$patches"/std-*.diff)"
mkdir -p "$tc"

# 2. LLVM 23 static SDK from PyPI.
if [ ! -f "$tc/llvm.stamp" ]; then
  log "downloading LLVM $LLVM_WHEEL_VERSION wheels"
  rm -rf "$tc/wheels" "$tc/llvm"
  python3 -m pip download -q --no-deps -d "$tc/wheels" \
    "mlc-llvm-static==$LLVM_WHEEL_VERSION" "mlc-llvm-static-extra-targets==$LLVM_WHEEL_VERSION" >&2
  for w in "$tc"/wheels/*.whl; do unzip -q -o "$w" -d "$tc/llvm"; done
  rm -rf "$tc/wheels"
  touch "$tc/llvm.stamp"
fi
llvm_prefix="$tc/llvm/mlc_llvm_static/static"
[ -d "$llvm_prefix" ] || { log "LLVM prefix $llvm_prefix missing"; exit 1; }

# 3. Patched sbpf-linker.
if [ ! -x "$linker_dir/bin/sbpf-linker" ]; then
  log "building sbpf-linker $SBPF_LINKER_VERSION against LLVM 23 (~6 min on 2 cores)"
  src="$linker_dir/src"
  rm -rf "$src"; mkdir -p "$src"
  for c in "sbpf-linker:$SBPF_LINKER_VERSION" "bpf-linker:$BPF_LINKER_VERSION"; do
    name="${c%%:*}"; ver="${c##*:}"
    curl -fsSL "$CRATES_DL/$name/$name-$ver.crate" | tar xz -C "$src"
    mv "$src/$name-$ver" "$src/$name"
  done
  (cd "$src/sbpf-linker" && patch -s -p2 < "$patches/sbpf-linker-v0-gaps.diff")
  (cd "$src/bpf-linker" && patch -s -p2 < "$patches/bpf-linker-lower-atomic.diff")
  rm -f "$src/sbpf-linker/rust-toolchain.toml"
  printf '\n[patch.crates-io]\nbpf-linker = { path = "../bpf-linker" }\n' >> "$src/sbpf-linker/Cargo.toml"
  LLVM_PREFIX="$llvm_prefix" CARGO_TARGET_DIR="$linker_dir/target" \
    with_progress sbf-toolchain "$linker_dir/target" \
    cargo install -q --root "$linker_dir" --path "$src/sbpf-linker" \
      --no-default-features --features bpf-linker/llvm-23,bpf-linker/llvm-link-static >&2
  rm -rf "$linker_dir/target" "$src"
fi

# 4. Rust std sources, patched for os = "solana".
if [ ! -f "$std_dir/std.stamp" ]; then
  log "preparing patched std sources"
  lib_src="$(dpkg -L rust-web-src | grep -E '/library/std/Cargo.toml$' | head -n1)"
  lib_src="${lib_src%/std/Cargo.toml}"
  rm -rf "$std_dir"; mkdir -p "$std_dir"
  cp -r "$lib_src" "$std_dir/library"
  for d in "$patches"/std-*.diff; do (cd "$std_dir" && patch -s -p1 < "$d"); done
  touch "$std_dir/std.stamp"
fi

# What build-sbf.sh needs, as shell assignments.
echo "SBF_LINKER=$linker_dir/bin/sbpf-linker"
echo "SBF_RUST_SRC=$std_dir/library"
echo "SBF_TARGET_JSON=$patches/sbpf-solana-solana.json"
