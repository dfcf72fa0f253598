// The reductions behind the streaming analysis reader (input-read.ts), each over typed arrays and
// fed block by block: photometry block means at the analysis rate, the aux stream as contiguous
// volts, and the sleep features (per-epoch band powers and EMG RMS, the EMG envelope, a
// band-power series) computed while the EEG/EMG pass. Nothing here grows with the raw length.
import type { SignalBlock, SignalChannel } from '../pipeline/demodulate.ts';
import type { SleepFeatureInput } from './input.ts';
import { EegBandPowers, type SegmentBandSums } from './sleep/bands.ts';
import { envelopeCentre, envelopeHalfWindow, epochFeatureRow, type EpochFeatures, rmsAboutMean } from './sleep/score.ts';

/** Entries per chunk of a GrowingArray (256 KiB). */
const CHUNK = 32768;

/**
 * A float64 series that grows by fixed chunks; unwritten entries are NaN. Chunks, not a doubling
 * array: a day-long recording's series (10 Hz block means, 864 000 entries per channel) would
 * otherwise be copied into a fresh array twice the size every time it fills, megabytes of
 * ArrayBuffer at once, which sent V8 into back-to-back full collections for the rest of the run
 * (issue 20).
 */
export class GrowingArray {
  private readonly chunks: Float64Array[] = [];
  length = 0;

  set(index: number, value: number): void {
    const c = Math.floor(index / CHUNK);
    while (this.chunks.length <= c) this.chunks.push(new Float64Array(CHUNK).fill(Number.NaN));
    this.chunks[c]![index - c * CHUNK] = value;
    if (index >= this.length) this.length = index + 1;
  }

  push(value: number): void {
    this.set(this.length, value);
  }

  /** A copy of the first `length` entries (default: all written); NaN past what was written. */
  take(length = this.length): Float64Array {
    const out = new Float64Array(length).fill(Number.NaN);
    for (let c = 0; c < this.chunks.length && c * CHUNK < length; c++) {
      out.set(this.chunks[c]!.subarray(0, Math.min(CHUNK, length - c * CHUNK)), c * CHUNK);
    }
    return out;
  }
}

/**
 * Photometry block means: output k is the mean of the finite samples of signal indices
 * [k·factor, (k+1)·factor); NaN when the block has none (a gap, settling filters, dark LEDs).
 */
export class BlockMeans {
  private readonly sums: Float64Array;
  private readonly counts: Float64Array;
  private readonly outputs: GrowingArray[];
  private block = -1;
  /** signal index after the last sample seen */
  end = 0;

  constructor(readonly channels: readonly SignalChannel[], readonly factor: number) {
    this.sums = new Float64Array(channels.length);
    this.counts = new Float64Array(channels.length);
    this.outputs = channels.map(() => new GrowingArray());
  }

  add(b: SignalBlock): void {
    const { factor, sums, counts } = this;
    const nc = this.channels.length;
    let i = b.firstIndex;
    let j = 0;
    while (j < b.count) {
      const k = Math.floor(i / factor);
      if (k !== this.block) {
        this.flush();
        this.block = k;
      }
      // the samples of this block within b
      const stop = Math.min(b.count, j + (k + 1) * factor - i);
      for (let c = 0; c < nc; c++) {
        const v = b.values[c]!;
        let s = 0;
        let n = 0;
        for (let q = j; q < stop; q++) {
          const x = v[q]!;
          if (Number.isFinite(x)) { s += x; n++; }
        }
        sums[c]! += s;
        counts[c]! += n;
      }
      i += stop - j;
      j = stop;
    }
    this.end = Math.max(this.end, b.firstIndex + b.count);
  }

  private flush(): void {
    if (this.block < 0) return;
    for (let c = 0; c < this.channels.length; c++) {
      if (this.counts[c]! > 0) this.outputs[c]!.set(this.block, this.sums[c]! / this.counts[c]!);
      this.sums[c] = 0;
      this.counts[c] = 0;
    }
  }

