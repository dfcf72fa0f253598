// Cohort statistics against known values: Student's t quantiles from printed tables (and
// SciPy 1.17 to 1e-9 for non-tabulated points), t-tests against SciPy's ttest_rel/ttest_ind on a
// fixed data set, exact rank tests against brute-force enumeration, and confidence-interval
// coverage on seeded synthetic cohorts with a known truth.
import assert from 'node:assert/strict';
import { normalAt } from '../../../../firmware-sim/world/rng.ts';
import { type AnimalResult, compareGroups, pairBySeed, seedOfDeviceUrl } from '../../../../host/analysis/cohort/compare.ts';
import {
  incompleteBeta, logGamma, mannWhitneyU, meanCi, pairedTTest, ranks, ratioOfMeans, studentTCdf, studentTQuantile, welchTTest, wilcoxonSignedRank,
} from '../../../../host/analysis/cohort/stats.ts';

const close = (actual: number, expected: number, relTol: number, what: string): void => {
  assert.ok(Math.abs(actual - expected) <= relTol * Math.abs(expected), `${what}: ${actual} vs ${expected} (rel. tol ${relTol})`);
};

describe('cohort stats: Student t distribution', () => {
  it('two-sided 95 % and 99 % critical values match the printed t table to 4 decimals (df 1, 2, 3, 5, 10, 30, ∞ ≈ 1e6)', () => {
    // [df, t(0.975), t(0.995)] as printed in standard t tables
    const table: Array<[number, number, number]> = [
      [1, 12.7062, 63.6567], [2, 4.3027, 9.9248], [3, 3.1824, 5.8409], [5, 2.5706, 4.0321],
      [10, 2.2281, 3.1693], [30, 2.0423, 2.7500], [1e6, 1.9600, 2.5758],
    ];
    for (const [df, t975, t995] of table) {
      assert.ok(Math.abs(studentTQuantile(0.975, df) - t975) < 6e-5, `df ${df}: ${studentTQuantile(0.975, df)} vs ${t975}`);
      assert.ok(Math.abs(studentTQuantile(0.995, df) - t995) < 6e-5, `df ${df}: ${studentTQuantile(0.995, df)} vs ${t995}`);
      close(studentTQuantile(0.025, df), -studentTQuantile(0.975, df), 1e-12, `symmetry at df ${df}`);
    }
  });

  it('quantiles and CDF agree with SciPy to 1e-9 relative, including non-integer df and the far tail', () => {
    close(studentTQuantile(0.975, 1), 12.706204736174694, 1e-9, 't(0.975, 1)');
    close(studentTQuantile(0.975, 4.7), 2.62072607535317, 1e-9, 't(0.975, 4.7)');
    close(studentTQuantile(0.05, 10), -1.812461122811676, 1e-9, 't(0.05, 10)');
    close(studentTQuantile(1e-8, 3), -479.5250695797382, 1e-9, 't(1e-8, 3)');
    close(studentTCdf(2, 3), 0.9303370157205785, 1e-9, 'F(2; 3)');
    close(studentTCdf(-1.5, 7.5), 0.08724028529323204, 1e-9, 'F(-1.5; 7.5)');
    close(1 - studentTCdf(10, 2), 1 - 0.9950737714883372, 1e-6, '1 - F(10; 2)');
    close(studentTCdf(-40, 5), 9.205981085886477e-8, 1e-9, 'F(-40; 5): the far tail without cancellation');
    assert.equal(studentTQuantile(0.5, 7), 0);
    assert.ok(Number.isNaN(studentTQuantile(1, 7)) && Number.isNaN(studentTQuantile(0.5, 0)));
    for (const df of [1, 2.5, 9, 60]) {
      for (const p of [0.001, 0.2, 0.7, 0.999]) close(studentTCdf(studentTQuantile(p, df), df), p, 1e-10, `F(Q(${p}), ${df})`);
    }
  });

  it('ln Γ and the regularized incomplete beta match reference values to 1e-12 relative', () => {
    close(logGamma(0.3), 1.0957979948180752, 1e-12, 'lnΓ(0.3)');
    close(logGamma(10.5), 13.940625219403763, 1e-12, 'lnΓ(10.5)');
    close(logGamma(100), 359.1342053695754, 1e-12, 'lnΓ(100)');
    close(incompleteBeta(0.3, 2.5, 0.5), 0.018927124071945658, 1e-12, 'I_0.3(2.5, 0.5)');
    close(incompleteBeta(0.45, 30, 40), 0.6447480085585666, 1e-9, 'I_0.45(30, 40)');
  });
});

