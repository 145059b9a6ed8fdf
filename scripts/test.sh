#!/usr/bin/env bash
# The whole test suite (README command 2; .ci/run runs exactly this):
#   1. build the real SBF program (installs and caches the toolchain on first use),
#   2. formatting and clippy (-D warnings),
#   3. the IDL must match idl/ballast.json,
#   4. the local validator (built from crates.io and cached on first use),
#   5. every unit test, every integration test in its three modes (native; SBF on LiteSVM with
#      every feature, the deployable SIMD-0460 artifact; SBF on program-test 3.1, the old-layout
#      artifact), and the end-to-end tests on a default-feature solana-test-validator
#      (app/cli/tests/: localnet.rs, keeper_supervision.rs, and crash.rs, the crash benchmark's
#      short form),
#   6. the TypeScript client's tests and the web app's browser test (scripts/ts.sh),
#   7. the compute-unit gate: no instruction more than 2 % above docs/compute-units.md.
# Ends with a "N passed, N failed" line.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
start=$(date +%s)
# The pinned validator build, whatever else is on PATH (scripts/localnet/install-validator.sh).
export BALLAST_VALIDATOR=pinned
step() { echo "== $* ($(( $(date +%s) - start ))s)" >&2; }

step "SBF build"
bash scripts/build-sbf.sh

step "local validator"
bash scripts/localnet/install-validator.sh >/dev/null

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy"
cargo clippy --locked --workspace --all-targets -q -- -D warnings

step "IDL freshness"
cargo run --locked -q -p xtask -- idl-check

step "tests (native and both SBF modes)"
log="$(mktemp)"
set +e
# The bank logs every instruction at debug level; keep the output readable (override RUST_LOG).
RUST_LOG="${RUST_LOG:-error}" cargo test --locked --workspace 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# A real cluster's build takes its program id from BALLAST_PROGRAM_ID (migrations/README.md).
BALLAST_PROGRAM_ID=Ba11astDevnet1111111111111111111111111111111 \
  cargo test --locked -q -p ballast --features cluster-program-id --lib program_id 2>&1 | tee -a "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
step "TypeScript client and web app (Chromium against a local validator)"
ts_log="$(mktemp)"
bash scripts/ts.sh 2>&1 | tee "$ts_log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
ts_passed=$(awk '/^# pass / { n += $3 } END { print n + 0 }' "$ts_log")
ts_failed=$(awk '/^# fail / { n += $3 } END { print n + 0 }' "$ts_log")
rm -f "$ts_log"
set -e
passed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^passed/) n += $i } END { print n + 0 }' "$log")
failed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^failed/) n += $i } END { print n + 0 }' "$log")
native=$(grep -cE '^test native::.* \.\.\. ok$' "$log" || true)
sbf=$(grep -cE '^test sbf::.* \.\.\. ok$' "$log" || true)
sbf_gaps=$(grep -cE '^test sbf_v0_gaps::.* \.\.\. ok$' "$log" || true)
rm -f "$log"
passed=$(( passed + ts_passed ))
failed=$(( failed + ts_failed ))
step "compute-unit gate"
if ! cargo run --locked -q -p ballast-tests --bin compute-units -- --check; then
  failed=$(( ${failed:-0} + 1 ))
  status=1
fi
step "done"
# Disk use, for CI machines with little room (a full disk fails the link with a bus error).
echo "disk: target/ $(du -sh target 2>/dev/null | cut -f1), ~/.cache/ballast $(du -sh "${BALLAST_CACHE:-$HOME/.cache/ballast}" 2>/dev/null | cut -f1), free $(df -h --output=avail . | tail -1 | tr -d ' ')" >&2
echo "integration tests passed: $native native, $sbf SBF (SIMD-0460 layout), $sbf_gaps SBF (v0 stack-frame gaps); TypeScript: $ts_passed passed"
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$status"
