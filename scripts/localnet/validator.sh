#!/usr/bin/env bash
# Starts or stops a local solana-test-validator with Ballast and the localnet oracle writer
# loaded at genesis. Loopback only.
#
#   validator.sh start [LEDGER_DIR] [RPC_PORT]   # background; waits until RPC answers
#   validator.sh stop  [LEDGER_DIR]
#
# RPC on RPC_PORT (default 8899), websocket on RPC_PORT+1, faucet on RPC_PORT+2, gossip and
# the validator's other ports in RPC_PORT+10..RPC_PORT+60. The programs are
# target/deploy/ballast-localnet.so (scripts/build-sbf.sh: the program with feature `localnet`, which
# lets a pull reserve pin the writer's accounts) at the Ballast program id and
# target/deploy/localnet_oracle.so at the Pyth receiver id (see programs/localnet-oracle).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cmd="${1:?start or stop}"
ledger="${2:-$root/target/localnet/ledger}"
port="${3:-8899}"
pidfile="$ledger.pid"

case "$cmd" in
  stop)
    if [ -f "$pidfile" ]; then
      pid="$(cat "$pidfile")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$pidfile"
    fi
    exit 0
    ;;
  start) ;;
  *) echo "usage: validator.sh start|stop [LEDGER_DIR] [RPC_PORT]" >&2; exit 2 ;;
esac

eval "$(bash "$root/scripts/localnet/install-validator.sh")"
for so in ballast-localnet localnet_oracle; do
  [ -f "$root/target/deploy/$so.so" ] || { echo "target/deploy/$so.so missing: run scripts/build-sbf.sh" >&2; exit 1; }
done
ballast_id="AGBGg7q9xdMcEik3583mov2g9xAnQBBum4PwNyGzVUh9"
pyth_receiver_id="rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ"
# The validator runs with its default feature set (every feature it knows, as devnet and testnet
# run them): the program is linked for that layout (SIMD-0460). Nothing is turned
# off here, so a cluster change that breaks the program shows up in the end-to-end test.

mkdir -p "$(dirname "$ledger")"
bash "$0" stop "$ledger"
"$SOLANA_TEST_VALIDATOR" \
  --ledger "$ledger" --reset --quiet \
  --bind-address 127.0.0.1 --rpc-port "$port" --faucet-port "$((port + 2))" \
  --gossip-port "$((port + 10))" --dynamic-port-range "$((port + 11))-$((port + 60))" \
  --bpf-program "$ballast_id" "$root/target/deploy/ballast-localnet.so" \
  --bpf-program "$pyth_receiver_id" "$root/target/deploy/localnet_oracle.so" \
  >"$ledger.log" 2>&1 &
echo $! >"$pidfile"

for _ in $(seq 1 150); do
  if curl -s -m 1 -X POST -H 'content-type: application/json' \
      -d '{"jsonrpc":"2.0","id":1,"method":"getHealth"}' "http://127.0.0.1:$port" | grep -q '"ok"'; then
    echo "[validator] RPC http://127.0.0.1:$port (pid $(cat "$pidfile"), log $ledger.log)" >&2
    exit 0
  fi
  if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "[validator] exited; log:" >&2; tail -20 "$ledger.log" >&2; exit 1
  fi
  sleep 0.2
done
echo "[validator] no RPC answer after 30 s; log: $ledger.log" >&2
exit 1
