#!/usr/bin/env bash
# Benchmarks with a reference measured in the same run; prints ratios.
# Called by ./dev bench with KIEBOT_BIN pointing at a Release build.
set -euo pipefail
BIN=${KIEBOT_BIN:?set KIEBOT_BIN to the directory with the binaries}
DURATION=${BENCH_SECONDS:-10}
MESSAGES=${BENCH_MESSAGES:-100000}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
rps() { wrk -t1 -c64 -d"${DURATION}s" "$1" | awk '/Requests\/sec/ {print int($2)}'; }

echo "== HTTP server: GET /healthz, keep-alive, 64 connections, server pinned to one core"
nginx_port=$(free_port)
mkdir -p "$work/nginx/root"
printf 'ok\n' > "$work/nginx/root/healthz"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx;
  server { listen 127.0.0.1:$nginx_port; root $work/nginx/root; }
}
CONF
taskset -c 0 nginx -c "$work/nginx/nginx.conf" & pids+=($!)
ours_port=$(free_port)
HTTP_PORT=$ours_port taskset -c 0 "$BIN/bench-http-server" 2>"$work/ours.log" & pids+=($!)
wait_port "$nginx_port"; wait_port "$ours_port"
nginx_rps=$(taskset -c 1 bash -c "$(declare -f rps); DURATION=$DURATION rps http://127.0.0.1:$nginx_port/healthz")
ours_rps=$(taskset -c 1 bash -c "$(declare -f rps); DURATION=$DURATION rps http://127.0.0.1:$ours_port/healthz")
printf 'nginx      %10d req/s\nkiebot     %10d req/s\nratio      %10.2fx nginx (target >= 0.70)\n' \
  "$nginx_rps" "$ours_rps" "$(echo "$ours_rps / $nginx_rps" | bc -l)"

echo
echo "== Kafka producer: $MESSAGES messages of 1 KB to kafka-dev (idempotent, acks=all)"
"$BIN/kafka-dev" --brokers 3 --topics bench.kcat:12,bench.ours:12 --bootstrap-file "$work/bootstrap" \
  >/dev/null 2>"$work/kafka.log" & pids+=($!)
for _ in $(seq 200); do [ -s "$work/bootstrap" ] && break; sleep 0.05; done
brokers=$(cat "$work/bootstrap")
# "key<TAB>value" lines: 64 keys (as chat ids spread updates), 1 KB each.
python3 -c "
import random, string, sys
random.seed(1)
value = ''.join(random.choice(string.ascii_letters) for _ in range(1020))
sys.stdout.write(''.join('%02d\t%s\n' % (i % 64, value) for i in range($MESSAGES)))" > "$work/messages"
# Both are timed as whole processes: start, read the file, connect, produce,
# wait for every acknowledgement, exit.
elapsed() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
# Alternating rounds; the best of each counts (noise only ever slows a run).
min() { echo "if ($1 < $2) $1 else $2" | bc -l; }
kcat_s=1000000; ours_s=1000000
for _ in $(seq "${BENCH_ROUNDS:-3}"); do
  kcat_s=$(min "$kcat_s" "$(elapsed kcat -P -b "$brokers" -t bench.kcat -K $'\t' -l -X enable.idempotence=true \
    -X acks=all -X linger.ms=5 "$work/messages")")
  ours_s=$(min "$ours_s" "$(elapsed "$BIN/bench-kafka-produce" "$brokers" bench.ours "$work/messages")")
done
kcat_rate=$(echo "$MESSAGES / $kcat_s" | bc -l)
ours_rate=$(echo "$MESSAGES / $ours_s" | bc -l)
printf 'kcat -P    %10.0f msg/s\nkiebot     %10.0f msg/s\nratio      %10.2fx kcat (target >= 0.80)\n' \
  "$kcat_rate" "$ours_rate" "$(echo "$ours_rate / $kcat_rate" | bc -l)"
