// Photobleaching detrend: y(t) = a1 exp(-(t - t0)/tau1) + a2 exp(-(t - t0)/tau2) + c,
// t0 = the first finite sample's time, amplitudes a1, a2 >= 0 (bleaching decays;
// pyPhotometry bounds its amplitudes to [0, max] too), tau bounds below.
//
// Bounds: tau1 (fast) in [60, 600] s, tau2 (slow) in [600, 36000] s. pyPhotometry's
// fit bounds the slow tau to [600, 36000] s; the fast one is additionally kept >= 60 s
// here so the trend cannot follow a 0.02 Hz (50 s period) oscillation: an exponential
// with tau >= 60 s is monotone and decays by at most a factor e^(-50/60) = 0.43 per
// 50 s period, so it cannot follow both the rise and the fall of one cycle: its
// spectrum is a first-order low-pass with corner <= 1/(2 pi 60 s) = 2.7 mHz, 7x below
// 0.02 Hz. Measured worst case over all admissible taus: the normalised projection
// of a 0.02 Hz sinusoid (any phase) onto span{1, e^(-t/tau1), e^(-t/tau2)} is 0.036
// for a 1 h record (0.093 for 10 min), i.e. even if the fit absorbed that component
// entirely the sine's power would drop by 0.13 % (0.9 %) - mostly in the first minutes.
// Measured end to end (test/host/dsp/bleaching.test.ts): a 0.02 Hz sine of 1 % on a
// 1 h bleaching curve keeps its amplitude within 1 % after detrending.
//
// Solver: variable projection. For fixed (tau1, tau2) the model is linear in
// (a1, a2, c): solved exactly by least squares (with a1, a2 >= 0 by checking the
// active sets). The two taus are found by a 17 x 25 grid over log(tau), then local
// 7 x 7 grids that follow the valley and shrink down to 1e-5 in log(tau), on the data reduced
// to at most 4096 bins (bin means, with each exponential column averaged exactly over
// its bin): ~0.1 s for 1 h at 10 Hz, ~0.5 s for 10 h at 100 Hz. The final (a1, a2, c) are then
// solved on the full data. NaN samples (and NaN times) are ignored.

import { DspError } from './errors.ts';

export const BLEACH_TAU_FAST_MIN_S = 60;
export const BLEACH_TAU_FAST_MAX_S = 600;
export const BLEACH_TAU_SLOW_MIN_S = 600;
export const BLEACH_TAU_SLOW_MAX_S = 36000;

export interface BleachingFit {
  a1: number;
  tau1S: number;
  a2: number;
  tau2S: number;
  c: number;
  /** time origin of the exponentials (s) */
  t0S: number;
  /** RMS residual over the finite samples */
  rmse: number;
  /** finite samples used */
  n: number;
}

export interface BleachingOptions {
  /** allow negative amplitudes (rising trends); default false */
  allowNegative?: boolean;
  /** max bins for the tau search; default 4096 */
  maxBins?: number;
}

type Arr = ArrayLike<number>;

interface Data {
  t: Float64Array; // bin mean time relative to t0
  y: Float64Array; // bin mean
  w: Float64Array; // weight = samples in bin
  width: Float64Array; // bin width (s), 0 when not binned
}

function reduce(tS: Arr, y: Arr, maxBins: number): { data: Data; t0: number; n: number } {
  let n = 0;
  let t0 = Number.NaN;
  for (let i = 0; i < y.length; i++) {
    if (Number.isFinite(tS[i]!) && Number.isFinite(y[i]!)) {
      if (n === 0) t0 = tS[i]!;
      n++;
    }
  }
  if (n < 4) {
    throw new DspError('E_DSP_DEGENERATE_FIT', `need at least 4 finite samples to fit bleaching; got ${n}`);
  }
  const per = Math.ceil(n / maxBins);
  const nb = Math.ceil(n / per);
  const data: Data = {
    t: new Float64Array(nb),
    y: new Float64Array(nb),
    w: new Float64Array(nb),
    width: new Float64Array(nb),
  };
  let b = 0;
  let k = 0;
  let st = 0;
  let sy = 0;
  let tmin = 0;
  let tmax = 0;
  const flush = (): void => {
    data.t[b] = st / k;
    data.y[b] = sy / k;
    data.w[b] = k;
    data.width[b] = k > 1 ? ((tmax - tmin) * k) / (k - 1) : 0;
    b++;
    k = 0;
    st = 0;
    sy = 0;
  };
  for (let i = 0; i < y.length; i++) {
    const ti = tS[i]!;
    const yi = y[i]!;
    if (!(Number.isFinite(ti) && Number.isFinite(yi))) continue;
    const t = ti - t0;
    if (k === 0) tmin = t;
    tmax = t;
    st += t;
    sy += yi;
    k++;
    if (k === per) flush();
  }
  if (k > 0) flush();
  return { data, t0, n };
}

