// Isosbestic correction: fit the control channel (405 nm) onto the signal channel
// (465/470 nm) as signal ~ slope * control + intercept, then
// dF/F (%) = (signal - fitted) / fitted * 100, as in Kjaerby et al. 2022.
//
// - Ordinary least squares on centred data (stable for large offsets).
// - Robust option: iteratively reweighted least squares from the OLS start, with
//   Huber (k = 1.345) or Tukey bisquare (c = 4.685) weights on residuals scaled by the
//   MAD (x 1.4826). Bisquare runs a few Huber iterations first so that gross outliers
//   cannot trap it in a wrong minimum. Tuning constants give 95 % efficiency at the
//   normal distribution.
// - Pairs where either value is NaN (or not finite) are ignored.

import { DspError } from './errors.ts';

export type RobustWeighting = 'huber' | 'bisquare';

export interface IsosbesticOptions {
  /** robust weighting; default none (OLS) */
  robust?: RobustWeighting;
  /** tuning constant; default 1.345 (huber) / 4.685 (bisquare) */
  tuning?: number;
  /** IRLS iteration cap, default 50 */
  maxIterations?: number;
  /** relative change of slope and intercept that stops IRLS, default 1e-10 */
  tolerance?: number;
}

export interface LinearFit {
  slope: number;
  intercept: number;
  /** number of (finite) pairs used */
  n: number;
  /** IRLS iterations run (0 for OLS) */
  iterations: number;
}

type Arr = ArrayLike<number>;

function weightedLine(x: Arr, y: Arr, w: Float64Array | null): { slope: number; intercept: number; n: number } {
  const len = Math.min(x.length, y.length);
  let sw = 0;
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const xi = x[i]!;
    const yi = y[i]!;
    if (!(Number.isFinite(xi) && Number.isFinite(yi))) continue;
    const wi = w ? w[i]! : 1;
    n++;
    sw += wi;
    sx += wi * xi;
    sy += wi * yi;
  }
  if (n < 2 || !(sw > 0)) {
    throw new DspError('E_DSP_DEGENERATE_FIT', `need at least 2 finite (signal, control) pairs with weight; got ${n}`);
  }
  const mx = sx / sw;
  const my = sy / sw;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < len; i++) {
    const xi = x[i]!;
    const yi = y[i]!;
    if (!(Number.isFinite(xi) && Number.isFinite(yi))) continue;
    const wi = w ? w[i]! : 1;
    const dx = xi - mx;
    sxx += wi * dx * dx;
    sxy += wi * dx * (yi - my);
  }
  if (!(sxx > 0)) {
    throw new DspError('E_DSP_DEGENERATE_FIT', 'the control channel is constant over the fitted points; cannot fit a slope');
  }
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, n };
}

/** k-th smallest of a[0..count) (0-based), by quickselect; reorders a. */
function select(a: Float64Array, count: number, k: number): number {
  let lo = 0;
  let hi = count - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** Median of a[0..count); reorders a. O(count) expected. */
function median(a: Float64Array, count: number): number {
  const h = count >> 1;
  if (count % 2 === 1) return select(a, count, h);
  const upper = select(a, count, h);
  let lowerMax = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < h; i++) if (a[i]! > lowerMax) lowerMax = a[i]!;
  return (lowerMax + upper) / 2;
}

/** Fits signal ~ slope * control + intercept (OLS, or robust IRLS). */
export function fitIsosbestic(signal: Arr, control: Arr, options: IsosbesticOptions = {}): LinearFit {
  if (signal.length !== control.length) {
    throw new DspError('E_DSP_BAD_INPUT', `signal (${signal.length}) and control (${control.length}) must have the same length`);
  }
  let fit = weightedLine(control, signal, null);
  if (!options.robust) return { ...fit, iterations: 0 };

  const len = signal.length;
  const w = new Float64Array(len);
  const absRes = new Float64Array(len);
  const maxIt = options.maxIterations ?? 50;
  const tol = options.tolerance ?? 1e-10;
  const huberK = options.robust === 'huber' ? (options.tuning ?? 1.345) : 1.345;
  const bisquareC = options.tuning ?? 4.685;
  const huberWarmup = options.robust === 'bisquare' ? 5 : 0;
  let it = 0;
  for (; it < maxIt; it++) {
    // residual scale: MAD / 0.6745
    let m = 0;
    for (let i = 0; i < len; i++) {
      const xi = control[i]!;
      const yi = signal[i]!;
      if (!(Number.isFinite(xi) && Number.isFinite(yi))) continue;
      absRes[m++] = Math.abs(yi - fit.slope * xi - fit.intercept);
    }
    const scale = 1.4826 * median(absRes, m);
    if (!(scale > 0)) break; // at least half the points fit exactly: done
    const useHuber = options.robust === 'huber' || it < huberWarmup;
    for (let i = 0; i < len; i++) {
      const xi = control[i]!;
      const yi = signal[i]!;
      if (!(Number.isFinite(xi) && Number.isFinite(yi))) {
        w[i] = 0;
        continue;
      }
      const u = Math.abs(yi - fit.slope * xi - fit.intercept) / scale;
      if (useHuber) w[i] = u <= huberK ? 1 : huberK / u;
      else {
        const t = u / bisquareC;
        w[i] = t < 1 ? (1 - t * t) * (1 - t * t) : 0;
      }
    }
    const next = weightedLine(control, signal, w);
    const change =
      Math.abs(next.slope - fit.slope) / Math.max(Math.abs(fit.slope), 1e-300) +
      Math.abs(next.intercept - fit.intercept) / Math.max(Math.abs(fit.intercept), Math.abs(fit.slope), 1e-300);
    fit = { ...next, n: fit.n };
    if (change < tol && it >= huberWarmup) {
      it++;
      break;
    }
  }
  return { ...fit, iterations: it };
}

/** fitted[i] = slope * control[i] + intercept (NaN stays NaN). */
export function applyFit(
  control: Arr,
  fit: Pick<LinearFit, 'slope' | 'intercept'>,
  out: Float64Array = new Float64Array(control.length),
): Float64Array {
  for (let i = 0; i < control.length; i++) out[i] = fit.slope * control[i]! + fit.intercept;
  return out;
}

/** dF/F in percent: (signal - fitted) / fitted * 100; NaN in either gives NaN. */
export function dffPercent(signal: Arr, fitted: Arr, out: Float64Array = new Float64Array(signal.length)): Float64Array {
  if (signal.length !== fitted.length) {
    throw new DspError('E_DSP_BAD_INPUT', `signal (${signal.length}) and fitted (${fitted.length}) must have the same length`);
  }
  for (let i = 0; i < signal.length; i++) {
    const f = fitted[i]!;
    out[i] = ((signal[i]! - f) / f) * 100;
  }
  return out;
}
