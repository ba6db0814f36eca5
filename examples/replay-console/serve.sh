#!/usr/bin/env bash
# Serves the replay console at http://127.0.0.1:${PORT:-8080}/examples/replay-console/
# (builds the WebAssembly package first if it is missing).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
if [ ! -f "$root/pkg/dist/web/mqtt_status_wasm_bg.wasm" ] && ! ls "$root"/pkg/dist/web/*.wasm >/dev/null 2>&1; then
  (cd "$root/pkg" && npm install --no-audit --no-fund && npm run build)
fi
port="${PORT:-8080}"
echo "replay console: http://127.0.0.1:$port/examples/replay-console/"
cd "$root" && exec python3 -m http.server --bind 127.0.0.1 "$port"
