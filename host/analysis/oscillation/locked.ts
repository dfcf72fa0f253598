// Micro-arousal-locked averages: every trace sampled at onset + lag for isolated events; mean and SEM per lag.
import type { LockedAverage } from './types.ts';

/** Onsets of the micro-arousals with no other onset within `isolationS` before or after. */
export function isolatedOnsets(events: ReadonlyArray<{ startS: number }>, isolationS: number): number[] {
  const t = events.map((e) => e.startS).sort((a, b) => a - b);
  return t.filter((s, i) => (i === 0 || s - t[i - 1]! >= isolationS) && (i === t.length - 1 || t[i + 1]! - s >= isolationS));
}

/** Lags of the locked averages: -windowS … +windowS in steps of stepS (symmetric, 0 included). */
export function lockLags(windowS: number, stepS: number): Float64Array {
  const half = Math.round(windowS / stepS);
  return Float64Array.from({ length: 2 * half + 1 }, (_, k) => (k - half) * stepS);
}

/** Linear interpolation of a uniformly sampled trace at time tS; NaN outside it or next to a NaN. */
function sampleAt(x: ArrayLike<number>, startS: number, stepS: number, tS: number): number {
  const pos = (tS - startS) / stepS;
  const k = Math.floor(pos);
  if (k < 0 || k >= x.length) return NaN;
  const f = pos - k;
  if (f < 1e-9) return x[k]!;
  if (k + 1 >= x.length) return NaN;
  return x[k]! * (1 - f) + x[k + 1]! * f;
}

/** Mean and standard error per lag over the events (finite values only; SEM NaN below 2 events). */
export function lockedAverage(
  x: ArrayLike<number>, startS: number, stepS: number, onsetsS: readonly number[], lagS: Float64Array, unit: string,
): LockedAverage {
  const mean = new Float64Array(lagS.length);
  const sem = new Float64Array(lagS.length);
  const sum = new Float64Array(lagS.length);
  const sum2 = new Float64Array(lagS.length);
  const count = new Float64Array(lagS.length);
  let events = 0;
  for (const onset of onsetsS) {
    let any = false;
    for (let j = 0; j < lagS.length; j++) {
      const v = sampleAt(x, startS, stepS, onset + lagS[j]!);
      if (!Number.isFinite(v)) continue;
      sum[j]! += v;
      sum2[j]! += v * v;
      count[j]!++;
      any = true;
    }
    if (any) events++;
  }
  for (let j = 0; j < lagS.length; j++) {
    const n = count[j]!;
    mean[j] = n > 0 ? sum[j]! / n : NaN;
    const variance = n > 1 ? Math.max(0, (sum2[j]! - n * mean[j]! ** 2) / (n - 1)) : NaN;
    sem[j] = n > 1 ? Math.sqrt(variance / n) : NaN;
  }
  return { events, mean, sem, unit };
}
