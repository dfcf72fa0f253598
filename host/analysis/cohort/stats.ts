// Statistics for comparing groups of animals (`fiberrig cohort`): Student's t distribution,
// means with t confidence intervals, the paired and Welch t-tests with their effect sizes, exact
// rank tests (Wilcoxon signed-rank, Mann–Whitney U), and a confidence interval for a ratio of
// means (Fieller). Pure functions over plain arrays; values that are not finite are dropped
// (pairwise for paired data) and the count used is reported.
//
// The t distribution is computed here rather than taken from a package: the candidates on the
// registry either pull in a couple of hundred small modules for two functions or ship no types;
// the CDF goes through the regularized incomplete beta function (continued fraction) and the
// quantile inverts it by bisection, and both are tested against published table values.

import { finiteMeanSd } from '../stats.ts';
import { CohortError } from './errors.ts';

const finite = (x: readonly number[]): number[] => x.filter((v) => Number.isFinite(v));

// ------------------------------------------------------------------ special functions

// Lanczos approximation, g = 7, nine terms (relative error below 1e-15 for x > 0).
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < 9; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Continued fraction of the incomplete beta function (modified Lentz), valid for x < (a+1)/(a+b+2). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 1000; m++) {
    const m2 = 2 * m;
    // even step
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    // odd step
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-16) break;
  }
  return h;
}

/** Regularized incomplete beta function I_x(a, b), a, b > 0, 0 ≤ x ≤ 1. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0) || !(x >= 0 && x <= 1)) return Number.NaN;
  if (x === 0) return 0;
  if (x === 1) return 1;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(a, b, x)) / a;
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T > t) for t ≥ 0 under Student's t with df degrees of freedom (no cancellation in the far tail). */
function upperTail(t: number, df: number): number {
  return 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** Student's t cumulative distribution function, P(T ≤ t); df > 0 (need not be an integer). */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0) || Number.isNaN(t)) return Number.NaN;
  if (t === Number.POSITIVE_INFINITY) return 1;
  if (t === Number.NEGATIVE_INFINITY) return 0;
  const tail = upperTail(Math.abs(t), df);
  return t >= 0 ? 1 - tail : tail;
}

/** The t with P(T ≤ t) = p under Student's t with df degrees of freedom; 0 < p < 1, df > 0. */
export function studentTQuantile(p: number, df: number): number {
  if (!(df > 0) || !(p > 0 && p < 1)) return Number.NaN;
  if (p === 0.5) return 0;
  const q = Math.min(p, 1 - p); // the upper tail to reach
  let lo = 0;
  let hi = 1;
  while (upperTail(hi, df) > q) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) break;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (upperTail(mid, df) > q) lo = mid;
    else hi = mid;
  }
  const t = 0.5 * (lo + hi);
  return p > 0.5 ? t : -t;
}

/** Two-sided p-value of a t statistic. */
export function twoSidedTP(t: number, df: number): number {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? Number.NaN : 0;
  return Math.min(1, 2 * upperTail(Math.abs(t), df));
}

// ------------------------------------------------------------------ descriptive

export interface MeanCi {
  /** finite values used */
  n: number;
  mean: number;
  /** sample standard deviation (n − 1) */
  sd: number;
  /** standard error of the mean */
  sem: number;
  /** confidence level, e.g. 0.95 */
  level: number;
  /** t interval for the mean; NaN when n < 2 */
  ciLow: number;
  ciHigh: number;
}

function checkLevel(level: number): void {
  if (!(level > 0 && level < 1)) throw new CohortError('E_COHORT_BAD_OPTION', `confidence level must be between 0 and 1; got ${level}`);
}

/** Mean with a t confidence interval (sample SD, n − 1 degrees of freedom). */
export function meanCi(values: readonly number[], level = 0.95): MeanCi {
  checkLevel(level);
  const { mean, sd: populationSd, n } = finiteMeanSd(values);
  const sd = n > 1 ? populationSd * Math.sqrt(n / (n - 1)) : Number.NaN;
  const sem = sd / Math.sqrt(n);
  const half = n > 1 ? studentTQuantile(0.5 + level / 2, n - 1) * sem : Number.NaN;
  return { n, mean, sd, sem, level, ciLow: mean - half, ciHigh: mean + half };
}

/** Finite pairs (a[i], b[i]) of two equally long arrays. */
export function finitePairs(a: readonly number[], b: readonly number[]): { a: number[]; b: number[] } {
  if (a.length !== b.length) throw new CohortError('E_COHORT_BAD_OPTION', `paired data need equally many values in each group; got ${a.length} and ${b.length}`);
  const pa: number[] = [];
  const pb: number[] = [];
  for (let i = 0; i < a.length; i++) {
    if (Number.isFinite(a[i]!) && Number.isFinite(b[i]!)) { pa.push(a[i]!); pb.push(b[i]!); }
  }
  return { a: pa, b: pb };
}

// ------------------------------------------------------------------ t-tests

