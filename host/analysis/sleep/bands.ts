// The EEG bands and their Welch powers built from per-segment band sums: a window's band powers
// are the sums of its segments' (Welch.segmentBands) times one scale, so windows that share a
// segment (the band-power series and the epochs, both on the 50 % overlap grid) transform it once.
import { type BandBins, Welch } from './spectrum.ts';

/** EEG bands, Hz, [lo, hi). */
export const EEG_BANDS_HZ = {
  delta: [1, 4],
  theta: [4, 8],
  sigma: [8, 15],
  beta: [15, 30],
} as const;

/** Band sums of the segment starting at sample index s (an array of EEG_BAND_ORDER's length). */
export type SegmentBandSums = (s: number) => Float64Array;

/** The bands in the order of EegBandPowers' arrays. */
export const EEG_BAND_ORDER = ['delta', 'theta', 'sigma', 'beta'] as const;

/** Welch band powers of EEG_BANDS_HZ for segments of `segmentSamples` at `rateHz`. */
export class EegBandPowers {
  readonly welch: Welch;
  private readonly bins: BandBins;
  private readonly scratch = new Float64Array(EEG_BAND_ORDER.length);

  constructor(rateHz: number, segmentSamples: number) {
    this.welch = new Welch(rateHz, segmentSamples);
    this.bins = this.welch.bandBins(EEG_BAND_ORDER.map((b) => EEG_BANDS_HZ[b]));
  }

  get segmentSamples(): number {
    return this.welch.segmentSamples;
  }

  /** Start of a segment after the previous one's (Welch's 50 % overlap). */
  get stepSamples(): number {
    return this.welch.stepSamples;
  }

  /** Band sums of x[s, s + segmentSamples) into `out` (default: a scratch array overwritten by the next call). */
  segment(x: ArrayLike<number>, s: number, out: Float64Array = this.scratch): Float64Array {
    return this.welch.segmentBands(x, s, this.bins, out);
  }

  /**
   * Band powers (units², EEG_BAND_ORDER) of the window [start, start + length) into `out`: the
   * segments of Welch.compute's grid, their sums read from `sums`. NaN when a segment holds one.
   */
  window(sums: SegmentBandSums, start: number, length: number, out: Float64Array): Float64Array {
    const m = this.welch.segmentSamples;
    out.fill(0);
    let segments = 0;
    for (let s = start; s + m <= start + length; s += this.welch.stepSamples) {
      const v = sums(s);
      for (let b = 0; b < out.length; b++) out[b]! += v[b]!;
      segments++;
    }
    const scale = this.welch.bandScale(segments);
    for (let b = 0; b < out.length; b++) out[b]! *= scale;
    return out;
  }
}
