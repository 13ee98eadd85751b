# Sourced by bench/run.sh: the generator relaying large results from
# kie-emulator to tg-emulator, and its peak memory while doing it.
# `results` runs 500 jobs of 64 MiB (BENCH_RESULT_JOBS, BENCH_RESULT_MB);
# `results-smoke` runs 20 jobs of 24 MiB (beyond the 20 MB Telegram fetches by URL) in seconds.

bench_results() {
local jobs=${BENCH_RESULT_JOBS:-500} mb=${BENCH_RESULT_MB:-64}
echo "== generator: $jobs results of $mb MiB at once, downloaded from kie-emulator and uploaded to tg-emulator (which refuses the URL)"
local redis_port kie_port tg_port gen_port brokers
start_kafka_dev results gen.jobs:24,gen.results:12,gen.jobs.dlq:3
start_redis results
kie_port=$(free_port); tg_port=$(free_port); gen_port=$(free_port)
HTTP_PORT=$kie_port LOG_LEVEL=warn "$BIN/kie-emulator" 2>"$work/results-kie.log" & pids+=($!)
local kie_pid=$!
# As a local Bot API server, which takes uploads up to 2000 MB; by URL it
# still fetches only 20 MB, so every result is downloaded and uploaded.
HTTP_PORT=$tg_port LOG_LEVEL=warn TG_EMULATOR_LOCAL_API=1 "$BIN/tg-emulator" 2>"$work/results-tg.log" & pids+=($!)
local tg_pid=$!
wait_port "$kie_port"; wait_port "$tg_port"
curl -sf -X POST -H 'Content-Type: application/json' "http://127.0.0.1:$kie_port/control/config" \
  -d '{"latency_ms":{"waiting":0,"queuing":0,"generating":1000},"rate_limit":false,"credits":1000000000000,"result_size":'"$((mb << 20))"'}' >/dev/null
curl -sf -X POST -H 'Content-Type: application/json' "http://127.0.0.1:$tg_port/control/config" -d '{"flood_control":false}' >/dev/null
# One chat per job, as 500 users would have.
curl -sf -X POST -H 'Content-Type: application/json' "http://127.0.0.1:$tg_port/control/updates" \
  -d '{"count":'"$jobs"',"users":'"$jobs"',"first_user_id":1000}' >/dev/null
HTTP_PORT=$gen_port REDIS_URL="redis://127.0.0.1:$redis_port/0" KAFKA_BROKERS=$brokers LOG_LEVEL=${BENCH_LOG_LEVEL:-warn} \
  TELEGRAM_BOT_TOKEN=111111:sandbox-token TELEGRAM_API_BASE="http://127.0.0.1:$tg_port" KIE_API_KEY=sandbox-key \
  KIE_API_BASE="http://127.0.0.1:$kie_port" ACCOUNTS_TOKEN=unused MAX_INFLIGHT=500 INSTANCE_ID=bench KIE_RATE_LIMIT=100000 \
  FIRST_CHECK_MS=500 MAX_CHECK_MS=1000 TELEGRAM_GLOBAL_RATE=100000 TELEGRAM_CHAT_INTERVAL_MS=1 \
  TELEGRAM_MAX_UPLOAD_BYTES=$((2000 << 20)) KAFKA_CFG_FETCH_WAIT_MAX_MS=10 GENERATOR_UNPAID_SOURCES=bench \
  "$BIN/generator" 2>"$work/results-generator.log" & pids+=($!)
local gen_pid=$!
wait_port "$gen_port"
local rc=0
python3 - "$brokers" "$gen_port" "$jobs" "$mb" "$gen_pid" "$kie_pid" "$tg_pid" <<'PY' || rc=$?
import http.client, json, subprocess, sys, time
brokers, gen_port, n, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
gen_pid, kie_pid, tg_pid = sys.argv[5], sys.argv[6], sys.argv[7]
def status(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
conn = http.client.HTTPConnection("127.0.0.1", gen_port)
def counters():
    conn.request("GET", "/metrics")
    finished = uploads = 0
    for line in conn.getresponse().read().decode().splitlines():
        if line.startswith("generator_jobs_finished_total{"):
            finished += int(float(line.split()[-1]))
        if line.startswith("generator_deliveries_total{") and 'outcome="upload"' in line:
            uploads += int(float(line.split()[-1]))
    return finished, uploads
idle_rss = status(gen_pid, "VmRSS")
lines = []
for i in range(n):
    job = {"v": 1, "job_id": f"big-{i}", "model": "wan/2-5-text-to-video", "created_ms": int(time.time() * 1000),
           "input": {"prompt": "a fox running", "duration": "5"}, "source": "bench", "chat_id": 1000 + i, "user_id": 1000 + i,
           "language": "en"}
    lines.append(f"{job['job_id']}\t{json.dumps(job)}")
subprocess.run(["kcat", "-P", "-b", brokers, "-t", "gen.jobs", "-K", "\t"], input="\n".join(lines) + "\n",
               text=True, check=True)
start = time.monotonic()
finished = uploads = 0
while finished < n and time.monotonic() - start < 900:
    finished, uploads = counters()
    time.sleep(0.2)
elapsed = time.monotonic() - start
peak = status(gen_pid, "VmHWM")
print(f"generator idle RSS          {idle_rss:8.0f} MB (reference, same process before the jobs)")
print(f"generator peak RSS          {peak:8.0f} MB with {n} results of {mb} MiB in flight (target < 300 MB; "
      f"held whole they would need {n * mb} MiB)")
from figures import figure
figure(f"generator peak RSS, {n} results of {mb} MiB", peak, "MB", "idle RSS", idle_rss, "< 300 MB")
print(f"relayed                     {uploads:8d} uploads of {finished} finished jobs in {elapsed:.1f} s "
      f"({uploads * mb / max(elapsed, 1e-9):.0f} MiB/s through the generator)")
print(f"emulators' peak RSS         kie-emulator {status(kie_pid, 'VmHWM'):.0f} MB, tg-emulator {status(tg_pid, 'VmHWM'):.0f} MB")
if uploads < n:
    print(f"WARNING: only {uploads} of {n} results were uploaded; the generator's last log lines:")
    sys.exit(3)
PY
if [ "$rc" -ne 0 ]; then
  grep -v '"kafka_' "$work/results-generator.log" | tail -n 15 >&2
  return 1
fi
}

bench_results_smoke() {
  BENCH_RESULT_JOBS=${BENCH_RESULT_JOBS:-20} BENCH_RESULT_MB=${BENCH_RESULT_MB:-24} bench_results
}
