// Corrected dF/F for every sensor channel of a recording: one replay pass
// (host/record/replay.ts) collects the demodulated channels into whole arrays,
// then correctSignal runs per sensor channel. Whole-array: memory is
// 8 bytes × channels kept × samples (100 Hz, 6 channels: ~17 MB per hour), so
// `maxSamples` (default 12 h at 100 Hz) refuses longer recordings rather than
// exhausting memory; streaming is a later step.

import type { SignalBlock, SignalChannel } from '../pipeline/demodulate.ts';
import { signalTimeS } from '../pipeline/time.ts';
import { type ReplayOptions, replayRecording } from '../record/replay.ts';
import { absorptionAt, type AbsorptionTable, type AutofluorescenceOffsets, type CorrectionMethod, type CorrectionResult, correctSignal } from './correct.ts';
import { type SpectralAbsorptionOptions, spectralAbsorptionTable } from './absorption.ts';
import { AnalysisError } from './errors.ts';
import { finiteMedian } from './stats.ts';
import { BLOOD_VOLUME_BAND_NM, CONTROL_BAND_NM, inBand as inWavelengthBand, SENSOR_BAND_NM } from '../pipeline/wavelength-roles.ts';

/** The wavelength bands that identify each role by default (shared with the exports). */
export { BLOOD_VOLUME_BAND_NM, CONTROL_BAND_NM, SENSOR_BAND_NM } from '../pipeline/wavelength-roles.ts';
/** Default limit of the whole-array analysis: 12 h at 100 Hz per channel. */
export const DEFAULT_MAX_SAMPLES = 12 * 3600 * 100;

export interface RecordingCorrectionOptions {
  /** see CorrectionOptions.method; default 'haemodynamic' when a blood-volume channel and an absorption table exist (the spectral default needs a control on every sensor), else 'isosbestic' */
  method?: CorrectionMethod;
  /**
   * 'haemodynamic': blood absorption per wavelength, used at each channel's LED wavelength.
   * Omitted: the relative table from haemoglobin spectra (absorption.ts, `spectral`) when every
   * sensor has a control to fit its scale from; 'fit': coefficients fitted by regression over the
   * recording or `calibrationWindowS` (biased where the sensor co-varies with blood volume; README.md).
   */
  absorption?: AbsorptionTable | 'fit';
  /** emission peaks and saturation behind the default spectral table */
  spectral?: SpectralAbsorptionOptions;
  /**
   * treat `absorption` as relative and fit its scale from the control (CorrectionOptions.fitScale);
   * default true when the sensor has a control channel (spectra give ratios; the scale per unit
   * ΔV/V depends on the tissue path), false otherwise
   */
  fitAbsorptionScale?: boolean;
  /** relative dye fluorescence change per unit ΔV/V, default 1 */
  dyeGain?: number;
  /**
   * Patch-cord/fiber autofluorescence by channel name, in the channels' units (demodulated codes):
   * subtracted before correcting (CorrectionOptions.autofluorescence). Measure it with
   * measureAutofluorescence on a short recording at the same LED currents with the fiber capped.
   * Channels not named: 0.
   */
  autofluorescence?: Readonly<Record<string, number>>;
  /** fit coefficients only over [startS, endS) of session time */
  calibrationWindowS?: readonly [number, number];
  /** channel names, overriding the choice by wavelength band */
  sensors?: readonly string[];
  control?: string;
  bloodVolume?: string;
  maxSamples?: number;
  /** passed to replayRecording (e.g. demodulation overrides, cutoffS) */
  replay?: Pick<ReplayOptions, 'demod' | 'cutoffS'>;
}

export interface ChannelCorrection extends CorrectionResult {
  sensor: string;
  control: string | null;
  bloodVolume: string | null;
}

export interface RecordingCorrection {
  rateHz: number;
  /** session time (s) of sample 0 after subtracting the sensor channels' group delay */
  t0S: number;
  samples: number;
  /** raw demodulated values of the channels used, by name (ADC-code units) */
  channels: Record<string, Float64Array>;
  corrected: ChannelCorrection[];
  /** the absorption table used by the haemodynamic correction, and where it came from; null otherwise */
  absorption: { table: AbsorptionTable; source: 'given' | 'haemoglobin spectra' } | null;
}

const inBand = (c: SignalChannel, band: readonly [number, number]): boolean => inWavelengthBand(c.wavelengthNm, band);

function autofluorescenceOf(af: Readonly<Record<string, number>>, sensor: SignalChannel, control: SignalChannel | null, bv: SignalChannel | null): AutofluorescenceOffsets {
  const out: AutofluorescenceOffsets = {};
  if (af[sensor.name] !== undefined) out.sensor = af[sensor.name]!;
  if (control && af[control.name] !== undefined) out.control = af[control.name]!;
  if (bv && af[bv.name] !== undefined) out.bloodVolume = af[bv.name]!;
  return out;
}

