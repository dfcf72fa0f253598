// Display-side data structures of the live view: pure, no I/O, no clocks.
// Everything here is lossy by design (it feeds a screen, never a file).
//
// - SampleRing: a bounded history of multichannel samples indexed by their
//   position on the session timeline; missing positions read as NaN.
// - bucketMinMax: min/max decimation into buckets of whole samples (about one
//   per screen pixel), aligned to multiples of the bucket size so that a
//   resend of the same span gives the same points. A bucket with any missing
//   sample is a gap (null), so even one lost sample stays visible.
// - ScopeBuffer: the latest raw samples at full rate (the raw photodetector view).
// - RangeMeter: clipping (samples at the ADC rails) and peak use of the range.
import type { SampleArray } from '../../protocol/index.ts';

export class SampleRing {
  readonly capacity: number;
  private readonly data: Float32Array[];
  private first = 0;
  private next = 0;

  constructor(readonly channelCount: number, capacity: number) {
    this.capacity = Math.max(1, Math.ceil(capacity));
    this.data = Array.from({ length: channelCount }, () => new Float32Array(this.capacity).fill(Number.NaN));
  }

  /** One past the newest index written. */
  get head(): number {
    return this.next;
  }

  /** The oldest index still held. */
  get tail(): number {
    return Math.max(this.first, this.next - this.capacity);
  }

  get empty(): boolean {
    return this.next === this.first;
  }

  /** Forgets everything; the next write starts the history. */
  reset(): void {
    this.first = 0;
    this.next = 0;
    for (const d of this.data) d.fill(Number.NaN);
  }

  /** Writes `count` samples per channel at `firstIndex` (times `scales[c]`); positions skipped since the last write become NaN. */
  write(firstIndex: number, values: readonly ArrayLike<number>[], count: number, scales?: readonly number[]): void {
    if (count <= 0) return;
    if (this.empty) {
      this.first = firstIndex;
      this.next = firstIndex;
    }
    if (firstIndex > this.next) {
      const from = Math.max(this.next, firstIndex - this.capacity);
      for (const d of this.data) for (let i = from; i < firstIndex; i++) d[i % this.capacity] = Number.NaN;
      this.next = firstIndex;
    }
    const start = Math.max(firstIndex, this.tail, firstIndex + count - this.capacity);
    for (let c = 0; c < this.channelCount; c++) {
      const src = values[c];
      const dst = this.data[c]!;
      const scale = scales?.[c] ?? 1;
      for (let i = start; i < firstIndex + count; i++) dst[i % this.capacity] = src ? src[i - firstIndex]! * scale : Number.NaN;
    }
    this.next = Math.max(this.next, firstIndex + count);
  }

  /** The value at `index`, NaN when it is not held. */
  value(channel: number, index: number): number {
    if (index < this.tail || index >= this.next) return Number.NaN;
    return this.data[channel]![index % this.capacity]!;
  }
}

/** JSON-ready plot data: x in seconds, one y array per channel (null breaks the line). */
export interface SeriesChunk {
  x: number[];
  y: (number | null)[][];
}

const roundTo = (v: number, factor: number): number => Math.round(v * factor) / factor;

/**
 * Appends the complete buckets of `bucket` samples from `from` (a multiple of
 * `bucket`) up to `to` to `out`, and returns where the next call should start.
 * One sample per bucket gives the samples; more gives each bucket's min and
 * max in the order they occurred (two points per bucket).
 */
export function bucketMinMax(ring: SampleRing, from: number, to: number, bucket: number, rateHz: number, out: SeriesChunk, decimals = 3): number {
  const factor = 10 ** decimals;
  const xFactor = 1e6;
  let b = from;
  if (bucket <= 1) {
    for (; b < to; b++) {
      out.x.push(roundTo(b / rateHz, xFactor));
      for (let c = 0; c < ring.channelCount; c++) {
        const v = ring.value(c, b);
        out.y[c]!.push(Number.isNaN(v) ? null : roundTo(v, factor));
      }
    }
    return b;
  }
  for (; b + bucket <= to; b += bucket) {
    out.x.push(roundTo(b / rateHz, xFactor), roundTo((b + bucket / 2) / rateHz, xFactor));
    for (let c = 0; c < ring.channelCount; c++) {
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      let minAt = 0;
      let maxAt = 0;
      let missing = false;
      for (let i = b; i < b + bucket; i++) {
        const v = ring.value(c, i);
        if (Number.isNaN(v)) {
          missing = true;
          break;
        }
        if (v < min) { min = v; minAt = i; }
        if (v > max) { max = v; maxAt = i; }
      }
      const y = out.y[c]!;
      if (missing) y.push(null, null);
      else if (minAt <= maxAt) y.push(roundTo(min, factor), roundTo(max, factor));
      else y.push(roundTo(max, factor), roundTo(min, factor));
    }
  }
  return b;
}

