// NE peaks and troughs of a detrended bout, and cycle amplitudes.
import { filtfiltInPlace } from './detrend.ts';
import type { Sos } from '../../dsp/biquad.ts';

export interface Extremum {
  kind: 'peak' | 'trough';
  index: number;
  value: number;
}

/** Hysteresis of the extremum search as a fraction of the smoothed bout's standard deviation. */
export const EXTREMUM_HYSTERESIS_SD = 0.5;

/**
 * Alternating peaks and troughs of x after a zero-phase low-pass (`smoothSos`): a running maximum
 * becomes a peak once the trace has fallen `EXTREMUM_HYSTERESIS_SD` standard deviations below it,
 * and likewise for troughs. Values are those of the smoothed trace. Returns the smoothed trace too.
 */
export function findExtrema(x: Float64Array, smoothSos: Sos): { extrema: Extremum[]; smooth: Float64Array } {
  const y = Float64Array.from(x);
  filtfiltInPlace(smoothSos, y);
  const n = y.length;
  const extrema: Extremum[] = [];
  if (n < 3) return { extrema, smooth: y };
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i]!;
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (y[i]! - mean) ** 2;
  const h = EXTREMUM_HYSTERESIS_SD * Math.sqrt(ss / n);
  if (!(h > 0)) return { extrema, smooth: y };
  let dir = 0; // +1 looking for a peak, -1 for a trough, 0 not yet known
  let hi = 0;
  let lo = 0;
  const push = (kind: Extremum['kind'], i: number): void => {
    if (i > 0) extrema.push({ kind, index: i, value: y[i]! });
  };
  for (let i = 1; i < n; i++) {
    const v = y[i]!;
    if (dir >= 0 && v > y[hi]!) hi = i;
    if (dir <= 0 && v < y[lo]!) lo = i;
    if (dir >= 0 && y[hi]! - v >= h) {
      push('peak', hi);
      dir = -1;
      lo = i;
    } else if (dir <= 0 && v - y[lo]! >= h) {
      push('trough', lo);
      dir = 1;
      hi = i;
    }
  }
  return { extrema, smooth: y };
}

/** Cycle amplitudes: each peak with a trough on both sides, minus the mean of those two troughs. */
export function cycleAmplitudes(extrema: readonly Extremum[]): number[] {
  const out: number[] = [];
  for (let i = 1; i + 1 < extrema.length; i++) {
    const e = extrema[i]!;
    const a = extrema[i - 1]!;
    const b = extrema[i + 1]!;
    if (e.kind === 'peak' && a.kind === 'trough' && b.kind === 'trough') out.push(e.value - (a.value + b.value) / 2);
  }
  return out;
}
