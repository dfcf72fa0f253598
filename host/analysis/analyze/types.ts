// Contract of `fiberrig analyze` (issue 16, point 5): what analyzeRecording returns and what
// `fiberrig cohort` and the report read from it. Implementation beside this file.
import type { AbsorptionTable, CorrectionMethod, HaemoCoefficients } from '../correct.ts';
import type { OscillationOptions, OscillationResult } from '../oscillation/types.ts';
import type { EpochFeatures, MicroArousal, SleepScoringOptions, SleepState } from '../sleep/score.ts';
import type { AnalysisInputOptions } from '../input.ts';
import type { AlignmentFile } from '../../align/index.ts';

export interface AnalyzeOptions extends AnalysisInputOptions {
  method?: CorrectionMethod;
  /** blood absorption per LED wavelength for the haemodynamic correction (relative; scale fitted); default: from haemoglobin spectra (../absorption.ts) */
  absorption?: AbsorptionTable;
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

/** The settings an analysis ran with (written to analysis.json beside the results). */
export interface AnalyzeSettings {
  analysisRateHz: number;
  epochS: number;
  /** the correction method asked for (null: the default choice) */
  methodRequested: CorrectionMethod | null;
  /** the blood absorption table given (relative, per LED wavelength), or null */
  absorption: AbsorptionTable | null;
  hypnogram: 'scored' | 'imported' | null;
  /** longest wake run inside NREM counted as a micro-arousal, s (scoring and imported hypnograms) */
  microArousalMaxS: number;
  sleep: SleepScoringOptions;
  oscillation: OscillationOptions;
}

export interface RecordingAnalysis {
  recording: string;
  /** what the input was read from: analysis-input.bin (reduced while the recording was made) or a replay of the raw log */
  inputSource: 'derived file' | 'raw log';
  /** fiberrig version that computed this */
  fiberrigVersion: string;
  settings: AnalyzeSettings;
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
  correction: {
    method: CorrectionMethod;
    /** per sensor: its channels and, for the haemodynamic method, the coefficients used (after the scale fit) */
    sensors: Array<{ sensor: string; control: string | null; bloodVolume: string | null; coefficients: (HaemoCoefficients & { fitted: boolean }) | null }>;
    /** the absorption table behind the haemodynamic correction and where it came from */
    absorption: { table: AbsorptionTable; source: 'given' | 'haemoglobin spectra' } | null;
  } | null;
  sleep: {
    source: 'scored' | 'imported';
    epochS: number;
    startS: number;
    states: SleepState[];
    /** 0..1 per epoch; NaN for imported hypnograms */
    confidence: Float64Array;
    microArousals: MicroArousal[];
    /** EEG band powers and EMG RMS per epoch on this hypnogram's grid (scored only; null for imported hypnograms) */
    features: EpochFeatures | null;
  } | null;
  oscillation: OscillationResult | null;
  unavailable: Unavailable[];
  /** the recording's place on its group's time axis (`fiberrig align`), or null: analysis.json then gains group times */
  groupTime?: AlignmentFile | null;
}
