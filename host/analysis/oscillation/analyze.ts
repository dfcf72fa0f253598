// Orchestration of the oscillation analysis: bouts → per-bout detrend → PSD, extrema, cross-correlation;
// PSD per state; micro-arousal-locked averages; recording summary.
import { SLEEP_STATES, type SleepState } from '../sleep/score.ts';
import { AnalysisError } from '../errors.ts';
import { countMicroArousals, hypnogramRuns, nremBouts, stateStretches } from './bouts.ts';
import { detrendInPlace, finitePieces, highpassDesign, interpolateInteriorGaps } from './detrend.ts';
import { isolatedOnsets, lockedAverage, lockLags } from './locked.ts';
import { cycleAmplitudes, findExtrema } from './peaks.ts';
import { PsdEstimator } from './psd.ts';
import type { LockedAverage, OscillationBout, OscillationInput, OscillationOptions, OscillationResult, Psd } from './types.ts';
import { correlationPeak, crossCorrelation } from './xcorr.ts';
import { butterworthLowpass } from '../../dsp/biquad.ts';

export const DEFAULT_OSCILLATION_OPTIONS: Readonly<Required<OscillationOptions>> = {
  bridgeMaxS: 20,
  minBoutS: 200,
  highpassHz: 0.005,
  detrendOrder: 2,
  psdMaxHz: 0.1,
  psdResolutionHz: 0.001,
  bandMaxHz: 0.03,
  lockWindowS: 50,
  isolationS: 50,
  maxLagS: 30,
  welchSegmentS: 200,
  maxGapS: 5,
};

/** Names of the built-in micro-arousal-locked averages. */
const RESERVED_TRACE_NAMES = ['NE', 'bloodVolume', 'delta', 'theta', 'sigma', 'beta'];

function bad(message: string): AnalysisError {
  return new AnalysisError('E_ANALYSIS_BAD_INPUT', message);
}

function checkOptions(s: Required<OscillationOptions>, rateHz: number): void {
  for (const [key, value] of Object.entries(s)) {
    const zeroOk = key === 'bridgeMaxS' || key === 'detrendOrder' || key === 'maxGapS' || key === 'isolationS';
    if (!(Number.isFinite(value) && (zeroOk ? value >= 0 : value > 0))) {
      throw bad(`oscillation option ${key} must be a ${zeroOk ? 'non-negative' : 'positive'} finite number (got ${value}); pass a valid value or leave it out for the default`);
    }
  }
  if (!Number.isInteger(s.detrendOrder) || s.detrendOrder > 10) {
    throw bad(`detrendOrder must be an integer 0..10 (got ${s.detrendOrder}); the study uses a low order (default 2)`);
  }
  if (s.highpassHz >= rateHz / 2 || s.psdMaxHz >= rateHz / 2) {
    throw bad(`highpassHz (${s.highpassHz}) and psdMaxHz (${s.psdMaxHz}) must be below half the sample rate (${rateHz / 2} Hz); lower them or pass traces at a higher rate`);
  }
  if (s.highpassHz / rateHz < 1e-4) {
    throw bad(`highpassHz / rateHz = ${s.highpassHz / rateHz} is too small for a stable filter; decimate the traces to ~10 Hz (the analysis rate) first`);
  }
  if (s.psdResolutionHz > s.psdMaxHz) throw bad(`psdResolutionHz (${s.psdResolutionHz}) must not exceed psdMaxHz (${s.psdMaxHz})`);
  if (s.bandMaxHz > s.psdMaxHz) throw bad(`bandMaxHz (${s.bandMaxHz}) must not exceed psdMaxHz (${s.psdMaxHz}); raise psdMaxHz or lower bandMaxHz`);
}

