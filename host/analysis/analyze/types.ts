// Contract of `fiberrig analyze` (issue 16, point 5): what analyzeRecording returns and what
// `fiberrig cohort` and the report read from it. Implementation beside this file.
import type { CorrectionMethod } from '../correct.ts';
import type { OscillationOptions, OscillationResult } from '../oscillation/types.ts';
import type { MicroArousal, SleepScoringOptions, SleepState } from '../sleep/score.ts';
import type { AnalysisInputOptions } from '../input.ts';

export interface AnalyzeOptions extends AnalysisInputOptions {
  method?: CorrectionMethod;
  sleep?: SleepScoringOptions;
  /** a hypnogram scored elsewhere (CSV text), used instead of scoring */
  hypnogramCsv?: string;
  oscillation?: OscillationOptions;
}

/** One part of the analysis that could not be computed, and why. */
export interface Unavailable {
  part: 'correction' | 'haemodynamic' | 'sleep' | 'oscillation' | 'cross-correlation';
  code: string;
  reason: string;
}

export interface RecordingAnalysis {
  recording: string;
  durationS: number;
  analysisRateHz: number;
  /** corrected traces on the analysis time base */
  traces: {
    t0S: number;
    rateHz: number;
    /** sensor name -> ΔF/F % */
    dffPct: Record<string, Float64Array>;
    /** blood-volume change, %, when a 560 nm channel exists */
    bloodVolumePct: Float64Array | null;
  };
  correction: { method: CorrectionMethod; sensors: Array<{ sensor: string; control: string | null; bloodVolume: string | null }> } | null;
  sleep: {
    source: 'scored' | 'imported';
    epochS: number;
    startS: number;
    states: SleepState[];
    /** 0..1 per epoch; NaN for imported hypnograms */
    confidence: Float64Array;
    microArousals: MicroArousal[];
  } | null;
  oscillation: OscillationResult | null;
  unavailable: Unavailable[];
}
