// AnalysisInputReducer: a recording's demodulated blocks, reduced while they stream to what the
// analysis needs (contract: input.ts) — photometry at the analysis rate, one sleep feature row
// per epoch, the EMG envelope and a band-power series (the reductions: input-stream.ts). The same
// blocks give the same input, whether a replay of the raw log or a live acquisition feeds them.
import type { SignalBlock, SignalChannel } from '../pipeline/demodulate.ts';
import { signalTimeS } from '../pipeline/time.ts';
import { BLOOD_VOLUME_BAND_NM, CONTROL_BAND_NM, inBand, SENSOR_BAND_NM } from '../pipeline/wavelength-roles.ts';
import type { ReplayContext } from '../record/replay.ts';
import { AnalysisError } from './errors.ts';
import type { AnalysisInput, AnalysisInputOptions, PhotometryInput, SleepFeatureInput } from './input.ts';
import { AuxVolts, BlockMeans, SleepFeatureStream } from './input-stream.ts';

/** Defaults of AnalysisInputOptions (the envelope's are scoreSleep's; the Welch segment is epochFeatures'). */
export const ANALYSIS_INPUT_DEFAULTS = {
  analysisRateHz: 10,
  epochS: 4,
  bandPowerStepS: 1,
  envelopeWindowS: 0.5,
  envelopeStepS: 0.1,
  welchSegmentS: 2,
} as const;

/** Slowest aux rate that carries the β band (15–30 Hz): scoreSleep's limit. */
const MIN_AUX_RATE_HZ = 64;

function badOption(what: string, value: number, want: string): never {
  throw new AnalysisError('E_ANALYSIS_BAD_INPUT', `${what} is ${value}; it must be ${want}`);
}

const bandText = (band: readonly [number, number]): string => `LED ${band[0]}–${band[1]} nm`;

/** What the photometry channels lack, in words. */
function photometryMissing(channels: readonly SignalChannel[]): string[] {
  const missing: string[] = [];
  if (channels.every((c) => c.wavelengthNm === undefined)) {
    return ['no LED wavelength on the channels (continuous mode: one signal per detector): channel roles unknown, so no automatic correction; name the sensor, control and blood-volume channels'];
  }
  const sensors = channels.filter((c) => inBand(c.wavelengthNm, SENSOR_BAND_NM));
  if (sensors.length === 0) {
    missing.push(`no sensor channel (${bandText(SENSOR_BAND_NM)}): no corrected ΔF/F, no NE oscillation analysis (name a channel as the sensor to analyse another wavelength)`);
  } else if (!sensors.some((s) => channels.some((c) => c.inputId === s.inputId && inBand(c.wavelengthNm, CONTROL_BAND_NM)))) {
    missing.push(`no isosbestic control (${bandText(CONTROL_BAND_NM)}) on the sensor's detector: no isosbestic correction, and motion is not removed`);
  }
  if (!channels.some((c) => inBand(c.wavelengthNm, BLOOD_VOLUME_BAND_NM))) {
    missing.push(`no blood-volume channel (${bandText(BLOOD_VOLUME_BAND_NM)}): no haemodynamic correction, no NE–blood-volume cross-correlation`);
  }
  return missing;
}

/** AnalysisInputOptions with every default filled in (what an analysis input was computed with). */
export interface AnalysisInputSettings {
  analysisRateHz: number;
  epochS: number;
  bandPowerStepS: number;
  envelopeWindowS: number;
  envelopeStepS: number;
  welchSegmentS: number;
  /** aux channel names asked for (null: "EEG"/"EMG" when present) */
  eeg: string | null;
  emg: string | null;
}

