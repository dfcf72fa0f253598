// Frames: payload || CRC-32C(payload) as uint32 LE, COBS-encoded, then 0x00.
import { cobsDecodeInPlace, cobsEncodeInto } from './cobs.ts';
import { crc32c, crc32cRange } from './crc.ts';
import { ProtocolError } from './errors.ts';
import { CRC_BYTES, FRAME_DELIMITER, MAX_FRAME_BYTES, MAX_MESSAGE_BYTES, cobsMaxEncodedBytes } from './limits.ts';
import { sampleBytesOffset } from './sample-block-decode.ts';

/** Why a frame was dropped. Mirrors fiberrig.v1.FrameCounters. */
export type FrameRejectReason = 'crc' | 'oversize' | 'cobs';

export interface FrameCounters {
  /** Frames delivered with a good CRC. */
  frames: number;
  /** Payload bytes delivered. */
  payloadBytes: number;
  /** Bytes received, delimiters included. */
  bytesIn: number;
  /** Dropped frames, by reason. */
  rejected: Record<FrameRejectReason, number>;
}

let frameScratch = new Uint8Array(4096);

/** Encodes one payload as a complete frame, delimiter included. */
export function encodeFrame(payload: Uint8Array, maxPayloadBytes = MAX_MESSAGE_BYTES): Uint8Array {
  if (payload.length > maxPayloadBytes) {
    throw new ProtocolError(
      'E_FRAME_TOO_LARGE',
      `message of ${payload.length} bytes exceeds the ${maxPayloadBytes}-byte frame limit`,
      'send fewer samples per block (block_samples) or split the message',
    );
  }
  // payload + CRC in a reused scratch (encodeFrame is synchronous): only the frame itself is allocated
  if (frameScratch.length < payload.length + CRC_BYTES) frameScratch = new Uint8Array(Math.max(payload.length + CRC_BYTES, 2 * frameScratch.length));
  const raw = frameScratch.subarray(0, payload.length + CRC_BYTES);
  raw.set(payload, 0);
  const crc = crc32c(payload);
  const at = payload.length;
  raw[at] = crc & 0xff;
  raw[at + 1] = (crc >>> 8) & 0xff;
  raw[at + 2] = (crc >>> 16) & 0xff;
  raw[at + 3] = (crc >>> 24) & 0xff;
  const out = new Uint8Array(cobsMaxEncodedBytes(raw.length) + 1);
  const end = cobsEncodeInto(raw, out, 0);
  out[end] = FRAME_DELIMITER;
  return out.subarray(0, end + 1);
}

export interface FrameDecoderOptions {
  /** Largest accepted payload (before CRC and COBS). Default MAX_MESSAGE_BYTES. */
  maxPayloadBytes?: number;
  /**
   * Offset in a payload of bytes its reader wants to view in place as 16- or 32-bit words, or -1 (none).
   * Payloads are placed so that offset is 4-byte aligned (learned from the previous payload; a payload
   * the guess misses is moved once inside the slab). Default: a SampleBlock's sample bytes; null: off.
   */
  dataOffset?: ((payload: Uint8Array) => number) | null;
}

/** Alignment given to the bytes `dataOffset` names (the widest sample is 4 bytes). */
const DATA_ALIGN = 4;

/** Decoded payloads are carved from slabs of this many bytes (or one frame's, if larger). */
const SLAB_BYTES = 64 * 1024;

/** The first 0x00 of `bytes` at or after `from`, or -1: Buffer's native search (memchr), which also takes a plain Uint8Array. */
const bufferIndexOf = Buffer.prototype.indexOf;
function indexOfDelimiter(bytes: Uint8Array, from: number): number {
  return bufferIndexOf.call(bytes, FRAME_DELIMITER, from);
}

/**
 * Streaming frame decoder. Feed it arbitrary chunks; it calls `onFrame` with
 * each payload whose CRC matches (a Uint8Array the caller may keep: it is never
 * written again), and counts every dropped frame by reason. It never throws on
 * input and keeps at most one maximum-size frame buffered: after an oversize
 * frame it discards bytes until the next delimiter.
 *
 * No per-frame allocation besides the payload's view: a frame is copied into a
 * slab (64 KiB) and COBS-decoded there in place; delivered payloads are never
 * overwritten (a full slab is replaced, not reused), so a payload kept by the
 * caller keeps its slab alive. Payloads are placed so that a SampleBlock's
 * sample bytes are 4-byte aligned (option dataOffset): they are viewed in place,
 * not copied (samples.ts).
 */
