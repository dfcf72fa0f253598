// One unit: epoch features, the unsupervised state fit and micro-arousal detection read the same epochs.
// Unsupervised sleep scoring of one recording from EEG and EMG (wake / NREM / REM per epoch) and
// micro-arousal detection. See README.md for the method and its options.
import { SleepError } from './errors.ts';
import { fitGaussianMixture, type GaussianMixture, mixturePosterior } from './gmm.ts';
import { EegBandPowers, type SegmentBandSums } from './bands.ts';

export type SleepState = 'wake' | 'nrem' | 'rem';
export const SLEEP_STATES: readonly SleepState[] = ['wake', 'nrem', 'rem'];

export interface SleepScoringInput {
  /** EEG, volts (any consistent unit works: only ratios and logs are used). */
  eegV: ArrayLike<number>;
  /** EMG, volts, sampled with the EEG (same rate, same first sample). */
  emgV: ArrayLike<number>;
  /** Sample rate of both, Hz (>= 64: the β band needs 30 Hz below Nyquist). */
  rateHz: number;
  /** Time of the first sample, s (default 0): epoch and event times are on this clock. */
  startS?: number;
}

export interface SleepScoringOptions {
  /** Epoch length, s (default 4). */
  epochS?: number;
  /** Welch segment length, s (default 2; at most the epoch). */
  welchSegmentS?: number;
  /** Longest wake bout inside NREM that counts as a micro-arousal, s (default 15). */
  microArousalMaxS?: number;
  /** Shortest, s (default 2: shorter EMG bursts in NREM are twitches and movements). */
  microArousalMinS?: number;
  /** EMG envelope above this multiple of the local NREM level starts a candidate arousal (default 2). */
  microArousalEmgRatio?: number;
  /** EMG envelope: RMS over this window, s (default 0.5) ... */
  envelopeWindowS?: number;
  /** ... every this many s (default 0.1). */
  envelopeStepS?: number;
  /** REM entered from wake is relabelled wake (mice enter REM from NREM; default true). */
  remOnlyAfterNrem?: boolean;
  /**
   * Epochs with flat or non-finite EEG/EMG (a gap in the recording): 'error' (default) refuses
   * them; 'nearest' leaves them out of the mixture fit and gives each the state of the nearest
   * scored epoch (the earlier one on a tie) with confidence 0.
   */
  missingEpochs?: 'error' | 'nearest';
}

export interface MicroArousal {
  /** Onset and offset, s (half-way crossings of the EMG envelope between the NREM level and the arousal's plateau). */
  startS: number;
  endS: number;
  durationS: number;
  /** Plateau EMG over the local NREM EMG level. */
  emgRatio: number;
}

export interface EpochFeatures {
  /** Band powers per epoch, V². */
  deltaV2: Float64Array;
  thetaV2: Float64Array;
  sigmaV2: Float64Array;
  betaV2: Float64Array;
  /** EMG RMS per epoch (mean removed), V. */
  emgRmsV: Float64Array;
}

export interface SleepScoring {
  epochS: number;
  /** Start of epoch 0, s. */
  startS: number;
  /** Final state per epoch (after micro-arousal refinement and smoothing). */
  states: SleepState[];
  /**
   * Confidence per epoch (0..1): the mixture's posterior probability of the final state; inside NREM
   * episodes (where the EMG envelope decides wake or NREM) the smaller of the posterior of "not REM"
   * and the share of the epoch spent in the chosen state.
   */
  confidence: Float64Array;
  /** State per epoch straight from the mixture (before refinement). */
  mixtureStates: SleepState[];
  features: EpochFeatures;
  /** The fitted mixture over [ln EMG RMS, ln δ power, ln θ power], components in SLEEP_STATES order. */
  mixture: GaussianMixture;
  microArousals: MicroArousal[];
  options: Required<SleepScoringOptions>;
}

const DEFAULTS: Required<SleepScoringOptions> = {
  epochS: 4,
  welchSegmentS: 2,
  microArousalMaxS: 15,
  microArousalMinS: 2,
  microArousalEmgRatio: 2,
  envelopeWindowS: 0.5,
  envelopeStepS: 0.1,
  remOnlyAfterNrem: true,
  missingEpochs: 'error',
};

