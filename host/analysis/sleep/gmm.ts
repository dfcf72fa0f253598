// A Gaussian mixture with full covariances fitted by expectation-maximisation, for a few
// dimensions (sleep scoring uses 2). Initial means are given by the caller (rules), so the
// fit is deterministic and components keep their meaning.

export interface GaussianMixture {
  /** Mixing weights, one per component (sum 1). */
  weights: number[];
  /** Means, [component][dimension]. */
  means: number[][];
  /** Covariances, [component][row][column]. */
  covariances: number[][][];
  /** Log-likelihood of the data at the end (natural log, summed over points). */
  logLikelihood: number;
  iterations: number;
}

/** Cholesky factor L (lower) of a symmetric positive-definite matrix; null when not positive definite. */
function cholesky(a: number[][]): number[][] | null {
  const d = a.length;
  const l = a.map(() => new Array<number>(d).fill(0));
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i]![j]!;
      for (let k = 0; k < j; k++) s -= l[i]![k]! * l[j]![k]!;
      if (i === j) {
        if (!(s > 0)) return null;
        l[i]![i] = Math.sqrt(s);
      } else {
        l[i]![j] = s / l[j]![j]!;
      }
    }
  }
  return l;
}

/** log N(x; mean, L Lᵀ). */
function logGauss(x: ArrayLike<number>, mean: number[], l: number[][]): number {
  const d = mean.length;
  const z = new Array<number>(d);
  let logDet = 0;
  let q = 0;
  for (let i = 0; i < d; i++) {
    let s = x[i]! - mean[i]!;
    for (let k = 0; k < i; k++) s -= l[i]![k]! * z[k]!;
    z[i] = s / l[i]![i]!;
    q += z[i]! * z[i]!;
    logDet += Math.log(l[i]![i]!);
  }
  return -0.5 * q - logDet - 0.5 * d * Math.log(2 * Math.PI);
}

/**
 * Fits a mixture to `points` (n rows of d values) starting from `initialMeans`, each component
 * starting with the data's covariance / k². `regularization` (fraction of each dimension's variance)
 * is added to every covariance diagonal so no component collapses.
 */
export function fitGaussianMixture(
  points: ReadonlyArray<ArrayLike<number>>,
  initialMeans: number[][],
  options: { maxIterations?: number; tolerance?: number; regularization?: number } = {},
): GaussianMixture {
  const n = points.length;
  const k = initialMeans.length;
  const d = initialMeans[0]!.length;
  const maxIt = options.maxIterations ?? 200;
  const tol = options.tolerance ?? 1e-7;
  const reg = options.regularization ?? 1e-3;
  const gMean = new Array<number>(d).fill(0);
  for (const p of points) for (let j = 0; j < d; j++) gMean[j]! += p[j]! / n;
  const gVar = new Array<number>(d).fill(0);
  for (const p of points) for (let j = 0; j < d; j++) gVar[j]! += (p[j]! - gMean[j]!) ** 2 / n;
  const floor = gVar.map((v) => Math.max(v * reg, 1e-12));
  const means = initialMeans.map((m) => [...m]);
  const covs = means.map(() => gVar.map((_, i) => gVar.map((v, j) => (i === j ? Math.max(v / (k * k), floor[i]!) : 0))));
  const weights = new Array<number>(k).fill(1 / k);
  const resp = new Float64Array(n * k);
  let prevLl = -Infinity;
  let ll = -Infinity;
  let it = 0;
  for (; it < maxIt; it++) {
    // E step
    const ls = covs.map((c) => cholesky(c));
    ll = 0;
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let c = 0; c < k; c++) {
        const v = weights[c]! > 0 && ls[c] ? Math.log(weights[c]!) + logGauss(points[i]!, means[c]!, ls[c]!) : -Infinity;
        resp[i * k + c] = v;
        if (v > max) max = v;
      }
      let sum = 0;
      for (let c = 0; c < k; c++) sum += Math.exp(resp[i * k + c]! - max);
      for (let c = 0; c < k; c++) resp[i * k + c] = Math.exp(resp[i * k + c]! - max) / sum;
      ll += max + Math.log(sum);
    }
    // M step
    for (let c = 0; c < k; c++) {
      let nk = 0;
      const m = new Array<number>(d).fill(0);
      for (let i = 0; i < n; i++) {
        const r = resp[i * k + c]!;
        nk += r;
        for (let j = 0; j < d; j++) m[j]! += r * points[i]![j]!;
      }
      weights[c] = nk / n;
      if (nk < 1e-9) continue;
      for (let j = 0; j < d; j++) m[j]! /= nk;
      const cov = m.map(() => new Array<number>(d).fill(0));
      for (let i = 0; i < n; i++) {
        const r = resp[i * k + c]!;
        for (let a = 0; a < d; a++) {
          const da = points[i]![a]! - m[a]!;
          for (let b = 0; b <= a; b++) cov[a]![b]! += (r * da * (points[i]![b]! - m[b]!)) / nk;
        }
      }
      for (let a = 0; a < d; a++) {
        for (let b = 0; b < a; b++) cov[b]![a] = cov[a]![b]!;
        cov[a]![a]! += floor[a]!;
      }
      means[c] = m;
      covs[c] = cov;
    }
    if (Math.abs(ll - prevLl) <= tol * Math.abs(ll)) break;
    prevLl = ll;
  }
  return { weights, means, covariances: covs, logLikelihood: ll, iterations: it + 1 };
}

/** Posterior probability of each component for one point. */
export function mixturePosterior(model: GaussianMixture, x: ArrayLike<number>): number[] {
  const lp = model.means.map((m, c) => {
    const l = cholesky(model.covariances[c]!);
    return model.weights[c]! > 0 && l ? Math.log(model.weights[c]!) + logGauss(x, m, l) : -Infinity;
  });
  const max = Math.max(...lp);
  const e = lp.map((v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