/** A recording's demodulated channels as whole arrays (NaN where missing), by name. */
export interface RecordingChannels {
  path: string;
  rateHz: number;
  samples: number;
  channels: readonly SignalChannel[];
  data: Record<string, Float64Array>;
}

/** Replays `path` once and collects every demodulated photometry channel into whole arrays. */
export async function readRecordingChannels(
  path: string,
  options: Pick<RecordingCorrectionOptions, 'maxSamples' | 'replay'> = {},
): Promise<RecordingChannels> {
  const maxSamples = options.maxSamples ?? DEFAULT_MAX_SAMPLES;
  let channels: readonly SignalChannel[] = [];
  let rateHz = 0;
  const blocks: SignalBlock[] = [];
  let length = 0;
  await replayRecording(path, [{
    begin: (ctx) => {
      channels = ctx.signalChannels;
      rateHz = ctx.signalRateHz;
    },
    signals: (b) => {
      if (b.stream !== 'signals') return;
      length = Math.max(length, b.firstIndex + b.count);
      if (length > maxSamples) {
        throw new AnalysisError('E_ANALYSIS_TOO_LONG', `the recording has more than ${maxSamples} samples per channel; raise maxSamples if memory allows (8 bytes per sample per channel) or analyse a part with replay.cutoffS`);
      }
      blocks.push(b);
    },
  }], { ...(options.replay ?? {}) });
  if (channels.length === 0 || length === 0) {
    throw new AnalysisError('E_ANALYSIS_NO_CHANNEL', `${path} has no demodulated photometry channels; record with at least one LED configured`);
  }
  const data: Record<string, Float64Array> = {};
  channels.forEach((c, k) => {
    const a = new Float64Array(length).fill(Number.NaN);
    for (const b of blocks) a.set(b.values[k]!.subarray(0, b.count), b.firstIndex);
    data[c.name] = a;
  });
  blocks.length = 0;
  return { path, rateHz, samples: length, channels, data };
}

/**
 * The autofluorescence of each channel of a capped-fiber recording (LEDs on at the currents of the
 * recordings it will correct, fiber capped or not yet connected to the animal): the median of each
 * channel over the recording after `skipS` seconds (the demodulator's settling), by channel name, in
 * demodulated codes. The patch cord bleaches too: measure right before the session.
 */
export function measureAutofluorescence(rec: RecordingChannels, skipS = 1): Record<string, number> {
  const from = Math.min(Math.max(0, Math.round(skipS * rec.rateHz)), rec.samples - 1);
  const out: Record<string, number> = {};
  for (const c of rec.channels) {
    const m = finiteMedian(rec.data[c.name]!.subarray(from));
    if (!Number.isFinite(m)) throw new AnalysisError('E_ANALYSIS_BAD_INPUT', `${rec.path}: channel ${c.name} has no finite samples after ${skipS} s; record the capped fiber for longer`);
    out[c.name] = Math.max(0, m);
  }
  return out;
}

/** Replays `path` and corrects each sensor channel. Throws AnalysisError when a needed channel is missing. */
export async function correctRecording(path: string, options: RecordingCorrectionOptions = {}): Promise<RecordingCorrection> {
  return correctChannels(await readRecordingChannels(path, options), options);
}

