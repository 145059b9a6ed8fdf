#!/usr/bin/env bash
# README command 1: set up on a fresh machine and run the real thing on localnet.
#   1. build the SBF programs (installing the toolchain once) and the CLI and keeper,
#   2. start solana-test-validator on loopback (built and cached once) with the programs loaded,
#   3. bootstrap a market from migrations/localnet.toml (crypto, stablecoin, tokenized stock),
#   4. run a scripted scenario: deposits, borrows, a price drop, the keeper's liquidation, with
#      `ballast oracle publish` keeping the localnet prices fresh as Pyth's publishers would,
#   5. stop the publisher, the keeper and the validator (before the second part compiles).
# Then, in solana-program-test, the longer demo of every instruction (tests/src/bin/demo.rs).
# Last, the web app (app/web) on loopback against a fresh local validator with a demo position:
# it prints the URL and serves until Ctrl-C, its prices walking (`--no-serve`: checks that it
# answers, then stops).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
serve=1
for arg in "$@"; do
  case "$arg" in
    --no-serve) serve=0 ;;
    *) echo "usage: scripts/demo.sh [--no-serve]" >&2; exit 2 ;;
  esac
done
bash scripts/build-sbf.sh
bash scripts/localnet/install-validator.sh >/dev/null
cargo build --locked -q -p ballast-cli --bins
bin="$root/target/debug"

work="$root/target/localnet/demo"
rm -rf "$work"; mkdir -p "$work"
port=18899
keeper_pid=""
publisher_pid=""
stop_pid() {
  if [ -n "$1" ]; then
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}
stopped=""
cleanup() {
  [ -n "$stopped" ] && return
  stopped=1
  stop_pid "$keeper_pid"
  stop_pid "$publisher_pid"
  publisher_pid=""
  bash scripts/localnet/validator.sh stop "$work/ledger"
}
web_pid=""
stop_web() {
  stop_pid "$web_pid"
  stop_pid "$publisher_pid"
  bash scripts/localnet/validator.sh stop "$work/web-ledger"
}
trap 'cleanup; stop_web' EXIT
bash scripts/localnet/validator.sh start "$work/ledger" "$port"
url="http://127.0.0.1:$port"

