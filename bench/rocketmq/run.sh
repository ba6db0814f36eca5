#!/usr/bin/env bash
# Broker-free throughput of the Node RocketMQ example (examples/node/rocketmq-consumer.mjs, run
# unchanged on fake-ons.mjs): bare (acknowledge only) and ours (the status store on a Redis of its
# own), interleaved, REPS times each, on a generated fleet; per run the drain's wall and CPU time
# per message (Node's, by thread, and Redis's). Runs in a network namespace of its own (loopback
# only, `unshare -rn`) so its Redis (port 6391 inside) clashes with nothing.
#
#   bash bench/rocketmq/run.sh [CLIENTS=2000] [REPS=3] [IN_FLIGHT=4]
# Environment: VARIANTS (the runs of a rep, in order; "bare nostore ours" by default): bare
# (acknowledge only), nostore (ours on a store that commits nothing: the example's own cost),
# ours (the store), quiet (ours printing no transitions), base (ours as the consumer file BASE,
# e.g. the example at an older commit written beside it:
#   git show cb5cf6d:examples/node/rocketmq-consumer.mjs > examples/node/base-consumer.mjs);
# FAKE_ONS_PULL_MS (0): a pull's round trip (random up to this many ms), see fake-ons.mjs.
# Needs: target/release/mqtt-status, the native addon (node pkg/scripts/build.mjs native), npm ci
# in examples/node, redis-server.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CLIENTS="${1:-2000}"
REPS="${2:-3}"
IN_FLIGHT="${3:-4}"
OUT="$ROOT/target/bench-rocketmq"
if [ "${IN_NETNS:-}" != 1 ]; then
    exec unshare -rn -- bash -c 'ip link set lo up; IN_NETNS=1 exec bash "$0" "$@"' "$0" "$@"
fi
cd "$ROOT"
rm -rf "$OUT" && mkdir -p "$OUT/redis"
./target/release/mqtt-status generate --clients "$CLIENTS" --seed 19 --invalid 0 --truth "$OUT/truth.json" -o "$OUT/fleet.jsonl"
redis-server --port 6391 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$OUT/redis" --pidfile "$OUT/redis/pid" --logfile "$OUT/redis/log"
trap 'kill "$(cat "$OUT/redis/pid")" 2>/dev/null || true' EXIT
for _ in $(seq 50); do redis-cli -p 6391 ping >/dev/null 2>&1 && break; sleep 0.1; done
REDIS_PID="$(cat "$OUT/redis/pid")"
redis_cpu() { awk '{ print ($14 + $15) / 100 }' "/proc/$REDIS_PID/stat"; }
N="$(grep -c . "$OUT/fleet.jsonl")"
run() {
    local name="$1"
    shift
    local consumer="${CONSUMER:-examples/node/rocketmq-consumer.mjs}"
    local before after
    before="$(redis_cpu)"
    FAKE_STORE="${FAKE_STORE:-0}" FAKE_ONS_INPUT="$OUT/fleet.jsonl" FAKE_ONS_STATS="$OUT/$name.stats" MQTT_STATUS_BACKEND=native \
        node --import ./bench/rocketmq/register.mjs "$consumer" \
        --expect "$N" --report "$OUT/$name.json" --in-flight "$IN_FLIGHT" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
    after="$(redis_cpu)"
    python3 - "$OUT/$name.stats" "$OUT/$name.json" "$before" "$after" "$name" "$OUT/truth.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); r = json.load(open(sys.argv[2])); truth = json.load(open(sys.argv[6]))
n = s["messages"]; redis = float(sys.argv[4]) - float(sys.argv[3])
us = lambda sec: f"{sec / n * 1e6:5.1f}"
th = " ".join(f"{k}={us(v)}" for k, v in sorted(s["threads"].items(), key=lambda kv: -kv[1]) if v)
wrong = ""
if r["answers"] is not None:
    online = {c for c, v in truth["status"].items() if v}
    wrong = f"  wrong {len(online ^ set(r['answers']))}"
print(f"{sys.argv[5]:10} {n / s['wall']:8.0f} msg/s  node cpu {us(s['cpu'])} us/msg ({th})  redis {us(redis)} us/msg{wrong}")
PY
}
# VARIANTS: which runs, in order, each REPS times (bare, nostore: ours on a store that commits
# nothing, ours, quiet: ours without printing transitions).
for rep in $(seq "$REPS"); do
    for v in ${VARIANTS:-bare nostore ours}; do
        case "$v" in
        bare) run "bare-$rep" --bare ;;
        nostore) FAKE_STORE=1 run "nostore-$rep" ;;
        ours) run "ours-$rep" --store "redis://127.0.0.1:6391/?shards=4&prefix=h$rep" ;;
        quiet) run "quiet-$rep" --store "redis://127.0.0.1:6391/?shards=4&prefix=q$rep" --quiet ;;
        base) CONSUMER="$BASE" run "base-$rep" --store "redis://127.0.0.1:6391/?shards=4&prefix=b$rep" ;;
        esac
    done
done