/** The q-quantile of the finite values (NaN where none: gaps never pull it). */
function quantile(values: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(values).filter(Number.isFinite).sort();
  if (s.length === 0) return Number.NaN;
  const x = q * (s.length - 1);
  const i = Math.floor(x);
  return i + 1 < s.length ? s[i]! + (x - i) * (s[i + 1]! - s[i]!) : s[i]!;
}

function bad(what: string, v: unknown, want: string): never {
  throw new SleepError('E_SLEEP_BAD_OPTION', `${what} is ${String(v)}; it must be ${want}`);
}

/** The checks that need the sample rate (feature computation). */
function checkRateOptions(o: Pick<Required<SleepScoringOptions>, 'epochS' | 'welchSegmentS' | 'envelopeStepS'>, rateHz: number): void {
  if (!(Number.isFinite(rateHz) && rateHz >= 64)) bad('rateHz', rateHz, 'a sample rate >= 64 Hz (the β band reaches 30 Hz)');
  if (!(o.epochS > 0 && o.epochS * rateHz >= 64)) bad('epochS', o.epochS, 'positive and at least 64 samples long');
  if (!(o.welchSegmentS > 0 && o.welchSegmentS <= o.epochS && o.welchSegmentS * rateHz >= 32)) bad('welchSegmentS', o.welchSegmentS, 'in (0, epochS] and at least 32 samples');
  if (!(o.envelopeStepS * rateHz >= 1)) bad('envelopeStepS', o.envelopeStepS, 'at least one sample');
}

/** The checks of the scoring itself (also from precomputed features). */
function checkOptions(o: Required<SleepScoringOptions>): void {
  if (!(o.epochS > 0)) bad('epochS', o.epochS, 'positive');
  if (!(o.microArousalMinS > 0 && o.microArousalMaxS > o.microArousalMinS)) bad('microArousalMinS/MaxS', `${o.microArousalMinS}/${o.microArousalMaxS}`, '0 < min < max');
  if (!(o.microArousalEmgRatio > 1)) bad('microArousalEmgRatio', o.microArousalEmgRatio, '> 1');
  if (!(o.envelopeStepS > 0 && o.envelopeWindowS >= o.envelopeStepS)) bad('envelopeStepS/WindowS', `${o.envelopeStepS}/${o.envelopeWindowS}`, '0 < step <= window');
  if (!(o.epochS / o.envelopeStepS >= 1)) bad('envelopeStepS', o.envelopeStepS, 'at most epochS');
}

/** Band powers and EMG RMS per epoch. */
export function epochFeatures(input: SleepScoringInput, epochS = DEFAULTS.epochS, welchSegmentS = DEFAULTS.welchSegmentS): EpochFeatures {
  const { eegV, emgV, rateHz } = input;
  const epochN = Math.round(epochS * rateHz);
  const count = Math.floor(eegV.length / epochN);
  const bands = new EegBandPowers(rateHz, Math.round(welchSegmentS * rateHz));
  const eegSegment: SegmentBandSums = (s) => bands.segment(eegV, s);
  const f: EpochFeatures = {
    deltaV2: new Float64Array(count), thetaV2: new Float64Array(count), sigmaV2: new Float64Array(count),
    betaV2: new Float64Array(count), emgRmsV: new Float64Array(count),
  };
  for (let e = 0; e < count; e++) epochFeatureRow(bands, eegSegment, emgV, e * epochN, epochN, f, e);
  return f;
}

const epochBands = new Float64Array(4);

/**
 * Features of one epoch [start, start + epochN) into row `e` of `out`: the Welch band powers of
 * the EEG (its segments' band sums from `eegSegment`, on the same sample indices) and the EMG RMS
 * with the epoch mean removed. The one definition (streaming readers call it too, with segments
 * they share with the band-power series).
 */
export function epochFeatureRow(bands: EegBandPowers, eegSegment: SegmentBandSums, emgV: ArrayLike<number>, start: number, epochN: number, out: EpochFeatures, e: number): void {
  const p = bands.window(eegSegment, start, epochN, epochBands);
  out.deltaV2[e] = p[0]!;
  out.thetaV2[e] = p[1]!;
  out.sigmaV2[e] = p[2]!;
  out.betaV2[e] = p[3]!;
  out.emgRmsV[e] = rmsAboutMean(emgV, start, start + epochN);
}

