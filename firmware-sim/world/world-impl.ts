// One unit: the detector render loop and the gain grid it interpolates share scratch and caches tuned together.
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
import { AuxRenderer } from './aux-render.ts';
import { WorldError } from './errors.ts';
import { codesPerVolt, maxCode } from './frontend.ts';
import {
  bleachFactor, collectionMatrix, excitationMatrix, haemoCoefficient, ledMaxExcessMa, ledPowerUw,
  ledTemperatureFactor, responseAt,
} from './optics.ts';
import { badOption, badRequest, fracOf, GRID_CACHE, isIntIn, NOISE_TICKS_PER_S } from './render-common.ts';
import { hash32, normalTailOf, streamKey, ZIG_K, ZIG_W } from './rng.ts';
import type { Scenario } from './scenario.ts';
import { issueLines } from './scenario-file/parse.ts';
import { type ScenarioSpec, type TimelineEventInput, timelineEventSchema } from './scenario-file/spec.ts';
import { createScenario } from './scenarios/index.ts';
import { FLUOR_COUNT, FLUOROPHORES, type FluorophoreId, type WorldFaults, type WorldOptions } from './types.ts';
import type { GroundTruth, SimWorld, WorldParams } from './world-api.ts';
import { groundTruthOf } from './truth.ts';
import { validateBoard, worldParamsOf } from './world-params.ts';
import type { AuxRenderRequest, DetectorRenderRequest, WorldBoard, WorldDigitalEdge } from './world.ts';

export type { CrosstalkInfo, GroundTruth, NoiseFreeDetectorRequest, SimWorld, WorldParams } from './world-api.ts';

const WARMUP_DELTA_C = 5;
const WARMUP_TAU_S = 1200;
const AMBIENT_C = 25;

// Module-local copies: imported bindings are read through getters in some loaders (tsx), costly in hot loops.
const NF = FLUOR_COUNT;
const ZK_ = ZIG_K;
const ZW_ = ZIG_W;
const TWO_P32 = 4294967296;
const INV_2P32 = 1 / TWO_P32;
/** Odd multiplier spreading a noise counter's low word (rng.ts normalFastAt). */
const WEYL = 0x9e3779b1 | 0;
const TICKS_PER_S = NOISE_TICKS_PER_S;
const frac = fracOf;
const TWO_PI = 2 * Math.PI;
/** Detector samples per inner chunk; oscillator recurrences are re-anchored to absolute time at each chunk start. */
const CHUNK = 512;

const FAULT_NONE = 0;
const FAULT_DEAD = 1;
const FAULT_SATURATED = 2;
const FAULT_NOISY = 3;
const FAULT_STUCK = 4;

