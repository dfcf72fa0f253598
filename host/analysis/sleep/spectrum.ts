// Welch's method (Hann segments, 50 % overlap, each mean-removed and zero-padded to a power of
// two) over fft.js's real-input radix-4 FFT: the whole one-sided PSD (Welch.compute) or only the
// band sums of one segment (Welch.segmentBands), which windows sharing a segment add up instead of
// transforming it again. Pure functions; the plan, window and buffers are made once per Welch.
import FFT from 'fft.js';

/** Next power of two >= n. */
export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Bins [from, to) of a band on a Welch's grid, with each bin's one-sided weight (2, or 1 at DC and Nyquist). */
export interface BandBins {
  readonly from: Int32Array;
  readonly to: Int32Array;
}

/** A Welch estimator for segments of `segmentSamples` at `rateHz`. */
export class Welch {
  readonly rateHz: number;
  readonly segmentSamples: number;
  /** Start of a segment after the previous one's (50 % overlap). */
  readonly stepSamples: number;
  readonly nfft: number;
  /** Frequency step of the one-sided PSD, Hz. */
  readonly dfHz: number;
  private readonly window: Float64Array;
  private readonly windowPower: number;
  private readonly fft: FFT | null;
  /** the windowed segment, zero-padded to nfft (the padding is never written) */
  private readonly input: Float64Array;
  /** interleaved re, im of bins 0..nfft/2 (fft.js fills the left half of 2·nfft) */
  private readonly spectrum: Float64Array;
  /** One-sided PSD (units² / Hz), nfft/2 + 1 bins; overwritten by each compute. */
  readonly psd: Float64Array;

  /** `minNfft` zero-pads each segment to at least that many samples (a finer frequency grid, not a finer resolution). */
  constructor(rateHz: number, segmentSamples: number, minNfft = 0) {
    this.rateHz = rateHz;
    this.segmentSamples = segmentSamples;
    this.stepSamples = Math.max(1, Math.floor(segmentSamples / 2));
    this.nfft = nextPow2(Math.max(segmentSamples, minNfft));
    this.dfHz = rateHz / this.nfft;
    this.window = new Float64Array(segmentSamples);
    let wp = 0;
    for (let i = 0; i < segmentSamples; i++) {
      const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / segmentSamples);
      this.window[i] = w;
      wp += w * w;
    }
    this.windowPower = wp;
    this.fft = this.nfft > 1 ? new FFT(this.nfft) : null;
    this.input = new Float64Array(this.nfft);
    this.spectrum = new Float64Array(2 * this.nfft);
    this.psd = new Float64Array(this.nfft / 2 + 1);
  }

  /** Transforms the mean-removed, windowed segment x[s, s + segmentSamples) into `this.spectrum`. */
  private transform(x: ArrayLike<number>, s: number): Float64Array {
    const m = this.segmentSamples;
    const { input, window, spectrum } = this;
    let mean = 0;
    for (let i = 0; i < m; i++) mean += x[s + i]!;
    mean /= m;
    for (let i = 0; i < m; i++) input[i] = (x[s + i]! - mean) * window[i]!;
    if (this.fft) this.fft.realTransform(spectrum, input);
    else { spectrum[0] = input[0]!; spectrum[1] = 0; }
    return spectrum;
  }

  /** Welch PSD of x[start, start+length) (segments at 50 % overlap, each mean-removed) into `this.psd`. */
  compute(x: ArrayLike<number>, start: number, length: number): Float64Array {
    const m = this.segmentSamples;
    const psd = this.psd;
    const bins = psd.length;
    psd.fill(0);
    let segments = 0;
    for (let s = start; s + m <= start + length; s += this.stepSamples) {
      const X = this.transform(x, s);
      for (let k = 0; k < bins; k++) {
        const re = X[2 * k]!;
        const im = X[2 * k + 1]!;
        psd[k]! += re * re + im * im;
      }
      segments++;
    }
    const scale = segments > 0 ? 1 / (segments * this.rateHz * this.windowPower) : 0;
    for (let k = 0; k < bins; k++) {
      const oneSided = k === 0 || k === bins - 1 ? 1 : 2;
      psd[k]! *= scale * oneSided;
    }
    return psd;
  }

  /** Power in [loHz, hiHz) of the last PSD (units²): the sum of its bins times the bin width. */
  bandPower(loHz: number, hiHz: number): number {
    let p = 0;
    for (let k = Math.ceil(loHz / this.dfHz); k < this.psd.length && k * this.dfHz < hiHz; k++) p += this.psd[k]!;
    return p * this.dfHz;
  }

  /** The bins of each band [loHz, hiHz) (bandPower's: from ceil(lo / df) while below hi). */
  bandBins(bandsHz: ReadonlyArray<readonly [number, number]>): BandBins {
    const from = new Int32Array(bandsHz.length);
    const to = new Int32Array(bandsHz.length);
    bandsHz.forEach(([lo, hi], b) => {
      const k0 = Math.ceil(lo / this.dfHz);
      let k = k0;
      while (k < this.psd.length && k * this.dfHz < hi) k++;
      from[b] = k0;
      to[b] = k;
    });
    return { from, to };
  }

  /**
   * Band sums of one segment x[s, s + segmentSamples): for each band, Σ weight·|X_k|² over its bins,
   * into out[0 .. bands). Summed over a window's segments and times `bandScale(segments)`, they are
   * that window's bandPower (compute then bandPower), only up to float rounding.
   */
  segmentBands(x: ArrayLike<number>, s: number, bins: BandBins, out: Float64Array): Float64Array {
    const X = this.transform(x, s);
    const last = this.psd.length - 1;
    for (let b = 0; b < bins.from.length; b++) {
      let p = 0;
      for (let k = bins.from[b]!; k < bins.to[b]!; k++) {
        const re = X[2 * k]!;
        const im = X[2 * k + 1]!;
        p += (k === 0 || k === last ? 1 : 2) * (re * re + im * im);
      }
      out[b] = p;
    }
    return out;
  }

  /** Turns band sums added over `segments` segments into band powers (units²). */
  bandScale(segments: number): number {
    return segments > 0 ? this.dfHz / (segments * this.rateHz * this.windowPower) : 0;
  }
}
