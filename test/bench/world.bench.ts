// Simulated-world render speed as a multiple of real time: 2 detectors at
// 10 kS/s (4 LEDs in lock-in, 256-sample blocks, oversampling 4) plus EEG + EMG
// at 1 kS/s, on one core, scenario "sleep" (and "steps" for comparison). Also
// the heap growth over a long render (should be ~0: no per-sample allocation).
import { performance } from 'node:perf_hooks';
import { createWorld, type WorldBoard } from '../../firmware-sim/world/index.ts';
import type { Emit } from './run.ts';

const BOARD: WorldBoard = {
  leds: [405, 470, 560, 630].map((wavelengthNm, id) => ({ id, wavelengthNm })),
  detectors: [0, 1].map((id) => ({ id, adcBits: 16, fullScaleV: 3.3 })),
  aux: [{ id: 0, label: 'EEG', adcBits: 16, fullScaleV: 3.3, gainVPerV: 1000 }, { id: 1, label: 'EMG', adcBits: 16, fullScaleV: 3.3, gainVPerV: 1000 }],
  digitalInputs: [{ id: 0 }, { id: 1 }],
};
const FS = 10_000;
const AUX_FS = 1_000;
const BLOCK = 256;
const CARRIERS_HZ = [211, 331, 457, 587];
const PEAKS_MA = [30, 30, 30, 10];

/** One second of lock-in drive (integer carriers: periodic in 1 s) plus a block of overlap. */
const TABLE = CARRIERS_HZ.map((f, k) =>
  Float32Array.from({ length: FS + BLOCK }, (_, n) => (PEAKS_MA[k]! * (1 + Math.sin((2 * Math.PI * f * n) / FS))) / 2));

function renderSeconds(scenario: string, seconds: number, parts: { det: boolean; aux: boolean }): number {
  const w = createWorld(scenario, 1, BOARD);
  const det = [new Int32Array(BLOCK), new Int32Array(BLOCK)];
  const aux = [new Int32Array(BLOCK), new Int32Array(BLOCK)];
  const cur = TABLE.map((t) => t.subarray(0, BLOCK));
  const req = { t0S: 0, dtS: 1 / FS, count: BLOCK, ledCurrentMa: cur, oversampling: 4, out: det };
  const auxReq = { t0S: 0, dtS: 1 / AUX_FS, count: 0, out: aux };
  const blocks = Math.floor((seconds * FS) / BLOCK);
  let auxDone = 0;
  let checksum = 0;
  const t0 = performance.now();
  for (let b = 0; b < blocks; b++) {
    const n = b * BLOCK;
    if (parts.det) {
      const at = n % FS;
      for (let k = 0; k < 4; k++) cur[k] = TABLE[k]!.subarray(at, at + BLOCK);
      req.t0S = n / FS;
      w.renderDetectors(req);
      checksum += det[0]![0]!;
    }
    if (parts.aux) {
      // aux samples due by the end of this block, as a device would emit them
      const due = Math.floor(((n + BLOCK) * AUX_FS) / FS);
      if (due - auxDone >= BLOCK || b === blocks - 1) {
        auxReq.t0S = auxDone / AUX_FS;
        auxReq.count = Math.min(BLOCK, due - auxDone);
        w.renderAux(auxReq);
        auxDone += auxReq.count;
        checksum += aux[0]![0]!;
      }
    }
  }
  const elapsed = (performance.now() - t0) / 1000;
  if (!Number.isFinite(checksum)) throw new Error('bad checksum');
  return (blocks * BLOCK) / FS / elapsed;
}

export async function run(emit: Emit): Promise<void> {
  renderSeconds('sleep', 30, { det: true, aux: true }); // warm-up
  const seconds = 600;
  for (const scenario of ['sleep', 'steps']) {
    emit({
      name: `world.${scenario}.realtime_factor`, value: renderSeconds(scenario, seconds, { det: true, aux: true }), unit: 'x',
      note: '2 detectors @ 10 kS/s (4 LEDs lock-in, 256-sample blocks, oversampling 4) + EEG/EMG @ 1 kS/s, one core', worldSeconds: seconds,
    });
  }
  emit({ name: 'world.sleep.detectors.realtime_factor', value: renderSeconds('sleep', seconds, { det: true, aux: false }), unit: 'x' });
  emit({ name: 'world.sleep.aux.realtime_factor', value: renderSeconds('sleep', seconds, { det: false, aux: true }), unit: 'x' });

  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  renderSeconds('sleep', 1800, { det: true, aux: true });
  globalThis.gc?.();
  emit({ name: 'world.sleep.heap_growth_30min', value: (process.memoryUsage().heapUsed - before) / 1e6, unit: 'MB', gcExposed: typeof globalThis.gc === 'function' });
}
