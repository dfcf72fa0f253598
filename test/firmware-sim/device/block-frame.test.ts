// The device's one-pass sample-block framer gives exactly the bytes of the
// reference path (protobufjs Envelope.encode + encodeFrame), on random blocks
// and on the COBS edge cases (zero runs, 254-byte runs at the end, large indices).
import assert from 'node:assert/strict';
import { BlockFramer, type BlockFields } from '../../../firmware-sim/device/block-frame.ts';
import { encodeFrame, FrameDecoder, MAX_MESSAGE_BYTES, pb, ProtocolError } from '../../../protocol/index.ts';

function reference(b: BlockFields): Uint8Array {
  const samples = b.samples.slice(0, b.samplesBytes);
  const payload = pb.Envelope.encode({
    requestId: 0,
    sampleBlock: { configId: b.configId, source: b.source, firstSampleIndex: b.firstSampleIndex, sampleCount: b.sampleCount, channelIds: [...b.channelIds], format: b.format, samples },
  }).finish();
  return encodeFrame(payload, MAX_MESSAGE_BYTES);
}

/** xorshift32: a seeded generator, so a failure names its case. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

function randomBlock(r: () => number): BlockFields {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const channels = 1 + Math.floor(r() * 4);
  const count = pick([0, 1, 2, 127, 250, 500, 1000]);
  const bytes = Math.min(count * channels * 2, 4000);
  // room beyond samplesBytes: the framer must use only the first samplesBytes
  const samples = new Uint8Array(bytes + 16);
  const style = pick(['random', 'zeros', 'no-zeros', 'sparse-zeros', 'eeg', 'runs']);
  // 'runs': non-zero runs of lengths around the framer's short-run limit and the 254-byte COBS block, between zeros
  let run = 0;
  for (let i = 0; i < samples.length; i++) {
    if (style === 'runs') {
      if (run === 0) {
        samples[i] = 0;
        run = pick([1, 2, 15, 16, 17, 18, 40, 253, 254, 255, 300]);
      } else {
        samples[i] = 1 + Math.floor(r() * 255);
        run--;
      }
      continue;
    }
    if (style === 'random') samples[i] = Math.floor(r() * 256);
    else if (style === 'zeros') samples[i] = 0;
    else if (style === 'no-zeros') samples[i] = 1 + Math.floor(r() * 255);
    else if (style === 'sparse-zeros') samples[i] = r() < 0.003 ? 0 : 1 + Math.floor(r() * 255);
    else samples[i] = i % 2 === 1 ? pick([0x00, 0xff]) : Math.floor(r() * 256); // int16 near 0: high bytes 0x00 / 0xff
  }
  return {
    configId: pick([0, 1, 7, 127, 128, 300, 0xffff_ffff]),
    source: pick([0, 1, 2]),
    firstSampleIndex: pick([0, 1, 250, 16_383, 16_384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, 2 ** 35, 2 ** 42 + 3, Number.MAX_SAFE_INTEGER, Math.floor(r() * 1e9)]),
    sampleCount: count,
    channelIds: Array.from({ length: pick([0, channels]) }, () => pick([0, 1, 2, 127, 128, 255])),
    format: pick([0, 1, 2]),
    samples,
    samplesBytes: bytes,
  };
}

describe('firmware-sim: the one-pass sample-block framer', () => {
  it('gives the bytes of protobufjs + encodeFrame on 3000 random blocks', () => {
    const r = rng(20261206);
    const framer = new BlockFramer(MAX_MESSAGE_BYTES);
    const kept: Array<{ frame: Uint8Array; expected: Uint8Array }> = [];
    for (let k = 0; k < 3000; k++) {
      const b = randomBlock(r);
      const expected = reference(b);
      const frame = framer.frame(b);
      assert.deepEqual(frame, expected, `block ${k}: ${JSON.stringify({ ...b, samples: undefined })}`);
      if (k % 50 === 0) kept.push({ frame, expected });
    }
    // frames handed out are never written again (slabs are replaced, not reused)
    for (const { frame, expected } of kept) assert.deepEqual(frame, expected);
  });

  it('COBS edges: runs of exactly 253, 254 and 255 non-zero bytes before the CRC, and zeros at every end', () => {
    const framer = new BlockFramer(MAX_MESSAGE_BYTES);
    for (let n = 230; n <= 770; n++) {
      for (const fill of [0x11, 0x00]) {
        const samples = new Uint8Array(n).fill(fill);
        if (fill === 0x11) samples[n - 1] = 0;
        const b: BlockFields = { configId: 3, source: 1, firstSampleIndex: 1000, sampleCount: n >> 1, channelIds: [1, 2], format: 1, samples, samplesBytes: n };
        assert.deepEqual(framer.frame(b), reference(b), `n=${n} fill=${fill}`);
      }
    }
  });

  it('the frames decode to the same SampleBlock', () => {
    const framer = new BlockFramer(MAX_MESSAGE_BYTES);
    const samples = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) & 0xff);
    const b: BlockFields = { configId: 9, source: 1, firstSampleIndex: 123_456, sampleCount: 250, channelIds: [0, 1], format: 1, samples, samplesBytes: 1000 };
    const payloads: Uint8Array[] = [];
    new FrameDecoder((p) => payloads.push(p)).push(framer.frame(b));
    assert.equal(payloads.length, 1);
    const block = pb.Envelope.decode(payloads[0]!).sampleBlock!;
    assert.equal(block.configId, 9);
    assert.equal(Number(block.firstSampleIndex), 123_456);
    assert.deepEqual([...(block.channelIds ?? [])], [0, 1]);
    assert.deepEqual(new Uint8Array(block.samples ?? []), samples);
  });

  it('refuses a block larger than the frame limit as encodeFrame does', () => {
    const framer = new BlockFramer(256);
    const b: BlockFields = { configId: 1, source: 1, firstSampleIndex: 0, sampleCount: 200, channelIds: [0], format: 1, samples: new Uint8Array(400), samplesBytes: 400 };
    assert.throws(() => framer.frame(b), (e: unknown) => e instanceof ProtocolError && e.code === 'E_FRAME_TOO_LARGE');
  });
});