/** Bin-averaged exp(-t/tau) (exact for uniform sampling within the bin). */
function column(d: Data, tau: number, out: Float64Array): void {
  for (let b = 0; b < d.t.length; b++) {
    const h = d.width[b]! / (2 * tau);
    const f = h > 1e-8 ? Math.sinh(h) / h : 1;
    out[b] = Math.exp(-d.t[b]! / tau) * f;
  }
}

interface Lin {
  a1: number;
  a2: number;
  c: number;
  sse: number;
}

/** Weighted LS of y on [u, v, 1] with optional a1, a2 >= 0. */
function solveLinear(u: Arr, v: Arr, y: Arr, w: Arr | null, allowNegative: boolean): Lin {
  const len = y.length;
  let sw = 0;
  let mu = 0;
  let mv = 0;
  let my = 0;
  for (let i = 0; i < len; i++) {
    const wi = w ? w[i]! : 1;
    sw += wi;
    mu += wi * u[i]!;
    mv += wi * v[i]!;
    my += wi * y[i]!;
  }
  mu /= sw;
  mv /= sw;
  my /= sw;
  let suu = 0;
  let svv = 0;
  let suv = 0;
  let suy = 0;
  let svy = 0;
  let syy = 0;
  for (let i = 0; i < len; i++) {
    const wi = w ? w[i]! : 1;
    const du = u[i]! - mu;
    const dv = v[i]! - mv;
    const dy = y[i]! - my;
    suu += wi * du * du;
    svv += wi * dv * dv;
    suv += wi * du * dv;
    suy += wi * du * dy;
    svy += wi * dv * dy;
    syy += wi * dy * dy;
  }
  const sse = (a1: number, a2: number): number =>
    syy - 2 * a1 * suy - 2 * a2 * svy + a1 * a1 * suu + 2 * a1 * a2 * suv + a2 * a2 * svv;
  const candidates: [number, number][] = [];
  const det = suu * svv - suv * suv;
  if (det > 1e-12 * suu * svv) {
    candidates.push([(suy * svv - svy * suv) / det, (svy * suu - suy * suv) / det]);
  }
  if (suu > 0) candidates.push([suy / suu, 0]);
  if (svv > 0) candidates.push([0, svy / svv]);
  candidates.push([0, 0]);
  let best: Lin = { a1: 0, a2: 0, c: my, sse: Number.POSITIVE_INFINITY };
  for (const [a1, a2] of candidates) {
    if (!allowNegative && (a1 < 0 || a2 < 0)) continue;
    const e = sse(a1, a2);
    if (e < best.sse) best = { a1, a2, c: my - a1 * mu - a2 * mv, sse: e };
  }
  return best;
}

