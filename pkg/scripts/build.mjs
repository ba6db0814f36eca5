// Builds both backends of the npm package from nothing:
//   wasm:   cargo (wasm32, profile wasm-release) -> wasm-bindgen 0.2.130 (--target nodejs and
//           --target web, --weak-refs) -> wasm-opt -Oz (npm binaryen@132) -> pkg/dist/{node,web}/
//   native: cargo (release) -> bindings/node/mqtt-status-native.<platform>.node
// Usage: node scripts/build.mjs [wasm|native]...   (default: both). Fails loudly on any error.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const pkg = dirname(dirname(fileURLToPath(import.meta.url)));
const root = dirname(pkg);
const WASM_BINDGEN = '0.2.130';
const targetDir = process.env.CARGO_TARGET_DIR || join(root, 'target');
const targets = process.argv.slice(2).length ? process.argv.slice(2) : ['wasm', 'native'];

function run(cmd, args, opts = {}) {
  console.log(`$ ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
}

function timed(label, fn) {
  const t = Date.now();
  fn();
  console.log(`-- ${label}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
}

function buildWasm() {
  let version = '';
  try {
    version = execFileSync('wasm-bindgen', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // reported below
  }
  if (version !== `wasm-bindgen ${WASM_BINDGEN}`) {
    throw new Error(
      `need wasm-bindgen ${WASM_BINDGEN} on PATH (found: ${version || 'none'}); ` +
        `run: cargo install wasm-bindgen-cli --version ${WASM_BINDGEN}`,
    );
  }
  const wasmOpt = join(pkg, 'node_modules', '.bin', 'wasm-opt');
  if (!existsSync(wasmOpt)) throw new Error('wasm-opt missing: run `npm ci` in pkg/ (devDependency binaryen@132)');

  timed('cargo build (wasm32, wasm-release)', () =>
    run('cargo', ['build', '-p', 'mqtt-status-wasm', '--target', 'wasm32-unknown-unknown', '--profile', 'wasm-release'], {
      // Until the workspace profile says so itself: opt-level "z" is ~8% smaller than "s" here,
      // and stripping only debug info keeps the `target_features` section wasm-bindgen and
      // wasm-opt read (wasm-opt strips the names below).
      env: { ...process.env, CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL: 'z', CARGO_PROFILE_WASM_RELEASE_STRIP: 'debuginfo' },
    }),
  );
  const input = join(targetDir, 'wasm32-unknown-unknown', 'wasm-release', 'mqtt_status_wasm.wasm');
  const dist = join(pkg, 'dist');
  rmSync(dist, { recursive: true, force: true });
  for (const target of ['nodejs', 'web']) {
    const out = join(dist, target === 'nodejs' ? 'node' : 'web');
    timed(`wasm-bindgen --target ${target}`, () =>
      run('wasm-bindgen', [input, '--out-dir', out, '--target', target, '--weak-refs', '--no-typescript']),
    );
  }
  // Both targets embed the same module: optimise once, copy.
  const nodeWasm = join(dist, 'node', 'mqtt_status_wasm_bg.wasm');
  const before = statSync(nodeWasm).size;
  timed('wasm-opt -Oz', () =>
    run(wasmOpt, ['-Oz', '--strip-debug', '--strip-producers', nodeWasm, '-o', nodeWasm]),
  );
  copyFileSync(nodeWasm, join(dist, 'web', 'mqtt_status_wasm_bg.wasm'));
  // The nodejs glue is CommonJS; this package is "type": "module".
  renameSync(join(dist, 'node', 'mqtt_status_wasm.js'), join(dist, 'node', 'mqtt_status_wasm.cjs'));
  const bytes = readFileSync(nodeWasm);
  const gz = gzipSync(bytes, { level: 9 }).length;
  console.log(
    `wasm size: ${bytes.length} bytes raw (${(bytes.length / 1024).toFixed(1)} KiB), ` +
      `${gz} bytes gzipped (${(gz / 1024).toFixed(1)} KiB); ${before} bytes before wasm-opt`,
  );
}

/** napi-rs platform suffix: linux-x64-gnu, linux-x64-musl, darwin-arm64, win32-x64-msvc, … */
export function platformTriple() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const glibc = process.report?.getReport?.().header?.glibcVersionRuntime;
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`;
  }
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

function buildNative() {
  timed('cargo build (native addon, release)', () =>
    run('cargo', ['build', '-p', 'mqtt-status-node', '--release']),
  );
  const lib = {
    linux: 'libmqtt_status_node.so',
    darwin: 'libmqtt_status_node.dylib',
    win32: 'mqtt_status_node.dll',
  }[process.platform];
  if (!lib) throw new Error(`no native build recipe for ${process.platform}`);
  const out = join(root, 'bindings', 'node', `mqtt-status-native.${platformTriple()}.node`);
  mkdirSync(dirname(out), { recursive: true });
  copyFileSync(join(targetDir, 'release', lib), out);
  console.log(`native addon: ${out} (${statSync(out).size} bytes)`);
}

const steps = { wasm: buildWasm, native: buildNative };
for (const t of targets) {
  if (!steps[t]) throw new Error(`unknown build target ${t} (expected wasm or native)`);
  timed(`build ${t}`, steps[t]);
}
