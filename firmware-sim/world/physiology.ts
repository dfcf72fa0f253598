// One unit: one lazily generated, seed-ordered model of a sleeping mouse; its streams must be drawn in one fixed order.
// Physiology of a sleeping mouse, as pure functions of world time t (s) for a
// given seed: hypnogram (wake / NREM / REM episodes, micro-arousals), the
// ~0.02 Hz norepinephrine (NE) oscillation of NREM sleep, blood volume in
// anti-phase to NE, CSF in anti-phase to blood volume, EEG band amplitudes,
// EMG level, sleep spindles and motion events.
//
// Everything is generated lazily but in a fixed order from independent named
// random streams, so a value at t never depends on which times were asked
// before (ground truth does not depend on call chunking).
//
// Shape of the model (Hauglund et al., Cell 2025; Kjaerby et al., Nat Neurosci 2022):
// - NE cycles run continuously with jittered periods (log-normal, median 1/f0);
//   their amplitude is gated on by NREM (first-order lag). One cycle is a raised
//   cosine from trough to trough: c_i * (1 - cos 2 pi phi) / 2.
// - Micro-arousals (MA, wake bouts of 3-14 s) start shortly before a subset of
//   the NE peaks inside NREM episodes, and those peaks are larger.
// - Blood volume = state level - bvGain * NE oscillation delayed by bvLagS
//   (NE up -> vessels constrict -> blood volume down).
// - CSF = state level + csfGain * bvGain * NE oscillation delayed by
//   bvLagS + csfLagS (blood volume down -> CSF in).
// - State levels (NE tone, blood volume, EEG band power, EMG) follow the
//   hypnogram through first-order lags.
import { Rng, streamKey, uniformAt } from './rng.ts';
import { DEFAULT_SLEEP_PARAMS, type SleepParams, type StateLevels } from './sleep-params.ts';
import type { AuxEnvelope, MotionEvent, NeCycle, PhysiologySample, SleepBout, SleepState, SpindleEvent, WorldEvent } from './types.ts';

export { DEFAULT_SLEEP_PARAMS, type SleepParams, type StateLevels } from './sleep-params.ts';

const LEVEL_KEYS: ReadonlyArray<keyof StateLevels> = [
  'ne', 'gate', 'bloodVolume', 'csf', 'wake', 'deltaUv', 'thetaUv', 'sigmaUv', 'betaUv', 'emgUv',
];
const Q_NE = 0;
const Q_GATE = 1;
const Q_BV = 2;
const Q_CSF = 3;
const Q_WAKE = 4;
const Q_DELTA = 5;
const Q_THETA = 6;
const Q_SIGMA = 7;
const Q_BETA = 8;
const Q_EMG = 9;
const NQ = LEVEL_KEYS.length;

/** Slow smooth noise: a sum of sines with random frequencies and phases, unit rms. */
class SmoothNoise {
  private readonly w: Float64Array;
  private readonly ph: Float64Array;
  private readonly a: number;

  constructor(rng: Rng, count: number, loHz: number, hiHz: number) {
    this.w = new Float64Array(count);
    this.ph = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      this.w[i] = 2 * Math.PI * rng.uniform(loHz, hiHz);
      this.ph[i] = rng.uniform(0, 2 * Math.PI);
    }
    this.a = Math.sqrt(2 / count);
  }

  value(tS: number): number {
    let s = 0;
    for (let i = 0; i < this.w.length; i++) s += Math.sin(this.w[i]! * tS + this.ph[i]!);
    return s * this.a;
  }
}

const HORIZON_S = 900;
const MOTION_SEGMENT_S = 30;
const SPINDLE_SEGMENT_S = 10;
const SEGMENT_CACHE = 16;

function lerpRange(r: readonly [number, number], u: number): number {
  return r[0] + (r[1] - r[0]) * u;
}
function clamp(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi);
}

