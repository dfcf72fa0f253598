// GrowingArray (host/analysis/input-stream.ts): the series the streaming analysis reader keeps grows by
// fixed 32 768-entry chunks; what it hands back must equal a plain array written the same way (NaN where
// nothing was written), across chunk boundaries.
import assert from 'node:assert/strict';
import { GrowingArray } from '../../../host/analysis/input-stream.ts';

/** The reference: a plain array, NaN where unwritten. */
function reference(writes: Array<[number, number]>, length: number): Float64Array {
  const out = new Float64Array(length).fill(Number.NaN);
  for (const [i, v] of writes) if (i < length) out[i] = v;
  return out;
}

describe('analysis: GrowingArray (chunked series)', () => {
  it('push across three chunk boundaries: length and every entry as pushed', () => {
    const g = new GrowingArray();
    const n = 3 * 32768 + 17;
    for (let i = 0; i < n; i++) g.push(Math.sin(i));
    assert.equal(g.length, n);
    const out = g.take();
    assert.equal(out.length, n);
    for (let i = 0; i < n; i += 997) assert.equal(out[i], Math.sin(i), `entry ${i}`);
    assert.equal(out[n - 1], Math.sin(n - 1));
    assert.equal(out[32767], Math.sin(32767));
    assert.equal(out[32768], Math.sin(32768));
  });

  it('sparse set: unwritten entries NaN, length one past the highest index; take(length) shorter or longer than written', () => {
    const g = new GrowingArray();
    const writes: Array<[number, number]> = [[5, 1.5], [32767, 2], [32768, 3], [100000, 4], [40000, -1]];
    for (const [i, v] of writes) g.set(i, v);
    assert.equal(g.length, 100001);
    for (const length of [0, 6, 32768, 32769, 65536, 100001, 150000]) {
      assert.deepEqual(g.take(length), reference(writes, length), `take(${length})`);
    }
  });
});