export interface TTest {
  test: 'paired t' | 'Welch t';
  /** pairs (paired) or values per group (Welch) used */
  n: number | [number, number];
  /** mean of b − a (paired: mean of the differences) */
  meanDifference: number;
  ciLow: number;
  ciHigh: number;
  t: number;
  df: number;
  p: number;
  effectSize: { name: 'Cohen dz' | 'Hedges g'; value: number };
}

/** Paired t-test of b − a (pairs where either value is not finite are dropped); Cohen's dz = mean(d)/sd(d). */
export function pairedTTest(a: readonly number[], b: readonly number[], level = 0.95): TTest {
  const p = finitePairs(a, b);
  const d = p.b.map((v, i) => v - p.a[i]!);
  const m = meanCi(d, level);
  const t = m.mean / m.sem;
  const df = m.n - 1;
  return {
    test: 'paired t', n: m.n, meanDifference: m.mean, ciLow: m.ciLow, ciHigh: m.ciHigh,
    t, df, p: df > 0 ? twoSidedTP(t, df) : Number.NaN,
    effectSize: { name: 'Cohen dz', value: m.mean / m.sd },
  };
}

/** Welch's unequal-variance t-test of mean(b) − mean(a); Hedges' g (pooled SD, small-sample corrected). */
export function welchTTest(a: readonly number[], b: readonly number[], level = 0.95): TTest {
  checkLevel(level);
  const ma = meanCi(a, level);
  const mb = meanCi(b, level);
  const va = ma.sd ** 2 / ma.n;
  const vb = mb.sd ** 2 / mb.n;
  const se = Math.sqrt(va + vb);
  const diff = mb.mean - ma.mean;
  const df = (va + vb) ** 2 / (va ** 2 / (ma.n - 1) + vb ** 2 / (mb.n - 1));
  const t = diff / se;
  const half = studentTQuantile(0.5 + level / 2, df) * se;
  const pooled = Math.sqrt(((ma.n - 1) * ma.sd ** 2 + (mb.n - 1) * mb.sd ** 2) / (ma.n + mb.n - 2));
  const correction = 1 - 3 / (4 * (ma.n + mb.n) - 9);
  return {
    test: 'Welch t', n: [ma.n, mb.n], meanDifference: diff, ciLow: diff - half, ciHigh: diff + half,
    t, df, p: twoSidedTP(t, df),
    effectSize: { name: 'Hedges g', value: (diff / pooled) * correction },
  };
}

// ------------------------------------------------------------------ rank tests (exact)

/** Ranks 1..n of x (ties get the mean of their ranks). */
export function ranks(x: readonly number[]): number[] {
  const order = x.map((_v, i) => i).sort((i, j) => x[i]! - x[j]!);
  const r = new Array<number>(x.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && x[order[j + 1]!] === x[order[i]!]) j++;
    for (let k = i; k <= j; k++) r[order[k]!] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

export interface RankTest {
  test: 'Wilcoxon signed-rank' | 'Mann-Whitney U';
  /** W+ (sum of the ranks of positive differences) or U of group b */
  statistic: number;
  n: number | [number, number];
  /** exact two-sided p (the permutation distribution of the observed ranks, ties included) */
  p: number;
}

/** Largest group sizes for the exact rank tests (the distributions are tabulated by dynamic programming). */
const MAX_EXACT_N = 100;

/**
 * Two-sided p from counts[s] (how many of the equally likely arrangements give the doubled
 * statistic s): the share of arrangements at least as far from the centre as the observed one.
 */
function exactTwoSided(counts: Float64Array, observed2: number): number {
  let total = 0;
  let mean = 0;
  for (let s = 0; s < counts.length; s++) { total += counts[s]!; mean += s * counts[s]!; }
  mean /= total;
  const dev = Math.abs(observed2 - mean) - 1e-9;
  let tail = 0;
  for (let s = 0; s < counts.length; s++) if (Math.abs(s - mean) >= dev) tail += counts[s]!;
  return Math.min(1, tail / total);
}

/** Wilcoxon signed-rank test of b − a, exact (zero differences dropped); null when no pair differs or there are too many. */
export function wilcoxonSignedRank(a: readonly number[], b: readonly number[]): RankTest | null {
  const p = finitePairs(a, b);
  const d = p.b.map((v, i) => v - p.a[i]!).filter((v) => v !== 0);
  const n = d.length;
  if (n === 0 || n > MAX_EXACT_N) return null;
  const r2 = ranks(d.map(Math.abs)).map((r) => Math.round(2 * r)); // doubled ranks are integers
  const max = r2.reduce((s, v) => s + v, 0);
  let counts = new Float64Array(max + 1);
  counts[0] = 1;
  for (const r of r2) {
    const next = new Float64Array(max + 1);
    for (let s = 0; s <= max; s++) {
      if (counts[s] === 0) continue;
      next[s]! += counts[s]!;
      next[s + r]! += counts[s]!;
    }
    counts = next;
  }
  let w2 = 0;
  d.forEach((v, i) => { if (v > 0) w2 += r2[i]!; });
  return { test: 'Wilcoxon signed-rank', statistic: w2 / 2, n, p: exactTwoSided(counts, w2) };
}

/** Mann–Whitney U test (b against a), exact permutation distribution of the observed ranks; null when a group is empty or too large. */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): RankTest | null {
  const xa = finite(a);
  const xb = finite(b);
  const na = xa.length;
  const nb = xb.length;
  if (na === 0 || nb === 0 || na + nb > MAX_EXACT_N) return null;
  const r2 = ranks([...xa, ...xb]).map((r) => Math.round(2 * r));
  const max = r2.reduce((s, v) => s + v, 0);
  // counts[k][s]: subsets of k items whose doubled ranks sum to s
  let counts: Float64Array[] = Array.from({ length: nb + 1 }, () => new Float64Array(max + 1));
  counts[0]![0] = 1;
  for (const r of r2) {
    const next = counts.map((c) => c.slice());
    for (let k = 0; k < nb; k++) {
      const from = counts[k]!;
      const to = next[k + 1]!;
      for (let s = 0; s + r <= max; s++) if (from[s] !== 0) to[s + r]! += from[s]!;
    }
    counts = next;
  }
  let rb2 = 0;
  for (let i = na; i < na + nb; i++) rb2 += r2[i]!;
  const u = rb2 / 2 - (nb * (nb + 1)) / 2;
  return { test: 'Mann-Whitney U', statistic: u, n: [na, nb], p: exactTwoSided(counts[nb]!, rb2) };
}