  finish(): { samples: number; data: Record<string, Float64Array> } {
    this.flush();
    this.block = -1;
    const samples = Math.ceil(this.end / this.factor);
    const data: Record<string, Float64Array> = {};
    this.channels.forEach((c, k) => { data[c.name] = this.outputs[k]!.take(samples); });
    return { samples, data };
  }
}

/**
 * The aux stream as contiguous electrode volts from its first sample: each channel's codes times
 * its `voltsPerCode`, a jump in the session index (a gap) filled with NaN, an overlap dropped.
 * Calls `onSamples` with one array per selected channel, each holding `count` samples from 0
 * (the arrays are reused and may be longer: read only the first `count`).
 */
export class AuxVolts {
  first = -1;
  next = -1;
  channels: readonly SignalChannel[] = [];
  private readonly scratch: Float64Array[];
  /** Block channels the column indices were found for, and those indices (-1: absent). */
  private indexOf: readonly SignalChannel[] | undefined;
  private readonly index: Int32Array;

  constructor(private readonly names: readonly string[], private readonly onSamples: (volts: readonly Float64Array[], count: number) => void) {
    this.scratch = names.map(() => new Float64Array(4096));
    this.index = new Int32Array(names.length);
  }

  /** Finds the selected channels' columns in `channels` (once per channel list); false when one is absent. */
  private columns(channels: readonly SignalChannel[]): boolean {
    const index = this.index;
    if (channels !== this.indexOf) {
      for (let s = 0; s < this.names.length; s++) index[s] = channels.findIndex((c) => c.name === this.names[s]);
      this.indexOf = channels;
    }
    for (let s = 0; s < index.length; s++) if (index[s]! < 0) return false;
    return true;
  }

  add(b: SignalBlock): void {
    if (this.first < 0) {
      this.first = b.firstIndex;
      this.next = b.firstIndex;
      this.channels = b.channels;
    }
    if (!this.columns(b.channels)) return;
    const { index, scratch } = this;
    const size = scratch.length > 0 ? scratch[0]!.length : 0;
    for (let gap = b.firstIndex - this.next; gap > 0;) {
      const n = size > 0 ? Math.min(gap, size) : gap;
      for (let s = 0; s < scratch.length; s++) scratch[s]!.fill(Number.NaN, 0, n);
      this.emit(n);
      gap -= n;
    }
    let j = Math.max(0, this.next - b.firstIndex);
    while (j < b.count) {
      const n = size > 0 ? Math.min(b.count - j, size) : b.count - j;
      for (let s = 0; s < scratch.length; s++) {
        const k = index[s]!;
        const scale = b.channels[k]!.voltsPerCode;
        const v = b.values[k]!;
        const out = scratch[s]!;
        for (let q = 0; q < n; q++) out[q] = v[j + q]! * scale;
      }
      this.emit(n);
      j += n;
    }
  }

  private emit(n: number): void {
    this.onSamples(this.scratch, n);
    this.next += n;
  }
}

/** Recent samples of one signal by absolute index: appended at the end, dropped from the front. */
export class History {
  private data = new Float64Array(1 << 16);
  /** absolute index of data[0] */
  start = 0;
  length = 0;

  get end(): number { return this.start + this.length; }

