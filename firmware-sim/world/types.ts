// Shared types of the simulated world (scenarios, optics, front end, truth).

/** Fluorophores the world knows, in this fixed order (index = position). */
export type FluorophoreId = 'grabNe' | 'redDye' | 'tissueAf' | 'fiberAf';
export const FLUOROPHORES: readonly FluorophoreId[] = ['grabNe', 'redDye', 'tissueAf', 'fiberAf'];
export const FLUOR_GRAB_NE = 0;
export const FLUOR_RED_DYE = 1;
export const FLUOR_TISSUE_AF = 2;
export const FLUOR_FIBER_AF = 3;
export const FLUOR_COUNT = 4;

/** Emission band a photodetector collects (its filter). */
export type DetectorBand = 'green' | 'red';

export type SleepState = 'wake' | 'nrem' | 'rem';
/** Sleep state, or 'none' in scenarios without an animal (steps, dark). */
export type StateAt = SleepState | 'none';

/** A scored bout: NREM episodes are split by micro-arousals (wake bouts < 15 s, `microArousal: true`). */
export interface SleepBout {
  state: SleepState;
  startS: number;
  endS: number;
  microArousal: boolean;
}

/** One NE oscillation cycle: trough at startS, peak at peakS, next trough at startS + periodS. */
export interface NeCycle {
  index: number;
  startS: number;
  periodS: number;
  peakS: number;
  /** Multiplies the nominal peak-to-peak amplitude for this cycle. */
  amplitudeScale: number;
}

export interface MotionEvent {
  startS: number;
  durationS: number;
  /** Fractional dip of collected tissue fluorescence at the event's middle (0.02 = 2 %). */
  depth: number;
}

export interface SpindleEvent {
  centerS: number;
  /** Gaussian envelope sigma is durationS / 4. */
  durationS: number;
  frequencyHz: number;
  amplitudeUv: number;
}

export type WorldEvent =
  | { kind: 'transition'; tS: number; from: SleepState; to: SleepState; microArousal: boolean }
  | { kind: 'microArousal'; tS: number; endS: number; durationS: number; nePeakS: number }
  | { kind: 'spindle'; tS: number; durationS: number; frequencyHz: number; amplitudeUv: number }
  | { kind: 'motion'; tS: number; durationS: number; depth: number }
  | { kind: 'step'; tS: number; fluorophore: FluorophoreId; level: number }
  // timeline events of a scenario file (scenario-file/timeline.ts)
  | { kind: 'ramp'; tS: number; durationS: number; fluorophore: FluorophoreId; to: number }
  | { kind: 'drug'; tS: number; name: string; neAmplitudeScale: number; washInS: number }
  | { kind: 'bloodVolume'; tS: number; durationS: number; riseS: number; change: number }
  | { kind: 'ttl'; tS: number; line: number; widthS: number };

export type WorldEventKind = WorldEvent['kind'];

/**
 * Slow physiology at one instant. Units:
 * - ne: GRAB-NE fractional fluorescence change (dF/F, 0.01 = 1 %) under fully
 *   responsive (470 nm) excitation, relative to the quiet-NREM mean.
 * - bloodVolume: fractional change of cerebral blood volume in the sampled tissue (0.01 = 1 %), relative to wake.
 * - csf: CSF volume index (fraction, relative to wake), rises when blood volume falls.
 */
export interface PhysiologySample {
  tS: number;
  state: StateAt;
  ne: number;
  bloodVolume: number;
  csf: number;
}

/** EEG band and EMG amplitudes at an instant, µV rms. */
export interface AuxEnvelope {
  deltaUv: number;
  thetaUv: number;
  sigmaUv: number;
  betaUv: number;
  emgUv: number;
}

/** Digital edge as scenarios produce it: line by board position. */
export interface ScenarioEdge {
  lineIndex: number;
  rising: boolean;
  tS: number;
}

/** Per-unit LED: current (mA) -> optical power at the fiber tip (µW). */
export interface LedUnitParams {
  wavelengthNm: number;
  /** Slope above threshold at the reference temperature, µW per mA. */
  slopeUwPerMa: number;
  /** No light below this current, mA. */
  thresholdMa: number;
  /** Efficiency droop: P = slope * x * (1 - droopPerMa * x), x = current above threshold (mA). */
  droopPerMa: number;
  /** Fractional power change per °C (negative: hotter LED, less light). */
  tempCoeffPerC: number;
  referenceTemperatureC: number;
}

