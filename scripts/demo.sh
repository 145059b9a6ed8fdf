#!/usr/bin/env bash
# README command 1: set up on a fresh machine and run the main job. For now that is: build the
# real SBF program (installing the toolchain once) and run the demo scenario against it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/build-sbf.sh
# The bank logs every instruction at debug level; the demo prints its own summary.
RUST_LOG="${RUST_LOG:-error}" cargo run --locked -q -p ballast-tests --bin demo
