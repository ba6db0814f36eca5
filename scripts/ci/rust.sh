#!/usr/bin/env bash
# Rust: format, lints, every crate's tests (core, CLI), and the no_std build of the core.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/ci/versions.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --exclude mqtt-status-wasm -- -D warnings
cargo clippy -p mqtt-status-wasm --target wasm32-unknown-unknown -- -D warnings
cargo clippy -p mqtt-status --no-default-features -- -D warnings
# The store's tests need Redis: they run in their own stage (scripts/ci/store.sh).
cargo test --workspace --exclude mqtt-status-python --exclude mqtt-status-node --exclude mqtt-status-wasm --exclude mqtt-status-store
# no_std proof: the core builds for a bare-metal target without its std feature.
cargo build -p mqtt-status --no-default-features --target thumbv7em-none-eabihf
