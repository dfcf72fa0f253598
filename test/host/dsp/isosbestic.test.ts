import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyFit, dffPercent, DspError, fitIsosbestic } from '../../../host/dsp/index.ts';
import { rng } from './synth.ts';

function scene(n: number, slope: number, intercept: number, noise: number, seed = 1): { signal: Float64Array; control: Float64Array } {
  const r = rng(seed);
  const control = new Float64Array(n);
  const signal = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // control: bleaching + motion artefacts (shared), around 1000 ADC units
    control[i] = 1000 + 200 * Math.exp(-i / 3000) + 30 * Math.sin(i / 97) + r.gauss() * noise;
    signal[i] = slope * control[i]! + intercept + r.gauss() * noise;
  }
  return { signal, control };
}

describe('dsp/isosbestic', () => {
  it('OLS recovers slope and intercept exactly (1e-9 relative) on noiseless data (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.1, max: 5, noNaN: true }), fc.double({ min: -500, max: 500, noNaN: true }), (a, b) => {
        const { signal, control } = scene(200, a, b, 0);
        const f = fitIsosbestic(signal, control);
        return Math.abs(f.slope / a - 1) < 1e-9 && Math.abs(f.intercept - b) < 1e-9 * Math.max(1, Math.abs(b) + 1000 * a);
      }),
    );
  });

  it('recovers the slope within 1 % with noise, ignoring NaN pairs', () => {
    const { signal, control } = scene(20000, 1.7, -300, 2);
    for (let i = 0; i < 20000; i += 37) signal[i] = Number.NaN;
    for (let i = 5; i < 20000; i += 53) control[i] = Number.NaN;
    const f = fitIsosbestic(signal, control);
    assert.ok(Math.abs(f.slope / 1.7 - 1) < 0.01, String(f.slope));
    assert.ok(f.n < 20000 && f.n > 19000);
  });

  it('robust fits (huber, bisquare) recover the slope within 1 % with 10 % gross outliers; OLS is off by > 5 %', () => {
    const { signal, control } = scene(5000, 1.2, 50, 1, 9);
    const r = rng(4);
    // artefacts cluster early in the record, where the control is still bleaching (high)
    for (let i = 0; i < 1500; i++) if (r.uniform() < 0.33) signal[i] = signal[i]! + 400 + 200 * r.uniform();
    const ols = fitIsosbestic(signal, control);
    assert.ok(Math.abs(ols.slope / 1.2 - 1) > 0.05, `OLS slope ${ols.slope}`);
    for (const robust of ['huber', 'bisquare'] as const) {
      const f = fitIsosbestic(signal, control, { robust });
      assert.ok(Math.abs(f.slope / 1.2 - 1) < 0.01, `${robust} slope ${f.slope}`);
      assert.ok(f.iterations > 0);
    }
    const bi = fitIsosbestic(signal, control, { robust: 'bisquare' });
    assert.ok(Math.abs(bi.intercept - 50) < 20, `intercept ${bi.intercept}`);
  });

  it('dffPercent = (signal - fitted)/fitted*100 and keeps NaN', () => {
    const fitted = applyFit([100, Number.NaN, 200], { slope: 2, intercept: 10 });
    assert.deepEqual([...fitted], [210, Number.NaN, 410]);
    const d = dffPercent([231, 5, Number.NaN], fitted);
    assert.ok(Math.abs(d[0]! - 10) < 1e-12);
    assert.ok(Number.isNaN(d[1]!) && Number.isNaN(d[2]!));
  });

  it('throws E_DSP_DEGENERATE_FIT for a constant control or < 2 finite pairs', () => {
    const isDegenerate = (e: unknown) => e instanceof DspError && e.code === 'E_DSP_DEGENERATE_FIT';
    assert.throws(() => fitIsosbestic([1, 2, 3], [5, 5, 5]), isDegenerate);
    assert.throws(() => fitIsosbestic([1, Number.NaN], [1, 2]), isDegenerate);
  });
});