/** `options` with defaults, validated (AnalysisError E_ANALYSIS_BAD_INPUT for a bad one). */
export function analysisInputSettings(options: AnalysisInputOptions = {}): AnalysisInputSettings {
  const d = ANALYSIS_INPUT_DEFAULTS;
  const s: AnalysisInputSettings = {
    analysisRateHz: options.analysisRateHz ?? d.analysisRateHz,
    epochS: options.epochS ?? d.epochS,
    bandPowerStepS: options.bandPowerStepS ?? d.bandPowerStepS,
    envelopeWindowS: options.envelopeWindowS ?? d.envelopeWindowS,
    envelopeStepS: options.envelopeStepS ?? d.envelopeStepS,
    welchSegmentS: d.welchSegmentS,
    eeg: options.eeg ?? null,
    emg: options.emg ?? null,
  };
  if (!(s.analysisRateHz > 0)) badOption('analysisRateHz', s.analysisRateHz, 'positive');
  if (!(s.epochS >= s.welchSegmentS)) badOption('epochS', s.epochS, `at least the ${s.welchSegmentS} s Welch segment`);
  if (!(s.bandPowerStepS > 0)) badOption('bandPowerStepS', s.bandPowerStepS, 'positive');
  if (!(s.envelopeStepS > 0 && s.envelopeWindowS >= s.envelopeStepS && s.envelopeStepS <= s.epochS)) {
    badOption('envelopeStepS', s.envelopeStepS, `positive, at most envelopeWindowS (${s.envelopeWindowS} s) and epochS`);
  }
  return s;
}

/** The demodulated streams of a recording, as the reducer needs them (a ReplayContext has them). */
export interface AnalysisStreams {
  signalChannels: readonly SignalChannel[];
  signalRateHz: number;
  auxChannels: readonly SignalChannel[];
  auxOutputRateHz: number;
  /** LEDs configured */
  ledCount: number;
}

export function analysisStreamsOf(ctx: ReplayContext): AnalysisStreams {
  return {
    signalChannels: ctx.signalChannels, signalRateHz: ctx.signalRateHz, auxChannels: ctx.auxChannels,
    auxOutputRateHz: ctx.auxOutputRateHz, ledCount: (ctx.config.leds ?? []).length,
  };
}

/**
 * Reduces a recording's demodulated blocks (begin, then signals in order, then finish) to the
 * analysis input. The same blocks give the same input, whether they come from a replay or live
 * from an acquisition. `path` names the recording in messages and in the result.
 */
export class AnalysisInputReducer {
  readonly settings: AnalysisInputSettings;
  private photometry: BlockMeans | undefined;
  private signalChannels: readonly SignalChannel[] = [];
  private signalRateHz = 0;
  private auxRateHz = 0;
  private eegName: string | undefined;
  private features: SleepFeatureStream | undefined;
  private aux: AuxVolts | undefined;
  private readonly missing: string[] = [];

  constructor(readonly path: string, options: AnalysisInputOptions = {}) {
    this.settings = analysisInputSettings(options);
  }

