// The simulated world: scenario physiology + optics + front end behind the
// World interface the simulated device calls, plus a ground-truth API for tests.
//
// Detector signal (float codes, before noise/quantization/saturation):
//   v_d(t) = offset_d + ambient_d(t) + sum_k shape_k(I_k(t)) * G_kd(t)
// shape_k is the LED's drive curve in mA-equivalent (threshold, droop; = I for
// linear LEDs) and G_kd(t) the slow gain in codes per mA-equivalent: LED slope
// and temperature factor, optics (excitation x collection x brightness x
// bleaching x (1 + response x signal) x motion x blood absorption), photodetector
// gain and ADC scale. G is evaluated on an absolute time grid (every gridS,
// default 10 ms: the biology is < 50 Hz) and linearly interpolated; the
// interpolated G *is* the world's definition, so truth.detectorCodes matches a
// noise-free render to rounding.
//
// Determinism: physiology and events come from named random streams, generated
// in order; per-sample noise is a counter-based function of (seed, channel,
// round(t * 1e7)). A sample's value therefore depends on (scenario, seed, t,
// inputs), not on how renders were chunked (up to floating rounding of t).
import { WorldError } from './errors.ts';
import {
  auxCodesPerUv, auxKindFromLabel, codesPerVolt, defaultAuxParams, defaultDetectorParams, EegSynth, maxCode,
  scaleDetectorParams, unitDetectorParams,
} from './frontend.ts';
import {
  bleachFactor, collectionMatrix, excitationMatrix, FLUOROPHORE_SPECS, type FluorophoreSpec, haemoCoefficient, ledMaxExcessMa,
  ledPowerUw, ledShapeSlope, ledTemperatureFactor, linearLedParams, responseAt, unitLedParams,
} from './optics.ts';
import { hash32, normalAt, normalFromBase, Rng, streamKey } from './rng.ts';
import type { NeOscillationInfo, Scenario } from './scenario.ts';
import { createScenario } from './scenarios/index.ts';
import {
  type AuxEnvelope, type AuxFrontendParams, type DetectorBand, type DetectorFrontendParams, FLUOR_COUNT, FLUOROPHORES,
  type FluorophoreId, type LedUnitParams, type MotionEvent, type NeCycle, type PhysiologySample, type SleepBout,
  type SpindleEvent, type StateAt, type WorldEvent, type WorldEventKind, type WorldFaults, type WorldOptions,
} from './types.ts';
import type { AuxRenderRequest, DetectorRenderRequest, World, WorldBoard, WorldDigitalEdge } from './world.ts';

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
}

const GRID_CACHE = 512;
const AUX_Q = 5; // delta, theta, sigma, beta, emg
const NOISE_TICKS_PER_S = 1e7;
const WARMUP_DELTA_C = 5;
const WARMUP_TAU_S = 1200;
const AMBIENT_C = 25;

// Module-local copies: imported bindings are read through getters in some loaders (tsx), costly in hot loops.
const NF = FLUOR_COUNT;
const normal = normalAt;
const normalB = normalFromBase;
const hashB = hash32;
const TWO_POW_32 = 4294967296;
const TWO_PI = 2 * Math.PI;
/** Detector samples per inner chunk; oscillator recurrences are re-anchored to absolute time at each chunk start. */
const CHUNK = 512;

function frac(x: number): number {
  return x - Math.floor(x);
}

const FAULT_NONE = 0;
const FAULT_DEAD = 1;
const FAULT_SATURATED = 2;
const FAULT_NOISY = 3;
const FAULT_STUCK = 4;

function noiseCounter(tS: number): number {
  const c = Math.round(tS * NOISE_TICKS_PER_S);
  return c >= 0 ? 2 * c : -2 * c - 1;
}

function isIntIn(x: number, lo: number, hi: number): boolean {
  return Number.isInteger(x) && x >= lo && x <= hi;
}