/** Bucket size (whole samples) that gives about `targetPoints` buckets over `windowS` seconds. */
export function bucketFor(windowS: number, rateHz: number, targetPoints: number): number {
  return Math.max(1, Math.floor((windowS * rateHz) / targetPoints));
}

/** The last `length` raw samples per channel, at full rate. */
export class ScopeBuffer {
  private readonly data: Float64Array[];
  private written = 0;
  /** Session index one past the newest sample. */
  endIndex = 0;

  constructor(readonly channelCount: number, readonly length: number) {
    this.data = Array.from({ length: channelCount }, () => new Float64Array(length));
  }

  reset(): void {
    this.written = 0;
    this.endIndex = 0;
  }

  /** Interleaved samples (sampleCount x channelCount) ending before `endIndex`. */
  push(samples: ArrayLike<number>, sampleCount: number, endIndex: number): void {
    const ch = this.channelCount;
    for (let i = Math.max(0, sampleCount - this.length); i < sampleCount; i++) {
      const slot = this.written++ % this.length;
      for (let c = 0; c < ch; c++) this.data[c]![slot] = samples[i * ch + c]!;
    }
    this.endIndex = endIndex;
  }

  /** Oldest first; `map` converts each value (e.g. to % of full scale). */
  snapshot(map: (v: number, channel: number) => number): number[][] {
    const n = Math.min(this.written, this.length);
    const start = this.written - n;
    return this.data.map((d, c) => {
      const out = new Array<number>(n);
      for (let k = 0; k < n; k++) out[k] = map(d[(start + k) % this.length]!, c);
      return out;
    });
  }
}

/** The ADC code range of a block's samples: unsigned codes 0..2^bits-1, signed two's complement, or unknown (float). */
export function codeRangeOf(samples: SampleArray, bits: number): { low: number; high: number } | undefined {
  if (samples instanceof Uint16Array) return { low: 0, high: 2 ** bits - 1 };
  if (samples instanceof Int16Array || samples instanceof Int32Array) return { low: -(2 ** (bits - 1)), high: 2 ** (bits - 1) - 1 };
  return undefined;
}

export interface RangeReading {
  /** Samples at either rail of the ADC since the last take(). */
  clipped: number;
  total: number;
  /** Largest excursion from the middle of the range, as a fraction of half the range (unsigned: of the full range from the bottom). */
  peakFraction: number;
}

/** Clipping and peak range use per channel, accumulated between take() calls. */
export class RangeMeter {
  private clipped: Float64Array;
  private total: Float64Array;
  private peak: Float64Array;

  constructor(readonly channelCount: number) {
    this.clipped = new Float64Array(channelCount);
    this.total = new Float64Array(channelCount);
    this.peak = new Float64Array(channelCount);
  }

  /** Interleaved codes (sampleCount x channelCount) in `range`. */
  add(samples: ArrayLike<number>, sampleCount: number, range: { low: number; high: number }, signed: boolean): void {
    const ch = this.channelCount;
    const mid = signed ? (range.low + range.high + 1) / 2 : range.low;
    const half = signed ? (range.high - range.low + 1) / 2 : range.high - range.low;
    for (let c = 0; c < ch; c++) {
      let clipped = 0;
      let peak = this.peak[c]!;
      for (let i = 0; i < sampleCount; i++) {
        const v = samples[i * ch + c]!;
        if (v <= range.low || v >= range.high) clipped++;
        const f = Math.abs(v - mid) / half;
        if (f > peak) peak = f;
      }
      this.clipped[c]! += clipped;
      this.total[c]! += sampleCount;
      this.peak[c] = peak;
    }
  }

  take(): RangeReading[] {
    const out: RangeReading[] = [];
    for (let c = 0; c < this.channelCount; c++) out.push({ clipped: this.clipped[c]!, total: this.total[c]!, peakFraction: this.peak[c]! });
    this.clipped.fill(0);
    this.total.fill(0);
    this.peak.fill(0);
    return out;
  }
}
