// CLI cold start: wall time of `fiberrig --help` and `fiberrig --version`
// (node host/cli/bin.js, a fresh process each run), the median of RUNS runs,
// against `node -e 0` measured in the same run (the floor: node's own start).
// The figures vary with the machine's load; the ratio to node's start less so.
// `npm run bench -- cli` runs only this.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Emit } from './run.ts';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'host', 'cli', 'bin.js');
const RUNS = Number(process.env.CLI_BENCH_RUNS ?? 15);

function wallMs(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export async function run(emit: Emit): Promise<void> {
  wallMs([BIN, '--version']); // builds host/cli/.cache/main.js when it is stale: not part of the figure
  const cases: Record<string, string[]> = { 'node -e 0': ['-e', '0'], 'fiberrig --help': [BIN, '--help'], 'fiberrig --version': [BIN, '--version'] };
  const samples: Record<string, number[]> = {};
  // interleaved, so a change in the machine's load hits every case alike
  for (let i = 0; i < RUNS; i++) for (const [name, args] of Object.entries(cases)) (samples[name] ??= []).push(wallMs(args));
  const baselineMs = median(samples['node -e 0']!);
  emit({ name: 'cli cold start: node -e 0 (baseline)', value: Number(baselineMs.toFixed(1)), unit: 'ms wall (median)', runs: RUNS });
  for (const name of ['fiberrig --help', 'fiberrig --version']) {
    const ms = median(samples[name]!);
    emit({ name: `cli cold start: ${name}`, value: Number(ms.toFixed(1)), unit: 'ms wall (median)', runs: RUNS, targetMs: 300, ratioToNode: Number((ms / baselineMs).toFixed(2)), baselineMs: Number(baselineMs.toFixed(1)) });
  }
}