  /** Appends the first `count` samples of `x` (default: all). */
  append(x: Float64Array, count = x.length): void {
    if (this.length + count > this.data.length) {
      const next = new Float64Array(Math.max(this.data.length * 2, this.length + count));
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    const data = this.data;
    const at = this.length;
    for (let i = 0; i < count; i++) data[at + i] = x[i]!;
    this.length += count;
  }

  /** Forget samples before absolute index `from`. */
  dropBefore(from: number): void {
    const n = Math.min(this.length, from - this.start);
    if (n <= 0) return;
    // move only once a quarter of the buffer is dead, so the copy is amortised
    if (n < this.data.length / 4 && n < this.length) return;
    this.data.copyWithin(0, n, this.length);
    this.start += n;
    this.length -= n;
  }

  /** The buffer and the offset of absolute index `abs` in it. */
  view(abs: number): { data: Float64Array; offset: number } {
    return { data: this.data, offset: abs - this.start };
  }
}

export interface FeatureSettings {
  rateHz: number;
  epochS: number;
  welchSegmentS: number;
  envelopeWindowS: number;
  envelopeStepS: number;
  bandPowerStepS: number;
}

/**
 * Sleep features computed while the aux stream passes: per epoch the band powers and EMG RMS of
 * epochFeatures (the same arithmetic on the same samples), the EMG envelope of emgEnvelope, and a
 * band-power series (one Welch segment per value). Sample 0 is the first aux sample. Each EEG
 * segment is transformed once: its band sums serve every band value and epoch that holds it.
 */
export class SleepFeatureStream {
  private readonly epochN: number;
  private readonly emgEpoch: Float64Array;
  private epochFill = 0;
  /** next epoch to close */
  private epochNext = 0;
  private readonly row: EpochFeatures = { deltaV2: new Float64Array(1), thetaV2: new Float64Array(1), sigmaV2: new Float64Array(1), betaV2: new Float64Array(1), emgRmsV: new Float64Array(1) };
  private readonly epochs = { delta: new GrowingArray(), theta: new GrowingArray(), sigma: new GrowingArray(), beta: new GrowingArray(), emg: new GrowingArray() };
  // envelope
  private readonly half: number;
  private readonly envStepN: number;
  private readonly envStepS: number;
  private envNext = 0;
  private readonly envelope = new GrowingArray();
  private readonly emgHistory = new History();
  // EEG segments (band sums by first sample index) and the band-power series
  private readonly bands: EegBandPowers;
  private readonly segments = new Map<number, Float64Array>();
  private readonly segmentAt: SegmentBandSums;
  /** forgetEeg: segments starting before this are dropped (forgetSegment, made once). */
  private keepFrom = 0;
  private readonly forgetSegment: (v: Float64Array, s: number) => void;
  private readonly bandValue = new Float64Array(4);
  private readonly segmentN: number;
  private readonly bandHopN: number;
  private bandNext = 0;
  private readonly eegHistory = new History();
  private readonly band = { delta: new GrowingArray(), theta: new GrowingArray(), sigma: new GrowingArray(), beta: new GrowingArray() };
  /** samples seen */
  n = 0;

  constructor(readonly settings: FeatureSettings) {
    const { rateHz } = settings;
    this.epochN = Math.round(settings.epochS * rateHz);
    this.emgEpoch = new Float64Array(this.epochN);
    this.segmentN = Math.round(settings.welchSegmentS * rateHz);
    this.bands = new EegBandPowers(rateHz, this.segmentN);
    this.segmentAt = (s) => this.segment(s);
    this.forgetSegment = (_v, s) => { if (s < this.keepFrom) this.segments.delete(s); };
    this.half = envelopeHalfWindow(settings.envelopeWindowS, rateHz);
    this.envStepS = settings.envelopeStepS;
    this.envStepN = settings.envelopeStepS * rateHz;
    this.bandHopN = Math.max(1, Math.round(settings.bandPowerStepS * rateHz));
  }

  /** Appends `count` samples of EEG and EMG (volts, NaN where missing). */
  add(eegV: Float64Array, emgV: Float64Array, count: number): void {
    this.eegHistory.append(eegV, count);
    // per-epoch EMG (the EEG is read from its history through the shared segments)
    for (let j = 0; j < count;) {
      const n = Math.min(count - j, this.epochN - this.epochFill);
      const epoch = this.emgEpoch;
      const at = this.epochFill - j;
      for (let q = j; q < j + n; q++) epoch[at + q] = emgV[q]!;
      this.epochFill += n;
      j += n;
      if (this.epochFill === this.epochN) {
        this.closeEpoch();
        this.epochFill = 0;
      }
    }
    this.emgHistory.append(emgV, count);
    this.n += count;
    this.envelopeUpTo(this.n, false);
    this.bandsUpTo(this.n);
    this.forgetEeg();
  }

