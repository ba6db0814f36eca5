#!/usr/bin/env bash
# Benchmark smoke test: every benchmark runs once on a small preset. Nothing is timed against a
# threshold here; figures live in docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo bench -p mqtt-status --bench ingest -- --test
bash bench/run.sh --preset small
