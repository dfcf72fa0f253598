// Welch PSD of detrended stretches on a fine frequency grid (zero-padded segments), their
// duration-weighted mean, peak frequency and band power.
import { Welch } from '../sleep/spectrum.ts';
import type { Psd } from './types.ts';

/**
 * Hann segments of `segmentS`, spread evenly over a stretch with at least 50 % overlap, each
 * zero-padded to a power of two of at least rate / resolution samples. The padding only samples
 * the spectrum finely (bin step ≤ resolution); the resolving power is that of the segment
 * (Hann main lobe ±2 / segmentS).
 */
export class PsdEstimator {
  readonly welch: Welch;
  /** bin step of the raw (padded) PSD, Hz */
  readonly dfHz: number;
  private readonly gridHz: Float64Array;
  private readonly sum: Float64Array;
  private weightS = 0;

  constructor(readonly rateHz: number, segmentS: number, readonly resolutionHz: number, readonly maxHz: number) {
    this.welch = new Welch(rateHz, Math.max(2, Math.round(segmentS * rateHz)), Math.ceil(rateHz / resolutionHz));
    this.dfHz = this.welch.dfHz;
    const bins = Math.floor(maxHz / resolutionHz + 1e-9) + 1;
    this.gridHz = Float64Array.from({ length: bins }, (_, k) => k * resolutionHz);
    this.sum = new Float64Array(this.welch.psd.length);
  }

  /** Segment length in samples: the shortest stretch with a PSD. */
  get segmentSamples(): number {
    return this.welch.segmentSamples;
  }

  /** Raw PSD (units²/Hz on the padded bins) of x; null when x is shorter than one segment. */
  estimate(x: Float64Array): Float64Array | null {
    const m = this.welch.segmentSamples;
    if (x.length < m) return null;
    const count = x.length === m ? 1 : Math.ceil((x.length - m) / (m / 2)) + 1;
    const out = new Float64Array(this.welch.psd.length);
    for (let s = 0; s < count; s++) {
      const start = count === 1 ? 0 : Math.round((s * (x.length - m)) / (count - 1));
      const psd = this.welch.compute(x, start, m);
      for (let k = 0; k < out.length; k++) out[k]! += psd[k]! / count;
    }
    return out;
  }

  /** Adds a raw PSD to the duration-weighted mean. */
  accumulate(raw: Float64Array, durationS: number): void {
    for (let k = 0; k < raw.length; k++) this.sum[k]! += raw[k]! * durationS;
    this.weightS += durationS;
  }

  /** The duration-weighted mean so far (raw bins); null when nothing was added. */
  mean(): Float64Array | null {
    if (this.weightS <= 0) return null;
    return this.sum.map((v) => v / this.weightS);
  }

  /** Seconds of data behind the mean. */
  get durationS(): number {
    return this.weightS;
  }

  /** A raw PSD on the reported grid 0, resolution, …, maxHz (linear interpolation between padded bins). */
  toPsd(raw: Float64Array, durationS: number): Psd {
    const power = new Float64Array(this.gridHz.length);
    for (let j = 0; j < power.length; j++) {
      const pos = this.gridHz[j]! / this.dfHz;
      const k = Math.min(Math.floor(pos), raw.length - 2);
      const f = pos - k;
      power[j] = raw[k]! * (1 - f) + raw[k + 1]! * f;
    }
    return { frequencyHz: Float64Array.from(this.gridHz), powerPct2PerHz: power, durationS };
  }

  /** Frequency of the largest bin in [loHz, hiHz], refined by a parabola through it and its neighbours; NaN without power. */
  peakFrequencyHz(raw: Float64Array, loHz: number, hiHz: number): number {
    const k0 = Math.max(1, Math.ceil(loHz / this.dfHz));
    const k1 = Math.min(raw.length - 2, Math.floor(hiHz / this.dfHz));
    let best = -1;
    for (let k = k0; k <= k1; k++) if (best < 0 || raw[k]! > raw[best]!) best = k;
    if (best < 0 || !(raw[best]! > 0)) return NaN;
    return (best + parabolicOffset(raw[best - 1]!, raw[best]!, raw[best + 1]!)) * this.dfHz;
  }

  /** Power below hiHz (units²): the sum of the raw bins in [0, hiHz) times the bin step. */
  bandPower(raw: Float64Array, hiHz: number): number {
    let p = 0;
    for (let k = 0; k < raw.length && k * this.dfHz < hiHz; k++) p += raw[k]!;
    return p * this.dfHz;
  }
}

/** Offset (-0.5..0.5 bins) of the vertex of the parabola through three equally spaced values around a maximum. */
export function parabolicOffset(a: number, b: number, c: number): number {
  const d = a - 2 * b + c;
  if (!(d < 0)) return 0;
  return Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / d));
}
