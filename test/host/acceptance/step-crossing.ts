// The 50 % crossing of a step in a demodulated series (how the time-base tests place
// a step in an export), and where a time-division output puts a light step, from the
// schedule alone (protocol TimeDivisionTiming; not from the host's time labels).
//
// The 50 % level of a step at T is the midpoint of the signal's means over [T − 1.5, T − 0.5)
// and [T + 0.5, T + 1.5) s: whole periods of the `steps` scenario's 1 Hz sine, and the midpoint
// cancels the slope of its 0.02 Hz sine. The crossing is interpolated linearly between the
// two output samples around it.
//
// A TDM channel measures its light only during its window: W samples starting
// `windowOffsetSamples` into each cycle of C samples (LED k: k·slot + settle), one
// value per cycle. A step that falls between two windows leaves no trace of where
// it fell: the sample before is fully old, the sample after fully new, and linear
// interpolation between them puts the 50 % crossing halfway, whatever the step's
// place in the gap. So the crossing's error is a sawtooth of the step's phase in
// the cycle: 0 when the step is at a window's centre or halfway between windows,
// ±(C − W) / 2 samples when it is at a window's edge (20 ms for 10 ms windows every
// 50 ms), and zero on average over phases when the time labels are the windows'
// centres. No time label can do better for every phase: the bound is the
// measurement's, not the time base's.

import assert from 'node:assert/strict';

export interface Series { timesS: number[]; values: number[] }

export function meanIn(s: Series, fromS: number, toS: number): number {
  let sum = 0;
  let n = 0;
  s.timesS.forEach((t, i) => {
    if (t >= fromS && t < toS) {
      sum += s.values[i]!;
      n++;
    }
  });
  assert.ok(n > 0, `samples in [${fromS}, ${toS})`);
  return sum / n;
}

export function level50(s: Series, nearS: number): number {
  return (meanIn(s, nearS - 1.5, nearS - 0.5) + meanIn(s, nearS + 0.5, nearS + 1.5)) / 2;
}

/** Time at which the series crosses `level` (default 50 % of the step at about `nearS`), the crossing nearest to `nearS`. */
export function crossing50(s: Series, nearS: number, level = level50(s, nearS)): number {
  let best = Number.NaN;
  for (let i = 1; i < s.timesS.length; i++) {
    const t0 = s.timesS[i - 1]!;
    const t1 = s.timesS[i]!;
    if (t1 < nearS - 0.5 || t0 > nearS + 0.5) continue;
    const a = s.values[i - 1]! - level;
    const b = s.values[i]! - level;
    if (a === 0 || Math.sign(a) === Math.sign(b)) continue;
    const t = t0 + ((t1 - t0) * a) / (a - b);
    if (!(Math.abs(t - nearS) >= Math.abs(best - nearS))) best = t;
  }
  assert.ok(Number.isFinite(best), `a 50 % crossing near ${nearS} s`);
  return best;
}

export interface TdmWindows {
  sampleRateHz: number;
  cycleSamples: number;
  /** First window sample within the cycle. */
  windowOffsetSamples: number;
  windowSamples: number;
}

/** The windows of LED `ledIndex` (config order) of a time-division configuration. */
export function tdmWindowsOf(
  sampleRateHz: number,
  ledCount: number,
  td: { slotSamples: number; settleSamples: number; windowSamples: number; darkSlot: boolean },
  ledIndex: number,
): TdmWindows {
  return {
    sampleRateHz,
    cycleSamples: td.slotSamples * (ledCount + (td.darkSlot ? 1 : 0)),
    windowOffsetSamples: ledIndex * td.slotSamples + td.settleSamples,
    windowSamples: td.windowSamples,
  };
}

/** Largest |crossing − step| of the interpolated 50 % crossing over step phases, seconds: (C − W) / 2 samples. */
export function tdmStepBoundS(w: TdmWindows): number {
  return (w.cycleSamples - w.windowSamples) / 2 / w.sampleRateHz;
}

/**
 * Session time at which linear interpolation between window-centre labels puts the 50 % crossing
 * of an ideal step of the light at `stepS` (session time; sample n is at n / rate): each window's
 * value is the share of its samples at or after the step.
 */
export function modelledTdmCrossingS(w: TdmWindows, stepS: number): number {
  const fs = w.sampleRateHz;
  const first = Math.floor((stepS * fs - w.windowOffsetSamples) / w.cycleSamples) - 2;
  let prev: { t: number; v: number } | undefined;
  for (let c = Math.max(0, first); c < first + 6; c++) {
    const a = c * w.cycleSamples + w.windowOffsetSamples;
    const stepSample = Math.ceil(stepS * fs - 1e-9);
    const after = Math.min(w.windowSamples, Math.max(0, a + w.windowSamples - stepSample));
    const cur = { t: (a + (w.windowSamples - 1) / 2) / fs, v: after / w.windowSamples };
    if (cur.v === 0.5) return cur.t;
    if (prev && prev.v < 0.5 && cur.v > 0.5) return prev.t + ((cur.t - prev.t) * (0.5 - prev.v)) / (cur.v - prev.v);
    prev = cur;
  }
  throw new Error(`no modelled crossing near ${stepS} s`);
}
