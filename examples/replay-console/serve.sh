#!/usr/bin/env bash
# Serves the replay console at http://127.0.0.1:${PORT:-8080}/examples/replay-console/
# Builds the WebAssembly package (npm run build in pkg/) first if pkg/web.js is missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
if [ ! -f "$root/pkg/web.js" ]; then
  echo "pkg/web.js is missing: building the WebAssembly package (npm run build in pkg/)…" >&2
  cd "$root/pkg"
  if [ ! -d node_modules ]; then
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
  fi
  npm run build
fi
port="${PORT:-8080}"
echo "replay console: http://127.0.0.1:$port/examples/replay-console/  (Ctrl+C to stop)"
cd "$root"
exec python3 -m http.server --bind 127.0.0.1 "$port"
