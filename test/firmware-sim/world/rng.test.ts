import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hash32, noiseWordOf, normalAt, normalFastAt, normalFastFromBase, normalFromBase, normalsAt, normalsFastAt, normalsFromWords, Rng, streamKey, uniformAt } from '../../../firmware-sim/world/index.ts';
import { corr, mean, std } from './helpers.ts';

describe('firmware-sim/world/rng', () => {
  it('Rng is deterministic per seed and differs between seeds and named streams', () => {
    const a = Rng.derive(7, 'x');
    const b = Rng.derive(7, 'x');
    const c = Rng.derive(8, 'x');
    const d = Rng.derive(7, 'y');
    const sa = Array.from({ length: 50 }, () => a.nextU32());
    assert.deepEqual(Array.from({ length: 50 }, () => b.nextU32()), sa);
    assert.notDeepEqual(Array.from({ length: 50 }, () => c.nextU32()), sa);
    assert.notDeepEqual(Array.from({ length: 50 }, () => d.nextU32()), sa);
  });

  it('Rng.next is uniform in (0,1): mean 0.5 ± 0.005 over 1e5 draws', () => {
    const r = new Rng(1);
    const x = Float64Array.from({ length: 100_000 }, () => r.next());
    assert.ok(x.every((v) => v > 0 && v < 1));
    assert.ok(Math.abs(mean(x) - 0.5) < 0.005, `mean ${mean(x)}`);
  });

  it('Rng.normal has mean 0 ± 0.02 and sd 1 ± 0.02 over 1e5 draws', () => {
    const r = new Rng(2);
    const x = Float64Array.from({ length: 100_000 }, () => r.normal());
    assert.ok(Math.abs(mean(x)) < 0.02, `mean ${mean(x)}`);
    assert.ok(Math.abs(std(x) - 1) < 0.02, `sd ${std(x)}`);
  });

  it('normalAt (Ziggurat) is a pure function of (key, counter): mean 0 ± 0.01, sd 1 ± 0.01, P(|z|>3) 0.0027 ± 0.001, kurtosis 3 ± 0.1, lag-1 |r| < 0.01 over 2e5 counters', () => {
    const key = streamKey(3, 'test');
    const n = 200_000;
    const x = Float64Array.from({ length: n }, (_, i) => normalAt(key, i * 1000));
    assert.equal(normalAt(key, 5000), x[5]);
    const m = mean(x);
    const s = std(x);
    assert.ok(Math.abs(m) < 0.01, `mean ${m}`);
    assert.ok(Math.abs(s - 1) < 0.01, `sd ${s}`);
    const tail = x.filter((v) => Math.abs(v) > 3).length / n;
    assert.ok(Math.abs(tail - 0.0027) < 0.001, `tail ${tail}`);
    let k4 = 0;
    for (const v of x) k4 += ((v - m) / s) ** 4;
    assert.ok(Math.abs(k4 / n - 3) < 0.1, `kurtosis ${k4 / n}`);
    assert.ok(Math.abs(corr(x.subarray(1), x.subarray(0, n - 1))) < 0.01);
  });

  it('normalFromBase(hash32(key, hi), lo) equals normalAt(key, hi * 2^32 + lo)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 20 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (hi, lo, key) => {
      assert.equal(normalFromBase(hash32(key, hi), lo), normalAt(key, hi * 2 ** 32 + lo));
    }));
  });

  it('normalsAt equals normalAt counter by counter (runs across a 2^32 boundary, the Ziggurat tail, any key)', () => {
    const counters = new Float64Array(200_000);
    for (let i = 0; i < counters.length; i++) counters[i] = i < 100_000 ? 2 ** 32 - 50_000 + i : 7 * 2 ** 40 + 3 * i;
    for (const key of [0, 1, 0x9e3779b9, 2 ** 32 - 1]) {
      const out = new Float64Array(counters.length);
      normalsAt(key, counters, counters.length, out);
      let tail = 0;
      for (let i = 0; i < counters.length; i++) {
        if (out[i] !== normalAt(key, counters[i]!)) assert.fail(`key ${key} counter ${counters[i]}: ${out[i]} vs ${normalAt(key, counters[i]!)}`);
        if (Math.abs(out[i]!) > 3.442619855899) tail++;
      }
      assert.ok(tail > 0, 'no draw from the Ziggurat tail');
    }
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 53 - 1 }), { minLength: 1, maxLength: 50 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (cs, key) => {
      const out = new Float64Array(cs.length);
      normalsAt(key, Float64Array.from(cs), cs.length, out);
      cs.forEach((c, i) => {
        assert.equal(out[i], normalAt(key, c));
      });
    }));
  });

  it('normalFastAt (one hash) is N(0, 1) at the detector counters (step 2000): mean 0 ± 0.01, sd 1 ± 0.01, P(|z|>3) 0.0027 ± 0.001, kurtosis 3 ± 0.1, lag-1..3 |r| < 0.01, two keys |r| < 0.01 (2e5 counters)', () => {
    const key = streamKey(3, 'detector-noise', 0);
    const other = streamKey(3, 'detector-noise', 1);
    const n = 200_000;
    const x = Float64Array.from({ length: n }, (_, i) => normalFastAt(key, 2 ** 40 + i * 2000));
    const y = Float64Array.from({ length: n }, (_, i) => normalFastAt(other, 2 ** 40 + i * 2000));
    const m = mean(x);
    const s = std(x);
    assert.ok(Math.abs(m) < 0.01, `mean ${m}`);
    assert.ok(Math.abs(s - 1) < 0.01, `sd ${s}`);
    const tail = x.filter((v) => Math.abs(v) > 3).length / n;
    assert.ok(Math.abs(tail - 0.0027) < 0.001, `tail ${tail}`);
    let k4 = 0;
    for (const v of x) k4 += ((v - m) / s) ** 4;
    assert.ok(Math.abs(k4 / n - 3) < 0.1, `kurtosis ${k4 / n}`);
    for (let k = 1; k <= 3; k++) assert.ok(Math.abs(corr(x.subarray(k), x.subarray(0, n - k))) < 0.01, `lag ${k}`);
    assert.ok(Math.abs(corr(x, y)) < 0.01, `two keys ${corr(x, y)}`);
  });

  it('normalsFastAt and normalsFromWords equal normalFastAt counter by counter (runs across a 2^32 boundary, the Ziggurat tail, any key)', () => {
    const counters = new Float64Array(200_000);
    for (let i = 0; i < counters.length; i++) counters[i] = i < 100_000 ? 2 ** 32 - 50_000 + i : 7 * 2 ** 40 + 3 * i;
    for (const key of [0, 1, 0x9e3779b9, 2 ** 32 - 1]) {
      const out = new Float64Array(counters.length);
      normalsFastAt(key, counters, counters.length, out);
      let tail = 0;
      for (let i = 0; i < counters.length; i++) {
        if (out[i] !== normalFastAt(key, counters[i]!)) assert.fail(`key ${key} counter ${counters[i]}: ${out[i]} vs ${normalFastAt(key, counters[i]!)}`);
        if (Math.abs(out[i]!) > 3.442619855899) tail++;
      }
      assert.ok(tail > 0, 'no draw from the Ziggurat tail');
      // the second half shares one high word: words + one base per key
      const hi = 7 * 2 ** 8;
      const words = Int32Array.from(counters.subarray(100_000), (c) => noiseWordOf(c - hi * 2 ** 32));
      const w = new Float64Array(words.length);
      normalsFromWords(hash32(key, hi) | 0, words, words.length, w);
      assert.deepEqual(w, out.subarray(100_000));
    }
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 20 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (hi, lo, key) => {
      assert.equal(normalFastFromBase(hash32(key, hi) | 0, lo | 0), normalFastAt(key, hi * 2 ** 32 + lo));
      assert.ok(Number.isFinite(normalFastAt(key, hi * 2 ** 32 + lo)));
    }));
  });

  it('uniformAt stays in (0,1) and normalAt is finite for any inputs', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (a, b, c) => {
      const u = uniformAt(a, b, c);
      assert.ok(u > 0 && u < 1);
      assert.ok(Number.isFinite(normalAt(a, b * 1024 + (c % 1024))));
    }));
  });
});
