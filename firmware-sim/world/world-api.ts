// What a simulated world offers beyond the device-facing World interface (world.ts): the
// ground-truth API tests measure against, the parameters it was built with, fault injection.
import type { FluorophoreSpec } from './optics.ts';
import type {
  AuxEnvelope, AuxFrontendParams, DetectorFrontendParams, FluorophoreId, LedUnitParams, MotionEvent, NeCycle,
  PhysiologySample, SleepBout, StateAt, WorldEvent, WorldEventKind, WorldFaults,
} from './types.ts';
import type { NeOscillationInfo } from './scenario.ts';
import type { TimelineEventInput } from './scenario-file/spec.ts';
import type { World, WorldBoard } from './world.ts';

/** A noise-free detector render: float codes before noise, quantization and saturation. */
export interface NoiseFreeDetectorRequest {
  t0S: number;
  dtS: number;
  count: number;
  ledCurrentMa: ReadonlyArray<ArrayLike<number>>;
  out: ReadonlyArray<Float64Array>;
}

export interface CrosstalkInfo {
  /** excitation[led][fluorophore]: relative excitation efficiency at the LED's wavelength. */
  excitation: number[][];
  /** collection[fluorophore][detector]: fraction of emission passed by the detector's filter. */
  collection: number[][];
  /** response[led][fluorophore]: how much fluorescence follows the underlying signal at the LED's wavelength. */
  response: number[][];
  /** brightness[fluorophore]: collected µW per µW of excitation at peak efficiency (this scenario). */
  brightness: number[];
  /** tissue[fluorophore]: subject to motion and blood absorption. */
  tissue: boolean[];
}

export interface GroundTruth {
  readonly scenario: { name: string; description: string; params: Readonly<Record<string, unknown>> };
  readonly fluorophores: readonly FluorophoreId[];
  /** NE oscillation parameters (sleep scenarios), else null. */
  readonly neOscillation: NeOscillationInfo | null;

  // (a) underlying signals
  /** Underlying signal of a fluorophore at t: fractional dF/F under fully responsive excitation (see types.ts). */
  signal(fluorophore: FluorophoreId, tS: number): number;
  signals(fluorophore: FluorophoreId, t0S: number, dtS: number, count: number, out?: Float64Array): Float64Array;
  physiology(tS: number): PhysiologySample;

  // (b) states and events
  sleepStateAt(tS: number): StateAt;
  bouts(t0S: number, t1S: number): SleepBout[];
  events(t0S: number, t1S: number, kinds?: readonly WorldEventKind[]): WorldEvent[];
  neCycles(t0S: number, t1S: number): NeCycle[];
  motionEvents(t0S: number, t1S: number): MotionEvent[];

  // optics pieces
  crosstalk(): CrosstalkInfo;
  bleachFactor(fluorophore: FluorophoreId, tS: number): number;
  motionFactor(tS: number): number;
  /** Blood-absorption transmission of the excitation path of this LED's light at t: exp(-h(λ_LED) · bloodVolume). */
  haemoFactor(ledIndex: number, tS: number): number;
  /** Blood-absorption transmission of a tissue fluorophore's emitted light at t: exp(-h(λ_emission) · bloodVolume) (1 for the patch cord). */
  emissionHaemoFactor(fluorophore: FluorophoreId, tS: number): number;
  temperatureC(tS: number): number;

  // (c) noise-free detector rendering
  /** Small-signal slope d(codes)/d(mA) of LED k on detector d at t: exact for linear LEDs;
   * for unit LEDs the slope above threshold without droop, or the local slope at `atCurrentMa`. */
  codesPerMa(ledIndex: number, detectorIndex: number, tS: number, atCurrentMa?: number): number;
  /** The part of codesPerMa due to one fluorophore (sums over fluorophores to codesPerMa). */
  fluorophoreCodesPerMa(ledIndex: number, fluorophore: FluorophoreId, detectorIndex: number, tS: number): number;
  /** Float codes per detector for these LED currents at t (offset + ambient + LEDs; no noise, quantization or saturation). */
  detectorCodes(ledCurrentsMa: ArrayLike<number>, tS: number, out?: Float64Array): Float64Array;
  /** contributions[led][detector]: codes due to each LED at these currents. */
  ledContributions(ledCurrentsMa: ArrayLike<number>, tS: number): Float64Array[];
  ambientCodes(detectorIndex: number, tS: number): number;
  offsetCodes(detectorIndex: number): number;
  /** Noise sigma (codes) of a sample with this much light (codes above offset) and oversampling. */
  noiseSigmaCodes(detectorIndex: number, lightCodes: number, oversampling: number): number;
  renderDetectors(request: NoiseFreeDetectorRequest): void;

  // aux
  /** Electrode signal (µV) of an aux input before amplifier noise, for samples t0S + i*dtS. */
  auxMicrovolts(auxIndex: number, t0S: number, dtS: number, count: number, out?: Float64Array): Float64Array;
  auxEnvelope(tS: number): AuxEnvelope;
  auxCodesPerUv(auxIndex: number): number;
  /** Signed code range of an aux input (0 µV reads code 0). */
  auxCodeRange(auxIndex: number): { min: number; max: number };
}

export interface WorldParams {
  leds: LedUnitParams[];
  detectors: DetectorFrontendParams[];
  aux: AuxFrontendParams[];
  fluorophores: readonly FluorophoreSpec[];
  brightness: number[];
  gridS: number;
  flags: {
    noise: boolean;
    ambient: boolean;
    bleaching: boolean;
    motion: boolean;
    haemodynamics: boolean;
    temperatureDrift: boolean;
    ledModel: 'unit' | 'linear';
    mainsHz: 50 | 60;
    temperatureC: number | null;
  };
}

export interface SimWorld extends World {
  readonly board: WorldBoard;
  readonly truth: GroundTruth;
  readonly params: Readonly<WorldParams>;
  /** LED optical power at the fiber tip (µW) for a current; temperature defaults to the world's at t = 0. */
  ledPowerUw(ledIndex: number, currentMa: number, temperatureC?: number): number;
  /** LED/board temperature at t, °C (warm-up drift unless fixed). */
  temperatureC(tS: number): number;
  setFaults(faults: WorldFaults): void;
  readonly faults: Readonly<WorldFaults>;
  /**
   * Adds a timeline event during a run (a test steering the world: a step, ramp, drug, motion,
   * blood-volume change or TTL), validated as in a scenario file (E_SIM_SCENARIO_FILE naming the
   * field). Values before its atS do not change; samples already rendered at or after atS do not.
   */
  addEvent(event: TimelineEventInput): void;
}