/** RMS of x[a, b) about its own mean (two passes); NaN if any sample is. */
export function rmsAboutMean(x: ArrayLike<number>, a: number, b: number): number {
  const len = b - a;
  let s1 = 0;
  for (let i = a; i < b; i++) s1 += x[i]!;
  const mean = s1 / len;
  let s2 = 0;
  for (let i = a; i < b; i++) s2 += (x[i]! - mean) ** 2;
  return Math.sqrt(s2 / len);
}

/** EMG RMS (local mean removed) over `windowS` centred on t = startS + k·stepS. */
export function emgEnvelope(emgV: ArrayLike<number>, rateHz: number, windowS: number, stepS: number): Float64Array {
  const n = emgV.length;
  const half = envelopeHalfWindow(windowS, rateHz);
  const count = Math.floor(n / (stepS * rateHz)) + 1;
  const out = new Float64Array(count);
  // each window summed directly (window/step times the input in all): no per-sample arrays, so a
  // day-long recording needs only the envelope itself
  for (let k = 0; k < count; k++) {
    const c = envelopeCentre(k, stepS, rateHz);
    const a = Math.max(0, c - half);
    const b = Math.min(n, c + half);
    if (b > a) out[k] = rmsAboutMean(emgV, a, b);
  }
  return out;
}

/** Half the envelope window, samples (emgEnvelope's; streaming readers use it too). */
export function envelopeHalfWindow(windowS: number, rateHz: number): number {
  return Math.max(1, Math.round((windowS * rateHz) / 2));
}

/** Sample at the centre of envelope value k (emgEnvelope's; streaming readers use it too). */
export function envelopeCentre(k: number, stepS: number, rateHz: number): number {
  return Math.round(k * stepS * rateHz);
}

/** Runs [first, end) of equal values. */
function runs<T>(xs: readonly T[]): Array<{ value: T; first: number; end: number }> {
  const out: Array<{ value: T; first: number; end: number }> = [];
  for (let i = 0; i < xs.length; i++) {
    const last = out[out.length - 1];
    if (last && last.value === xs[i]) last.end = i + 1;
    else out.push({ value: xs[i]!, first: i, end: i + 1 });
  }
  return out;
}

/** Precomputed features of one recording (e.g. from readAnalysisInput, which computes them while streaming). */
export interface SleepFeatures {
  /** Per-epoch features as epochFeatures computes them. */
  features: EpochFeatures;
  /** Epoch length the features were computed over, s. */
  epochS: number;
  /** Time of epoch 0's start, s (default 0). */
  startS?: number;
  /**
   * EMG RMS envelope as emgEnvelope computes it: value k is centred on startS + k·stepS (the same
   * startS as the epochs: both grids begin at the first sample).
   */
  envelope: { emgRmsV: ArrayLike<number>; stepS: number; windowS: number; startS?: number };
}

/**
 * Scores sleep per epoch without training data: a three-component Gaussian mixture over
 * [ln EMG RMS, ln δ power, ln θ power] fitted to this recording, components named by rules (highest EMG → wake;
 * of the other two, more θ relative to δ → REM, the other → NREM); then micro-arousals are found inside NREM on a
 * sub-epoch EMG envelope and the epochs they cover are relabelled by majority.
 * The raw-signal form of scoreSleepFeatures: computes epochFeatures and emgEnvelope, then scores them.
 */
export function scoreSleep(input: SleepScoringInput, options: SleepScoringOptions = {}): SleepScoring {
  const o: Required<SleepScoringOptions> = { ...DEFAULTS, ...options };
  const { eegV, emgV, rateHz } = input;
  checkRateOptions(o, rateHz);
  checkOptions(o);
  if (!eegV || !emgV || eegV.length !== emgV.length) {
    throw new SleepError('E_SLEEP_BAD_INPUT', `EEG and EMG must be sampled together (lengths ${eegV?.length} and ${emgV?.length})`);
  }
  const startS = input.startS ?? 0;
  const features = epochFeatures(input, o.epochS, o.welchSegmentS);
  const envelope = { emgRmsV: emgEnvelope(emgV, rateHz, o.envelopeWindowS, o.envelopeStepS), stepS: o.envelopeStepS, windowS: o.envelopeWindowS };
  return scoreSleepFeatures({ features, epochS: o.epochS, startS, envelope }, o);
}