function checkInput(input: OscillationInput): void {
  const { rateHz, nePct } = input;
  if (!(Number.isFinite(rateHz) && rateHz > 0)) throw bad(`rateHz must be a positive finite number (got ${rateHz})`);
  if (!Number.isFinite(input.startS)) throw bad(`startS must be finite (got ${input.startS})`);
  const n = nePct.length;
  const sameLength = (name: string, x: ArrayLike<number>): void => {
    if (x.length !== n) {
      throw bad(`${name} has ${x.length} samples but nePct has ${n}; pass every trace on the same time base (resample to rateHz from startS)`);
    }
  };
  if (input.bloodVolumePct) sameLength('bloodVolumePct', input.bloodVolumePct);
  for (const [name, x] of Object.entries(input.others ?? {})) {
    sameLength(`trace "${name}"`, x);
    if (RESERVED_TRACE_NAMES.includes(name)) throw bad(`trace name "${name}" is taken by a built-in locked average (${RESERVED_TRACE_NAMES.join(', ')}); rename it in others`);
  }
  const h = input.hypnogram;
  if (!(Number.isFinite(h.epochS) && h.epochS > 0 && Number.isFinite(h.startS))) {
    throw bad(`hypnogram epochS must be positive and startS finite (got ${h.epochS}, ${h.startS}); pass the scoring's epochS and startS`);
  }
  for (const s of h.states) if (!SLEEP_STATES.includes(s)) throw bad(`hypnogram state "${String(s)}" is not one of ${SLEEP_STATES.join(', ')}`);
  for (const ma of input.microArousals) {
    if (!(Number.isFinite(ma.startS) && Number.isFinite(ma.endS) && ma.endS >= ma.startS)) {
      throw bad(`micro-arousal [${ma.startS}, ${ma.endS}] needs finite startS <= endS`);
    }
  }
  const eeg = input.eegBandPower;
  if (eeg) {
    if (!(Number.isFinite(eeg.stepS) && eeg.stepS > 0 && Number.isFinite(eeg.startS))) throw bad(`eegBandPower stepS must be positive and startS finite (got ${eeg.stepS}, ${eeg.startS})`);
    const m = eeg.deltaV2.length;
    if (eeg.thetaV2.length !== m || eeg.sigmaV2.length !== m || eeg.betaV2.length !== m) {
      throw bad(`eegBandPower bands differ in length (δ ${m}, θ ${eeg.thetaV2.length}, σ ${eeg.sigmaV2.length}, β ${eeg.betaV2.length}); pass one value per step in every band`);
    }
  }
}

/** Copy of x[offset, offset + length) with NaN gaps filled, detrended; the NaN positions of the source; null when none is finite. */
function preparedCopy(
  x: Float64Array, offset: number, length: number, order: number, hp: Float64Array,
): { filled: Float64Array; withGaps: Float64Array } | null {
  const filled = x.slice(offset, offset + length);
  if (!filled.some(Number.isFinite)) return null;
  interpolateInteriorGaps(filled);
  detrendInPlace(filled, order, hp);
  const withGaps = Float64Array.from(filled, (v, i) => (Number.isFinite(x[offset + i]!) ? v : NaN));
  return { filled, withGaps };
}

