// Where the CPU of a simulated acquisition goes by thread, split into what a
// recording costs once (start-up, JIT) and what it costs per simulated hour:
//   fiberrig acquire --device 'sim://sleep?seed=1&speed=max' (default config), in this process
// run for a short and a long duration after a warm-up; the difference between
// the two gives the per-hour rate of each group of threads, the rest is fixed:
// - main: the JavaScript thread (world, device, host, raw-log encoding);
// - process threads: the threads that exist before the recording starts (V8's
//   platform workers: concurrent/parallel GC, TurboFan compiles; libuv's pool);
// - recording threads: threads born during the recording (the raw log's I/O
//   worker, plain JavaScript: no loader thread), from the process total
//   (process.cpuUsage: exited threads included) minus the others.
// `FIBERRIG_BENCH_THREADS_S=SHORT,LONG` sets the two durations (default 120,600).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../host/cli/main.ts';
import { processThreadsCpuS } from '../../host/thread-cpu.js';
import type { Emit } from './run.ts';

const URL = 'sim://sleep?seed=1&speed=max';

interface Split { mainS: number; processThreadsS: number; recordingThreadsS: number; totalS: number }

async function acquireSplit(seconds: number): Promise<Split> {
  const dir = await mkdtemp(join(tmpdir(), 'fiberrig-bench-threads-'));
  const sink = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });
  try {
    const before = processThreadsCpuS();
    const cpu0 = process.cpuUsage();
    const code = await main(['acquire', '--device', URL, '--duration', `${seconds}s`, '--out', join(dir, 'rec'), '--json', '--quiet'], { stdout: sink(), stderr: sink() });
    const cpu = process.cpuUsage(cpu0);
    const after = processThreadsCpuS();
    if (code !== 0) throw new Error(`acquire exited with ${code}`);
    const pid = process.pid;
    const mainS = (after.get(pid) ?? Number.NaN) - (before.get(pid) ?? Number.NaN);
    let processThreadsS = 0;
    for (const [tid, s0] of before) if (tid !== pid && after.has(tid)) processThreadsS += after.get(tid)! - s0;
    const totalS = (cpu.user + cpu.system) / 1e6;
    return { mainS, processThreadsS, recordingThreadsS: Math.max(0, totalS - mainS - processThreadsS), totalS };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function run(emit: Emit): Promise<void> {
  const [shortS, longS] = (process.env.FIBERRIG_BENCH_THREADS_S ?? '120,600').split(',').map(Number) as [number, number];
  if (!(shortS > 0 && longS > shortS)) throw new Error('FIBERRIG_BENCH_THREADS_S must be SHORT,LONG seconds with LONG > SHORT');
  if (processThreadsCpuS().size === 0) {
    emit({ name: 'cpu_threads.per_simulated_hour.main', value: null, unit: 'CPU s per simulated h', reason: 'no /proc/self/task: per-thread CPU is Linux-only' });
    return;
  }
  await acquireSplit(30); // warm-up: module loading, first JIT
  const a = await acquireSplit(shortS);
  const b = await acquireSplit(longS);
  const perHour = (k: keyof Split): number => ((b[k] - a[k]) / (longS - shortS)) * 3600;
  const fixed = (k: keyof Split): number => a[k] - (perHour(k) * shortS) / 3600;
  const note = `acquire ${URL} for ${shortS} s and ${longS} s after a 30 s warm-up: per hour = the difference / ${longS - shortS} s; fixed = what is left of the short run`;
  for (const k of ['mainS', 'processThreadsS', 'recordingThreadsS', 'totalS'] as const) {
    const group = { mainS: 'main', processThreadsS: 'process_threads', recordingThreadsS: 'recording_threads', totalS: 'total' }[k];
    emit({ name: `cpu_threads.per_simulated_hour.${group}`, value: perHour(k), unit: 'CPU s per simulated h', shortRunS: a[k], longRunS: b[k], note });
    emit({ name: `cpu_threads.fixed_per_recording.${group}`, value: fixed(k), unit: 'CPU s' });
  }
  emit({ name: 'cpu_threads.realtime_per_core_marginal', value: 3600 / perHour('totalS'), unit: 'x real time per CPU s', note: 'simulated seconds per CPU second once started (fixed costs excluded): what a long night tends to' });
}
