// The display data structures: history ring, min/max buckets, gaps as nulls,
// the raw scope and the clipping meter.
import assert from 'node:assert/strict';
import { bucketFor, bucketMinMax, codeRangeOf, RangeMeter, SampleRing, ScopeBuffer, type SeriesChunk } from '../../../host/live/display.ts';

const chunk = (channels: number): SeriesChunk => ({ x: [], y: Array.from({ length: channels }, () => []) });

describe('live display data', () => {
  describe('SampleRing', () => {
    it('keeps the newest `capacity` samples and reads NaN outside them', () => {
      const ring = new SampleRing(1, 10);
      assert.ok(ring.empty);
      ring.write(100, [Float64Array.from({ length: 25 }, (_, i) => i)], 25);
      assert.equal(ring.head, 125);
      assert.equal(ring.tail, 115);
      assert.equal(ring.value(0, 115), 15);
      assert.equal(ring.value(0, 124), 24);
      assert.ok(Number.isNaN(ring.value(0, 114)));
      assert.ok(Number.isNaN(ring.value(0, 125)));
    });

    it('turns skipped positions into NaN and scales per channel', () => {
      const ring = new SampleRing(2, 100);
      ring.write(0, [[1, 2], [10, 20]], 2, [1000, 2]);
      ring.write(5, [[3], [30]], 1, [1000, 2]);
      assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => ring.value(0, i)), [1000, 2000, Number.NaN, Number.NaN, Number.NaN, 3000]);
      assert.equal(ring.value(1, 5), 60);
      ring.reset();
      assert.ok(ring.empty);
      ring.write(7, [[1], [1]], 1);
      assert.equal(ring.tail, 7);
    });
  });

  describe('bucketMinMax', () => {
    it('passes samples through at one per bucket, nulls for missing ones', () => {
      const ring = new SampleRing(1, 100);
      ring.write(0, [[1, 2, Number.NaN, 4]], 4);
      const out = chunk(1);
      assert.equal(bucketMinMax(ring, 0, 4, 1, 100, out), 4);
      assert.deepEqual(out, { x: [0, 0.01, 0.02, 0.03], y: [[1, 2, null, 4]] });
    });

    it('gives each complete bucket its min and max in time order, and a whole bucket of null when a sample is missing', () => {
      const ring = new SampleRing(2, 100);
      const a = [5, 1, 9, 3, /* */ 8, 2, 4, 6, /* */ 1, Number.NaN, 1, 1, /* */ 7];
      const b = [0, 0, 0, 0, /* */ 1, 1, 1, 1, /* */ 2, 2, 2, 2, /* */ 3];
      ring.write(0, [a, b], a.length);
      const out = chunk(2);
      const next = bucketMinMax(ring, 0, ring.head, 4, 4, out);
      assert.equal(next, 12, 'the incomplete last bucket waits');
      assert.deepEqual(out.x, [0, 0.5, 1, 1.5, 2, 2.5]);
      assert.deepEqual(out.y[0], [1, 9, 8, 2, null, null]);
      assert.deepEqual(out.y[1], [0, 0, 1, 1, 2, 2]);
    });

    it('sizes buckets to about one per pixel', () => {
      assert.equal(bucketFor(10, 100, 1200), 1);
      assert.equal(bucketFor(600, 100, 1200), 50);
      assert.equal(bucketFor(30, 1000, 1200), 25);
    });
  });

  describe('ScopeBuffer', () => {
    it('keeps the latest samples per channel, oldest first', () => {
      const scope = new ScopeBuffer(2, 3);
      scope.push([1, 10, 2, 20], 2, 2);
      assert.deepEqual(scope.snapshot((v) => v), [[1, 2], [10, 20]]);
      scope.push([3, 30, 4, 40, 5, 50], 3, 5);
      assert.deepEqual(scope.snapshot((v) => v), [[3, 4, 5], [30, 40, 50]]);
      assert.equal(scope.endIndex, 5);
    });
  });

  describe('RangeMeter', () => {
    it('counts samples at the rails and the peak use of the range', () => {
      const meter = new RangeMeter(2);
      const range = codeRangeOf(new Uint16Array(0), 16)!;
      assert.deepEqual(range, { low: 0, high: 65535 });
      meter.add(Uint16Array.from([65535, 100, 30000, 200, 65535, 300, 62000, 0]), 4, range, false);
      const [a, b] = meter.take();
      assert.equal(a!.clipped, 2);
      assert.equal(a!.total, 4);
      assert.equal(a!.peakFraction, 1);
      assert.equal(b!.clipped, 1, 'the bottom rail clips too');
      assert.ok(Math.abs(b!.peakFraction - 300 / 65535) < 1e-12);
      assert.deepEqual(meter.take().map((r) => r.total), [0, 0], 'take() starts over');
    });

    it('measures signed inputs from the middle of the range', () => {
      const meter = new RangeMeter(1);
      const range = codeRangeOf(new Int16Array(0), 16)!;
      assert.deepEqual(range, { low: -32768, high: 32767 });
      meter.add(Int16Array.from([-16384, 100, 16384]), 3, range, true);
      const [r] = meter.take();
      assert.equal(r!.clipped, 0);
      assert.equal(r!.peakFraction, 0.5);
      assert.equal(codeRangeOf(new Float32Array(0), 16), undefined);
    });
  });
});