/** Photodetector + ADC front end of one detector input. */
export interface DetectorFrontendParams {
  band: DetectorBand;
  /** Photoreceiver gain, V per µW of collected fluorescence. */
  gainVPerUw: number;
  /** Output with no light, V. */
  offsetV: number;
  /** Read (electronic) noise per conversion, V rms. */
  readNoiseV: number;
  /** Shot noise variance per volt of light signal, V^2/V (sigma = sqrt(k * V)). */
  shotNoiseV2PerV: number;
  /** Ambient light reaching the detector: DC part, V. */
  ambientDcV: number;
  /** Ambient light flicker components (2x mains and harmonics), amplitude V, common phase. */
  flicker: ReadonlyArray<{ hz: number; amplitudeV: number; phaseRad: number }>;
}

export type AuxKind = 'eeg' | 'emg';

/** EEG/EMG front end of one aux input (its gain and ADC come from the board: WorldBoard.aux). */
export interface AuxFrontendParams {
  kind: AuxKind;
  /** Input-referred amplifier noise, µV rms per sample. */
  noiseUv: number;
  /** Mains pickup at the electrode, µV amplitude (an ambient effect). */
  mainsPickupUv: number;
}

export interface BleachParams {
  /** Fraction of initial fluorescence lost with the fast time constant. */
  fastFraction: number;
  fastTauS: number;
  slowFraction: number;
  slowTauS: number;
}

/** Hardware faults of the front end (can change at run time with SimWorld.setFaults). */
export interface WorldFaults {
  /** LED indices (board order) that emit no light whatever the current. */
  deadLeds?: readonly number[];
  detectors?: ReadonlyArray<{
    index: number;
    /** dead: no light reaches the ADC (offset + read noise); saturated: reads full scale;
     * noisy: noise multiplied by noiseFactor (default 20); stuck: reads `code`. */
    kind: 'dead' | 'saturated' | 'noisy' | 'stuck';
    noiseFactor?: number;
    code?: number;
  }>;
  aux?: ReadonlyArray<{
    index: number;
    /** disconnected: electrode off (large mains pickup, no biology); railed: reads full scale. */
    kind: 'disconnected' | 'railed';
  }>;
}

/** Options of createWorld. Unset members take the scenario's defaults. */
export interface WorldOptions {
  /** Shot and read noise of the detectors and amplifier noise of the aux inputs. */
  noise?: boolean;
  /** Ambient light on the detectors and mains pickup on the aux inputs. */
  ambient?: boolean;
  bleaching?: boolean;
  motion?: boolean;
  haemodynamics?: boolean;
  /** LED warm-up drift of temperature (25 °C -> 30 °C, tau 20 min). */
  temperatureDrift?: boolean;
  /** Fixed LED temperature, °C (overrides temperatureDrift). */
  temperatureC?: number;
  /** 'unit': threshold, droop, temperature coefficient; 'linear': P = slope * I exactly. */
  ledModel?: 'unit' | 'linear';
  /** Mains frequency: ambient flicker at 2x (100 or 120 Hz) plus the 4x harmonic. */
  mainsHz?: 50 | 60;
  /** Grid step of the slow physiology/optics, s (default 0.01, steps 0.002). */
  gridS?: number;
  /** Emission band per detector (default: even index green, odd index red). */
  detectorBands?: readonly DetectorBand[];
  /** Per-LED overrides of the per-unit parameters (board order). */
  leds?: ReadonlyArray<Partial<LedUnitParams> | undefined>;
  /** LED aging, board order: factor (> 0) on the light each LED emits (scales its slope after overrides). */
  ledAging?: ReadonlyArray<number | undefined>;
  /** Per-detector overrides of the front end (board order). */
  detectors?: ReadonlyArray<Partial<DetectorFrontendParams> | undefined>;
  /** Per-aux overrides (board order); kind defaults from the label ("EMG" -> emg, else eeg). */
  aux?: ReadonlyArray<Partial<AuxFrontendParams> | undefined>;
  faults?: WorldFaults;
}
