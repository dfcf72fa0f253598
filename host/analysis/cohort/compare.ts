// Per-animal figures from one recording's analysis, and the comparison of groups of animals:
// group means with t confidence intervals, the ratio of group means (Fieller), a t-test with its
// effect size and an exact rank test, per headline metric. Pure functions.
import { sleepSummary } from '../analyze/summary.ts';
import type { RecordingAnalysis } from '../analyze/types.ts';
import { CohortError } from './errors.ts';
import {
  type MeanCi, mannWhitneyU, meanCi, pairedTTest, type RankTest, type RatioCi, ratioOfMeans, type TTest, welchTTest, wilcoxonSignedRank,
} from './stats.ts';

/** The headline figures compared between groups, per animal. */
export const METRICS = [
  { key: 'neCycleAmplitudePct', label: 'NE cycle amplitude', unit: '% ΔF/F' },
  { key: 'neBandPowerPct2', label: 'NE band power < 0.03 Hz', unit: '%²' },
  { key: 'nePeakFrequencyHz', label: 'NE peak frequency', unit: 'Hz' },
  { key: 'maRatePerH', label: 'micro-arousal rate', unit: 'per h of NREM' },
] as const;

export type MetricKey = (typeof METRICS)[number]['key'];
export type AnimalMetrics = Record<MetricKey, number>;

/** Further per-animal figures written to the table (not compared). */
export interface AnimalDetails {
  durationS: number;
  nremS: number;
  microArousals: number;
  bouts: number;
  analysedS: number;
  neBloodVolumeR: number;
  neBloodVolumeLagS: number;
}

export interface AnimalResult {
  group: string;
  /** unique within the cohort, e.g. "zolpidem-03" */
  id: string;
  recording: string;
  /** the simulated world's seed (from the recording's device URL), null for other recordings */
  seed: number | null;
  metrics: AnimalMetrics;
  details: AnimalDetails;
  /** what the analysis could not compute (from RecordingAnalysis.unavailable) */
  unavailable: string[];
  /** CPU time of the recording stage in the animal's worker thread, s (simulated animals on Linux; else null) */
  recordCpuS?: number | null;
  /** CPU time of the recording's raw log I/O thread (its writes included), s (simulated animals on Linux; else null) */
  rawLogCpuS?: number | null;
  /** CPU time of the analysis stage in the animal's worker thread, s (on Linux; else null) */
  analyseCpuS?: number | null;
}

export interface AnimalFailure {
  group: string;
  id: string;
  recording: string;
  seed: number | null;
  code: string;
  message: string;
}

/** Per-animal headline figures of one analysed recording (NaN where the analysis could not compute one). */
export function animalFigures(analysis: RecordingAnalysis): { metrics: AnimalMetrics; details: AnimalDetails; unavailable: string[] } {
  const s = analysis.oscillation?.summary;
  const sleep = sleepSummary(analysis);
  const nremS = sleep?.timeS.nrem ?? Number.NaN;
  const microArousals = sleep?.microArousals ?? Number.NaN;
  return {
    metrics: {
      neCycleAmplitudePct: s?.cycleAmplitudePct ?? Number.NaN,
      neBandPowerPct2: s?.bandPowerPct2 ?? Number.NaN,
      nePeakFrequencyHz: s?.peakFrequencyHz ?? Number.NaN,
      maRatePerH: sleep?.microArousalsPerNremHour ?? Number.NaN,
    },
    details: {
      durationS: analysis.durationS,
      nremS,
      microArousals,
      bouts: s?.bouts ?? 0,
      analysedS: s?.analysedS ?? 0,
      neBloodVolumeR: s?.neBloodVolumeR ?? Number.NaN,
      neBloodVolumeLagS: s?.neBloodVolumeLagS ?? Number.NaN,
    },
    unavailable: analysis.unavailable.map((u) => `${u.part}: ${u.reason}`),
  };
}

/** The seed of a `sim://SCENARIO?seed=S…` device URL (null for anything else). */
export function seedOfDeviceUrl(url: string | null | undefined): number | null {
  if (!url?.startsWith('sim://')) return null;
  const m = /[?&]seed=(\d+)/.exec(url);
  return m ? Number(m[1]) : null;
}

export interface GroupSummary {
  name: string;
  animals: number;
  failed: number;
  metrics: Record<MetricKey, MeanCi>;
}

export interface MetricComparison {
  metric: MetricKey;
  label: string;
  unit: string;
  /** mean(group)/mean(reference) with its CI */
  ratio: RatioCi;
  /** paired designs: the mean of the per-animal ratios with its t interval */
  perAnimalRatio: MeanCi | null;
  test: TTest;
  rankTest: RankTest | null;
}

