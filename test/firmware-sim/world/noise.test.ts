// Rendered noise against the model's stated statistics: the detectors' read + shot noise and the aux
// amplifier noise, in the default sleep world with the default lock-in drive (3 LEDs modulated).
import assert from 'node:assert/strict';
import { createWorld, normalFastAt, streamKey } from '../../../firmware-sim/world/index.ts';
import { noiseCounterOf } from '../../../firmware-sim/world/render-common.ts';
import { BOARD, corr, int32Outs, mean } from './helpers.ts';

const FS = 10_000;
const CARRIERS_HZ = [648, 1150, 1749];
const N = 60_000;

/** Lag-k autocorrelation of x. */
function autocorr(x: Float64Array, k: number): number {
  return corr(x.subarray(k), x.subarray(0, x.length - k));
}

function variance(x: ArrayLike<number>): number {
  const m = mean(x);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i]! - m) ** 2;
  return s / (x.length - 1);
}

describe('firmware-sim/world noise statistics (sleep, default lock-in drive)', () => {
  const w = createWorld('sleep', 5, BOARD);
  const t0S = 1234.5;
  const cur = [0, 1, 2, 3].map((k) => Float32Array.from({ length: N }, (_, i) => (k < 3 ? 10 * (1 + Math.sin((2 * Math.PI * CARRIERS_HZ[k]! * i) / FS)) : 0)));
  const codes = int32Outs(2, N);
  // in device-sized blocks, as the device asks
  for (let at = 0; at < N; at += 250) {
    w.renderDetectors({ t0S: t0S + at / FS, dtS: 1 / FS, count: 250, ledCurrentMa: cur.map((c) => c.subarray(at, at + 250)), oversampling: 1, out: codes.map((o) => o.subarray(at, at + 250)) });
  }
  const clean = [new Float64Array(N), new Float64Array(N)];
  w.truth.renderDetectors({ t0S, dtS: 1 / FS, count: N, ledCurrentMa: cur, out: clean });
  // residual over the model's sigma (read + shot at the sample's light; + 1/12 code² of rounding): N(0, 1) if the model holds
  const z = [0, 1].map((d) => Float64Array.from({ length: N }, (_, i) => {
    const light = clean[d]![i]! - w.truth.offsetCodes(d);
    const sigma = w.truth.noiseSigmaCodes(d, light, 1);
    return (codes[d]![i]! - clean[d]![i]!) / Math.sqrt(sigma * sigma + 1 / 12);
  }));

  it('detector noise / model sigma: mean 0 ± 0.02, variance 1 ± 0.03 (60 000 samples, 5 standard errors)', () => {
    for (const x of z) {
      assert.ok(Math.abs(mean(x)) < 0.02, `mean ${mean(x)}`);
      assert.ok(Math.abs(variance(x) - 1) < 0.03, `variance ${variance(x)}`);
    }
  });

  it('each detector sample\'s noise is normalFastAt(streamKey(seed, "detector-noise", d), noiseCounterOf(t)) x the model sigma (codes equal, ±1 at rounding ties in ≤ 0.1 %)', () => {
    let off = 0;
    for (let d = 0; d < 2; d++) {
      const key = streamKey(5, 'detector-noise', d);
      for (let i = 0; i < N; i += 3) {
        const light = clean[d]![i]! - w.truth.offsetCodes(d);
        const v = clean[d]![i]! + w.truth.noiseSigmaCodes(d, light, 1) * normalFastAt(key, noiseCounterOf(t0S + i / FS));
        const expected = Math.min(65535, Math.max(0, Math.round(v)));
        const diff = Math.abs(codes[d]![i]! - expected);
        assert.ok(diff <= 1, `detector ${d} sample ${i}: ${codes[d]![i]} vs ${expected}`);
        off += diff;
      }
    }
    assert.ok(off <= (2 * N) / 3 / 1000, `${off} codes off by one`);
  });

  it('detector noise is white and independent between detectors: |autocorrelation| at lags 1-10 and |cross-correlation| < 0.02', () => {
    for (const x of z) for (let k = 1; k <= 10; k++) assert.ok(Math.abs(autocorr(x, k)) < 0.02, `lag ${k}: ${autocorr(x, k)}`);
    assert.ok(Math.abs(corr(z[0]!, z[1]!)) < 0.02, `cross ${corr(z[0]!, z[1]!)}`);
  });

  it('shot noise follows each sample\'s light: residual variance in the brightest vs darkest third of samples matches the model ratio ± 5 %', () => {
    for (let d = 0; d < 2; d++) {
      const idx = Array.from({ length: N }, (_, i) => i).sort((a, b) => clean[d]![a]! - clean[d]![b]!);
      const third = Math.floor(N / 3);
      const ratio = (sel: number[]): [number, number] => {
        const r = sel.map((i) => codes[d]![i]! - clean[d]![i]!);
        const model = mean(sel.map((i) => w.truth.noiseSigmaCodes(d, clean[d]![i]! - w.truth.offsetCodes(d), 1) ** 2 + 1 / 12));
        return [variance(r), model];
      };
      const [vLo, mLo] = ratio(idx.slice(0, third));
      const [vHi, mHi] = ratio(idx.slice(N - third));
      assert.ok(mHi / mLo > 1.2, `the drive must span light levels: model variance ratio ${mHi / mLo}`);
      assert.ok(Math.abs(vHi / vLo / (mHi / mLo) - 1) < 0.05, `detector ${d}: measured ${vHi / vLo}, model ${mHi / mLo}`);
    }
  });

  it('aux amplifier noise: codes - truth (noise-free µV) over the stated noiseUv: mean 0 ± 0.02, variance 1 ± 0.03, |lag 1-5 autocorrelation| < 0.02', () => {
    const n = 60_000;
    const out = int32Outs(2, n);
    for (let at = 0; at < n; at += 250) w.renderAux({ t0S: 100 + at / 1000, dtS: 1 / 1000, count: 250, out: out.map((o) => o.subarray(at, at + 250)) });
    for (let a = 0; a < 2; a++) {
      const uv = new Float64Array(n);
      w.truth.auxMicrovolts(a, 100, 1 / 1000, n, uv);
      const cpu = w.truth.auxCodesPerUv(a);
      const sigmaCodes = w.params.aux[a]!.noiseUv * cpu;
      const x = Float64Array.from(out[a]!, (c, i) => (c - uv[i]! * cpu) / Math.sqrt(sigmaCodes * sigmaCodes + 1 / 12));
      assert.ok(Math.abs(mean(x)) < 0.02, `aux ${a} mean ${mean(x)}`);
      assert.ok(Math.abs(variance(x) - 1) < 0.03, `aux ${a} variance ${variance(x)}`);
      for (let k = 1; k <= 5; k++) assert.ok(Math.abs(autocorr(x, k)) < 0.02, `aux ${a} lag ${k}: ${autocorr(x, k)}`);
    }
  });
});