say() { echo; echo "### $*"; }
b() { local who="$1"; shift; "$bin/ballast" -u "$url" -k "$work/$who.json" "$@"; }
bj() { local who="$1"; shift; "$bin/ballast" -u "$url" -k "$work/$who.json" --output json "$@"; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

say "wallets"
declare -A pubkey
for who in admin alice bob keeper; do
  pubkey[$who]="$(bj "$who" keygen "$work/$who.json" | field 'd["pubkey"]')"
  b "$who" airdrop 10 >/dev/null
  echo "$who ${pubkey[$who]}"
done
pub() { echo "${pubkey[$1]}"; }

say "market bootstrap (migrations/localnet.toml), then again: idempotent"
b admin market bootstrap --config migrations/localnet.toml
b admin market bootstrap --config migrations/localnet.toml
report="$(bj admin market bootstrap --config migrations/localnet.toml)"
export BALLAST_MARKET="$(echo "$report" | field 'd["market"]')"
mint() { echo "$report" | field "[r['mint'] for r in d['reserves'] if r['name']=='$1'][0]"; }
SOL="$(mint SOL)"; USDC="$(mint USDC)"; TSLA="$(mint TSLAx)"
feed() { printf "%02x" "$1" | python3 -c "import sys; print(sys.stdin.read().strip()*32)"; }
prices() {
  b admin oracle post --feed "$(feed 1)" --price "$1" >/dev/null
  b admin oracle post --feed "$(feed 2)" --price 1 >/dev/null
  b admin oracle post --feed "$(feed 3)" --price "$2" >/dev/null
  echo "prices: SOL \$$1, USDC \$1, TSLAx \$$2"
}
# Real Pyth feeds update every slot; on localnet the publisher republishes each posted price
# every second (a later `oracle post` becomes the new level), or the lag band would close
# borrowing ~20 s after each post.
publish() {
  b admin oracle publish "$@" 2>"$work/publisher.log" >/dev/null &
  publisher_pid=$!
  echo "price publisher running (log: $work/publisher.log)"
}

say "tokens, prices, deposits and borrows"
# Mints by symbol: the bootstrap's Token-2022 mints carry their names.
b admin token mint SOL 10 --to "$(pub alice)"
b admin token mint TSLAx 10 --to "$(pub bob)"
b admin token mint usdc 10000 --to "$(pub admin)"
b admin token mint USDC 2000 --to "$(pub keeper)"
prices 100 250
publish
for who in admin alice bob; do b "$who" position open; done
b admin deposit "$USDC" 10000
# Reserves by mint or, on localnet, by the name the bootstrap made the mint under.
b alice deposit SOL 10
b bob deposit TSLAx 10
b alice borrow USDC 600
b bob borrow "$USDC" 500
b alice borrow USDC 100 || echo "(refused, as it must be)"
b alice position show
b bob position show

say "keeper starts; SOL falls from \$100 to \$74"
RUST_LOG=info "$bin/ballast-keeper" -u "$url" -k "$work/keeper.json" --interval-ms 300 \
  --metrics-addr 127.0.0.1:19464 2>"$work/keeper.log" &
keeper_pid=$!
prices 74 250
for _ in $(seq 1 100); do
  grep -q "liquidated" "$work/keeper.log" && break
  sleep 0.3
done
grep "liquidated" "$work/keeper.log" | sed 's/^/keeper: /' || { echo "no liquidation"; cat "$work/keeper.log"; exit 1; }
sleep 1

say "after the liquidation"
b alice position show
b bob position show
b admin reserve show "$SOL"
curl -s http://127.0.0.1:19464/metrics | grep -E "^ballast_keeper_(positions_scanned|liquidations_landed)" || true

say "keeper and validator stopped"
cleanup

say "the longer scenario of every instruction, in solana-program-test"
RUST_LOG="${RUST_LOG:-error}" cargo run --locked -q -p ballast-tests --bin demo

say "the web app, against a fresh local validator with a demo position"
log() { echo "[demo] $*" >&2; }
# shellcheck source=lib/node.sh
source scripts/lib/node.sh
node_ensure
bash scripts/localnet/validator.sh start "$work/web-ledger" "$port"
unset BALLAST_MARKET
for who in admin alice; do b "$who" airdrop 10 >/dev/null; done
report="$(bj admin market bootstrap --config migrations/localnet.toml)"
export BALLAST_MARKET="$(echo "$report" | field 'd["market"]')"
b admin token mint SOL 10 --to "$(pub alice)" >/dev/null
b admin token mint USDC 10000 >/dev/null
prices 100 250 >/dev/null
publish --walk-bps 20
b admin deposit USDC 10000 >/dev/null
b alice deposit SOL 10 >/dev/null
b alice borrow USDC 500 >/dev/null
b alice position show
(cd app/web && "$root/node_modules/.bin/vite" build --logLevel warn)
web_port=5173
(cd app/web && exec "$root/node_modules/.bin/vite" preview --port "$web_port" --logLevel warn) &
web_pid=$!
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$web_port/" && break; sleep 0.2; done
app_url="http://127.0.0.1:$web_port/?rpc=$url&market=$BALLAST_MARKET"
echo "web app: $app_url"
echo "(alice's keypair, for a wallet that imports one: $work/alice.json; prices walk up to"
echo " 0.2 % a second; set a level with \`ballast -u $url -k $work/admin.json oracle post --feed $(feed 1) --price 80\`)"
if [ "$serve" = 1 ]; then
  echo "serving until Ctrl-C"
  wait "$web_pid"
else
  curl -sf -o /dev/null "http://127.0.0.1:$web_port/" && echo "the web app answers; stopping (--no-serve)"
fi
