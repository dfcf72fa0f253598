// Frames: payload || CRC-32C(payload) as uint32 LE, COBS-encoded, then 0x00.
import { cobsDecodeInto, cobsEncodeInto } from './cobs.ts';
import { crc32c } from './crc.ts';
import { ProtocolError } from './errors.ts';
import { CRC_BYTES, FRAME_DELIMITER, MAX_FRAME_BYTES, MAX_MESSAGE_BYTES, cobsMaxEncodedBytes } from './limits.ts';

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
}

/**
 * Streaming frame decoder. Feed it arbitrary chunks; it calls `onFrame` with
 * each payload whose CRC matches (a fresh Uint8Array the caller may keep), and
 * counts every dropped frame by reason. It never throws on input and keeps at
 * most one maximum-size frame buffered: after an oversize frame it discards
 * bytes until the next delimiter.
 */
export class FrameDecoder {
  readonly counters: FrameCounters = { frames: 0, payloadBytes: 0, bytesIn: 0, rejected: { crc: 0, oversize: 0, cobs: 0 } };
  private readonly maxFrameBytes: number;
  private readonly pending: Uint8Array;
  private pendingLength = 0;
  private discarding = false;

  constructor(
    private readonly onFrame: (payload: Uint8Array) => void,
    options: FrameDecoderOptions = {},
  ) {
    const maxPayload = options.maxPayloadBytes ?? MAX_MESSAGE_BYTES;
    this.maxFrameBytes = maxPayload === MAX_MESSAGE_BYTES ? MAX_FRAME_BYTES : cobsMaxEncodedBytes(maxPayload + CRC_BYTES);
    this.pending = new Uint8Array(this.maxFrameBytes);
  }

  /** True while a partial frame is buffered (bytes since the last delimiter). */
  get hasPartialFrame(): boolean {
    return this.pendingLength > 0 || this.discarding;
  }

  push(chunk: Uint8Array): void {
    this.counters.bytesIn += chunk.length;
    let start = 0;
    while (start < chunk.length) {
      const delim = chunk.indexOf(FRAME_DELIMITER, start);
      const end = delim === -1 ? chunk.length : delim;
      if (this.discarding) {
        // skip to the delimiter
      } else if (this.pendingLength === 0 && delim !== -1) {
        this.finishFrame(chunk, start, end); // whole frame inside this chunk: no copy
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

  private finishFrame(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n === 0) return; // back-to-back delimiters: an idle line, not an error
    if (n > this.maxFrameBytes) {
      this.counters.rejected.oversize++;
      return;
    }
    const out = new Uint8Array(n);
    const len = cobsDecodeInto(src, start, end, out);
    if (len < CRC_BYTES) {
      this.counters.rejected.cobs++;
      return;
    }
    const payloadLength = len - CRC_BYTES;
    const payload = out.subarray(0, payloadLength);
    const expected = (out[payloadLength]! | (out[payloadLength + 1]! << 8) | (out[payloadLength + 2]! << 16) | (out[payloadLength + 3]! << 24)) >>> 0;
    if (crc32c(payload) !== expected) {
      this.counters.rejected.crc++;
      return;
    }
    this.counters.frames++;
    this.counters.payloadBytes += payloadLength;
    this.onFrame(payload);
  }
}
