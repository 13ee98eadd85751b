# The dialog benchmark, sourced by bench/run.sh (its helpers and $BIN, $work, $pids).
# 1,000 chats through tg-emulator, two ingress replicas, accounts, Redis and
# kafka-dev: update-to-reply latency at a paced 500 updates/s, the most
# updates a second the pair answers, and next to them the emulator's own
# answer time to a sendMessage (the part Telegram would add).
DIALOG_UPDATES=${BENCH_DIALOG_UPDATES:-10000}
DIALOG_RATE=${BENCH_DIALOG_RATE:-500}

bench_dialog() {
echo "== dialog: $DIALOG_UPDATES text updates from 1,000 chats at $DIALOG_RATE/s through tg-emulator, two ingress replicas, accounts"
local redis_port tg_port acc_port brokers
start_kafka_dev dialog tg.updates:12,gen.jobs:24,gen.results:12
start_redis dialog
tg_port=$(free_port)
HTTP_PORT=$tg_port LOG_LEVEL=warn "$BIN/tg-emulator" 2>"$work/dialog-tg.log" & pids+=($!)
wait_port "$tg_port"
# kafka-dev (librdkafka's mock broker) holds a fetch for fetch.wait.max.ms
# even when messages arrive meanwhile; a real broker answers as soon as
# there are any. The replicas get 10 ms so that the mock's wait is not what
# is measured.
# The emulator's flood control would answer 429 above 30 messages a second;
# the replicas' shared limiter is opened as wide, so that what is measured
# is kiebot's own cost, not Telegram's cap.
curl -sf -XPOST "http://127.0.0.1:$tg_port/control/config" -d '{"flood_control":false}' >/dev/null
acc_port=$(free_port)
HTTP_PORT=$acc_port REDIS_URL="redis://127.0.0.1:$redis_port/1" ACCOUNTS_TOKEN=bench LOG_LEVEL=warn ACCOUNTS_DURABILITY=everysec \
  "$BIN/accounts" 2>"$work/dialog-accounts.log" & pids+=($!)
wait_port "$acc_port"
local ports=()
for i in 1 2; do
  local p; p=$(free_port); ports+=("$p")
  HTTP_PORT=$p INSTANCE_ID=bench-$i REDIS_URL="redis://127.0.0.1:$redis_port/0" KAFKA_BROKERS=$brokers LOG_LEVEL=warn \
    TELEGRAM_BOT_TOKEN=111111:sandbox-token TELEGRAM_API_BASE="http://127.0.0.1:$tg_port" \
    ACCOUNTS_URL="http://127.0.0.1:$acc_port" ACCOUNTS_TOKEN=bench TELEGRAM_GLOBAL_RATE=100000 LOG_LEVEL=info KAFKA_CFG_FETCH_WAIT_MAX_MS=10 \
    "$BIN/ingress" 2>"$work/dialog-ingress-$i.log" & pids+=($!)
  wait_port "$p"
done
# Both replicas in the consumer group before anything is measured.
for _ in $(seq 300); do
  grep -q '"client":"dialog-updates","event":"kafka_assigned"' "$work/dialog-ingress-2.log" && break
  sleep 0.1
done
python3 - "$tg_port" "$DIALOG_UPDATES" "$DIALOG_RATE" "${ports[@]}" <<'PY'
import http.client, json, sys, time
tg_port, n, rate = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ingress_ports = [int(p) for p in sys.argv[4:]]
tg = http.client.HTTPConnection("127.0.0.1", tg_port)
def call(method, path, body=None):
    tg.request(method, path, body=None if body is None else json.dumps(body), headers={"Content-Type": "application/json"})
    return json.loads(tg.getresponse().read() or b"null")
def stats():
    return call("GET", "/control/stats")
def handled():
    total = 0
    for p in ingress_ports:
        c = http.client.HTTPConnection("127.0.0.1", p)
        c.request("GET", "/metrics")
        for line in c.getresponse().read().decode().splitlines():
            if line.startswith("dialog_update_outcomes_total{") and 'result="ok"' in line:
                total += int(float(line.split()[-1]))
    return total
def run(count, rate, timeout, users=1000, first=5000000):
    call("POST", "/control/config", {"reset_latency": True})
    target = handled() + count
    start = time.monotonic()
    call("POST", "/control/updates", {"count": count, "users": users, "first_user_id": first, "text_bytes": 20, "rate_per_s": rate})
    while handled() < target and time.monotonic() - start < timeout:
        time.sleep(0.05)
    elapsed = time.monotonic() - start
    return elapsed, stats()["reply_latency_ms"], handled() - (target - count)
# Every chat once first (first contact reads the user's language from
# accounts), so that the measured runs are the steady state.
time.sleep(2)
run(1000, 1000, 60)
elapsed, lat, done = run(n, rate, n / rate + 60)
print(f"paced at {rate}/s: {done} of {n} updates answered in {elapsed:.1f} s; update-to-reply p50 {lat.get('p50', 0):.1f} ms, "
      f"p90 {lat.get('p90', 0):.1f} ms, p99 {lat.get('p99', 0):.1f} ms, max {lat.get('max', 0):.1f} ms (target p99 < 50 ms)")
# Throughput: each update from a new chat, so that Telegram's one message a
# second per chat (the shared limiter keeps to it) does not decide the figure;
# every first contact also reads the user's language from accounts.
burst = min(n, 20000)
b_elapsed, b_lat, b_done = run(burst, 0, 120, users=burst, first=7000000)
print(f"all at once, {burst} new chats: {b_done} answered at {b_done / b_elapsed:.0f} updates/s "
      f"(p50 {b_lat.get('p50', 0):.0f} ms, p99 {b_lat.get('p99', 0):.0f} ms while queued)")
# The emulator's own answer time to one sendMessage, on a kept-alive connection.
times = []
for i in range(2000):
    s = time.monotonic()
    tg.request("POST", "/bot111111:sandbox-token/sendMessage", body=json.dumps({"chat_id": 5000000 + i % 1000, "text": "ping"}),
               headers={"Content-Type": "application/json"})
    tg.getresponse().read()
    times.append((time.monotonic() - s) * 1000)
times.sort()
e50, e99 = times[len(times) // 2], times[int(len(times) * 0.99)]
print(f"tg-emulator's own sendMessage answer: p50 {e50:.2f} ms, p99 {e99:.2f} ms")
from figures import figure
figure("dialog update-to-reply p99, paced", lat.get('p99', 0), "ms", "tg-emulator sendMessage p99", e99)
figure("dialog, all at once", b_done / b_elapsed, "updates/s")
print(f"paced update-to-reply p99 {lat.get('p99', 0):.1f} ms = {lat.get('p99', 0) / e99 if e99 else 0:.0f}x the emulator's "
      f"own p99 answer time (the rest is getUpdates, Kafka both ways, Redis and the sendMessage itself)")
PY
}
