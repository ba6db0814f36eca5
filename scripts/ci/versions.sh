#!/usr/bin/env bash
# One version number across crates and published packages: the workspace's.
set -euo pipefail
cd "$(dirname "$0")/../.."
want=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
fail=0
check() { if [ "$2" != "$want" ]; then echo "version mismatch: $1 has $2, workspace has $want" >&2; fail=1; fi; }
for f in pkg/package.json bindings/node/package.json; do
  check "$f" "$(node -p "require('./$f').version")"
done
check "pkg optionalDependencies.mqtt-status-native" "$(node -p "require('./pkg/package.json').optionalDependencies['mqtt-status-native']")"
check "Cargo.toml mqtt-status dependency" "$(sed -n 's/^mqtt-status = .*version = "=\([^"]*\)".*/\1/p' Cargo.toml)"
grep -q 'dynamic = \["version"\]' bindings/python/pyproject.toml || { echo "pyproject must take its version from Cargo" >&2; fail=1; }
for c in $(cargo metadata --no-deps --format-version 1 | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const p of JSON.parse(s).packages)console.log(p.name+"="+p.version)})'); do
  check "crate ${c%%=*}" "${c#*=}"
done
[ "$fail" = 0 ] && echo "versions: all $want"
exit "$fail"