  /** Band sums of the EEG segment from sample s (seen whole), transformed on first use. */
  private segment(s: number): Float64Array {
    let v = this.segments.get(s);
    if (!v) {
      const { data, offset } = this.eegHistory.view(s);
      v = this.bands.segment(data, offset, new Float64Array(4));
      this.segments.set(s, v);
    }
    return v;
  }

  private closeEpoch(): void {
    const e = this.epochs;
    const row = this.row;
    const first = this.epochNext * this.epochN;
    epochFeatureRow(this.bands, (s) => this.segment(first + s), this.emgEpoch, 0, this.epochN, row, 0);
    this.epochNext++;
    e.delta.push(row.deltaV2[0]!);
    e.theta.push(row.thetaV2[0]!);
    e.sigma.push(row.sigmaV2[0]!);
    e.beta.push(row.betaV2[0]!);
    e.emg.push(row.emgRmsV[0]!);
  }

  /** Envelope values whose window ends at or before `n` (all remaining ones when `final`, cut at n). */
  private envelopeUpTo(n: number, final: boolean): void {
    const count = final ? Math.floor(n / this.envStepN) + 1 : Number.POSITIVE_INFINITY;
    for (; this.envNext < count; this.envNext++) {
      const c = envelopeCentre(this.envNext, this.envStepS, this.settings.rateHz);
      if (!final && c + this.half > n) break;
      const a = Math.max(0, c - this.half);
      const b = Math.min(n, c + this.half);
      const { data, offset } = this.emgHistory.view(a);
      this.envelope.set(this.envNext, b > a ? rmsAboutMean(data, offset, offset + b - a) : 0);
    }
    this.emgHistory.dropBefore(envelopeCentre(this.envNext, this.envStepS, this.settings.rateHz) - this.half);
  }

  private bandsUpTo(n: number): void {
    const m = this.segmentN;
    const p = this.bandValue;
    for (; this.bandNext * this.bandHopN + m <= n; this.bandNext++) {
      this.bands.window(this.segmentAt, this.bandNext * this.bandHopN, m, p);
      this.band.delta.push(p[0]!);
      this.band.theta.push(p[1]!);
      this.band.sigma.push(p[2]!);
      this.band.beta.push(p[3]!);
    }
  }

  /** Drops the EEG samples and segments that no band value or epoch still needs. */
  private forgetEeg(): void {
    const keep = Math.min(this.bandNext * this.bandHopN, this.epochNext * this.epochN);
    this.keepFrom = keep;
    this.segments.forEach(this.forgetSegment); // no iterator object per block
    this.eegHistory.dropBefore(keep);
  }

  /** Everything computed, once the stream has ended; `startS` is the time of the first sample. */
  finish(startS: number): Omit<SleepFeatureInput, 'epochS'> {
    this.envelopeUpTo(this.n, true);
    const { rateHz, envelopeStepS, envelopeWindowS, bandPowerStepS } = this.settings;
    const features: EpochFeatures = {
      deltaV2: this.epochs.delta.take(), thetaV2: this.epochs.theta.take(), sigmaV2: this.epochs.sigma.take(),
      betaV2: this.epochs.beta.take(), emgRmsV: this.epochs.emg.take(),
    };
    return {
      startS,
      features,
      envelope: { stepS: envelopeStepS, windowS: envelopeWindowS, startS, emgRmsV: this.envelope.take() },
      bandPower: {
        stepS: bandPowerStepS,
        startS: startS + this.segmentN / 2 / rateHz,
        deltaV2: this.band.delta.take(), thetaV2: this.band.theta.take(), sigmaV2: this.band.sigma.take(), betaV2: this.band.beta.take(),
      },
    };
  }
}

