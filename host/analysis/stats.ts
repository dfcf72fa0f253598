// Small statistics over typed arrays: median, z-score, and a robust multiple
// linear regression (Tukey bisquare IRLS, MAD scale) used by the corrections.
// Samples where any input is NaN (or not finite) are ignored; outputs keep NaN.

import { solveLinear } from '../dsp/linear.ts';
import { AnalysisError } from './errors.ts';

type Arr = ArrayLike<number>;

/** Median of the finite values of x (NaN when there are none). */
export function finiteMedian(x: Arr): number {
  // the finite values straight into a typed array (no array of numbers), sorted natively
  const v = new Float64Array(x.length);
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    if (Number.isFinite(xi)) v[n++] = xi;
  }
  if (n === 0) return Number.NaN;
  const a = v.subarray(0, n).sort();
  const h = n >> 1;
  return n % 2 === 1 ? a[h]! : (a[h - 1]! + a[h]!) / 2;
}

/** Mean and (population) standard deviation of the finite values. */
export function finiteMeanSd(x: Arr): { mean: number; sd: number; n: number } {
  let n = 0;
  let s = 0;
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]!)) { n++; s += x[i]!; }
  const mean = n > 0 ? s / n : Number.NaN;
  let ss = 0;
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]!)) ss += (x[i]! - mean) ** 2;
  return { mean, sd: n > 0 ? Math.sqrt(ss / n) : Number.NaN, n };
}

export interface ZScoreOptions {
  /** 'mean-sd' (default) or 'median-mad' (MAD × 1.4826, robust to transients) */
  centre?: 'mean-sd' | 'median-mad';
}

/** z = (x − centre) / spread over the finite samples; NaN stays NaN. Dimensionless. */
export function zScore(x: Arr, options: ZScoreOptions = {}, out: Float64Array = new Float64Array(x.length)): Float64Array {
  let centre: number;
  let spread: number;
  if (options.centre === 'median-mad') {
    centre = finiteMedian(x);
    const dev = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) dev[i] = Math.abs(x[i]! - centre);
    spread = 1.4826 * finiteMedian(dev);
  } else {
    const m = finiteMeanSd(x);
    centre = m.mean;
    spread = m.sd;
  }
  if (!(spread > 0)) throw new AnalysisError('E_ANALYSIS_BAD_INPUT', 'cannot z-score a constant (or empty) trace: its spread is 0; check that the channel carries signal');
  for (let i = 0; i < x.length; i++) out[i] = (x[i]! - centre) / spread;
  return out;
}

export interface RobustFit {
  /** coefficients of the regressors, in the order given */
  coefficients: number[];
  intercept: number;
  /** residual scale (MAD × 1.4826) at the end */
  scale: number;
  /** finite samples used */
  n: number;
  iterations: number;
}

export interface RobustFitOptions {
  /** use only samples where mask[i] is true (e.g. a calibration window) */
  mask?: ArrayLike<boolean | number>;
  /** bisquare tuning constant, default 4.685 (95 % efficiency at the normal) */
  tuning?: number;
  /** IRLS iterations, default 30 */
  maxIterations?: number;
  /** false: ordinary least squares */
  robust?: boolean;
}


/**
 * y ≈ intercept + Σ coefficients[j]·X[j]: weighted least squares on centred data,
 * then bisquare IRLS from the OLS start (a few Huber steps first, so gross outliers
 * such as motion dips cannot trap it).
 */
export function robustRegression(y: Arr, X: readonly Arr[], options: RobustFitOptions = {}): RobustFit {
  const len = y.length;
  for (const x of X) {
    if (x.length !== len) throw new AnalysisError('E_ANALYSIS_BAD_INPUT', `regressors must have the length of the response (${len}); got ${x.length}`);
  }
  const k = X.length;
  const ok = new Uint8Array(len);
  let n = 0;
  for (let i = 0; i < len; i++) {
    if (options.mask && !options.mask[i]) continue;
    if (!Number.isFinite(y[i]!)) continue;
    let good = true;
    for (const x of X) if (!Number.isFinite(x[i]!)) { good = false; break; }
    if (good) { ok[i] = 1; n++; }
  }
  if (n < k + 2) throw new AnalysisError('E_ANALYSIS_BAD_INPUT', `need at least ${k + 2} finite samples to fit; got ${n} (is the calibration window inside the recording?)`);
  const w = new Float64Array(len).fill(1);
  const fitWith = (): number[] => {
    // weighted means
    let sw = 0;
    const mx = new Array<number>(k).fill(0);
    let my = 0;
    for (let i = 0; i < len; i++) {
      if (!ok[i]) continue;
      const wi = w[i]!;
      sw += wi;
      my += wi * y[i]!;
      for (let j = 0; j < k; j++) mx[j]! += wi * X[j]![i]!;
    }
    if (!(sw > 0)) throw new AnalysisError('E_ANALYSIS_BAD_INPUT', 'every sample was rejected as an outlier; the data do not follow a linear model');
    my /= sw;
    for (let j = 0; j < k; j++) mx[j]! /= sw;
    const A = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    const b = new Array<number>(k).fill(0);
    for (let i = 0; i < len; i++) {
      if (!ok[i]) continue;
      const wi = w[i]!;
      const dy = y[i]! - my;
      for (let j = 0; j < k; j++) {
        const dj = X[j]![i]! - mx[j]!;
        b[j]! += wi * dj * dy;
        for (let l = j; l < k; l++) A[j]![l]! += wi * dj * (X[l]![i]! - mx[l]!);
      }
    }
    for (let j = 0; j < k; j++) for (let l = 0; l < j; l++) A[j]![l] = A[l]![j]!;
    const beta = k === 0 ? [] : solveLinear(A.flat(), b, k);
    if (!beta) throw new AnalysisError('E_ANALYSIS_BAD_INPUT', 'the regressors are constant or collinear over the fitted samples; cannot fit');
    let c = my;
    for (let j = 0; j < k; j++) c -= beta[j]! * mx[j]!;
    return [...beta, c];
  };
  let theta = fitWith();
  const residual = (i: number): number => {
    let r = y[i]! - theta[k]!;
    for (let j = 0; j < k; j++) r -= theta[j]! * X[j]![i]!;
    return r;
  };
  const absRes = new Float64Array(n);
  const scaleNow = (): number => {
    let m = 0;
    for (let i = 0; i < len; i++) if (ok[i]) absRes[m++] = Math.abs(residual(i));
    return 1.4826 * finiteMedian(absRes);
  };
  let scale = scaleNow();
  let it = 0;
  if (options.robust !== false) {
    const c = options.tuning ?? 4.685;
    const maxIt = options.maxIterations ?? 30;
    for (; it < maxIt; it++) {
      if (!(scale > 0)) break;
      const huber = it < 3;
      for (let i = 0; i < len; i++) {
        if (!ok[i]) continue;
        const u = Math.abs(residual(i)) / scale;
        if (huber) w[i] = u <= 1.345 ? 1 : 1.345 / u;
        else {
          const t = u / c;
          w[i] = t < 1 ? (1 - t * t) ** 2 : 0;
        }
      }
      const next = fitWith();
      let change = 0;
      for (let j = 0; j <= k; j++) change = Math.max(change, Math.abs(next[j]! - theta[j]!) / Math.max(Math.abs(theta[j]!), 1e-12));
      theta = next;
      scale = scaleNow();
      if (change < 1e-9 && !huber) { it++; break; }
    }
  }
  return { coefficients: theta.slice(0, k), intercept: theta[k]!, scale, n, iterations: it };
}
