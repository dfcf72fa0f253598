// NE oscillation analysis (issue 16, point 4). See host/analysis/README.md for the method.
import type { OscillationInput, OscillationOptions, OscillationResult } from './types.ts';
import { analyze } from './analyze.ts';

export type { EegBandPowerSeries, LockedAverage, OscillationBout, OscillationInput, OscillationOptions, OscillationResult, Psd } from './types.ts';
export { DEFAULT_OSCILLATION_OPTIONS } from './analyze.ts';

/** NE oscillation analysis of one recording's NREM sleep: bouts, PSD, cycles, micro-arousal-locked averages, NE vs blood volume. */
export function analyzeOscillation(input: OscillationInput, options: OscillationOptions = {}): OscillationResult {
  return analyze(input, options);
}
