#!/usr/bin/env bash
# One command for a newcomer: a local Apache RocketMQ (scripts/rocketmq.sh) and Redis
# (scripts/ci/redis.sh start-one), all on 127.0.0.1; a generated fleet published at a steady pace as
# the ApsaraMQ for MQTT status rule would publish it; two Node consumer instances sharing one consumer
# group and a Python consumer in a group of its own, all feeding one status store, printing the
# online/offline transitions they cause as they stream by. When every message is acknowledged it
# compares the store's answers with the generator's truth and stops everything (Ctrl-C stops early).
#
#   bash e2e/demo.sh [CLIENTS] [MSGS_PER_SECOND]        (defaults: 200 devices, 300 msg/s)
#
# Needs what scripts/ci/e2e.sh needs (JDK 17 + Maven, Node + npm, Python 3 + venv, Rust); the first
# run downloads RocketMQ from Maven Central (about 90 MB, cached in ~/.cache/mqtt-status) and the
# Python client from PyPI. Uses the ports the e2e stage uses (9876, 10911, 8081, Redis 6391): do not
# run both at once.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CLIENTS="${1:-200}"
RATE="${2:-300}"
REDIS_PORT=6391
export ROCKETMQ_RUN="$ROOT/target/rocketmq-demo"
export MQTT_STATUS_REDIS_RUN="$ROCKETMQ_RUN/redis"
DEMO="$ROCKETMQ_RUN/demo"
VENV="$ROOT/target/e2e-venv"
STORE="redis://127.0.0.1:$REDIS_PORT/?shards=4&prefix=demo$(date +%s)"
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    bash "$ROOT/scripts/rocketmq.sh" stop || true
    bash "$ROOT/scripts/ci/redis.sh" stop-one "$REDIS_PORT" || true
}
trap cleanup EXIT

echo "== building (CLI, Node addon and example, Java producer, Python venv)"
cargo build -q --release -p mqtt-status-cli
node pkg/scripts/build.mjs native >/dev/null
(cd examples/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
(cd e2e/java && mvn -q -B package 2>&1 | sed -e 's/\x1b\[0m//g')
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV" 2>/dev/null || { rm -rf "$VENV"; python3 -m pip install -q --user virtualenv && python3 -m virtualenv -q "$VENV"; }
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r examples/python/requirements-rocketmq.txt
"$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps ./bindings/python

echo "== starting Redis and RocketMQ on 127.0.0.1"
bash scripts/ci/redis.sh start-one "$REDIS_PORT"
bash scripts/rocketmq.sh start
rm -rf "$DEMO"
mkdir -p "$DEMO"
./target/release/mqtt-status generate --clients "$CLIENTS" --invalid 0 \
    --truth "$DEMO/truth.json" -o "$DEMO/fleet.jsonl"
LINES="$(grep -c . "$DEMO/fleet.jsonl")"

# consumer NAME CMD...: one instance in the background, its transitions prefixed with its name.
consumer() {
    local name="$1"
    shift
    "$@" --store "$STORE" --acked "$DEMO/$name.acked" > >(sed -u "s/^/[$name] /") 2>"$DEMO/$name.log" &
    PIDS+=($!)
    touch "$DEMO/$name.acked"
}
stamp="$(date +%s)"
consumer node-1 env MQTT_STATUS_BACKEND=native node examples/node/rocketmq-consumer.mjs --group "GID_demo_node_$stamp"
consumer node-2 env MQTT_STATUS_BACKEND=native node examples/node/rocketmq-consumer.mjs --group "GID_demo_node_$stamp"
consumer python "$VENV/bin/python" examples/python/rocketmq_consumer.py --group "GID_demo_python_$stamp"
sleep 3

echo "== publishing $LINES notifications for $CLIENTS devices at $RATE msg/s; transitions follow"
echo "   (node-1 and node-2 share one group and split its queues; python reads every message again in"
echo "   its own group, and finds each one already in the store: it prints no flip twice)"
java -Drocketmq.client.logRoot="$DEMO" -Xmx256m -cp "e2e/java/target/classes:e2e/java/target/lib/*" \
    mqttstatus.e2e.Producer --input "$DEMO/fleet.jsonl" --rate "$RATE" 2>"$DEMO/producer.log"
distinct() { cat "$@" | sort -u | wc -l; }
for _ in $(seq 600); do
    [ "$(distinct "$DEMO"/node-*.acked)" -ge "$LINES" ] && [ "$(distinct "$DEMO/python.acked")" -ge "$LINES" ] && break
    sleep 0.5
done
sleep 1

echo "== every message acknowledged by both groups; the store's answers (mqtt-status status --store):"
./target/release/mqtt-status status --store "$STORE" --limit 5
./target/release/mqtt-status status --store "$STORE" --format json --limit 0 >"$DEMO/status.json"
python3 - "$DEMO/truth.json" "$DEMO/status.json" <<'PY'
import json, sys
truth = json.load(open(sys.argv[1]))["status"]
online = set(json.load(open(sys.argv[2]))["online"]["clients"])
wrong = sum(1 for c, v in truth.items() if (c in online) != v)
print(f"== online now: {len(online)} of {len(truth)} devices; the generator's truth: "
      f"{sum(truth.values())}; wrong answers: {wrong}")
PY