function validateBoard(board: WorldBoard): void {
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

function badOption(msg: string): never {
  throw new WorldError('E_SIM_BAD_OPTION', msg, 'fix the options passed to createWorld (see WorldOptions in firmware-sim/world/types.ts)');
}

function badRequest(msg: string): never {
  throw new WorldError('E_SIM_BAD_REQUEST', msg, 'the device must pass one array per board channel, at least `count` long, with dtS > 0 and oversampling >= 1');
}

class SimWorldImpl implements SimWorld {
  readonly scenario: string;
  readonly seed: number;
  readonly board: WorldBoard;
  readonly truth: GroundTruth;
  readonly params: WorldParams;
  private readonly sc: Scenario;
  private readonly nL: number;
  private readonly nD: number;
  private readonly nA: number;
  private readonly nH: number;
  // LEDs
  private readonly ledTh: Float64Array;
  private readonly ledDroop: Float64Array;
  private readonly ledXMax: Float64Array;
  private readonly ledOn: Float64Array;
  private readonly haemoCoef: Float64Array;
  /** h(λ) at each fluorophore's emission peak (0 for non-tissue fluorophores). */
  private readonly haemoEmCoef: Float64Array;
  // optics
  private readonly E: Float64Array; // [k][f]
  private readonly C: Float64Array; // [f][d]
  private readonly R: Float64Array; // [k][f]
  private readonly bright: Float64Array;
  private readonly tissue: Uint8Array;
  // detectors (codes)
  private readonly cpv: Float64Array;
  private readonly maxC: Float64Array;
  private readonly offC: Float64Array;
  private readonly dcC: Float64Array;
  private readonly flickHz: Float64Array;
  private readonly flickPh: Float64Array; // cycles
  private readonly flickC: Float64Array; // [d][h]
  private readonly readC2: Float64Array;
  private readonly shotC: Float64Array;
  private readonly detGainC: Float64Array; // codes per µW collected
  private readonly detFault: Uint8Array;
  private readonly detNoiseFactor: Float64Array;
  private readonly detStuck: Float64Array;
  private readonly detNoiseKey: Uint32Array;
  // aux
  private readonly auxCpu: Float64Array;
  private readonly auxMin: Float64Array;
  private readonly auxMax: Float64Array;
  private readonly auxKind: Uint8Array; // 0 eeg, 1 emg
  private readonly auxFault: Uint8Array; // 0 none, 1 disconnected, 2 railed
  private readonly auxBioKey: Uint32Array;
  private readonly auxAmpKey: Uint32Array;
  private readonly eeg: EegSynth[];
  private readonly mainsPhase: number;
  // grid
  private readonly h: number;
  private readonly invH: number;
  private readonly gKeys: Float64Array;
  private readonly gVals: Float64Array;
  private readonly aKeys: Float64Array;
  private readonly aVals: Float64Array;
  // scratch
  private readonly sig = new Float64Array(FLUOR_COUNT);
  private readonly amp = new Float64Array(FLUOR_COUNT);
  private readonly cFr = new Float64Array(CHUNK);
  /** Runs of samples between grid points: run r starts at cSegAt[r] (cSegAt[runs] = n) and interpolates slots cSegO0[r]..cSegO1[r]. */
  private readonly cSegAt = new Int32Array(CHUNK + 1);
  private readonly cSegO0 = new Int32Array(CHUNK);
  private readonly cSegO1 = new Int32Array(CHUNK);
  private readonly cCtr = new Float64Array(CHUNK);
  private readonly cAcc = new Float64Array(CHUNK);
  /** Per LED: 1 when its drive shape is non-zero somewhere in the current chunk. */
  private readonly cLit: Uint8Array;
  private readonly cShape: Float64Array;
  private readonly cFlick: Float64Array;
  private readonly flCd: Float64Array;
  private readonly flSd: Float64Array;
  private flDt = Number.NaN;
  private readonly env: AuxEnvelope = { deltaUv: 0, thetaUv: 0, sigmaUv: 0, betaUv: 0, emgUv: 0 };
  private readonly tmpG: Float64Array;
  private readonly tmpG2: Float64Array;
  private auxScratch: Float64Array[] = [];
  private readonly spindleScratch: SpindleEvent[] = [];
  private faultState: WorldFaults = {};

  constructor(scenarioName: string, seed: number, board: WorldBoard, options: WorldOptions) {
    if (!Number.isFinite(seed)) badOption(`seed must be a finite number, got ${seed}`);
    validateBoard(board);
    this.sc = createScenario(scenarioName, seed);
    this.scenario = scenarioName;
    this.seed = seed;
    this.board = board;
    const sc = this.sc;
    const d0 = sc.defaults;
    const nL = (this.nL = board.leds.length);
    const nD = (this.nD = board.detectors.length);
    const nA = (this.nA = board.aux.length);

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
    this.params = {
      leds, detectors: dets, aux, fluorophores: FLUOROPHORE_SPECS, brightness: [...d0.brightness], gridS, flags,
    };

    this.ledTh = Float64Array.from(leds, (p) => p.thresholdMa);
    this.ledDroop = Float64Array.from(leds, (p) => p.droopPerMa);
    this.ledXMax = Float64Array.from(leds, (p) => ledMaxExcessMa(p));
    this.ledOn = new Float64Array(nL).fill(1);
    this.haemoCoef = Float64Array.from(leds, (p) => haemoCoefficient(p.wavelengthNm));

    const wl = leds.map((p) => p.wavelengthNm);
    const em = excitationMatrix(wl);
    const cm = collectionMatrix(bands);
    this.E = new Float64Array(nL * FLUOR_COUNT);
    this.R = new Float64Array(nL * FLUOR_COUNT);
    for (let k = 0; k < nL; k++) {
      for (let f = 0; f < FLUOR_COUNT; f++) {
        this.E[k * FLUOR_COUNT + f] = em[k]![f]!;
        this.R[k * FLUOR_COUNT + f] = responseAt(FLUOROPHORE_SPECS[f]!, wl[k]!);
      }
    }
    this.C = new Float64Array(FLUOR_COUNT * nD);
    for (let f = 0; f < FLUOR_COUNT; f++) for (let d = 0; d < nD; d++) this.C[f * nD + d] = cm[f]![d]!;
    this.bright = Float64Array.from(d0.brightness);
    this.tissue = Uint8Array.from(FLUOROPHORE_SPECS, (s) => (s.tissue ? 1 : 0));
    this.haemoEmCoef = Float64Array.from(FLUOROPHORE_SPECS, (s) => (s.tissue ? haemoCoefficient(s.emissionNm) : 0));

    this.cpv = Float64Array.from(board.detectors, (d) => codesPerVolt(d.adcBits, d.fullScaleV));
    this.maxC = Float64Array.from(board.detectors, (d) => maxCode(d.adcBits));
    this.offC = Float64Array.from(dets, (p, d) => p.offsetV * this.cpv[d]!);
    this.dcC = Float64Array.from(dets, (p, d) => (flags.ambient ? p.ambientDcV * this.cpv[d]! : 0));
    const nH = (this.nH = dets.reduce((m, p) => Math.max(m, p.flicker.length), 0));
    this.flickHz = new Float64Array(nH);
    this.flickPh = new Float64Array(nH);
    this.flickC = new Float64Array(nD * nH);
    dets.forEach((p, d) => {
      p.flicker.forEach((fl, j) => {
        this.flickHz[j] = fl.hz;
        this.flickPh[j] = fl.phaseRad / (2 * Math.PI);
        this.flickC[d * nH + j] = flags.ambient ? fl.amplitudeV * this.cpv[d]! : 0;
      });
    });
    this.readC2 = Float64Array.from(dets, (p, d) => (p.readNoiseV * this.cpv[d]!) ** 2);
    this.shotC = Float64Array.from(dets, (p, d) => p.shotNoiseV2PerV * this.cpv[d]!);
    this.detGainC = Float64Array.from(dets, (p, d) => p.gainVPerUw * this.cpv[d]!);
    this.detFault = new Uint8Array(nD);
    this.detNoiseFactor = new Float64Array(nD).fill(1);
    this.detStuck = new Float64Array(nD);
    this.detNoiseKey = Uint32Array.from({ length: nD }, (_, d) => streamKey(seed, 'detector-noise', d));

    this.auxCpu = Float64Array.from(board.aux, (a) => auxCodesPerUv(a.gainVPerV, a.adcBits, a.fullScaleV));
    this.auxMin = Float64Array.from(board.aux, (a) => -(2 ** (a.adcBits - 1)));
    this.auxMax = Float64Array.from(board.aux, (a) => 2 ** (a.adcBits - 1) - 1);
    this.auxKind = Uint8Array.from(aux, (p) => (p.kind === 'emg' ? 1 : 0));
    this.auxFault = new Uint8Array(nA);
    this.auxBioKey = Uint32Array.from({ length: nA }, (_, i) => streamKey(seed, 'aux-bio', i));
    this.auxAmpKey = Uint32Array.from({ length: nA }, (_, i) => streamKey(seed, 'aux-amp-noise', i));
    this.eeg = board.aux.map((_, i) => new EegSynth(Rng.derive(seed, 'eeg', i)));
    this.mainsPhase = ambRng.next();

    this.h = gridS;
    this.invH = 1 / gridS;
    this.gKeys = new Float64Array(GRID_CACHE).fill(Number.NaN);
    this.gVals = new Float64Array(GRID_CACHE * nL * nD);
    this.aKeys = new Float64Array(GRID_CACHE).fill(Number.NaN);
    this.aVals = new Float64Array(GRID_CACHE * AUX_Q);
    this.cShape = new Float64Array(nL * CHUNK);
    this.cLit = new Uint8Array(nL);
    this.cFlick = new Float64Array(nH * CHUNK);
    this.flCd = new Float64Array(nH);
    this.flSd = new Float64Array(nH);
    this.tmpG = new Float64Array(nL * nD);
    this.tmpG2 = new Float64Array(nL * nD);

    if (options.faults) this.setFaults(options.faults);
    this.truth = this.makeTruth();
  }

  // ------------------------------------------------------------ faults

  get faults(): Readonly<WorldFaults> {
    return this.faultState;
  }

  setFaults(faults: WorldFaults): void {
    const idx = (what: string, i: number, n: number): void => {
      if (!isIntIn(i, 0, n - 1)) throw new WorldError('E_SIM_BAD_INDEX', `fault ${what} index ${i} out of range 0..${n - 1}`, 'name channels by board position');
    };
    for (const k of faults.deadLeds ?? []) idx('LED', k, this.nL);
    for (const f of faults.detectors ?? []) idx('detector', f.index, this.nD);
    for (const f of faults.aux ?? []) idx('aux', f.index, this.nA);
    this.ledOn.fill(1);
    for (const k of faults.deadLeds ?? []) this.ledOn[k] = 0;
    this.detFault.fill(FAULT_NONE);
    this.detNoiseFactor.fill(1);
    for (const f of faults.detectors ?? []) {
      this.detFault[f.index] = f.kind === 'dead' ? FAULT_DEAD : f.kind === 'saturated' ? FAULT_SATURATED : f.kind === 'noisy' ? FAULT_NOISY : FAULT_STUCK;
      if (f.kind === 'noisy') this.detNoiseFactor[f.index] = f.noiseFactor ?? 20;
      if (f.kind === 'stuck') this.detStuck[f.index] = Math.min(this.maxC[f.index]!, Math.max(0, Math.round(f.code ?? 0)));
    }
    this.auxFault.fill(0);
    for (const f of faults.aux ?? []) this.auxFault[f.index] = f.kind === 'disconnected' ? 1 : 2;
    this.faultState = structuredClone(faults);
  }

  // ------------------------------------------------------------ slow parts

  temperatureC(tS: number): number {
    const f = this.params.flags;
    if (f.temperatureC !== null) return f.temperatureC;
    if (!f.temperatureDrift) return AMBIENT_C;
    return AMBIENT_C + WARMUP_DELTA_C * (1 - Math.exp(-Math.max(tS, 0) / WARMUP_TAU_S));
  }

  ledPowerUw(ledIndex: number, currentMa: number, temperatureC?: number): number {
    this.checkLed(ledIndex);
    return this.ledOn[ledIndex]! * ledPowerUw(this.params.leds[ledIndex]!, currentMa, temperatureC ?? this.temperatureC(0));
  }

  /** Gains G[k][d] (codes per mA-equivalent) at t into out[o..]; only fluorophore `only` if >= 0. */
  private computeGain(tS: number, out: Float64Array, o: number, only: number): void {
    const fl = this.params.flags;
    const nL = this.nL;
    const nD = this.nD;
    const sig = this.sig;
    const amp = this.amp;
    this.sc.signalsAt(tS, sig);
    const m = fl.motion ? this.sc.motionFactor(tS) : 1;
    const bv = fl.haemodynamics ? this.sc.bloodVolume(tS) : 0;
    for (let f = 0; f < NF; f++) {
      // emission path: blood absorbs each tissue fluorophore's light at its emission wavelength
      amp[f] = this.bright[f]! * (fl.bleaching ? bleachFactor(FLUOROPHORE_SPECS[f]!.bleach, tS) : 1) * (fl.haemodynamics ? Math.exp(-this.haemoEmCoef[f]! * bv) : 1);
    }
    const T = this.temperatureC(tS);
    for (let k = 0; k < nL; k++) {
      const p = this.params.leds[k]!;
      const base = p.slopeUwPerMa * ledTemperatureFactor(p, T);
      const hk = fl.haemodynamics ? Math.exp(-this.haemoCoef[k]! * bv) : 1;
      for (let d = 0; d < nD; d++) {
        let s = 0;
        for (let f = 0; f < NF; f++) {
          if (only >= 0 && f !== only) continue;
          let term = this.E[k * NF + f]! * this.C[f * nD + d]! * amp[f]! * (1 + this.R[k * NF + f]! * sig[f]!);
          if (this.tissue[f]) term *= m * hk;
          s += term;
        }
        out[o + k * nD + d] = base * s * this.detGainC[d]!;
      }
    }
  }

  /** Offset of grid point g's gains in gVals (computed on first use). */
  private gridSlot(g: number): number {
    const slot = ((g % GRID_CACHE) + GRID_CACHE) % GRID_CACHE;
    const o = slot * this.nL * this.nD;
    if (this.gKeys[slot] !== g) {
      this.computeGain(g * this.h, this.gVals, o, -1);
      this.gKeys[slot] = g;
    }
    return o;
  }

  private auxSlot(g: number): number {
    const slot = ((g % GRID_CACHE) + GRID_CACHE) % GRID_CACHE;
    const o = slot * AUX_Q;
    if (this.aKeys[slot] !== g) {
      const e = this.env;
      this.sc.auxEnvelope(g * this.h, e);
      this.aVals[o] = e.deltaUv;
      this.aVals[o + 1] = e.thetaUv;
      this.aVals[o + 2] = e.sigmaUv;
      this.aVals[o + 3] = e.betaUv;
      this.aVals[o + 4] = e.emgUv;
      this.aKeys[slot] = g;
    }
    return o;
  }

  private ledShapeOf(k: number, currentMa: number): number {
    let x = currentMa - this.ledTh[k]!;
    if (!(x > 0)) return 0;
    if (x > this.ledXMax[k]!) x = this.ledXMax[k]!;
    return x * (1 - this.ledDroop[k]! * x) * this.ledOn[k]!;
  }

  private ambientAt(d: number, tS: number): number {
    let a = this.dcC[d]!;
    for (let j = 0; j < this.nH; j++) {
      a += this.flickC[d * this.nH + j]! * Math.sin(TWO_PI * (frac(this.flickHz[j]! * tS) + this.flickPh[j]!));
    }
    return a;
  }

  // ------------------------------------------------------------ detectors

  renderDetectors(request: DetectorRenderRequest): void {
    this.checkDetectorRequest(request, request.out.length);
    const n = request.oversampling;
    if (!isIntIn(n, 1, 1 << 20)) badRequest(`oversampling must be an integer >= 1, got ${n}`);
    this.renderCore(request.t0S, request.dtS, request.count, request.ledCurrentMa, n, request.out, null);
  }

  private checkDetectorRequest(
    r: { t0S: number; dtS: number; count: number; ledCurrentMa: ReadonlyArray<ArrayLike<number>> }, outLen: number,
  ): void {
    if (!Number.isFinite(r.t0S)) badRequest(`t0S must be finite, got ${r.t0S}`);
    if (!(Number.isFinite(r.dtS) && r.dtS > 0)) badRequest(`dtS must be > 0, got ${r.dtS}`);
    if (!isIntIn(r.count, 0, 2 ** 31)) badRequest(`count must be a non-negative integer, got ${r.count}`);
    if (r.ledCurrentMa.length !== this.nL) badRequest(`ledCurrentMa has ${r.ledCurrentMa.length} arrays, the board has ${this.nL} LEDs`);
    for (const a of r.ledCurrentMa) if (a.length < r.count) badRequest(`an ledCurrentMa array is shorter (${a.length}) than count ${r.count}`);
    if (outLen !== this.nD) badRequest(`out has ${outLen} arrays, the board has ${this.nD} detectors`);
  }

  /** The detector loop: integer codes (with noise, quantization, saturation, faults) or float codes (noise-free). */
  private renderCore(
    t0S: number, dtS: number, count: number, ledCurrentMa: ReadonlyArray<ArrayLike<number>>, oversampling: number,
    outInt: ReadonlyArray<Int32Array> | null, outFloat: ReadonlyArray<Float64Array> | null,
  ): void {
    for (let d = 0; d < this.nD; d++) {
      const len = outInt ? outInt[d]!.length : outFloat![d]!.length;
      if (len < count) badRequest(`out[${d}] is shorter (${len}) than count ${count}`);
    }
    const dt = dtS;
    if (dt !== this.flDt) {
      for (let j = 0; j < this.nH; j++) {
        this.flCd[j] = Math.cos(TWO_PI * this.flickHz[j]! * dt);
        this.flSd[j] = Math.sin(TWO_PI * this.flickHz[j]! * dt);
      }
      this.flDt = dt;
    }
    // Column-wise over chunks (fixed scratch, tight loops). A chunk's grid
    // slots stay cached until it is done: it spans fewer than GRID_CACHE - 4 grid points.
    const chunk = Math.max(1, Math.min(CHUNK, Math.floor(((GRID_CACHE - 4) * this.h) / dtS)));
    for (let at = 0; at < count; at += chunk) {
      this.renderChunk(t0S, dtS, at, Math.min(chunk, count - at), ledCurrentMa, oversampling, outInt, outFloat);
    }
  }

  private renderChunk(
    t0S: number, dtS: number, at: number, n: number, ledCurrentMa: ReadonlyArray<ArrayLike<number>>, oversampling: number,
    outInt: ReadonlyArray<Int32Array> | null, outFloat: ReadonlyArray<Float64Array> | null,
  ): void {
    const nL = this.nL;
    const nD = this.nD;
    const nH = this.nH;
    const fr = this.cFr;
    const segAt = this.cSegAt;
    const segO0 = this.cSegO0;
    const segO1 = this.cSegO1;
    const shp = this.cShape;
    const flk = this.cFlick;
    const acc = this.cAcc;
    const ctr = this.cCtr;
    const gv = this.gVals;
    const invH = this.invH;
    const noise = outInt !== null && this.params.flags.noise;

    // time grid: interpolation fraction and slot offsets (grid points computed on first use)
    let gCur = Number.NaN;
    let runs = 0;
    for (let i = 0; i < n; i++) {
      const t = t0S + (at + i) * dtS;
      const x = t * invH;
      const g = Math.floor(x);
      if (g !== gCur) {
        segAt[runs] = i;
        segO0[runs] = this.gridSlot(g);
        segO1[runs] = this.gridSlot(g + 1);
        runs++;
        gCur = g;
      }
      fr[i] = x - g;
      if (noise) ctr[i] = noiseCounter(t);
    }
    segAt[runs] = n;
    // LED drive shapes (mA-equivalent)
    for (let k = 0; k < nL; k++) {
      const cur = ledCurrentMa[k]!;
      const th = this.ledTh[k]!;
      const xm = this.ledXMax[k]!;
      const dr = this.ledDroop[k]!;
      const on = this.ledOn[k]!;
      const base = k * CHUNK;
      let lit = 0;
      for (let i = 0; i < n; i++) {
        let e = cur[at + i]! - th;
        if (!(e > 0)) e = 0;
        else if (e > xm) e = xm;
        const shape = e * (1 - dr * e) * on;
        shp[base + i] = shape;
        if (shape !== 0) lit = 1;
      }
      this.cLit[k] = lit;
    }
    // ambient flicker: exact phase at the chunk start, rotated per sample
    for (let j = 0; j < nH; j++) {
      const th = TWO_PI * (frac(this.flickHz[j]! * (t0S + at * dtS)) + this.flickPh[j]!);
      let sj = Math.sin(th);
      let cj = Math.cos(th);
      const cd = this.flCd[j]!;
      const sd = this.flSd[j]!;
      const base = j * CHUNK;
      for (let i = 0; i < n; i++) {
        flk[base + i] = sj;
        const s2 = sj * cd + cj * sd;
        cj = cj * cd - sj * sd;
        sj = s2;
      }
    }
    const invSqrtN = 1 / Math.sqrt(oversampling);
    for (let d = 0; d < nD; d++) {
      const dc = this.dcC[d]!;
      for (let i = 0; i < n; i++) acc[i] = dc;
      for (let j = 0; j < nH; j++) {
        const amp = this.flickC[d * nH + j]!;
        if (amp === 0) continue;
        const base = j * CHUNK;
        for (let i = 0; i < n; i++) acc[i] = acc[i]! + amp * flk[base + i]!;
      }
      for (let k = 0; k < nL; k++) {
        // an LED dark for the whole chunk adds exactly 0 (finite gains): skipped
        if (this.cLit[k] === 0) continue;
        const off = k * nD + d;
        const base = k * CHUNK;
        // per run of samples between two grid points: the same two gains throughout
        for (let r = 0; r < runs; r++) {
          const a = gv[segO0[r]! + off]!;
          const slope = gv[segO1[r]! + off]! - a;
          const end = segAt[r + 1]!;
          for (let i = segAt[r]!; i < end; i++) acc[i] = acc[i]! + shp[base + i]! * (a + slope * fr[i]!);
        }
      }
      const off = this.offC[d]!;
      if (outFloat) {
        const o = outFloat[d]!;
        for (let i = 0; i < n; i++) o[at + i] = off + acc[i]!;
        continue;
      }
      const o = outInt![d]!;
      const fault = this.detFault[d]!;
      const mx = this.maxC[d]!;
      if (fault === FAULT_SATURATED || fault === FAULT_STUCK) {
        o.fill(fault === FAULT_SATURATED ? mx : this.detStuck[d]!, at, at + n);
        continue;
      }
      if (fault === FAULT_DEAD) acc.fill(0, 0, n);
      this.quantize(d, o, at, n, noise, this.detNoiseFactor[d]! * invSqrtN);
    }
  }

  /**
   * Detector d's light in cAcc[0..n) to integer codes at o[at..at+n): offset, noise (counters in
   * cCtr), rounding, clipping. Its own (small) function: the optimizer inlines the normal draw here.
   */
  private quantize(d: number, o: Int32Array, at: number, n: number, noise: boolean, nf: number): void {
    const acc = this.cAcc;
    const ctr = this.cCtr;
    const off = this.offC[d]!;
    const mx = this.maxC[d]!;
    const r2 = this.readC2[d]!;
    const sh = this.shotC[d]!;
    const key = this.detNoiseKey[d]!;
    let hiCur = -1;
    let base = 0;
    for (let i = 0; i < n; i++) {
      const light = acc[i]!;
      let v = off + light;
      if (noise) {
        const cnt = ctr[i]!;
        const hi = Math.floor(cnt / TWO_POW_32);
        if (hi !== hiCur) {
          base = hashB(key, hi);
          hiCur = hi;
        }
        v += Math.sqrt(r2 + sh * Math.max(light, 0)) * nf * normalB(base, (cnt - hi * TWO_POW_32) >>> 0);
      }
      let c = Math.round(v);
      if (c < 0) c = 0;
      else if (c > mx) c = mx;
      o[at + i] = c;
    }
  }

  // ------------------------------------------------------------ aux

  renderAux(request: AuxRenderRequest): void {
    const { t0S, dtS, count, out } = request;
    if (!Number.isFinite(t0S)) badRequest(`t0S must be finite, got ${t0S}`);
    if (!(Number.isFinite(dtS) && dtS > 0)) badRequest(`dtS must be > 0, got ${dtS}`);
    if (!isIntIn(count, 0, 2 ** 31)) badRequest(`count must be a non-negative integer, got ${count}`);
    if (out.length !== this.nA) badRequest(`out has ${out.length} arrays, the board has ${this.nA} aux inputs`);
    for (let a = 0; a < this.nA; a++) {
      const o = out[a]!;
      if (o.length < count) badRequest(`out[${a}] is shorter (${o.length}) than count ${count}`);
      const uv = this.scratch(0, count);
      this.auxUv(a, t0S, dtS, count, uv, this.params.flags.noise);
      const fault = this.auxFault[a]!;
      const cpu = this.auxCpu[a]!;
      const mn = this.auxMin[a]!;
      const mx = this.auxMax[a]!;
      for (let i = 0; i < count; i++) {
        let c = Math.round(uv[i]! * cpu);
        if (c < mn) c = mn;
        else if (c > mx) c = mx;
        o[i] = fault === 2 ? mx : c;
      }
    }
  }

  private scratch(i: number, count: number): Float64Array {
    let s = this.auxScratch[i];
    if (!s || s.length < count) {
      s = new Float64Array(Math.max(count, 256));
      this.auxScratch[i] = s;
    }
    return s;
  }

  /** Electrode µV of aux input a into out[0..count); amplifier noise if `noise`. */
  private auxUv(a: number, t0S: number, dtS: number, count: number, out: Float64Array, noise: boolean): void {
    out.fill(0, 0, count);
    const p = this.params.aux[a]!;
    const fl = this.params.flags;
    const disconnected = this.auxFault[a] === 1;
    const sc = this.sc;
    if (!disconnected && sc.auxContent === 'eeg') {
      const delta = this.scratch(1, count);
      const theta = this.scratch(2, count);
      const sigma = this.scratch(3, count);
      const beta = this.scratch(4, count);
      const emg = this.scratch(5, count);
      let gCur = Number.NaN;
      let o0 = 0;
      let o1 = 0;
      const av = this.aVals;
      for (let i = 0; i < count; i++) {
        const x = (t0S + i * dtS) * this.invH;
        const g = Math.floor(x);
        const fr = x - g;
        if (g !== gCur) {
          o0 = this.auxSlot(g);
          o1 = this.auxSlot(g + 1);
          gCur = g;
        }
        delta[i] = av[o0]! + (av[o1]! - av[o0]!) * fr;
        theta[i] = av[o0 + 1]! + (av[o1 + 1]! - av[o0 + 1]!) * fr;
        sigma[i] = av[o0 + 2]! + (av[o1 + 2]! - av[o0 + 2]!) * fr;
        beta[i] = av[o0 + 3]! + (av[o1 + 3]! - av[o0 + 3]!) * fr;
        emg[i] = av[o0 + 4]! + (av[o1 + 4]! - av[o0 + 4]!) * fr;
      }
      const key = this.auxBioKey[a]!;
      if (this.auxKind[a] === 0) {
        this.eeg[a]!.addTo(t0S, dtS, count, delta, theta, sigma, beta, out);
        // broadband background, 3 µV rms
        for (let i = 0; i < count; i++) {
          out[i] = out[i]! + 3 * normal(key, noiseCounter(t0S + i * dtS));
        }
        const sp = this.spindleScratch;
        sp.length = 0;
        sc.spindlesTouching(t0S, t0S + count * dtS, sp);
        for (const s of sp) {
          const sd = s.durationS / 4;
          const reach = 3 * sd;
          const iFrom = Math.max(0, Math.ceil((s.centerS - reach - t0S) / dtS));
          const iTo = Math.min(count - 1, Math.floor((s.centerS + reach - t0S) / dtS));
          for (let i = iFrom; i <= iTo; i++) {
            const u = t0S + i * dtS - s.centerS;
            out[i] = out[i]! + s.amplitudeUv * Math.exp((-0.5 * u * u) / (sd * sd)) * Math.sin(2 * Math.PI * s.frequencyHz * u);
          }
        }
      } else {
        for (let i = 0; i < count; i++) {
          out[i] = out[i]! + emg[i]! * normal(key, noiseCounter(t0S + i * dtS));
        }
      }
    } else if (!disconnected && sc.auxContent === 'tones') {
      for (const tone of sc.auxTones) {
        for (let i = 0; i < count; i++) {
          out[i] = out[i]! + tone.amplitudeUv * Math.sin(2 * Math.PI * frac(tone.hz * (t0S + i * dtS)));
        }
      }
    }
    const mains = disconnected ? 200 : fl.ambient ? p.mainsPickupUv : 0;
    if (mains !== 0) {
      for (let i = 0; i < count; i++) {
        out[i] = out[i]! + mains * Math.sin(2 * Math.PI * (frac(fl.mainsHz * (t0S + i * dtS)) + this.mainsPhase));
      }
    }
    const ampNoise = noise ? (disconnected ? 20 : p.noiseUv) : 0;
    if (ampNoise > 0) {
      const key = this.auxAmpKey[a]!;
      for (let i = 0; i < count; i++) {
        out[i] = out[i]! + ampNoise * normal(key, noiseCounter(t0S + i * dtS));
      }
    }
  }

  // ------------------------------------------------------------ digital

  digitalEdges(t0S: number, t1S: number): WorldDigitalEdge[] {
    if (!(t1S > t0S)) return [];
    const lines = this.board.digitalInputs;
    return this.sc.digitalEdges(t0S, t1S, lines.length).map((e) => ({ lineId: lines[e.lineIndex]!.id, rising: e.rising, tS: e.tS }));
  }

  // ------------------------------------------------------------ truth

  private checkLed(k: number): void {
    if (!isIntIn(k, 0, this.nL - 1)) throw new WorldError('E_SIM_BAD_INDEX', `LED index ${k} out of range 0..${this.nL - 1}`, 'LEDs are named by board position');
  }
  private checkDet(d: number): void {
    if (!isIntIn(d, 0, this.nD - 1)) throw new WorldError('E_SIM_BAD_INDEX', `detector index ${d} out of range 0..${this.nD - 1}`, 'detectors are named by board position');
  }
  private checkAux(a: number): void {
    if (!isIntIn(a, 0, this.nA - 1)) throw new WorldError('E_SIM_BAD_INDEX', `aux index ${a} out of range 0..${this.nA - 1}`, 'aux inputs are named by board position');
  }
  private fluorIndex(f: FluorophoreId): number {
    const i = FLUOROPHORES.indexOf(f);
    if (i < 0) throw new WorldError('E_SIM_BAD_INDEX', `unknown fluorophore "${String(f)}"`, `use one of: ${FLUOROPHORES.join(', ')}`);
    return i;
  }

  /** Interpolated G[k][d] at t (the same arithmetic as the render loop). */
  private gainAt(k: number, d: number, tS: number): number {
    const x = tS * this.invH;
    const g = Math.floor(x);
    const fr = x - g;
    const o0 = this.gridSlot(g);
    const o1 = this.gridSlot(g + 1);
    const a = this.gVals[o0 + k * this.nD + d]!;
    return a + (this.gVals[o1 + k * this.nD + d]! - a) * fr;
  }

  private makeTruth(): GroundTruth {
    const sc = this.sc;
    return {
      scenario: { name: sc.name, description: sc.description, params: sc.params },
      fluorophores: FLUOROPHORES,
      neOscillation: sc.neOscillation,
      signal: (f, tS) => {
        this.fluorIndex(f);
        return sc.signal(f, tS);
      },
      signals: (f, t0S, dtS, count, out) => {
        const fi = this.fluorIndex(f);
        const o = out ?? new Float64Array(count);
        const tmp = new Float64Array(FLUOR_COUNT);
        for (let i = 0; i < count; i++) {
          sc.signalsAt(t0S + i * dtS, tmp);
          o[i] = tmp[fi]!;
        }
        return o;
      },
      physiology: (tS) => ({ tS, state: sc.stateAt(tS), ne: sc.ne(tS), bloodVolume: sc.bloodVolume(tS), csf: sc.csf(tS) }),
      sleepStateAt: (tS) => sc.stateAt(tS),
      bouts: (t0S, t1S) => sc.bouts(t0S, t1S),
      events: (t0S, t1S, kinds) => {
        const ev = sc.events(t0S, t1S);
        return kinds ? ev.filter((e) => kinds.includes(e.kind)) : ev;
      },
      neCycles: (t0S, t1S) => sc.neCycles(t0S, t1S),
      motionEvents: (t0S, t1S) => (this.params.flags.motion ? sc.motionEvents(t0S, t1S) : []),
      crosstalk: () => ({
        excitation: Array.from({ length: this.nL }, (_, k) => Array.from(this.E.subarray(k * FLUOR_COUNT, (k + 1) * FLUOR_COUNT))),
        collection: Array.from({ length: FLUOR_COUNT }, (_, f) => Array.from(this.C.subarray(f * this.nD, (f + 1) * this.nD))),
        response: Array.from({ length: this.nL }, (_, k) => Array.from(this.R.subarray(k * FLUOR_COUNT, (k + 1) * FLUOR_COUNT))),
        brightness: Array.from(this.bright),
        tissue: Array.from(this.tissue, (x) => x === 1),
      }),
      bleachFactor: (f, tS) => (this.params.flags.bleaching ? bleachFactor(FLUOROPHORE_SPECS[this.fluorIndex(f)]!.bleach, tS) : 1),
      motionFactor: (tS) => (this.params.flags.motion ? sc.motionFactor(tS) : 1),
      haemoFactor: (k, tS) => {
        this.checkLed(k);
        return this.params.flags.haemodynamics ? Math.exp(-this.haemoCoef[k]! * sc.bloodVolume(tS)) : 1;
      },
      emissionHaemoFactor: (f, tS) => {
        const fi = this.fluorIndex(f);
        return this.params.flags.haemodynamics ? Math.exp(-this.haemoEmCoef[fi]! * sc.bloodVolume(tS)) : 1;
      },
      temperatureC: (tS) => this.temperatureC(tS),
      codesPerMa: (k, d, tS, atCurrentMa) => {
        this.checkLed(k);
        this.checkDet(d);
        const slope = atCurrentMa === undefined ? 1 : ledShapeSlope(this.params.leds[k]!, atCurrentMa);
        return this.ledOn[k]! * slope * this.gainAt(k, d, tS);
      },
      fluorophoreCodesPerMa: (k, f, d, tS) => {
        this.checkLed(k);
        this.checkDet(d);
        const fi = this.fluorIndex(f);
        const x = tS * this.invH;
        const g = Math.floor(x);
        const fr = x - g;
        this.computeGain(g * this.h, this.tmpG, 0, fi);
        this.computeGain((g + 1) * this.h, this.tmpG2, 0, fi);
        const a = this.tmpG[k * this.nD + d]!;
        return this.ledOn[k]! * (a + (this.tmpG2[k * this.nD + d]! - a) * fr);
      },
      detectorCodes: (currents, tS, out) => {
        if (currents.length !== this.nL) badRequest(`expected ${this.nL} LED currents, got ${currents.length}`);
        const o = out ?? new Float64Array(this.nD);
        this.renderCore(tS, 1, 1, Array.from(currents, (c) => Float64Array.of(c)), 1, null, Array.from({ length: this.nD }, (_, d) => o.subarray(d, d + 1)));
        return o;
      },
      ledContributions: (currents, tS) => {
        if (currents.length !== this.nL) badRequest(`expected ${this.nL} LED currents, got ${currents.length}`);
        return Array.from({ length: this.nL }, (_, k) => {
          const s = this.ledShapeOf(k, currents[k]!);
          return Float64Array.from({ length: this.nD }, (_, d) => s * this.gainAt(k, d, tS));
        });
      },
      ambientCodes: (d, tS) => {
        this.checkDet(d);
        return this.ambientAt(d, tS);
      },
      offsetCodes: (d) => {
        this.checkDet(d);
        return this.offC[d]!;
      },
      noiseSigmaCodes: (d, lightCodes, oversampling) => {
        this.checkDet(d);
        if (!this.params.flags.noise) return 0;
        return (Math.sqrt(this.readC2[d]! + this.shotC[d]! * Math.max(0, lightCodes)) / Math.sqrt(oversampling)) * this.detNoiseFactor[d]!;
      },
      renderDetectors: (r) => {
        this.checkDetectorRequest(r, r.out.length);
        this.renderCore(r.t0S, r.dtS, r.count, r.ledCurrentMa, 1, null, r.out);
      },
      auxMicrovolts: (a, t0S, dtS, count, out) => {
        this.checkAux(a);
        const o = out ?? new Float64Array(count);
        this.auxUv(a, t0S, dtS, count, o, false);
        return o;
      },
      auxEnvelope: (tS) => {
        const e: AuxEnvelope = { deltaUv: 0, thetaUv: 0, sigmaUv: 0, betaUv: 0, emgUv: 0 };
        sc.auxEnvelope(tS, e);
        return e;
      },
      auxCodesPerUv: (a) => {
        this.checkAux(a);
        return this.auxCpu[a]!;
      },
      auxCodeRange: (a) => {
        this.checkAux(a);
        return { min: this.auxMin[a]!, max: this.auxMax[a]! };
      },
    };
  }
}

/**
 * Creates a simulated world. `scenario`: 'sleep' | 'zolpidem' | 'steps' | 'dark'
 * (throws WorldError E_SIM_UNKNOWN_SCENARIO otherwise). Deterministic by
 * (scenario, seed, board, options).
 */
export function createWorld(scenario: string, seed: number, board: WorldBoard, options: WorldOptions = {}): SimWorld {
  return new SimWorldImpl(scenario, seed, board, options);
}
