// The chunk layout's grid runs (found by estimate and step, no floor per sample) against flooring every
// sample, and the lit-LED scan; and the lean layout of the device's case (2 detectors on the tick lattice: runs
// only, the pair pass makes the per-sample inputs) against the full layout a third detector needs.
import assert from 'node:assert/strict';
import { gridRunsOf, litLedsOf } from '../../../firmware-sim/world/chunk-layout.ts';
import { CHUNK, DetectorChunk } from '../../../firmware-sim/world/detector-pass.ts';
import { createWorld } from '../../../firmware-sim/world/index.ts';
import { BOARD, int32Outs } from './helpers.ts';

function chunkOf(leds: number): DetectorChunk {
  const z = () => new Float64Array(leds);
  const h = () => new Float64Array(2);
  return new DetectorChunk({ th: z().fill(1), xMax: z().fill(100), droop: z(), on: z().fill(1) }, { hz: h(), phaseCycles: h(), cosStep: h(), sinStep: h() });
}

/** Runs as the per-sample layout makes them: [start, grid index] where floor(t / gridS) changes. */
function flooredRuns(t0S: number, dtS: number, at: number, n: number, invH: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let gCur = Number.NaN;
  for (let i = 0; i < n; i++) {
    const g = Math.floor((t0S + (at + i) * dtS) * invH);
    if (g !== gCur) out.push([i, g]);
    gCur = g;
  }
  return out;
}

describe('world chunk layout', () => {
  it('grid runs equal flooring every sample (on and off the lattice, grids finer than a sample, negative t)', () => {
    const c = chunkOf(1);
    const cases: Array<[number, number, number, number, number]> = [
      [0, 1e-4, 0, CHUNK, 1 / 0.02],
      [123.4567, 1e-4, 300, CHUNK, 1 / 0.02],
      [3.00000123, 1 / 9973, 17, 389, 1 / 0.002],
      [-0.05, 1 / 3000, 0, 200, 1 / 0.01],
      [7, 0.05, 0, 40, 1 / 0.02], // a sample every 2.5 grid points: runs of one sample, grid indices skipped
      [1e5 + 0.1, 1 / 10_000, 5, 500, 1 / 0.02],
    ];
    for (const [t0, dt, at, n, invH] of cases) {
      const slots: number[] = [];
      const runs = gridRunsOf(c, t0, dt, at, n, invH, (g) => {
        slots.push(g);
        return g & 511;
      });
      const want = flooredRuns(t0, dt, at, n, invH);
      assert.equal(runs, want.length, `runs at t0 ${t0}, dt ${dt}`);
      for (let r = 0; r < runs; r++) {
        assert.equal(c.segAt[r], want[r]![0]);
        assert.equal(c.runGrid[r], want[r]![1]);
      }
      assert.deepEqual(slots, want.flatMap(([, g]) => [g, g + 1]), 'slots asked in order g, g + 1 per run');
    }
  });

  it('lit LEDs: above threshold somewhere in the chunk and not dead, in board order', () => {
    const c = chunkOf(4);
    c.ledOn[2] = 0;
    const cur = [new Float32Array(50), Float32Array.from({ length: 50 }, (_, i) => (i === 49 ? 2 : 0)), new Float32Array(50).fill(5), new Float32Array(50).fill(1.5)];
    assert.equal(litLedsOf(c, cur, 0, 50), 2);
    assert.deepEqual([...c.lit.subarray(0, 2)], [1, 3]);
    assert.equal(litLedsOf(c, cur, 0, 49), 1, 'LED 1 is lit only at the last sample');
  });

  it('the lean layout renders what the full layout renders (a 3-detector board lays every sample out), 1 to 4 LEDs lit', () => {
    const fs = 10_000;
    const n = 3000;
    const carriersHz = [648, 1150, 1749, 211];
    for (const lit of [1, 3, 4]) {
      const cur = BOARD.leds.map((_, k) => Float32Array.from({ length: n }, (_, i) => (k < lit ? 10 * (1 + Math.sin((2 * Math.PI * carriersHz[k]! * i) / fs)) : 0)));
      const paired = createWorld('sleep', 3, BOARD);
      const a = int32Outs(BOARD.detectors.length, n);
      paired.renderDetectors({ t0S: 12.5, dtS: 1 / fs, count: n, ledCurrentMa: cur, oversampling: 1, out: a });
      // a 3-detector board (detector 2 a copy of 0, rendered alone from the laid-out arrays): detectors 0 and 1
      // still paired, after the full layout
      const board3 = { ...BOARD, detectors: [...BOARD.detectors, BOARD.detectors[0]!] };
      const w3 = createWorld('sleep', 3, board3);
      const b = int32Outs(3, n);
      w3.renderDetectors({ t0S: 12.5, dtS: 1 / fs, count: n, ledCurrentMa: cur, oversampling: 1, out: b });
      assert.deepEqual(b[0], a[0], `detector 0, ${lit} LEDs lit`);
      assert.deepEqual(b[1], a[1], `detector 1, ${lit} LEDs lit`);
      assert.ok(b[0]!.some((v, i) => v !== b[2]![i]), 'detector 2 has its own noise');
    }
  });

  it('the pair pass renders what detectorPass renders alone (a third flicker harmonic of amplitude 0 unpairs them)', () => {
    const fs = 10_000;
    const n = 3000;
    const cur = BOARD.leds.map((_, k) => Float32Array.from({ length: n }, (_, i) => (k < 3 ? 10 * (1 + Math.sin((2 * Math.PI * [648, 1150, 1749][k]! * i) / fs)) : 0)));
    const paired = createWorld('sleep', 5, BOARD);
    const alone = createWorld('sleep', 5, BOARD, {
      detectors: paired.params.detectors.map((d) => ({ flicker: [...d.flicker, { hz: 300, amplitudeV: 0, phaseRad: 0 }] })),
    });
    for (const t0S of [12.5, 3.00000123]) { // on the tick lattice (the lean layout) and off it
      const a = int32Outs(2, n);
      const b = int32Outs(2, n);
      paired.renderDetectors({ t0S, dtS: 1 / fs, count: n, ledCurrentMa: cur, oversampling: 2, out: a });
      alone.renderDetectors({ t0S, dtS: 1 / fs, count: n, ledCurrentMa: cur, oversampling: 2, out: b });
      assert.deepEqual(a, b, `t0 ${t0S}`);
    }
  });
});
