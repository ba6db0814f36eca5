#!/usr/bin/env bash
# End to end on a real Apache RocketMQ (scripts/rocketmq.sh, all on 127.0.0.1): generated status
# traffic is published as the ApsaraMQ for MQTT status rule publishes it (tag = event type, body =
# notification JSON); our Node (ali-ons, remoting) and Python (rocketmq-python-client, gRPC proxy)
# consumers and the vendor's demo logic (examples/seed-demo, Java 4.x push consumer) consume it, each
# in its own group; every answer is compared with the generator's truth.
#
#   1. throughput: each consumer alone drains the whole topic, in its own group, one after the other:
#      bare-java, seed-demo, bare-node, node (3 times), bare-python, python (bare = acknowledge only,
#      same client)
#   2. redelivery: node and python together, each failing ~1 % of first deliveries (by message-id
#      hash) so the broker redelivers them, in fresh groups
#   Checks (e2e/check.py): every run consumed every message; ours: 0 wrong answers and a transition
#   feed that alternates per client and ends at the truth; every failed message came back; every
#   sampled TCP connection of every process involved is 127.0.0.1 <-> 127.0.0.1. The seed demo's wrong
#   answers and all rates are reported (target/e2e/summary.md), not judged.
#
# Needs: JDK 17 + Maven, Node >= 18 + npm, Python 3.9+ with venv, Rust, ss (iproute2); Maven Central,
# npm and PyPI. E2E_CLIENTS (2000) and E2E_SEED (19) size the generated fleet; E2E_REPS (3) repeats
# the Java and Node throughput runs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT="$ROOT/target/e2e"
CLIENTS="${E2E_CLIENTS:-2000}"
SEED="${E2E_SEED:-19}"
REPS="${E2E_REPS:-3}"
FAIL_RATE="0.01"
RUN_TIMEOUT=300 # seconds a single consumer run may take before it is called failed
TOPIC="GID_meter_MQTT"
VENV="$ROOT/target/e2e-venv"
export ROCKETMQ_RUN="$OUT/rocketmq"
export ROCKETMQ_TOPIC="$TOPIC"
start=$SECONDS

# JDK and Maven come with these machines; install them on one without (as setup.sh does chromium).
if ! command -v java >/dev/null || ! command -v mvn >/dev/null || ! command -v ss >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        openjdk-17-jdk-headless maven iproute2
fi
for tool in java mvn node npm python3 cargo ss; do
    command -v "$tool" >/dev/null || { echo "e2e: $tool is required" >&2; exit 1; }
done

