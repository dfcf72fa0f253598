// The device's transmit path after the link: the Outbox holds bytes the
// device has sent that the transport (host side) has not read yet - the
// USB/OS buffer. It is bounded: when it is full the device's link stalls and
// its ring buffer fills, as a real device's does when the host stops reading.
import { type FrameMeta, describeFrame, lostRangeOf, type LostRange } from './faults.ts';

interface OutFrame {
  bytes: Uint8Array;
  meta: FrameMeta;
}

export interface DiscardResult {
  lost: LostRange[];
  lostMessages: string[];
  bytes: number;
  frames: number;
}

export class Outbox {
  /** Called with each frame as it is sent, instead of buffering (in-process consumers that never push back). */
  sink: ((bytes: Uint8Array, meta: FrameMeta) => void) | null = null;
  /** Called when bytes become readable after the outbox was empty. */
  onReadable: (() => void) | null = null;
  private frames: OutFrame[] = [];
  private head = 0;
  /** Bytes of frames[head] already read. */
  private headOffset = 0;
  private pending = 0;

  constructor(readonly capacityBytes: number) {}

  /** Bytes waiting to be read. */
  get length(): number {
    return this.pending;
  }

  get hasRoom(): boolean {
    return this.sink !== null || this.pending < this.capacityBytes;
  }

  push(bytes: Uint8Array, meta: FrameMeta): void {
    if (this.sink) {
      this.sink(bytes, meta);
      return;
    }
    const wasEmpty = this.pending === 0;
    this.frames.push({ bytes, meta });
    this.pending += bytes.length;
    if (wasEmpty) this.onReadable?.();
  }

  /** Copies up to `length` bytes into `target` at `offset`; returns the count (0 when empty). */
  readInto(target: Uint8Array, offset: number, length: number): number {
    let n = 0;
    while (n < length && this.head < this.frames.length) {
      const f = this.frames[this.head]!;
      const take = Math.min(length - n, f.bytes.length - this.headOffset);
      target.set(f.bytes.subarray(this.headOffset, this.headOffset + take), offset + n);
      n += take;
      this.headOffset += take;
      if (this.headOffset === f.bytes.length) {
        this.head++;
        this.headOffset = 0;
      }
    }
    this.pending -= n;
    this.compact();
    return n;
  }

  /** Everything readable, as one chunk (null when empty). */
  readAll(max = Number.POSITIVE_INFINITY): Uint8Array | null {
    if (this.pending === 0) return null;
    const out = new Uint8Array(Math.min(this.pending, max));
    this.readInto(out, 0, out.length);
    return out;
  }

  /** Drops every unread byte (a disconnect); reports which messages were lost or cut. */
  discard(): DiscardResult {
    const result: DiscardResult = { lost: [], lostMessages: [], bytes: this.pending, frames: 0 };
    for (let i = this.head; i < this.frames.length; i++) {
      const meta = this.frames[i]!.meta;
      const lost = lostRangeOf(meta);
      if (lost) result.lost.push(lost);
      else result.lostMessages.push(describeFrame(meta));
      result.frames++;
    }
    this.frames = [];
    this.head = 0;
    this.headOffset = 0;
    this.pending = 0;
    return result;
  }

  private compact(): void {
    if (this.head > 64 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
  }
}
