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
import { CRC_BYTES, cobsMaxEncodedBytes, crc32c, FRAME_DELIMITER, ProtocolError } from '../../protocol/index.ts';

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
/** Runs up to this long are copied by a loop; longer ones natively. */
const SHORT_RUN = 24;
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
  /** Envelope + CRC, before COBS. */
  private readonly raw: Uint8Array;
  /** The same memory as a Buffer, for the native CRC (no view made per frame). */
  private readonly rawBuffer: Buffer;
  private slab = new Uint8Array(SLAB_BYTES);
  private slabUsed = 0;

  constructor(private readonly maxMessageBytes: number) {
    this.raw = new Uint8Array(maxMessageBytes + CRC_BYTES);
    this.rawBuffer = Buffer.from(this.raw.buffer, this.raw.byteOffset, this.raw.byteLength);
  }

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
    const raw = this.raw;
    raw[0] = ENVELOPE_SAMPLE_BLOCK_TAG[0];
    raw[1] = ENVELOPE_SAMPLE_BLOCK_TAG[1];
    let at = putVarint(raw, 2, blockBytes);
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
    const crc = crc32c(this.rawBuffer.subarray(0, at));
    raw[at] = crc & 0xff;
    raw[at + 1] = (crc >>> 8) & 0xff;
    raw[at + 2] = (crc >>> 16) & 0xff;
    raw[at + 3] = (crc >>> 24) & 0xff;
    return this.cobs(at + CRC_BYTES);
  }

  /** COBS-encodes raw[0, n) and the delimiter into the slab; returns the frame. */
  private cobs(n: number): Uint8Array {
    const max = cobsMaxEncodedBytes(n) + 1;
    if (this.slabUsed + max > this.slab.length) {
      this.slab = new Uint8Array(Math.max(SLAB_BYTES, max));
      this.slabUsed = 0;
    }
    const src = this.raw;
    const dst = this.slab;
    const start = this.slabUsed;
    let codeAt = start;
    let i = 0;
    let end: number;
    // zeros are found natively (memchr) and long runs copied natively: ~2x the per-byte loop
    let nextZero = -1;
    for (;;) {
      // one block: up to 254 non-zero bytes, ended by a zero, the input's end, or its length
      const limit = i + 254 < n ? i + 254 : n;
      if (nextZero < i) {
        nextZero = bufferIndexOf.call(src, 0, i);
        if (nextZero < 0 || nextZero > n) nextZero = n;
      }
      const j = nextZero < limit ? nextZero : limit;
      const len = j - i;
      const o = codeAt + 1;
      if (len > SHORT_RUN) dst.set(src.subarray(i, j), o);
      else for (let k = 0; k < len; k++) dst[o + k] = src[i + k]!;
      dst[codeAt] = len + 1;
      if (j === n) {
        // canonical form: a final full block needs no trailing empty block
        end = o + len;
        break;
      }
      codeAt = o + len;
      i = len === 254 ? j : j + 1;
    }
    dst[end] = FRAME_DELIMITER;
    this.slabUsed = end + 1;
    return dst.subarray(start, end + 1);
  }
}
