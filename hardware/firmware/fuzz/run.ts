// Builds the libFuzzer target and runs it for a bounded time (default 60 s):
//   npm run firmware:fuzz [-- --seconds 60]
// Seeds are regenerated each run; the corpus grows in build/fuzz/corpus and a
// finding lands in build/fuzz/artifacts/ (the run then fails: reproduce with
// build/fuzz/fuzz-core build/fuzz/artifacts/crash-...).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const firmware = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(firmware, 'build', 'fuzz');
const at = process.argv.indexOf('--seconds');
const seconds = at > 0 ? Number(process.argv[at + 1]) : 60;
if (!(seconds > 0)) {
  process.stderr.write('usage: npm run firmware:fuzz -- [--seconds N]\n');
  process.exit(2);
}

const step = (what: string, cmd: string, args: string[]): void => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: firmware });
  if (r.status !== 0) {
    process.stderr.write(`fuzz: ${what} failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status || 1);
  }
};

step('building the fuzz target (needs clang and libclang-rt-dev)', 'make', ['--no-print-directory', 'fuzz']);
step('writing the seed corpus', process.execPath, ['--import=tsx', join(firmware, 'fuzz', 'seeds.ts'), join(out, 'seeds')]);
for (const d of ['corpus', 'artifacts']) mkdirSync(join(out, d), { recursive: true });
step(`fuzzing for ${seconds} s`, join(out, 'fuzz-core'), [
  `-max_total_time=${seconds}`, '-max_len=8192', '-timeout=10', '-print_final_stats=1',
  `-artifact_prefix=${join(out, 'artifacts')}/`, join(out, 'corpus'), join(out, 'seeds'),
]);
process.stderr.write(`fuzz: ${seconds} s without a finding\n`);
