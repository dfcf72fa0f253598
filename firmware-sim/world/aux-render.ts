// The aux inputs (EEG, EMG) of a simulated world: electrode microvolts from the scenario's
// band envelopes (on the world's time grid, interpolated), EEG synthesis, spindles, EMG noise,
// mains pickup and amplifier noise, then integer codes. Per-sample noise is a counter-based
// function of (seed, input, t) like the detectors', so a render does not depend on chunking.
import { auxCodesPerUv, EegSynth } from './frontend.ts';
import { hash32, noiseWordOf, normalsFastAt, normalsFromWords, Rng, streamKey } from './rng.ts';
import type { Scenario } from './scenario.ts';
import type { AuxEnvelope, AuxFrontendParams, SpindleEvent, WorldFaults } from './types.ts';
import { badRequest, fracOf, GRID_CACHE, isIntIn, NOISE_TICKS_PER_S } from './render-common.ts';
import type { AuxRenderRequest, WorldBoard } from './world.ts';

/** Envelope values per grid point: delta, theta, sigma, beta, emg. */
const AUX_Q = 5;
// Module-local copies: imported bindings are read through getters in some loaders (tsx), costly in hot loops.
const normals = normalsFastAt;
const normalsWords = normalsFromWords;
const TWO_P32 = 4294967296;
const INV_2P32 = 1 / TWO_P32;
const frac = fracOf;
const TICKS_PER_S = NOISE_TICKS_PER_S;

export interface AuxFlags {
  noise: boolean;
  ambient: boolean;
  mainsHz: number;
}

export class AuxRenderer {
  readonly inputs: number;
  /** codes per electrode µV, per input */
  readonly codesPerUv: Float64Array;
  readonly minCode: Float64Array;
  readonly maxCode: Float64Array;
  private readonly kind: Uint8Array; // 0 eeg, 1 emg
  private readonly fault: Uint8Array; // 0 none, 1 disconnected, 2 railed
  private readonly bioKey: Uint32Array;
  private readonly ampKey: Uint32Array;
  private readonly eeg: EegSynth[];
  private readonly h: number;
  private readonly invH: number;
  private readonly aKeys = new Float64Array(GRID_CACHE).fill(Number.NaN);
  private readonly aVals = new Float64Array(GRID_CACHE * AUX_Q);
  private readonly env: AuxEnvelope = { deltaUv: 0, thetaUv: 0, sigmaUv: 0, betaUv: 0, emgUv: 0 };
  private scratchArrays: Float64Array[] = [];
  /** The sample times whose noise counters scratch 6 holds (normalsOf). */
  private ctrT0 = Number.NaN;
  private ctrDt = Number.NaN;
  private ctrCount = 0;
  /** The counters' common high word, or -1 if they span two. */
  private ctrHi = -1;
  /** noiseWordOf of each counter's low word. */
  private words = new Int32Array(0);
  private readonly spindleScratch: SpindleEvent[] = [];

  constructor(
    private readonly sc: Scenario,
    seed: number,
    board: WorldBoard,
    private readonly params: readonly AuxFrontendParams[],
    private readonly flags: AuxFlags,
    gridS: number,
    private readonly mainsPhase: number,
  ) {
    const n = (this.inputs = board.aux.length);
    this.codesPerUv = Float64Array.from(board.aux, (a) => auxCodesPerUv(a.gainVPerV, a.adcBits, a.fullScaleV));
    this.minCode = Float64Array.from(board.aux, (a) => -(2 ** (a.adcBits - 1)));
    this.maxCode = Float64Array.from(board.aux, (a) => 2 ** (a.adcBits - 1) - 1);
    this.kind = Uint8Array.from(params, (p) => (p.kind === 'emg' ? 1 : 0));
    this.fault = new Uint8Array(n);
    this.bioKey = Uint32Array.from({ length: n }, (_, i) => streamKey(seed, 'aux-bio', i));
    this.ampKey = Uint32Array.from({ length: n }, (_, i) => streamKey(seed, 'aux-amp-noise', i));
    this.eeg = board.aux.map((_, i) => new EegSynth(Rng.derive(seed, 'eeg', i)));
    this.h = gridS;
    this.invH = 1 / gridS;
  }

