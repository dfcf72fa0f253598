// Simulated-world render cost on the shipped default configuration, as the simulated device asks for it:
// 2 detectors at 10 kS/s in 250-sample blocks with 3 LEDs in lock-in (648/1150/1749 Hz, 20 mA; the 4th
// LED dark), oversampling 1, plus EEG + EMG at 1 kS/s in 250-sample blocks; scenario "sleep" (and "steps").
// Figures are main-thread CPU seconds per simulated hour (Linux per-thread CPU; process CPU elsewhere),
// each the best of 3 runs, with a same-run baseline: a plain loop filling as many samples (2 x 10 kS/s)
// with Math.random(), so the ratio holds on a loaded machine. Also the heap growth over a long render
// (should be ~0: no per-sample allocation).
import { DEFAULT_BOARD, worldBoardOf } from '../../firmware-sim/device/board.ts';
import { createWorld } from '../../firmware-sim/world/index.ts';
import { threadCpuS } from '../../host/thread-cpu.js';
import type { Emit } from './run.ts';

const BOARD = worldBoardOf(DEFAULT_BOARD);
const FS = 10_000;
const AUX_FS = 1_000;
const BLOCK = 250;
const CARRIERS_HZ = [648, 1150, 1749];
const CURRENT_MA = 20;
const NOTE = 'default config as the device asks: 2 det @ 10 kS/s, 250-sample blocks, 3 LEDs lock-in 20 mA (4th dark), oversampling 1, EEG+EMG @ 1 kS/s; best of 3';

/** One second of lock-in drive per board LED (integer carriers: periodic in 1 s) plus a block of overlap. */
const TABLE = BOARD.leds.map((_, k) => Float32Array.from({ length: FS + BLOCK }, (_, n) =>
  (k < CARRIERS_HZ.length ? (CURRENT_MA * (1 + Math.sin((2 * Math.PI * CARRIERS_HZ[k]! * n) / FS))) / 2 : 0)));

/** CPU seconds of this thread (Linux), else of the process. */
function cpuS(): number {
  const thread = threadCpuS();
  if (thread !== null) return thread;
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
}

/** CPU seconds per simulated hour rendering `seconds` of the scenario (detectors and/or aux). */
function renderCpuPerHour(scenario: string, seconds: number, parts: { det: boolean; aux: boolean }): number {
  const w = createWorld(scenario, 1, BOARD);
  const det = BOARD.detectors.map(() => new Int32Array(BLOCK));
  const aux = BOARD.aux.map(() => new Int32Array(BLOCK));
  const cur = TABLE.map((t) => t.subarray(0, BLOCK));
  const req = { t0S: 0, dtS: 1 / FS, count: BLOCK, ledCurrentMa: cur, oversampling: 1, out: det };
  const auxReq = { t0S: 0, dtS: 1 / AUX_FS, count: BLOCK, out: aux };
  const blocks = Math.floor((seconds * FS) / BLOCK);
  let auxDone = 0;
  let checksum = 0;
  const c0 = cpuS();
  for (let b = 0; b < blocks; b++) {
    const n = b * BLOCK;
    if (parts.det) {
      const at = n % FS;
      for (let k = 0; k < cur.length; k++) cur[k] = TABLE[k]!.subarray(at, at + BLOCK);
      req.t0S = n / FS;
      w.renderDetectors(req);
      checksum += det[0]![0]!;
    }
    // aux blocks as they fall due (the device emits one per 250 aux samples)
    if (parts.aux && Math.floor(((n + BLOCK) * AUX_FS) / FS) - auxDone >= BLOCK) {
      auxReq.t0S = auxDone / AUX_FS;
      w.renderAux(auxReq);
      auxDone += BLOCK;
      checksum += aux[0]![0]!;
    }
  }
  const c = cpuS() - c0;
  if (!Number.isFinite(checksum)) throw new Error('bad checksum');
  return (c * 3600) / ((blocks * BLOCK) / FS);
}

/** The baseline: CPU seconds per simulated hour of filling 2 x 10 kS/s with Math.random() in 250-sample blocks. */
function baselineCpuPerHour(seconds: number): number {
  const a = new Float64Array(BLOCK);
  const blocks = Math.floor((seconds * FS) / BLOCK) * 2;
  let s = 0;
  const c0 = cpuS();
  for (let b = 0; b < blocks; b++) {
    for (let i = 0; i < BLOCK; i++) a[i] = Math.random();
    s += a[0]!;
  }
  const c = cpuS() - c0;
  if (!Number.isFinite(s)) throw new Error('bad checksum');
  return (c * 3600) / seconds;
}

function best(f: () => number): number {
  return Math.min(f(), f(), f());
}

export async function run(emit: Emit): Promise<void> {
  renderCpuPerHour('sleep', 60, { det: true, aux: true }); // warm-up
  const seconds = Number(process.env.FIBERRIG_BENCH_WORLD_S ?? 600);
  const base = best(() => baselineCpuPerHour(seconds * 4)); // longer: the per-thread clock ticks 10 ms
  emit({ name: 'world.baseline.math_random_fill.cpu_per_sim_hour', value: base, unit: 's CPU per simulated h', note: 'same-run baseline: 2 x 10 kS/s of Math.random() into a Float64Array, 250-sample blocks' });
  for (const scenario of ['sleep', 'steps']) {
    const all = best(() => renderCpuPerHour(scenario, seconds, { det: true, aux: true }));
    emit({ name: `world.${scenario}.cpu_per_sim_hour`, value: all, unit: 's CPU per simulated h', note: NOTE, worldSeconds: seconds });
    emit({ name: `world.${scenario}.vs_baseline`, value: all / base, unit: 'x the Math.random baseline' });
    emit({ name: `world.${scenario}.realtime_factor`, value: 3600 / all, unit: 'x real time per CPU s' });
  }
  emit({ name: 'world.sleep.detectors.cpu_per_sim_hour', value: best(() => renderCpuPerHour('sleep', seconds, { det: true, aux: false })), unit: 's CPU per simulated h' });
  emit({ name: 'world.sleep.aux.cpu_per_sim_hour', value: best(() => renderCpuPerHour('sleep', seconds, { det: false, aux: true })), unit: 's CPU per simulated h' });

  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  renderCpuPerHour('sleep', 1800, { det: true, aux: true });
  globalThis.gc?.();
  emit({ name: 'world.sleep.heap_growth_30min', value: (process.memoryUsage().heapUsed - before) / 1e6, unit: 'MB', gcExposed: typeof globalThis.gc === 'function' });
}
