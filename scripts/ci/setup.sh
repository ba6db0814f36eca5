#!/usr/bin/env bash
# Installs the toolchain pieces every later stage needs; each step is skipped when already done.
set -euo pipefail
have_target() { rustup target list --installed | grep -qx "$1"; }
for t in wasm32-unknown-unknown thumbv7em-none-eabihf; do
  have_target "$t" || rustup target add "$t"
done
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
if ! wasm-bindgen --version 2>/dev/null | grep -q ' 0.2.130'; then
  cargo install wasm-bindgen-cli --version 0.2.130
fi
if ! command -v chromium >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
fi
python3 -m pip --version >/dev/null
