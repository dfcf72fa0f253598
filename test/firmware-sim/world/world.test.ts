// createWorld: the World contract, errors, determinism, chunking, ground-truth
// consistency (codesPerMa / detectorCodes / renders), steps exactness, digital
// edges, faults.
import assert from 'node:assert/strict';
import { FiberrigError } from '../../../protocol/index.ts';
import {
  codesPerVolt, createWorld, SCENARIO_NAMES, STEPS_PARAMS, stepsSignal, WorldError, type WorldBoard,
} from '../../../firmware-sim/world/index.ts';
import { BOARD, constantCurrents, int32Outs, LED405, LED470, LED560, mean, std, toneAmplitude } from './helpers.ts';

const FS = 10_000;

function lockInCurrents(n0: number, count: number, peaks: readonly number[], carriersHz: readonly number[]): Float32Array[] {
  return peaks.map((p, k) => Float32Array.from({ length: count }, (_, i) => (p * (1 + Math.sin((2 * Math.PI * carriersHz[k]! * (n0 + i)) / FS))) / 2));
}

function renderBlocks(scenario: string, seed: number, blockSizes: readonly number[], total: number): { det: Int32Array[]; aux: Int32Array[] } {
  const w = createWorld(scenario, seed, BOARD);
  const det = int32Outs(2, total);
  const aux = int32Outs(2, total / 10);
  const cur = lockInCurrents(0, total, [30, 30, 30, 10], [211, 331, 457, 587]);
  let n = 0;
  let b = 0;
  while (n < total) {
    const count = Math.min(blockSizes[b++ % blockSizes.length]!, total - n);
    w.renderDetectors({
      t0S: n / FS, dtS: 1 / FS, count, oversampling: 4,
      ledCurrentMa: cur.map((c) => c.subarray(n, n + count)), out: det.map((o) => o.subarray(n, n + count)),
    });
    n += count;
  }
  // aux at 1 kHz in uneven blocks
  let m = 0;
  b = 0;
  while (m < total / 10) {
    const count = Math.min(Math.ceil(blockSizes[b++ % blockSizes.length]! / 10), total / 10 - m);
    w.renderAux({ t0S: m / 1000, dtS: 1 / 1000, count, out: aux.map((o) => o.subarray(m, m + count)) });
    m += count;
  }
  return { det, aux };
}

