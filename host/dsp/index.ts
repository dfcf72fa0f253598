// host/dsp: pure DSP over typed arrays (no RxJS, no I/O). See README.md.
export { DspError, type DspErrorCode, checkSampleIndex } from './errors.ts';
export {
  butterworthLowpass,
  type FrequencyResponse,
  SosFilter,
  type Sos,
  sosFilterInPlace,
  sosFrequencyResponse,
  sosGroupDelayS,
  sosSectionCount,
  sosSteadyState,
} from './biquad.ts';
export { CarrierReference, carrierPhaseCycles, MAX_TABLE_PERIOD } from './reference.ts';
export {
  cic2Gain,
  designLockin,
  LOCKIN_SETTLE_TOLERANCE,
  lockinEnvelopeGain,
  lockinRejectionDb,
  type LockinConfig,
  LockinDemodulator,
  type LockinDesign,
  type LockinOutput,
  type LockinResult,
  type SampleArray,
} from './lockin.ts';
export {
  type TdmConfig,
  TdmDemodulator,
  tdmGeometry,
  type TdmOutput,
  type TdmResult,
  tdmSchedule,
  type TdmSlot,
} from './tdm.ts';
export { decimatorDelayS, lockinDelayS, sosDcGroupDelaySamples, tdmDelayS } from './delay.ts';
export { Decimator, type DecimatorConfig, type DecimatorResult } from './decimate.ts';
export {
  applyFit,
  dffPercent,
  fitIsosbestic,
  type IsosbesticOptions,
  type LinearFit,
  type RobustWeighting,
} from './isosbestic.ts';
export {
  BLEACH_TAU_FAST_MAX_S,
  BLEACH_TAU_FAST_MIN_S,
  BLEACH_TAU_SLOW_MAX_S,
  BLEACH_TAU_SLOW_MIN_S,
  type BleachingFit,
  type BleachingOptions,
  type DetrendResult,
  detrendBleaching,
  evaluateBleaching,
  fitBleaching,
} from './bleaching.ts';
export {
  ClockFit,
  type ClockFitConfig,
  type ClockModel,
  type ClockObservation,
  clockToDeviceTicks,
  clockToHostUs,
  fitClockArrays,
} from './clock.ts';
export { checkContinuity, type Continuity, fillNaN, nanBlock, outputGap } from './gaps.ts';
export * from './clipping.ts';
