import assert from 'node:assert/strict';
import {
  BLEACH_TAU_FAST_MAX_S,
  BLEACH_TAU_FAST_MIN_S,
  BLEACH_TAU_SLOW_MAX_S,
  BLEACH_TAU_SLOW_MIN_S,
  DspError,
  detrendBleaching,
  evaluateBleaching,
  fitBleaching,
} from '../../../host/dsp/index.ts';
import { fitSine, rng } from './synth.ts';

const rateHz = 10;
const seconds = 3600;

function recording(sineAmp: number, noise: number, seed = 2): { t: Float64Array; y: Float64Array; trend: Float64Array } {
  const r = rng(seed);
  const n = seconds * rateHz;
  const t = new Float64Array(n);
  const y = new Float64Array(n);
  const trend = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ti = 100 + i / rateHz; // time origin not at 0
    t[i] = ti;
    trend[i] = 20 * Math.exp(-(ti - 100) / 180) + 15 * Math.exp(-(ti - 100) / 4000) + 100;
    y[i] = trend[i]! + sineAmp * Math.sin(2 * Math.PI * 0.02 * ti + 0.4) + noise * r.gauss();
  }
  return { t, y, trend };
}

describe('dsp/bleaching', () => {
  it('exports the tau bounds [60, 600] s and [600, 36000] s', () => {
    assert.deepEqual(
      [BLEACH_TAU_FAST_MIN_S, BLEACH_TAU_FAST_MAX_S, BLEACH_TAU_SLOW_MIN_S, BLEACH_TAU_SLOW_MAX_S],
      [60, 600, 600, 36000],
    );
  });

  it('recovers tau1 = 180 s and tau2 = 4000 s within 2 % and the trend within 0.01 on a noiseless curve', () => {
    const { t, y, trend } = recording(0, 0);
    const f = fitBleaching(t, y);
    assert.ok(Math.abs(f.tau1S / 180 - 1) < 0.02, `tau1 ${f.tau1S}`);
    assert.ok(Math.abs(f.tau2S / 4000 - 1) < 0.02, `tau2 ${f.tau2S}`);
    const e = evaluateBleaching(f, t);
    for (let i = 0; i < t.length; i += 97) assert.ok(Math.abs(e[i]! - trend[i]!) < 0.01);
  });

  it('preserves a 0.02 Hz sine (1 % of baseline) within 1 % amplitude after detrending 1 h with noise', () => {
    const { t, y } = recording(1, 0.5);
    const { detrended, fit } = detrendBleaching(t, y);
    const s = fitSine(t, detrended, 0.02);
    assert.ok(Math.abs(s.amplitude - 1) < 0.01, `amplitude ${s.amplitude}`);
    assert.ok(Math.abs(s.mean) < 0.05, `mean ${s.mean}`);
    assert.ok(fit.tau1S >= 60 && fit.tau2S <= 36000);
    // the fit is not cheating by leaving the trend in: residual RMS ~ sine (0.707) + noise (0.5)
    assert.ok(fit.rmse < 0.9, `rmse ${fit.rmse}`);
  });

  it('ignores NaN samples and preserves them in the output', () => {
    const { t, y } = recording(0, 0.1);
    for (let i = 1000; i < 3000; i++) y[i] = Number.NaN;
    const { detrended, fit } = detrendBleaching(t, y);
    assert.equal(fit.n, t.length - 2000);
    assert.ok(Number.isNaN(detrended[1500]!));
    assert.ok(Math.abs(fit.tau1S / 180 - 1) < 0.05);
  });

  it("'divide' mode returns y / trend (~1)", () => {
    const { t, y } = recording(0, 0);
    const { detrended } = detrendBleaching(t, y, { mode: 'divide' });
    for (let i = 0; i < t.length; i += 101) assert.ok(Math.abs(detrended[i]! - 1) < 1e-4);
  });

  it('throws E_DSP_DEGENERATE_FIT with fewer than 4 finite samples', () => {
    assert.throws(
      () => fitBleaching([0, 1, 2], [1, 2, Number.NaN]),
      (e: unknown) => e instanceof DspError && e.code === 'E_DSP_DEGENERATE_FIT',
    );
  });
});
