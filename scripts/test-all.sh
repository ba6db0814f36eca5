#!/usr/bin/env bash
# The one test command (README): builds everything from nothing and runs every suite.
# Each stage installs what it needs (idempotently) and fails loudly; nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
stages=(${MQTT_STATUS_STAGES:-setup rust python js store browser bench fuzz e2e})
start=$SECONDS
for stage in "${stages[@]}"; do
  echo "::: stage $stage"
  t=$SECONDS
  bash "scripts/ci/$stage.sh"
  echo "::: stage $stage done in $((SECONDS - t)) s"
done
echo "::: all stages passed in $((SECONDS - start)) s"