/** Corrects each sensor channel of channels read by readRecordingChannels. */
export function correctChannels(rec: RecordingChannels, options: RecordingCorrectionOptions = {}): RecordingCorrection {
  const { path, rateHz, channels, data } = rec;
  const length = rec.samples;
  const byName = (name: string): SignalChannel => {
    const c = channels.find((x) => x.name === name);
    if (!c) throw new AnalysisError('E_ANALYSIS_NO_CHANNEL', `no channel "${name}" in ${path}; it has ${channels.map((x) => x.name).join(', ')}`);
    return c;
  };
  let sensors = options.sensors ? options.sensors.map(byName) : channels.filter((c) => inBand(c, SENSOR_BAND_NM));
  if (sensors.length === 0) {
    throw new AnalysisError('E_ANALYSIS_NO_CHANNEL', `no sensor channel (LED ${SENSOR_BAND_NM[0]}–${SENSOR_BAND_NM[1]} nm) in ${path}; name one with options.sensors`);
  }
  // blood volume: the brightest channel in the band (the red detector sees the dye)
  let bvChannel: SignalChannel | null = options.bloodVolume ? byName(options.bloodVolume) : null;
  if (!bvChannel) {
    let best = Number.NEGATIVE_INFINITY;
    for (const c of channels.filter((x) => inBand(x, BLOOD_VOLUME_BAND_NM))) {
      const m = finiteMedian(data[c.name]!);
      if (m > best) { best = m; bvChannel = c; }
    }
  }
  if (!options.sensors && bvChannel) {
    // the sensor's light on the red (blood-volume) detector is not the sensor: drop it when another detector has one
    const elsewhere = sensors.filter((c) => c.inputId !== bvChannel.inputId);
    if (elsewhere.length > 0) sensors = elsewhere;
  }
  const controlOf = (s: SignalChannel): SignalChannel | null =>
    options.control ? byName(options.control) : channels.find((c) => c.inputId === s.inputId && inBand(c, CONTROL_BAND_NM)) ?? null;
  // the spectra give relative coefficients: a default table needs a control on every sensor to fit the scale
  let absorption: RecordingCorrection['absorption'] = null;
  if (Array.isArray(options.absorption)) absorption = { table: options.absorption as AbsorptionTable, source: 'given' };
  else if (options.absorption === undefined && bvChannel && sensors.every((s) => controlOf(s) !== null)) {
    const used = [bvChannel, ...sensors, ...sensors.map((s) => controlOf(s)!)];
    absorption = { table: spectralAbsorptionTable(used.map((c) => c.wavelengthNm!), options.spectral), source: 'haemoglobin spectra' };
  }
  const method = options.method ?? (bvChannel && absorption ? 'haemodynamic' : 'isosbestic');
  if (method !== 'haemodynamic') absorption = null;
  if (method === 'haemodynamic' && !bvChannel) {
    throw new AnalysisError('E_ANALYSIS_NO_CHANNEL', `no blood-volume channel (LED ${BLOOD_VOLUME_BAND_NM[0]}–${BLOOD_VOLUME_BAND_NM[1]} nm) in ${path}: no haemodynamic correction; use method 'isosbestic'`);
  }
  if (method === 'haemodynamic' && !absorption && options.absorption !== 'fit') {
    // the spectral table is relative: without a control its scale cannot be fitted, and a regression fit is biased (README)
    throw new AnalysisError('E_ANALYSIS_NO_CHANNEL', `no isosbestic control (LED ${CONTROL_BAND_NM[0]}–${CONTROL_BAND_NM[1]} nm) on the sensor's detector in ${path} to fit the scale of the spectral absorption table; give absolute coefficients (absorption table with fitAbsorptionScale false), or absorption 'fit' with a calibrationWindowS where the sensor is flat`);
  }
  const delayS = sensors[0]!.groupDelayS;
  const tS = Float64Array.from({ length }, (_, i) => signalTimeS(i, rateHz, sensors[0]!, {}));
  let mask: Uint8Array | undefined;
  if (options.calibrationWindowS) {
    const [a, b] = options.calibrationWindowS;
    mask = Uint8Array.from(tS, (t) => (t >= a && t < b ? 1 : 0));
  }
  const used: Record<string, Float64Array> = {};
  const corrected: ChannelCorrection[] = [];
  for (const s of sensors) {
    const control = controlOf(s);
    if (method === 'isosbestic' && !control) {
      throw new AnalysisError('E_ANALYSIS_NO_CHANNEL', `no isosbestic control (LED ${CONTROL_BAND_NM[0]}–${CONTROL_BAND_NM[1]} nm) on the detector of ${s.name}; use method 'none' or name one with options.control`);
    }
    const bv = method === 'haemodynamic' ? bvChannel : null;
    used[s.name] = data[s.name]!;
    if (control) used[control.name] = data[control.name]!;
    if (bv) used[bv.name] = data[bv.name]!;
    const table = absorption?.table;
    const coefficients = table && bv
      ? {
          sensor: absorptionAt(table, s.wavelengthNm!),
          control: control ? absorptionAt(table, control.wavelengthNm!) : 0,
          bloodVolume: absorptionAt(table, bv.wavelengthNm!),
          dyeGain: options.dyeGain ?? 1,
        }
      : 'fit' as const;
    const r = correctSignal(
      {
        tS,
        sensor: data[s.name]!,
        ...(method !== 'none' && control ? { control: data[control.name]! } : {}),
        ...(bv ? { bloodVolume: data[bv.name]! } : {}),
      },
      {
        method, coefficients, fitScale: coefficients !== 'fit' && (absorption?.source === 'haemoglobin spectra' || (options.fitAbsorptionScale ?? control !== null)), ...(mask ? { calibrationMask: mask } : {}),
        ...(options.autofluorescence ? { autofluorescence: autofluorescenceOf(options.autofluorescence, s, method !== 'none' ? control : null, bv) } : {}),
      },
    );
    corrected.push({ ...r, sensor: s.name, control: method !== 'none' && control ? control.name : null, bloodVolume: bv ? bv.name : null });
  }
  return { rateHz, t0S: -delayS, samples: length, channels: used, corrected, absorption };
}
