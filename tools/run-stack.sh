#!/usr/bin/env bash
# Runs the local stack for ./dev run: redis-server (data in .dev/redis),
# kafka-dev, and every kiebot service that has been built. Ctrl-C (or
# SIGTERM) stops them all, services first, and waits for each to exit.
set -uo pipefail
BIN=${1:?usage: run-stack.sh BUILD_BIN_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=$ROOT/.dev
mkdir -p "$STATE/redis" "$STATE/logs"
REDIS_PORT=${REDIS_PORT:-6379}

names=()
pids=()
start() {  # name, command...
  local name=$1; shift
  # Own session: Ctrl-C reaches only this script, which stops the children in order.
  setsid "$@" >>"$STATE/logs/$name.log" 2>&1 &
  names+=("$name")
  pids+=($!)
  echo "started $name (pid $!, log .dev/logs/$name.log)"
}

stop_all() {
  trap - INT TERM
  echo
  echo "stopping..."
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null; done
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    wait "${pids[$i]}" 2>/dev/null
    echo "stopped ${names[$i]}"
  done
  exit 0
}
trap stop_all INT TERM

port_in_use() { (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
if port_in_use "$REDIS_PORT"; then
  echo "port $REDIS_PORT is taken (another Redis?); set REDIS_PORT to use another" >&2
  exit 1
fi

start redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$STATE/redis" \
  --appendonly yes --appendfsync always --save "" --daemonize no
rm -f "$STATE/kafka.bootstrap"
start kafka-dev "$BIN/kafka-dev" --brokers 3 \
  --topics tg.updates:12,gen.jobs:24,gen.results:12,gen.jobs.dlq:3 \
  --bootstrap-file "$STATE/kafka.bootstrap" --control-port 0
for _ in $(seq 200); do [ -s "$STATE/kafka.bootstrap" ] && break; sleep 0.05; done
if [ ! -s "$STATE/kafka.bootstrap" ]; then
  echo "kafka-dev did not start; see .dev/logs/kafka-dev.log" >&2
  stop_all
fi
export KAFKA_BROKERS; KAFKA_BROKERS=$(cat "$STATE/kafka.bootstrap")
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
# kafka-dev holds a consumer's fetch for fetch.wait.max.ms (500 ms by
# default) even when messages arrive meanwhile, unlike a real broker: every
# button would lag half a second.
export KAFKA_CFG_FETCH_WAIT_MAX_MS=${KAFKA_CFG_FETCH_WAIT_MAX_MS:-10}
# Local defaults; a real deployment sets its own secrets. Each caller of
# accounts has its own token and only the scopes it needs, as in production
# (docs/accounts-api.md); ACCOUNTS_TOKEN has every scope, for curl and the
# sandbox page.
export ACCOUNTS_TOKEN=${ACCOUNTS_TOKEN:-dev-accounts-token}
export ACCOUNTS_URL=${ACCOUNTS_URL:-http://127.0.0.1:8083}
INGRESS_ACCOUNTS_TOKEN=${INGRESS_ACCOUNTS_TOKEN:-dev-ingress-accounts-token}
GENERATOR_ACCOUNTS_TOKEN=${GENERATOR_ACCOUNTS_TOKEN:-dev-generator-accounts-token}
ACCOUNTS_TOKENS="ingress:$INGRESS_ACCOUNTS_TOKEN:read,hold,settle,user,admin,credit:stars,credit:referral,credit:admin_grant,debit:stars_refund,debit:admin_debit"
ACCOUNTS_TOKENS="$ACCOUNTS_TOKENS;generator:$GENERATOR_ACCOUNTS_TOKEN:read,settle"
# The ingress's internal API (a user's jobs, for the sandbox page).
export ADMIN_API_TOKEN=${ADMIN_API_TOKEN:-dev-admin-api-token}

# Without real credentials the bot talks to the emulators: no Telegram
# account, no KIE key, no money.
if [ -z "${TELEGRAM_BOT_TOKEN:-}" ]; then
  export TG_EMULATOR_TOKENS=${TG_EMULATOR_TOKENS:-111111:sandbox-token}
  export TELEGRAM_BOT_TOKEN=${TG_EMULATOR_TOKENS%%,*}
  export TELEGRAM_API_BASE=http://127.0.0.1:8090
  # Update ids continue from the time: Redis (kept across runs) remembers
  # the last offset and the handled ids of earlier runs.
  [ -x "$BIN/tg-emulator" ] && start tg-emulator env HTTP_PORT=8090 TG_EMULATOR_FIRST_UPDATE_ID="$(date +%s)" "$BIN/tg-emulator"
  if [ -z "${KIE_API_KEY:-}" ]; then
    export KIE_API_KEY=sandbox-key KIE_EMULATOR_KEYS=sandbox-key KIE_API_BASE=http://127.0.0.1:8091
    export KIE_UPLOAD_BASE=http://127.0.0.1:8091
    # KIE's Suno API requires a callback URL: the emulator calls the
    # generator back on this machine.
    export PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://127.0.0.1:8082} CALLBACK_SECRET=${CALLBACK_SECRET:-dev-callback-secret}
    [ -x "$BIN/kie-emulator" ] && start kie-emulator env HTTP_PORT=8091 "$BIN/kie-emulator"
  fi
fi
[ -x "$BIN/accounts" ] && start accounts env ACCOUNTS_TOKENS="$ACCOUNTS_TOKENS" "$BIN/accounts"
# Two ingress replicas, as in production: one polls Telegram, the other
# stands by and takes over (see docs/ingress.md).
if [ -x "$BIN/ingress" ]; then
  start ingress-1 env HTTP_PORT=8081 INSTANCE_ID=ingress-1 ACCOUNTS_TOKEN="$INGRESS_ACCOUNTS_TOKEN" "$BIN/ingress"
  start ingress-2 env HTTP_PORT=8084 INSTANCE_ID=ingress-2 ACCOUNTS_TOKEN="$INGRESS_ACCOUNTS_TOKEN" "$BIN/ingress"
fi
[ -x "$BIN/generator" ] && start generator env ACCOUNTS_TOKEN="$GENERATOR_ACCOUNTS_TOKEN" "$BIN/generator"

port_open() { (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
sandbox=""
if [ "${TELEGRAM_API_BASE:-}" = "http://127.0.0.1:8090" ]; then
  # The sandbox page's panel shows the replicas' lease, the user's account and jobs.
  for _ in $(seq 100); do port_open 8090 && break; sleep 0.1; done
  curl -sf -XPOST http://127.0.0.1:8090/control/sandbox \
    -d "{\"ingress\":[\"http://127.0.0.1:8081\",\"http://127.0.0.1:8084\"],\"ingress_token\":\"$ADMIN_API_TOKEN\",\"accounts\":\"$ACCOUNTS_URL\",\"accounts_token\":\"$ACCOUNTS_TOKEN\"}" \
    >/dev/null && sandbox="http://127.0.0.1:8090/"
fi

echo
echo "Redis:  $REDIS_URL"
echo "Kafka:  $KAFKA_BROKERS (kafka-dev, in memory)"
[ -x "$BIN/accounts" ] && echo "accounts: $ACCOUNTS_URL (token: \$ACCOUNTS_TOKEN, see docs/accounts-api.md)"
[ -x "$BIN/ingress" ] && echo "ingress: replicas on :8081 and :8084, one polls (curl :8081/readyz; see docs/ingress.md)"
if [ "${TELEGRAM_API_BASE:-}" = "http://127.0.0.1:8090" ]; then
  echo "Telegram: tg-emulator at $TELEGRAM_API_BASE, bot token $TELEGRAM_BOT_TOKEN (docs/tg-emulator.md)"
  echo "Talk to the bot as user 42 (docs/dialog.md):"
  echo "  curl -s -XPOST $TELEGRAM_API_BASE/control/users/42/messages -d '{\"text\":\"/start\",\"language_code\":\"en\"}'"
  echo "  curl -s $TELEGRAM_API_BASE/control/chats/42/transcript"
fi
[ "${KIE_API_BASE:-}" = "http://127.0.0.1:8091" ] && echo "KIE: kie-emulator at $KIE_API_BASE, key $KIE_API_KEY (docs/kie-emulator.md)"
echo "Press Ctrl-C to stop everything."
[ -n "$sandbox" ] && echo "Open $sandbox to talk to the bot (a web chat on the Telegram emulator; docs/sandbox.md)."
while true; do
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "${names[$i]} exited; see .dev/logs/${names[$i]}.log" >&2
      stop_all
    fi
  done
  sleep 1
done
