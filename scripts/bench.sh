#!/usr/bin/env bash
# Compute-unit benchmark: builds the SBF program and regenerates docs/compute-units.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/build-sbf.sh
cargo run --locked -q -p ballast-tests --bin compute-units
