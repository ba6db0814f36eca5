// `npm test` in pkg/: installs the built package into tests/js the way a user would (a packed copy,
// with the native addon as a second package), then runs the JS suites and the type check.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = dirname(dirname(fileURLToPath(import.meta.url)));
const tests = join(dirname(pkg), 'tests', 'js');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (cmd, args, cwd) => {
  console.log(`$ (cd ${cwd} && ${cmd} ${args.join(' ')})`);
  execFileSync(cmd, args, { stdio: 'inherit', cwd });
};

run(npm, ['ci', '--no-audit', '--no-fund'], tests);
run(process.execPath, ['--test', 'conformance.test.mjs', 'api.test.mjs', 'shared-memory.test.mjs', 'hardening.test.mjs', 'types.test.mjs', 'store-file.test.mjs', 'sources.test.mjs'], tests);
run(process.execPath, [join(pkg, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], pkg);
