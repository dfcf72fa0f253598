// The decoder survives anything: random corruption never throws, never yields
// a message that was not sent, and loses only the frames it touched.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeEnvelope, encodeFrame, FrameDecoder } from '../../protocol/index.ts';
import { anyEnvelope } from '../support/envelope-arbitrary.ts';

type Op =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'drop'; at: number }
  | { kind: 'insert'; at: number; byte: number }
  | { kind: 'duplicate'; at: number }
  | { kind: 'truncate'; at: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

const key = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('protocol/corruption', () => {
  it('never throws, never delivers an unsent message, delivers every untouched frame (bit flips, drops, inserts, duplicates, truncation)', () => {
    fc.assert(fc.property(
      fc.array(anyEnvelope, { minLength: 1, maxLength: 12 }),
      fc.array(opArb, { maxLength: 6 }),
      fc.integer({ min: 1, max: 512 }),
      (messages, ops, chunkBytes) => {
        const payloads = messages.map((m) => encodeEnvelope(m as never));
        const frames = payloads.map((p) => encodeFrame(p));
        // byte -> frame index in the original stream
        const owner: number[] = [];
        const bytes: number[] = [];
        frames.forEach((f, i) => { for (const b of f) { bytes.push(b); owner.push(i); } });
        const touched = new Set<number>();
        // Edit bytes and their owners together; an inserted byte belongs to the frame it lands in.
        for (const op of ops) {
          if (bytes.length === 0) break;
          const at = op.at % bytes.length;
          const frame = owner[at]!;
          touched.add(frame);
          if (bytes[at] === 0) touched.add(frame + 1); // a damaged delimiter joins two frames
          if (op.kind === 'flip') bytes[at] = bytes[at]! ^ (1 << op.bit);
          else if (op.kind === 'drop') { bytes.splice(at, 1); owner.splice(at, 1); }
          else if (op.kind === 'insert') { bytes.splice(at, 0, op.byte); owner.splice(at, 0, frame); }
          else if (op.kind === 'duplicate') { bytes.splice(at, 0, bytes[at]!); owner.splice(at, 0, frame); }
          else {
            for (let i = frame; i < frames.length; i++) touched.add(i);
            bytes.length = at;
            owner.length = at;
          }
        }
        const stream = Uint8Array.from(bytes);
        const delivered: Uint8Array[] = [];
        const decoder = new FrameDecoder((p) => delivered.push(p));
        for (let at = 0; at < stream.length; at += chunkBytes) decoder.push(stream.subarray(at, at + chunkBytes));
        const sent = new Set(payloads.map(key));
        for (const d of delivered) assert.ok(sent.has(key(d)), 'delivered a message that was never sent');
        const got = delivered.map(key);
        let cursor = 0;
        payloads.forEach((p, i) => {
          if (touched.has(i)) return;
          const found = got.indexOf(key(p), cursor);
          assert.ok(found >= 0, `untouched frame ${i} was not delivered`);
          cursor = found + 1;
        });
      },
    ), { numRuns: 300 });
  });

  it('stays alive through 20 000 random chunks, counts the noise, and holds no partial frame after a delimiter (memory: npm run bench -- protocol)', () => {
    const rng = fc.sample(fc.uint8Array({ minLength: 0, maxLength: 300 }), { numRuns: 20_000, seed: 42 });
    let delivered = 0;
    const decoder = new FrameDecoder(() => delivered++);
    for (const chunk of rng) decoder.push(chunk);
    const good = encodeFrame(Uint8Array.from([1, 2, 3]));
    decoder.push(Uint8Array.from([0]));
    decoder.push(good);
    assert.ok(delivered >= 1, 'a good frame after the noise is delivered');
    const counted = Object.values(decoder.counters.rejected).reduce((a, b) => a + b, 0);
    assert.ok(counted > 0, 'noise is counted as rejected frames');
    // bounded buffering: however long the noise ran, nothing stays buffered past the next delimiter
    assert.equal(decoder.hasPartialFrame, false);
  });
});
