#!/usr/bin/env bash
# The buffering trap from real infrastructure: Debian's nginx in front of
# pushlab with `proxy_buffering on`, `proxy_ignore_headers X-Accel-Buffering`
# and gzip on the stream, as proxies and CDNs that ignore the header behave.
# Server-Sent Events then arrive in clumps, seconds late; `--buffering off`
# shows the fix. Ctrl-C stops both.
#
#   scripts/proxy.sh [--buffering on|off] [--port 3000] [--no-build] [--upstream HOST:PORT] [-- server flags]
#
# nginx honours pushlab's `X-Accel-Buffering: no` unless told to ignore it;
# `--upstream` puts nginx in front of a pushlab already running.
set -euo pipefail
cd "$(dirname "$0")/.."

buffering=on port=3000 build=true upstream=""
while (($#)); do
  case "$1" in
    --buffering) buffering="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --no-build) build=false; shift ;;
    --upstream) upstream="$2"; build=false; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown flag $1 (try --help)" >&2; exit 2 ;;
  esac
done
[[ $buffering == on || $buffering == off ]] || { echo "--buffering must be on or off" >&2; exit 2; }

if $build; then
  bash scripts/setup.sh
  source scripts/env.sh
  bash scripts/release.sh
fi
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $nginx ]] || { echo "nginx is missing: run scripts/setup.sh" >&2; exit 1; }

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
work=$(mktemp -d -t pushlab-proxy.XXXXXX)
pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo; say "stopping"; exit 0' INT TERM

wait_for() {
  local url=$1 pid=$2 log=$3
  for _ in $(seq 200); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { echo "failed to start; its log ($log):" >&2; tail -20 "$log" >&2; exit 1; }
    sleep 0.1
  done
  echo "no answer from $url after 20 s" >&2
  exit 1
}

token=""
if [[ -z $upstream ]]; then
  bin=target/release/pushlab
  [[ -x $bin ]] || { echo "$bin is missing: run without --no-build" >&2; exit 1; }
  p=$(free_port)
  upstream="127.0.0.1:$p"
  LEPTOS_SITE_ROOT=target/site LEPTOS_ENV=PROD NO_COLOR=1 RUST_LOG="${RUST_LOG:-info}" \
    "$bin" --addr "$upstream" --public-url "http://127.0.0.1:$port" --public-url "http://localhost:$port" \
    "$@" >"$work/pushlab.log" 2>&1 &
  pids+=($!)
  wait_for "http://$upstream/api/time" "${pids[-1]}" "$work/pushlab.log"
  token=$(sed -n 's/.*instructor token: //p' "$work/pushlab.log" | head -1)
  say "pushlab on $upstream (log: $work/pushlab.log)"
fi

if [[ $buffering == on ]]; then
  # What a buffering proxy or CDN does: the header is ignored, the stream
  # buffered and compressed. nginx 1.22 passes a buffered stream on as it
  # reads it, but compresses it without a flush per chunk: nothing leaves
  # until gzip's 1 KiB output buffer fills (about 1.7 s at 20 events/s).
  # Small buffers keep the clumps seconds apart, not minutes.
  stream="proxy_buffering on; proxy_ignore_headers X-Accel-Buffering; gzip on; gzip_types text/event-stream; gzip_min_length 0; gzip_hash 1k; gzip_buffers 8 1k;"
else
  stream="proxy_buffering off;"
fi
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  map \$http_upgrade \$connection_upgrade { default upgrade; '' ''; }
  server {
    listen 127.0.0.1:$port;
    proxy_http_version 1.1;
    proxy_set_header Host \$http_host;
    proxy_read_timeout 1h;
    location /api/sse { proxy_pass http://$upstream; $stream }
    location / {
      proxy_pass http://$upstream;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_buffering off;
    }
  }
}
CONF
"$nginx" -p "$work/nginx" -c "$work/nginx.conf" >"$work/nginx.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$port/api/time" "${pids[-1]}" "$work/nginx-error.log"

say "nginx on 127.0.0.1:$port, SSE buffering $buffering"
[[ -z $token ]] || echo "instructor token: $token"
echo "open: http://127.0.0.1:$port/?transport=sse"
echo "Ctrl-C stops it."
set +e
wait
