#!/usr/bin/env bash
# The TypeScript client and the web app (app/ts, app/web), part of scripts/test.sh:
#   1. Node packages from the committed lockfile (`npm ci`, cached in ~/.npm) and Debian's
#      Chromium, installed on first use,
#   2. the generated client must match idl/ballast.json,
#   3. the client's unit tests against what the Rust SDK computes (ts-fixtures), and
#      `@coral-xyz/anchor`'s `Program` on the committed IDL against a local validator,
#   4. the web app type-checks, and its browser test runs against a local validator.
# Ends with node's TAP "# pass N" / "# fail N" lines (scripts/test.sh counts them).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
log() { echo "[ts] $*" >&2; }
# shellcheck source=lib/apt.sh
source scripts/lib/apt.sh

# shellcheck source=lib/node.sh
source scripts/lib/node.sh
node_ensure
apt_ensure chromium

npm run -s check-generated -w app/ts
cargo build --locked -q -p ballast-cli --bin ballast --bin ts-fixtures
mkdir -p target/ts
target/debug/ts-fixtures >target/ts/fixtures.json
log "client tests"
(cd app/ts && npx tsc -p tsconfig.json && BALLAST_TS_FIXTURES="$root/target/ts/fixtures.json" node --test dist/test/)
log "web app: type check and browser test (Chromium, local validator)"
(cd app/web && npx tsc --noEmit -p tsconfig.json && node --test test/)
