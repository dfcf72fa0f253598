import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeEnvelope, encodeEnvelope, pb } from '../../protocol/index.ts';
import { protobufRuntime } from '../../protocol/src/protobuf-runtime.ts';
import { decodeSampleBlockEnvelope, sampleBytesOffset } from '../../protocol/src/sample-block-decode.ts';
import { reflectionRoot } from '../support/envelope-arbitrary.ts';

const Writer = protobufRuntime.Writer;

/** protobufjs's answer, or the error it throws. */
function reference(bytes: Uint8Array): unknown {
  try {
    return pb.Envelope.decode(bytes);
  } catch (error) {
    return { threw: (error as Error).message };
  }
}

/** The hand decoder equals protobufjs wherever it answers: same classes, same own properties, same byte views. */
function assertSameAsProtobufjs(bytes: Uint8Array): ReturnType<typeof decodeSampleBlockEnvelope> {
  const fast = decodeSampleBlockEnvelope(bytes);
  const expected = reference(bytes);
  if (fast === undefined) return undefined;
  assert.ok(expected instanceof pb.Envelope, 'the hand decoder answered where protobufjs throws');
  assert.deepStrictEqual(fast, expected);
  assert.ok(fast.sampleBlock instanceof pb.SampleBlock);
  assert.deepStrictEqual(Object.keys(fast).sort(), Object.keys(expected).sort());
  assert.deepStrictEqual(Object.keys(fast.sampleBlock!).sort(), Object.keys(expected.sampleBlock!).sort());
  assert.equal(fast.body, 'sampleBlock');
  const a = fast.sampleBlock!.samples!;
  const b = expected.sampleBlock!.samples!;
  if (Object.hasOwn(fast.sampleBlock!, 'samples')) {
    // a view into the input, like protobufjs's (never a copy)
    assert.equal(a.buffer, bytes.buffer);
    assert.equal(a.byteOffset, b.byteOffset);
    assert.equal(Object.getPrototypeOf(a), Object.getPrototypeOf(b));
  }
  return fast;
}

/** A SampleBlock as written field by field: any order, repeats, packed or unpacked ids, unknown fields. */
type Part =
  | { kind: 'varint'; field: number; value: number }
  | { kind: 'ids'; packed: boolean; ids: number[] }
  | { kind: 'samples'; bytes: Uint8Array }
  | { kind: 'unknown'; field: number; wire: 0 | 1 | 2 | 5; value: number; bytes: Uint8Array };

function writePart(w: protobuf.Writer, part: Part): void {
  switch (part.kind) {
    case 'varint':
      w.uint32((part.field << 3) | 0);
      if (part.field === 3) w.uint64(part.value);
      else if (part.field === 2 || part.field === 6) w.int32(part.value);
      else w.uint32(part.value);
      return;
    case 'ids':
      if (part.packed) {
        w.uint32((5 << 3) | 2).fork();
        for (const id of part.ids) w.uint32(id);
        w.ldelim();
      } else for (const id of part.ids) w.uint32((5 << 3) | 0).uint32(id);
      return;
    case 'samples':
      w.uint32((7 << 3) | 2).bytes(part.bytes);
      return;
    case 'unknown':
      w.uint32((part.field << 3) | part.wire);
      if (part.wire === 0) w.uint64(part.value);
      else if (part.wire === 1) w.fixed64(part.value);
      else if (part.wire === 5) w.fixed32(part.value);
      else w.bytes(part.bytes);
  }
}

function envelopeBytes(parts: Part[], requestId: number | undefined, requestIdAfter = false): Uint8Array {
  const block = Writer.create();
  for (const p of parts) writePart(block, p);
  const inner = block.finish();
  const w = Writer.create();
  if (requestId !== undefined && !requestIdAfter) w.uint32(8).uint32(requestId);
  w.uint32((60 << 3) | 2).bytes(inner);
  if (requestId !== undefined && requestIdAfter) w.uint32(8).uint32(requestId);
  return w.finish();
}

