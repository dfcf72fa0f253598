import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkContinuity, DspError, fillNaN, nanBlock, outputGap } from '../../../host/dsp/index.ts';

describe('dsp/gaps', () => {
  it('classifies blocks: first, contiguous, gap, overlap, duplicate', () => {
    assert.deepEqual(checkContinuity(null, 500, 256), { kind: 'first' });
    assert.deepEqual(checkContinuity(512, 512, 256), { kind: 'contiguous' });
    assert.deepEqual(checkContinuity(512, 1024, 256), { kind: 'gap', fromIndex: 512, count: 512 });
    assert.deepEqual(checkContinuity(512, 400, 256), { kind: 'overlap', fromIndex: 400, skip: 112 });
    assert.deepEqual(checkContinuity(512, 256, 256), { kind: 'duplicate', fromIndex: 256, count: 256 });
  });

  it('accounts for every sample index exactly once (property)', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.integer({ min: -2000, max: 2000 }), fc.integer({ min: 1, max: 1000 }), (expected, delta, count) => {
        const first = expected + delta;
        if (first < 0 || !Number.isSafeInteger(first + count)) return true;
        const c = checkContinuity(expected, first, count);
        switch (c.kind) {
          case 'contiguous':
            return delta === 0;
          case 'gap':
            return c.fromIndex === expected && c.fromIndex + c.count === first;
          case 'overlap':
            return first + c.skip === expected && c.skip < count;
          case 'duplicate':
            return first + count <= expected;
          default:
            return false;
        }
      }),
    );
  });

  it('outputGap: a raw gap [1000, 2550) at decimation 100 loses outputs 10..25', () => {
    assert.deepEqual(outputGap(10, 2550, 100), { fromIndex: 10, count: 16 });
    assert.deepEqual(outputGap(10, 900, 100), { fromIndex: 10, count: 0 });
  });

  it('fillNaN writes strided NaN runs and refuses to overrun', () => {
    const a = new Float64Array(6);
    fillNaN(a, 1, 3, 2);
    assert.deepEqual(
      [...a].map((v) => Number.isNaN(v)),
      [false, true, false, true, false, true],
    );
    assert.throws(() => fillNaN(a, 2, 3, 2), (e: unknown) => e instanceof DspError && e.code === 'E_DSP_OUTPUT_TOO_SMALL');
    assert.ok(nanBlock(2, 3).every(Number.isNaN));
    assert.equal(nanBlock(2, 3).length, 6);
  });

  it('refuses negative or unsafe indices (E_DSP_BAD_INDEX)', () => {
    assert.throws(() => checkContinuity(0, -1, 1), (e: unknown) => e instanceof DspError && e.code === 'E_DSP_BAD_INDEX');
    assert.throws(() => checkContinuity(2 ** 53, 0, 1), (e: unknown) => e instanceof DspError && e.code === 'E_DSP_BAD_INDEX');
  });
});
