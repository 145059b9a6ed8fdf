#!/usr/bin/env bash
# Benchmarks: builds the SBF program and regenerates docs/compute-units.md (compute units per
# instruction) and docs/keeper-bench.md (keeper scan of 100 000 positions, and the end-to-end latency of its last run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The phase breakdown's benchmark build first: the plain build after it leaves the deployable
# program in target/deploy/ballast.so.
bash scripts/build-sbf.sh --cu-trace
bash scripts/build-sbf.sh
cargo run --locked -q -p ballast-tests --bin compute-units
cargo run --locked -q --profile fast-release -p ballast-cli --bin keeper-bench
