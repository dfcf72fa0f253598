import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeEnvelope, encodeEnvelope, encodeFrame, ENVELOPE_BODIES, EnvelopeDecoderStream, EnvelopeEncoderStream, frameEnvelope, pb,
} from '../../protocol/index.ts';
import { bodyNames, envelopeWithBody, EnvelopeType } from '../support/envelope-arbitrary.ts';

/** Canonical comparable form of a decoded envelope. */
function canonical(message: unknown): unknown {
  return pb.Envelope.toObject(message as never, { longs: Number, enums: Number, bytes: Array, defaults: false, oneofs: false });
}

function roundTrip(init: Record<string, unknown>): ReturnType<typeof decodeEnvelope>[] {
  const decoded: ReturnType<typeof decodeEnvelope>[] = [];
  const stream = new EnvelopeDecoderStream();
  stream.on('data', (m) => decoded.push(m));
  stream.write(Buffer.from(frameEnvelope(init as never)));
  return decoded;
}

describe('protocol/messages', () => {
  it('lists every Envelope body of the .proto (generated code and reflection agree)', () => {
    assert.deepEqual([...ENVELOPE_BODIES].sort(), [...bodyNames].sort());
  });

  for (const name of bodyNames) {
    it(`round-trips ${name} through encode -> frame -> deframe -> decode`, () => {
      fc.assert(fc.property(envelopeWithBody(name), (init) => {
        const expected = canonical(pb.Envelope.fromObject(init));
        const [decoded, ...rest] = roundTrip(init);
        assert.equal(rest.length, 0);
        assert.ok(decoded);
        assert.equal(decoded.body, name);
        assert.deepEqual(canonical(decoded), expected);
        // the reflection codec (from the .proto) reads the same bytes the same way
        const viaReflection = EnvelopeType.toObject(EnvelopeType.decode(encodeEnvelope(init as never)), { longs: Number, enums: Number, bytes: Array });
        assert.deepEqual(viaReflection, canonical(decoded));
      }), { numRuns: 40 });
    });
  }

  it('encoder stream and decoder stream compose', async () => {
    const encoder = new EnvelopeEncoderStream();
    const decoder = new EnvelopeDecoderStream();
    const got: unknown[] = [];
    decoder.on('data', (m) => got.push(m));
    encoder.pipe(decoder);
    encoder.write({ requestId: 1, getInfo: {} });
    encoder.end({ requestId: 2, heartbeat: { hostTimeUs: 1_700_000_000_000_000 } });
    await new Promise((r) => decoder.on('end', r));
    assert.equal(got.length, 2);
    assert.equal((got[1] as { heartbeat: { hostTimeUs: number } }).heartbeat.hostTimeUs, 1_700_000_000_000_000);
  });

  it('counts a CRC-valid frame that is not an Envelope as a decode error', () => {
    const stream = new EnvelopeDecoderStream();
    const got: unknown[] = [];
    stream.on('data', (m) => got.push(m));
    // field 1 declared length-delimited with 5 bytes, only 1 present
    stream.write(Buffer.from(encodeFrame(Uint8Array.from([0x0a, 0x05, 0x01]))));
    stream.write(Buffer.from(frameEnvelope({ requestId: 9, stop: {} })));
    assert.equal(stream.counters.decodeErrors, 1);
    assert.equal(got.length, 1);
  });

  it('decodes 64-bit sample indices as plain numbers', () => {
    const decoded = decodeEnvelope(encodeEnvelope({ sampleBlock: { firstSampleIndex: 2 ** 52 + 1 } }));
    assert.equal(decoded.sampleBlock?.firstSampleIndex, 2 ** 52 + 1);
    assert.equal(typeof pb.Status.decode(new Uint8Array(0)).sampleIndex, 'number');
  });
});
