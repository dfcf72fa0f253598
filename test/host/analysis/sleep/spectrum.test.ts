// Welch (host/analysis/sleep/spectrum.ts) against a direct DFT, and the band sums of shared
// segments (EegBandPowers, bands.ts) against Welch.compute + bandPower on the same windows.
import assert from 'node:assert/strict';
import { EEG_BAND_ORDER, EEG_BANDS_HZ, EegBandPowers, Welch } from '../../../../host/analysis/sleep/index.ts';

function noise(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32 - 0.5; });
}

/** One-sided Welch PSD by the definition: a direct DFT of each mean-removed Hann segment, zero-padded to nfft. */
function directPsd(x: Float64Array, rateHz: number, m: number, nfft: number): Float64Array {
  const w = Float64Array.from({ length: m }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / m));
  const wp = w.reduce((a, v) => a + v * v, 0);
  const psd = new Float64Array(nfft / 2 + 1);
  let segments = 0;
  for (let s = 0; s + m <= x.length; s += Math.floor(m / 2)) {
    let mean = 0;
    for (let i = 0; i < m; i++) mean += x[s + i]!;
    mean /= m;
    for (let k = 0; k < psd.length; k++) {
      let re = 0;
      let im = 0;
      for (let i = 0; i < m; i++) {
        const v = (x[s + i]! - mean) * w[i]!;
        re += v * Math.cos((2 * Math.PI * i * k) / nfft);
        im -= v * Math.sin((2 * Math.PI * i * k) / nfft);
      }
      psd[k]! += re * re + im * im;
    }
    segments++;
  }
  return psd.map((p, k) => (p * (k === 0 || k === psd.length - 1 ? 1 : 2)) / (segments * rateHz * wp));
}

describe('Welch (fft.js real-input FFT)', () => {
  it('compute equals a direct DFT of each Hann segment within 1e-10 of the largest bin, with and without zero-padding (100 and 128 samples, nfft 128 and 512)', () => {
    const x = noise(450, 3);
    for (const [m, minNfft] of [[100, 0], [128, 0], [100, 512]] as const) {
      const w = new Welch(250, m, minNfft);
      const got = w.compute(x, 0, x.length);
      const want = directPsd(x, 250, m, w.nfft);
      assert.equal(got.length, want.length);
      const peak = Math.max(...want);
      for (let k = 0; k < want.length; k++) assert.ok(Math.abs(got[k]! - want[k]!) <= 1e-10 * peak, `m ${m} nfft ${w.nfft} bin ${k}: ${got[k]} vs ${want[k]}`);
    }
  });

  it('EegBandPowers.window over segment band sums equals compute + bandPower on the same window within 1e-12 relative (3 segments of an epoch, 1 of a band value); a NaN sample makes its windows NaN', () => {
    const rateHz = 1000;
    const m = 2 * rateHz;
    const x = noise(6 * rateHz, 9);
    const bands = new EegBandPowers(rateHz, m);
    const welch = new Welch(rateHz, m);
    const out = new Float64Array(EEG_BAND_ORDER.length);
    for (const [start, length] of [[0, 4 * rateHz], [1000, m], [1500, 4 * rateHz + 300]] as const) {
      bands.window((s) => bands.segment(x, s), start, length, out);
      welch.compute(x, start, length);
      EEG_BAND_ORDER.forEach((b, i) => {
        const [lo, hi] = EEG_BANDS_HZ[b];
        const want = welch.bandPower(lo, hi);
        assert.ok(want > 0 && Math.abs(out[i]! - want) <= 1e-12 * want, `${b} of [${start}, +${length}): ${out[i]} vs ${want}`);
      });
    }
    x[2500] = Number.NaN;
    bands.window((s) => bands.segment(x, s), 0, 4 * rateHz, out);
    assert.ok(out.every(Number.isNaN));
    bands.window((s) => bands.segment(x, s), 3000, m, out);
    assert.ok(out.every(Number.isFinite));
  });
});
