// Contract of the streaming reader behind `fiberrig analyze` (issue 16): one replay of a
// recording, reduced while it streams to what the analysis needs, so memory does not grow with
// the recording's length: photometry at the analysis rate, EEG/EMG as per-epoch features, an EMG
// envelope and band power over time. The reader is `readAnalysisInput` (input-read.ts).
import type { SignalChannel } from '../pipeline/demodulate.ts';
import type { EegBandPowerSeries } from './oscillation/types.ts';
import type { EpochFeatures } from './sleep/score.ts';

export interface AnalysisInputOptions {
  /** photometry is averaged down to this rate, Hz (default 10) */
  analysisRateHz?: number;
  /** sleep epoch, s (default 4) */
  epochS?: number;
  /** aux channel names (default: "EEG" and "EMG" when present) */
  eeg?: string;
  emg?: string;
  /** band power series step, s (default 1) */
  bandPowerStepS?: number;
  /** EMG envelope window and step, s (defaults 0.5, 0.1: scoreSleep's) */
  envelopeWindowS?: number;
  envelopeStepS?: number;
}

export interface PhotometryInput {
  rateHz: number;
  /** session time of sample 0 (group delay removed), s */
  t0S: number;
  samples: number;
  channels: readonly SignalChannel[];
  /** by channel name, NaN where missing */
  data: Record<string, Float64Array>;
}

export interface SleepFeatureInput {
  epochS: number;
  /** session time of epoch 0's start, s */
  startS: number;
  features: EpochFeatures;
  /** EMG RMS envelope, V, one value per stepS from startS */
  envelope: { stepS: number; windowS: number; startS: number; emgRmsV: Float64Array };
  bandPower: EegBandPowerSeries;
}

export interface AnalysisInput {
  path: string;
  /** where it was read from: the reduction written beside the raw log (input-file.ts), or a replay of the raw log */
  source: 'derived file' | 'raw log';
  /** session duration covered, s */
  durationS: number;
  photometry: PhotometryInput;
  /** null when the recording has no EEG or no EMG */
  sleep: SleepFeatureInput | null;
  /** what the recording lacks for parts of the analysis, in words (e.g. "no EEG/EMG aux channels: no sleep scoring") */
  missing: string[];
}
