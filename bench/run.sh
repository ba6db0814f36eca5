#!/usr/bin/env bash
# One command for the numbers of docs/BENCHMARKS.md: Rust (engine vs parse floor vs the seed
# demo's baseline, memory, queries, snapshot), Python and Node (native + wasm) on the same stream.
#
#   bash bench/run.sh [--preset small|full] [--fit N] [--json FILE]
#
# small: ~100k events / 10k clients (CI smoke test, < 2 min; never a timed assertion).
# full:  ~1M events / 100k clients, memory section at 1M clients.
# --fit N: also build one engine with N clients each one connect (e.g. 10000000) and report RSS.
# Prints one table; every ratio is between figures of this same run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PRESET=small
FIT=0
JSON_OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --preset) PRESET="$2"; shift 2 ;;
        --fit) FIT="$2"; shift 2 ;;
        --json) JSON_OUT="$2"; shift 2 ;;
        *) echo "usage: bash bench/run.sh [--preset small|full] [--fit N] [--json FILE]" >&2; exit 2 ;;
    esac
done
case "$PRESET" in
    small) CLIENTS=10000; EPC=10; MEM=10000; REPS=3; HOST_REPS=2; ONE=20000 ;;
    full) CLIENTS=100000; EPC=10; MEM=1000000; REPS=3; HOST_REPS=3; ONE=1000000 ;;
    *) echo "bench: unknown preset $PRESET (small|full)" >&2; exit 2 ;;
esac
SEED=42
OUT="$ROOT/target/bench"
mkdir -p "$OUT"
log() { echo "== $*" >&2; }

log "build (release): mqtt-status-bench, mqtt-status-cli"
cargo build -q --release -p mqtt-status-bench -p mqtt-status-cli

DATA="$OUT/$PRESET-c$CLIENTS-e$EPC-s$SEED.jsonl"
if [ ! -s "$DATA" ]; then
    log "generate $DATA"
    ./target/release/mqtt-status generate --clients "$CLIENTS" --events-per-client "$EPC" \
        --seed "$SEED" --duplicates 0.05 --jitter 2000 -o "$DATA.tmp"
    mv "$DATA.tmp" "$DATA"
fi

VPY="$ROOT/target/py-venv/bin/python"
if ! "$VPY" -c "import mqtt_status" 2>/dev/null; then
    log "python package missing: bash scripts/ci/python.sh"
    bash scripts/ci/python.sh >&2
fi
if ! ls bindings/node/mqtt-status-native.*.node >/dev/null 2>&1 || [ ! -s pkg/dist/node/mqtt_status_wasm_bg.wasm ]; then
    log "npm package missing: bash scripts/ci/js.sh"
    bash scripts/ci/js.sh >&2
fi
# pkg/ resolves the native addon as the package `mqtt-status-native`; point it at bindings/node.
mkdir -p "$OUT/node_path"
ln -sfn "$ROOT/bindings/node" "$OUT/node_path/mqtt-status-native"

log "rust ($PRESET: $(wc -l <"$DATA") lines, memory at $MEM clients)"
./target/release/mqtt-status-bench --input "$DATA" --reps "$REPS" --mem-clients "$MEM" --one-client "$ONE" >"$OUT/rust.json"
FIT_JSON="$OUT/fit.json"
rm -f "$FIT_JSON"
if [ "$FIT" != 0 ]; then
    log "fit: $FIT clients"
    ./target/release/mqtt-status-bench --fit-clients "$FIT" >"$FIT_JSON"
fi
log "python"
"$VPY" bench/py_bench.py "$DATA" "$HOST_REPS" >"$OUT/python.json"
for b in native wasm; do
    log "node ($b)"
    NODE_PATH="$OUT/node_path" MQTT_STATUS_BACKEND=$b node bench/node_bench.mjs "$DATA" "$HOST_REPS" >"$OUT/node-$b.json"
done

python3 bench/table.py --preset "$PRESET" --dir "$OUT" ${JSON_OUT:+--json "$JSON_OUT"}
