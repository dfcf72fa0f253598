// Contract of the NE oscillation analysis (issue 16, point 4): inputs, options and results.
// The functions live beside this file; this file holds only the shapes other modules
// (fiberrig analyze, fiberrig cohort, the report) rely on.
import type { SleepState } from '../sleep/score.ts';

/** Traces on one time base (the analysis rate), NaN in gaps. */
export interface OscillationInput {
  /** sample rate of every trace, Hz (the analysis rate, e.g. 10 Hz) */
  rateHz: number;
  /** session time of sample 0, s */
  startS: number;
  /** corrected NE (sensor) ΔF/F, percent */
  nePct: Float64Array;
  /** blood-volume change, percent (ΔV/V·100 from the haemodynamic correction, or the 560 nm channel's ΔF/F); null without one */
  bloodVolumePct: Float64Array | null;
  /** further traces to average around micro-arousals (e.g. "CSF", the isosbestic control), same time base */
  others?: Readonly<Record<string, Float64Array>>;
  /** scored (or imported) hypnogram */
  hypnogram: { epochS: number; startS: number; states: readonly SleepState[] };
  /** micro-arousals, session time */
  microArousals: ReadonlyArray<{ startS: number; endS: number }>;
  /** EEG band power over time (for micro-arousal-locked averages), null without EEG */
  eegBandPower: EegBandPowerSeries | null;
}

export interface EegBandPowerSeries {
  /** one value per step, s */
  stepS: number;
  /** session time of value 0 (centre of its window), s */
  startS: number;
  /** band power, V² (δ 1–4, θ 4–8, σ 8–15, β 15–30 Hz) */
  deltaV2: Float64Array;
  thetaV2: Float64Array;
  sigmaV2: Float64Array;
  betaV2: Float64Array;
}

export interface OscillationOptions {
  /** micro-arousals (wake bouts) up to this long inside NREM are bridged, s (default 20) */
  bridgeMaxS?: number;
  /** NREM bouts shorter than this are not analysed, s (default 200) */
  minBoutS?: number;
  /** high-pass corner per bout, Hz (default 0.005) */
  highpassHz?: number;
  /** order of the polynomial detrend per bout (default 2) */
  detrendOrder?: number;
  /** PSD reported over [0, psdMaxHz], Hz (default 0.1) */
  psdMaxHz?: number;
  /** PSD frequency resolution, Hz (default 0.001) */
  psdResolutionHz?: number;
  /** band power is integrated below this, Hz (default 0.03) */
  bandMaxHz?: number;
  /** micro-arousal-locked averages span ±this, s (default 50) */
  lockWindowS?: number;
  /** a micro-arousal is isolated when no other starts within this, s (default 50) */
  isolationS?: number;
  /** NE vs blood-volume cross-correlation lags up to ±this, s (default 30) */
  maxLagS?: number;
  /** Welch segment length, s (default 200): Hann, >= 50 % overlap, zero-padded to the PSD resolution; a stretch shorter than this has no PSD */
  welchSegmentS?: number;
  /** NaN gaps up to this long inside a bout are interpolated; longer ones split it, s (default 5) */
  maxGapS?: number;
}

export interface OscillationBout {
  startS: number;
  endS: number;
  durationS: number;
  /** micro-arousals bridged inside it */
  microArousals: number;
  peakFrequencyHz: number;
  /** NE power below bandMaxHz, %² */
  bandPowerPct2: number;
  /** mean NE cycle amplitude (peak minus the mean of its neighbouring troughs), percent ΔF/F */
  cycleAmplitudePct: number;
  cycles: number;
  /** NE vs blood volume: Pearson r at the lag of largest |r|; lag > 0 when blood volume follows NE */
  crossCorrelation: { peakR: number; lagS: number } | null;
}

export interface Psd {
  frequencyHz: Float64Array;
  /** %²/Hz */
  powerPct2PerHz: Float64Array;
  /** seconds of data behind it */
  durationS: number;
}

export interface LockedAverage {
  /** number of events averaged */
  events: number;
  mean: Float64Array;
  /** standard error of the mean per lag */
  sem: Float64Array;
  unit: string;
}

export interface OscillationResult {
  settings: Required<OscillationOptions>;
  bouts: OscillationBout[];
  /** NE PSD over the NREM bouts, duration-weighted mean; null without a bout */
  nePsd: Psd | null;
  bloodVolumePsd: Psd | null;
  /** NE PSD per state over every stretch of that state (no minimum length beyond one Welch window) */
  psdByState: Record<SleepState, Psd | null>;
  /** every NE peak and trough found in the bouts */
  extrema: Array<{ kind: 'peak' | 'trough'; tS: number; valuePct: number }>;
  /** micro-arousal-locked averages: lags (s) and one average per trace ("NE", "bloodVolume", others, "delta", "theta", "sigma", "beta") */
  locked: { lagS: Float64Array; traces: Record<string, LockedAverage> } | null;
  /** recording-level figures (duration-weighted over bouts); NaN when no bout qualifies */
  summary: {
    bouts: number;
    analysedS: number;
    peakFrequencyHz: number;
    bandPowerPct2: number;
    cycleAmplitudePct: number;
    neBloodVolumeR: number;
    neBloodVolumeLagS: number;
  };
}
