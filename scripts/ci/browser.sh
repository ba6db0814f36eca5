#!/usr/bin/env bash
# Browser: the replay console end to end in headless Chromium (needs pkg/ built by the js stage).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
fi
ls pkg/dist/web/*.wasm >/dev/null 2>&1 || { echo "pkg/ is not built: run scripts/ci/js.sh first" >&2; exit 1; }
cargo build --release -q -p mqtt-status-cli
cd tests/browser
npm ci --no-audit --no-fund
node --test console.test.mjs
