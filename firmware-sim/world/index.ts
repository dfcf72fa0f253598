// The simulated world a simulated device measures: scenarios (sleep, zolpidem,
// steps, dark), physiology, optics, analog front end, and ground truth.
export type { AuxRenderRequest, DetectorRenderRequest, World, WorldBoard, WorldDigitalEdge } from './world.ts';
export { createWorld } from './world-impl.ts';
export type { CrosstalkInfo, GroundTruth, NoiseFreeDetectorRequest, SimWorld, WorldParams } from './world-impl.ts';
export { WorldError, type WorldErrorCode } from './errors.ts';
export { SCENARIO_NAMES, createScenario } from './scenarios/index.ts';
export type { NeOscillationInfo, Scenario, ScenarioDefaults } from './scenario.ts';
export { DEFAULT_SLEEP_PARAMS, SleepPhysiology, type SleepParams } from './physiology.ts';
export { STEPS_PARAMS, stepsSignal } from './scenarios/steps.ts';
export { ZOLPIDEM_NE_AMPLITUDE_SCALE } from './scenarios/zolpidem.ts';
export { SLEEP_MARKER_WIDTH_S, SLEEP_SYNC_PERIOD_S, SLEEP_SYNC_WIDTH_S } from './scenarios/sleep.ts';
export {
  COLLECTION, FLUOROPHORE_SPECS, HAEMO_TISSUE, bleachFactor, excitationEfficiency, haemoCoefficient, ledPowerUw,
  linearLedParams, nominalLedParams, type FluorophoreSpec, type HaemoTissue,
} from './optics.ts';
export { EEG_BANDS_HZ, auxCodesPerUv, codesPerVolt, maxCode } from './frontend.ts';
export {
  Rng, hash32, mix32, noiseWordOf, normalAt, normalFastAt, normalFastFromBase, normalFromBase, normalsAt, normalsFastAt, normalsFromWords,
  normalPairAt, streamKey, uniformAt,
} from './rng.ts';
export * from './types.ts';
