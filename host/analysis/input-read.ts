// The streaming reader behind `fiberrig analyze` (contract: input.ts). Work in progress: the
// signature is final, the body is being completed.
import { AnalysisError } from './errors.ts';
import type { AnalysisInput, AnalysisInputOptions } from './input.ts';

/** Replays `path` once and reduces it to what the analysis needs (see input.ts). */
export async function readAnalysisInput(path: string, options: AnalysisInputOptions = {}): Promise<AnalysisInput> {
  void options;
  await Promise.resolve();
  throw new AnalysisError('E_ANALYSIS_BAD_INPUT', `readAnalysisInput(${path}) is not implemented yet on this branch; use a later commit`);
}
