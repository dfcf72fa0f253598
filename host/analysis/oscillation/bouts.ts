// NREM bouts from a hypnogram: runs of equal epochs, short wake runs inside NREM bridged.
import type { SleepState } from '../sleep/score.ts';
import type { OscillationInput } from './types.ts';

export interface Stretch {
  state: SleepState;
  startS: number;
  endS: number;
}

export interface NremBout {
  startS: number;
  endS: number;
  /** wake runs bridged inside it */
  bridged: Stretch[];
}

/** Micro-arousals in [startS, endS): listed ones starting there, plus bridged wake runs there that no listed one overlaps. */
export function countMicroArousals(
  startS: number, endS: number, bridged: readonly Stretch[], microArousals: OscillationInput['microArousals'],
): number {
  let count = 0;
  for (const ma of microArousals) if (ma.startS >= startS && ma.startS < endS) count++;
  for (const w of bridged) {
    if (w.startS < startS || w.startS >= endS) continue;
    if (!microArousals.some((ma) => ma.startS < w.endS && ma.endS > w.startS)) count++;
  }
  return count;
}

/** Runs of equal states in a hypnogram, session time. */
export function hypnogramRuns(hypnogram: OscillationInput['hypnogram']): Stretch[] {
  const runs: Stretch[] = [];
  const { epochS, startS, states } = hypnogram;
  for (let e = 0; e < states.length; e++) {
    const state = states[e]!;
    const last = runs[runs.length - 1];
    if (last && last.state === state) last.endS = startS + (e + 1) * epochS;
    else runs.push({ state, startS: startS + e * epochS, endS: startS + (e + 1) * epochS });
  }
  return runs;
}

/**
 * NREM bouts: NREM runs joined across wake runs of at most `bridgeMaxS` that sit between two NREM
 * runs (micro-arousals). REM, and longer wake, end a bout. No minimum length here.
 */
export function nremBouts(runs: readonly Stretch[], bridgeMaxS: number): NremBout[] {
  const bouts: NremBout[] = [];
  const tolS = 1e-9;
  for (let i = 0; i < runs.length; i++) {
    if (runs[i]!.state !== 'nrem') continue;
    const startS = runs[i]!.startS;
    const bridged: Stretch[] = [];
    let j = i;
    while (
      j + 2 < runs.length && runs[j + 1]!.state === 'wake' && runs[j + 2]!.state === 'nrem'
      && runs[j + 1]!.endS - runs[j + 1]!.startS <= bridgeMaxS + tolS
    ) {
      bridged.push(runs[j + 1]!);
      j += 2;
    }
    bouts.push({ startS, endS: runs[j]!.endS, bridged });
    i = j;
  }
  return bouts;
}

/** Every stretch of one state: NREM as bridged bouts, wake and REM as plain runs. */
export function stateStretches(runs: readonly Stretch[], state: SleepState, nrem: readonly NremBout[]): Array<{ startS: number; endS: number }> {
  if (state === 'nrem') return nrem.map((b) => ({ startS: b.startS, endS: b.endS }));
  return runs.filter((r) => r.state === state).map((r) => ({ startS: r.startS, endS: r.endS }));
}
