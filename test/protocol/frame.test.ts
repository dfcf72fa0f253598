import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  crc32c, encodeFrame, FrameDecoder, MAX_FRAME_BYTES, MAX_MESSAGE_BYTES, ProtocolError,
} from '../../protocol/index.ts';

function collect(): { frames: Uint8Array[]; decoder: FrameDecoder } {
  const frames: Uint8Array[] = [];
  return { frames, decoder: new FrameDecoder((p) => frames.push(p)) };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

describe('protocol/frame', () => {
  it('uses CRC-32C (check value of "123456789" is 0xE3069283)', () => {
    assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  });

  it('ends every frame with the only 0x00 and appends the CRC as uint32 LE', () => {
    const payload = Uint8Array.from([0, 1, 2, 0, 0, 3]);
    const frame = encodeFrame(payload);
    assert.equal(frame.at(-1), 0);
    assert.equal(frame.indexOf(0), frame.length - 1);
    const { frames, decoder } = collect();
    decoder.push(frame);
    assert.deepEqual([...frames[0]!], [...payload]);
  });

  it('delivers the same payloads however the byte stream is chunked', () => {
    fc.assert(fc.property(
      fc.array(fc.uint8Array({ maxLength: 700 }), { minLength: 1, maxLength: 8 }),
      fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 20 }),
      (payloads, cuts) => {
        const stream = concat(payloads.map((p) => encodeFrame(p)));
        const { frames, decoder } = collect();
        let at = 0;
        for (let i = 0; at < stream.length; i++) {
          const n = cuts[i % cuts.length]!;
          decoder.push(stream.subarray(at, at + n));
          at += n;
        }
        assert.deepEqual(frames.map((f) => [...f]), payloads.map((p) => [...p]));
        assert.equal(decoder.counters.frames, payloads.length);
        assert.equal(decoder.hasPartialFrame, false);
      },
    ));
  });

  it('counts a bad CRC, resynchronises at the next delimiter', () => {
    const good = encodeFrame(Uint8Array.from([10, 20, 30]));
    const bad = encodeFrame(Uint8Array.from([1, 2, 3, 4]));
    bad[2] = bad[2]! ^ 0x40;
    const { frames, decoder } = collect();
    decoder.push(concat([bad, good]));
    assert.equal(frames.length, 1);
    assert.equal(decoder.counters.rejected.crc, 1);
  });

  it('counts invalid COBS and frames too short to hold a CRC', () => {
    const { frames, decoder } = collect();
    decoder.push(Uint8Array.from([0x05, 0x01, 0x00])); // code runs past the end
    decoder.push(Uint8Array.from([0x02, 0x01, 0x00])); // one byte: no room for a CRC
    decoder.push(encodeFrame(new Uint8Array(0)));        // an empty message is legal
    assert.equal(decoder.counters.rejected.cobs, 2);
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.length, 0);
  });

  it('ignores idle delimiters without counting them as errors', () => {
    const { frames, decoder } = collect();
    decoder.push(Uint8Array.from([0, 0, 0]));
    decoder.push(encodeFrame(Uint8Array.from([7])));
    assert.equal(frames.length, 1);
    assert.deepEqual(decoder.counters.rejected, { crc: 0, oversize: 0, cobs: 0 });
  });

  it(`drops frames longer than ${MAX_FRAME_BYTES} bytes as oversize, in one chunk or many`, () => {
    const huge = new Uint8Array(MAX_FRAME_BYTES + 10).fill(0x41);
    const after = encodeFrame(Uint8Array.from([9, 9]));
    for (const chunk of [1, 100, MAX_FRAME_BYTES * 2]) {
      const { frames, decoder } = collect();
      const stream = concat([huge, Uint8Array.from([0]), after]);
      for (let at = 0; at < stream.length; at += chunk) decoder.push(stream.subarray(at, at + chunk));
      assert.equal(decoder.counters.rejected.oversize, 1, `chunk ${chunk}`);
      assert.deepEqual(frames.map((f) => [...f]), [[9, 9]], `chunk ${chunk}`);
    }
  });

  it(`accepts a ${MAX_MESSAGE_BYTES}-byte message and refuses to encode a larger one`, () => {
    const { frames, decoder } = collect();
    decoder.push(encodeFrame(new Uint8Array(MAX_MESSAGE_BYTES)));
    assert.equal(frames.length, 1);
    assert.throws(() => encodeFrame(new Uint8Array(MAX_MESSAGE_BYTES + 1)), (e: unknown) => e instanceof ProtocolError && e.code === 'E_FRAME_TOO_LARGE');
  });

  it('reset() drops a buffered partial frame', () => {
    const { frames, decoder } = collect();
    const f = encodeFrame(Uint8Array.from([1, 2, 3]));
    decoder.push(f.subarray(0, 3));
    assert.equal(decoder.reset(), true);
    decoder.push(f);
    assert.equal(frames.length, 1);
    assert.equal(decoder.counters.rejected.crc + decoder.counters.rejected.cobs, 0);
  });
});
