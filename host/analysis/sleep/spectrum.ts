// Band powers of a short signal segment: Welch's method (Hann segments, 50 % overlap, zero-padded
// to a power of two) over an in-place radix-2 FFT. Pure functions, no allocation per call beyond
// the plan made once per segment length.

/** Next power of two >= n. */
export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** In-place iterative radix-2 complex FFT (forward). `re.length` must be a power of two. */
export function fftInPlace(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      const tr = re[i]!; re[i] = re[j]!; re[j] = tr;
      const ti = im[i]!; im[i] = im[j]!; im[j] = ti;
    }
  }
  for (let len = 2; len <= n; len *= 2) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    const half = len / 2;
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < half; k++) {
        const a = i + k;
        const b = a + half;
        const xr = re[b]! * cr - im[b]! * ci;
        const xi = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - xr; im[b] = im[a]! - xi;
        re[a] = re[a]! + xr; im[a] = im[a]! + xi;
        const nr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = nr;
      }
    }
  }
}

/** A Welch estimator for segments of `segmentSamples` at `rateHz`. */
export class Welch {
  readonly rateHz: number;
  readonly segmentSamples: number;
  readonly nfft: number;
  /** Frequency step of the one-sided PSD, Hz. */
  readonly dfHz: number;
  private readonly window: Float64Array;
  private readonly windowPower: number;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  /** One-sided PSD (units² / Hz), nfft/2 + 1 bins; overwritten by each call. */
  readonly psd: Float64Array;

  /** `minNfft` zero-pads each segment to at least that many samples (a finer frequency grid, not a finer resolution). */
  constructor(rateHz: number, segmentSamples: number, minNfft = 0) {
    this.rateHz = rateHz;
    this.segmentSamples = segmentSamples;
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
    this.re = new Float64Array(this.nfft);
    this.im = new Float64Array(this.nfft);
    this.psd = new Float64Array(this.nfft / 2 + 1);
  }

  /** Welch PSD of x[start, start+length) (segments at 50 % overlap, each mean-removed) into `this.psd`. */
  compute(x: ArrayLike<number>, start: number, length: number): Float64Array {
    const m = this.segmentSamples;
    const step = Math.max(1, Math.floor(m / 2));
    this.psd.fill(0);
    let segments = 0;
    for (let s = start; s + m <= start + length; s += step) {
      let mean = 0;
      for (let i = 0; i < m; i++) mean += x[s + i]!;
      mean /= m;
      this.re.fill(0);
      this.im.fill(0);
      for (let i = 0; i < m; i++) this.re[i] = (x[s + i]! - mean) * this.window[i]!;
      fftInPlace(this.re, this.im);
      for (let k = 0; k < this.psd.length; k++) this.psd[k]! += this.re[k]! ** 2 + this.im[k]! ** 2;
      segments++;
    }
    const scale = segments > 0 ? 1 / (segments * this.rateHz * this.windowPower) : 0;
    for (let k = 0; k < this.psd.length; k++) {
      const oneSided = k === 0 || k === this.psd.length - 1 ? 1 : 2;
      this.psd[k]! *= scale * oneSided;
    }
    return this.psd;
  }

  /** Power in [loHz, hiHz) of the last PSD (units²): the sum of its bins times the bin width. */
  bandPower(loHz: number, hiHz: number): number {
    let p = 0;
    for (let k = Math.ceil(loHz / this.dfHz); k < this.psd.length && k * this.dfHz < hiHz; k++) p += this.psd[k]!;
    return p * this.dfHz;
  }
}
