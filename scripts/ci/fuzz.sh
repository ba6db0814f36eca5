#!/usr/bin/env bash
# Fuzz smoke test (docs/FUZZING.md): installs nightly and cargo-fuzz (each skipped when present),
# builds the targets of fuzz/ (libFuzzer; debug assertions and overflow checks on; no sanitizer by
# default: the core forbids unsafe code, and without AddressSanitizer the same minute runs about
# 4-5x the inputs; MQTT_STATUS_FUZZ_SANITIZER=address for an ASan build), replays the
# saved regression inputs, then runs each target from the seed corpora for
# MQTT_STATUS_FUZZ_SECONDS (default 60). Any crash, panic, timeout or OOM fails the stage; the
# input is left in fuzz/artifacts/<target>/.
#
#   MQTT_STATUS_FUZZ_SECONDS=600 bash scripts/ci/fuzz.sh     # longer
#   MQTT_STATUS_FUZZ_TARGETS="restore" bash scripts/ci/fuzz.sh
#   MQTT_STATUS_FUZZ_KNOWN=noncanonical ...                   # tolerate a reported finding
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${MQTT_STATUS_FUZZ_SECONDS:-60}
targets=(${MQTT_STATUS_FUZZ_TARGETS:-ingest_json ingest_many restore laws record file_log source_json})
sanitizer=${MQTT_STATUS_FUZZ_SANITIZER:-none}
# A fixed seed: the same inputs in the same order on every CI run (a finding is reproducible).
seed=${MQTT_STATUS_FUZZ_SEED:-1}

rustup toolchain list | grep -q '^nightly-' || rustup toolchain install nightly --profile minimal
if ! cargo fuzz --version 2>/dev/null | grep -q '^cargo-fuzz 0\.13\.'; then
  cargo install cargo-fuzz --version '^0.13.2'
fi

# The fuzz crate is outside the workspace, so rust.sh does not lint it: format and lints here.
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
cargo clippy --manifest-path fuzz/Cargo.toml --all-targets -- -D warnings
python3 fuzz/make_seeds.py
# Real file store logs for file_log (a stable build of the store's example; shares target/).
cargo run -q -p mqtt-status-store --example fuzz_log_seeds -- fuzz/corpus/file_log
cargo +nightly fuzz build --sanitizer "$sanitizer"
bin="fuzz/target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release"

run() { # run <log> <command...>: the command's output to the log; on failure, its tail and stop
  local log=$1 rc=0
  shift
  "$@" >"$log" 2>&1 || rc=$?
  if ((rc)); then
    tail -n 60 "$log"
    echo "::: fuzz: FAILED ($*), exit $rc; log: $log (a new crashing input is saved in fuzz/artifacts/)"
    exit 1
  fi
}

for t in "${targets[@]}"; do
  mkdir -p "fuzz/artifacts/$t"
  shopt -s nullglob
  saved=(fuzz/regressions/"$t"/*)
  shopt -u nullglob
  echo "::: fuzz $t: ${#saved[@]} regression inputs"
  if ((${#saved[@]})); then
    run "fuzz/artifacts/$t/regressions.log" "$bin/$t" "${saved[@]}"
  fi
  echo "::: fuzz $t: ${secs} s"
  # One process (the machine is shared); -timeout catches a stall, -rss_limit_mb runaway memory.
  run "fuzz/artifacts/$t/run.log" "$bin/$t" "fuzz/corpus/$t" -dict=fuzz/mqtt-status.dict \
    -max_total_time="$secs" -seed="$seed" -timeout=30 -rss_limit_mb=2048 -artifact_prefix="fuzz/artifacts/$t/" \
    -print_final_stats=1
  grep -E '^(#[0-9]+ +INITED|Done |stat::number_of_executed_units|stat::average_exec_per_sec)' \
    "fuzz/artifacts/$t/run.log"
done
echo "::: fuzz: ${#targets[@]} targets, ${secs} s each, no crash"