// a fixed data set (six animals, two conditions) with SciPy 1.17's results
const A = [10.2, 8.1, 12.5, 9.7, 11.3, 7.9];
const B = [5.3, 4.4, 6.0, 5.1, 5.2, 4.3];

describe('cohort stats: t-tests and rank tests', () => {
  it('paired t-test matches scipy.stats.ttest_rel (t, p, CI of the mean difference) and gives Cohen dz', () => {
    const r = pairedTTest(A, B);
    close(r.t, -9.988220208640177, 1e-9, 't');
    assert.equal(r.df, 5);
    close(r.p, 0.00017191653740233605, 1e-8, 'p');
    close(r.ciLow, -6.16107061433448, 1e-9, 'CI low');
    close(r.ciHigh, -3.638929385665519, 1e-9, 'CI high');
    close(r.effectSize.value, -4.077673824953962, 1e-9, 'dz');
  });

  it('Welch t-test matches scipy.stats.ttest_ind(equal_var=False) (t, Welch df, p, CI) and gives Hedges g', () => {
    const r = welchTTest(A, B);
    close(r.t, -6.317105126125037, 1e-9, 't');
    close(r.df, 6.210345731373154, 1e-9, 'df');
    close(r.p, 0.0006421567491951976, 1e-8, 'p');
    close(r.ciLow, -6.782525761822546, 1e-9, 'CI low');
    close(r.ciHigh, -3.017474238177453, 1e-9, 'CI high');
    // Hedges g: (mean B − mean A) / pooled SD × (1 − 3/(4·12 − 9))
    const pooled = Math.sqrt((meanCi(A).sd ** 2 + meanCi(B).sd ** 2) / 2);
    close(r.effectSize.value, (-4.9 / pooled) * (1 - 3 / 39), 1e-9, 'g');
  });

  it('mean CI matches scipy.stats.t.interval; groups with NaN drop those animals (pairs drop both)', () => {
    const m = meanCi([...A, Number.NaN]);
    assert.equal(m.n, 6);
    close(m.ciLow, 8.068317708341091, 1e-12, 'low');
    close(m.ciHigh, 11.831682291658908, 1e-12, 'high');
    const p = pairedTTest([...A, Number.NaN, 3], [...B, 1, Number.NaN]);
    assert.equal(p.n, 6);
    close(p.t, -9.988220208640177, 1e-9, 'paired t with the NaN pairs dropped');
  });

  /** Exact two-sided p by enumerating every arrangement (the definition the DP must reproduce). */
  const bruteSignedRank = (d: number[]): number => {
    const nz = d.filter((v) => v !== 0);
    const r = ranks(nz.map(Math.abs));
    const total = r.reduce((s, v) => s + v, 0);
    const obs = nz.reduce((s, v, i) => s + (v > 0 ? r[i]! : 0), 0);
    let hit = 0;
    for (let mask = 0; mask < 1 << nz.length; mask++) {
      let w = 0;
      for (let i = 0; i < nz.length; i++) if (mask & (1 << i)) w += r[i]!;
      if (Math.abs(w - total / 2) >= Math.abs(obs - total / 2) - 1e-9) hit++;
    }
    return hit / 2 ** nz.length;
  };
  const bruteRankSum = (a: number[], b: number[]): number => {
    const r = ranks([...a, ...b]);
    const all = r.length;
    const nb = b.length;
    const mean = (nb * (all + 1)) / 2;
    const obs = r.slice(a.length).reduce((s, v) => s + v, 0);
    let hit = 0;
    let count = 0;
    for (let mask = 0; mask < 1 << all; mask++) {
      let bits = 0;
      let s = 0;
      for (let i = 0; i < all; i++) if (mask & (1 << i)) { bits++; s += r[i]!; }
      if (bits !== nb) continue;
      count++;
      if (Math.abs(s - mean) >= Math.abs(obs - mean) - 1e-9) hit++;
    }
    return hit / count;
  };

  it('exact Wilcoxon signed-rank and Mann–Whitney U p-values equal brute-force enumeration, with ties and zero differences', () => {
    const w = wilcoxonSignedRank(A, B)!;
    close(w.p, 0.03125, 1e-12, 'Wilcoxon p (SciPy: 0.03125)');
    const u = mannWhitneyU(A, B)!;
    close(u.p, 0.0021645021645021645, 1e-12, 'Mann–Whitney p (SciPy exact: 0.0021645)');
    const d = [0.5, -1.2, 2.0, 2.0, -0.5, 3.1, 1.1, 0, -0.4];
    const zero = d.map(() => 0);
    close(wilcoxonSignedRank(zero, d)!.p, bruteSignedRank(d), 1e-12, 'signed-rank with ties and a zero');
    const a = [1, 2, 3, 4, 5];
    const b = [1.5, 2.5, 2.5, 6, 7, 8, 3];
    close(mannWhitneyU(a, b)!.p, bruteRankSum(a, b), 1e-12, 'rank sum with ties');
    assert.equal(mannWhitneyU(a, b)!.statistic, b.reduce((s, y) => s + a.reduce((t, x) => t + (y > x ? 1 : y === x ? 0.5 : 0), 0), 0), 'U counts b over a');
    assert.equal(wilcoxonSignedRank([1, 2], [1, 2]), null, 'no difference: no test');
  });
});