# Everything this script starts is stopped by pid on exit, whatever happens.
SAMPLER=""
cleanup() {
    local rc=$?
    [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
    for f in "$OUT"/live/*.pid; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
    done
    bash "$ROOT/scripts/rocketmq.sh" stop || true
    echo "e2e: finished in $((SECONDS - start)) s (exit $rc)"
    exit "$rc"
}
trap cleanup EXIT

echo "== build (CLI, native Node addon, Java tools and seed demo, Python venv)"
t=$SECONDS
cargo build -q --release -p mqtt-status-cli
node pkg/scripts/build.mjs native >/dev/null
(cd examples/node && npm ci --no-audit --no-fund --loglevel=error)
# mvn -q still prints a few bare colour resets; drop them (errors still show, the status is kept).
mvn_package() { (cd "$1" && mvn -q -B package 2>&1 | sed -e 's/\x1b\[0m//g'); }
mvn_package e2e/java
mvn_package examples/seed-demo
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    rm -rf "$VENV"
    # Debian's python3 lacks ensurepip unless python3-venv is installed: fall back to virtualenv
    # (as scripts/ci/python.sh does).
    if ! python3 -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        python3 -m pip install -q --user --disable-pip-version-check "virtualenv==20.35.4" \
            || python3 -m pip install -q --user --break-system-packages --disable-pip-version-check "virtualenv==20.35.4"
        python3 -m virtualenv -q "$VENV"
    fi
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r examples/python/requirements-rocketmq.txt
"$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps ./bindings/python
echo "   built in $((SECONDS - t)) s"

rm -rf "$OUT"
mkdir -p "$OUT/reports" "$OUT/transitions" "$OUT/logs" "$OUT/pids" "$OUT/live"

echo "== broker (name server + broker + gRPC proxy on 127.0.0.1)"
bash scripts/rocketmq.sh start
for f in namesrv proxy; do cp "$ROCKETMQ_RUN/$f.pid" "$OUT/pids/$f.pid"; done

# Samples every TCP connection of every process involved, twice a second (e2e/check.py judges them);
# only running ones (live/ and the servers), so a finished run's pid reused by another process is
# never sampled.
(
    while :; do
        # (An empty live/ leaves its glob unexpanded: cat fails, which must not end the loop.)
        pids="$(cat "$OUT"/live/*.pid "$ROCKETMQ_RUN"/*.pid 2>/dev/null | paste -sd'|' || true)"
        [ -n "$pids" ] && ss -tnpH 2>/dev/null | grep -E "pid=($pids)," >>"$OUT/connections.txt" || true
        sleep 0.5
    done
) &
SAMPLER=$!

echo "== generate ($CLIENTS clients, seed $SEED) and produce"
./target/release/mqtt-status generate --clients "$CLIENTS" --seed "$SEED" --invalid 0 \
    --truth "$OUT/truth.json" -o "$OUT/fleet.jsonl"
JAVA_CLIENT_OPTS=(-Drocketmq.client.logRoot="$OUT/logs" -Xmx256m)
java "${JAVA_CLIENT_OPTS[@]}" -cp "e2e/java/target/classes:e2e/java/target/lib/*" mqttstatus.e2e.Producer \
    --topic "$TOPIC" --input "$OUT/fleet.jsonl" --summary "$OUT/produced.json" &
echo $! >"$OUT/pids/producer.pid"
cp "$OUT/pids/producer.pid" "$OUT/live/producer.pid"
wait "$(cat "$OUT/pids/producer.pid")"
rm -f "$OUT/live/producer.pid"
ALL="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sent"])' "$OUT/produced.json")"
SEED_EXPECT="$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["perTag"]; print(t.get("connect",0)+t.get("tcpclean",0))' "$OUT/produced.json")"

# launch NAME CMD...: starts a consumer run in the background; its pid goes to pids/NAME.pid (for
# the connection check) and live/NAME.pid (what the exit trap stops) until it ends.
launch() {
    local name="$1"
    shift
    "$@" >"$OUT/transitions/$name.txt" 2>"$OUT/logs/$name.err" &
    echo $! >"$OUT/pids/$name.pid"
    cp "$OUT/pids/$name.pid" "$OUT/live/$name.pid"
}
# finish NAME: waits for a run; prints its last log lines if it failed.
finish() {
    local name="$1" rc=0
    wait "$(cat "$OUT/pids/$name.pid")" || rc=$?
    rm -f "$OUT/live/$name.pid"
    tail -n 1 "$OUT/logs/$name.err"
    if [ "$rc" -ne 0 ]; then
        echo "e2e: run $name failed (exit $rc):" >&2
        tail -n 30 "$OUT/logs/$name.err" >&2
        exit 1
    fi
}
java_run() {
    local name="$1" main="$2" cp="$3"
    shift 3
    launch "$name" java "${JAVA_CLIENT_OPTS[@]}" -cp "$cp" "$main" --report "$OUT/reports/$name.json" \
        --timeout "$RUN_TIMEOUT" "$@"
}
node_run() {
    local name="$1"
    shift
    launch "$name" env MQTT_STATUS_BACKEND=native node examples/node/rocketmq-consumer.mjs \
        --report "$OUT/reports/$name.json" --timeout "$RUN_TIMEOUT" --expect "$ALL" "$@"
}
python_run() {
    local name="$1"
    shift
    launch "$name" "$VENV/bin/python" examples/python/rocketmq_consumer.py \
        --report "$OUT/reports/$name.json" --timeout "$RUN_TIMEOUT" --expect "$ALL" "$@"
}
TOOLS_CP="e2e/java/target/classes:e2e/java/target/lib/*"
SEED_CP="examples/seed-demo/target/classes:examples/seed-demo/target/lib/*"

echo "== 1. throughput: each consumer alone drains $ALL messages"
# A warm-up drain first (not reported): the first reader of a fresh topic pays for the broker's
# JIT and page cache, which would count against whichever consumer came first.
launch warmup java "${JAVA_CLIENT_OPTS[@]}" -cp "$TOOLS_CP" mqttstatus.e2e.BareConsumer --group GID_e2e_warmup \
    --expect "$ALL" --report "$OUT/warmup.json" --timeout "$RUN_TIMEOUT"
finish warmup
# Java and Node drain the topic in a second or two, so one run says little on a shared machine:
# they run E2E_REPS times, bare and ours interleaved (the summary keeps each one's best rate).
for rep in $(seq "$REPS"); do
    java_run "bare-java.$rep" mqttstatus.e2e.BareConsumer "$TOOLS_CP" --group "GID_e2e_bare_java_$rep" \
        --tags 'connect||tcpclean' --expect "$SEED_EXPECT"
    finish "bare-java.$rep"
    java_run "seed-demo.$rep" mqttstatus.seeddemo.SeedDemo "$SEED_CP" --group "GID_e2e_seed_demo_$rep" \
        --expect "$SEED_EXPECT"
    finish "seed-demo.$rep"
    node_run "bare-node.$rep" --group "GID_e2e_bare_node_$rep" --bare
    finish "bare-node.$rep"
    node_run "node.$rep" --group "GID_e2e_node_$rep"
    finish "node.$rep"
done
python_run bare-python --group GID_e2e_bare_python --bare
finish bare-python
python_run python --group GID_e2e_python
finish python

echo "== 2. redelivery: node and python together, failing ~$FAIL_RATE of first deliveries"
node_run node-redelivery --group GID_e2e_node_redelivery --fail-rate "$FAIL_RATE"
python_run python-redelivery --group GID_e2e_python_redelivery --fail-rate "$FAIL_RATE"
finish node-redelivery
finish python-redelivery

kill "$SAMPLER" 2>/dev/null || true
SAMPLER=""
echo "== check"
python3 e2e/check.py "$OUT"