export interface GroupComparison {
  reference: string;
  group: string;
  design: 'paired' | 'unpaired';
  /** why the design was chosen, in words */
  pairing: string;
  /** paired: the animals compared, by seed */
  pairs: Array<{ seed: number; reference: string; group: string }>;
  metrics: MetricComparison[];
}

export type Pairing = 'auto' | 'unpaired';

/**
 * Pairs the animals of two groups by seed when every animal of both has a seed and the seed sets
 * are the same (one animal per seed): the simulated scenarios share hypnogram and NE cycle timing
 * for a given seed, so animal k under sleep and under zolpidem is one subject in two conditions.
 */
export function pairBySeed(reference: readonly AnimalResult[], group: readonly AnimalResult[]): { pairs: Array<[AnimalResult, AnimalResult]> | null; reason: string } {
  if (reference.length === 0 || group.length === 0) return { pairs: null, reason: 'a group has no analysed animal' };
  if ([...reference, ...group].some((a) => a.seed === null)) return { pairs: null, reason: 'not every recording is a seeded simulation: groups are independent' };
  const bySeed = (list: readonly AnimalResult[]): Map<number, AnimalResult> | null => {
    const m = new Map<number, AnimalResult>();
    for (const a of list) {
      if (m.has(a.seed!)) return null;
      m.set(a.seed!, a);
    }
    return m;
  };
  const r = bySeed(reference);
  const g = bySeed(group);
  if (!r || !g) return { pairs: null, reason: 'a seed occurs twice in one group: animals cannot be paired' };
  if (r.size !== g.size || [...r.keys()].some((s) => !g.has(s))) return { pairs: null, reason: 'the groups hold different seeds: animals cannot be paired' };
  const seeds = [...r.keys()].sort((x, y) => x - y);
  return { pairs: seeds.map((s) => [r.get(s)!, g.get(s)!]), reason: 'paired by seed: each seed is one simulated animal (same hypnogram and NE cycle timing) in both conditions' };
}

function summarise(name: string, animals: readonly AnimalResult[], failed: number, level: number): GroupSummary {
  const metrics = {} as Record<MetricKey, MeanCi>;
  for (const m of METRICS) metrics[m.key] = meanCi(animals.map((a) => a.metrics[m.key]), level);
  return { name, animals: animals.length, failed, metrics };
}

export interface CohortComparison {
  level: number;
  groups: GroupSummary[];
  comparisons: GroupComparison[];
}

/**
 * Compares every group with the first (the reference): per headline metric the ratio of group
 * means (Fieller CI), a paired t-test (Cohen's dz) and Wilcoxon signed-rank when the animals pair
 * by seed, Welch's t-test (Hedges' g) and Mann–Whitney U otherwise.
 */
export function compareGroups(
  groups: ReadonlyArray<{ name: string; animals: readonly AnimalResult[]; failed?: number }>,
  options: { pairing?: Pairing; level?: number } = {},
): CohortComparison {
  const level = options.level ?? 0.95;
  if (groups.length < 2) throw new CohortError('E_COHORT_BAD_OPTION', `a cohort comparison needs at least two groups; got ${groups.length}`, 'name two conditions (--simulate sleep,zolpidem) or two --group options');
  const ref = groups[0]!;
  const comparisons: GroupComparison[] = [];
  for (const grp of groups.slice(1)) {
    const paired = options.pairing === 'unpaired'
      ? { pairs: null, reason: 'unpaired by request (--unpaired)' }
      : pairBySeed(ref.animals, grp.animals);
    const metrics: MetricComparison[] = METRICS.map((m) => {
      if (paired.pairs) {
        const a = paired.pairs.map(([x]) => x.metrics[m.key]);
        const b = paired.pairs.map(([, y]) => y.metrics[m.key]);
        return {
          metric: m.key, label: m.label, unit: m.unit,
          ratio: ratioOfMeans(a, b, true, level),
          perAnimalRatio: meanCi(b.map((v, i) => v / a[i]!), level),
          test: pairedTTest(a, b, level),
          rankTest: wilcoxonSignedRank(a, b),
        };
      }
      const a = ref.animals.map((x) => x.metrics[m.key]);
      const b = grp.animals.map((x) => x.metrics[m.key]);
      return {
        metric: m.key, label: m.label, unit: m.unit,
        ratio: ratioOfMeans(a, b, false, level),
        perAnimalRatio: null,
        test: welchTTest(a, b, level),
        rankTest: mannWhitneyU(a, b),
      };
    });
    comparisons.push({
      reference: ref.name,
      group: grp.name,
      design: paired.pairs ? 'paired' : 'unpaired',
      pairing: paired.reason,
      pairs: (paired.pairs ?? []).map(([x, y]) => ({ seed: x.seed!, reference: x.id, group: y.id })),
      metrics,
    });
  }
  return { level, groups: groups.map((g) => summarise(g.name, g.animals, g.failed ?? 0, level)), comparisons };
}
