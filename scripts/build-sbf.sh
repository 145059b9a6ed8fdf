#!/usr/bin/env bash
# Builds the real SBF program, target/deploy/ballast.so, with the upstream-LLVM toolchain
# (scripts/sbf/toolchain.sh installs and caches it). Idempotent; a warm rebuild takes seconds.
#
# Machines with Solana's platform-tools can use the official path instead: `anchor build`
# (or `cargo build-sbf --manifest-path programs/ballast/Cargo.toml`), see docs/sbf-build.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

toolchain="$(bash scripts/sbf/toolchain.sh)"
eval "$toolchain"
sbf_target_dir="${CARGO_TARGET_DIR:-$root/target}/sbf"

# SBPF v0 with stack-frame gaps: what mainnet and the agave 3.1 runtime used by the tests execute.
flags="-C target-cpu=v2 -C target-feature=+allows-misaligned-mem-access -C link-arg=--arch=v0"
flags+=" -C link-arg=--llvm-args=--bpf-stack-size=4096 -C link-arg=--llvm-args=--disable-movsx"
flags+=" -C link-arg=--llvm-args=--disable-ldsx -Zunstable-options -C panic=immediate-abort"
flags+=" -C link-arg=--deploy=false" # we place the .so ourselves (the linker would use ./target)

# ballast, and the localnet-only oracle writer the local validator loads at the Pyth receiver's
# address (never deployed elsewhere; see programs/localnet-oracle).
echo "[build-sbf] building programs/ballast and programs/localnet-oracle for SBF (target dir $sbf_target_dir)" >&2
env RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 RUSTC_BOOTSTRAP_SYNTHETIC_TARGET=1 \
  __CARGO_TESTS_ONLY_SRC_ROOT="$SBF_RUST_SRC" \
  SBPF_V0_STACK_FRAME_GAPS=1 \
  CARGO_TARGET_SBPF_SOLANA_SOLANA_LINKER="$SBF_LINKER" \
  CARGO_TARGET_SBPF_SOLANA_SOLANA_RUSTFLAGS="$flags" \
  CARGO_TARGET_DIR="$sbf_target_dir" \
  /usr/bin/cargo build --locked --release --quiet -p ballast -p localnet-oracle \
    --target "$SBF_TARGET_JSON" -Zbuild-std=std,panic_abort -Zjson-target-spec

mkdir -p target/deploy
cp "$sbf_target_dir/sbpf-solana-solana/release/deps/libballast.so" target/deploy/ballast.so
cp keys/ballast-program-keypair.json target/deploy/ballast-keypair.json
cp "$sbf_target_dir/sbpf-solana-solana/release/deps/liblocalnet_oracle.so" target/deploy/localnet_oracle.so
echo "[build-sbf] target/deploy/ballast.so: $(stat -c %s target/deploy/ballast.so) bytes" >&2
