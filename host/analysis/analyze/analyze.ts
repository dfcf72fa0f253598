// `fiberrig analyze`: one recording from the raw log to the sleep study's numbers. One streaming
// read (readAnalysisInput), then per part: correction of the photometry at the analysis rate,
// sleep (scored from the EEG/EMG features, or an imported hypnogram), and the NE oscillation
// analysis. A part that cannot be computed is listed in `unavailable` with a code and the reason;
// only a recording with no photometry at all is an error.
import { type AbsorptionTable, bleachRatio, type CorrectionMethod } from '../correct.ts';
import { AnalysisError } from '../errors.ts';
import type { AnalysisInput } from '../input.ts';
import { ANALYSIS_INPUT_DEFAULTS, readAnalysisInput } from '../input-read.ts';
import { analyzeOscillation } from '../oscillation/index.ts';
import type { OscillationResult } from '../oscillation/types.ts';
import { correctChannels, type RecordingCorrection } from '../recording.ts';
import { parseHypnogramCsv } from '../sleep/hypnogram.ts';
import { type MicroArousal, scoreSleepFeatures, type SleepState } from '../sleep/score.ts';
import { FIBERRIG_VERSION } from '../../record/version.ts';
import { BLOOD_VOLUME_BAND_NM, CONTROL_BAND_NM, inBand, SENSOR_BAND_NM } from '../../pipeline/wavelength-roles.ts';
import type { AnalyzeOptions, AnalyzeSettings, RecordingAnalysis, Unavailable } from './types.ts';
import { recordingAlignment } from './group-time.ts';

export type { AnalyzeOptions, AnalyzeSettings, RecordingAnalysis, Unavailable } from './types.ts';

/** Default longest micro-arousal, s (scoreSleep's default; Kjaerby 2022: MA_maxdur = 15). */
export const DEFAULT_MICRO_AROUSAL_MAX_S = 15;

