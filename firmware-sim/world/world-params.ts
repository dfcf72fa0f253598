// The parameters a simulated world is built from: the board checked, then per-unit LED,
// detector and aux front-end parameters drawn from the seed (one named random stream per part)
// or taken from the options, and the feature flags. Deterministic by (scenario, seed, board, options).
import { WorldError } from './errors.ts';
import { auxKindFromLabel, defaultAuxParams, defaultDetectorParams, scaleDetectorParams, unitDetectorParams } from './frontend.ts';
import { linearLedParams, unitLedParams } from './optics.ts';
import { badOption, isIntIn } from './render-common.ts';
import { Rng } from './rng.ts';
import type { Scenario } from './scenario.ts';
import type { DetectorBand, LedUnitParams, WorldOptions } from './types.ts';
import type { WorldParams } from './world-api.ts';
import type { WorldBoard } from './world.ts';

export function validateBoard(board: WorldBoard): void {
  const bad = (msg: string): never => {
    throw new WorldError('E_SIM_BAD_BOARD', msg, 'fix the board definition passed to createWorld');
  };
  board.leds.forEach((l, i) => {
    if (!(Number.isFinite(l.wavelengthNm) && l.wavelengthNm > 0)) bad(`leds[${i}].wavelengthNm must be a positive number, got ${l.wavelengthNm}`);
  });
  board.detectors.forEach((d, i) => {
    if (!isIntIn(d.adcBits, 1, 30)) bad(`detectors[${i}].adcBits must be an integer 1..30, got ${d.adcBits}`);
    if (!(Number.isFinite(d.fullScaleV) && d.fullScaleV > 0)) bad(`detectors[${i}].fullScaleV must be positive, got ${d.fullScaleV}`);
  });
  board.aux.forEach((a, i) => {
    if (!isIntIn(a.adcBits, 2, 30)) bad(`aux[${i}].adcBits must be an integer 2..30, got ${a.adcBits}`);
    if (!(Number.isFinite(a.fullScaleV) && a.fullScaleV > 0)) bad(`aux[${i}].fullScaleV must be positive, got ${a.fullScaleV}`);
    if (!(Number.isFinite(a.gainVPerV) && a.gainVPerV > 0)) bad(`aux[${i}].gainVPerV must be positive, got ${a.gainVPerV}`);
  });
}

/** The world's parameters; `bands` per detector; `mainsPhase` (cycles) for the aux inputs' mains pickup. */
export function worldParamsOf(
  sc: Scenario, seed: number, board: WorldBoard, options: WorldOptions,
): { params: WorldParams; bands: DetectorBand[]; mainsPhase: number } {
  const d0 = sc.defaults;
  const mainsHz = options.mainsHz ?? 50;
  if (mainsHz !== 50 && mainsHz !== 60) badOption(`mainsHz must be 50 or 60, got ${mainsHz}`);
  const gridS = options.gridS ?? d0.gridS;
  if (!(Number.isFinite(gridS) && gridS > 0 && gridS <= 0.1)) badOption(`gridS must be in (0, 0.1] s, got ${gridS}`);
  if (options.temperatureC !== undefined && !Number.isFinite(options.temperatureC)) badOption('temperatureC must be finite');
  const ledModel = options.ledModel ?? d0.ledModel;
  if (ledModel !== 'unit' && ledModel !== 'linear') badOption(`ledModel must be 'unit' or 'linear', got ${String(ledModel)}`);
  const flags: WorldParams['flags'] = {
    noise: options.noise ?? true,
    ambient: options.ambient ?? true,
    bleaching: options.bleaching ?? d0.bleaching,
    motion: options.motion ?? d0.motion,
    haemodynamics: options.haemodynamics ?? d0.haemodynamics,
    temperatureDrift: options.temperatureC === undefined && (options.temperatureDrift ?? d0.temperatureDrift),
    ledModel,
    mainsHz,
    temperatureC: options.temperatureC ?? null,
  };

  // LEDs: per-unit parameters from the seed (one stream per LED position), or linear nominal
  const leds = board.leds.map((l, k) => {
    const base = ledModel === 'linear' ? linearLedParams(l.wavelengthNm) : unitLedParams(l.wavelengthNm, Rng.derive(seed, 'led-unit', k));
    const p: LedUnitParams = { ...base, ...(options.leds?.[k] ?? {}), wavelengthNm: l.wavelengthNm };
    if (!(p.slopeUwPerMa >= 0 && p.thresholdMa >= 0 && p.droopPerMa >= 0)) badOption(`leds[${k}]: slope, threshold and droop must be >= 0`);
    const aging = options.ledAging?.[k];
    if (aging !== undefined) {
      if (!(Number.isFinite(aging) && aging > 0 && aging <= 2)) badOption(`ledAging[${k}] must be in (0, 2], got ${aging}`);
      p.slopeUwPerMa *= aging;
    }
    return p;
  });

  // detectors
  const bands: DetectorBand[] = board.detectors.map((_, d) => options.detectorBands?.[d] ?? (d % 2 === 0 ? 'green' : 'red'));
  bands.forEach((b, d) => {
    if (b !== 'green' && b !== 'red') badOption(`detectorBands[${d}] must be 'green' or 'red', got ${String(b)}`);
  });
  const ambRng = Rng.derive(seed, 'ambient');
  const phases: [number, number] = [ambRng.uniform(0, 2 * Math.PI), ambRng.uniform(0, 2 * Math.PI)];
  const dets = board.detectors.map((_, d) => {
    const unit = unitDetectorParams(defaultDetectorParams(bands[d]!, mainsHz, phases), Rng.derive(seed, 'detector-unit', d));
    return { ...scaleDetectorParams(unit, d0.ambientScale, d0.noiseScale), ...(options.detectors?.[d] ?? {}), band: bands[d]! };
  });
  const aux = board.aux.map((a, i) => {
    const o = options.aux?.[i] ?? {};
    return { ...defaultAuxParams(o.kind ?? auxKindFromLabel(a.label)), ...o };
  });
  const params: WorldParams = {
    leds, detectors: dets, aux, fluorophores: sc.fluorophores, brightness: [...d0.brightness], gridS, flags,
  };
  // the ambient stream's next draw: the mains pickup phase of the aux inputs
  return { params, bands, mainsPhase: ambRng.next() };
}
