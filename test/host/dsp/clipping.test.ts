import assert from 'node:assert/strict';
import { countClipped } from '../../../host/dsp/clipping.ts';

describe('dsp/clipping', () => {
  it('counts samples at either rail, and only those', () => {
    assert.equal(countClipped(Uint16Array.from([0, 1, 500, 65534, 65535, 65535]), 0, 65535), 3);
    assert.equal(countClipped(Int16Array.from([-32768, -32767, 0, 32767]), -32768, 32767), 2);
    assert.equal(countClipped(new Uint16Array(0), 0, 65535), 0);
  });

  it('counts what a one-sample-at-a-time count does, at any length and wherever the rails fall (four per step, and the tail)', () => {
    let seed = 99;
    const next = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let trial = 0; trial < 500; trial++) {
      const length = Math.floor(next() * 23);
      const railShare = next();
      const samples = Float32Array.from({ length }, () => (next() < railShare ? (next() < 0.5 ? -1 : 70000) : next() < 0.5 ? 0.5 : 65534.5));
      let expected = 0;
      for (const v of samples) if (v <= 0 || v >= 65535) expected++;
      assert.equal(countClipped(samples, 0, 65535), expected, `samples ${[...samples]}`);
      assert.equal(countClipped([...samples], 0, 65535), expected);
    }
    assert.equal(countClipped([Number.NaN, 0, Number.NaN, 5, 65535], 0, 65535), 2);
  });
});
