// The seam between the simulated device (firmware-sim/device) and the
// simulated world it measures (optics, physiology, analog front end).
// The device owns the sample clock, the LED drive schedule and the ADC timing;
// the world turns "these LED currents at these instants" into ADC codes.
import type { ScenarioSpec } from './scenario-file/spec.ts';
import type { WorldFaults } from './types.ts';

/** What the board offers, as far as the world needs to know. */
export interface WorldBoard {
  /** LED channels in board order: id and wavelength. */
  leds: ReadonlyArray<{ id: number; wavelengthNm: number }>;
  /** Photodetector inputs in board order. */
  detectors: ReadonlyArray<{ id: number; adcBits: number; fullScaleV: number }>;
  /**
   * Aux analog inputs (EEG/EMG) in board order. gainVPerV is the amplifier's gain (volts at the ADC per volt at
   * the electrode): the board reports it to hosts (AuxInputInfo.electrode_volts_per_code), so the world takes it
   * from the board rather than choosing its own.
   */
  aux: ReadonlyArray<{ id: number; label: string; adcBits: number; fullScaleV: number; gainVPerV: number }>;
  /** Digital input lines. */
  digitalInputs: ReadonlyArray<{ id: number }>;
}

export interface DetectorRenderRequest {
  /** World time of the first sample, seconds since the world began. */
  t0S: number;
  /** World time between samples, seconds (the device's sample period as the world sees it, drift included). */
  dtS: number;
  count: number;
  /** Instantaneous LED current per board LED (index = position in WorldBoard.leds), one value per sample, mA. */
  ledCurrentMa: ReadonlyArray<Float32Array>;
  /** Conversions averaged per sample (oversampling). */
  oversampling: number;
  /** Output: raw ADC codes per board detector (index = position in WorldBoard.detectors), `count` values each. */
  out: ReadonlyArray<Int32Array>;
}

export interface AuxRenderRequest {
  t0S: number;
  dtS: number;
  count: number;
  /** Output: raw ADC codes per board aux input. */
  out: ReadonlyArray<Int32Array>;
}

export interface WorldDigitalEdge {
  lineId: number;
  rising: boolean;
  /** World time of the edge, seconds. */
  tS: number;
}

/** A simulated world. Deterministic for a given scenario, seed and call sequence. */
export interface World {
  readonly scenario: string;
  readonly seed: number;
  renderDetectors(request: DetectorRenderRequest): void;
  renderAux(request: AuxRenderRequest): void;
  /** Edges on digital inputs with t0S <= tS < t1S, in time order. */
  digitalEdges(t0S: number, t1S: number): WorldDigitalEdge[];
  /** Optional: board/LED temperature at world time tS, °C (e.g. for Status.temperature_c). */
  temperatureC?(tS: number): number;
  /**
   * Optional: optical power (µW) LED `ledIndex` (board order) delivers at the fiber tip
   * for `currentMa` at `temperatureC` (the simulated power meter reads this). Worlds
   * without an LED optics model (e.g. "linear") leave it out.
   */
  ledPowerUw?(ledIndex: number, currentMa: number, temperatureC?: number): number;
}

/** Per-unit options a world factory may honour (from sim:// URL options). */
export interface WorldFactoryOptions {
  /**
   * LED aging, board order: factor on the light each LED emits at any current
   * (0.85 = 15 % dimmer than the unit's seeded curve). Missing entries are 1.
   */
  ledAging?: ReadonlyArray<number | undefined>;
  /** Hardware faults of the front end, board order (sim:// `hw=`; see device/hardware-faults.ts). */
  faults?: WorldFaults;
  /** The scenario document of sim://file (the factory builds the world from it instead of the name). */
  scenarioSpec?: ScenarioSpec;
}
