import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  cobsDecodeInPlace, cobsDecodeInto, cobsEncodeInto, cobsMaxEncodedBytes, decodeEnvelope, encodeFrame, FrameDecoder, frameEnvelope, packSamples, SampleFormat,
  SampleSource, samplesView,
} from '../../protocol/index.ts';
import { sampleBytesOffset } from '../../protocol/src/sample-block-decode.ts';

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

describe('protocol/frame: payloads placed so sample bytes are aligned', () => {
  it('delivers every SampleBlock with its sample bytes 4-byte aligned, as the first sample index grows across varint lengths', () => {
    const kept: Uint8Array[] = [];
    const decoder = new FrameDecoder((p) => kept.push(p));
    const firsts = [0, 1, 127, 128, 300, 16383, 16384, 2 ** 21, 2 ** 21 + 5, 2 ** 28, 2 ** 35, 3, 2 ** 14];
    const blocks = firsts.map((first, i) => ({ first, samples: Uint16Array.from({ length: 6 + (i % 3) * 2 }, (_, j) => (first + j * 977) & 0xffff) }));
    for (const [i, b] of blocks.entries()) {
      const frame = frameEnvelope({
        ...(i % 4 === 1 ? { requestId: 300 + i } : {}),
        sampleBlock: {
          configId: 1, source: SampleSource.SAMPLE_SOURCE_DETECTOR, firstSampleIndex: b.first, sampleCount: b.samples.length / 2,
          channelIds: [0, 1], format: SampleFormat.SAMPLE_FORMAT_UINT16_LE, samples: packSamples(SampleFormat.SAMPLE_FORMAT_UINT16_LE, b.samples),
        },
      });
      decoder.push(frame.subarray(0, i)); // split across chunks too
      decoder.push(frame.subarray(i));
    }
    assert.equal(kept.length, blocks.length);
    for (const [i, p] of kept.entries()) {
      const block = decodeEnvelope(p).sampleBlock!;
      assert.equal(block.firstSampleIndex, blocks[i]!.first);
      const bytes = block.samples;
      assert.equal(bytes.byteOffset - p.byteOffset, sampleBytesOffset(p), `offset of block ${i}`);
      assert.equal(bytes.byteOffset % 4, 0, `block ${i} aligned`);
      const view = samplesView(SampleFormat.SAMPLE_FORMAT_UINT16_LE, bytes, 2, blocks[i]!.samples.length / 2);
      assert.equal(view.buffer, p.buffer, `block ${i} viewed in place, not copied`);
      assert.deepEqual([...view], [...blocks[i]!.samples]);
    }
  });

  it('sampleBytesOffset is -1 for payloads without sample bytes, and dataOffset null keeps 8-byte placement', () => {
    assert.equal(sampleBytesOffset(Uint8Array.from([0x08, 0x05])), -1);
    assert.equal(sampleBytesOffset(new Uint8Array(0)), -1);
    assert.equal(sampleBytesOffset(Uint8Array.from([0xe2, 0x03, 0x05, 0x08])), -1); // truncated
    const kept: Uint8Array[] = [];
    const decoder = new FrameDecoder((p) => kept.push(p), { dataOffset: null });
    for (let i = 0; i < 5; i++) decoder.push(frameEnvelope({ sampleBlock: { configId: 1, firstSampleIndex: 1 + i * 200, sampleCount: 1, channelIds: [0], format: SampleFormat.SAMPLE_FORMAT_UINT16_LE, samples: Uint8Array.from([1, 2]) } }));
    assert.deepEqual(kept.map((p) => p.byteOffset % 8), [0, 0, 0, 0, 0]);
  });
});