  /** Applies the aux part of a fault set (indices already checked). */
  setFaults(faults: WorldFaults['aux']): void {
    this.fault.fill(0);
    for (const f of faults ?? []) this.fault[f.index] = f.kind === 'disconnected' ? 1 : 2;
  }

  /** Drops the cached envelopes (the scenario's timeline changed). */
  invalidate(): void {
    this.aKeys.fill(Number.NaN);
  }

  checkIndex(a: number): boolean {
    return isIntIn(a, 0, this.inputs - 1);
  }

  private slotOf(g: number): number {
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


  /** World.renderAux: integer codes (amplifier gain, quantization, rails, faults). */
  render(request: AuxRenderRequest): void {
    const { t0S, dtS, count, out } = request;
    if (!Number.isFinite(t0S)) badRequest(`t0S must be finite, got ${t0S}`);
    if (!(Number.isFinite(dtS) && dtS > 0)) badRequest(`dtS must be > 0, got ${dtS}`);
    if (!isIntIn(count, 0, 2 ** 31)) badRequest(`count must be a non-negative integer, got ${count}`);
    if (out.length !== this.inputs) badRequest(`out has ${out.length} arrays, the board has ${this.inputs} aux inputs`);
    for (let a = 0; a < this.inputs; a++) {
      const o = out[a]!;
      if (o.length < count) badRequest(`out[${a}] is shorter (${o.length}) than count ${count}`);
      const cpu = this.codesPerUv[a]!;
      const mn = this.minCode[a]!;
      const mx = this.maxCode[a]!;
      // railed: reads the top code whatever the input
      if (this.fault[a] === 2) {
        o.fill(mx, 0, count);
        continue;
      }
      const uv = this.scratch(0, count);
      this.microvolts(a, t0S, dtS, count, uv, this.flags.noise);
      for (let i = 0; i < count; i++) {
        // clip, then round half up: offset to non-negative, where truncation is floor
        let x = uv[i]! * cpu;
        if (x < mn) x = mn;
        else if (x > mx) x = mx;
        o[i] = ((x - mn + 0.5) | 0) + mn;
      }
    }
  }

  private scratch(i: number, count: number): Float64Array {
    let s = this.scratchArrays[i];
    if (!s || s.length < count) {
      s = new Float64Array(Math.max(count, 256));
      this.scratchArrays[i] = s;
      if (i === 6) this.ctrCount = 0;
    }
    return s;
  }

  /**
   * normalFastAt(key, noiseCounterOf(t0S + i · dtS)) for i < count, in a scratch array (valid until the next
   * call). The counters' hash inputs are kept for further keys at the same sample times.
   */
  private normalsOf(key: number, t0S: number, dtS: number, count: number): Float64Array {
    const counters = this.scratch(6, count);
    if (t0S !== this.ctrT0 || dtS !== this.ctrDt || count > this.ctrCount) {
      if (this.words.length < counters.length) this.words = new Int32Array(counters.length);
      let hi = -1;
      for (let i = 0; i < count; i++) {
        // noiseCounterOf, written out: a call here returns a boxed number per sample
        // c passes 2^30 ticks after 107 s: a double from the start (+ 0.5 - 0.5 and / 0.5, exact), so that the
        // optimizer never compiles this for small integers (it did, and that failed: "overflow")
        const c = Math.round((t0S + i * dtS) * TICKS_PER_S) + 0.5 - 0.5;
        const ctr = c > -0.5 ? c / 0.5 : -c / 0.5 - 1;
        counters[i] = ctr;
        const h = Math.floor(ctr * INV_2P32);
        if (i === 0) hi = h;
        else if (h !== hi) hi = -1;
        this.words[i] = noiseWordOf((ctr - h * TWO_P32) | 0);
      }
      this.ctrHi = hi;
      this.ctrT0 = t0S;
      this.ctrDt = dtS;
      this.ctrCount = count;
    }
    const z = this.scratch(7, count);
    // one high word for all (the rule): one hash per value; else the general path
    if (this.ctrHi >= 0) normalsWords(hash32(key, this.ctrHi) | 0, this.words, count, z);
    else normals(key, counters, count, z);
    return z;
  }

  /** Electrode µV of aux input a into out[0..count); amplifier noise if `noise`. */
  microvolts(a: number, t0S: number, dtS: number, count: number, out: Float64Array, noise: boolean): void {
    out.fill(0, 0, count);
    const p = this.params[a]!;
    const fl = this.flags;
    const disconnected = this.fault[a] === 1;
    const sc = this.sc;
    if (!disconnected && sc.auxContent === 'eeg') {
      const delta = this.scratch(1, count);
      const theta = this.scratch(2, count);
      const sigma = this.scratch(3, count);
      const beta = this.scratch(4, count);
      const emg = this.scratch(5, count);
      const isEeg = this.kind[a] === 0;
      this.envelopes(t0S, dtS, count, isEeg, delta, theta, sigma, beta, emg);
      const key = this.bioKey[a]!;
      if (isEeg) {
        this.eeg[a]!.addTo(t0S, dtS, count, delta, theta, sigma, beta, out);
        // broadband background, 3 µV rms
        const z = this.normalsOf(key, t0S, dtS, count);
        for (let i = 0; i < count; i++) {
          out[i] = out[i]! + 3 * z[i]!;
        }
        this.addSpindles(t0S, dtS, count, out);
      } else {
        const z = this.normalsOf(key, t0S, dtS, count);
        for (let i = 0; i < count; i++) {
          out[i] = out[i]! + emg[i]! * z[i]!;
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
    if (mains !== 0) this.addMains(mains, t0S, dtS, count, out);
    const ampNoise = noise ? (disconnected ? 20 : p.noiseUv) : 0;
    if (ampNoise > 0) {
      const z = this.normalsOf(this.ampKey[a]!, t0S, dtS, count);
      for (let i = 0; i < count; i++) {
        out[i] = out[i]! + ampNoise * z[i]!;
      }
    }
  }

  /**
   * The scenario's envelopes at samples t0S + i dtS, interpolated between grid points: the four EEG bands
   * (isEeg) or the EMG level. Per run of samples between two grid points, the run's two grid values read once.
   */
  private envelopes(
    t0S: number, dtS: number, count: number, isEeg: boolean,
    delta: Float64Array, theta: Float64Array, sigma: Float64Array, beta: Float64Array, emg: Float64Array,
  ): void {
    const av = this.aVals;
    const invH = this.invH;
    let gCur = Number.NaN;
    let o0 = 0;
    let o1 = 0;
    for (let i = 0; i < count; i++) {
      const x = (t0S + i * dtS) * invH;
      const g = Math.floor(x);
      const fr = x - g;
      if (g !== gCur) {
        o0 = this.slotOf(g);
        o1 = this.slotOf(g + 1);
        gCur = g;
      }
      if (isEeg) {
        delta[i] = av[o0]! + (av[o1]! - av[o0]!) * fr;
        theta[i] = av[o0 + 1]! + (av[o1 + 1]! - av[o0 + 1]!) * fr;
        sigma[i] = av[o0 + 2]! + (av[o1 + 2]! - av[o0 + 2]!) * fr;
        beta[i] = av[o0 + 3]! + (av[o1 + 3]! - av[o0 + 3]!) * fr;
      } else {
        emg[i] = av[o0 + 4]! + (av[o1 + 4]! - av[o0 + 4]!) * fr;
      }
    }
  }

  /** Adds the spindles touching the samples (Gaussian-windowed sines, ±3 sd). */
  private addSpindles(t0S: number, dtS: number, count: number, out: Float64Array): void {
    const sp = this.spindleScratch;
    sp.length = 0;
    this.sc.spindlesTouching(t0S, t0S + count * dtS, sp);
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
  }

  /** Adds mains pickup (µV amplitude): exact phase at the first sample, rotated per sample. */
  private addMains(mains: number, t0S: number, dtS: number, count: number, out: Float64Array): void {
    const hz = this.flags.mainsHz;
    const c0 = hz * t0S;
    const th = 2 * Math.PI * (c0 - Math.floor(c0) + this.mainsPhase);
    const w = 2 * Math.PI * hz * dtS;
    const cd = Math.cos(w);
    const sd = Math.sin(w);
    let sn = Math.sin(th);
    let cs = Math.cos(th);
    for (let i = 0; i < count; i++) {
      out[i] = out[i]! + mains * sn;
      const s2 = sn * cd + cs * sd;
      cs = cs * cd - sn * sd;
      sn = s2;
    }
  }
}