  /** Throws AnalysisError E_ANALYSIS_NO_CHANNEL (no photometry; a named aux channel absent) or E_ANALYSIS_BAD_INPUT. */
  begin(streams: AnalysisStreams): void {
    const { path, settings: s, missing } = this;
    this.signalChannels = streams.signalChannels;
    this.signalRateHz = streams.signalRateHz;
    const auxChannels = streams.auxChannels;
    this.auxRateHz = streams.auxOutputRateHz;
    if (this.signalChannels.length === 0 || streams.ledCount === 0) {
      throw new AnalysisError('E_ANALYSIS_NO_CHANNEL', `${path} has no photometry channel (no LED was configured, so no detector channel measures fluorescence): nothing to analyse; record with at least one LED and one detector`);
    }
    const factor = this.signalRateHz / s.analysisRateHz;
    if (!(factor >= 1 && Math.abs(factor - Math.round(factor)) < 1e-9)) {
      badOption('analysisRateHz', s.analysisRateHz, `a divisor of the recording's signal rate ${this.signalRateHz} Hz (e.g. 10 Hz of 100 Hz)`);
    }
    this.photometry = new BlockMeans(this.signalChannels, Math.round(factor));
    missing.push(...photometryMissing(this.signalChannels));

    const names = auxChannels.map((c) => c.name);
    const pick = (given: string | null, fallback: string): string | undefined => {
      if (given !== null && !names.includes(given)) {
        throw new AnalysisError('E_ANALYSIS_NO_CHANNEL', `${path} has no aux channel "${given}" (it has ${names.length ? names.join(', ') : 'none'}); name one of those or leave the option out`);
      }
      return given ?? (names.includes(fallback) ? fallback : undefined);
    };
    const eegName = pick(s.eeg, 'EEG');
    const emgName = pick(s.emg, 'EMG');
    this.eegName = eegName;
    if (!eegName || !emgName) {
      const lacking = !eegName && !emgName ? 'no EEG/EMG aux channels' : !eegName ? 'no EEG aux channel' : 'no EMG aux channel';
      missing.push(`${lacking} (aux: ${names.length ? names.join(', ') : 'none'}): no sleep scoring, no micro-arousals, no NREM bouts for the NE oscillation analysis, no EEG band power`);
      return;
    }
    if (!(this.auxRateHz >= MIN_AUX_RATE_HZ) || !(Math.round(s.epochS * this.auxRateHz) >= 64)) {
      missing.push(`EEG/EMG sampled at ${this.auxRateHz} Hz (below ${MIN_AUX_RATE_HZ} Hz the β band 15–30 Hz is lost): no sleep scoring, no micro-arousals, no EEG band power`);
      return;
    }
    for (const c of auxChannels.filter((x) => x.name === eegName || x.name === emgName)) {
      if (c.voltsAt === 'adc-input') missing.push(`${c.name} scale known only at the ADC input (the device did not report its amplifier gain): EEG/EMG powers are in volts at the ADC input, not at the electrode`);
    }
    const stream = new SleepFeatureStream({
      rateHz: this.auxRateHz, epochS: s.epochS, welchSegmentS: s.welchSegmentS,
      envelopeWindowS: s.envelopeWindowS, envelopeStepS: s.envelopeStepS, bandPowerStepS: s.bandPowerStepS,
    });
    this.features = stream;
    this.aux = new AuxVolts([eegName, emgName], (v, n) => stream.add(v[0]!, v[1]!, n));
  }

  signals(b: SignalBlock): void {
    if (b.stream === 'signals') this.photometry?.add(b);
    else this.aux?.add(b);
  }

  /** The analysis input of everything seen. Throws E_ANALYSIS_NO_CHANNEL when no acquisition began. */
  finish(): AnalysisInput {
    const { photometry, signalChannels, signalRateHz, features, aux, missing } = this;
    if (!photometry) {
      throw new AnalysisError('E_ANALYSIS_NO_CHANNEL', `${this.path} holds no acquisition to analyse; record one first`);
    }
    const { samples, data } = photometry.finish();
    const factor = photometry.factor;
    const timeChannel = signalChannels.find((c) => inBand(c.wavelengthNm, SENSOR_BAND_NM)) ?? signalChannels[0]!;
    const photometryInput: PhotometryInput = {
      rateHz: signalRateHz / factor,
      t0S: signalTimeS((factor - 1) / 2, signalRateHz, timeChannel, {}),
      samples,
      channels: signalChannels,
      data,
    };
    let sleep: SleepFeatureInput | null = null;
    let auxEndS = 0;
    if (features && aux) {
      if (aux.first < 0) {
        missing.push('the EEG/EMG aux channels are configured but carry no samples: no sleep scoring, no micro-arousals, no EEG band power');
      } else {
        const eegChannel = aux.channels.find((c) => c.name === this.eegName)!;
        const startS = signalTimeS(aux.first, this.auxRateHz, eegChannel, {});
        sleep = { epochS: this.settings.epochS, ...features.finish(startS) };
        auxEndS = aux.next / this.auxRateHz;
      }
    }
    return {
      path: this.path,
      source: 'raw log',
      durationS: Math.max(photometry.end / signalRateHz, auxEndS),
      photometry: photometryInput,
      sleep,
      missing: [...missing],
    };
  }
}
