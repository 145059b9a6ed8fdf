#!/usr/bin/env bash
# Mutation check (issue 11 item 5): breaks the program on purpose, one way at a time, runs the
# unit tests and the native integration tests, and records which tests caught each mutation in
# docs/security.md (between the mutation markers). A mutation that no test catches is a missing
# test. Every file is restored afterwards, whatever happens.
#   bash scripts/mutations.sh          # ~2 min per mutation on 2 cores
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Each mutation: a name, the file, the exact text (it must occur once) and its replacement.
names=(
  "drop an owner check (the Pyth receiver owns a pull price account)"
  "flip a rounding (deposit shares burned for a withdrawal round down)"
  "skip the timelock (a loosening applies at once)"
  "accept an older price (the pinned-account check of the one pricing path dropped)"
)
files=(
  programs/ballast/src/oracle/pull.rs
  crates/ballast-risk/src/shares.rs
  programs/ballast/src/instructions/configure_reserve.rs
  programs/ballast/src/health.rs
)
froms=(
  '    if *owner != PYTH_RECEIVER_PROGRAM_ID {'
  '    mul_div_ceil(amount, total_shares, total_assets)'
  '.filter(|l| timelock > 0 && l.waits(empty, counts_as_collateral));'
  '    if *key != config.price_account {'
)
tos=(
  '    if false && *owner != PYTH_RECEIVER_PROGRAM_ID {'
  '    mul_div_floor(amount, total_shares, total_assets)'
  '.filter(|_| false);'
  '    if false && *key != config.price_account {'
)

backup="$(mktemp -d)"
restore() {
  for f in programs/ballast/src/oracle/pull.rs crates/ballast-risk/src/shares.rs \
    programs/ballast/src/instructions/configure_reserve.rs programs/ballast/src/health.rs; do
    [ -f "$backup/$(echo "$f" | tr / _)" ] && cp "$backup/$(echo "$f" | tr / _)" "$f"
  done
}
trap restore EXIT

report="$(mktemp)"
{
  echo "| mutation | caught by (tests that failed) |"
  echo "|---|---|"
} >"$report"

for k in "${!names[@]}"; do
  name="${names[$k]}" file="${files[$k]}" from="${froms[$k]}" to="${tos[$k]}"
  cp "$file" "$backup/$(echo "$file" | tr / _)"
  python3 - "$file" "$from" "$to" <<'EOF'
import sys
path, old, new = sys.argv[1:4]
s = open(path).read()
assert s.count(old) == 1, f"{path}: the mutated text must occur once: {old!r}"
open(path, "w").write(s.replace(old, new))
EOF
  echo "== mutation: $name" >&2
  log="$(mktemp)"
  set +e
  RUST_LOG=error cargo test --locked --no-fail-fast -p ballast-risk -p ballast --lib >"$log" 2>&1
  RUST_LOG=error cargo test --locked --no-fail-fast -p ballast-tests native:: >>"$log" 2>&1
  set -e
  caught=$(grep -E '^test .* \.\.\. FAILED$' "$log" | sed -E 's/^test (.*) \.\.\. FAILED$/`\1`/' | sort -u | paste -sd ' ' -)
  rm -f "$log"
  cp "$backup/$(echo "$file" | tr / _)" "$file"
  git checkout -q -- crates/ballast-risk/proptest-regressions 2>/dev/null || true
  echo "| $name | ${caught:-**none: a missing test**} |" >>"$report"
done

python3 - "$report" <<'EOF'
import sys
table = open(sys.argv[1]).read()
path = "docs/security.md"
s = open(path).read()
begin, end = "<!-- mutations:begin -->", "<!-- mutations:end -->"
i, j = s.index(begin) + len(begin), s.index(end)
open(path, "w").write(s[:i] + "\n" + table + s[j:])
EOF
rm -f "$report"
echo "wrote docs/security.md (mutation check)" >&2
