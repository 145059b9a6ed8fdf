#!/usr/bin/env bash
# Linker for the SBF build (build-sbf.sh sets it as cargo's linker): links the same inputs twice,
#   OUTPUT           for the SIMD-0460 layout (virtual_address_space_adjustments active: devnet,
#                    testnet, a default solana-test-validator, mainnet once it activates there);
#   OUTPUT-v0-gaps.so  for SBPF v0 with stack-frame gaps (the runtime before SIMD-0460: mainnet
#                      today). The name keeps the `.so` ending: sbpf-linker only turns its object
#                      into a loadable shared object for an output named `*.so`.
# The two differ only where a call passes arguments on the stack (docs/sbf-build.md). Linking
# both from one compilation keeps them from drifting apart and costs one extra link, not a build.
set -euo pipefail
linker="${BALLAST_SBPF_LINKER:?set by scripts/build-sbf.sh}"

# rustc passes `-Os`/`-Oz` for opt-level "s"/"z", which LLVM 23 no longer takes as a level: the
# functions already carry the size attributes those levels set, so the link optimizes at -O2.
args=()
for a in "$@"; do
  case "$a" in
    -Os | -Oz) args+=("-O2") ;;
    *) args+=("$a") ;;
  esac
done
set -- "${args[@]}"

out=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    -o | --output) out="${args[i + 1]}" ;;
    --output=*) out="${args[i]#--output=}" ;;
    @*) echo "[link-both-layouts] response files are not supported: ${args[i]}" >&2; exit 1 ;;
  esac
done
[ -n "$out" ] || { echo "[link-both-layouts] no -o/--output in: $*" >&2; exit 1; }
gaps_out="${out%.so}-v0-gaps.so"

env -u SBPF_V0_STACK_FRAME_GAPS "$linker" "$@"

gaps_args=()
for a in "$@"; do
  case "$a" in
    "$out") gaps_args+=("$gaps_out") ;;
    "--output=$out") gaps_args+=("--output=$gaps_out") ;;
    *) gaps_args+=("$a") ;;
  esac
done
SBPF_V0_STACK_FRAME_GAPS=1 "$linker" "${gaps_args[@]}"
