#!/usr/bin/env bash
# Browser stage: the replay console end to end in headless Chromium (tests/browser/).
# Needs pkg/ built by the js stage (pkg/web.js); installs Chromium from Debian if it is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x /usr/bin/chromium ]; then
  echo "browser: installing Debian's chromium" >&2
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi
if [ ! -f pkg/web.js ]; then
  echo "browser: pkg/web.js is missing: the js stage (scripts/ci/js.sh) must build pkg/ first" >&2
  exit 1
fi
# The test compares the page with the CLI's answers; build it now rather than under a test timeout.
cargo build --release -q -p mqtt-status-cli
(cd tests/browser && npm ci --no-audit --no-fund)
node --test tests/browser/console.test.mjs
echo "browser: screenshot in target/console.png"
