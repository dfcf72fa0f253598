// Pure statistics of the self-test: window means and noise with mains flicker
// removed, and the clock-rate fit. No I/O, no clocks.
import { solveLeastNorm } from '../dsp/linear.ts';

/** Lamp flicker (2x mains) and harmonics for 50 and 60 Hz mains, Hz. */
export const MAINS_FLICKER_HZ: readonly number[] = [100, 200, 300, 400, 120, 240, 360, 480];

export interface WindowStats {
  /** Finite samples used. */
  count: number;
  /** Samples that never arrived (NaN: a gap). */
  missing: number;
  mean: number;
  /** Standard error of the mean from noiseRms (white-noise assumption). */
  meanStdError: number;
  /** RMS of what is left after removing the mean and the mains flicker, codes. */
  noiseRms: number;
  /** Peak amplitude of the largest removed flicker component, codes. */
  flickerPeak: number;
  min: number;
  max: number;
  /** Samples at or above `maxCode` (clipped high). */
  atMax: number;
  /** Samples at or below 0 (clipped low). */
  atZero: number;
}


/** Least-squares residual RMS and largest flicker amplitude of samples[from, to) (see windowStats). */
function flickerResidual(samples: ArrayLike<number>, from: number, to: number, sampleRateHz: number, freqs: readonly number[]): { rss: number; count: number; params: number; flickerPeak: number } {
  // constant, then per frequency cos, sin, t·cos, t·sin (t centred, scaled to ±1): the t terms absorb a
  // flicker frequency off nominal (mains ±0.1 Hz, or a device clock error, both ~1000 ppm)
  const p = 1 + 4 * freqs.length;
  const mid = (from + to - 1) / 2;
  const half = Math.max(1, (to - from) / 2);
  const row = new Float64Array(p);
  const fill = (i: number): void => {
    row[0] = 1;
    const t = (i - mid) / sampleRateHz;
    const u = (i - mid) / half;
    for (let k = 0; k < freqs.length; k++) {
      const w = 2 * Math.PI * freqs[k]! * t;
      const c = Math.cos(w);
      const s = Math.sin(w);
      row[1 + 4 * k] = c;
      row[2 + 4 * k] = s;
      row[3 + 4 * k] = u * c;
      row[4 + 4 * k] = u * s;
    }
  };
  let count = 0;
  let mean = 0;
  for (let i = from; i < to; i++) {
    const v = samples[i]!;
    if (!Number.isFinite(v)) continue;
    count++;
    mean += v;
  }
  if (count === 0) return { rss: 0, count: 0, params: 0, flickerPeak: 0 };
  mean /= count;
  if (count <= 2 * p) {
    let rss = 0;
    for (let i = from; i < to; i++) {
      const v = samples[i]!;
      if (Number.isFinite(v)) rss += (v - mean) ** 2;
    }
    return { rss, count, params: 1, flickerPeak: 0 };
  }
  const ata = new Float64Array(p * p);
  const atb = new Float64Array(p);
  for (let i = from; i < to; i++) {
    const v = samples[i]!;
    if (!Number.isFinite(v)) continue;
    fill(i);
    const y = v - mean;
    for (let r = 0; r < p; r++) {
      atb[r] = atb[r]! + row[r]! * y;
      for (let c = r; c < p; c++) ata[r * p + c] = ata[r * p + c]! + row[r]! * row[c]!;
    }
  }
  for (let r = 0; r < p; r++) for (let c = 0; c < r; c++) ata[r * p + c] = ata[c * p + r]!;
  const beta = solveLeastNorm(ata, atb, p);
  let rss = 0;
  for (let i = from; i < to; i++) {
    const v = samples[i]!;
    if (!Number.isFinite(v)) continue;
    fill(i);
    let fit = 0;
    for (let r = 0; r < p; r++) fit += row[r]! * beta[r]!;
    const e = v - mean - fit;
    rss += e * e;
  }
  let flickerPeak = 0;
  for (let k = 0; k < freqs.length; k++) flickerPeak = Math.max(flickerPeak, Math.hypot(beta[1 + 4 * k]!, beta[2 + 4 * k]!));
  return { rss, count, params: p, flickerPeak };
}

/** Length of the pieces the noise is measured on, s: short enough that a flicker frequency off by 0.2 % stays in phase. */
export const NOISE_PIECE_S = 0.1;

/**
 * Mean, noise and clipping of one window of raw codes. The noise is the RMS
 * residual, over pieces of NOISE_PIECE_S, of a least-squares fit of a constant
 * plus the mains flicker frequencies below 0.49 x the sample rate (with a
 * linear phase drift each): ambient lamp flicker is light, not detector
 * noise, and would otherwise swamp it. The median over the pieces is reported.
 */
