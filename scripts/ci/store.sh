#!/usr/bin/env bash
# The status store (crate mqtt-status-store) against real servers: starts a standalone Redis and
# a 3-master Redis Cluster on 127.0.0.1 (scripts/ci/redis.sh), runs the store's tests with their
# URLs, and stops the servers whatever happens. The tests skip nothing: without the URLs they fail.
# Then the bindings' store tests (Python, Node) and the cross-language multi-writer test
# (tests/store/run.sh). Runs AFTER the python and js stages (it reuses their venv and npm build).
set -euo pipefail
cd "$(dirname "$0")/../.."
trap 'bash scripts/ci/redis.sh stop' EXIT
bash scripts/ci/redis.sh start
# The ports scripts/ci/redis.sh uses (its defaults unless MQTT_STATUS_REDIS_PORT /
# MQTT_STATUS_REDIS_CLUSTER_PORTS move them).
read -r -a cluster_ports <<<"${MQTT_STATUS_REDIS_CLUSTER_PORTS:-7101 7102 7103}"
export MQTT_STATUS_REDIS_URL="redis://127.0.0.1:${MQTT_STATUS_REDIS_PORT:-6390}"
MQTT_STATUS_REDIS_CLUSTER_URL="redis+cluster://$(printf '127.0.0.1:%s,' "${cluster_ports[@]}")"
export MQTT_STATUS_REDIS_CLUSTER_URL="${MQTT_STATUS_REDIS_CLUSTER_URL%,}"
# Each suite runs even when an earlier one failed (more to read in one CI run); the stage fails
# at the end if any did.
failed=()
suite() { "$@" || failed+=("$*"); }
suite cargo test -p mqtt-status-store
# The CLI's --store tests (ignored by a plain `cargo test`, which has no server).
suite cargo test -p mqtt-status-cli --test store -- --include-ignored

# Python: the package built as scripts/ci/python.sh builds it (into its venv, reused), then the
# StatusStore tests against the same servers.
MQTT_STATUS_PYTHON_BUILD_ONLY=1 bash scripts/ci/python.sh
cargo build -q --release -p mqtt-status-cli
export MQTT_STATUS_CLI="$PWD/target/release/mqtt-status"
suite bash -c 'cd target && ./py-venv/bin/python -m pytest -q ../bindings/python/tests/test_store.py'

# Node: the npm package as the js stage (scripts/ci/js.sh) built and installed it in tests/js
# (native addon and WebAssembly); this stage runs after it.
if [ ! -e tests/js/node_modules/mqtt-status/native.cjs ] || ! ls bindings/node/mqtt-status-native.*.node >/dev/null 2>&1; then
  echo "store: the npm package is not built/installed in tests/js: run the js stage first (scripts/ci/js.sh)" >&2
  exit 1
fi
# The addon is rebuilt when its sources changed since the js stage (cargo skips it otherwise), and
# installed again (tests/js holds copies of both packages).
(cd pkg && node scripts/build.mjs native)
(cd tests/js && npm ci --no-audit --no-fund)
suite bash -c 'cd tests/js && node --test store.test.mjs'

# Cross-language: 4 writer processes (Rust, Python, 2 Node) racing on one store.
suite bash tests/store/run.sh

if [ ${#failed[@]} -gt 0 ]; then
  printf 'store: FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "== store: OK"