/**
 * scoreSleep from precomputed features: per-epoch band powers and EMG RMS (epochFeatures) and the
 * EMG envelope (emgEnvelope). `options.epochS` and the envelope options, when given, must match
 * the features'; `welchSegmentS` is only reported.
 */
export function scoreSleepFeatures(input: SleepFeatures, options: SleepScoringOptions = {}): SleepScoring {
  const { features, epochS, envelope } = input;
  const startS = input.startS ?? 0;
  const mismatch = (what: string, given: number | undefined, have: number): void => {
    if (given !== undefined && Math.abs(given - have) > 1e-9) {
      throw new SleepError('E_SLEEP_BAD_OPTION', `${what} ${given} s differs from the features' ${have} s; recompute the features with it or leave it out`);
    }
  };
  mismatch('epochS', options.epochS, epochS);
  mismatch('envelopeStepS', options.envelopeStepS, envelope.stepS);
  mismatch('envelopeWindowS', options.envelopeWindowS, envelope.windowS);
  mismatch('envelope startS', envelope.startS, startS);
  const o: Required<SleepScoringOptions> = { ...DEFAULTS, ...options, epochS, envelopeStepS: envelope.stepS, envelopeWindowS: envelope.windowS };
  checkOptions(o);
  const n = features.emgRmsV.length;
  for (const k of ['deltaV2', 'thetaV2', 'sigmaV2', 'betaV2'] as const) {
    if (features[k].length !== n) throw new SleepError('E_SLEEP_BAD_INPUT', `features.${k} has ${features[k].length} epochs, emgRmsV ${n}; pass features of one recording`);
  }
  if (n < 30) {
    throw new SleepError('E_SLEEP_BAD_INPUT', `${n} epochs of ${o.epochS} s: unsupervised scoring needs at least 30 (2 min at 4 s); record longer or use a shorter epochS`);
  }
  const tiny = 1e-30;
  const points: Float64Array[] = [];
  /** index into `points` per epoch, -1 for a missing epoch */
  const pointOf = new Int32Array(n).fill(-1);
  for (let e = 0; e < n; e++) {
    const p = Float64Array.of(
      Math.log(features.emgRmsV[e]! + tiny),
      Math.log(features.deltaV2[e]! + tiny),
      Math.log(features.thetaV2[e]! + tiny),
    );
    if (!p.every(Number.isFinite) || !(features.emgRmsV[e]! > 0 && features.deltaV2[e]! > 0)) {
      if (o.missingEpochs === 'nearest') continue;
      throw new SleepError('E_SLEEP_BAD_INPUT', `epoch ${e} (${startS + e * o.epochS} s) has flat or non-finite EEG/EMG; fill gaps and check the electrodes before scoring, or pass missingEpochs: 'nearest'`);
    }
    pointOf[e] = points.length;
    points.push(p);
  }
  if (points.length < 30) {
    throw new SleepError('E_SLEEP_BAD_INPUT', `${points.length} of ${n} epochs have usable EEG/EMG: unsupervised scoring needs at least 30; check the electrodes`);
  }
  const col = (j: number): number[] => points.map((p) => p[j]!);
  const [emgCol, deltaCol, thetaCol] = [col(0), col(1), col(2)];
  // Rule-based starting points: wake = high EMG; NREM = high δ; REM = lowest EMG, low δ, high θ.
  const init = [
    [quantile(emgCol, 0.9), quantile(deltaCol, 0.3), quantile(thetaCol, 0.5)],
    [quantile(emgCol, 0.4), quantile(deltaCol, 0.9), quantile(thetaCol, 0.5)],
    [quantile(emgCol, 0.05), quantile(deltaCol, 0.1), quantile(thetaCol, 0.95)],
  ];
  const fitted = fitGaussianMixture(points, init);
  // Name components by rule whatever EM did with them: highest EMG -> wake; of the other two, the
  // one with more θ relative to δ -> REM.
  const order = [0, 1, 2];
  const wakeC = order.reduce((a, b) => (fitted.means[b]![0]! > fitted.means[a]![0]! ? b : a));
  const rest = order.filter((c) => c !== wakeC);
  const thetaOverDelta = (c: number): number => fitted.means[c]![2]! - fitted.means[c]![1]!;
  const remC = thetaOverDelta(rest[0]!) > thetaOverDelta(rest[1]!) ? rest[0]! : rest[1]!;
  const nremC = rest[0] === remC ? rest[1]! : rest[0]!;
  const perm = [wakeC, nremC, remC];
  const mixture: GaussianMixture = {
    ...fitted,
    weights: perm.map((c) => fitted.weights[c]!),
    means: perm.map((c) => fitted.means[c]!),
    covariances: perm.map((c) => fitted.covariances[c]!),
  };
  const pointPosterior = points.map((p) => mixturePosterior(mixture, p));
  // a missing epoch takes the posterior of the nearest scored one (earlier on a tie) and confidence 0
  const nearest = nearestScored(pointOf);
  const posterior = Array.from(nearest, (e) => pointPosterior[pointOf[e]!]!);
  const mixtureStates: SleepState[] = posterior.map((pp) => SLEEP_STATES[pp.indexOf(Math.max(...pp))]!);
  const states = [...mixtureStates];

  const inEpisodeShare = new Float64Array(n).fill(Number.NaN);
  const env = envelope.emgRmsV instanceof Float64Array ? envelope.emgRmsV : Float64Array.from(envelope.emgRmsV);
  const microArousals = refineWithArousals(states, env, startS, o, inEpisodeShare);

  // REM only after NREM: a REM run entered from a wake bout longer than a micro-arousal becomes wake
  // (a short wake-scored stretch between NREM and REM is the transition, not a bout of waking).
  if (o.remOnlyAfterNrem) {
    const maxGapEpochs = Math.ceil(o.microArousalMaxS / o.epochS) + 1;
    const rs = runs(states);
    for (let r = 0; r < rs.length; r++) {
      if (rs[r]!.value !== 'rem') continue;
      const prev = rs[r - 1];
      const fromWake = r === 0 || (prev!.value === 'wake' && (prev!.end - prev!.first > maxGapEpochs || r === 1 || rs[r - 2]!.value !== 'nrem'));
      if (fromWake) for (let e = rs[r]!.first; e < rs[r]!.end; e++) states[e] = 'wake';
    }
  }
  const confidence = new Float64Array(n);
  for (let e = 0; e < n; e++) {
    const p = posterior[e]![SLEEP_STATES.indexOf(states[e]!)]!;
    // inside NREM episodes the state comes from the time-resolved EMG: its share of the epoch
    const share = inEpisodeShare[e]!;
    confidence[e] = pointOf[e]! < 0 ? 0 : Number.isNaN(share) ? p : Math.min(posterior[e]![0]! + posterior[e]![1]!, share);
  }
  return { epochS: o.epochS, startS, states, confidence, mixtureStates, features, mixture, microArousals, options: o };
}