export function windowStats(samples: ArrayLike<number>, sampleRateHz: number, maxCode: number, flickerHz: readonly number[] = MAINS_FLICKER_HZ): WindowStats {
  const freqs = flickerHz.filter((f) => f < 0.49 * sampleRateHz);
  let count = 0;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let atMax = 0;
  let atZero = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!;
    if (!Number.isFinite(v)) continue;
    count++;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
    if (v >= maxCode) atMax++;
    if (v <= 0) atZero++;
  }
  const missing = samples.length - count;
  if (count === 0) {
    return { count, missing, mean: Number.NaN, meanStdError: Number.NaN, noiseRms: Number.NaN, flickerPeak: Number.NaN, min: Number.NaN, max: Number.NaN, atMax, atZero };
  }
  const mean = sum / count;
  const pieceN = Math.max(1, Math.round(NOISE_PIECE_S * sampleRateHz));
  const pieces = Math.max(1, Math.floor(samples.length / pieceN));
  const rms: number[] = [];
  let flickerPeak = 0;
  for (let k = 0; k < pieces; k++) {
    const from = k * pieceN;
    const to = k === pieces - 1 ? samples.length : from + pieceN;
    const r = flickerResidual(samples, from, to, sampleRateHz, freqs);
    if (r.count === 0) continue;
    rms.push(Math.sqrt(r.rss / Math.max(1, r.count - r.params)));
    flickerPeak = Math.max(flickerPeak, r.flickerPeak);
  }
  rms.sort((a, b) => a - b);
  const noiseRms = rms.length === 0 ? Number.NaN : rms.length % 2 ? rms[(rms.length - 1) / 2]! : (rms[rms.length / 2 - 1]! + rms[rms.length / 2]!) / 2;
  return { count, missing, mean, meanStdError: noiseRms / Math.sqrt(count), noiseRms, flickerPeak, min, max, atMax, atZero };
}

export interface RateFit {
  /** Device ticks per second of host time. */
  ticksPerSecond: number;
  /** Standard error of ticksPerSecond (NaN when the least-delay replies were too few or too bunched). */
  ticksPerSecondSigma: number;
  points: number;
  spanS: number;
}

/**
 * The line y = a + b x on or above every point that is closest to them on
 * average (a linear program whose optimum is the upper convex hull's edge
 * over the mean x). For clock points (x = host time the reply arrived, y =
 * device counter it carried) every point lies at or below the truth - the
 * device read its counter before the reply arrived, and a simulator's counter
 * lags its pacing tick - so the upper envelope is the truth plus the
 * smallest lags, and scheduling delays (which only lower points) cannot pull it.
 */
export function upperEnvelope(x: ArrayLike<number>, y: ArrayLike<number>): { slope: number; intercept: number } | null {
  const n = Math.min(x.length, y.length);
  const idx = Array.from({ length: n }, (_, i) => i).filter((i) => Number.isFinite(x[i]!) && Number.isFinite(y[i]!));
  idx.sort((i, j) => x[i]! - x[j]! || y[j]! - y[i]!);
  const hull: number[] = [];
  for (const i of idx) {
    if (hull.length > 0 && x[hull[hull.length - 1]!] === x[i]) continue; // same x: keep the higher (sorted first)
    while (hull.length >= 2) {
      const o = hull[hull.length - 2]!;
      const a = hull[hull.length - 1]!;
      const cross = (x[a]! - x[o]!) * (y[i]! - y[o]!) - (y[a]! - y[o]!) * (x[i]! - x[o]!);
      if (cross >= 0) hull.pop();
      else break;
    }
    hull.push(i);
  }
  if (hull.length < 2) return null;
  let xm = 0;
  for (const i of idx) xm += x[i]!;
  xm /= idx.length;
  let k = 0;
  while (k < hull.length - 2 && x[hull[k + 1]!]! < xm) k++;
  const i0 = hull[k]!;
  const i1 = hull[k + 1]!;
  const slope = (y[i1]! - y[i0]!) / (x[i1]! - x[i0]!);
  return { slope, intercept: y[i0]! - slope * x[i0]! };
}

/**
 * Device tick rate against the host clock from (host receive time s, device
 * ticks) pairs: the upper envelope finds the replies with the least delay
 * (within `bandTicks` of it), and a least-squares line through those gives the
 * rate and its standard error. Device counters are integers, so one tick of
 * quantisation is always part of the delay.
 */
export function fitTickRate(hostS: ArrayLike<number>, ticks: ArrayLike<number>, bandTicks = 1.5): RateFit | null {
  const n = Math.min(hostS.length, ticks.length);
  if (n < 4) return null;
  const env = upperEnvelope(hostS, ticks);
  if (!env) return null;
  const xs: number[] = [];
  const ys: number[] = [];
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const x = hostS[i]!;
    const y = ticks[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
    if (y - (env.intercept + env.slope * x) >= -bandTicks) {
      xs.push(x);
      ys.push(y);
    }
  }
  const spanS = hi - lo;
  const m = xs.length;
  let xm = 0;
  let ym = 0;
  for (let i = 0; i < m; i++) {
    xm += xs[i]!;
    ym += ys[i]!;
  }
  xm /= m;
  ym /= m;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < m; i++) {
    sxx += (xs[i]! - xm) ** 2;
    sxy += (xs[i]! - xm) * (ys[i]! - ym);
  }
  // the near-envelope points must span at least half the run, or the envelope edge is the better estimate
  if (m < 4 || !(Math.sqrt((12 * sxx) / m) >= 0.5 * spanS)) {
    return { ticksPerSecond: env.slope, ticksPerSecondSigma: Number.NaN, points: n, spanS };
  }
  const slope = sxy / sxx;
  let rss = 0;
  for (let i = 0; i < m; i++) rss += (ys[i]! - ym - slope * (xs[i]! - xm)) ** 2;
  const sigma = Math.sqrt(rss / Math.max(1, m - 2) / sxx);
  return { ticksPerSecond: slope, ticksPerSecondSigma: sigma, points: n, spanS };
}
