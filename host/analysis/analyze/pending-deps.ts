// TEMPORARY: the streaming reader (i16-reader: input-read.ts, scoreSleepFeatures) and the
// oscillation analysis (i16-osc: oscillation/index.ts) are written on other branches. Until they
// are merged here, these stand-ins have their signatures and refuse to run. Deleted on merge.
import type { AnalysisInput, AnalysisInputOptions, SleepFeatureInput } from '../input.ts';
import type { OscillationInput, OscillationOptions, OscillationResult } from '../oscillation/types.ts';
import type { SleepScoring, SleepScoringOptions } from '../sleep/score.ts';
import { AnalysisError } from '../errors.ts';

const notMerged = (what: string): never => {
  throw new AnalysisError('E_ANALYSIS_BAD_INPUT', `${what} is not merged into this branch yet`);
};

export function readAnalysisInput(_path: string, _options?: AnalysisInputOptions): Promise<AnalysisInput> {
  return Promise.reject(notMerged('readAnalysisInput'));
}
export function scoreSleepFeatures(_input: SleepFeatureInput, _options?: SleepScoringOptions): SleepScoring {
  return notMerged('scoreSleepFeatures');
}
export function analyzeOscillation(_input: OscillationInput, _options?: OscillationOptions): OscillationResult {
  return notMerged('analyzeOscillation');
}