/** For each epoch, itself if scored (pointOf >= 0), else the nearest scored epoch (the earlier on a tie). */
function nearestScored(pointOf: Int32Array): Int32Array {
  const n = pointOf.length;
  const out = new Int32Array(n).fill(-1);
  let last = -1;
  for (let e = 0; e < n; e++) {
    if (pointOf[e]! >= 0) last = e;
    out[e] = last;
  }
  let next = -1;
  for (let e = n - 1; e >= 0; e--) {
    if (pointOf[e]! >= 0) next = e;
    const before = out[e]!;
    if (before < 0 || (next >= 0 && next - e < e - before)) out[e] = next;
  }
  return out;
}

/**
 * Finds wake bouts inside NREM on the EMG envelope and relabels the epochs of NREM episodes by the
 * majority of their time (awake inside a detected bout, else NREM). Mutates `states`.
 */
function refineWithArousals(
  states: SleepState[], env: Float64Array, startS: number, o: Required<SleepScoringOptions>,
  share: Float64Array,
): MicroArousal[] {
  const step = o.envelopeStepS;
  const perEpoch = o.epochS / step;
  const maxGapEpochs = Math.ceil(o.microArousalMaxS / o.epochS) + 2; // a bout spans up to ceil(max/epoch)+1 epochs, plus one transitional epoch
  // NREM episodes: NREM runs joined across short (<= a micro-arousal + two epochs) non-NREM runs
  // flanked by NREM; inside them every epoch is NREM or, by majority, a detected wake bout.
  const rs = runs(states);
  const episodes: Array<[number, number]> = [];
  for (let r = 0; r < rs.length; r++) {
    const run = rs[r]!;
    if (run.value !== 'nrem') continue;
    const last = episodes[episodes.length - 1];
    if (last && run.first - last[1] <= maxGapEpochs) last[1] = run.end;
    else episodes.push([run.first, run.end]);
  }
  const out: MicroArousal[] = [];
  for (const [e0, e1] of episodes) {
    const k0 = Math.round(e0 * perEpoch);
    const k1 = Math.min(env.length, Math.round(e1 * perEpoch));
    const nremEnv: number[] = [];
    for (let e = e0; e < e1; e++) {
      if (states[e] !== 'nrem') continue;
      for (let k = Math.round(e * perEpoch); k < Math.round((e + 1) * perEpoch) && k < env.length; k++) nremEnv.push(env[k]!);
    }
    const base = quantile(nremEnv, 0.5);
    const det = base * o.microArousalEmgRatio;
    const covered = new Float64Array(e1 - e0);
    let k = k0;
    while (k < k1) {
      if (!(env[k]! > det)) { k++; continue; }
      let end = k;
      // a candidate: above the detection level, gaps shorter than one envelope window merged
      const mergeSteps = Math.ceil(o.envelopeWindowS / step);
      let below = 0;
      let j = k;
      for (; j < k1; j++) {
        if (env[j]! > det) { end = j + 1; below = 0; } else if (++below > mergeSteps) break;
      }
      const seg = Array.from(env.subarray(k, end));
      const plateau = quantile(seg, 0.5);
      const half = (base + plateau) / 2;
      // onset: walk back from the first detection to the half-level crossing (interpolated)
      let a = k;
      while (a > k0 && env[a - 1]! >= half) a--;
      while (a < end && env[a]! < half) a++;
      let b = end - 1;
      while (b + 1 < k1 && env[b + 1]! >= half) b++;
      while (b > a && env[b]! < half) b--;
      // the arousal is the longest stretch at or above the half level (a twitch just before or after it,
      // separated by a dip below half, is not part of it)
      {
        let bestA = a;
        let bestLen = 0;
        let runA = -1;
        for (let q = a; q <= b + 1; q++) {
          if (q <= b && env[q]! >= half) {
            if (runA < 0) runA = q;
          } else if (runA >= 0) {
            if (q - runA > bestLen) { bestLen = q - runA; bestA = runA; }
            runA = -1;
          }
        }
        if (bestLen > 0) { a = bestA; b = bestA + bestLen - 1; }
      }
      const cross = (i0: number, i1: number): number => {
        const y0 = env[i0]!;
        const y1 = env[i1]!;
        return y1 === y0 ? i1 : i0 + (half - y0) / (y1 - y0) * (i1 - i0);
      };
      const onK = a > k0 ? cross(a - 1, a) : a;
      const offK = b + 1 < k1 ? cross(b, b + 1) : b;
      const dur = (offK - onK) * step;
      if (dur >= o.microArousalMinS) {
        // time covered, per epoch of the episode
        for (let e = e0; e < e1; e++) {
          const ea = e * perEpoch;
          const eb = (e + 1) * perEpoch;
          covered[e - e0]! += Math.max(0, Math.min(eb, offK) - Math.max(ea, onK)) / perEpoch;
        }
        if (dur <= o.microArousalMaxS) {
          out.push({ startS: startS + onK * step, endS: startS + offK * step, durationS: dur, emgRatio: plateau / base });
        }
      }
      k = Math.max(j, b + 1);
    }
    for (let e = e0; e < e1; e++) {
      const c = Math.min(1, covered[e - e0]!);
      states[e] = c > 0.5 ? 'wake' : 'nrem';
      share[e] = Math.max(c, 1 - c);
    }
  }
  return out;
}