/** Sorted-array search: largest i with arr[i] <= x, or -1. */
function floorIndex(arr: readonly number[], x: number): number {
  let lo = 0;
  let hi = arr.length - 1;
  if (hi < 0 || x < arr[0]!) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (arr[mid]! <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export class SleepPhysiology {
  readonly params: SleepParams;
  private readonly seed: number;
  private readonly hypRng: Rng;
  private readonly cycRng: Rng;
  private readonly maKey: number;
  private readonly neNoise: SmoothNoise;
  private readonly wakeNoise: SmoothNoise;
  private readonly targets: Float64Array; // [state][q]
  private readonly taus: Float64Array;

  // episodes (unsplit hypnogram)
  private readonly epStart: number[] = [];
  private readonly epEnd: number[] = [];
  private readonly epState: SleepState[] = [];
  private readonly epInit: number[] = [];
  // scored bouts (NREM split by micro-arousals)
  private readonly boutStart: number[] = [];
  private readonly boutEnd: number[] = [];
  private readonly boutState: SleepState[] = [];
  private readonly boutMa: boolean[] = [];
  // micro-arousals
  private readonly maStart: number[] = [];
  private readonly maEnd: number[] = [];
  private readonly maPeak: number[] = [];
  // NE cycles
  private readonly cycStart: number[] = [];
  private readonly cycPeriod: number[] = [];
  private readonly cycAmp: number[] = [];
  private cycEnd: number;
  private genEnd = 0;
  private lastEp = 0;
  private lastCyc = 0;
  private lastBout = 0;
  private readonly motionCache = new Map<number, MotionEvent[]>();
  private readonly spindleCache = new Map<number, SpindleEvent[]>();

  constructor(seed: number, params: SleepParams = DEFAULT_SLEEP_PARAMS) {
    this.seed = seed >>> 0;
    this.params = params;
    this.hypRng = Rng.derive(seed, 'hypnogram');
    this.cycRng = Rng.derive(seed, 'ne-cycles');
    this.maKey = streamKey(seed, 'micro-arousals');
    this.neNoise = new SmoothNoise(Rng.derive(seed, 'ne-irregularity'), 6, 0.004, 0.012);
    this.wakeNoise = new SmoothNoise(Rng.derive(seed, 'wake-ne'), 6, 0.005, 0.1);
    const states: SleepState[] = ['wake', 'nrem', 'rem'];
    this.targets = new Float64Array(3 * NQ);
    states.forEach((s, i) => {
      LEVEL_KEYS.forEach((k, q) => {
        this.targets[i * NQ + q] = params.levels[s][k];
      });
    });
    this.taus = Float64Array.from(LEVEL_KEYS, (k) => params.tauS[k]);
    // cycles start before t = 0 so that delayed look-ups near 0 are defined
    this.cycEnd = -3 / params.neFrequencyHz;
  }

  /** Peak-to-peak NE oscillation amplitude actually used (nominal * scale). */
  private neFactor: ((tS: number) => number) | null = null;

  /** A time-varying factor on the NE oscillation (a drug's wash-in); null: none. */
  setNeOscillationFactor(factor: ((tS: number) => number) | null): void {
    this.neFactor = factor;
  }

  get neAmplitude(): number {
    return this.params.nePeakToPeak * this.params.neAmplitudeScale;
  }

  // ------------------------------------------------------------ generation

  private ensure(tS: number): void {
    while (this.genEnd < tS + HORIZON_S) this.appendEpisode();
  }

  private ensureCycles(tS: number): void {
    const p = this.params;
    const median = 1 / p.neFrequencyHz;
    while (this.cycEnd <= tS) {
      const period = clamp(this.cycRng.logNormal(median, p.nePeriodJitter), 0.6 * median, 1.6 * median);
      const amp = 1 + p.neCycleAmplitudeJitter * this.cycRng.uniform(-1, 1);
      this.cycStart.push(this.cycEnd);
      this.cycPeriod.push(period);
      this.cycAmp.push(amp);
      this.cycEnd += period;
    }
  }

  private stateIndex(s: SleepState): number {
    return s === 'wake' ? 0 : s === 'nrem' ? 1 : 2;
  }

  private appendEpisode(): void {
    const h = this.params.hypnogram;
    const r = this.hypRng;
    const n = this.epStart.length;
    let state: SleepState;
    let dur: number;
    if (n === 0) {
      state = 'wake';
      dur = r.uniform(h.initialWakeS[0], h.initialWakeS[1]);
    } else {
      const prev = this.epState[n - 1]!;
      const prevDur = this.epEnd[n - 1]! - this.epStart[n - 1]!;
      const u = r.next();
      if (prev === 'nrem') {
        if (prevDur >= h.remMinNremS && u < h.remProbability) {
          state = 'rem';
          dur = r.uniform(h.remS[0], h.remS[1]);
        } else {
          state = 'wake';
          dur = clamp(r.logNormal(h.wakeMedianS, h.wakeSigma), h.wakeS[0], h.wakeS[1]);
        }
      } else if (prev === 'rem') {
        state = 'wake';
        dur = r.uniform(h.postRemWakeS[0], h.postRemWakeS[1]);
      } else {
        state = 'nrem';
        dur = clamp(r.logNormal(h.nremMedianS, h.nremSigma), h.nremS[0], h.nremS[1]);
      }
    }
    const start = n === 0 ? 0 : this.epEnd[n - 1]!;
    const end = start + dur;
    // lagged levels at the start of this episode = end of the previous one
    if (n === 0) {
      for (let q = 0; q < NQ; q++) this.epInit.push(this.targets[q]!);
    } else {
      const si = this.stateIndex(this.epState[n - 1]!);
      const dt = end - dur - this.epStart[n - 1]!;
      for (let q = 0; q < NQ; q++) {
        const target = this.targets[si * NQ + q]!;
        this.epInit.push(target + (this.epInit[(n - 1) * NQ + q]! - target) * Math.exp(-dt / this.taus[q]!));
      }
    }
    this.epStart.push(start);
    this.epEnd.push(end);
    this.epState.push(state);
    this.genEnd = end;

    if (state !== 'nrem') {
      this.pushBout(state, start, end, false);
      return;
    }
    // micro-arousals at a subset of the NE peaks inside this NREM episode
    const p = this.params;
    this.ensureCycles(end + 60);
    let at = start;
    const first = Math.max(0, floorIndex(this.cycStart, start));
    for (let c = first; c < this.cycStart.length; c++) {
      const peak = this.cycStart[c]! + this.cycPeriod[c]! / 2;
      if (peak > end) break;
      if (peak < start + 30 || peak > end - 15) continue;
      if (uniformAt(this.maKey, 0, c) >= p.maProbabilityPerPeak) continue;
      const maS = peak - lerpRange(p.maLeadS, uniformAt(this.maKey, 1, c));
      const maE = maS + lerpRange(p.maDurationS, uniformAt(this.maKey, 2, c));
      if (maS < at + 20 || maE > end - 5) continue;
      this.pushBout('nrem', at, maS, false);
      this.pushBout('wake', maS, maE, true);
      this.maStart.push(maS);
      this.maEnd.push(maE);
      this.maPeak.push(peak);
      at = maE;
    }
    this.pushBout('nrem', at, end, false);
  }

  private pushBout(state: SleepState, start: number, end: number, ma: boolean): void {
    this.boutStart.push(start);
    this.boutEnd.push(end);
    this.boutState.push(state);
    this.boutMa.push(ma);
  }

  // ------------------------------------------------------------ look-ups

  private episodeAt(tS: number): number {
    this.ensure(tS);
    const i = this.lastEp;
    if (tS >= this.epStart[i]! && tS < this.epEnd[i]!) return i;
    if (tS < 0) return 0;
    const j = Math.max(0, floorIndex(this.epStart, tS));
    this.lastEp = j;
    return j;
  }

  private boutAt(tS: number): number {
    this.ensure(tS);
    const i = this.lastBout;
    if (tS >= this.boutStart[i]! && tS < this.boutEnd[i]!) return i;
    if (tS < 0) return 0;
    const j = Math.max(0, floorIndex(this.boutStart, tS));
    this.lastBout = j;
    return j;
  }

  private cycleAt(tS: number): number {
    this.ensureCycles(tS);
    const i = this.lastCyc;
    if (tS >= this.cycStart[i]! && tS < this.cycStart[i]! + this.cycPeriod[i]!) return i;
    const j = Math.max(0, floorIndex(this.cycStart, tS));
    this.lastCyc = j;
    return j;
  }

  /** A state level (first-order lag of the hypnogram) at t. */
  private level(q: number, tS: number): number {
    const e = this.episodeAt(tS);
    const si = this.stateIndex(this.epState[e]!);
    const target = this.targets[si * NQ + q]!;
    const dt = Math.max(tS, 0) - this.epStart[e]!;
    return target + (this.epInit[e * NQ + q]! - target) * Math.exp(-dt / this.taus[q]!);
  }

  /** Extra NE (fraction of peak-to-peak) at micro-arousal peaks. */
  private maBoost(tS: number): number {
    const p = this.params;
    const reach = 4 * p.maBoostSigmaS;
    let i = floorIndex(this.maPeak, tS + reach);
    let s = 0;
    for (; i >= 0; i--) {
      const d = tS - this.maPeak[i]!;
      if (d > reach) break;
      s += Math.exp((-0.5 * d * d) / (p.maBoostSigmaS * p.maBoostSigmaS));
    }
    return p.maNeBoost * s;
  }

  /** 0..1 window over micro-arousals with raised-cosine edges. */
  private maWindow(tS: number): number {
    const edge = this.params.ma.edgeS;
    const i = floorIndex(this.maStart, tS + edge);
    if (i < 0) return 0;
    const s = this.maStart[i]!;
    const e = this.maEnd[i]!;
    if (tS >= e + edge) return 0;
    const up = clamp((tS - (s - edge)) / (2 * edge), 0, 1);
    const down = clamp((e + edge - tS) / (2 * edge), 0, 1);
    const x = Math.min(up, down);
    return 0.5 - 0.5 * Math.cos(Math.PI * x);
  }

  /** The NREM-gated NE oscillation (dF/F), including micro-arousal boosts. */
  neOscillation(tS: number): number {
    const p = this.params;
    this.ensure(tS);
    const gate = this.level(Q_GATE, tS);
    if (gate < 1e-9) return 0;
    const c = this.cycleAt(tS);
    const phi = (tS - this.cycStart[c]!) / this.cycPeriod[c]!;
    const osc = (this.cycAmp[c]! * (1 - Math.cos(2 * Math.PI * phi))) / 2 - 0.5;
    const amplitude = this.neFactor ? this.neAmplitude * this.neFactor(tS) : this.neAmplitude;
    return amplitude * gate * (osc + this.maBoost(tS) + p.neIrregularity * this.neNoise.value(tS));
  }

  /** GRAB-NE signal (dF/F) at t. */
  ne(tS: number): number {
    return this.level(Q_NE, tS) + this.neOscillation(tS) + this.params.wakeNeActivity * this.level(Q_WAKE, tS) * this.wakeNoise.value(tS);
  }

  /** Fractional blood-volume change at t. */
  bloodVolume(tS: number): number {
    return this.level(Q_BV, tS) - this.params.bvGain * this.neOscillation(tS - this.params.bvLagS);
  }

  /** CSF volume index at t. */
  csf(tS: number): number {
    const p = this.params;
    return this.level(Q_CSF, tS) + p.csfGain * p.bvGain * this.neOscillation(tS - p.bvLagS - p.csfLagS);
  }

  stateAt(tS: number): SleepState {
    return this.boutState[this.boutAt(tS)]!;
  }

  sample(tS: number): PhysiologySample {
    return { tS, state: this.stateAt(tS), ne: this.ne(tS), bloodVolume: this.bloodVolume(tS), csf: this.csf(tS) };
  }

  /** Scored bouts overlapping [t0S, t1S). */
  bouts(t0S: number, t1S: number): SleepBout[] {
    this.ensure(t1S);
    const out: SleepBout[] = [];
    for (let i = Math.max(0, floorIndex(this.boutStart, t0S)); i < this.boutStart.length; i++) {
      const s = this.boutStart[i]!;
      if (s >= t1S) break;
      if (this.boutEnd[i]! <= t0S) continue;
      out.push({ state: this.boutState[i]!, startS: s, endS: this.boutEnd[i]!, microArousal: this.boutMa[i]! });
    }
    return out;
  }

  /** NE cycles whose [start, start + period) overlaps [t0S, t1S). */
  neCycles(t0S: number, t1S: number): NeCycle[] {
    this.ensureCycles(t1S);
    const out: NeCycle[] = [];
    for (let i = Math.max(0, floorIndex(this.cycStart, t0S)); i < this.cycStart.length; i++) {
      const s = this.cycStart[i]!;
      if (s >= t1S) break;
      const period = this.cycPeriod[i]!;
      if (s + period <= t0S) continue;
      const peakS = s + period / 2;
      out.push({ index: i, startS: s, periodS: period, peakS, amplitudeScale: this.neFactor ? this.cycAmp[i]! * this.neFactor(peakS) : this.cycAmp[i]! });
    }
    return out;
  }

  /** Micro-arousals starting in [t0S, t1S). */
  microArousals(t0S: number, t1S: number): Array<{ startS: number; endS: number; nePeakS: number }> {
    this.ensure(t1S);
    const out: Array<{ startS: number; endS: number; nePeakS: number }> = [];
    for (let i = Math.max(0, floorIndex(this.maStart, t0S)); i < this.maStart.length; i++) {
      const s = this.maStart[i]!;
      if (s >= t1S) break;
      if (s < t0S) continue;
      out.push({ startS: s, endS: this.maEnd[i]!, nePeakS: this.maPeak[i]! });
    }
    return out;
  }

  // ------------------------------------------------------------ events by segment

  private motionSegment(seg: number): MotionEvent[] {
    const cached = this.motionCache.get(seg);
    if (cached) return cached;
    const m = this.params.motion;
    const maxRate = Math.max(m.ratePerS.wake, m.ratePerS.nrem, m.ratePerS.rem);
    const out: MotionEvent[] = [];
    if (seg >= 0 && maxRate > 0) {
      const r = Rng.derive(this.seed, 'motion', seg);
      const end = (seg + 1) * MOTION_SEGMENT_S;
      let t = seg * MOTION_SEGMENT_S;
      for (;;) {
        t += r.exponential(1 / maxRate);
        if (t >= end) break;
        const u = r.next();
        const ud = r.next();
        const uu = r.next();
        const state = this.stateAt(t);
        // the state's rate by a branch, not m.ratePerS[state]: a keyed load by name compiles for the names seen
        // so far and deoptimised ("wrong name") at the first event in another state
        const rate = state === 'wake' ? m.ratePerS.wake : state === 'nrem' ? m.ratePerS.nrem : m.ratePerS.rem;
        if (u >= rate / maxRate) continue;
        const depth = lerpRange(state === 'wake' ? m.depthWake : m.depthSleep, ud);
        out.push({ startS: t, durationS: lerpRange(m.durationS, uu), depth });
      }
    }
    this.motionCache.set(seg, out);
    if (this.motionCache.size > SEGMENT_CACHE) this.motionCache.delete(this.motionCache.keys().next().value!);
    return out;
  }

  private spindleSegment(seg: number): SpindleEvent[] {
    const cached = this.spindleCache.get(seg);
    if (cached) return cached;
    const sp = this.params.spindles;
    const out: SpindleEvent[] = [];
    if (seg >= 0 && sp.ratePerS > 0) {
      const r = Rng.derive(this.seed, 'spindles', seg);
      const end = (seg + 1) * SPINDLE_SEGMENT_S;
      let t = seg * SPINDLE_SEGMENT_S;
      for (;;) {
        t += r.exponential(1 / sp.ratePerS);
        if (t >= end) break;
        const ev: SpindleEvent = {
          centerS: t,
          durationS: lerpRange(sp.durationS, r.next()),
          frequencyHz: lerpRange(sp.frequencyHz, r.next()),
          amplitudeUv: lerpRange(sp.amplitudeUv, r.next()),
        };
        const e = this.episodeAt(t);
        if (this.stateAt(t) === 'nrem' && t - this.epStart[e]! > 20 && this.maWindow(t) === 0) out.push(ev);
      }
    }
    this.spindleCache.set(seg, out);
    if (this.spindleCache.size > SEGMENT_CACHE) this.spindleCache.delete(this.spindleCache.keys().next().value!);
    return out;
  }

  /** Motion events starting in [t0S, t1S). */
  motionEvents(t0S: number, t1S: number): MotionEvent[] {
    const out: MotionEvent[] = [];
    for (let s = Math.floor(t0S / MOTION_SEGMENT_S); s * MOTION_SEGMENT_S < t1S; s++) {
      for (const ev of this.motionSegment(s)) if (ev.startS >= t0S && ev.startS < t1S) out.push(ev);
    }
    return out;
  }

  /** Spindles centred in [t0S, t1S). */
  spindles(t0S: number, t1S: number): SpindleEvent[] {
    const out: SpindleEvent[] = [];
    for (let s = Math.floor(t0S / SPINDLE_SEGMENT_S); s * SPINDLE_SEGMENT_S < t1S; s++) {
      for (const ev of this.spindleSegment(s)) if (ev.centerS >= t0S && ev.centerS < t1S) out.push(ev);
    }
    return out;
  }

  /** Spindles that reach into [t0S, t1S) (envelope beyond ±3 sigma ignored), appended to out. */
  spindlesTouching(t0S: number, t1S: number, out: SpindleEvent[]): void {
    const reach = 0.75 * this.params.spindles.durationS[1];
    for (let s = Math.floor((t0S - reach) / SPINDLE_SEGMENT_S); s * SPINDLE_SEGMENT_S < t1S + reach; s++) {
      const evs = this.spindleSegment(s);
      for (let j = 0; j < evs.length; j++) {
        const ev = evs[j]!;
        const r = 0.75 * ev.durationS;
        if (ev.centerS + r > t0S && ev.centerS - r < t1S) out.push(ev);
      }
    }
  }

  private motionSum(tS: number, weighted: boolean): number {
    let s = 0;
    const seg = Math.floor(tS / MOTION_SEGMENT_S);
    for (let k = seg - 1; k <= seg; k++) {
      // indexed, not for-of: no iterator object per call, and none of its element-kind checks (empty segments
      // are arrays of small integers to V8, "not a Smi" once one with events arrived)
      const evs = this.motionSegment(k);
      for (let j = 0; j < evs.length; j++) {
        const ev = evs[j]!;
        const u = (tS - ev.startS) / ev.durationS;
        if (u <= 0 || u >= 1) continue;
        const b = Math.sin(Math.PI * u);
        s += (weighted ? ev.depth : 1) * b * b;
      }
    }
    return s;
  }

  /** Multiplicative motion artefact on collected tissue fluorescence (1 = none). */
  motionFactor(tS: number): number {
    const m = 1 - this.motionSum(tS, true);
    return Math.max(m, 0.05);
  }

  /** EEG band and EMG amplitudes (µV rms) at t. */
  auxEnvelope(tS: number, out: AuxEnvelope): void {
    const ma = this.params.ma;
    const w = this.maWindow(tS);
    const activity = Math.min(1, this.motionSum(tS, false));
    out.deltaUv = this.level(Q_DELTA, tS) * (1 + (ma.deltaScale - 1) * w);
    out.thetaUv = this.level(Q_THETA, tS);
    out.sigmaUv = this.level(Q_SIGMA, tS) * (1 + (ma.sigmaScale - 1) * w);
    out.betaUv = this.level(Q_BETA, tS) * (1 + (ma.betaScale - 1) * w);
    out.emgUv = this.level(Q_EMG, tS) * (1 + (ma.emgScale - 1) * w) * (1 + this.params.motion.emgBoost * activity);
  }

  /** Transitions, micro-arousals, spindles and motion events in [t0S, t1S), in time order. */
  events(t0S: number, t1S: number): WorldEvent[] {
    this.ensure(t1S);
    const out: WorldEvent[] = [];
    for (let i = Math.max(1, floorIndex(this.boutStart, t0S)); i < this.boutStart.length; i++) {
      const s = this.boutStart[i]!;
      if (s >= t1S) break;
      if (s < t0S) continue;
      out.push({
        kind: 'transition', tS: s, from: this.boutState[i - 1]!, to: this.boutState[i]!,
        microArousal: this.boutMa[i - 1]! || this.boutMa[i]!,
      });
    }
    for (const m of this.microArousals(t0S, t1S)) {
      out.push({ kind: 'microArousal', tS: m.startS, endS: m.endS, durationS: m.endS - m.startS, nePeakS: m.nePeakS });
    }
    for (const sp of this.spindles(t0S, t1S)) {
      out.push({ kind: 'spindle', tS: sp.centerS, durationS: sp.durationS, frequencyHz: sp.frequencyHz, amplitudeUv: sp.amplitudeUv });
    }
    for (const m of this.motionEvents(t0S, t1S)) out.push({ kind: 'motion', tS: m.startS, durationS: m.durationS, depth: m.depth });
    out.sort((a, b) => a.tS - b.tS);
    return out;
  }

  /** Scored state-change times in [t0S, t1S) (bout starts after the first). */
  transitionTimes(t0S: number, t1S: number): number[] {
    this.ensure(t1S);
    const out: number[] = [];
    for (let i = Math.max(1, floorIndex(this.boutStart, t0S)); i < this.boutStart.length; i++) {
      const s = this.boutStart[i]!;
      if (s >= t1S) break;
      if (s >= t0S) out.push(s);
    }
    return out;
  }
}

