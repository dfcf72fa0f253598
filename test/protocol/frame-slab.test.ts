import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  cobsDecodeInPlace, cobsDecodeInto, cobsEncodeInto, cobsMaxEncodedBytes, encodeFrame, FrameDecoder, packSamples, SampleFormat, samplesView,
} from '../../protocol/index.ts';

describe('protocol/frame: in-place COBS and slab-carved payloads', () => {
  it('cobsDecodeInPlace decodes like cobsDecodeInto, from the range start, for any offset', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1500 }), fc.nat(9), (bytes, offset) => {
      const coded = new Uint8Array(cobsMaxEncodedBytes(bytes.length));
      const n = cobsEncodeInto(bytes, coded);
      const buf = new Uint8Array(offset + n + 3).fill(7);
      buf.set(coded.subarray(0, n), offset);
      const len = cobsDecodeInPlace(buf, offset, offset + n);
      assert.deepEqual([...buf.subarray(offset, offset + len)], [...bytes]);
      const dst = new Uint8Array(n);
      assert.equal(cobsDecodeInto(coded, 0, n, dst), len);
      assert.deepEqual([...buf.subarray(offset + n, offset + n + 3)], [7, 7, 7]); // nothing written past the range
    }));
  });

  it('cobsDecodeInPlace rejects a code that runs past the end', () => {
    assert.equal(cobsDecodeInPlace(Uint8Array.from([0x05, 0x11, 0x22]), 0, 3), -1);
    assert.equal(cobsDecodeInPlace(Uint8Array.from([0x02, 0x11, 0x30, 0x22]), 0, 3), -1);
  });

  it('never overwrites a delivered payload: payloads kept across many frames (several slabs) stay intact', () => {
    const payloads = Array.from({ length: 400 }, (_, i) => Uint8Array.from({ length: 300 + (i % 37) }, (_, j) => (i * 31 + j * 7) & 0xff));
    const kept: Uint8Array[] = [];
    const decoder = new FrameDecoder((p) => kept.push(p));
    // valid frames interleaved with damaged ones (their slab space is reused) and split across chunks
    for (const [i, p] of payloads.entries()) {
      const frame = encodeFrame(p);
      if (i % 5 === 0) {
        const bad = encodeFrame(p);
        bad[3] = bad[3]! ^ 0x01;
        decoder.push(bad);
      }
      const cut = (i * 13) % frame.length;
      decoder.push(frame.subarray(0, cut));
      decoder.push(frame.subarray(cut));
    }
    assert.equal(kept.length, payloads.length);
    for (const [i, p] of kept.entries()) assert.deepEqual([...p], [...payloads[i]!], `payload ${i}`);
    assert.equal(decoder.counters.rejected.crc, payloads.length / 5);
    assert.ok(new Set(kept.map((p) => p.buffer)).size > 1, 'spans more than one slab');
  });
});

describe('protocol/samples: misaligned sample bytes', () => {
  it('copies them to aligned views that later copies never overwrite', () => {
    const views: Int16Array[] = [];
    const expected: number[][] = [];
    for (let i = 0; i < 300; i++) {
      const values = Array.from({ length: 250 + (i % 7) }, (_, j) => ((i * 97 + j * 13) % 65536) - 32768);
      const bytes = packSamples(SampleFormat.SAMPLE_FORMAT_INT16_LE, values);
      const odd = new Uint8Array(bytes.length + 1);
      odd.set(bytes, 1);
      const view = samplesView(SampleFormat.SAMPLE_FORMAT_INT16_LE, odd.subarray(1), 1, values.length) as Int16Array;
      assert.equal(view.byteOffset % 2, 0);
      views.push(view);
      expected.push(values);
    }
    for (const [i, v] of views.entries()) assert.deepEqual([...v], expected[i], `block ${i}`);
    assert.ok(new Set(views.map((v) => v.buffer)).size > 1, 'spans more than one slab');
  });
});
