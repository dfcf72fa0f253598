// The firmware's sample-block framer: one SampleBlock Envelope, its CRC-32C
// and its COBS encoding written in one pass, as the C firmware's transmit path
// does, instead of building an Envelope object for protobufjs, a Writer, a
// payload copy, a CRC scratch copy and a frame.
//
// The bytes are exactly what `encodeFrame(pb.Envelope.encode({ requestId: 0,
// sampleBlock }).finish())` gives (test/firmware-sim/block-frame.test.ts
// checks that on random blocks): Envelope field 60 (sample_block, length-
// delimited; request_id 0 is not written), then the SampleBlock's fields in
// number order, each left out when 0 / empty as proto3 does, channel_ids
// packed. Frames are carved from 64 KiB slabs: a frame handed out is never
// written again (a full slab is replaced, not reused), so a caller may keep it.
// The Envelope and CRC are written into the slab just past the room the COBS
// overhead needs, and encoded in place towards the frame's start: the
// encoding never overtakes its input, and a run is one memmove (copyWithin),
// with no view made per run.
import { CRC_BYTES, cobsMaxEncodedBytes, crc32cRange, FRAME_DELIMITER, ProtocolError } from '../../protocol/index.ts';

/** A SampleBlock's fields: `samples` holds the packed little-endian codes in its first `samplesBytes` bytes. */
export interface BlockFields {
  configId: number;
  source: number;
  firstSampleIndex: number;
  sampleCount: number;
  channelIds: readonly number[];
  format: number;
  samples: Uint8Array;
  samplesBytes: number;
}

const SLAB_BYTES = 64 * 1024;
/** Runs up to this long are scanned and copied by a loop; longer ones natively. */
const SHORT_RUN = 8;
/** The first 0x00 at or after an index: Buffer's native search, which also takes a plain Uint8Array. */
const bufferIndexOf = Buffer.prototype.indexOf;
/** Envelope.sample_block: field 60, wire type 2 (varint 482). */
const ENVELOPE_SAMPLE_BLOCK_TAG = [0xe2, 0x03] as const;

function varintBytes(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  let n = 5;
  for (let x = Math.floor(v / 0x800000000); x > 0; x = Math.floor(x / 0x80)) n++;
  return n;
}

