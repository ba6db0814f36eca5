#!/usr/bin/env bash
# End to end on a real Apache RocketMQ (scripts/rocketmq.sh, all on 127.0.0.1) and a Redis of its own
# (127.0.0.1:6391, scripts/ci/redis.sh start-one): generated status traffic is published as the
# ApsaraMQ for MQTT status rule publishes it (tag = event type, body = notification JSON); our Node
# (ali-ons, remoting) and Python (rocketmq-python-client, gRPC proxy) consumers feed the shared status
# store, and the vendor's demo logic (examples/seed-demo, Java 4.x push consumer) consumes beside them.
#
#   1. several instances: two Node instances share one consumer group, two Python instances another
#      (remoting and gRPC consumers cannot share a group), all four on one store, while the producer
#      publishes at a steady pace: every event reaches the store twice. Every instance fails ~1 % of
#      first deliveries (by message-id hash) so the broker redelivers them; one Node and one Python
#      instance are killed with SIGKILL mid-stream and restarted; Redis pauses for 5 s mid-stream
#      (CLIENT PAUSE), so commits fail with store_unavailable and must be reconsumed later. Drained =
#      each group's instances together acknowledged every message (--acked files).
#   2. throughput: each consumer alone drains the whole topic, in its own group (ours into a fresh
#      store), one after the other: bare-java, seed-demo, bare-node, node (E2E_REPS times each),
#      bare-python, python (bare = acknowledge only, same client).
#   Checks (e2e/check.py): the store's answers (read with `mqtt-status status --store`) equal the
#   generator's truth (0 wrong); the store's feed alternates per client and ends at the truth; every
#   printed transition is one feed entry, printed once; each kill happened mid-stream; instances of
#   both groups answered "reconsume later" during the outage; every run of
#   phase 2 consumed every message and ours answered right; every sampled TCP connection of every
#   process involved is 127.0.0.1 <-> 127.0.0.1. The seed demo's wrong answers and all rates are
#   reported (target/e2e/summary.md), not judged.
#
# Needs: JDK 17 + Maven, Node >= 18 + npm, Python 3.9+ with venv, Rust, ss (iproute2), redis-server
# (installed by scripts/ci/redis.sh); Maven Central, npm and PyPI. E2E_CLIENTS (2000) and E2E_SEED (19)
# size the generated fleet; E2E_REPS (3) repeats the Java and Node throughput runs; E2E_RATE (1500)
# paces the producer in phase 1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT="$ROOT/target/e2e"
CLIENTS="${E2E_CLIENTS:-2000}"
SEED="${E2E_SEED:-19}"
REPS="${E2E_REPS:-3}"
RATE="${E2E_RATE:-1500}"
FAIL_RATE="0.01"
RUN_TIMEOUT=300 # seconds a single consumer run (or phase 1) may take before it is called failed
TOPIC="GID_meter_MQTT"
VENV="$ROOT/target/e2e-venv"
REDIS_PORT=6391 # this stage's own Redis (6390 and 7101-7103 belong to the store stage)
# A standalone Redis: 4 shards (the store's rule, S >= 4 x masters) cost a batch fewer script calls
# than the default 16. Each run gets its own prefix, i.e. its own empty store.
store_url() { echo "redis://127.0.0.1:$REDIS_PORT/?shards=4&prefix=$1"; }
# Phase 1's store answers within 2 s or fails (store_unavailable): the outage below then costs
# seconds, not the default 5 s per attempt.
SHARED_STORE="$(store_url e2e_shared)&timeout_ms=2000"
export ROCKETMQ_RUN="$OUT/rocketmq"
export ROCKETMQ_TOPIC="$TOPIC"
export MQTT_STATUS_REDIS_RUN="$OUT/redis"
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
PRODUCER=""
cleanup() {
    local rc=$?
    [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
    [ -n "$PRODUCER" ] && kill "$PRODUCER" 2>/dev/null || true
    for f in "$OUT"/live/*.pid; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
    done
    bash "$ROOT/scripts/rocketmq.sh" stop || true
    bash "$ROOT/scripts/ci/redis.sh" stop-one "$REDIS_PORT" || true
    echo "e2e: finished in $((SECONDS - start)) s (exit $rc)"
    exit "$rc"
}
trap cleanup EXIT

# The build fetches from the registries; everything after it runs, where the machine allows it,
# in a network namespace of its own that holds nothing but a loopback interface (`unshare -rn`:
# an unprivileged user namespace). Three RocketMQ 5.3.3 listeners bind every address and have no
# setting to narrow them (the proxy's gRPC and remoting ports, the broker's HA port): inside the
# namespace "every address" is 127.0.0.1 alone, no process can reach another address, and the
# ports cannot clash with anything else on the machine. E2E_NETNS=0 runs without it (a machine
# that forbids user namespaces also does: then the 127.0.0.1-only settings and the connection
# check are the guarantee). The namespace's own Redis port, broker ports and so on are the same.
if [ "${E2E_IN_NETNS:-}" != 1 ]; then
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
bash scripts/rocketmq.sh fetch
echo "   built in $((SECONDS - t)) s"
if [ "${E2E_NETNS:-1}" != 0 ] && unshare -rn true 2>/dev/null; then
    echo "== the rest in a network namespace of its own (loopback only: unshare -rn)"
    trap - EXIT
    exec unshare -rn -- bash -c 'ip link set lo up 2>/dev/null || ifconfig lo up
        E2E_IN_NETNS=1 exec bash "$0"' "$ROOT/scripts/ci/e2e.sh"
fi
echo "== no network namespace here (E2E_NETNS=0 or user namespaces forbidden): loopback settings only"
fi

rm -rf "$OUT"
mkdir -p "$OUT/reports" "$OUT/feeds" "$OUT/transitions" "$OUT/logs" "$OUT/pids" "$OUT/live" "$OUT/shared"

echo "== Redis (127.0.0.1:$REDIS_PORT) and the broker (name server + broker + gRPC proxy on 127.0.0.1)"
bash scripts/ci/redis.sh start-one "$REDIS_PORT"
cp "$MQTT_STATUS_REDIS_RUN/$REDIS_PORT/pid" "$OUT/pids/redis.pid"
bash scripts/rocketmq.sh start
for f in namesrv proxy; do cp "$ROCKETMQ_RUN/$f.pid" "$OUT/pids/$f.pid"; done

# Samples every TCP connection of every process involved, twice a second (e2e/check.py judges them);
# only running ones (live/ and the servers), so a finished run's pid reused by another process is
# never sampled.
(
    while :; do
        # (An empty live/ leaves its glob unexpanded: cat fails, which must not end the loop.)
        pids="$(cat "$OUT"/live/*.pid "$ROCKETMQ_RUN"/*.pid "$OUT/pids/redis.pid" 2>/dev/null | paste -sd'|' || true)"
        [ -n "$pids" ] && ss -tnpH 2>/dev/null | grep -E "pid=($pids)," >>"$OUT/connections.txt" || true
        sleep 0.5
    done
) &
SAMPLER=$!

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
JAVA_CLIENT_OPTS=(-Drocketmq.client.logRoot="$OUT/logs" -Xmx256m)
java_run() {
    local name="$1" main="$2" cp="$3"
    shift 3
    launch "$name" java "${JAVA_CLIENT_OPTS[@]}" -cp "$cp" "$main" --report "$OUT/reports/$name.json" \
        --timeout "$RUN_TIMEOUT" "$@"
}
node_consumer() { launch "$1" env MQTT_STATUS_BACKEND=native node examples/node/rocketmq-consumer.mjs "${@:2}"; }
python_consumer() { launch "$1" "$VENV/bin/python" examples/python/rocketmq_consumer.py "${@:2}"; }
node_run() {
    local name="$1"
    shift
    node_consumer "$name" --report "$OUT/reports/$name.json" --timeout "$RUN_TIMEOUT" --expect "$ALL" "$@"
}
python_run() {
    local name="$1"
    shift
    python_consumer "$name" --report "$OUT/reports/$name.json" --timeout "$RUN_TIMEOUT" --expect "$ALL" "$@"
}
TOOLS_CP="e2e/java/target/classes:e2e/java/target/lib/*"
SEED_CP="examples/seed-demo/target/classes:examples/seed-demo/target/lib/*"

echo "== generate ($CLIENTS clients, seed $SEED)"
./target/release/mqtt-status generate --clients "$CLIENTS" --seed "$SEED" --invalid 0 \
    --truth "$OUT/truth.json" -o "$OUT/fleet.jsonl"
ALL="$(grep -c . "$OUT/fleet.jsonl")" # one message per line (--invalid 0)

echo "== 1. several instances on one store: Node x2 and Python x2 while $ALL messages are published at $RATE msg/s"
NODE_GROUP=GID_e2e_node_shared
PYTHON_GROUP=GID_e2e_python_shared
# shared NAME LANG: one instance of the fleet (its group is its language's).
shared() {
    local name="$1" lang="$2"
    local common=(--store "$SHARED_STORE" --fail-rate "$FAIL_RATE" --acked "$OUT/shared/$name.acked"
        --report "$OUT/shared/$name.json")
    touch "$OUT/shared/$name.acked"
    if [ "$lang" = node ]; then
        # Two instances for the topic's 4 queues: two batches in flight each (the broker gives
        # each consumer of the group its share of the queues; a third and fourth would get none).
        node_consumer "$name" --group "$NODE_GROUP" --in-flight 2 "${common[@]}"
    else
        python_consumer "$name" --group "$PYTHON_GROUP" "${common[@]}"
    fi
}
# started NAME: waits (up to 60 s) until the instance has subscribed.
started() {
    for _ in $(seq 600); do
        grep -q '^rocketmq consumer:' "$OUT/logs/$1.err" 2>/dev/null && return
        kill -0 "$(cat "$OUT/pids/$1.pid")" 2>/dev/null || break
        sleep 0.1
    done
    echo "e2e: $1 did not start:" >&2
    tail -n 30 "$OUT/logs/$1.err" >&2
    exit 1
}
# distinct FILE...: how many distinct ids the files hold together.
distinct() { cat "$@" | sort -u | wc -l; }
FLEET=(node-a node-b python-a python-b)
for name in "${FLEET[@]}"; do shared "$name" "${name%%-*}"; done
for name in "${FLEET[@]}"; do started "$name"; done
java "${JAVA_CLIENT_OPTS[@]}" -cp "$TOOLS_CP" mqttstatus.e2e.Producer --topic "$TOPIC" --input "$OUT/fleet.jsonl" \
    --rate "$RATE" --summary "$OUT/produced.json" 2>"$OUT/logs/producer.err" &
PRODUCER=$!
echo "$PRODUCER" >"$OUT/pids/producer.pid"
cp "$OUT/pids/producer.pid" "$OUT/live/producer.pid"
# A victim is killed (SIGKILL) once it acknowledged KILL_AT messages, i.e. about a third of its share,
# and started again a second later under a new name, in the same group.
KILL_AT=$((ALL / 6))
declare -A VICTIMS=([node-b]=node-b2 [python-b]=python-b2)
# A store outage: once the Node group acknowledged half the stream, Redis answers no client for
# OUTAGE_MS (CLIENT PAUSE): commits time out, every instance must answer "reconsume later".
OUTAGE_MS=5000
outage_done=""
deadline=$((SECONDS + RUN_TIMEOUT))
while :; do
    if [ -z "$outage_done" ] && [ "$(distinct "$OUT"/shared/node-*.acked)" -ge $((ALL / 2)) ]; then
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" client pause "$OUTAGE_MS" all >/dev/null
        echo "{\"pausedMs\": $OUTAGE_MS, \"nodeAcked\": $(distinct "$OUT"/shared/node-*.acked), \"pythonAcked\": $(distinct "$OUT"/shared/python-*.acked), \"all\": $ALL}" \
            >"$OUT/shared/outage.json"
        echo "   store outage: Redis paused for $OUTAGE_MS ms (CLIENT PAUSE ALL)"
        outage_done=1
    fi
    for victim in "${!VICTIMS[@]}"; do
        [ -f "$OUT/live/$victim.pid" ] || continue
        acked=$(wc -l <"$OUT/shared/$victim.acked")
        [ "$acked" -ge "$KILL_AT" ] || continue
        kill -KILL "$(cat "$OUT/pids/$victim.pid")"
        wait "$(cat "$OUT/pids/$victim.pid")" 2>/dev/null || true
        rm -f "$OUT/live/$victim.pid"
        lang="${victim%%-*}"
        echo "{\"victim\": \"$victim\", \"acked\": $acked, \"groupAcked\": $(distinct "$OUT"/shared/"$lang"-*.acked), \"all\": $ALL}" \
            >"$OUT/shared/$victim.killed"
        echo "   killed $victim (SIGKILL) after $acked acknowledged; restarting it as ${VICTIMS[$victim]}"
        sleep 1
        shared "${VICTIMS[$victim]}" "$lang"
    done
    if [ -n "$PRODUCER" ] && ! kill -0 "$PRODUCER" 2>/dev/null; then
        wait "$PRODUCER" || { echo "e2e: the producer failed:" >&2; tail -n 30 "$OUT/logs/producer.err" >&2; exit 1; }
        PRODUCER=""
        rm -f "$OUT/live/producer.pid"
        echo "   produced: $(cat "$OUT/produced.json")"
    fi
    node_done=$(distinct "$OUT"/shared/node-*.acked)
    python_done=$(distinct "$OUT"/shared/python-*.acked)
    if [ -z "$PRODUCER" ] && [ "$node_done" -ge "$ALL" ] && [ "$python_done" -ge "$ALL" ] \
        && [ ! -f "$OUT/live/node-b.pid" ] && [ ! -f "$OUT/live/python-b.pid" ]; then
        break
    fi
    if [ "$SECONDS" -gt "$deadline" ]; then
        echo "e2e: phase 1 not drained after $RUN_TIMEOUT s: Node acknowledged $node_done, Python $python_done of $ALL" >&2
        exit 1
    fi
    sleep 0.5
done
echo "   drained: each group acknowledged all $ALL messages; stopping the fleet"
for name in node-a node-b2 python-a python-b2; do kill -TERM "$(cat "$OUT/pids/$name.pid")"; done
for name in node-a node-b2 python-a python-b2; do finish "$name"; done
# The answers and the feed, from the store itself (the CLI, not a consumer).
./target/release/mqtt-status status --store "$SHARED_STORE" --format json --limit 0 >"$OUT/shared/status.json"
./target/release/mqtt-status status --store "$SHARED_STORE" --feed --format json --limit 0 >"$OUT/shared/feed.json"

echo "== 2. throughput: each consumer alone drains $ALL messages"
SEED_EXPECT="$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["perTag"]; print(t.get("connect",0)+t.get("tcpclean",0))' "$OUT/produced.json")"
# A warm-up drain first (not reported): the first reader of the topic pays for the broker's page
# cache, which would count against whichever consumer came first.
launch warmup java "${JAVA_CLIENT_OPTS[@]}" -cp "$TOOLS_CP" mqttstatus.e2e.BareConsumer --group GID_e2e_warmup \
    --expect "$ALL" --report "$OUT/warmup.json" --timeout "$RUN_TIMEOUT"
finish warmup
# Java and Node drain the topic in seconds, so one run says little on a shared machine: they run
# E2E_REPS times, bare and ours interleaved (the summary keeps each one's best rate).
for rep in $(seq "$REPS"); do
    java_run "bare-java.$rep" mqttstatus.e2e.BareConsumer "$TOOLS_CP" --group "GID_e2e_bare_java_$rep" \
        --tags 'connect||tcpclean' --expect "$SEED_EXPECT"
    finish "bare-java.$rep"
    java_run "seed-demo.$rep" mqttstatus.seeddemo.SeedDemo "$SEED_CP" --group "GID_e2e_seed_demo_$rep" \
        --expect "$SEED_EXPECT"
    finish "seed-demo.$rep"
    # Node with one batch in flight (ali-ons alone, as before group commit of batches) and with
    # the example's default (--in-flight 4: a consumer loop per queue, batches sharing commits).
    for k in 1 4; do
        sfx=""
        [ "$k" = 1 ] && sfx="-1"
        node_run "bare-node$sfx.$rep" --group "GID_e2e_bare_node${sfx}_$rep" --bare --in-flight "$k"
        finish "bare-node$sfx.$rep"
        node_run "node$sfx.$rep" --group "GID_e2e_node${sfx}_$rep" --store "$(store_url "tp_node${sfx}_$rep")" \
            --in-flight "$k"
        finish "node$sfx.$rep"
        # The store's own feed (the printed flips of concurrent batches are in call order, not
        # per client in commit order): e2e/check.py checks it and that each printed flip is in it.
        ./target/release/mqtt-status status --store "$(store_url "tp_node${sfx}_$rep")" --feed --format json \
            --limit 0 >"$OUT/feeds/node$sfx.$rep.json"
    done
done
python_run bare-python --group GID_e2e_bare_python --bare
finish bare-python
python_run python --group GID_e2e_python --store "$(store_url tp_python)"
finish python

kill "$SAMPLER" 2>/dev/null || true
SAMPLER=""
echo "== check"
python3 e2e/check.py "$OUT"
