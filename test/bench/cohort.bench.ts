// The cohort's simulation (issue 16: world -> device -> wire -> host -> raw log >= 500x real time per
// core): `fiberrig cohort --simulate sleep,zolpidem --animals N --hours H` in this process (host/cli/main.ts),
// whose lanes each keep one worker thread for all their animals, and as a baseline in the same run the
// same animals each in a fresh worker (the cohort's former way: every animal pays module loading through
// tsx and a cold JIT), the same number of lanes. Figures, each mode:
// - x real time per recording CPU s (Linux): simulated s / the sum over animals of the recording's CPU:
//   the recording stage in its worker thread (recordCpuS: world, device, wire, host) plus the raw log's
//   I/O thread (rawLogCpuS: its writes' system time included) — the chain world -> device -> wire ->
//   host -> raw log, per core it runs on;
// - x real time per record-thread CPU s (Linux): the same without the raw log's I/O thread;
// - x real time per process CPU s: simulated s / process.cpuUsage over the run (recording, analysis,
//   start-up, V8's and the raw log's threads); the analysis stage's share (analyseCpuS) beside it;
// - wall s.
// `FIBERRIG_BENCH_COHORT=N,H` (default 6,1: issue 16's cohort, `--animals 6 --hours 1`, about 2.5 min for both
// modes on 2 cores): animals per condition and hours per animal. Start-up (module loading, the JIT) is a
// fixed cost per worker: smaller cohorts show a lower figure per process CPU s.
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AnimalFailure, AnimalResult } from '../../host/analysis/cohort/compare.ts';
import { type AnimalJob, runAnimals } from '../../host/analysis/cohort/run.ts';
import { main } from '../../host/cli/main.ts';
import type { Emit } from './run.ts';

const CONDITIONS = ['sleep', 'zolpidem'];
const SEED = 7;

interface Run { simulatedS: number; recordCpuS: number; rawLogCpuS: number; analyseCpuS: number; processCpuS: number; wallS: number; animals: number; failed: number }

const cpuS = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;
const isFailure = (r: AnimalResult | AnimalFailure): r is AnimalFailure => 'code' in r;

function summarise(animals: ReadonlyArray<AnimalResult | AnimalFailure>, hours: number, processCpuS: number, wallS: number): Run {
  const done = animals.filter((a): a is AnimalResult => !isFailure(a));
  return {
    simulatedS: done.length * hours * 3600,
    recordCpuS: done.reduce((s, a) => s + (a.recordCpuS ?? Number.NaN), 0),
    rawLogCpuS: done.reduce((s, a) => s + (a.rawLogCpuS ?? Number.NaN), 0),
    analyseCpuS: done.reduce((s, a) => s + (a.analyseCpuS ?? Number.NaN), 0),
    processCpuS, wallS, animals: done.length, failed: animals.length - done.length,
  };
}

/** The cohort through the CLI: lanes reuse their worker. */
async function lanes(dir: string, animals: number, hours: number, workers: number): Promise<Run> {
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const out = join(dir, 'cohort');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const code = await main(['cohort', '--simulate', CONDITIONS.join(','), '--animals', String(animals), '--hours', String(hours), '--seed', String(SEED), '--workers', String(workers), '--out', out, '--quiet'], { stdout: sink, stderr: sink });
  const wallS = (performance.now() - t0) / 1000;
  const processCpuS = cpuS(process.cpuUsage(cpu0));
  if (code !== 0 && code !== 1) throw new Error(`fiberrig cohort exited with ${code}`);
  const result = JSON.parse(await readFile(join(out, 'cohort.json'), 'utf8')) as { animals: AnimalResult[]; failures: AnimalFailure[] };
  return summarise([...result.animals, ...result.failures], hours, processCpuS, wallS);
}

/** The baseline: the same animals, each in a fresh worker, `workers` lanes. */
async function freshWorkers(dir: string, animals: number, hours: number, workers: number): Promise<Run> {
  const jobs: AnimalJob[] = CONDITIONS.flatMap((scenario) => Array.from({ length: animals }, (_, k): AnimalJob => {
    const id = `${scenario}-${k + 1}`;
    return { kind: 'simulate', group: scenario, id, recording: join(dir, 'fresh', id), scenario, seed: SEED + k, durationS: hours * 3600 };
  }));
  const results: Array<AnimalResult | AnimalFailure> = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const lane = async (): Promise<void> => {
    while (next < jobs.length) results.push(...(await runAnimals([jobs[next++]!], 1)));
  };
  await Promise.all(Array.from({ length: Math.min(workers, jobs.length) }, lane));
  return summarise(results, hours, cpuS(process.cpuUsage(cpu0)), (performance.now() - t0) / 1000);
}

export async function run(emit: Emit): Promise<void> {
  const [animals, hours] = (process.env.FIBERRIG_BENCH_COHORT ?? '6,1').split(',').map(Number) as [number, number];
  if (!(Number.isInteger(animals) && animals >= 1 && hours * 3600 >= 60)) throw new Error('FIBERRIG_BENCH_COHORT must be N,H: N animals per condition (whole, >= 1), H hours each (>= 60 s)');
  const workers = availableParallelism();
  const dir = await mkdtemp(join(tmpdir(), 'fiberrig-bench-cohort-'));
  try {
    const note = `fiberrig cohort --simulate ${CONDITIONS.join(',')} --animals ${animals} --hours ${hours} --seed ${SEED} --workers ${workers}`;
    for (const [mode, measure] of [['lanes', lanes], ['fresh_workers', freshWorkers]] as const) {
      const r = await measure(dir, animals, hours, workers);
      const extra = { mode, note, animals: r.animals, failed: r.failed, simulatedS: r.simulatedS };
      if (process.platform === 'linux') {
        emit({
          name: `cohort.${mode}.x_realtime_per_recording_cpu_s`, value: r.simulatedS / (r.recordCpuS + r.rawLogCpuS), unit: 'x real time per CPU s',
          recordCpuS: r.recordCpuS, rawLogCpuS: r.rawLogCpuS, ...extra,
        });
        emit({ name: `cohort.${mode}.x_realtime_per_record_cpu_s`, value: r.simulatedS / r.recordCpuS, unit: 'x real time per CPU s', recordCpuS: r.recordCpuS, ...extra });
      } else {
        const reason = 'per-thread CPU is read from /proc (Linux only)';
        emit({ name: `cohort.${mode}.x_realtime_per_recording_cpu_s`, value: null, unit: 'x real time per CPU s', reason, ...extra });
        emit({ name: `cohort.${mode}.x_realtime_per_record_cpu_s`, value: null, unit: 'x real time per CPU s', reason, ...extra });
      }
      emit({
        name: `cohort.${mode}.x_realtime_per_process_cpu_s`, value: r.simulatedS / r.processCpuS, unit: 'x real time per CPU s', processCpuS: r.processCpuS,
        analyseCpuS: process.platform === 'linux' ? r.analyseCpuS : null, ...extra,
      });
      emit({ name: `cohort.${mode}.wall_s`, value: r.wallS, unit: 's', ...extra });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