/** Reads `path` once (streaming) and analyses it. Throws AnalysisError E_ANALYSIS_NO_CHANNEL when it holds no photometry. */
export async function analyzeRecording(path: string, options: AnalyzeOptions = {}): Promise<RecordingAnalysis> {
  // the envelope is computed while reading: its window and step are reader options
  const input = await readAnalysisInput(path, {
    ...options,
    ...(options.sleep?.envelopeWindowS !== undefined && options.envelopeWindowS === undefined ? { envelopeWindowS: options.sleep.envelopeWindowS } : {}),
    ...(options.sleep?.envelopeStepS !== undefined && options.envelopeStepS === undefined ? { envelopeStepS: options.sleep.envelopeStepS } : {}),
  });
  return { ...analyzeInput(input, options), groupTime: recordingAlignment(path) };
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const errorCode = (e: unknown, fallback: string): string =>
  (e instanceof Error && 'code' in e && typeof (e as { code: unknown }).code === 'string' ? (e as { code: string }).code : fallback);

/** The analysis of a recording already read by readAnalysisInput. */
export function analyzeInput(input: AnalysisInput, options: AnalyzeOptions = {}): RecordingAnalysis {
  const ph = input.photometry;
  if (ph.channels.length === 0 || ph.samples === 0) {
    throw new AnalysisError('E_ANALYSIS_NO_CHANNEL', `${input.path} has no photometry channels: nothing to analyse; record with at least one LED configured`);
  }
  const unavailable: Unavailable[] = [];
  const microArousalMaxS = options.sleep?.microArousalMaxS ?? DEFAULT_MICRO_AROUSAL_MAX_S;
  const settings: AnalyzeSettings = {
    analysisRateHz: options.analysisRateHz ?? ANALYSIS_INPUT_DEFAULTS.analysisRateHz,
    epochS: options.epochS ?? ANALYSIS_INPUT_DEFAULTS.epochS,
    methodRequested: options.method ?? null,
    absorption: options.absorption ?? null,
    hypnogram: null,
    microArousalMaxS,
    sleep: { ...(options.sleep ?? {}), ...(options.epochS !== undefined ? { epochS: options.epochS } : {}) },
    oscillation: { ...(options.oscillation ?? {}) },
  };

  const corrected = correct(input, options.method, options.absorption, unavailable);
  const dffPct: Record<string, Float64Array> = {};
  for (const c of corrected?.corrected ?? []) dffPct[c.sensor] = c.dffPercent;
  const bloodVolumePct = bloodVolumeTrace(input, corrected, unavailable);

  const sleep = sleepPart(input, options, microArousalMaxS, unavailable);
  settings.hypnogram = sleep?.source ?? null;

  let oscillation: OscillationResult | null = null;
  const ne = corrected?.corrected[0];
  if (!ne) {
    unavailable.push({ part: 'oscillation', code: 'E_NO_SENSOR', reason: 'no corrected sensor trace: no NE oscillation analysis' });
  } else if (!sleep) {
    unavailable.push({ part: 'oscillation', code: 'E_NO_HYPNOGRAM', reason: 'no hypnogram (no EEG/EMG to score, none imported): NREM bouts cannot be found, so no NE oscillation analysis; import one with --hypnogram' });
  } else {
    const others: Record<string, Float64Array> = {};
    for (const c of corrected.corrected.slice(1)) others[c.sensor] = c.dffPercent;
    try {
      oscillation = analyzeOscillation({
        rateHz: ph.rateHz,
        startS: ph.t0S,
        nePct: ne.dffPercent,
        bloodVolumePct,
        others,
        hypnogram: { epochS: sleep.epochS, startS: sleep.startS, states: sleep.states },
        microArousals: sleep.microArousals,
        eegBandPower: input.sleep?.bandPower ?? null,
      }, options.oscillation ?? {});
      settings.oscillation = oscillation.settings;
      if (oscillation.bouts.length === 0) {
        unavailable.push({
          part: 'oscillation', code: 'E_NO_NREM_BOUT',
          reason: `no NREM bout of at least ${oscillation.settings.minBoutS} s: no peak frequency, band power, cycle amplitude or per-bout cross-correlation (PSD per state is still given)`,
        });
      }
    } catch (e) {
      unavailable.push({ part: 'oscillation', code: errorCode(e, 'E_OSCILLATION_FAILED'), reason: `the NE oscillation analysis failed: ${errorText(e)}` });
    }
  }
  if (!bloodVolumePct && !unavailable.some((u) => u.part === 'cross-correlation')) {
    unavailable.push({ part: 'cross-correlation', code: 'E_NO_BLOOD_VOLUME', reason: `no blood-volume channel (LED ${BLOOD_VOLUME_BAND_NM[0]}–${BLOOD_VOLUME_BAND_NM[1]} nm): no NE vs blood-volume cross-correlation` });
  }

  return {
    recording: input.path,
    fiberrigVersion: FIBERRIG_VERSION,
    settings,
    inputSource: input.source,
    durationS: input.durationS,
    analysisRateHz: ph.rateHz,
    traces: { t0S: ph.t0S, rateHz: ph.rateHz, dffPct, bloodVolumePct },
    correction: corrected
      ? {
          method: corrected.corrected[0]!.method,
          sensors: corrected.corrected.map((c) => ({ sensor: c.sensor, control: c.control, bloodVolume: c.bloodVolume, coefficients: c.coefficients ?? null })),
          absorption: corrected.absorption,
        }
      : null,
    sleep,
    oscillation,
    unavailable,
  };
}

/** Corrects every sensor channel, falling back (and saying so) when the method's channels are missing. */
function correct(input: AnalysisInput, requested: CorrectionMethod | undefined, absorption: AbsorptionTable | undefined, unavailable: Unavailable[]): RecordingCorrection | null {
  const ph = input.photometry;
  const has = (band: readonly [number, number]): boolean => ph.channels.some((c) => inBand(c.wavelengthNm, band));
  if (!has(SENSOR_BAND_NM)) {
    unavailable.push({ part: 'correction', code: 'E_NO_SENSOR', reason: `no sensor channel (LED ${SENSOR_BAND_NM[0]}–${SENSOR_BAND_NM[1]} nm): no corrected ΔF/F; the recording has ${ph.channels.map((c) => c.name).join(', ')}` });
    return null;
  }
  const hasBv = has(BLOOD_VOLUME_BAND_NM);
  const hasControl = has(CONTROL_BAND_NM);
  const rec = { path: input.path, rateHz: ph.rateHz, samples: ph.samples, channels: ph.channels, data: ph.data };
  const withTable = absorption ? { absorption } : {};
  let method: CorrectionMethod | undefined = requested;
  if (method === 'haemodynamic' && !hasBv) {
    method = hasControl ? 'isosbestic' : 'none';
    unavailable.push({ part: 'haemodynamic', code: 'E_NO_BLOOD_VOLUME', reason: `haemodynamic correction asked for, but there is no 560 nm (${BLOOD_VOLUME_BAND_NM[0]}–${BLOOD_VOLUME_BAND_NM[1]} nm) channel: ${method} correction used instead` });
  }
  let result: RecordingCorrection | null = null;
  // the method asked for (or the default), then the next simpler ones, each failure said
  const chain: Array<CorrectionMethod | undefined> = method === undefined ? [undefined, 'isosbestic', 'none'] : method === 'haemodynamic' ? ['haemodynamic', 'isosbestic', 'none'] : method === 'isosbestic' ? ['isosbestic', 'none'] : ['none'];
  for (const m of chain) {
    try {
      result = correctChannels(rec, { ...(m ? { method: m } : {}), ...withTable });
      break;
    } catch (e) {
      if (m === 'none') throw e;
      unavailable.push({ part: 'correction', code: errorCode(e, 'E_CORRECTION_FAILED'), reason: `${m ?? 'the default'} correction impossible (${errorText(e)}): trying the next simpler method` });
    }
  }
  const used = result!.corrected[0]!.method;
  if (used !== 'haemodynamic' && requested === undefined) {
    const controlOnSensorDetector = result!.corrected.every((c) => c.control !== null);
    if (!hasBv) unavailable.push({ part: 'haemodynamic', code: 'E_NO_BLOOD_VOLUME', reason: `no 560 nm (${BLOOD_VOLUME_BAND_NM[0]}–${BLOOD_VOLUME_BAND_NM[1]} nm) blood-volume channel: no haemodynamic correction, ${used} correction used` });
    else if (!controlOnSensorDetector) unavailable.push({ part: 'haemodynamic', code: 'E_NO_CONTROL_FOR_SCALE', reason: `a 560 nm channel but no 405 nm control on the sensor's detector: the default absorption table (haemoglobin spectra) is relative and its scale is fitted from the control, so ${used} correction was used; give absolute coefficients with --absorption FILE and --method haemodynamic` });
  }
  return result!;
}

/** ΔV/V·100 from the haemodynamic correction, else the 560 nm channel's ΔF/F after bleaching, else null. */
function bloodVolumeTrace(input: AnalysisInput, corrected: RecordingCorrection | null, unavailable: Unavailable[]): Float64Array | null {
  const fromModel = corrected?.corrected.find((c) => c.bloodVolumeChange)?.bloodVolumeChange;
  if (fromModel) return fromModel.map((v) => v * 100);
  const ph = input.photometry;
  const bv = ph.channels.filter((c) => inBand(c.wavelengthNm, BLOOD_VOLUME_BAND_NM));
  if (bv.length === 0) return null;
  // the red detector sees the dye: the brightest channel in the band (as correctChannels chooses)
  const level = (name: string): number => { const d = ph.data[name]!; let s = 0; let n = 0; for (const v of d) if (Number.isFinite(v)) { s += v; n++; } return n ? s / n : Number.NEGATIVE_INFINITY; };
  const channel = bv.reduce((a, b) => (level(b.name) > level(a.name) ? b : a));
  const tS = Float64Array.from({ length: ph.samples }, (_, i) => ph.t0S + i / ph.rateHz);
  try {
    return bleachRatio(tS, ph.data[channel.name]!).ratio.map((r) => (r - 1) * 100);
  } catch (e) {
    unavailable.push({ part: 'cross-correlation', code: errorCode(e, 'E_BLOOD_VOLUME_FAILED'), reason: `the ${channel.name} blood-volume trace could not be detrended: ${errorText(e)}` });
    return null;
  }
}

function sleepPart(input: AnalysisInput, options: AnalyzeOptions, microArousalMaxS: number, unavailable: Unavailable[]): RecordingAnalysis['sleep'] {
  if (options.hypnogramCsv !== undefined) {
    // a bad file is the caller's error: it throws (SleepError E_HYPNOGRAM_FORMAT naming the line)
    const h = parseHypnogramCsv(options.hypnogramCsv, options.epochS !== undefined ? { epochS: options.epochS } : {});
    return {
      source: 'imported', epochS: h.epochS, startS: h.startS, states: h.states,
      confidence: new Float64Array(h.states.length).fill(Number.NaN),
      microArousals: microArousalsOf(h.states, h.epochS, h.startS, microArousalMaxS),
      features: null,
    };
  }
  if (!input.sleep) {
    const why = input.missing.find((m) => /EEG|EMG/.test(m)) ?? 'no EEG/EMG aux channels: no sleep scoring, no micro-arousals';
    unavailable.push({ part: 'sleep', code: 'E_NO_EEG_EMG', reason: `${why} (import a hypnogram with --hypnogram to analyse NREM without them)` });
    return null;
  }
  try {
    const { envelopeWindowS: _w, envelopeStepS: _s, ...scoring } = options.sleep ?? {};
    // a gap (stall, overrun, reconnect) must not cost the whole scoring: its epochs take the nearest state at confidence 0
    const s = scoreSleepFeatures(input.sleep, { missingEpochs: 'nearest', ...scoring, epochS: input.sleep.epochS });
    return { source: 'scored', epochS: s.epochS, startS: s.startS, states: s.states, confidence: s.confidence, microArousals: s.microArousals, features: s.features };
  } catch (e) {
    unavailable.push({ part: 'sleep', code: errorCode(e, 'E_SCORING_FAILED'), reason: `sleep scoring failed: ${errorText(e)}` });
    return null;
  }
}

/** Micro-arousals of an epoch hypnogram: wake runs of at most maxS between NREM epochs. */
export function microArousalsOf(states: readonly SleepState[], epochS: number, startS: number, maxS: number): MicroArousal[] {
  const out: MicroArousal[] = [];
  let i = 0;
  while (i < states.length) {
    if (states[i] !== 'wake') { i++; continue; }
    let j = i;
    while (j < states.length && states[j] === 'wake') j++;
    const durationS = (j - i) * epochS;
    if (i > 0 && j < states.length && states[i - 1] === 'nrem' && states[j] === 'nrem' && durationS <= maxS) {
      out.push({ startS: startS + i * epochS, endS: startS + j * epochS, durationS, emgRatio: Number.NaN });
    }
    i = j;
  }
  return out;
}