export function analyze(input: OscillationInput, options: OscillationOptions): OscillationResult {
  checkInput(input);
  const settings: Required<OscillationOptions> = { ...DEFAULT_OSCILLATION_OPTIONS };
  for (const k of Object.keys(settings) as Array<keyof OscillationOptions>) {
    const v = options[k];
    if (v !== undefined) settings[k] = v;
  }
  const { rateHz, startS, nePct } = input;
  checkOptions(settings, rateHz);
  const n = nePct.length;
  const bv = input.bloodVolumePct;
  const hp = highpassDesign(rateHz, settings.highpassHz);
  const smooth = butterworthLowpass(2, settings.psdMaxHz, rateHz);
  const maxGap = Math.round(settings.maxGapS * rateHz);
  const maxLag = Math.round(settings.maxLagS * rateHz);
  const newPsd = (): PsdEstimator => new PsdEstimator(rateHz, settings.welchSegmentS, settings.psdResolutionHz, settings.psdMaxHz);
  const toIndex = (tS: number): number => Math.min(n, Math.max(0, Math.round((tS - startS) * rateHz)));

  const runs = hypnogramRuns(input.hypnogram);
  const nrem = nremBouts(runs, settings.bridgeMaxS);

  // ---- NREM bouts
  const nePsd = newPsd();
  const bvPsd = newPsd();
  const bouts: OscillationBout[] = [];
  const extrema: OscillationResult['extrema'] = [];
  const rSum = new Float64Array(2 * maxLag + 1);
  // weights per lag: a lag a bout cannot reach (NaN r) must not count its duration there
  const rWeightS = new Float64Array(2 * maxLag + 1);
  const minSamples = Math.ceil(settings.minBoutS * rateHz - 1e-6);
  for (const bout of nrem) {
    for (const piece of finitePieces(nePct, toIndex(bout.startS), toIndex(bout.endS), maxGap)) {
      const len = piece.data.length;
      if (len < minSamples) continue;
      const ne = piece.data;
      detrendInPlace(ne, settings.detrendOrder, hp);
      const durationS = len / rateHz;
      const t0S = startS + piece.offset / rateHz;
      const raw = nePsd.estimate(ne);
      if (raw) nePsd.accumulate(raw, durationS);
      const found = findExtrema(ne, smooth);
      for (const e of found.extrema) extrema.push({ kind: e.kind, tS: t0S + e.index / rateHz, valuePct: e.value });
      const amps = cycleAmplitudes(found.extrema);
      let cc: OscillationBout['crossCorrelation'] = null;
      if (bv) {
        const b = preparedCopy(bv, piece.offset, len, settings.detrendOrder, hp);
        if (b) {
          const bRaw = bvPsd.estimate(b.filled);
          if (bRaw) bvPsd.accumulate(bRaw, durationS);
          const r = crossCorrelation(ne, b.withGaps, maxLag);
          cc = correlationPeak(r, rateHz);
          if (cc) {
            for (let k = 0; k < r.length; k++) {
              if (!Number.isFinite(r[k]!)) continue;
              rSum[k]! += r[k]! * durationS;
              rWeightS[k]! += durationS;
            }
          }
        }
      }
      bouts.push({
        startS: t0S,
        endS: t0S + durationS,
        durationS,
        microArousals: countMicroArousals(t0S, t0S + durationS, bout.bridged, input.microArousals),
        peakFrequencyHz: raw ? nePsd.peakFrequencyHz(raw, settings.highpassHz, settings.psdMaxHz) : NaN,
        bandPowerPct2: raw ? nePsd.bandPower(raw, settings.bandMaxHz) : NaN,
        cycleAmplitudePct: amps.length > 0 ? amps.reduce((a, v) => a + v, 0) / amps.length : NaN,
        cycles: amps.length,
        crossCorrelation: cc,
      });
    }
  }

  // ---- PSD per state (every stretch, no minimum beyond one Welch segment)
  const psdByState = {} as Record<SleepState, Psd | null>;
  for (const state of SLEEP_STATES) {
    const est = newPsd();
    for (const s of stateStretches(runs, state, nrem)) {
      for (const piece of finitePieces(nePct, toIndex(s.startS), toIndex(s.endS), maxGap)) {
        if (piece.data.length < est.segmentSamples) continue;
        detrendInPlace(piece.data, settings.detrendOrder, hp);
        const raw = est.estimate(piece.data);
        if (raw) est.accumulate(raw, piece.data.length / rateHz);
      }
    }
    const mean = est.mean();
    psdByState[state] = mean ? est.toPsd(mean, est.durationS) : null;
  }

  // ---- micro-arousal-locked averages
  const locked = lockedAverages(input, settings);

  // ---- summary
  const neMean = nePsd.mean();
  const bvMean = bvPsd.mean();
  let ampSum = 0;
  let ampW = 0;
  for (const b of bouts) {
    if (Number.isFinite(b.cycleAmplitudePct)) {
      ampSum += b.cycleAmplitudePct * b.durationS;
      ampW += b.durationS;
    }
  }
  const rPeak = rWeightS.some((w) => w > 0) ? correlationPeak(rSum.map((v, k) => (rWeightS[k]! > 0 ? v / rWeightS[k]! : Number.NaN)), rateHz) : null;
  const analysedS = bouts.reduce((a, b) => a + b.durationS, 0);
  return {
    settings,
    bouts,
    nePsd: neMean ? nePsd.toPsd(neMean, nePsd.durationS) : null,
    bloodVolumePsd: bvMean ? bvPsd.toPsd(bvMean, bvPsd.durationS) : null,
    psdByState,
    extrema,
    locked,
    summary: {
      bouts: bouts.length,
      analysedS,
      peakFrequencyHz: neMean ? nePsd.peakFrequencyHz(neMean, settings.highpassHz, settings.psdMaxHz) : NaN,
      bandPowerPct2: neMean ? nePsd.bandPower(neMean, settings.bandMaxHz) : NaN,
      cycleAmplitudePct: ampW > 0 ? ampSum / ampW : NaN,
      neBloodVolumeR: rPeak ? rPeak.peakR : NaN,
      neBloodVolumeLagS: rPeak ? rPeak.lagS : NaN,
    },
  };
}

function lockedAverages(input: OscillationInput, settings: Required<OscillationOptions>): OscillationResult['locked'] {
  const onsets = isolatedOnsets(input.microArousals, settings.isolationS);
  if (onsets.length === 0) return null;
  const stepS = 1 / input.rateHz;
  const lagS = lockLags(settings.lockWindowS, stepS);
  const traces: Record<string, LockedAverage> = {};
  const add = (name: string, x: ArrayLike<number>, t0S: number, dtS: number, unit: string): void => {
    traces[name] = lockedAverage(x, t0S, dtS, onsets, lagS, unit);
  };
  add('NE', input.nePct, input.startS, stepS, '%');
  if (input.bloodVolumePct) add('bloodVolume', input.bloodVolumePct, input.startS, stepS, '%');
  for (const [name, x] of Object.entries(input.others ?? {})) add(name, x, input.startS, stepS, 'a.u.');
  const eeg = input.eegBandPower;
  if (eeg) {
    add('delta', eeg.deltaV2, eeg.startS, eeg.stepS, 'V²');
    add('theta', eeg.thetaV2, eeg.startS, eeg.stepS, 'V²');
    add('sigma', eeg.sigmaV2, eeg.startS, eeg.stepS, 'V²');
    add('beta', eeg.betaV2, eeg.startS, eeg.stepS, 'V²');
  }
  return { lagS, traces };
}
