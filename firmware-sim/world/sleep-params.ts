// The knobs of the sleep physiology model (physiology.ts) and their defaults: NE oscillation,
// micro-arousals, blood volume and CSF coupling, state levels and their time constants, the
// hypnogram's episode lengths, spindles and motion. Scenarios (sleep, zolpidem) start from these.
import type { SleepState } from './types.ts';

export interface StateLevels {
  /** NE tone (GRAB-NE dF/F relative to the quiet-NREM mean). */
  ne: number;
  /** 1 where NE oscillates (NREM). */
  gate: number;
  bloodVolume: number;
  csf: number;
  /** 1 when awake: scales wake NE activity. */
  wake: number;
  deltaUv: number;
  thetaUv: number;
  sigmaUv: number;
  betaUv: number;
  emgUv: number;
}

export interface SleepParams {
  /** Mean NE oscillation frequency in NREM, Hz (median cycle period 1/f). */
  neFrequencyHz: number;
  /** Log-normal sigma of the cycle period (0.15: periods mostly 37-67 s). */
  nePeriodJitter: number;
  /** Nominal NE oscillation peak-to-peak, GRAB-NE dF/F (fraction). */
  nePeakToPeak: number;
  /** Multiplies the NE oscillation (zolpidem: 0.5). */
  neAmplitudeScale: number;
  /** Cycle amplitude spread: c_i uniform in 1 ± this. */
  neCycleAmplitudeJitter: number;
  /** Slow irregular NE fluctuation in NREM, rms as a fraction of the peak-to-peak. */
  neIrregularity: number;
  /** Slow NE fluctuation when awake, dF/F rms. */
  wakeNeActivity: number;
  /** Probability that an NE peak inside NREM carries a micro-arousal. */
  maProbabilityPerPeak: number;
  /** Micro-arousal duration range, s (always < 15 s). */
  maDurationS: readonly [number, number];
  /** Micro-arousal onset precedes its NE peak by this range, s. */
  maLeadS: readonly [number, number];
  /** Extra NE at micro-arousal peaks, fraction of the peak-to-peak (Gaussian, sigma maBoostSigmaS). */
  maNeBoost: number;
  maBoostSigmaS: number;
  bvGain: number;
  bvLagS: number;
  csfGain: number;
  csfLagS: number;
  levels: Readonly<Record<SleepState, StateLevels>>;
  /** Time constants of the state levels, s. */
  tauS: Readonly<Record<keyof StateLevels, number>>;
  hypnogram: {
    initialWakeS: readonly [number, number];
    nremMedianS: number;
    nremSigma: number;
    nremS: readonly [number, number];
    remS: readonly [number, number];
    remProbability: number;
    /** REM only follows an NREM episode at least this long. */
    remMinNremS: number;
    wakeMedianS: number;
    wakeSigma: number;
    wakeS: readonly [number, number];
    postRemWakeS: readonly [number, number];
  };
  /** Micro-arousal effect on EEG/EMG (multipliers at full MA), ramped over maEdgeS. */
  ma: { deltaScale: number; sigmaScale: number; betaScale: number; emgScale: number; edgeS: number };
  spindles: { ratePerS: number; frequencyHz: readonly [number, number]; durationS: readonly [number, number]; amplitudeUv: readonly [number, number] };
  motion: {
    ratePerS: Readonly<Record<SleepState, number>>;
    depthWake: readonly [number, number];
    depthSleep: readonly [number, number];
    durationS: readonly [number, number];
    /** EMG rises by this factor times the motion activity (0..1). */
    emgBoost: number;
  };
}

export const DEFAULT_SLEEP_PARAMS: SleepParams = {
  neFrequencyHz: 0.02,
  nePeriodJitter: 0.15,
  nePeakToPeak: 0.08,
  neAmplitudeScale: 1,
  neCycleAmplitudeJitter: 0.15,
  neIrregularity: 0.06,
  wakeNeActivity: 0.012,
  maProbabilityPerPeak: 0.45,
  maDurationS: [3, 14],
  maLeadS: [1, 5],
  maNeBoost: 0.5,
  maBoostSigmaS: 4,
  bvGain: 0.4,
  bvLagS: 3,
  csfGain: 2.5,
  csfLagS: 2,
  levels: {
    wake: { ne: 0.04, gate: 0, bloodVolume: 0, csf: 0, wake: 1, deltaUv: 25, thetaUv: 20, sigmaUv: 8, betaUv: 12, emgUv: 40 },
    nrem: { ne: 0, gate: 1, bloodVolume: 0.01, csf: 0.02, wake: 0, deltaUv: 90, thetaUv: 22, sigmaUv: 15, betaUv: 5, emgUv: 10 },
    rem: { ne: -0.05, gate: 0, bloodVolume: 0.05, csf: 0, wake: 0, deltaUv: 20, thetaUv: 55, sigmaUv: 7, betaUv: 8, emgUv: 3 },
  },
  tauS: { ne: 8, gate: 10, bloodVolume: 15, csf: 20, wake: 5, deltaUv: 3, thetaUv: 3, sigmaUv: 3, betaUv: 3, emgUv: 1 },
  hypnogram: {
    initialWakeS: [60, 180],
    nremMedianS: 240,
    nremSigma: 0.5,
    nremS: [60, 900],
    remS: [60, 120],
    remProbability: 0.35,
    remMinNremS: 120,
    wakeMedianS: 90,
    wakeSigma: 0.8,
    wakeS: [20, 600],
    postRemWakeS: [20, 90],
  },
  ma: { deltaScale: 0.35, sigmaScale: 0.5, betaScale: 2, emgScale: 5, edgeS: 1 },
  spindles: { ratePerS: 0.15, frequencyHz: [11, 15], durationS: [0.5, 1.5], amplitudeUv: [20, 45] },
  motion: {
    ratePerS: { wake: 0.05, nrem: 0.003, rem: 0.002 },
    depthWake: [0.005, 0.05],
    depthSleep: [0.002, 0.012],
    durationS: [0.3, 3],
    emgBoost: 3,
  },
};
