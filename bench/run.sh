#!/usr/bin/env bash
# The full comparison: pushlab and three peers (Node `ws`, Node SSE over
# node:http, nginx + nchan) through the same scenarios, one server at a time,
# on loopback. Installs what is missing, starts each server, stops everything
# it started, and writes bench/results/<date>.json, docs/PERFORMANCE.md and
# docs/perf-fanout.svg and docs/perf-scale.svg. About 40 minutes on 2 cores.
#
#   bench/run.sh            the full run
#   bench/run.sh --quick    a few clients for a few seconds per scenario, into
#                           target/bench-quick/ (checks the harness; CI runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
quick=false
[[ "${1:-}" == "--quick" ]] && quick=true
say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

bash scripts/setup.sh
source scripts/env.sh
if [[ ! -f /usr/lib/nginx/modules/ngx_nchan_module.so ]] || ! command -v nginx >/dev/null; then
  say "installing nginx and Debian's nchan module"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    nginx-light libnginx-mod-nchan >/dev/null
fi
if [[ ! -d bench/peers/node_modules/ws ]]; then
  say "installing the Node peers' packages (bench/peers)"
  (cd bench/peers && npm ci --no-audit --no-fund >/dev/null)
fi
say "release builds: the server, the site and the load runner"
cargo leptos build --release
cargo build --release -p pushlab-bench

# 18,000 connections held at once need as many files on each side.
ulimit -n 20000
date=$(date -u +%F)
if $quick; then out=target/bench-quick; flag=--quick; else out=bench/results; flag=; fi
work=$(mktemp -d)
load=target/release/pushlab-load
token=bench
pids=()
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'stop_all; rm -rf "$work"' EXIT

wait_for() { # url: any HTTP answer will do
  for _ in $(seq 100); do [[ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" != 000 ]] && return 0; sleep 0.1; done
  echo "no answer from $1" >&2
  return 1
}

# run_scenarios NAME URL PID PROTOCOL TRANSPORTS SCENARIO...
run_scenarios() {
  local name=$1 url=$2 pid=$3 protocol=$4 transports=$5
  shift 5
  mkdir -p "$work/$name"
  for scenario in "$@"; do
    say "$name: $scenario"
    if ! "$load" scenario "$scenario" $flag --json --url "$url" --protocol "$protocol" --transports "$transports" \
      --token "$token" --server-pid "$pid" >"$work/$name/$scenario.json" 2>>"$work/$name.log"; then
      echo "  $name $scenario failed: $(tail -1 "$work/$name.log")" >&2
      rm -f "$work/$name/$scenario.json"
    fi
  done
}

# Between servers: nothing from the last one still holding the cores or ports.
stop_last() {
  kill "${pids[-1]}" 2>/dev/null || true
  wait "${pids[-1]}" 2>/dev/null || true
  sleep 1
}

peer_scenarios=(idle capacity fan-out scale latency wire-cost)

say "pushlab (release)"
# --max-connections: the scale scenario holds 15,000 of one transport (the default caps each at 10,000).
LEPTOS_SITE_ROOT=target/site LEPTOS_ENV=PROD target/release/pushlab --addr 127.0.0.1:3100 --token "$token" \
  --no-presence --max-connections 16000 >"$work/pushlab-server.log" 2>&1 &
pids+=($!)
wait_for http://127.0.0.1:3100/api/time
run_scenarios pushlab http://127.0.0.1:3100 "${pids[-1]}" pushlab poll,long-poll,sse,ws \
  idle capacity fan-out scale latency wire-cost faults slow-consumer reconnect-storm
stop_last

say "pushlab --tls (HTTP/1.1 and HTTP/2 by ALPN, a self-signed certificate)"
LEPTOS_SITE_ROOT=target/site LEPTOS_ENV=PROD target/release/pushlab --addr 127.0.0.1:3104 --tls --token "$token" \
  --no-presence >"$work/pushlab-tls-server.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ "$(curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1:3104/api/time)" != 000 ]] && break; sleep 0.1; done
run_scenarios pushlab https://127.0.0.1:3104 "${pids[-1]}" pushlab poll,long-poll,sse wire-cost-tls
stop_last

say "pushlab, many instances (scripts/cluster.sh: Redis, 2 instances, nginx round robin)"
bash scripts/cluster.sh --no-build --port 3110 -- --token "$token" --no-presence --max-connections 16000 \
  >"$work/cluster.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do grep -q '^open: ' "$work/cluster.log" && break; sleep 0.1; done
members=()
while read -r id port pid; do
  members+=(--instance "$id=$pid=http://127.0.0.1:$port")
done < <(sed -n 's/.*instance \([a-z]\) on 127.0.0.1:\([0-9]*\) (pid \([0-9]*\).*/\1 \2 \3/p' "$work/cluster.log")
redis_pid=$(sed -n 's/.*redis-server on .* (pid \([0-9]*\)).*/\1/p' "$work/cluster.log")
say "pushlab cluster: cluster"
if ! "$load" scenario cluster $flag --json --url http://127.0.0.1:3110 --token "$token" "${members[@]}" \
  --broker-pid "$redis_pid" >"$work/pushlab/cluster.json" 2>>"$work/pushlab.log"; then
  echo "  pushlab cluster failed: $(tail -1 "$work/pushlab.log"; tail -3 "$work/cluster.log")" >&2
  rm -f "$work/pushlab/cluster.json"
fi
stop_last

# node_peer NAME SCRIPT PORT TRANSPORT: a Node peer, through the peers' scenarios.
node_peer() {
  say "$1"
  node "bench/peers/$2" --addr "127.0.0.1:$3" --token "$token" >"$work/$1-server.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$3/api/time"
  run_scenarios "$1" "http://127.0.0.1:$3" "${pids[-1]}" pushlab "$4" "${peer_scenarios[@]}"
  stop_last
}
node_peer node-ws ws-peer.mjs 3101 ws
node_peer node-sse sse-peer.mjs 3102 sse

say "nchan"
mkdir -p "$work/nginx/tmp"
nginx -p "$work/nginx" -c "$PWD/bench/peers/nchan.conf" >"$work/nchan-server.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do worker=$(pgrep -P "${pids[-1]}" | head -1) && [[ -n "$worker" ]] && break; sleep 0.1; done
wait_for http://127.0.0.1:3103/sub-nothing
run_scenarios nchan http://127.0.0.1:3103 "$worker" nchan long-poll,sse,ws "${peer_scenarios[@]}"
stop_last

{
  echo "node: $(node --version)"
  echo "ws: $(node -p "require('./bench/peers/node_modules/ws/package.json').version")"
  echo "nginx: $(nginx -v 2>&1 | sed 's|.*/||')"
  echo "nchan: $(dpkg-query -W -f '${Version}' libnginx-mod-nchan 2>/dev/null || echo unknown)"
  echo "rustc: $(rustc --version | cut -d' ' -f2)"
} >"$work/versions.txt"

mkdir -p "$out"
if $quick; then
  "$load" report "$work" --date "$date" --json "$out/$date.json" --markdown "$out/PERFORMANCE.md" --check
else
  "$load" report "$work" --date "$date" --json "$out/$date.json" --markdown docs/PERFORMANCE.md --check
fi