describe('firmware-sim/world createWorld', () => {
  it('offers the four scenarios', () => {
    assert.deepEqual([...SCENARIO_NAMES].sort(), ['dark', 'sleep', 'steps', 'zolpidem']);
    for (const s of SCENARIO_NAMES) {
      const w = createWorld(s, 1, BOARD);
      assert.equal(w.scenario, s);
      assert.equal(w.seed, 1);
      assert.equal(w.truth.scenario.name, s);
    }
  });

  it('unknown scenario: WorldError E_SIM_UNKNOWN_SCENARIO (a FiberrigError) with a hint naming the scenarios', () => {
    assert.throws(() => createWorld('coffee', 1, BOARD), (e: unknown) => {
      assert.ok(e instanceof WorldError && e instanceof FiberrigError);
      assert.equal(e.code, 'E_SIM_UNKNOWN_SCENARIO');
      assert.match(e.hint, /sleep, zolpidem, steps, dark/);
      return true;
    });
    assert.throws(() => createWorld('toString', 1, BOARD), { code: 'E_SIM_UNKNOWN_SCENARIO' });
  });

  it('bad board, option, request and index are typed errors', () => {
    const badBoard: WorldBoard = { ...BOARD, detectors: [{ id: 0, adcBits: 0, fullScaleV: 3.3 }] };
    assert.throws(() => createWorld('sleep', 1, badBoard), { code: 'E_SIM_BAD_BOARD' });
    assert.throws(() => createWorld('sleep', 1, BOARD, { gridS: 0 }), { code: 'E_SIM_BAD_OPTION' });
    assert.throws(() => createWorld('sleep', 1, BOARD, { mainsHz: 55 as 50 }), { code: 'E_SIM_BAD_OPTION' });
    const w = createWorld('sleep', 1, BOARD);
    const out = int32Outs(2, 10);
    assert.throws(() => w.renderDetectors({ t0S: 0, dtS: 1e-4, count: 10, ledCurrentMa: constantCurrents([1, 1, 1], 10), oversampling: 1, out }), { code: 'E_SIM_BAD_REQUEST' });
    assert.throws(() => w.renderDetectors({ t0S: 0, dtS: 1e-4, count: 10, ledCurrentMa: constantCurrents([1, 1, 1, 1], 5), oversampling: 1, out }), { code: 'E_SIM_BAD_REQUEST' });
    assert.throws(() => w.renderDetectors({ t0S: 0, dtS: 0, count: 10, ledCurrentMa: constantCurrents([1, 1, 1, 1], 10), oversampling: 1, out }), { code: 'E_SIM_BAD_REQUEST' });
    assert.throws(() => w.renderDetectors({ t0S: 0, dtS: 1e-4, count: 10, ledCurrentMa: constantCurrents([1, 1, 1, 1], 10), oversampling: 0, out }), { code: 'E_SIM_BAD_REQUEST' });
    assert.throws(() => w.renderAux({ t0S: 0, dtS: 1e-3, count: 10, out: int32Outs(1, 10) }), { code: 'E_SIM_BAD_REQUEST' });
    assert.throws(() => w.truth.codesPerMa(4, 0, 0), { code: 'E_SIM_BAD_INDEX' });
    assert.throws(() => w.truth.codesPerMa(0, 2, 0), { code: 'E_SIM_BAD_INDEX' });
    assert.throws(() => w.setFaults({ deadLeds: [9] }), { code: 'E_SIM_BAD_INDEX' });
  });

  for (const scenario of ['sleep', 'zolpidem', 'steps', 'dark']) {
    it(`${scenario}: deterministic per seed (identical detector, aux and edge output) and different for another seed`, () => {
      const a = renderBlocks(scenario, 11, [256], 20_000);
      const b = renderBlocks(scenario, 11, [256], 20_000);
      assert.deepEqual(a, b);
      const c = renderBlocks(scenario, 12, [256], 20_000);
      assert.notDeepEqual(a.det, c.det);
      const w1 = createWorld(scenario, 11, BOARD);
      const w2 = createWorld(scenario, 11, BOARD);
      assert.deepEqual(w1.digitalEdges(0, 600), w2.digitalEdges(0, 600));
    });
  }

  it('output does not depend on call chunking (blocks of 256 vs 1000 vs uneven 77/300/5), noise on', () => {
    const a = renderBlocks('sleep', 21, [256], 30_000);
    assert.deepEqual(renderBlocks('sleep', 21, [1000], 30_000), a);
    assert.deepEqual(renderBlocks('sleep', 21, [77, 300, 5], 30_000), a);
  });

  it('a render does not depend on earlier renders (re-rendering a past block gives the same codes)', () => {
    const w = createWorld('sleep', 22, BOARD);
    const cur = lockInCurrents(0, 256, [20, 20, 20, 0], [211, 331, 457, 587]);
    const first = int32Outs(2, 256);
    w.renderDetectors({ t0S: 100, dtS: 1 / FS, count: 256, ledCurrentMa: cur, oversampling: 1, out: first });
    const later = int32Outs(2, 256);
    w.renderDetectors({ t0S: 5000, dtS: 1 / FS, count: 256, ledCurrentMa: cur, oversampling: 1, out: later });
    w.renderDetectors({ t0S: 100, dtS: 1 / FS, count: 256, ledCurrentMa: cur, oversampling: 1, out: later });
    assert.deepEqual(later, first);
  });

  it('codesPerMa is the finite-difference slope of detectorCodes: linear LEDs exact (rel 1e-9), unit LEDs at a current (rel 1e-5)', () => {
    const lin = createWorld('steps', 3, BOARD);
    const uni = createWorld('sleep', 3, BOARD);
    for (const t of [1.234, 77.7, 1000.01]) {
      for (let k = 0; k < 4; k++) {
        for (let d = 0; d < 2; d++) {
          const base = [5, 5, 5, 5];
          const up = base.map((v, j) => (j === k ? v + 10 : v));
          const fd = (lin.truth.detectorCodes(up, t)[d]! - lin.truth.detectorCodes(base, t)[d]!) / 10;
          const s = lin.truth.codesPerMa(k, d, t);
          assert.ok(Math.abs(fd - s) <= 1e-9 * Math.max(Math.abs(s), 1e-3) + 1e-9, `linear ${fd} vs ${s}`);
          const at = 25;
          const h = 1e-3;
          const lo = [0, 0, 0, 0].map((_, j) => (j === k ? at - h : 0));
          const hi = [0, 0, 0, 0].map((_, j) => (j === k ? at + h : 0));
          const fdu = (uni.truth.detectorCodes(hi, t)[d]! - uni.truth.detectorCodes(lo, t)[d]!) / (2 * h);
          const su = uni.truth.codesPerMa(k, d, t, at);
          assert.ok(Math.abs(fdu - su) <= 1e-5 * Math.abs(su) + 1e-6, `unit ${fdu} vs ${su}`);
          assert.ok(su < uni.truth.codesPerMa(k, d, t) || su === 0, 'droop: local slope below the linear slope');
        }
      }
    }
  });

  it('ledContributions sum with offset and ambient to detectorCodes (rel 1e-12)', () => {
    const w = createWorld('sleep', 4, BOARD);
    const cur = [12, 34, 21, 5];
    for (const t of [3, 1500.5]) {
      const c = w.truth.ledContributions(cur, t);
      const total = w.truth.detectorCodes(cur, t);
      for (let d = 0; d < 2; d++) {
        const s = w.truth.offsetCodes(d) + w.truth.ambientCodes(d, t) + c.reduce((a, row) => a + row[d]!, 0);
        assert.ok(Math.abs(s - total[d]!) <= 1e-9 * total[d]!);
      }
    }
  });

  it('noise-free renders: int codes within 0.5 of truth.renderDetectors float codes, which match detectorCodes per sample (1e-6 codes)', () => {
    const w = createWorld('sleep', 5, BOARD, { noise: false });
    const n = 3000;
    const cur = lockInCurrents(0, n, [30, 30, 30, 10], [211, 331, 457, 587]);
    const ints = int32Outs(2, n);
    w.renderDetectors({ t0S: 250, dtS: 1 / FS, count: n, ledCurrentMa: cur, oversampling: 8, out: ints });
    const floats = [new Float64Array(n), new Float64Array(n)];
    w.truth.renderDetectors({ t0S: 250, dtS: 1 / FS, count: n, ledCurrentMa: cur, out: floats });
    for (let i = 0; i < n; i++) {
      const v = w.truth.detectorCodes(cur.map((c) => c[i]!), 250 + i / FS);
      for (let d = 0; d < 2; d++) {
        assert.ok(Math.abs(ints[d]![i]! - floats[d]![i]!) <= 0.5 + 1e-9);
        assert.ok(Math.abs(floats[d]![i]! - v[d]!) < 1e-6, `${floats[d]![i]} vs ${v[d]}`);
      }
    }
  });

  it('slow renders (dtS 0.5 s, 4000 samples spanning 200 000 grid points) still match detectorCodes (1e-6 codes)', () => {
    const w = createWorld('sleep', 5, BOARD, { noise: false });
    const n = 4000;
    const cur = constantCurrents([10, 20, 30, 0], n);
    const floats = [new Float64Array(n), new Float64Array(n)];
    w.truth.renderDetectors({ t0S: 0, dtS: 0.5, count: n, ledCurrentMa: cur, out: floats });
    for (let i = 0; i < n; i += 3) {
      const v = w.truth.detectorCodes([10, 20, 30, 0], i * 0.5);
      for (let d = 0; d < 2; d++) assert.ok(Math.abs(floats[d]![i]! - v[d]!) < 1e-6, `${i}: ${floats[d]![i]} vs ${v[d]}`);
    }
  });

  it('lock-in check: demodulated amplitude at each carrier = mean codesPerMa x peak / 2 (steps, noise off, 1 s window, rel 2e-3)', () => {
    const w = createWorld('steps', 6, BOARD, { noise: false });
    const peaks = [40, 30, 40, 0];
    const carriers = [211, 331, 457, 587];
    const n = FS;
    const t0 = 60;
    const cur = lockInCurrents(t0 * FS, n, peaks, carriers);
    const out = int32Outs(2, n);
    w.renderDetectors({ t0S: t0, dtS: 1 / FS, count: n, ledCurrentMa: cur, oversampling: 1, out });
    for (let k = 0; k < 3; k++) {
      for (let d = 0; d < 2; d++) {
        let slope = 0;
        for (let i = 0; i < n; i++) slope += w.truth.codesPerMa(k, d, t0 + i / FS);
        const expected = ((slope / n) * peaks[k]!) / 2;
        const got = toneAmplitude(out[d]!, FS, carriers[k]!);
        assert.ok(Math.abs(got / expected - 1) < 2e-3, `led ${k} det ${d}: ${got} vs ${expected}`);
      }
    }
  });

  it('steps amplitudes are exact: 470 nm at 20 mA reads offset + ambient + 20 x slope x gain x sum_f E C B (1 + R s_f) with s_f from STEPS_PARAMS (±0.5 code + 1e-3, noise off)', () => {
    const w = createWorld('steps', 7, BOARD, { noise: false });
    const x = w.truth.crosstalk();
    const cpv = codesPerVolt(16, 3.3);
    const n = 2000;
    for (const t0 of [5, 15, 25, 47.3]) {
      const out = int32Outs(2, n);
      w.renderDetectors({ t0S: t0, dtS: 1 / FS, count: n, ledCurrentMa: constantCurrents([0, 20, 0, 0], n), oversampling: 1, out });
      for (let i = 0; i < n; i += 13) {
        const t = t0 + i / FS;
        const s = [stepsSignal(STEPS_PARAMS.grabNe, t), stepsSignal(STEPS_PARAMS.redDye, t), 0, 0];
        for (let d = 0; d < 2; d++) {
          let sum = 0;
          for (let f = 0; f < 4; f++) sum += x.excitation[LED470]![f]! * x.collection[f]![d]! * x.brightness[f]! * (1 + x.response[LED470]![f]! * s[f]!);
          const p = w.params.detectors[d]!;
          const expected = w.truth.offsetCodes(d) + w.truth.ambientCodes(d, t) + 20 * w.params.leds[LED470]!.slopeUwPerMa * p.gainVPerUw * cpv * sum;
          assert.ok(Math.abs(out[d]![i]! - expected) <= 0.5 + 1e-3, `t ${t} det ${d}: ${out[d]![i]} vs ${expected}`);
        }
      }
    }
  });

  it('digital edges: sleep sync on line 0 every 60 s (100 ms), markers at state transitions on line 1, half-open [t0, t1), time order, board line ids', () => {
    const board: WorldBoard = { ...BOARD, digitalInputs: [{ id: 7 }, { id: 9 }] };
    const w = createWorld('sleep', 8, board);
    const edges = w.digitalEdges(0, 1800);
    const sync = edges.filter((e) => e.lineId === 7);
    assert.deepEqual(sync.slice(0, 4), [
      { lineId: 7, rising: true, tS: 60 }, { lineId: 7, rising: false, tS: 60.1 },
      { lineId: 7, rising: true, tS: 120 }, { lineId: 7, rising: false, tS: 120.1 },
    ]);
    assert.equal(sync.filter((e) => e.rising).length, 29);
    for (let i = 1; i < edges.length; i++) assert.ok(edges[i]!.tS >= edges[i - 1]!.tS);
    const markers = edges.filter((e) => e.lineId === 9 && e.rising).map((e) => e.tS);
    assert.deepEqual(markers, w.truth.bouts(0, 1800).slice(1).map((b) => b.startS).filter((t) => t < 1800));
    assert.deepEqual(w.digitalEdges(60, 60.1), [{ lineId: 7, rising: true, tS: 60 }]);
    assert.deepEqual(w.digitalEdges(59, 60), []);
    assert.deepEqual(w.digitalEdges(10, 10), []);
  });

  it('digital edges: steps 1 Hz 10 ms train on line 0 and step marks every 10 s on line 1; no lines, no edges', () => {
    const w = createWorld('steps', 1, BOARD);
    const e = w.digitalEdges(0, 20.5);
    assert.equal(e.filter((x) => x.lineId === 0 && x.rising).length, 20);
    assert.deepEqual(e.filter((x) => x.lineId === 1).map((x) => [x.rising, x.tS]), [[true, 10], [false, 10.1], [true, 20], [false, 20.1]]);
    assert.ok(e.filter((x) => x.lineId === 0 && !x.rising).every((x) => Math.abs(x.tS - Math.round(x.tS) - 0.01) < 1e-9));
    assert.deepEqual(createWorld('steps', 1, { ...BOARD, digitalInputs: [] }).digitalEdges(0, 100), []);
  });

  describe('faults', () => {
    const run = (w: ReturnType<typeof createWorld>, cur: readonly number[]): Int32Array[] => {
      const out = int32Outs(2, 4000);
      w.renderDetectors({ t0S: 10, dtS: 1 / FS, count: 4000, ledCurrentMa: constantCurrents(cur, 4000), oversampling: 1, out });
      return out;
    };

    it('dead LED: no light from it (codesPerMa 0, render equals LED off)', () => {
      const w = createWorld('sleep', 9, BOARD, { faults: { deadLeds: [LED470] } });
      assert.equal(w.truth.codesPerMa(LED470, 0, 10), 0);
      assert.deepEqual(run(w, [10, 30, 10, 0]), run(w, [10, 0, 10, 0]));
      w.setFaults({});
      assert.ok(w.truth.codesPerMa(LED470, 0, 10) > 0);
    });

    it('saturated detector reads full scale, stuck reads its code, dead reads offset + noise (mean within 1 code)', () => {
      const w = createWorld('sleep', 9, BOARD);
      w.setFaults({ detectors: [{ index: 0, kind: 'saturated' }, { index: 1, kind: 'stuck', code: 1234 }] });
      const o = run(w, [10, 30, 10, 0]);
      assert.ok(o[0]!.every((c) => c === 65535));
      assert.ok(o[1]!.every((c) => c === 1234));
      w.setFaults({ detectors: [{ index: 0, kind: 'dead' }] });
      assert.ok(Math.abs(mean(run(w, [10, 30, 10, 0])[0]!) - w.truth.offsetCodes(0)) < 1);
    });

    it('noisy detector: noise sd x20 ± 10 %', () => {
      const w = createWorld('steps', 9, BOARD, { ambient: false, detectors: [{ shotNoiseV2PerV: 0 }, { shotNoiseV2PerV: 0 }] });
      const sd0 = std(run(w, [0, 0, 0, 0])[0]!);
      w.setFaults({ detectors: [{ index: 0, kind: 'noisy' }] });
      const sd1 = std(run(w, [0, 0, 0, 0])[0]!);
      assert.ok(Math.abs(sd1 / sd0 / 20 - 1) < 0.1, `ratio ${sd1 / sd0}`);
    });

    it('aux railed reads the top code; disconnected shows large mains (50 Hz > 100 µV)', () => {
      const w = createWorld('sleep', 9, BOARD, { faults: { aux: [{ index: 0, kind: 'railed' }, { index: 1, kind: 'disconnected' }] } });
      const out = int32Outs(2, 1000);
      w.renderAux({ t0S: 5, dtS: 1 / 1000, count: 1000, out });
      assert.ok(out[0]!.every((c) => c === 32767));
      assert.ok(toneAmplitude(out[1]!, 1000, 50) / w.truth.auxCodesPerUv(1) > 100);
    });
  });

  it('isosbestic control in the sleep world: the 470/405 ratio of GRAB slopes follows NE, 405 GRAB part does not (noise-free truth)', () => {
    const w = createWorld('sleep', 10, BOARD, { motion: false, haemodynamics: false, bleaching: false, temperatureC: 25 });
    const ts = Array.from({ length: 200 }, (_, i) => 150 + i * 5);
    const g405 = ts.map((t) => w.truth.fluorophoreCodesPerMa(LED405, 'grabNe', 0, t));
    assert.ok(std(g405) / mean(g405) < 1e-9);
    const g470 = ts.map((t) => w.truth.fluorophoreCodesPerMa(LED470, 'grabNe', 0, t));
    const ne = ts.map((t) => w.truth.signal('grabNe', t));
    // g470 / g470(ne=0) = 1 + ne (grid interpolation: 1e-4)
    const base = g470[0]! / (1 + ne[0]!);
    for (let i = 0; i < ts.length; i++) assert.ok(Math.abs(g470[i]! / base - (1 + ne[i]!)) < 1e-4);
    assert.ok(w.truth.fluorophoreCodesPerMa(LED560, 'redDye', 1, 100) > 0);
  });
});
