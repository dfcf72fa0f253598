import assert from 'node:assert/strict';
import { fitTickRate, upperEnvelope, windowStats } from '../../../host/selftest/stats.ts';

/** Deterministic normal noise (Box-Muller on a small LCG). */
function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const u = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

describe('selftest stats', () => {
  describe('windowStats', () => {
    const fs = 1000;
    const synth = (n: number, opts: { dc: number; flicker: number; hzScale?: number; sigma: number; seed?: number }): Float64Array => {
      const g = gaussian(opts.seed ?? 7);
      const out = new Float64Array(n);
      const k = opts.hzScale ?? 1;
      for (let i = 0; i < n; i++) {
        const t = i / fs;
        out[i] = opts.dc + opts.flicker * Math.sin(2 * Math.PI * 100 * k * t + 0.3) + 0.25 * opts.flicker * Math.sin(2 * Math.PI * 200 * k * t + 1.1) + opts.sigma * g();
      }
      return out;
    };

    it('measures white noise under mains flicker 100x larger', () => {
      const s = windowStats(synth(300, { dc: 1200, flicker: 240, sigma: 2 }), fs, 65535);
      assert.ok(Math.abs(s.mean - 1200) < 1, `mean ${s.mean}`);
      assert.ok(s.noiseRms > 1.7 && s.noiseRms < 2.3, `noise ${s.noiseRms}`);
      assert.ok(Math.abs(s.flickerPeak - 240) < 5, `flicker ${s.flickerPeak}`);
    });

    it('still separates flicker 0.2 % off its nominal frequency (mains drift or a device clock error)', () => {
      const s = windowStats(synth(300, { dc: 1200, flicker: 240, hzScale: 1.002, sigma: 2 }), fs, 65535);
      assert.ok(s.noiseRms < 2.5, `noise ${s.noiseRms} should stay near 2`);
    });

    it('counts clipping and ignores missing samples', () => {
      const w = Float64Array.from([0, 0, 5, Number.NaN, 65535, 10]);
      const s = windowStats(w, fs, 65535);
      assert.equal(s.count, 5);
      assert.equal(s.missing, 1);
      assert.equal(s.atZero, 2);
      assert.equal(s.atMax, 1);
      assert.equal(s.max, 65535);
    });

    it('reports a constant input as zero noise', () => {
      const s = windowStats(new Float64Array(200).fill(4000), fs, 65535);
      assert.equal(s.noiseRms, 0);
      assert.equal(s.mean, 4000);
    });
  });

  describe('rate fit', () => {
    it('upperEnvelope lies on or above every point', () => {
      const x = [0, 1, 2, 3, 4, 5];
      const y = [0, 9, 21, 29, 38, 50];
      const e = upperEnvelope(x, y)!;
      for (let i = 0; i < x.length; i++) assert.ok(e.intercept + e.slope * x[i]! >= y[i]! - 1e-9, `point ${i} above the envelope`);
    });

    it('recovers a +2000 ppm tick rate from replies with random delays and integer ticks', () => {
      const g = gaussian(3);
      const rate = 1000 * (1 + 2000e-6);
      const hostS: number[] = [];
      const ticks: number[] = [];
      for (let i = 0; i < 150; i++) {
        const t = i * 0.02;
        const lagS = Math.abs(g()) * 0.004 + (i % 7 === 0 ? 0.03 : 0); // scheduling delays only ever make replies late
        hostS.push(t + lagS);
        ticks.push(Math.floor(rate * t));
      }
      const fit = fitTickRate(hostS, ticks)!;
      const ppm = (fit.ticksPerSecond / 1000 - 1) * 1e6;
      assert.ok(Math.abs(ppm - 2000) < 100, `measured ${ppm} ppm`);
      assert.ok(Number.isFinite(fit.ticksPerSecondSigma));
    });

    it('needs a few points', () => {
      assert.equal(fitTickRate([0, 1], [0, 1000]), null);
    });
  });
});
