// Fitting an LED's power-vs-current curve: a monotone model with a threshold
// and a droop (efficiency falling with current),
//
//   P(I) = s * x * (1 - d * x),   x = max(I - Ith, 0)
//
// fitted by weighted least squares with bounds (s >= 0, d >= 0, Ith in
// [0, 0.95 * Imax], and d small enough that P rises over the whole calibrated
// range: d <= 1 / (2 * (Imax - Ith))). For a fixed Ith the model is linear in
// (a = s, b = -s d), so the fit is a 1-D search over Ith with a constrained
// 2-parameter linear solve inside. Weights make the residuals relative (what
// matters for the science), with a floor at 2 % of the largest power so
// readings near threshold do not dominate.
//
// Bad points (a mistyped reading, a bumped fiber) are found one at a time: the
// worst relative residual beyond max(5 robust sigma, outlierRelative) is
// excluded and the curve refitted, while enough points remain. The fit is
// "poor" (refused unless forced) when R^2 or the largest relative residual of
// the kept points is out of bounds, too many points were excluded, or the
// threshold ran into its bound.
import { CalibrationError } from './errors.ts';

export interface LedModel {
  thresholdMa: number;
  slopeUwPerMa: number;
  droopPerMa: number;
}

export interface FitPoint {
  currentMa: number;
  powerUw: number;
}

export interface FitResidual {
  currentMa: number;
  powerUw: number;
  fitUw: number;
  residualUw: number;
  /** residual / max(fit, floor) */
  relative: number;
  /** Excluded from the fit as a bad point. */
  outlier: boolean;
}

export interface FitOptions {
  /** A point is bad when its relative residual exceeds max(5 robust sigma, this). Default 0.02. */
  outlierRelative?: number;
  /** Poor fit below this R^2 (kept points). Default 0.999. */
  minR2?: number;
  /** Poor fit above this largest relative residual of kept points carrying >= 5 % of full power. Default 0.03. */
  maxRelative?: number;
  /** Poor fit when more than this fraction of points is excluded. Default 0.2. */
  maxOutlierFraction?: number;
}

export interface FitResult {
  model: LedModel;
  residuals: FitResidual[];
  /** Coefficient of determination over the kept points. */
  r2: number;
  /** RMS and largest |relative residual| over kept points carrying >= 5 % of full power. */
  rmsRelative: number;
  maxRelative: number;
  /** Indices (into the input) of points excluded as bad. */
  outliers: number[];
  poor: boolean;
  /** Why the fit is poor (empty when it is not). */
  reasons: string[];
  /** Current range of the kept points, mA: the calibrated range. */
  rangeMa: { minMa: number; maxMa: number };
}

/** Model power at a current, µW. */
export function modelPowerUw(m: LedModel, currentMa: number): number {
  const x = currentMa - m.thresholdMa;
  if (!(x > 0)) return 0;
  return m.slopeUwPerMa * x * (1 - m.droopPerMa * x);
}

interface Solve {
  a: number;
  b: number;
  sse: number;
}

/** Constrained weighted LS of P ~ a x + b x^2 with a >= 0, b <= 0, a + 2 b X >= 0. */
function solveAt(ith: number, I: Float64Array, P: Float64Array, W: Float64Array, xMax: number): Solve {
  const n = I.length;
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.max(I[i]! - ith, 0);
  const sse = (a: number, b: number): number => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const r = P[i]! - (a * x[i]! + b * x[i]! * x[i]!);
      s += W[i]! * r * r;
    }
    return s;
  };
  const candidates: Array<[number, number]> = [];
  // unconstrained
  let s11 = 0;
  let s12 = 0;
  let s22 = 0;
  let t1 = 0;
  let t2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i]!;
    const x2 = xi * xi;
    const w = W[i]!;
    s11 += w * xi * xi;
    s12 += w * xi * x2;
    s22 += w * x2 * x2;
    t1 += w * xi * P[i]!;
    t2 += w * x2 * P[i]!;
  }
  const det = s11 * s22 - s12 * s12;
  if (det > 1e-12 * s11 * s22) {
    const a = (t1 * s22 - t2 * s12) / det;
    const b = (s11 * t2 - s12 * t1) / det;
    if (a >= 0 && b <= 0 && a + 2 * b * xMax >= 0) candidates.push([a, b]);
  }
  // boundary b = 0 (no droop)
  if (s11 > 0) candidates.push([Math.max(0, t1 / s11), 0]);
  // boundary: the curve just flattens at the top of the range (b = -a / (2 X))
  if (xMax > 0) {
    let sg = 0;
    let tg = 0;
    for (let i = 0; i < n; i++) {
      const g = x[i]! - (x[i]! * x[i]!) / (2 * xMax);
      sg += W[i]! * g * g;
      tg += W[i]! * g * P[i]!;
    }
    if (sg > 0) {
      const a = Math.max(0, tg / sg);
      candidates.push([a, -a / (2 * xMax)]);
    }
  }
  let best: Solve = { a: 0, b: 0, sse: sse(0, 0) };
  for (const [a, b] of candidates) {
    const e = sse(a, b);
    if (e < best.sse) best = { a, b, sse: e };
  }
  return best;
}