export class FrameDecoder {
  readonly counters: FrameCounters = { frames: 0, payloadBytes: 0, bytesIn: 0, rejected: { crc: 0, oversize: 0, cobs: 0 } };
  private readonly maxFrameBytes: number;
  private readonly pending: Uint8Array;
  private pendingLength = 0;
  private discarding = false;
  private slab = new Uint8Array(0);
  /** Bytes of `slab` handed out (delivered payloads); the rest is free. */
  private slabUsed = 0;
  /** Bytes past an 8-byte boundary where the next payload starts, so that its data offset lands aligned. */
  private shift = 0;
  private readonly dataOffset: ((payload: Uint8Array) => number) | null;

  constructor(
    private readonly onFrame: (payload: Uint8Array) => void,
    options: FrameDecoderOptions = {},
  ) {
    const maxPayload = options.maxPayloadBytes ?? MAX_MESSAGE_BYTES;
    this.maxFrameBytes = maxPayload === MAX_MESSAGE_BYTES ? MAX_FRAME_BYTES : cobsMaxEncodedBytes(maxPayload + CRC_BYTES);
    this.pending = new Uint8Array(this.maxFrameBytes);
    this.dataOffset = options.dataOffset === undefined ? sampleBytesOffset : options.dataOffset;
  }

  /** True while a partial frame is buffered (bytes since the last delimiter). */
  get hasPartialFrame(): boolean {
    return this.pendingLength > 0 || this.discarding;
  }

  push(chunk: Uint8Array): void {
    this.counters.bytesIn += chunk.length;
    let start = 0;
    while (start < chunk.length) {
      const delim = indexOfDelimiter(chunk, start);
      const end = delim === -1 ? chunk.length : delim;
      if (this.discarding) {
        // skip to the delimiter
      } else if (this.pendingLength === 0 && delim !== -1) {
        this.finishFrame(chunk, start, end); // whole frame inside this chunk: copied once, into the slab
      } else {
        const n = end - start;
        if (this.pendingLength + n > this.maxFrameBytes) {
          this.discarding = true;
          this.pendingLength = 0;
        } else {
          this.pending.set(chunk.subarray(start, end), this.pendingLength);
          this.pendingLength += n;
          if (delim !== -1) {
            const len = this.pendingLength;
            this.pendingLength = 0;
            this.finishFrame(this.pending, 0, len);
          }
        }
      }
      if (delim === -1) break;
      if (this.discarding) {
        this.discarding = false;
        this.counters.rejected.oversize++;
      }
      start = delim + 1;
    }
  }

  /** Drops a buffered partial frame (e.g. after a reconnect). Returns true if one was dropped. */
  reset(): boolean {
    const had = this.hasPartialFrame;
    this.pendingLength = 0;
    this.discarding = false;
    return had;
  }

  /** `src[start..end)` holds one frame's COBS bytes (no 0x00: it lies between delimiters). */
  private finishFrame(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n === 0) return; // back-to-back delimiters: an idle line, not an error
    if (n > this.maxFrameBytes) {
      this.counters.rejected.oversize++;
      return;
    }
    // room for the frame placed `shift` bytes in, and for moving its payload by up to DATA_ALIGN - 1 bytes
    const room = n + 2 * (DATA_ALIGN - 1);
    if (this.slabUsed + room > this.slab.length) {
      this.slab = new Uint8Array(Math.max(SLAB_BYTES, room));
      this.slabUsed = 0;
    }
    const slab = this.slab;
    let at = this.slabUsed + this.shift;
    slab.set(src.subarray(start, end), at);
    const len = cobsDecodeInPlace(slab, at, at + n);
    if (len < CRC_BYTES) {
      this.counters.rejected.cobs++;
      return; // the slab space is reused: nothing was handed out
    }
    const payloadLength = len - CRC_BYTES;
    let c = at + payloadLength;
    const expected = (slab[c]! | (slab[c + 1]! << 8) | (slab[c + 2]! << 16) | (slab[c + 3]! << 24)) >>> 0;
    if (crc32cRange(slab, at, c) !== expected) {
      this.counters.rejected.crc++;
      return;
    }
    let payload = slab.subarray(at, c);
    if (this.dataOffset !== null) {
      const offset = this.dataOffset(payload);
      const miss = offset < 0 ? 0 : (at + offset) & (DATA_ALIGN - 1);
      if (miss !== 0) {
        // move this payload forward to align its data, and place the next ones there from the start
        const by = DATA_ALIGN - miss;
        slab.copyWithin(at + by, at, c);
        at += by;
        c += by;
        payload = slab.subarray(at, c);
        this.shift = (this.shift + by) & (DATA_ALIGN - 1);
      }
    }
    // the next payload starts `shift` bytes after the next 8-byte boundary
    this.slabUsed = Math.min(slab.length, (c + 7) & ~7);
    this.counters.frames++;
    this.counters.payloadBytes += payloadLength;
    this.onFrame(payload);
  }
}