/** Fits the double exponential to y(tS). */
export function fitBleaching(tS: Arr, y: Arr, options: BleachingOptions = {}): BleachingFit {
  if (tS.length !== y.length) {
    throw new DspError('E_DSP_BAD_INPUT', `tS (${tS.length}) and y (${y.length}) must have the same length`);
  }
  const allowNeg = options.allowNegative ?? false;
  const { data, t0, n } = reduce(tS, y, options.maxBins ?? 4096);
  const nb = data.t.length;
  const v = new Float64Array(nb);
  const lo1 = Math.log(BLEACH_TAU_FAST_MIN_S);
  const hi1 = Math.log(BLEACH_TAU_FAST_MAX_S);
  const lo2 = Math.log(BLEACH_TAU_SLOW_MIN_S);
  const hi2 = Math.log(BLEACH_TAU_SLOW_MAX_S);
  const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

  // coarse grid: 17 x 25 in log tau
  const g1 = 17;
  const g2 = 25;
  const cols1: Float64Array[] = [];
  for (let i = 0; i < g1; i++) {
    const c = new Float64Array(nb);
    column(data, Math.exp(lo1 + ((hi1 - lo1) * i) / (g1 - 1)), c);
    cols1.push(c);
  }
  let best = { l1: lo1, l2: lo2, sse: Number.POSITIVE_INFINITY };
  for (let j = 0; j < g2; j++) {
    const l2 = lo2 + ((hi2 - lo2) * j) / (g2 - 1);
    column(data, Math.exp(l2), v);
    for (let i = 0; i < g1; i++) {
      const r = solveLinear(cols1[i]!, v, data.y, data.w, allowNeg);
      if (r.sse < best.sse) best = { l1: lo1 + ((hi1 - lo1) * i) / (g1 - 1), l2, sse: r.sse };
    }
  }
  // local 7 x 7 grids: re-centre while the best point is on the grid's edge (following
  // the diagonal valley tau1/tau2 trade-offs make), shrink 3x once it is inside
  let s1 = (hi1 - lo1) / (g1 - 1);
  let s2 = (hi2 - lo2) / (g2 - 1);
  const local1 = Array.from({ length: 7 }, () => new Float64Array(nb));
  for (let round = 0; round < 200 && (s1 > 1e-5 || s2 > 1e-5); round++) {
    const c1 = best.l1;
    const c2 = best.l2;
    let edge = false;
    for (let i = -3; i <= 3; i++) column(data, Math.exp(clamp(c1 + (i * s1) / 3, lo1, hi1)), local1[i + 3]!);
    for (let j = -3; j <= 3; j++) {
      const l2 = clamp(c2 + (j * s2) / 3, lo2, hi2);
      column(data, Math.exp(l2), v);
      for (let i = -3; i <= 3; i++) {
        const l1 = clamp(c1 + (i * s1) / 3, lo1, hi1);
        const r = solveLinear(local1[i + 3]!, v, data.y, data.w, allowNeg);
        if (r.sse < best.sse) {
          best = { l1, l2, sse: r.sse };
          edge = (Math.abs(i) === 3 && l1 > lo1 && l1 < hi1) || (Math.abs(j) === 3 && l2 > lo2 && l2 < hi2);
        }
      }
    }
    if (!edge) {
      s1 /= 3;
      s2 /= 3;
    }
  }
  const tau1S = Math.exp(best.l1);
  const tau2S = Math.exp(best.l2);

  // final linear solve on the full (finite) data
  const fu = new Float64Array(n);
  const fv = new Float64Array(n);
  const fy = new Float64Array(n);
  for (let i = 0, k = 0; i < y.length; i++) {
    const ti = tS[i]!;
    const yi = y[i]!;
    if (!(Number.isFinite(ti) && Number.isFinite(yi))) continue;
    fu[k] = Math.exp(-(ti - t0) / tau1S);
    fv[k] = Math.exp(-(ti - t0) / tau2S);
    fy[k] = yi;
    k++;
  }
  const lin = solveLinear(fu, fv, fy, null, allowNeg);
  return {
    a1: lin.a1,
    tau1S,
    a2: lin.a2,
    tau2S,
    c: lin.c,
    t0S: t0,
    rmse: Math.sqrt(Math.max(0, lin.sse) / n),
    n,
  };
}

/** Evaluates the fitted trend at tS (NaN time gives NaN). */
export function evaluateBleaching(fit: BleachingFit, tS: Arr, out: Float64Array = new Float64Array(tS.length)): Float64Array {
  for (let i = 0; i < tS.length; i++) {
    const t = tS[i]! - fit.t0S;
    out[i] = fit.a1 * Math.exp(-t / fit.tau1S) + fit.a2 * Math.exp(-t / fit.tau2S) + fit.c;
  }
  return out;
}

export interface DetrendResult {
  fit: BleachingFit;
  trend: Float64Array;
  /** y - trend ('subtract', default) or y / trend ('divide'); NaN preserved */
  detrended: Float64Array;
}

/** Fits and removes the bleaching trend. */
export function detrendBleaching(
  tS: Arr,
  y: Arr,
  options: BleachingOptions & { mode?: 'subtract' | 'divide' } = {},
): DetrendResult {
  const fit = fitBleaching(tS, y, options);
  const trend = evaluateBleaching(fit, tS);
  const detrended = new Float64Array(y.length);
  const divide = options.mode === 'divide';
  for (let i = 0; i < y.length; i++) detrended[i] = divide ? y[i]! / trend[i]! : y[i]! - trend[i]!;
  return { fit, trend, detrended };
}