/** A seeded standard normal stream. */
const normals = (key: number): (() => number) => {
  let c = 0;
  return () => normalAt(key, c++);
};

describe('cohort stats: confidence-interval coverage on seeded synthetic cohorts (2000 cohorts each; 95 % nominal, accepted 93–97 %)', () => {
  const REPS = 2000;
  const inRange = (hits: number, what: string): void => {
    const coverage = hits / REPS;
    assert.ok(coverage >= 0.93 && coverage <= 0.97, `${what}: coverage ${coverage}`);
  };

  it('mean CI (n = 5) and Welch CI of a difference (n = 4 vs 7, unequal SDs) cover the true values', () => {
    const z = normals(1601);
    let meanHits = 0;
    let welchHits = 0;
    for (let r = 0; r < REPS; r++) {
      const x = Array.from({ length: 5 }, () => 3 + 2 * z());
      const m = meanCi(x);
      if (m.ciLow <= 3 && 3 <= m.ciHigh) meanHits++;
      const a = Array.from({ length: 4 }, () => 10 + 0.5 * z());
      const b = Array.from({ length: 7 }, () => 12 + 3 * z());
      const w = welchTTest(a, b);
      if (w.ciLow <= 2 && 2 <= w.ciHigh) welchHits++;
    }
    inRange(meanHits, 'mean CI');
    inRange(welchHits, 'Welch CI');
  });

  it('ratio of means (Fieller): paired animals with a shared level (n = 6) and independent groups (6 vs 6) cover the true ratio 0.5', () => {
    const z = normals(1602);
    let pairedHits = 0;
    let unpairedHits = 0;
    let pairedWidth = 0;
    let unpairedWidth = 0;
    for (let r = 0; r < REPS; r++) {
      // each animal has its own level (SD 2 around 10); the drug scales it by 0.5, plus measurement noise
      const level = Array.from({ length: 6 }, () => 10 + 2 * z());
      const a = level.map((l) => l + 0.5 * z());
      const b = level.map((l) => 0.5 * l + 0.5 * z());
      const p = ratioOfMeans(a, b, true);
      if (p.ciLow <= 0.5 && 0.5 <= p.ciHigh) pairedHits++;
      pairedWidth += p.ciHigh - p.ciLow;
      const a2 = Array.from({ length: 6 }, () => 10 + 2 * z());
      const b2 = Array.from({ length: 6 }, () => 5 + 1 * z());
      const u = ratioOfMeans(a2, b2, false);
      if (u.ciLow <= 0.5 && 0.5 <= u.ciHigh) unpairedHits++;
      unpairedWidth += u.ciHigh - u.ciLow;
    }
    inRange(pairedHits, 'paired Fieller');
    inRange(unpairedHits, 'unpaired Fieller');
    assert.ok(pairedWidth < unpairedWidth / 2, `pairing narrows the interval: mean width ${pairedWidth / REPS} vs ${unpairedWidth / REPS}`);
  });

  it('Fieller is unbounded when the reference mean is not clearly away from 0', () => {
    const r = ratioOfMeans([1, -1, 0.5, -0.4], [1, 2, 1, 2], false);
    assert.equal(r.ciLow, Number.NEGATIVE_INFINITY);
    assert.equal(r.ciHigh, Number.POSITIVE_INFINITY);
  });
});

