// Runs the conformance suite against one target:
//   npm run conformance                              the simulator, in-process
//   npm run conformance -- --target sim-pty|native|native-pyboard|qemu
//   npm run conformance -- --device /dev/ttyACM0     a real board (serial:PATH)
// Extra arguments after the options go to mocha (e.g. --grep watchdog).
// For native, native-pyboard and qemu the firmware is built first (make is incremental).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FIRMWARE_DIR, ROOT } from './target.ts';

const args = process.argv.slice(2);
let target = process.env['FIBERRIG_TARGET'] || 'sim';
const mochaArgs: string[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if ((a === '--device' || a === '-d') && args[i + 1]) target = `serial:${args[++i]}`;
  else if (a.startsWith('--device=')) target = `serial:${a.slice('--device='.length)}`;
  else if ((a === '--target' || a === '-t') && args[i + 1]) target = args[++i]!;
  else if (a.startsWith('--target=')) target = a.slice('--target='.length);
  else if (a === '--help' || a === '-h') {
    process.stdout.write('usage: npm run conformance -- [--target sim|sim-pty|native|native-pyboard|qemu | --device /dev/ttyACM0] [mocha options]\n');
    process.exit(0);
  } else mochaArgs.push(a);
}

const BUILDS: Record<string, string> = { native: 'host', 'native-pyboard': 'host-pyboard', qemu: 'qemu' };
const build = BUILDS[target] ?? null;
if (build) {
  const made = spawnSync('make', ['-C', FIRMWARE_DIR, '--no-print-directory', build], { stdio: 'inherit' });
  if (made.status !== 0) {
    process.stderr.write(`conformance: building the ${build} firmware failed (see above); install the toolchain with .ci/run's Debian packages\n`);
    process.exit(made.status ?? 1);
  }
}

process.stderr.write(`conformance: target ${target}\n`);
const started = Date.now();
const result = spawnSync(
  join(ROOT, 'node_modules', '.bin', 'mocha'),
  ['--no-package', '--node-option', 'import=tsx', '--timeout', '60000', '--exit', join('test', 'conformance', '*.test.ts'), ...mochaArgs],
  { cwd: ROOT, stdio: 'inherit', env: { ...process.env, FIBERRIG_TARGET: target } },
);
process.stderr.write(`conformance: target ${target} took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
process.exit(result.status ?? 1);
