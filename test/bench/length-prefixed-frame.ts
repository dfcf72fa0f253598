// A framing without byte stuffing, for the host bench only (not the protocol): what the host
// pipeline would cost if the wire carried length-prefixed frames instead of COBS (issue 20's
// "option 1"). It keeps what the protocol's frames guarantee that bears on cost: a CRC-32C per
// frame, a bounded frame, payloads the caller may keep (copied into never-rewritten slabs, sample
// bytes 4-byte aligned), recovery after a bad frame. It drops the delimiter search and the COBS
// decoding, which is all a length prefix can save.
//
// Frame: 0xA5 0x5A | payload length, u16 LE | header check, ~(length lo ^ length hi) | payload |
// CRC-32C(payload), u32 LE.
import { crc32c, crc32cRange, MAX_MESSAGE_BYTES } from '../../protocol/index.ts';
import { sampleBytesOffset } from '../../protocol/src/sample-block-decode.ts';

const SYNC0 = 0xa5;
const SYNC1 = 0x5a;
const HEADER_BYTES = 5;
const TRAILER_BYTES = 4;
const SLAB_BYTES = 64 * 1024;
const DATA_ALIGN = 4;

export function encodeLengthPrefixed(payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const out = new Uint8Array(HEADER_BYTES + n + TRAILER_BYTES);
  out.set([SYNC0, SYNC1, n & 0xff, n >>> 8, ~((n & 0xff) ^ (n >>> 8)) & 0xff]);
  out.set(payload, HEADER_BYTES);
  new DataView(out.buffer).setUint32(HEADER_BYTES + n, crc32c(payload), true);
  return out;
}

/** Streaming decoder of encodeLengthPrefixed's frames: a bad header or CRC moves the search on one byte. */
export class LengthPrefixedDecoder {
  frames = 0;
  rejected = 0;
  private pending: Uint8Array | null = null;
  private slab = new Uint8Array(0);
  private slabUsed = 0;

  constructor(private readonly onFrame: (payload: Uint8Array) => void) {}

  push(chunk: Uint8Array): void {
    // a frame split across reads is assembled in `pending`; whole frames are read from the chunk
    const src = this.pending === null ? chunk : concat(this.pending, chunk);
    const rest = this.scan(src);
    this.pending = rest === src.length ? null : src.slice(rest);
  }

  /** Delivers each complete frame of `src`; returns where the unfinished tail starts. */
  private scan(src: Uint8Array): number {
    let at = 0;
    while (src.length - at >= HEADER_BYTES + TRAILER_BYTES) {
      if (src[at] !== SYNC0 || src[at + 1] !== SYNC1) {
        const next = Buffer.prototype.indexOf.call(src, SYNC0, at + 1);
        if (next === -1) return src.length;
        at = next;
        continue;
      }
      const n = src[at + 2]! | (src[at + 3]! << 8);
      if (((~(src[at + 2]! ^ src[at + 3]!)) & 0xff) !== src[at + 4] || n > MAX_MESSAGE_BYTES) {
        this.rejected++;
        at++;
        continue;
      }
      if (src.length - at < HEADER_BYTES + n + TRAILER_BYTES) return at;
      const start = at + HEADER_BYTES;
      const end = start + n;
      const expected = (src[end]! | (src[end + 1]! << 8) | (src[end + 2]! << 16) | (src[end + 3]! << 24)) >>> 0;
      if (crc32cRange(src, start, end) !== expected) {
        this.rejected++;
        at++;
        continue;
      }
      this.deliver(src.subarray(start, end));
      at = end + TRAILER_BYTES;
    }
    return at;
  }

  /** Copies a payload into the slab, its sample bytes aligned, and hands it on. */
  private deliver(payload: Uint8Array): void {
    const room = payload.length + DATA_ALIGN - 1;
    if (this.slabUsed + room > this.slab.length) {
      this.slab = new Uint8Array(Math.max(SLAB_BYTES, room));
      this.slabUsed = 0;
    }
    const offset = sampleBytesOffset(payload);
    const at = offset < 0 ? this.slabUsed : this.slabUsed + ((DATA_ALIGN - ((this.slabUsed + offset) & (DATA_ALIGN - 1))) & (DATA_ALIGN - 1));
    this.slab.set(payload, at);
    this.slabUsed = Math.min(this.slab.length, (at + payload.length + 7) & ~7);
    this.frames++;
    this.onFrame(this.slab.subarray(at, at + payload.length));
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