const u32 = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 0xffffffff }));
const partArb: fc.Arbitrary<Part> = fc.oneof(
  fc.record({ kind: fc.constant('varint' as const), field: fc.constantFrom(1, 4), value: u32 }),
  fc.record({ kind: fc.constant('varint' as const), field: fc.constantFrom(2, 6), value: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant('varint' as const), field: fc.constant(3), value: fc.oneof(fc.constant(0), fc.nat(), fc.integer({ min: 0, max: 2 ** 49 - 1 }), fc.maxSafeNat()) }),
  fc.record({ kind: fc.constant('ids' as const), packed: fc.boolean(), ids: fc.array(u32, { maxLength: 5 }) }),
  fc.record({ kind: fc.constant('samples' as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({
    kind: fc.constant('unknown' as const), field: fc.integer({ min: 8, max: 5000 }), wire: fc.constantFrom(0 as const, 1 as const, 2 as const, 5 as const),
    value: fc.integer({ min: 0, max: 0xffffffff }), bytes: fc.uint8Array({ maxLength: 8 }),
  }),
);

describe('protocol/sample-block-decode (the hand decoder of Envelope{SampleBlock})', () => {
  it('knows every field of SampleBlock and Envelope.sample_block as the .proto declares them', () => {
    const block = reflectionRoot.lookupType('fiberrig.v1.SampleBlock');
    const fields = block.fieldsArray.map((f) => [f.id, f.name, f.type, f.repeated] as const).sort((x, y) => x[0] - y[0]);
    assert.deepEqual(fields, [
      [1, 'configId', 'uint32', false], [2, 'source', 'SampleSource', false], [3, 'firstSampleIndex', 'uint64', false],
      [4, 'sampleCount', 'uint32', false], [5, 'channelIds', 'uint32', true], [6, 'format', 'SampleFormat', false],
      [7, 'samples', 'bytes', false],
    ], 'SampleBlock changed: update protocol/src/sample-block-decode.ts with it');
    const envelope = reflectionRoot.lookupType('fiberrig.v1.Envelope');
    assert.equal(envelope.fields.sampleBlock?.id, 60);
    assert.equal(envelope.fields.requestId?.id, 1);
    assert.equal(envelope.fields.requestId?.type, 'uint32');
  });

  it('decodes what the encoder writes exactly as protobufjs does (and does handle it)', () => {
    fc.assert(fc.property(
      fc.record({
        requestId: fc.option(u32, { nil: undefined }),
        configId: u32, source: fc.integer({ min: 0, max: 2 }), firstSampleIndex: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 49 - 1 })),
        sampleCount: u32, channelIds: fc.array(u32, { maxLength: 6 }), format: fc.integer({ min: 0, max: 4 }), samples: fc.uint8Array({ maxLength: 600 }),
      }),
      fc.boolean(),
      ({ requestId, ...block }, asBuffer) => {
        let bytes = encodeEnvelope({ ...(requestId !== undefined ? { requestId } : {}), sampleBlock: block });
        if (asBuffer) bytes = Buffer.from(bytes);
        const fast = assertSameAsProtobufjs(bytes);
        assert.ok(fast, 'the hand decoder left a canonical SampleBlock to protobufjs');
        // where the frame decoder aligns: the decoded sample bytes' offset (none when empty)
        const samples = fast.sampleBlock!.samples;
        assert.equal(sampleBytesOffset(bytes), block.samples.length > 0 ? samples!.byteOffset - bytes.byteOffset : -1);
        assert.deepStrictEqual(decodeEnvelope(bytes), pb.Envelope.decode(bytes));
      },
    ), { numRuns: 300 });
  });

  it('equals protobufjs on hand-written encodings: any field order, repeats, zeros, packed and unpacked ids, unknown fields', () => {
    fc.assert(fc.property(fc.array(partArb, { maxLength: 12 }), fc.option(u32, { nil: undefined }), fc.boolean(), fc.integer({ min: 0, max: 7 }), (parts, requestId, after, pad) => {
      const raw = envelopeBytes(parts, requestId, after);
      // at an odd offset inside a larger buffer too (as in the frame decoder's slab)
      const padded = new Uint8Array(raw.length + pad + 3);
      padded.set(raw, pad);
      const bytes = padded.subarray(pad, pad + raw.length);
      const fast = assertSameAsProtobufjs(bytes);
      const offset = sampleBytesOffset(bytes); // a placement hint only: never out of range, never throws
      assert.ok(offset === -1 || (offset >= 0 && offset < bytes.length), `offset ${offset}`);
      const longVarint = parts.some((p) => p.kind === 'varint' && p.field === 3 && p.value >= 2 ** 49);
      if (!longVarint) assert.ok(fast, 'the hand decoder left a message it handles to protobufjs');
      assert.deepStrictEqual(decodeEnvelope(bytes), pb.Envelope.decode(bytes));
    }), { numRuns: 500 });
  });

  it('leaves to protobufjs what it does not handle, and protobufjs then decides (value or error)', () => {
    const block = encodeEnvelope({ sampleBlock: { configId: 1, sampleCount: 2, channelIds: [0], samples: new Uint8Array([1, 2, 3, 4]) } });
    const inner = pb.SampleBlock.encode({ configId: 1, sampleCount: 2 }).finish();
    const cases: Record<string, Uint8Array> = {
      'another body': encodeEnvelope({ requestId: 3, ack: { configId: 2 } }),
      'no body': encodeEnvelope({ requestId: 3 }),
      empty: new Uint8Array(0),
      'two sample blocks (protobufjs merges them)': Uint8Array.from([...block, ...block]),
      'a sample block and another body': Uint8Array.from([...block, ...encodeEnvelope({ status: { sampleIndex: 5 } })]),
      'an unknown Envelope field': Uint8Array.from([...block, 0xf8, 0x07, 0x01]),
      'request_id as length-delimited': Uint8Array.from([0x0a, 0x01, 0x05, ...block]),
      'config_id with a 10-byte varint': Uint8Array.from([0xe2, 0x03, 11, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
      'source as a negative enum': Uint8Array.from([0xe2, 0x03, 11, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
      'first_sample_index at 2^53 - 1': encodeEnvelope({ sampleBlock: { firstSampleIndex: 2 ** 53 - 1 } }),
      'samples as a varint (wrong wire type)': Uint8Array.from([0xe2, 0x03, 2, 0x38, 0x05]),
      'an unknown group': Uint8Array.from([0xe2, 0x03, 4, 0x43, 0x08, 0x01, 0x44]),
      'field number 0': Uint8Array.from([0xe2, 0x03, 2, 0x00, 0x01]),
      'truncated sample block': block.subarray(0, block.length - 1),
      'sample block length past the end': Uint8Array.from([0xe2, 0x03, inner.length + 1, ...inner]),
      'samples length past the block': Uint8Array.from([0xe2, 0x03, 3, 0x3a, 0x05, 0x01]),
      'packed ids past their length': Uint8Array.from([0xe2, 0x03, 4, 0x2a, 0x01, 0x80, 0x01]),
      'a 5-byte tag': Uint8Array.from([0xe2, 0x03, 6, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00]),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      assert.equal(decodeSampleBlockEnvelope(bytes), undefined, name);
      const expected = reference(bytes);
      let got: unknown;
      try {
        got = decodeEnvelope(bytes);
      } catch (error) {
        got = { threw: (error as Error).message };
      }
      if (expected instanceof pb.Envelope) assert.deepStrictEqual(got, expected, name);
      else assert.match((got as { threw: string }).threw, /not a fiberrig Envelope/, name);
    }
  });

  it('never answers differently from protobufjs on damaged bytes (flipped, cut, inserted)', () => {
    fc.assert(fc.property(
      fc.array(partArb, { minLength: 1, maxLength: 8 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'cut', 'insert')), { minLength: 1, maxLength: 3 }),
      (parts, damage) => {
        let bytes = Array.from(envelopeBytes(parts, 7));
        for (const [at, value, how] of damage) {
          const i = at % (bytes.length + 1);
          if (how === 'set' && i < bytes.length) bytes[i] = value;
          else if (how === 'cut') bytes = bytes.slice(0, i);
          else bytes.splice(i, 0, value);
        }
        assertSameAsProtobufjs(Uint8Array.from(bytes));
      },
    ), { numRuns: 2000 });
  });

  it('keeps unknown SampleBlock fields for protobufjs when the runtime is told not to discard them', () => {
    const bytes = envelopeBytes([{ kind: 'varint', field: 1, value: 4 }, { kind: 'unknown', field: 9, wire: 0, value: 7, bytes: new Uint8Array(0) }], undefined);
    assert.ok(decodeSampleBlockEnvelope(bytes));
    const before = protobufRuntime.Reader.discardUnknown;
    protobufRuntime.Reader.discardUnknown = false;
    try {
      assert.equal(decodeSampleBlockEnvelope(bytes), undefined);
      const decoded = decodeEnvelope(bytes) as unknown as { sampleBlock: { $unknowns?: Uint8Array[] } };
      assert.equal(decoded.sampleBlock.$unknowns?.length, 1);
    } finally {
      protobufRuntime.Reader.discardUnknown = before;
    }
  });

  it('reads first_sample_index exactly up to 2^49 - 1 (7 varint bytes) and leaves longer ones to protobufjs', () => {
    for (const index of [1, 127, 128, 2 ** 31, 2 ** 32 + 5, 2 ** 35 - 1, 2 ** 42, 2 ** 49 - 1]) {
      const bytes = encodeEnvelope({ sampleBlock: { firstSampleIndex: index } });
      assert.equal(assertSameAsProtobufjs(bytes)?.sampleBlock?.firstSampleIndex, index);
    }
    assert.equal(decodeSampleBlockEnvelope(encodeEnvelope({ sampleBlock: { firstSampleIndex: 2 ** 49 } })), undefined);
    assert.equal(decodeEnvelope(encodeEnvelope({ sampleBlock: { firstSampleIndex: 2 ** 49 } })).sampleBlock?.firstSampleIndex, 2 ** 49);
  });
});