describe('cohort comparison: paired when the seeds pair, unpaired otherwise', () => {
  const animal = (group: string, seed: number | null, amplitude: number): AnimalResult => ({
    group, id: `${group}-${seed}`, recording: `r/${group}-${seed}`, seed,
    metrics: { neCycleAmplitudePct: amplitude, neBandPowerPct2: amplitude ** 2, nePeakFrequencyHz: 0.02, maRatePerH: 30 },
    details: { durationS: 3600, nremS: 2000, microArousals: 16, bouts: 4, analysedS: 1500, neBloodVolumeR: -0.8, neBloodVolumeLagS: 3 },
    unavailable: [],
  });

  it('reads the seed of a sim:// device URL', () => {
    assert.equal(seedOfDeviceUrl('sim://zolpidem?seed=17&speed=max'), 17);
    assert.equal(seedOfDeviceUrl('sim://sleep?speed=max&seed=3'), 3);
    assert.equal(seedOfDeviceUrl('/dev/ttyACM0'), null);
    assert.equal(seedOfDeviceUrl(undefined), null);
  });

  it('same seeds in both groups: paired t and Wilcoxon, pairs in seed order; a consistent effect under large between-animal spread is clearer paired than unpaired', () => {
    const levels = [4, 9, 6, 12, 7, 10];
    const ratios = [0.52, 0.47, 0.55, 0.49, 0.5, 0.46];
    const sleep = levels.map((l, k) => animal('sleep', 100 + k, l));
    const zol = levels.map((l, k) => animal('zolpidem', 100 + k, l * ratios[k]!)).reverse();
    const paired = compareGroups([{ name: 'sleep', animals: sleep }, { name: 'zolpidem', animals: zol }]);
    const c = paired.comparisons[0]!;
    assert.equal(c.design, 'paired');
    assert.deepEqual(c.pairs.map((p) => p.seed), [100, 101, 102, 103, 104, 105]);
    const amp = c.metrics.find((m) => m.metric === 'neCycleAmplitudePct')!;
    assert.equal(amp.test.test, 'paired t');
    assert.equal(amp.rankTest?.test, 'Wilcoxon signed-rank');
    assert.ok(amp.perAnimalRatio && Math.abs(amp.perAnimalRatio.mean - ratios.reduce((s, v) => s + v, 0) / 6) < 1e-12);
    const unpaired = compareGroups([{ name: 'sleep', animals: sleep }, { name: 'zolpidem', animals: zol }], { pairing: 'unpaired' });
    const uamp = unpaired.comparisons[0]!.metrics.find((m) => m.metric === 'neCycleAmplitudePct')!;
    assert.equal(uamp.test.test, 'Welch t');
    assert.equal(uamp.rankTest?.test, 'Mann-Whitney U');
    close(uamp.ratio.ratio, amp.ratio.ratio, 1e-12, 'the ratio of means does not depend on the design');
    assert.ok(amp.test.p < uamp.test.p / 5, `paired p ${amp.test.p} vs Welch p ${uamp.test.p}`);
    assert.ok(amp.ratio.ciHigh - amp.ratio.ciLow < uamp.ratio.ciHigh - uamp.ratio.ciLow);
  });

  it('different seeds, a repeated seed, or recordings without seeds: unpaired, with the reason', () => {
    const s = [animal('sleep', 1, 8), animal('sleep', 2, 9)];
    assert.match(pairBySeed(s, [animal('z', 1, 4), animal('z', 3, 5)]).reason, /different seeds/);
    assert.match(pairBySeed(s, [animal('z', 1, 4), animal('z', 1, 5)]).reason, /twice/);
    assert.match(pairBySeed(s, [animal('z', null, 4), animal('z', 2, 5)]).reason, /not every recording/);
    const c = compareGroups([{ name: 'sleep', animals: s }, { name: 'z', animals: [animal('z', 5, 4), animal('z', 6, 5)] }]).comparisons[0]!;
    assert.equal(c.design, 'unpaired');
    assert.equal(c.metrics[0]!.test.test, 'Welch t');
  });
});
