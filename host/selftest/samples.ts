// A short history of the detector stream, indexed by the device's sample
// counter, from which the self-test reads windows ("samples n .. n+N of every
// detector"). A window may start before the request is made (a SetLed ack
// names the first sample with the new drive, and that block can be decoded
// in the same chunk as the ack), so the store keeps the last `capacity`
// samples of every channel. Samples of lost blocks read as NaN (the next
// block's index tells). No I/O; waits are promises.
import type { RigBlock } from '../rig/rig.ts';
import { SelfTestError } from './errors.ts';

interface Waiter {
  until: number;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class SampleStore {
  private readonly rings: Float64Array[];
  private readonly column = new Map<number, number>();
  private nextIndex = 0;
  private started = false;
  private waiters: Waiter[] = [];
  private failure: Error | undefined;

  constructor(readonly channelIds: readonly number[], readonly capacity = 1 << 17) {
    this.rings = channelIds.map(() => new Float64Array(capacity).fill(Number.NaN));
    channelIds.forEach((id, c) => {
      this.column.set(id, c);
    });
  }

  /** Index of the next sample expected (one past the newest). */
  get next(): number {
    return this.nextIndex;
  }

  push(block: RigBlock): void {
    if (block.source !== 'detector') return;
    const first = block.deviceIndex;
    if (!this.started) {
      this.started = true;
      this.nextIndex = first;
    }
    if (first < this.nextIndex) return; // a repeat: already have it
    this.fillNaN(this.nextIndex, first);
    const n = block.channelIds.length;
    for (let k = 0; k < n; k++) {
      const c = this.column.get(block.channelIds[k]!);
      if (c === undefined) continue;
      const ring = this.rings[c]!;
      for (let i = 0; i < block.sampleCount; i++) ring[(first + i) % this.capacity] = block.samples[i * n + k]!;
    }
    this.nextIndex = first + block.sampleCount;
    this.wake();
  }

  /** Rejects every wait from now on (the stream ended or broke). */
  fail(error: Error): void {
    this.failure ??= error;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(error);
    }
  }

  /** Samples [from, from + count) of every channel (channelIds order), once they have arrived. */
  async window(from: number, count: number, timeoutMs: number): Promise<Float64Array[]> {
    if (this.nextIndex < from + count) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new SelfTestError('E_SELFTEST_STALLED', `samples up to ${from + count} did not arrive within ${timeoutMs} ms (have ${this.nextIndex})`, 'is the device streaming? check the link'));
        }, timeoutMs);
        const waiter: Waiter = { until: from + count, resolve, reject, timer };
        this.waiters.push(waiter);
      });
    }
    if (from < this.nextIndex - this.capacity) {
      throw new SelfTestError('E_SELFTEST_EVICTED', `samples from ${from} are no longer held (newest ${this.nextIndex})`, 'the host fell too far behind the device');
    }
    return this.rings.map((ring) => {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = ring[(from + i) % this.capacity]!;
      return out;
    });
  }

  private fillNaN(from: number, to: number): void {
    for (const ring of this.rings) for (let i = Math.max(from, to - this.capacity); i < to; i++) ring[i % this.capacity] = Number.NaN;
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.nextIndex >= w.until) {
        clearTimeout(w.timer);
        w.resolve();
      } else {
        keep.push(w);
      }
    }
    this.waiters = keep;
  }
}
