#!/usr/bin/env bash
# Builds the npm package `mqtt-status` from nothing (WebAssembly + native addon) and runs the
# JavaScript suites (tests/js) on both backends.
# Works on a fresh machine with Rust (rustup + cargo) and Node >= 18 with npm.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
WASM_BINDGEN_VERSION="0.2.130" # must equal the `wasm-bindgen` crate pin in Cargo.toml

echo "== toolchain"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    echo "   installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 5 min, once)"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
node --version
npm --version

# `npm install`, not `npm ci`: the lockfile pins the build tools (binaryen@132, typescript) and
# npm keeps to it, but it cannot hold the optional dependency mqtt-status-native until that is
# published (npm skips it; tests/js installs the local copy from bindings/node).
echo "== pkg: npm install (binaryen@132 for wasm-opt, typescript)"
(cd pkg && npm install --no-audit --no-fund)

echo "== pkg: npm run build (both backends)"
start=$(date +%s)
(cd pkg && npm run build)
echo "   built in $(( $(date +%s) - start )) s"
for f in pkg/dist/node/mqtt_status_wasm_bg.wasm pkg/dist/web/mqtt_status_wasm_bg.wasm pkg/web.js; do
    [ -s "$f" ] || { echo "js: missing build output $f" >&2; exit 1; }
done
ls bindings/node/mqtt-status-native.*.node >/dev/null || { echo "js: native addon not built" >&2; exit 1; }

echo "== cli (for the cross-language snapshot tests)"
cargo build -q --release -p mqtt-status-cli
export MQTT_STATUS_CLI="$ROOT/target/release/mqtt-status"

echo "== pkg: npm test (tests/js, wasm and native backends)"
set +e
(cd pkg && npm test)
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
    echo "js tests FAILED (exit $rc)" >&2
    exit "$rc"
fi
echo "== js: OK"