/** The world's implementation; its non-private members are for truth.ts (the package's own use). */
export class SimWorldImpl implements SimWorld {
  readonly scenario: string;
  readonly seed: number;
  readonly board: WorldBoard;
  readonly truth: GroundTruth;
  readonly params: WorldParams;
  readonly sc: Scenario;
  readonly nL: number;
  readonly nD: number;
  private readonly nA: number;
  private readonly nH: number;
  // LEDs
  private readonly ledTh: Float64Array;
  private readonly ledDroop: Float64Array;
  private readonly ledXMax: Float64Array;
  readonly ledOn: Float64Array;
  readonly haemoCoef: Float64Array;
  /** h(λ) at each fluorophore's emission peak (0 for non-tissue fluorophores). */
  readonly haemoEmCoef: Float64Array;
  // optics
  readonly E: Float64Array; // [k][f]
  readonly C: Float64Array; // [f][d]
  readonly R: Float64Array; // [k][f]
  readonly bright: Float64Array;
  readonly tissue: Uint8Array;
  // detectors (codes)
  private readonly cpv: Float64Array;
  private readonly maxC: Float64Array;
  readonly offC: Float64Array;
  private readonly dcC: Float64Array;
  private readonly flickHz: Float64Array;
  private readonly flickPh: Float64Array; // cycles
  private readonly flickC: Float64Array; // [d][h]
  readonly readC2: Float64Array;
  readonly shotC: Float64Array;
  private readonly detGainC: Float64Array; // codes per µW collected
  private readonly detFault: Uint8Array;
  readonly detNoiseFactor: Float64Array;
  private readonly detStuck: Float64Array;
  private readonly detNoiseKey: Uint32Array;
  // aux inputs (EEG, EMG)
  readonly aux: AuxRenderer;
  // grid
  private readonly h: number;
  private readonly invH: number;
  private readonly gKeys: Float64Array;
  private readonly gVals: Float64Array;
  // scratch
  private readonly sig = new Float64Array(FLUOR_COUNT);
  private readonly amp = new Float64Array(FLUOR_COUNT);
  private readonly cFr = new Float64Array(CHUNK);
  /** Runs of samples between grid points: run r starts at cSegAt[r] (cSegAt[runs] = n) and interpolates slots cSegO0[r]..cSegO1[r]. */
  private readonly cSegAt = new Int32Array(CHUNK + 1);
  private readonly cSegO0 = new Int32Array(CHUNK);
  private readonly cSegO1 = new Int32Array(CHUNK);
  /** Per sample: the noise counter's low word times WEYL (the hash input shared by the detectors). */
  private readonly cWord = new Int32Array(CHUNK);
  /** Extras per sample (flicker harmonics past the second, lit LEDs past the fourth). */
  private readonly cAcc = new Float64Array(CHUNK);
  /** Zeros: what an unused LED or flicker slot of the detector pass reads. */
  private readonly cZero = new Float64Array(CHUNK);
  /** The Ziggurat tail's value (a store and a load: no boxed number in the pass). */
  private readonly zTail = new Float64Array(1);
  /** The LEDs lit somewhere in the current chunk (drive shape non-zero), in board order. */
  private readonly cLit: Uint8Array;
  /** Per LED: drive shapes of the chunk's samples. */
  private readonly cShapes: Float64Array[];
  /** Per flicker harmonic: its unit sine at the chunk's samples. */
  private readonly cFlicks: Float64Array[];
  private readonly flCd: Float64Array;
  private readonly flSd: Float64Array;
  private flDt = Number.NaN;
  private readonly tmpG: Float64Array;
  private readonly tmpG2: Float64Array;
  private faultState: WorldFaults = {};

  constructor(scenario: string | ScenarioSpec, seed: number, board: WorldBoard, options: WorldOptions) {
    if (!Number.isFinite(seed)) badOption(`seed must be a finite number, got ${seed}`);
    validateBoard(board);
    this.sc = createScenario(scenario, seed);
    this.scenario = this.sc.name;
    this.seed = seed;
    this.board = board;
    const sc = this.sc;
    const d0 = sc.defaults;
    const nL = (this.nL = board.leds.length);
    const nD = (this.nD = board.detectors.length);
    this.nA = board.aux.length;

    const { params, bands, mainsPhase } = worldParamsOf(sc, seed, board, options);
    this.params = params;
    const { leds, detectors: dets, flags } = params;
    this.ledTh = Float64Array.from(leds, (p) => p.thresholdMa);
    this.ledDroop = Float64Array.from(leds, (p) => p.droopPerMa);
    this.ledXMax = Float64Array.from(leds, (p) => ledMaxExcessMa(p));
    this.ledOn = new Float64Array(nL).fill(1);
    this.haemoCoef = Float64Array.from(leds, (p) => haemoCoefficient(p.wavelengthNm));

    const wl = leds.map((p) => p.wavelengthNm);
    const specs = params.fluorophores;
    const em = excitationMatrix(wl, specs);
    const cm = collectionMatrix(bands);
    this.E = new Float64Array(nL * FLUOR_COUNT);
    this.R = new Float64Array(nL * FLUOR_COUNT);
    for (let k = 0; k < nL; k++) {
      for (let f = 0; f < FLUOR_COUNT; f++) {
        this.E[k * FLUOR_COUNT + f] = em[k]![f]!;
        this.R[k * FLUOR_COUNT + f] = responseAt(specs[f]!, wl[k]!);
      }
    }
    this.C = new Float64Array(FLUOR_COUNT * nD);
    for (let f = 0; f < FLUOR_COUNT; f++) for (let d = 0; d < nD; d++) this.C[f * nD + d] = cm[f]![d]!;
    this.bright = Float64Array.from(d0.brightness);
    this.tissue = Uint8Array.from(specs, (s) => (s.tissue ? 1 : 0));
    this.haemoEmCoef = Float64Array.from(specs, (s) => (s.tissue ? haemoCoefficient(s.emissionNm) : 0));

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

    this.aux = new AuxRenderer(sc, seed, board, params.aux, flags, params.gridS, mainsPhase);

    this.h = params.gridS;
    this.invH = 1 / params.gridS;
    this.gKeys = new Float64Array(GRID_CACHE).fill(Number.NaN);
    this.gVals = new Float64Array(GRID_CACHE * nL * nD);
    this.cShapes = Array.from({ length: nL }, () => new Float64Array(CHUNK));
    this.cLit = new Uint8Array(nL);
    this.cFlicks = Array.from({ length: nH }, () => new Float64Array(CHUNK));
    this.flCd = new Float64Array(nH);
    this.flSd = new Float64Array(nH);
    this.tmpG = new Float64Array(nL * nD);
    this.tmpG2 = new Float64Array(nL * nD);

    if (options.faults) this.setFaults(options.faults);
    this.truth = groundTruthOf(this);
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
    this.aux.setFaults(faults.aux);
    this.faultState = structuredClone(faults);
  }

