#!/usr/bin/env bash
# Cross-language tests of the status store: the multi-writer race (tests/store/multi_writer.py)
# and the crash test (tests/store/crash.py: writers SIGKILLed and restarted). Builds the
# Rust writer and the CLI; needs the Python package in target/py-venv (scripts/ci/python.sh), the
# npm package and native addon built and installed in tests/js (scripts/ci/js.sh), and the Redis
# URLs in MQTT_STATUS_REDIS_URL / MQTT_STATUS_REDIS_CLUSTER_URL (scripts/ci/store.sh runs it so).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
: "${MQTT_STATUS_REDIS_URL:?not set: run bash scripts/ci/store.sh}"
: "${MQTT_STATUS_REDIS_CLUSTER_URL:?not set: run bash scripts/ci/store.sh}"
[ -x target/py-venv/bin/python ] || { echo "no target/py-venv: run scripts/ci/python.sh first" >&2; exit 1; }
[ -e tests/js/node_modules/mqtt-status/native.cjs ] && ls bindings/node/mqtt-status-native.*.node >/dev/null 2>&1 \
  || { echo "npm package not built/installed in tests/js: run scripts/ci/js.sh first" >&2; exit 1; }
cargo build -q --release -p mqtt-status-store-writer -p mqtt-status-cli
export STORE_WRITER="$ROOT/target/release/store-writer" MQTT_STATUS_CLI="$ROOT/target/release/mqtt-status"
target/py-venv/bin/python tests/store/multi_writer.py
target/py-venv/bin/python tests/store/crash.py
