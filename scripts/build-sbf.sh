#!/usr/bin/env bash
# Builds the real SBF program with the upstream-LLVM toolchain (scripts/sbf/toolchain.sh installs
# and caches it). Idempotent; a warm rebuild takes seconds. Two artifacts, one compilation:
#   target/deploy/ballast.so          SIMD-0460 layout: devnet, testnet, default test validators
#                                     (and mainnet once virtual_address_space_adjustments is active)
#   target/deploy/ballast-v0-gaps.so  SBPF v0 with stack-frame gaps: mainnet until then
#   target/deploy/ballast-localnet.so the local validator's build (feature `localnet`: a pull reserve
#                                     may pin the localnet oracle writer's accounts), never deployed
#                                     elsewhere; built in a target dir of its own so that both stay warm
# (docs/sbf-build.md says which cluster runs which, and how to move between them).
#
# Machines with Solana's platform-tools can use the official path instead: `anchor build`
# (or `cargo build-sbf --manifest-path programs/ballast/Cargo.toml`), see docs/sbf-build.md.
#
# `--cu-trace` builds the compute-unit breakdown's benchmark program instead, with phase markers
# in its log (feature `cu-trace`): target/deploy/ballast-cu-trace.so, never deployed. The next
# plain build rebuilds ballast without them.
set -euo pipefail
cu_trace=false
[ "${1:-}" = "--cu-trace" ] && cu_trace=true
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

toolchain="$(bash scripts/sbf/toolchain.sh)"
eval "$toolchain"
sbf_target_dir="${CARGO_TARGET_DIR:-$root/target}/sbf"

# SBPF v0; the linker wrapper links each program for both stack layouts.
flags="-C target-cpu=v2 -C target-feature=+allows-misaligned-mem-access -C link-arg=--arch=v0"
flags+=" -C link-arg=--llvm-args=--bpf-stack-size=4096 -C link-arg=--llvm-args=--disable-movsx"
flags+=" -C link-arg=--llvm-args=--disable-ldsx -Zunstable-options -C panic=immediate-abort"
flags+=" -C link-arg=--deploy=false" # we place the .so ourselves (the linker would use ./target)
# The link's optimization pass inlines what is marked `#[inline]` (LLVM's hint threshold) and what
# costs nothing, not every small function: that duplication was a third of the program's size
# (976 → 632 KB) for 2–3 % of its compute units (docs/decisions.md "Compute and program size").
flags+=" -C link-arg=--llvm-args=-inline-threshold=-25"

# The deployed program's own entrypoint (programs/ballast/src/fast_entrypoint.rs): Anchor's costs
# about 75 compute units more per account.
features=(--features ballast/fast-entrypoint)
# A real cluster's build names its program id (migrations/README.md); by default the localnet id.
id_feature=()
if [ -n "${BALLAST_PROGRAM_ID:-}" ]; then
  id_feature=(--features ballast/cluster-program-id)
  echo "[build-sbf] program id $BALLAST_PROGRAM_ID (BALLAST_PROGRAM_ID), not the localnet id" >&2
fi

# cargo build for SBF with the upstream toolchain (arguments: packages and features).
sbf_cargo_build() {
  env RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 RUSTC_BOOTSTRAP_SYNTHETIC_TARGET=1 \
    __CARGO_TESTS_ONLY_SRC_ROOT="$SBF_RUST_SRC" \
    BALLAST_SBPF_LINKER="$SBF_LINKER" \
    CARGO_TARGET_SBPF_SOLANA_SOLANA_LINKER="$root/scripts/sbf/link-both-layouts.sh" \
    CARGO_TARGET_SBPF_SOLANA_SOLANA_RUSTFLAGS="$flags" \
    CARGO_TARGET_DIR="${sbf_target_dir}" \
    /usr/bin/cargo build --locked --release --quiet "$@" \
      --target "$SBF_TARGET_JSON" -Zbuild-std=std,panic_abort -Zjson-target-spec
}

if $cu_trace; then
  echo "[build-sbf] benchmark build with compute-unit phase markers (feature cu-trace)" >&2
  sbf_cargo_build -p ballast "${features[@]}" --features ballast/cu-trace
  mkdir -p target/deploy
  cp "$sbf_target_dir/sbpf-solana-solana/release/deps/libballast.so" target/deploy/ballast-cu-trace.so
  echo "[build-sbf] target/deploy/ballast-cu-trace.so (benchmark only)" >&2
  exit 0
fi

# ballast, and the localnet-only oracle writer the local validator loads at the Pyth receiver's
# address (never deployed elsewhere; see programs/localnet-oracle).
echo "[build-sbf] building programs/ballast and programs/localnet-oracle for SBF (target dir $sbf_target_dir)" >&2
sbf_cargo_build -p ballast -p localnet-oracle "${features[@]}" "${id_feature[@]}"

deps="$sbf_target_dir/sbpf-solana-solana/release/deps"
# The wrapper writes X-v0-gaps.so right after X.so: an older one is a stale link of other code.
for so in libballast liblocalnet_oracle; do
  if [ ! -f "$deps/$so-v0-gaps.so" ] || [ "$deps/$so.so" -nt "$deps/$so-v0-gaps.so" ]; then
    echo "[build-sbf] $deps/$so-v0-gaps.so is missing or older than $so.so (touch a program source to relink)" >&2
    exit 1
  fi
done
mkdir -p target/deploy
cp "$deps/libballast.so" target/deploy/ballast.so
cp "$deps/libballast-v0-gaps.so" target/deploy/ballast-v0-gaps.so
if [ -z "${BALLAST_PROGRAM_ID:-}" ]; then
  cp keys/ballast-program-keypair.json target/deploy/ballast-keypair.json
else
  rm -f target/deploy/ballast-keypair.json # the cluster's keypair stays with its owner
fi
# The localnet oracle writer only ever runs on a local validator: the SIMD-0460 layout.
cp "$deps/liblocalnet_oracle.so" target/deploy/localnet_oracle.so
# The local validator's build of ballast (SIMD-0460 layout, the localnet program id; not for a
# cluster build).
if [ -z "${BALLAST_PROGRAM_ID:-}" ]; then
  echo "[build-sbf] building programs/ballast with feature localnet (target dir $sbf_target_dir-localnet)" >&2
  sbf_target_dir="$sbf_target_dir-localnet" sbf_cargo_build -p ballast "${features[@]}" --features ballast/localnet
  cp "$sbf_target_dir-localnet/sbpf-solana-solana/release/deps/libballast.so" target/deploy/ballast-localnet.so
fi
if cmp -s target/deploy/ballast.so target/deploy/ballast-v0-gaps.so; then
  layouts="identical: this build passes no argument on the stack and runs on either layout"
else
  layouts="they differ: deploy the one the cluster's layout needs (docs/sbf-build.md)"
fi
echo "[build-sbf] target/deploy/ballast.so $(stat -c %s target/deploy/ballast.so) bytes (SIMD-0460 layout)," \
  "ballast-v0-gaps.so (stack-frame gaps); $layouts" >&2