  // ------------------------------------------------------------ timeline

  addEvent(event: TimelineEventInput): void {
    const r = timelineEventSchema.safeParse(event);
    if (!r.success) {
      throw new WorldError('E_SIM_SCENARIO_FILE', `the event is not a valid timeline event:\n  ${issueLines(r.error.issues).join('\n  ')}`, 'see the timeline table in firmware-sim/world/scenario-file/README.md');
    }
    if (!this.sc.addTimelineEvent) throw new WorldError('E_SIM_BAD_OPTION', `the "${this.scenario}" scenario takes no timeline events`, 'use a built-in world scenario or a scenario document');
    this.sc.addTimelineEvent(r.data);
    // gains on the grid are cached from first use: drop them so grid points at or after atS see the event
    this.gKeys.fill(Number.NaN);
    this.aux.invalidate();
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
      amp[f] = this.bright[f]! * (fl.bleaching ? bleachFactor(this.params.fluorophores[f]!.bleach, tS) : 1) * (fl.haemodynamics ? Math.exp(-this.haemoEmCoef[f]! * bv) : 1);
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


  ledShapeOf(k: number, currentMa: number): number {
    let x = currentMa - this.ledTh[k]!;
    if (!(x > 0)) return 0;
    if (x > this.ledXMax[k]!) x = this.ledXMax[k]!;
    return x * (1 - this.ledDroop[k]! * x) * this.ledOn[k]!;
  }

  ambientAt(d: number, tS: number): number {
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

  checkDetectorRequest(
    r: { t0S: number; dtS: number; count: number; ledCurrentMa: ReadonlyArray<ArrayLike<number>> }, outLen: number,
  ): void {
    if (!Number.isFinite(r.t0S)) badRequest(`t0S must be finite, got ${r.t0S}`);
    if (!(Number.isFinite(r.dtS) && r.dtS > 0)) badRequest(`dtS must be > 0, got ${r.dtS}`);
    if (!isIntIn(r.count, 0, 2 ** 31)) badRequest(`count must be a non-negative integer, got ${r.count}`);
    if (r.ledCurrentMa.length !== this.nL) badRequest(`ledCurrentMa has ${r.ledCurrentMa.length} arrays, the board has ${this.nL} LEDs`);
    for (const a of r.ledCurrentMa) if (a.length < r.count) badRequest(`an ledCurrentMa array is shorter (${a.length}) than count ${r.count}`);
    if (outLen !== this.nD) badRequest(`out has ${outLen} arrays, the board has ${this.nD} detectors`);
  }

  /** Float codes (offset + ambient + LEDs) without noise, quantization or saturation. */
  renderNoiseFree(t0S: number, dtS: number, count: number, ledCurrentMa: ReadonlyArray<ArrayLike<number>>, out: ReadonlyArray<Float64Array>): void {
    this.renderCore(t0S, dtS, count, ledCurrentMa, 1, null, out);
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
    for (let at = 0; at < count;) {
      at += this.renderChunk(t0S, dtS, at, Math.min(chunk, count - at), ledCurrentMa, oversampling, outInt, outFloat);
    }
  }

  /**
   * Renders samples [at, at + n) of a request, or fewer (a noise counter's high word changes inside): returns
   * how many. Per sample: the light is offset-free ambient (dc + two flicker harmonics) + extras (further
   * harmonics, LEDs past the fourth lit one; usually none) + up to four lit LEDs' shape x interpolated gain,
   * summed in that order in one pass per detector; then noise, rounding and clipping in the same pass.
   */
  private renderChunk(
    t0S: number, dtS: number, at: number, n: number, ledCurrentMa: ReadonlyArray<ArrayLike<number>>, oversampling: number,
    outInt: ReadonlyArray<Int32Array> | null, outFloat: ReadonlyArray<Float64Array> | null,
  ): number {
    const nL = this.nL;
    const nD = this.nD;
    const nH = this.nH;
    const fr = this.cFr;
    const segAt = this.cSegAt;
    const segO0 = this.cSegO0;
    const segO1 = this.cSegO1;
    const cw = this.cWord;
    const invH = this.invH;
    const noise = outInt !== null && this.params.flags.noise;

    // time grid: interpolation fraction and slot offsets (grid points computed on first use); the noise
    // counter's low word, spread (the chunk ends early where its high word changes)
    let gCur = Number.NaN;
    let runs = 0;
    let cLo = 0;
    if (noise) {
      const c0 = Math.round((t0S + at * dtS) * TICKS_PER_S);
      cLo = Math.floor((c0 >= 0 ? 2 * c0 : -2 * c0 - 1) * INV_2P32) * TWO_P32;
    }
    const cHi = cLo + TWO_P32;
    for (let i = 0; i < n; i++) {
      const t = t0S + (at + i) * dtS;
      if (noise) {
        // noiseCounterOf(t), written out: no boxed number per sample
        const c = Math.round(t * TICKS_PER_S);
        const ctr = c >= 0 ? 2 * c : -2 * c - 1;
        if (ctr < cLo || ctr >= cHi) {
          n = i;
          break;
        }
        cw[i] = Math.imul((ctr - cLo) | 0, WEYL);
      }
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
    }
    segAt[runs] = n;
    // LED drive shapes (mA-equivalent); the lit LEDs in board order
    let nLit = 0;
    for (let k = 0; k < nL; k++) {
      const cur = ledCurrentMa[k]!;
      const th = this.ledTh[k]!;
      const xm = this.ledXMax[k]!;
      const dr = this.ledDroop[k]!;
      const on = this.ledOn[k]!;
      const shp = this.cShapes[k]!;
      let lit = 0;
      for (let i = 0; i < n; i++) {
        let e = cur[at + i]! - th;
        if (!(e > 0)) e = 0;
        else if (e > xm) e = xm;
        const shape = e * (1 - dr * e) * on;
        shp[i] = shape;
        if (shape !== 0) lit = 1;
      }
      // an LED dark for the whole chunk adds exactly 0 (finite gains): left out
      if (lit) this.cLit[nLit++] = k;
    }
    // ambient flicker: exact phase at the chunk start, rotated per sample
    for (let j = 0; j < nH; j++) {
      const th = TWO_PI * (frac(this.flickHz[j]! * (t0S + at * dtS)) + this.flickPh[j]!);
      let sj = Math.sin(th);
      let cj = Math.cos(th);
      const cd = this.flCd[j]!;
      const sd = this.flSd[j]!;
      const flk = this.cFlicks[j]!;
      for (let i = 0; i < n; i++) {
        flk[i] = sj;
        const s2 = sj * cd + cj * sd;
        cj = cj * cd - sj * sd;
        sj = s2;
      }
    }
    const invSqrtN = 1 / Math.sqrt(oversampling);
    for (let d = 0; d < nD; d++) {
      let fault = FAULT_NONE;
      if (outInt) {
        fault = this.detFault[d]!;
        if (fault === FAULT_SATURATED || fault === FAULT_STUCK) {
          outInt[d]!.fill(fault === FAULT_SATURATED ? this.maxC[d]! : this.detStuck[d]!, at, at + n);
          continue;
        }
      }
      // a dead detector's light is 0: no ambient, no LEDs (the noise stays)
      const dead = fault === FAULT_DEAD;
      const extra = dead ? 0 : this.extrasOf(d, n, nLit);
      this.detectorPass(d, at, n, runs, dead ? 0 : nLit, dead, extra, outInt ? outInt[d]! : null, outFloat ? outFloat[d]! : null, noise, this.detNoiseFactor[d]! * invSqrtN, cLo);
    }
    return n;
  }

  /** Flicker harmonics past the second and lit LEDs past the fourth of detector d into cAcc[0..n); 0 if none (cAcc unused). */
  private extrasOf(d: number, n: number, nLit: number): number {
    const nH = this.nH;
    const nD = this.nD;
    if (nH <= 2 && nLit <= 4) return 0;
    const acc = this.cAcc;
    acc.fill(0, 0, n);
    for (let j = 2; j < nH; j++) {
      const amp = this.flickC[d * nH + j]!;
      const flk = this.cFlicks[j]!;
      for (let i = 0; i < n; i++) acc[i] = acc[i]! + amp * flk[i]!;
    }
    for (let l = 4; l < nLit; l++) {
      const off = this.cLit[l]! * nD + d;
      const shp = this.cShapes[this.cLit[l]!]!;
      for (let r = 0; this.cSegAt[r]! < n; r++) {
        const a = this.gVals[this.cSegO0[r]! + off]!;
        const slope = this.gVals[this.cSegO1[r]! + off]! - a;
        const end = this.cSegAt[r + 1]!;
        for (let i = this.cSegAt[r]!; i < end; i++) acc[i] = acc[i]! + shp[i]! * (a + slope * this.cFr[i]!);
      }
    }
    return 1;
  }

  /**
   * Detector d over the chunk, one pass per run of samples between two grid points: light (dc, two flicker
   * harmonics, extras, four LED slots; unused slots read zeros), then either float codes (noise-free) or
   * noise (one-hash Ziggurat normal, sigma from read and shot noise), rounding and clipping to integer codes.
   */
  private detectorPass(
    d: number, at: number, n: number, runs: number, nLit: number, dead: boolean, extra: number,
    oInt: Int32Array | null, oFloat: Float64Array | null, noise: boolean, nf: number, cLo: number,
  ): void {
    const nD = this.nD;
    const nH = this.nH;
    const gv = this.gVals;
    const fr = this.cFr;
    const shp = this.cShapes;
    const segAt = this.cSegAt;
    const zero = this.cZero;
    const dc = dead ? 0 : this.dcC[d]!;
    const f0 = dead || nH < 1 ? 0 : this.flickC[d * nH]!;
    const f1 = dead || nH < 2 ? 0 : this.flickC[d * nH + 1]!;
    const F0 = nH < 1 ? zero : this.cFlicks[0]!;
    const F1 = nH < 2 ? zero : this.cFlicks[1]!;
    const X = extra ? this.cAcc : zero;
    const lit = this.cLit;
    const k0 = nLit > 0 ? lit[0]! : -1;
    const k1 = nLit > 1 ? lit[1]! : -1;
    const k2 = nLit > 2 ? lit[2]! : -1;
    const k3 = nLit > 3 ? lit[3]! : -1;
    const S0 = k0 < 0 ? zero : shp[k0]!;
    const S1 = k1 < 0 ? zero : shp[k1]!;
    const S2 = k2 < 0 ? zero : shp[k2]!;
    const S3 = k3 < 0 ? zero : shp[k3]!;
    const off = this.offC[d]!;
    const mx = this.maxC[d]!;
    const r2 = this.readC2[d]!;
    const sh = this.shotC[d]!;
    const cw = this.cWord;
    const tail = this.zTail;
    const base = noise ? hash32(this.detNoiseKey[d]!, cLo * INV_2P32) | 0 : 0;
    for (let r = 0; r < runs; r++) {
      const o0 = this.cSegO0[r]! + d;
      const o1 = this.cSegO1[r]! + d;
      const a0 = k0 < 0 ? 0 : gv[o0 + k0 * nD]!;
      const s0 = k0 < 0 ? 0 : gv[o1 + k0 * nD]! - a0;
      const a1 = k1 < 0 ? 0 : gv[o0 + k1 * nD]!;
      const s1 = k1 < 0 ? 0 : gv[o1 + k1 * nD]! - a1;
      const a2 = k2 < 0 ? 0 : gv[o0 + k2 * nD]!;
      const s2 = k2 < 0 ? 0 : gv[o1 + k2 * nD]! - a2;
      const a3 = k3 < 0 ? 0 : gv[o0 + k3 * nD]!;
      const s3 = k3 < 0 ? 0 : gv[o1 + k3 * nD]! - a3;
      const end = segAt[r + 1]!;
      for (let i = segAt[r]!; i < end; i++) {
        const f = fr[i]!;
        const light = dc + f0 * F0[i]! + f1 * F1[i]! + X[i]!
          + S0[i]! * (a0 + s0 * f) + S1[i]! * (a1 + s1 * f) + S2[i]! * (a2 + s2 * f) + S3[i]! * (a3 + s3 * f);
        if (oFloat !== null) {
          oFloat[at + i] = off + light;
          continue;
        }
        let v = off + light;
        if (noise) {
          // normalFastFromBase(base, lo), written out (one hash; the rare tail through a scratch cell)
          let u = base ^ cw[i]!;
          u ^= u >>> 16;
          u = Math.imul(u, 0x7feb352d);
          u ^= u >>> 15;
          u = Math.imul(u, 0x846ca68b);
          u ^= u >>> 16;
          const iz = u & 127;
          const hz = u & -128;
          let z: number;
          if (Math.abs(hz) < ZK_[iz]!) z = hz * ZW_[iz]!;
          else {
            tail[0] = normalTailOf(u >>> 0, hz, iz);
            z = tail[0]!;
          }
          v += Math.sqrt(r2 + sh * (light > 0 ? light : 0)) * nf * z;
        }
        // clip, then round half up (v >= 0 here: truncation is floor)
        if (v < 0) v = 0;
        else if (v > mx) v = mx;
        oInt![at + i] = (v + 0.5) | 0;
      }
    }
  }

  renderAux(request: AuxRenderRequest): void {
    this.aux.render(request);
  }

  // ------------------------------------------------------------ digital

  digitalEdges(t0S: number, t1S: number): WorldDigitalEdge[] {
    if (!(t1S > t0S)) return [];
    const lines = this.board.digitalInputs;
    return this.sc.digitalEdges(t0S, t1S, lines.length).map((e) => ({ lineId: lines[e.lineIndex]!.id, rising: e.rising, tS: e.tS }));
  }

  // ------------------------------------------------------------ truth

  checkLed(k: number): void {
    if (!isIntIn(k, 0, this.nL - 1)) throw new WorldError('E_SIM_BAD_INDEX', `LED index ${k} out of range 0..${this.nL - 1}`, 'LEDs are named by board position');
  }
  checkDet(d: number): void {
    if (!isIntIn(d, 0, this.nD - 1)) throw new WorldError('E_SIM_BAD_INDEX', `detector index ${d} out of range 0..${this.nD - 1}`, 'detectors are named by board position');
  }
  checkAux(a: number): void {
    if (!isIntIn(a, 0, this.nA - 1)) throw new WorldError('E_SIM_BAD_INDEX', `aux index ${a} out of range 0..${this.nA - 1}`, 'aux inputs are named by board position');
  }
  fluorIndex(f: FluorophoreId): number {
    const i = FLUOROPHORES.indexOf(f);
    if (i < 0) throw new WorldError('E_SIM_BAD_INDEX', `unknown fluorophore "${String(f)}"`, `use one of: ${FLUOROPHORES.join(', ')}`);
    return i;
  }

  /** Interpolated gain of LED k on detector d due to fluorophore fi alone at t. */
  fluorophoreGainAt(k: number, fi: number, d: number, tS: number): number {
    const x = tS * this.invH;
    const g = Math.floor(x);
    const fr = x - g;
    this.computeGain(g * this.h, this.tmpG, 0, fi);
    this.computeGain((g + 1) * this.h, this.tmpG2, 0, fi);
    const a = this.tmpG[k * this.nD + d]!;
    return a + (this.tmpG2[k * this.nD + d]! - a) * fr;
  }

  /** Interpolated G[k][d] at t (the same arithmetic as the render loop). */
  gainAt(k: number, d: number, tS: number): number {
    const x = tS * this.invH;
    const g = Math.floor(x);
    const fr = x - g;
    const o0 = this.gridSlot(g);
    const o1 = this.gridSlot(g + 1);
    const a = this.gVals[o0 + k * this.nD + d]!;
    return a + (this.gVals[o1 + k * this.nD + d]! - a) * fr;
  }
}

/**
 * Creates a simulated world. `scenario`: a built-in name ('sleep' | 'zolpidem' | 'steps' | 'dark';
 * WorldError E_SIM_UNKNOWN_SCENARIO otherwise) or a validated scenario document
 * (scenario-file/parse.ts). Deterministic by (scenario, seed, board, options).
 */
export function createWorld(scenario: string | ScenarioSpec, seed: number, board: WorldBoard, options: WorldOptions = {}): SimWorld {
  return new SimWorldImpl(scenario, seed, board, options);
}
