#!/usr/bin/env bash
# Builds the Python package from nothing and tests it: stubtest + pytest.
# Usage: scripts/ci/python.sh [extra pytest args]
# MQTT_STATUS_PYTHON_BUILD_ONLY=1: only build and install the package into target/py-venv (the
# store stage, scripts/ci/store.sh, does that and then runs tests/test_store.py against Redis).
# Works on a fresh machine with Rust (cargo) and Python >= 3.9 (python3 with venv + pip).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
VENV="$ROOT/target/py-venv"
PY="${PYTHON:-python3}"

MATURIN_VERSION="1.16.0"
PYTEST_VERSION="9.2.0"
MYPY_VERSION="2.4.1"

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    echo "== creating $VENV"
    rm -rf "$VENV"
    # Debian's python3 lacks ensurepip unless python3-venv is installed: fall back to virtualenv.
    if ! "$PY" -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        echo "   (python3 -m venv unavailable; using virtualenv from PyPI)"
        "$PY" -m pip install -q --user --disable-pip-version-check "virtualenv==20.35.4" \
            || "$PY" -m pip install -q --user --break-system-packages --disable-pip-version-check "virtualenv==20.35.4"
        "$PY" -m virtualenv -q "$VENV"
    fi
fi
VPY="$VENV/bin/python"

echo "== tools (maturin $MATURIN_VERSION, pytest $PYTEST_VERSION, mypy $MYPY_VERSION)"
"$VPY" -m pip install -q --disable-pip-version-check \
    "maturin==$MATURIN_VERSION" "pytest==$PYTEST_VERSION" "mypy==$MYPY_VERSION"

echo "== pip install ./bindings/python"
start=$(date +%s)
"$VPY" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps ./bindings/python
echo "   built and installed in $(( $(date +%s) - start )) s"

if [ "${MQTT_STATUS_PYTHON_BUILD_ONLY:-}" = 1 ]; then
    exit 0
fi

echo "== cli (for the cross-language snapshot tests)"
cargo build -q --release -p mqtt-status-cli
export MQTT_STATUS_CLI="$ROOT/target/release/mqtt-status"

# Run from outside the source tree so the installed package (not python/) is imported.
cd "$ROOT/target"
echo "== stubtest (_native.pyi against the extension; __init__.py is its own declaration)"
"$VPY" -m mypy.stubtest mqtt_status
echo "== mypy --strict (the package's own source, typed against _native.pyi)"
"$VPY" -m mypy --strict "$ROOT/bindings/python/python/mqtt_status"
echo "== mypy --strict (the tests and the example, typed against the installed package)"
"$VPY" -m mypy --strict "$ROOT/examples/python/consumer.py" "$ROOT/examples/python/reconcile.py" "$ROOT/bindings/python/tests"

echo "== pytest"
set +e
# test_store.py needs Redis: the store stage (scripts/ci/store.sh) runs it.
"$VPY" -m pytest -q "$ROOT/bindings/python/tests" --ignore="$ROOT/bindings/python/tests/test_store.py" "$@"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
    # Exit code 5 (no tests collected) is a failure too.
    echo "python tests FAILED (pytest exit $rc)" >&2
    exit "$rc"
fi
echo "== python: OK"
