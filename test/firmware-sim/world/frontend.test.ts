// Analog front end: quantization, saturation, oversampling, shot/read noise,
// ambient flicker, aux EEG/EMG content and code conventions.
import assert from 'node:assert/strict';
import { codesPerVolt, createWorld, type WorldBoard } from '../../../firmware-sim/world/index.ts';
import { BOARD, bandPower, constantCurrents, int32Outs, LED470, mean, std, toneAmplitude } from './helpers.ts';

const FS = 10_000;

function render(w: ReturnType<typeof createWorld>, t0S: number, count: number, currents: readonly number[], oversampling = 1): Int32Array[] {
  const out = int32Outs(w.board.detectors.length, count);
  w.renderDetectors({ t0S, dtS: 1 / FS, count, ledCurrentMa: constantCurrents(currents, count), oversampling, out });
  return out;
}

describe('firmware-sim/world front end', () => {
  it('noise off: every code is the noise-free float code rounded (|code - truth| <= 0.5)', () => {
    const w = createWorld('sleep', 1, BOARD, { noise: false });
    const n = 5000;
    const cur = [0, 1, 2, 3].map((k) => Float32Array.from({ length: n }, (_, i) => 10 + 10 * Math.sin(2 * Math.PI * (100 + 37 * k) * i / FS)));
    const out = int32Outs(2, n);
    w.renderDetectors({ t0S: 321, dtS: 1 / FS, count: n, ledCurrentMa: cur, oversampling: 1, out });
    for (let i = 0; i < n; i += 7) {
      const v = w.truth.detectorCodes(cur.map((c) => c[i]!), 321 + i / FS);
      for (let d = 0; d < 2; d++) {
        assert.ok(Number.isInteger(out[d]![i]));
        assert.ok(Math.abs(out[d]![i]! - v[d]!) <= 0.5 + 1e-6, `${out[d]![i]} vs ${v[d]}`);
      }
    }
  });

  it('saturation: clips at full scale 2^bits - 1 (16-bit: 65535, 12-bit: 4095) and at 0', () => {
    const w16 = createWorld('steps', 1, BOARD, { noise: false });
    const out = render(w16, 1, 100, [0, 5000, 0, 0]);
    assert.ok(w16.truth.detectorCodes([0, 5000, 0, 0], 1)[0]! > 65535);
    assert.ok(out[0]!.every((c) => c === 65535));
    const b12: WorldBoard = { ...BOARD, detectors: BOARD.detectors.map((d) => ({ ...d, adcBits: 12 })) };
    const w12 = createWorld('steps', 1, b12, { noise: false });
    assert.ok(render(w12, 1, 100, [0, 5000, 0, 0])[0]!.every((c) => c === 4095));
    const neg = createWorld('dark', 1, BOARD, { noise: false, detectors: [{ offsetV: -0.5 }] });
    assert.ok(render(neg, 1, 100, [0, 0, 0, 0])[0]!.every((c) => c === 0));
  });

  it('ADC scale: offset and DC ambient read as (offsetV + ambientDcV) x 2^bits / fullScaleV ± 0.5 (LEDs off, noise off, 1 s mean)', () => {
    const w = createWorld('steps', 2, BOARD, { noise: false });
    const out = render(w, 0, FS, [0, 0, 0, 0]);
    for (let d = 0; d < 2; d++) {
      const p = w.params.detectors[d]!;
      const expected = (p.offsetV + p.ambientDcV) * codesPerVolt(16, 3.3);
      assert.ok(Math.abs(mean(out[d]!) - expected) <= 0.5, `${mean(out[d]!)} vs ${expected}`);
    }
  });

  it('oversampling N averages N conversions: read-noise sd falls by sqrt(N) (N = 4: 2 ± 0.1, N = 16: 4 ± 0.2, 20 000 samples)', () => {
    const w = createWorld('steps', 3, BOARD, { ambient: false, detectors: [{ readNoiseV: 1e-3, shotNoiseV2PerV: 0 }] });
    const n = 20_000;
    const sd = (N: number): number => {
      const out = render(w, 50, n, [0, 20, 0, 0], N);
      const resid = Float64Array.from(out[0]!, (c, i) => c - w.truth.detectorCodes([0, 20, 0, 0], 50 + i / FS)[0]!);
      return std(resid);
    };
    const s1 = sd(1);
    assert.ok(Math.abs(s1 / (1e-3 * codesPerVolt(16, 3.3)) - 1) < 0.05, `sd ${s1}`);
    assert.ok(Math.abs(s1 / sd(4) - 2) < 0.1);
    assert.ok(Math.abs(s1 / sd(16) - 4) < 0.2);
  });

  it('shot noise: variance grows with light, var ratio matches the light ratio ± 10 % (read noise off)', () => {
    const w = createWorld('steps', 4, BOARD, { ambient: false, detectors: [{ readNoiseV: 0, shotNoiseV2PerV: 1e-5 }] });
    const n = 20_000;
    const v = (ma: number): [number, number] => {
      const out = render(w, 50, n, [0, ma, 0, 0]);
      const truth = Float64Array.from({ length: n }, (_, i) => w.truth.detectorCodes([0, ma, 0, 0], 50 + i / FS)[0]!);
      const light = mean(truth) - w.truth.offsetCodes(0);
      return [std(Float64Array.from(out[0]!, (c, i) => c - truth[i]!)) ** 2, light];
    };
    const [v1, l1] = v(5);
    const [v2, l2] = v(40);
    assert.ok(Math.abs(v2 / v1 / (l2 / l1) - 1) < 0.1, `var ratio ${v2 / v1}, light ratio ${l2 / l1}`);
    const sigma = w.truth.noiseSigmaCodes(0, l2, 1);
    assert.ok(Math.abs(Math.sqrt(v2) / sigma - 1) < 0.05);
  });

  it('ambient flicker: 100 Hz and 200 Hz at the documented amplitudes ± 0.5 %, none at 120 Hz (mains 50 Hz; LEDs off, noise off, 1 s)', () => {
    const w = createWorld('steps', 5, BOARD, { noise: false });
    const out = render(w, 7, FS, [0, 0, 0, 0]);
    for (let d = 0; d < 2; d++) {
      const fl = w.params.detectors[d]!.flicker;
      const a100 = toneAmplitude(out[d]!, FS, 100);
      const a200 = toneAmplitude(out[d]!, FS, 200);
      assert.equal(fl[0]!.hz, 100);
      assert.ok(Math.abs(a100 / (fl[0]!.amplitudeV * codesPerVolt(16, 3.3)) - 1) < 0.005, `100 Hz ${a100}`);
      assert.ok(Math.abs(a200 / (fl[1]!.amplitudeV * codesPerVolt(16, 3.3)) - 1) < 0.005, `200 Hz ${a200}`);
      assert.ok(toneAmplitude(out[d]!, FS, 120) < 0.5);
    }
  });

  it('ambient flicker at 120 Hz with mains 60 Hz; ambient off removes flicker (< 0.1 code)', () => {
    const w60 = createWorld('steps', 5, BOARD, { noise: false, mainsHz: 60 });
    const out = render(w60, 7, FS, [0, 0, 0, 0]);
    assert.ok(Math.abs(toneAmplitude(out[0]!, FS, 120) / (w60.params.detectors[0]!.flicker[0]!.amplitudeV * codesPerVolt(16, 3.3)) - 1) < 0.005);
    assert.ok(toneAmplitude(out[0]!, FS, 100) < 0.5);
    const off = createWorld('steps', 5, BOARD, { noise: false, ambient: false });
    const o2 = render(off, 7, FS, [0, 0, 0, 0]);
    assert.ok(toneAmplitude(o2[0]!, FS, 100) < 0.1);
    assert.equal(off.truth.ambientCodes(0, 3.21), 0);
  });

  describe('aux EEG/EMG (sleep, seed 2)', () => {
    const w = createWorld('sleep', 2, BOARD);
    const AUX_FS = 1000;
    const auxUv = (a: number, t0: number, seconds: number): Float64Array => {
      const n = seconds * AUX_FS;
      const out = int32Outs(2, n);
      w.renderAux({ t0S: t0, dtS: 1 / AUX_FS, count: n, out });
      return Float64Array.from(out[a]!, (c) => c / w.truth.auxCodesPerUv(a));
    };
    const windows = (state: string): number[] =>
      w.truth.bouts(0, 4 * 3600).filter((b) => b.state === state && !b.microArousal && b.endS - b.startS > 40).slice(0, 6).map((b) => b.endS - 16);
    const band = (state: string, a: number, lo: number, hi: number): number => mean(windows(state).map((t) => bandPower(auxUv(a, t, 8), AUX_FS, lo, hi)));

    it('EEG delta (1-4 Hz) power in NREM > 3x wake', () => {
      const r = band('nrem', 0, 1, 4) / band('wake', 0, 1, 4);
      assert.ok(r > 3, `ratio ${r}`);
    });

    it('EEG theta (4-8 Hz) power in REM > 2x NREM and > 2x wake', () => {
      const rem = band('rem', 0, 4, 8);
      assert.ok(rem > 2 * band('nrem', 0, 4, 8) && rem > 2 * band('wake', 0, 4, 8));
    });

    it('EMG rms: wake > 3x REM, NREM between', () => {
      const rms = (s: string): number => mean(windows(s).map((t) => std(auxUv(1, t, 4))));
      assert.ok(rms('wake') > 3 * rms('rem'), `wake ${rms('wake')} rem ${rms('rem')}`);
      assert.ok(rms('nrem') > rms('rem') && rms('nrem') < rms('wake'));
    });

    it('EEG in µV: truth.auxMicrovolts equals the rendered codes / codesPerUv within amplifier noise (5 sd) and quantization', () => {
      const n = 2000;
      const truth = w.truth.auxMicrovolts(0, 500, 1 / AUX_FS, n);
      const got = auxUv(0, 500, 2);
      const tol = 5 * w.params.aux[0]!.noiseUv + 1 / w.truth.auxCodesPerUv(0);
      for (let i = 0; i < n; i++) assert.ok(Math.abs(got[i]! - truth[i]!) < tol);
    });
  });

  it('aux codes are signed with 0 µV at code 0: steps tones 100 µV @ 2 Hz and 40 µV @ 10 Hz ± 0.5 % (noise, ambient off)', () => {
    const w = createWorld('steps', 6, BOARD, { noise: false, ambient: false });
    const n = 2000;
    const out = int32Outs(2, n);
    w.renderAux({ t0S: 3, dtS: 1 / 1000, count: n, out });
    for (let a = 0; a < 2; a++) {
      const cpu = w.truth.auxCodesPerUv(a);
      assert.ok(Math.abs(mean(out[a]!)) < 0.5);
      assert.ok(out[a]!.some((c) => c < 0));
      assert.ok(Math.abs(toneAmplitude(out[a]!, 1000, 2) / (100 * cpu) - 1) < 0.005);
      assert.ok(Math.abs(toneAmplitude(out[a]!, 1000, 10) / (40 * cpu) - 1) < 0.005);
      assert.deepEqual(w.truth.auxCodeRange(a), { min: -32768, max: 32767 });
    }
    const loud = createWorld('steps', 6, { ...BOARD, aux: BOARD.aux.map((a) => ({ ...a, gainVPerV: 1e6 })) });
    const o2 = int32Outs(2, 1000);
    loud.renderAux({ t0S: 0, dtS: 1 / 1000, count: 1000, out: o2 });
    assert.equal(Math.max(...o2[0]!), 32767);
    assert.equal(Math.min(...o2[0]!), -32768);
  });

  it('dark: LED light is small (fiber autofluorescence only: 470 nm slope < 10 % of the sleep world) and there is no GRAB or red signal', () => {
    const dark = createWorld('dark', 1, BOARD);
    const sleep = createWorld('sleep', 1, BOARD);
    assert.ok(dark.truth.codesPerMa(LED470, 0, 10) < 0.1 * sleep.truth.codesPerMa(LED470, 0, 10));
    assert.equal(dark.truth.fluorophoreCodesPerMa(LED470, 'grabNe', 0, 10), 0);
    assert.equal(dark.truth.fluorophoreCodesPerMa(2, 'redDye', 1, 10), 0);
    assert.equal(dark.truth.signal('grabNe', 100), 0);
    assert.equal(dark.truth.sleepStateAt(100), 'none');
  });
});