/** Writes a non-negative integer (< 2^53) as a varint at `at`; returns the offset after it. */
function putVarint(dst: Uint8Array, at: number, v: number): number {
  while (v >= 0x80000000) {
    dst[at++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  while (v >= 0x80) {
    dst[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  dst[at++] = v;
  return at;
}

export class BlockFramer {
  private slab = new Uint8Array(SLAB_BYTES);
  private slabUsed = 0;

  constructor(private readonly maxMessageBytes: number) {}

  /** The complete frame (delimiter included) of the Envelope { sample_block: b }. */
  frame(b: BlockFields): Uint8Array {
    const ids = b.channelIds;
    let idsBytes = 0;
    for (let i = 0; i < ids.length; i++) idsBytes += varintBytes(ids[i]!);
    const nSamples = b.samplesBytes;
    const blockBytes = (b.configId !== 0 ? 1 + varintBytes(b.configId) : 0)
      + (b.source !== 0 ? 1 + varintBytes(b.source) : 0)
      + (b.firstSampleIndex !== 0 ? 1 + varintBytes(b.firstSampleIndex) : 0)
      + (b.sampleCount !== 0 ? 1 + varintBytes(b.sampleCount) : 0)
      + (ids.length > 0 ? 1 + varintBytes(idsBytes) + idsBytes : 0)
      + (b.format !== 0 ? 1 + varintBytes(b.format) : 0)
      + (nSamples > 0 ? 1 + varintBytes(nSamples) + nSamples : 0);
    const payloadBytes = 2 + varintBytes(blockBytes) + blockBytes;
    if (payloadBytes > this.maxMessageBytes) {
      // as encodeFrame refuses it (the configuration's validation keeps blocks within the limit)
      throw new ProtocolError('E_FRAME_TOO_LARGE', `message of ${payloadBytes} bytes exceeds the ${this.maxMessageBytes}-byte frame limit`, 'send fewer samples per block (block_samples) or split the message');
    }
    // the frame goes at `start`; its Envelope + CRC (n bytes) just past the COBS overhead, encoded in place
    const n = payloadBytes + CRC_BYTES;
    const frameMax = cobsMaxEncodedBytes(n) + 1;
    if (this.slabUsed + frameMax > this.slab.length) {
      this.slab = new Uint8Array(Math.max(SLAB_BYTES, frameMax));
      this.slabUsed = 0;
    }
    const raw = this.slab;
    const start = this.slabUsed;
    const rawStart = start + cobsMaxEncodedBytes(n) - n;
    raw[rawStart] = ENVELOPE_SAMPLE_BLOCK_TAG[0];
    raw[rawStart + 1] = ENVELOPE_SAMPLE_BLOCK_TAG[1];
    let at = putVarint(raw, rawStart + 2, blockBytes);
    if (b.configId !== 0) { raw[at++] = 0x08; at = putVarint(raw, at, b.configId); }
    if (b.source !== 0) { raw[at++] = 0x10; at = putVarint(raw, at, b.source); }
    if (b.firstSampleIndex !== 0) { raw[at++] = 0x18; at = putVarint(raw, at, b.firstSampleIndex); }
    if (b.sampleCount !== 0) { raw[at++] = 0x20; at = putVarint(raw, at, b.sampleCount); }
    if (ids.length > 0) {
      raw[at++] = 0x2a;
      at = putVarint(raw, at, idsBytes);
      for (let i = 0; i < ids.length; i++) at = putVarint(raw, at, ids[i]!);
    }
    if (b.format !== 0) { raw[at++] = 0x30; at = putVarint(raw, at, b.format); }
    if (nSamples > 0) {
      raw[at++] = 0x3a;
      at = putVarint(raw, at, nSamples);
      raw.set(nSamples === b.samples.length ? b.samples : b.samples.subarray(0, nSamples), at);
      at += nSamples;
    }
    const crc = crc32cRange(raw, rawStart, at);
    raw[at] = crc & 0xff;
    raw[at + 1] = (crc >>> 8) & 0xff;
    raw[at + 2] = (crc >>> 16) & 0xff;
    raw[at + 3] = (crc >>> 24) & 0xff;
    return this.cobsInPlace(start, rawStart, n);
  }

  /**
   * COBS-encodes slab[rawStart, rawStart + n) and the delimiter into slab[start, ...); returns the frame. Writing
   * never overtakes reading: after k input bytes at most ceil(n / 254) code bytes have been written, and rawStart -
   * start is that plus one.
   */
  private cobsInPlace(start: number, rawStart: number, n: number): Uint8Array {
    const buf = this.slab;
    const rawEnd = rawStart + n;
    let codeAt = start;
    let i = rawStart;
    let end: number;
    // Short runs (zero-dense data, e.g. EEG codes near 0) are scanned and moved by a plain loop; a longer run has
    // its end found natively (memchr, remembered for the next runs) and is moved natively.
    let nextZero = -1;
    for (;;) {
      // one block: up to 254 non-zero bytes, ended by a zero, the input's end, or its length
      const limit = i + 254 < rawEnd ? i + 254 : rawEnd;
      const scanEnd = i + SHORT_RUN < limit ? i + SHORT_RUN : limit;
      let o = codeAt + 1;
      let j = i;
      while (j < scanEnd) {
        const b = buf[j]!;
        if (b === 0) break;
        buf[o++] = b;
        j++;
      }
      if (j === scanEnd && j < limit) {
        if (nextZero < j) {
          nextZero = bufferIndexOf.call(buf, 0, j);
          if (nextZero < 0 || nextZero > rawEnd) nextZero = rawEnd;
        }
        const z = nextZero < limit ? nextZero : limit;
        buf.copyWithin(o, j, z);
        o += z - j;
        j = z;
      }
      const len = j - i;
      buf[codeAt] = len + 1;
      if (j === rawEnd) {
        // canonical form: a final full block needs no trailing empty block
        end = o;
        break;
      }
      codeAt = o;
      i = len === 254 ? j : j + 1;
    }
    buf[end] = FRAME_DELIMITER;
    this.slabUsed = end + 1;
    return buf.subarray(start, end + 1);
  }
}