// ------------------------------------------------------------------ ratio of means

export interface RatioCi {
  /** mean(b) / mean(a) */
  ratio: number;
  /** Fieller interval; ±Infinity when the denominator's mean is not clearly away from 0 */
  ciLow: number;
  ciHigh: number;
  level: number;
  method: string;
  n: number | [number, number];
}

/** Solves A ρ² + B ρ + C ≤ 0 for the Fieller interval. */
function fiellerInterval(A: number, B: number, C: number): [number, number] {
  if (!(A > 0)) return [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
  const disc = B * B - 4 * A * C;
  if (!(disc >= 0)) return [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
  const root = Math.sqrt(disc);
  return [(-B - root) / (2 * A), (-B + root) / (2 * A)];
}

/**
 * Ratio of group means mean(b)/mean(a) with Fieller's confidence interval: the ratios ρ for which
 * a t-test does not reject mean(b − ρ·a) = 0. Paired: on the per-animal b − ρ·a (exact under
 * normality, n − 1 df). Unpaired: with the variances of the two means and the Welch degrees of
 * freedom at the estimate.
 */
export function ratioOfMeans(a: readonly number[], b: readonly number[], paired: boolean, level = 0.95): RatioCi {
  checkLevel(level);
  if (paired) {
    const p = finitePairs(a, b);
    const n = p.a.length;
    const ma = meanCi(p.a).mean;
    const mb = meanCi(p.b).mean;
    let saa = 0; let sbb = 0; let sab = 0;
    for (let i = 0; i < n; i++) {
      saa += (p.a[i]! - ma) ** 2;
      sbb += (p.b[i]! - mb) ** 2;
      sab += (p.a[i]! - ma) * (p.b[i]! - mb);
    }
    saa /= n - 1; sbb /= n - 1; sab /= n - 1;
    const t2 = n > 1 ? studentTQuantile(0.5 + level / 2, n - 1) ** 2 : Number.NaN;
    const [lo, hi] = n > 1
      ? fiellerInterval(ma * ma - (t2 * saa) / n, -2 * (ma * mb - (t2 * sab) / n), mb * mb - (t2 * sbb) / n)
      : [Number.NaN, Number.NaN];
    return { ratio: mb / ma, ciLow: lo, ciHigh: hi, level, method: 'Fieller (paired: t-test of the per-animal b − ρ·a, n − 1 df)', n };
  }
  const A = meanCi(a);
  const B = meanCi(b);
  const ratio = B.mean / A.mean;
  const va = A.sd ** 2 / A.n;
  const vb = B.sd ** 2 / B.n;
  const df = (vb + ratio ** 2 * va) ** 2 / (vb ** 2 / (B.n - 1) + (ratio ** 4 * va ** 2) / (A.n - 1));
  const t2 = studentTQuantile(0.5 + level / 2, df) ** 2;
  const [lo, hi] = A.n > 1 && B.n > 1
    ? fiellerInterval(A.mean ** 2 - t2 * va, -2 * A.mean * B.mean, B.mean ** 2 - t2 * vb)
    : [Number.NaN, Number.NaN];
  return { ratio, ciLow: lo, ciHigh: hi, level, method: 'Fieller (unpaired: variances of the two means, Welch df at the estimate)', n: [A.n, B.n] };
}
