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
// 20 ms in the sleep worlds: the biology is slow) and linearly interpolated; the
// interpolated G *is* the world's definition, so truth.detectorCodes matches a
// noise-free render to rounding.
//
// Determinism: physiology and events come from named random streams, generated
// in order; per-sample noise is a counter-based function of (seed, channel,
// round(t * 1e7)) (rng.ts normalFastAt: one hash per draw). A sample's value therefore depends on (scenario, seed, t,
// inputs), not on how renders were chunked (up to floating rounding of t).
import { AuxRenderer } from './aux-render.ts';
import { gridRunsOf, ledShapesOf, litLedsOf, noiseWordsOf } from './chunk-layout.ts';
import { detectorPairPass } from './detector-pair-pass.ts';
import { CHUNK, DetectorChunk, detectorPass, DetectorPassParams, flickerSines, WEYL } from './detector-pass.ts';
import { WorldError } from './errors.ts';
import { codesPerVolt, maxCode } from './frontend.ts';
import {
  bleachFactor, collectionMatrix, excitationMatrix, haemoCoefficient, ledMaxExcessMa, ledPowerUw,
  ledTemperatureFactor, responseAt,
} from './optics.ts';
import { badOption, badRequest, fracOf, GRID_CACHE, isIntIn, NOISE_TICKS_PER_S } from './render-common.ts';
import { streamKey } from './rng.ts';
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
const TWO_P32 = 4294967296;
const INV_2P32 = 1 / TWO_P32;
const INV_2P31 = 2 / TWO_P32;
const WEYL_ = WEYL;
const CHUNK_ = CHUNK;
const passOf = detectorPass;
const pairOf = detectorPairPass;
const flickerOf = flickerSines;
const TICKS_PER_S = NOISE_TICKS_PER_S;
const frac = fracOf;
const TWO_PI = 2 * Math.PI;

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
  /** The chunk the render loop lays out for detectorPass. */
  private readonly chunk: DetectorChunk;
  /** Per detector: its constants for detectorPass. */
  private readonly pass: DetectorPassParams[];
  private readonly flCd: Float64Array;
  private readonly flSd: Float64Array;
  private flDt = Number.NaN;
  private readonly tmpG: Float64Array;
  private readonly tmpG2: Float64Array;
  private faultState: WorldFaults = {};
  /** gridSlot for the chunk layout's helpers. */
  private readonly slotOf = (g: number): number => this.gridSlot(g);

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
    this.flCd = new Float64Array(nH);
    this.flSd = new Float64Array(nH);
    this.chunk = new DetectorChunk(
      { th: this.ledTh, xMax: this.ledXMax, droop: this.ledDroop, on: this.ledOn },
      { hz: this.flickHz, phaseCycles: this.flickPh, cosStep: this.flCd, sinStep: this.flSd },
    );
    this.pass = Array.from({ length: nD }, (_, d) => {
      const p = new DetectorPassParams();
      p.d = d;
      p.nD = nD;
      p.dc = this.dcC[d]!;
      p.flicker = this.flickC.slice(d * nH, d * nH + nH);
      p.offset = this.offC[d]!;
      p.maxCode = this.maxC[d]!;
      p.read2 = this.readC2[d]!;
      p.shot = this.shotC[d]!;
      return p;
    });
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
    const chunk = Math.max(1, Math.min(CHUNK_, Math.floor(((GRID_CACHE - 4) * this.h) / dtS)));
    for (let at = 0; at < count;) {
      at += this.renderChunk(t0S, dtS, at, Math.min(chunk, count - at), ledCurrentMa, oversampling, outInt, outFloat);
    }
  }

  /**
   * Renders samples [at, at + n) of a request, or fewer (a noise counter's high word changes inside): returns
   * how many. Lays the chunk out (grid runs and fractions, noise words, LED shapes, flicker sines), then one
   * detectorPass per detector, or detectorPairPass for detectors 0 and 1 (which needs of the layout only the
   * runs, the lit LEDs and, off the tick lattice, the noise words: in the device's case that is all it makes).
   */
  private renderChunk(
    t0S: number, dtS: number, at: number, n: number, ledCurrentMa: ReadonlyArray<ArrayLike<number>>, oversampling: number,
    outInt: ReadonlyArray<Int32Array> | null, outFloat: ReadonlyArray<Float64Array> | null,
  ): number {
    const nD = this.nD;
    const nH = this.nH;
    const c = this.chunk;
    const fr = c.fr;
    const segAt = c.segAt;
    const segO0 = c.segO0;
    const segO1 = c.segO1;
    const cw = c.word;
    const runGrid = c.runGrid;
    const invH = this.invH;
    const noise = outInt !== null && this.params.flags.noise;

    // time grid: interpolation fraction and slot offsets (grid points computed on first use); the noise
    // counter's low word, spread (the chunk ends early where its high word changes)
    let gCur = Number.NaN;
    let runs = 0;
    let cLo = 0;
    if (noise) {
      // floor(ctr / 2^32) with ctr = 2 c0 (c0 >= 0) or -2 c0 - 1, as c0 / 2^31 or (-c0 - 0.5) / 2^31 (exact): every
      // operation has a non-integer operand, so the optimizer never speculates on small integers here (it did:
      // c0 passes 2^30 at 107 s, and the speculation failed, "overflow", recompiling the render)
      const c0 = Math.round((t0S + at * dtS) * TICKS_PER_S);
      cLo = Math.floor((c0 > -0.5 ? c0 : -0.5 - c0) * INV_2P31) * TWO_P32;
    }
    const cHi = cLo + TWO_P32;
    // on the tick lattice (t0 and dt whole ticks, t >= 0: the device's case) the counters step by a constant,
    // and so do their words (mod 2^32): checked at both ends of the chunk, where rounding stays far from
    // a half tick, which holds in between (t is linear in i); else each sample's counter from its t
    let wStep = 0;
    let word = 0;
    if (noise && n > 1) {
      const m = Math.round(dtS * TICKS_PER_S);
      const xa = (t0S + at * dtS) * TICKS_PER_S;
      const xb = (t0S + (at + n - 1) * dtS) * TICKS_PER_S;
      // ka and kb pass 2^30 ticks after 107 s: made doubles from the start (+ 0.5 - 0.5, exact below 2^51) so
      // that no comparison or sum of them is compiled for small integers
      const ka = Math.round(xa) + 0.5 - 0.5;
      const kb = Math.round(xb) + 0.5 - 0.5;
      if (m > 0 && ka > -0.5 && Math.abs(xa - ka) < 0.25 && Math.abs(xb - kb) < 0.25 && kb - ka === (n - 1) * m && kb < cHi * 0.5) {
        wStep = Math.imul(2 * m, WEYL_);
        word = Math.imul(((ka - cLo * 0.5) / 0.5) | 0, WEYL_);
      }
    }
    c.t0S = t0S;
    c.dtS = dtS;
    c.at = at;
    c.invGridS = invH;
    c.word0 = word;
    c.wordStep = wStep;
    c.currentMa = ledCurrentMa;
    // the device's case (2 plain detectors): detectorPairPass makes the per-sample inputs itself, so the layout
    // is only the runs (and off the tick lattice the noise words); else every sample's fraction, word, LED shapes
    const lean = noise && nD === 2 && nH <= 2 && this.pairable(0) && this.pairable(1) && litLedsOf(c, ledCurrentMa, at, n) <= 4;
    if (lean) {
      if (wStep === 0) n = noiseWordsOf(c, t0S, dtS, at, n, cLo);
      runs = gridRunsOf(c, t0S, dtS, at, n, invH, this.slotOf);
    }
    for (let i = 0; i < (lean ? 0 : n); i++) {
      const t = t0S + (at + i) * dtS;
      if (wStep !== 0) {
        cw[i] = word;
        word = (word + wStep) | 0;
      } else if (noise) {
        // noiseCounterOf(t), written out: no boxed number per sample; in doubles as noiseWordsOf
        const k = Math.round(t * TICKS_PER_S) + 0.5 - 0.5;
        const ctr = k > -0.5 ? k / 0.5 : -k / 0.5 - 1;
        if (ctr < cLo || ctr >= cHi) {
          n = i;
          break;
        }
        cw[i] = Math.imul((ctr - cLo) | 0, WEYL_);
      }
      const x = t * invH;
      const g = Math.floor(x);
      if (g !== gCur) {
        segAt[runs] = i;
        runGrid[runs] = g;
        segO0[runs] = this.gridSlot(g);
        segO1[runs] = this.gridSlot(g + 1);
        runs++;
        gCur = g;
      }
      fr[i] = x - g;
    }
    segAt[runs] = n;
    c.n = n;
    c.runs = runs;
    c.noiseHi = cLo * INV_2P32;
    // LED drive shapes (mA-equivalent) of the lit LEDs (board order)
    if (!lean) {
      litLedsOf(c, ledCurrentMa, at, n);
      ledShapesOf(c, n);
    }
    const nLit = c.nLit;
    if (!lean) flickerOf(c, t0S + at * dtS, this.flickHz, this.flickPh, this.flCd, this.flSd);
    const invSqrtN = 1 / Math.sqrt(oversampling);
    // detectors 0 and 1 in one pass when both are plain (the default board: all its detectors)
    let d0 = 0;
    if (outInt && noise && nD >= 2 && nH <= 2 && nLit <= 4 && this.pairable(0) && this.pairable(1)) {
      const p = this.pass[0]!;
      const q = this.pass[1]!;
      p.noiseFactor = this.detNoiseFactor[0]! * invSqrtN;
      q.noiseFactor = this.detNoiseFactor[1]! * invSqrtN;
      p.noiseKey = this.detNoiseKey[0]!;
      q.noiseKey = this.detNoiseKey[1]!;
      pairOf(c, this.gVals, p, q, outInt[0]!, outInt[1]!);
      d0 = 2;
    }
    for (let d = d0; d < nD; d++) {
      const p = this.pass[d]!;
      if (outFloat) {
        p.dead = false;
        passOf(c, this.gVals, p, null, outFloat[d]!, at);
        continue;
      }
      const o = outInt![d]!;
      const fault = this.detFault[d]!;
      if (fault === FAULT_SATURATED || fault === FAULT_STUCK) {
        o.fill(fault === FAULT_SATURATED ? this.maxC[d]! : this.detStuck[d]!, at, at + n);
        continue;
      }
      // a dead detector's light is 0: no ambient, no LEDs (the noise stays)
      p.dead = fault === FAULT_DEAD;
      p.noiseFactor = this.detNoiseFactor[d]! * invSqrtN;
      p.noiseKey = noise ? this.detNoiseKey[d]! : -1;
      passOf(c, this.gVals, p, o, null, at);
    }
    return n;
  }

  /** Detector d renders with no fault but noisy (detectorPairPass applies). */
  private pairable(d: number): boolean {
    const f = this.detFault[d]!;
    return f === FAULT_NONE || f === FAULT_NOISY;
  }

  renderAux(request: AuxRenderRequest): void {
    this.aux.render(request);
  }

  // ------------------------------------------------------------ digital

  digitalEdges(t0S: number, t1S: number): WorldDigitalEdge[] {
    if (!(t1S > t0S)) return [];
    const lines = this.board.digitalInputs;
    const edges = this.sc.digitalEdges(t0S, t1S, lines.length);
    // most blocks have none: no mapping closure and copy then
    if (edges.length === 0) return [];
    return edges.map((e) => ({ lineId: lines[e.lineIndex]!.id, rising: e.rising, tS: e.tS }));
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
