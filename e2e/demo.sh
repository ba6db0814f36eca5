#!/usr/bin/env bash
# One command for a newcomer: a local Apache RocketMQ (scripts/rocketmq.sh, 127.0.0.1 only), a
# generated fleet published at a steady pace as the ApsaraMQ for MQTT status rule would publish it,
# and our Node consumer printing online/offline transitions as they stream by. When the topic is
# drained it compares the consumer's answers with the generator's truth. Ctrl-C stops everything.
#
#   bash e2e/demo.sh [CLIENTS] [MSGS_PER_SECOND]        (defaults: 200 devices, 300 msg/s)
#
# Needs what scripts/ci/e2e.sh needs (JDK 17 + Maven, Node + npm, Rust); first run downloads
# RocketMQ from Maven Central (about 90 MB, cached in ~/.cache/mqtt-status).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CLIENTS="${1:-200}"
RATE="${2:-300}"
export ROCKETMQ_RUN="$ROOT/target/rocketmq-demo"
DEMO="$ROCKETMQ_RUN/demo"
PRODUCER=""

cleanup() {
    [ -n "$PRODUCER" ] && kill "$PRODUCER" 2>/dev/null || true
    bash "$ROOT/scripts/rocketmq.sh" stop || true
}
trap cleanup EXIT

echo "== building (CLI, Node addon and example, Java producer)"
cargo build -q --release -p mqtt-status-cli
node pkg/scripts/build.mjs native >/dev/null
(cd examples/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
(cd e2e/java && mvn -q -B package 2>&1 | sed -e 's/\x1b\[0m//g')

echo "== starting RocketMQ on 127.0.0.1"
bash scripts/rocketmq.sh start
mkdir -p "$DEMO"
./target/release/mqtt-status generate --clients "$CLIENTS" --invalid 0 \
    --truth "$DEMO/truth.json" -o "$DEMO/fleet.jsonl"
LINES="$(grep -c . "$DEMO/fleet.jsonl")"

echo "== publishing $LINES notifications for $CLIENTS devices at $RATE msg/s; transitions follow"
java -Drocketmq.client.logRoot="$DEMO" -Xmx256m -cp "e2e/java/target/classes:e2e/java/target/lib/*" \
    mqttstatus.e2e.Producer --input "$DEMO/fleet.jsonl" --rate "$RATE" 2>"$DEMO/producer.log" &
PRODUCER=$!
MQTT_STATUS_BACKEND=native node examples/node/rocketmq-consumer.mjs --group "GID_demo_$(date +%s)" \
    --expect "$LINES" --report "$DEMO/report.json" || true
wait "$PRODUCER" || true
PRODUCER=""

python3 - "$DEMO/truth.json" "$DEMO/report.json" <<'EOF'
import json, sys
truth = json.load(open(sys.argv[1]))["status"]
report = json.load(open(sys.argv[2]))
answers = report["answers"] or {}
wrong = sum(1 for c, v in truth.items() if bool(answers.get(c, False)) != v)
print(f"== {report['consumed']} messages consumed; online now: {sum(1 for v in answers.values() if v)} "
      f"of {len(truth)} devices; the generator's truth: {sum(truth.values())}; wrong answers: {wrong}")
EOF
