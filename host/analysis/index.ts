// host/analysis: corrected signals (see README.md).
export { AnalysisError, type AnalysisErrorCode } from './errors.ts';
export { DEFAULT_BLOOD_VOLUME_EMISSION_NM, DEFAULT_SENSOR_EMISSION_NM, type SpectralAbsorptionOptions, spectralAbsorptionTable } from './absorption.ts';
export { finiteMedian, finiteMeanSd, robustRegression, type RobustFit, type RobustFitOptions, zScore, type ZScoreOptions } from './stats.ts';
export {
  absorptionAt, type AbsorptionTable, type AutofluorescenceOffsets, type BleachDetrend, bleachRatio, CORRECTION_METHODS, type CorrectionInput, type CorrectionMethod,
  type CorrectionOptions, type CorrectionResult, correctSignal, type HaemoCoefficients,
} from './correct.ts';
export {
  BLOOD_VOLUME_BAND_NM, type ChannelCorrection, CONTROL_BAND_NM, correctChannels, correctRecording, measureAutofluorescence, readRecordingChannels, type RecordingChannels, DEFAULT_MAX_SAMPLES, type RecordingCorrection,
  type RecordingCorrectionOptions, SENSOR_BAND_NM,
} from './recording.ts';
export { ANALYSIS_INPUT_DEFAULTS, readAnalysisInput, readAuxVolts, type AuxVoltsRecording, SleepFeatureStream } from './input-read.ts';
