# Sourced by the install scripts: `with_progress LABEL DIR CMD...` runs CMD and, while it runs,
# prints every 60 s how long it has taken and how many libraries it has built so far (rlibs in
# DIR, a cargo target directory), so a long cold install is never silent. Returns CMD's status.
with_progress() {
  local label="$1" dir="$2" started ticker status
  shift 2
  started=$(date +%s)
  (
    while sleep 60; do
      built=$(find "$dir" -maxdepth 3 -name '*.rlib' 2>/dev/null | wc -l)
      echo "[$label] still building: $(( ($(date +%s) - started) / 60 )) min, $built libraries built" >&2
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
