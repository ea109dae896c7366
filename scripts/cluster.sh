#!/usr/bin/env bash
# A cluster on one laptop: Debian's redis-server on a free local port, N
# pushlab instances sharing its stream, and nginx in front of them as a
# round-robin balancer with no sticky sessions (WebSocket upgrades passed, SSE
# unbuffered). Ctrl-C stops them all; so does any one of them failing.
#
#   scripts/cluster.sh [--instances N] [--port 3000] [--bind 127.0.0.1] [--no-build] [-- server flags]
#
# Polling works across instances without stickiness because the cursor is
# global; a WebSocket stays on its instance, and resumes on another when its
# instance dies. `--bind 0.0.0.0` lets a room join through the balancer.
set -euo pipefail
cd "$(dirname "$0")/.."

instances=2 port=3000 bind=127.0.0.1 build=true
while (($#)); do
  case "$1" in
    --instances) instances="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --bind) bind="$2"; shift 2 ;;
    --no-build) build=false; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown flag $1 (try --help)" >&2; exit 2 ;;
  esac
done
if ! [[ "$instances" =~ ^[0-9]+$ ]] || ((instances < 1 || instances > 26)); then
  echo "--instances must be 1–26" >&2
  exit 2
fi

if $build; then
  bash scripts/setup.sh
  source scripts/env.sh
  bash scripts/release.sh
fi
bin=target/release/pushlab
[[ -x $bin ]] || { echo "$bin is missing: run without --no-build" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server is missing: run scripts/setup.sh" >&2; exit 1; }
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $nginx ]] || { echo "nginx is missing: run scripts/setup.sh" >&2; exit 1; }

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

work=$(mktemp -d -t pushlab-cluster.XXXXXX)
pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo; say "stopping the cluster"; exit 0' INT TERM

# Waits for a URL to answer, while the process that should serve it lives.
wait_for() {
  local url=$1 pid=$2 log=$3
  for _ in $(seq 200); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "failed to start; its log ($log):" >&2
      tail -20 "$log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "no answer from $url after 20 s" >&2
  exit 1
}

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
  >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null && break
  sleep 0.1
done
redis="redis://127.0.0.1:$redis_port/0"
say "redis-server on 127.0.0.1:$redis_port (pid ${pids[-1]})"

# The origins people open: the balancer's address, every interface's with --bind 0.0.0.0.
public=(--public-url "http://$bind:$port" --public-url "http://localhost:$port")
if [[ $bind == 0.0.0.0 ]]; then
  for ip in $(hostname -I 2>/dev/null); do
    [[ $ip == *:* ]] || public+=(--public-url "http://$ip:$port")
  done
fi

upstreams=""
token=""
for i in $(seq "$instances"); do
  id=$(printf "\\x$(printf %x $((96 + i)))")
  p=$(free_port)
  log="$work/$id.log"
  LEPTOS_SITE_ROOT=target/site LEPTOS_ENV=PROD NO_COLOR=1 RUST_LOG="${RUST_LOG:-info}" \
    "$bin" --addr "127.0.0.1:$p" --redis "$redis" --instance-id "$id" --trusted-proxy 127.0.0.1/32 \
    "${public[@]}" "$@" >"$log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$p/api/time" "${pids[-1]}" "$log"
  [[ -n $token ]] || token=$(sed -n 's/.*instructor token: //p' "$log" | head -1)
  upstreams+="    server 127.0.0.1:$p max_fails=1 fail_timeout=2s;"$'\n'
  say "instance $id on 127.0.0.1:$p (pid ${pids[-1]}, log: $log)"
done

mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  # Round robin, no ip_hash and no cookie: no sticky sessions, on purpose.
  upstream pushlab {
$upstreams    keepalive 32;
  }
  map \$http_upgrade \$connection_upgrade { default upgrade; '' ''; }
  server {
    listen $bind:$port;
    location / {
      proxy_pass http://pushlab;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      # SSE and long polls go out as they are written, and may be held long.
      proxy_buffering off;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
      # A dead instance: the request goes to the next one.
      proxy_next_upstream error timeout http_502;
    }
  }
}
EOF
"$nginx" -p "$work/nginx" -c "$work/nginx.conf" >"$work/nginx.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$port/api/time" "${pids[-1]}" "$work/nginx-error.log"

say "$instances instances behind nginx, round robin, no sticky sessions"
echo "instructor token: ${token:-the one given with --token}"
if [[ $bind == 0.0.0.0 ]]; then
  echo "open: http://127.0.0.1:$port"
  for ip in $(hostname -I 2>/dev/null); do [[ $ip == *:* ]] || echo "open: http://$ip:$port"; done
else
  echo "open: http://$bind:$port"
fi
echo "Ctrl-C stops the cluster."

# An instance that dies now is part of the lesson (its WebSockets resume on
# another): the rest go on until Ctrl-C.
set +e
wait
