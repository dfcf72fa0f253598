import assert from 'node:assert/strict';
import { countClipped } from '../../../host/dsp/clipping.ts';

describe('dsp/clipping', () => {
  it('counts samples at either rail, and only those', () => {
    assert.equal(countClipped(Uint16Array.from([0, 1, 500, 65534, 65535, 65535]), 0, 65535), 3);
    assert.equal(countClipped(Int16Array.from([-32768, -32767, 0, 32767]), -32768, 32767), 2);
    assert.equal(countClipped(new Uint16Array(0), 0, 65535), 0);
  });
});
