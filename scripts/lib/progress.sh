# Sourced by the install scripts: `with_progress LABEL DIR CMD...` runs CMD and, while it runs,
# prints every 60 s how long it has taken and how many crates it has compiled so far (counted
# in DIR, a cargo target directory), so a long cold install is never silent. Returns CMD's status.
with_progress() {
  local label="$1" dir="$2" started ticker status
  shift 2
  started=$(date +%s)
  (
    while sleep 60; do
      crates=$(find "$dir" -maxdepth 3 -type d -path '*/.fingerprint/*' 2>/dev/null | wc -l)
      echo "[$label] still building: $(( ($(date +%s) - started) / 60 )) min, $crates crates compiled" >&2
    done
  ) &
  ticker=$!
  set +e
  "$@"
  status=$?
  set -e
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  echo "[$label] finished in $(( ($(date +%s) - started) / 60 )) min (status $status)" >&2
  return "$status"
}
