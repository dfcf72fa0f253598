// Orchestration of the oscillation analysis (filled in by the per-concern files beside it).
import type { OscillationInput, OscillationOptions, OscillationResult } from './types.ts';

export const DEFAULT_OSCILLATION_OPTIONS: Required<OscillationOptions> = {
  bridgeMaxS: 20,
  minBoutS: 200,
  highpassHz: 0.005,
  detrendOrder: 2,
  psdMaxHz: 0.1,
  psdResolutionHz: 0.001,
  bandMaxHz: 0.03,
  lockWindowS: 50,
  isolationS: 50,
  maxLagS: 30,
};

export function analyze(input: OscillationInput, options: OscillationOptions): OscillationResult {
  void input;
  const settings = { ...DEFAULT_OSCILLATION_OPTIONS, ...options };
  return {
    settings,
    bouts: [],
    nePsd: null,
    bloodVolumePsd: null,
    psdByState: { wake: null, nrem: null, rem: null },
    extrema: [],
    locked: null,
    summary: { bouts: 0, analysedS: 0, peakFrequencyHz: NaN, bandPowerPct2: NaN, cycleAmplitudePct: NaN, neBloodVolumeR: NaN, neBloodVolumeLagS: NaN },
  };
}