function fitModel(points: readonly FitPoint[]): { model: LedModel; atBound: boolean } {
  const n = points.length;
  const I = Float64Array.from(points, (p) => p.currentMa);
  const P = Float64Array.from(points, (p) => p.powerUw);
  let pMax = 0;
  let iMax = 0;
  for (let i = 0; i < n; i++) {
    pMax = Math.max(pMax, P[i]!);
    iMax = Math.max(iMax, I[i]!);
  }
  const floor = Math.max(0.02 * pMax, 1e-9);
  const W = Float64Array.from(P, (p) => 1 / Math.max(Math.abs(p), floor) ** 2);
  const hi = 0.95 * iMax;
  const at = (ith: number): Solve => solveAt(ith, I, P, W, Math.max(iMax - ith, 1e-9));
  const steps = 400;
  let bestK = 0;
  let bestE = Number.POSITIVE_INFINITY;
  for (let k = 0; k <= steps; k++) {
    const e = at((hi * k) / steps).sse;
    if (e < bestE) {
      bestE = e;
      bestK = k;
    }
  }
  // golden-section refinement around the best grid cell
  let lo = (hi * Math.max(0, bestK - 1)) / steps;
  let up = (hi * Math.min(steps, bestK + 1)) / steps;
  const g = (Math.sqrt(5) - 1) / 2;
  let c = up - g * (up - lo);
  let d = lo + g * (up - lo);
  let fc = at(c).sse;
  let fd = at(d).sse;
  for (let it = 0; it < 60 && up - lo > 1e-9 * Math.max(1, hi); it++) {
    if (fc <= fd) {
      up = d;
      d = c;
      fd = fc;
      c = up - g * (up - lo);
      fc = at(c).sse;
    } else {
      lo = c;
      c = d;
      fc = fd;
      d = lo + g * (up - lo);
      fd = at(d).sse;
    }
  }
  let ith = (lo + up) / 2;
  if (at(ith).sse > bestE) ith = (hi * bestK) / steps;
  const s = at(ith);
  return {
    model: { thresholdMa: ith, slopeUwPerMa: s.a, droopPerMa: s.a > 0 ? -s.b / s.a : 0 },
    atBound: ith >= hi * (1 - 1e-6),
  };
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return 0;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** Fits the model to measured points, excluding bad points, and grades the fit. */
export function fitLedCurve(points: readonly FitPoint[], options: FitOptions = {}): FitResult {
  const outlierRelative = options.outlierRelative ?? 0.02;
  const minR2 = options.minR2 ?? 0.999;
  const maxRelativeAllowed = options.maxRelative ?? 0.03;
  const maxOutlierFraction = options.maxOutlierFraction ?? 0.2;
  if (points.length < 4) throw new CalibrationError('E_CALIBRATION_POINTS', `${points.length} points cannot be fitted`, 'measure at least 4 points (--points)');
  for (const p of points) {
    if (!(Number.isFinite(p.currentMa) && Number.isFinite(p.powerUw))) throw new CalibrationError('E_CALIBRATION_POINTS', `point ${p.currentMa} mA, ${p.powerUw} µW is not finite`, 'remeasure it');
  }
  const pMax = Math.max(...points.map((p) => p.powerUw));
  if (!(pMax > 0)) throw new CalibrationError('E_NO_LIGHT', 'the meter saw no light at any current', 'check that the fiber is on the meter, the LED is connected, and the meter wavelength is set');
  const floor = 0.02 * pMax;
  const excluded = new Set<number>();
  const maxExcluded = Math.floor(points.length * 0.5);
  let fit = fitModel(points);
  for (;;) {
    const kept = points.map((_, i) => i).filter((i) => !excluded.has(i));
    if (kept.length <= 4 || excluded.size >= maxExcluded) break;
    const rel = kept.map((i) => {
      const p = points[i]!;
      const f = modelPowerUw(fit.model, p.currentMa);
      return (p.powerUw - f) / Math.max(f, floor);
    });
    const sigma = 1.4826 * median(rel.map((r) => Math.abs(r)));
    const limit = Math.max(5 * sigma, outlierRelative);
    let worst = -1;
    let worstAbs = limit;
    rel.forEach((r, j) => {
      if (Math.abs(r) > worstAbs) {
        worstAbs = Math.abs(r);
        worst = kept[j]!;
      }
    });
    if (worst < 0) break;
    excluded.add(worst);
    fit = fitModel(points.filter((_, i) => !excluded.has(i)));
  }
  const model = fit.model;
  const residuals: FitResidual[] = points.map((p, i) => {
    const f = modelPowerUw(model, p.currentMa);
    return { currentMa: p.currentMa, powerUw: p.powerUw, fitUw: f, residualUw: p.powerUw - f, relative: (p.powerUw - f) / Math.max(f, floor), outlier: excluded.has(i) };
  });
  const kept = residuals.filter((r) => !r.outlier);
  const mean = kept.reduce((s, r) => s + r.powerUw, 0) / kept.length;
  const ssRes = kept.reduce((s, r) => s + r.residualUw ** 2, 0);
  const ssTot = kept.reduce((s, r) => s + (r.powerUw - mean) ** 2, 0);
  const r2 = ssTot > 0 ? 1 - ssRes / ssTot : 0;
  const graded = kept.filter((r) => r.fitUw >= 0.05 * pMax);
  const rmsRelative = graded.length ? Math.sqrt(graded.reduce((s, r) => s + r.relative ** 2, 0) / graded.length) : 0;
  const maxRelative = graded.reduce((m, r) => Math.max(m, Math.abs(r.relative)), 0);
  const reasons: string[] = [];
  if (r2 < minR2) reasons.push(`R² ${r2.toFixed(5)} < ${minR2}`);
  if (maxRelative > maxRelativeAllowed) reasons.push(`largest residual ${(maxRelative * 100).toFixed(2)} % > ${(maxRelativeAllowed * 100).toFixed(1)} %`);
  if (excluded.size > maxOutlierFraction * points.length) reasons.push(`${excluded.size} of ${points.length} points excluded as bad`);
  if (fit.atBound) reasons.push('threshold current at its bound (no light over most of the range?)');
  if (!(model.slopeUwPerMa > 0)) reasons.push('no rise of power with current');
  const keptCurrents = kept.map((r) => r.currentMa);
  return {
    model, residuals, r2, rmsRelative, maxRelative, outliers: [...excluded].sort((a, b) => a - b), poor: reasons.length > 0, reasons,
    rangeMa: { minMa: Math.min(...keptCurrents), maxMa: Math.max(...keptCurrents) },
  };
}

/**
 * The table the device stores: the fitted model sampled at `count` currents
 * spread evenly over the calibrated range (from the threshold when the lowest
 * kept point lies below it), so the device's piecewise-linear interpolation
 * follows the smooth fit rather than the noise of single readings.
 */
export function tableFromModel(model: LedModel, rangeMa: { minMa: number; maxMa: number }, count = 16): Array<{ currentMa: number; powerUw: number }> {
  const lo = Math.max(rangeMa.minMa, model.thresholdMa);
  const hi = rangeMa.maxMa;
  if (!(hi > lo)) throw new CalibrationError('E_CALIBRATION_RANGE', `calibrated range ${lo}..${hi} mA is empty`, 'measure points above the LED threshold');
  const out: Array<{ currentMa: number; powerUw: number }> = [];
  let lastMa = Number.NEGATIVE_INFINITY;
  let lastUw = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < count; k++) {
    const ma = Math.fround(lo + ((hi - lo) * k) / (count - 1));
    if (!(ma > lastMa)) continue;
    const uw = Math.max(Math.fround(modelPowerUw(model, ma)), lastUw);
    out.push({ currentMa: ma, powerUw: uw });
    lastMa = ma;
    lastUw = uw;
  }
  return out;
}
