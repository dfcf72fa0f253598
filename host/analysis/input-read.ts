// The streaming reader behind `fiberrig analyze` (contract: input.ts): one replayRecording pass,
// reduced while it streams. Memory holds the outputs (photometry at the analysis rate, one
// feature row per epoch, the envelope and the band-power series) and a few seconds of aux
// history; nothing grows with the recording's raw length. See README.md, "Streaming reader".
import type { SignalBlock, SignalChannel } from '../pipeline/demodulate.ts';
import { signalTimeS } from '../pipeline/time.ts';
import { BLOOD_VOLUME_BAND_NM, CONTROL_BAND_NM, inBand, SENSOR_BAND_NM } from '../pipeline/wavelength-roles.ts';
import { type ReplayOptions, type ReplaySink, replayRecording } from '../record/replay.ts';
import { AnalysisError } from './errors.ts';
import type { AnalysisInput, AnalysisInputOptions, PhotometryInput, SleepFeatureInput } from './input.ts';
import { EEG_BANDS_HZ, envelopeCentre, envelopeHalfWindow, epochFeatureRow, type EpochFeatures, rmsAboutMean } from './sleep/score.ts';
import { Welch } from './sleep/spectrum.ts';

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

/** A Float64Array that grows by doubling; unwritten entries are NaN. */
class GrowingArray {
  private data = new Float64Array(1024).fill(Number.NaN);
  length = 0;

  set(index: number, value: number): void {
    if (index >= this.data.length) {
      let cap = this.data.length;
      while (cap <= index) cap *= 2;
      const next = new Float64Array(cap).fill(Number.NaN);
      next.set(this.data);
      this.data = next;
    }
    this.data[index] = value;
    if (index >= this.length) this.length = index + 1;
  }

  push(value: number): void {
    this.set(this.length, value);
  }

  /** A copy of the first `length` entries (default: all written). */
  take(length = this.length): Float64Array {
    const out = new Float64Array(length).fill(Number.NaN);
    out.set(this.data.subarray(0, Math.min(length, this.data.length)));
    return out;
  }
}

/**
 * Photometry block means: output k is the mean of the finite samples of signal indices
 * [k·factor, (k+1)·factor); NaN when the block has none (a gap, settling filters, dark LEDs).
 */
class BlockMeans {
  private readonly sums: Float64Array;
  private readonly counts: Float64Array;
  private readonly outputs: GrowingArray[];
  private block = -1;
  /** signal index after the last sample seen */
  end = 0;

  constructor(readonly channels: readonly SignalChannel[], readonly factor: number) {
    this.sums = new Float64Array(channels.length);
    this.counts = new Float64Array(channels.length);
    this.outputs = channels.map(() => new GrowingArray());
  }

  add(b: SignalBlock): void {
    const { factor, sums, counts } = this;
    const nc = this.channels.length;
    let i = b.firstIndex;
    let j = 0;
    while (j < b.count) {
      const k = Math.floor(i / factor);
      if (k !== this.block) {
        this.flush();
        this.block = k;
      }
      // the samples of this block within b
      const stop = Math.min(b.count, j + (k + 1) * factor - i);
      for (let c = 0; c < nc; c++) {
        const v = b.values[c]!;
        let s = 0;
        let n = 0;
        for (let q = j; q < stop; q++) {
          const x = v[q]!;
          if (Number.isFinite(x)) { s += x; n++; }
        }
        sums[c]! += s;
        counts[c]! += n;
      }
      i += stop - j;
      j = stop;
    }
    this.end = Math.max(this.end, b.firstIndex + b.count);
  }

  private flush(): void {
    if (this.block < 0) return;
    for (let c = 0; c < this.channels.length; c++) {
      if (this.counts[c]! > 0) this.outputs[c]!.set(this.block, this.sums[c]! / this.counts[c]!);
      this.sums[c] = 0;
      this.counts[c] = 0;
    }
  }

  finish(): { samples: number; data: Record<string, Float64Array> } {
    this.flush();
    this.block = -1;
    const samples = Math.ceil(this.end / this.factor);
    const data: Record<string, Float64Array> = {};
    this.channels.forEach((c, k) => { data[c.name] = this.outputs[k]!.take(samples); });
    return { samples, data };
  }
}

/**
 * The aux stream as contiguous electrode volts from its first sample: each channel's codes times
 * its `voltsPerCode`, a jump in the session index (a gap) filled with NaN, an overlap dropped.
 * Calls `onSamples` with one array per selected channel.
 */
class AuxVolts {
  first = -1;
  next = -1;
  channels: readonly SignalChannel[] = [];
  private readonly scratch: Float64Array[];

  constructor(private readonly names: readonly string[], private readonly onSamples: (volts: readonly Float64Array[], count: number) => void) {
    this.scratch = names.map(() => new Float64Array(4096));
  }

  add(b: SignalBlock): void {
    if (this.first < 0) {
      this.first = b.firstIndex;
      this.next = b.firstIndex;
      this.channels = b.channels;
    }
    const index = this.names.map((name) => b.channels.findIndex((c) => c.name === name));
    if (index.some((k) => k < 0)) return;
    for (let gap = b.firstIndex - this.next; gap > 0;) {
      const n = Math.min(gap, this.scratch[0]?.length ?? gap);
      for (const s of this.scratch) s.fill(Number.NaN, 0, n);
      this.emit(n);
      gap -= n;
    }
    let j = Math.max(0, this.next - b.firstIndex);
    while (j < b.count) {
      const n = Math.min(b.count - j, this.scratch[0]?.length ?? b.count - j);
      index.forEach((k, s) => {
        const scale = b.channels[k]!.voltsPerCode;
        const v = b.values[k]!;
        const out = this.scratch[s]!;
        for (let q = 0; q < n; q++) out[q] = v[j + q]! * scale;
      });
      this.emit(n);
      j += n;
    }
  }

  private emit(n: number): void {
    this.onSamples(this.scratch.map((s) => s.subarray(0, n)), n);
    this.next += n;
  }
}

/** Recent samples of one signal by absolute index: appended at the end, dropped from the front. */
class History {
  private data = new Float64Array(1 << 16);
  /** absolute index of data[0] */
  start = 0;
  length = 0;

  get end(): number { return this.start + this.length; }

  append(x: Float64Array): void {
    if (this.length + x.length > this.data.length) {
      const next = new Float64Array(Math.max(this.data.length * 2, this.length + x.length));
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    this.data.set(x, this.length);
    this.length += x.length;
  }

  /** Forget samples before absolute index `from`. */
  dropBefore(from: number): void {
    const n = Math.min(this.length, from - this.start);
    if (n <= 0) return;
    // move only once a quarter of the buffer is dead, so the copy is amortised
    if (n < this.data.length / 4 && n < this.length) return;
    this.data.copyWithin(0, n, this.length);
    this.start += n;
    this.length -= n;
  }

  /** The buffer and the offset of absolute index `abs` in it. */
  view(abs: number): { data: Float64Array; offset: number } {
    return { data: this.data, offset: abs - this.start };
  }
}

interface FeatureSettings {
  rateHz: number;
  epochS: number;
  welchSegmentS: number;
  envelopeWindowS: number;
  envelopeStepS: number;
  bandPowerStepS: number;
}

/**
 * Sleep features computed while the aux stream passes: per epoch the band powers and EMG RMS of
 * epochFeatures (the same arithmetic on the same samples), the EMG envelope of emgEnvelope, and a
 * band-power series (one Welch segment per value). Sample 0 is the first aux sample.
 */
export class SleepFeatureStream {
  private readonly epochN: number;
  private readonly eegEpoch: Float64Array;
  private readonly emgEpoch: Float64Array;
  private epochFill = 0;
  private readonly welch: Welch;
  private readonly row: EpochFeatures = { deltaV2: new Float64Array(1), thetaV2: new Float64Array(1), sigmaV2: new Float64Array(1), betaV2: new Float64Array(1), emgRmsV: new Float64Array(1) };
  private readonly epochs = { delta: new GrowingArray(), theta: new GrowingArray(), sigma: new GrowingArray(), beta: new GrowingArray(), emg: new GrowingArray() };
  // envelope
  private readonly half: number;
  private readonly envStepN: number;
  private readonly envStepS: number;
  private envNext = 0;
  private readonly envelope = new GrowingArray();
  private readonly emgHistory = new History();
  // band-power series
  private readonly segmentN: number;
  private readonly bandHopN: number;
  private bandNext = 0;
  private readonly bandWelch: Welch;
  private readonly eegHistory = new History();
  private readonly band = { delta: new GrowingArray(), theta: new GrowingArray(), sigma: new GrowingArray(), beta: new GrowingArray() };
  /** samples seen */
  n = 0;

  constructor(readonly settings: FeatureSettings) {
    const { rateHz } = settings;
    this.epochN = Math.round(settings.epochS * rateHz);
    this.eegEpoch = new Float64Array(this.epochN);
    this.emgEpoch = new Float64Array(this.epochN);
    this.segmentN = Math.round(settings.welchSegmentS * rateHz);
    this.welch = new Welch(rateHz, this.segmentN);
    this.bandWelch = new Welch(rateHz, this.segmentN);
    this.half = envelopeHalfWindow(settings.envelopeWindowS, rateHz);
    this.envStepS = settings.envelopeStepS;
    this.envStepN = settings.envelopeStepS * rateHz;
    this.bandHopN = Math.max(1, Math.round(settings.bandPowerStepS * rateHz));
  }

  /** Appends `count` samples of EEG and EMG (volts, NaN where missing). */
  add(eegV: Float64Array, emgV: Float64Array, count: number): void {
    // per-epoch features
    for (let j = 0; j < count;) {
      const n = Math.min(count - j, this.epochN - this.epochFill);
      this.eegEpoch.set(eegV.subarray(j, j + n), this.epochFill);
      this.emgEpoch.set(emgV.subarray(j, j + n), this.epochFill);
      this.epochFill += n;
      j += n;
      if (this.epochFill === this.epochN) {
        this.closeEpoch();
        this.epochFill = 0;
      }
    }
    this.emgHistory.append(emgV.subarray(0, count));
    this.eegHistory.append(eegV.subarray(0, count));
    this.n += count;
    this.envelopeUpTo(this.n, false);
    this.bandsUpTo(this.n);
  }

  private closeEpoch(): void {
    const e = this.epochs;
    const row = this.row;
    epochFeatureRow(this.welch, this.eegEpoch, this.emgEpoch, 0, this.epochN, row, 0);
    e.delta.push(row.deltaV2[0]!);
    e.theta.push(row.thetaV2[0]!);
    e.sigma.push(row.sigmaV2[0]!);
    e.beta.push(row.betaV2[0]!);
    e.emg.push(row.emgRmsV[0]!);
  }

  /** Envelope values whose window ends at or before `n` (all remaining ones when `final`, cut at n). */
  private envelopeUpTo(n: number, final: boolean): void {
    const count = final ? Math.floor(n / this.envStepN) + 1 : Number.POSITIVE_INFINITY;
    for (; this.envNext < count; this.envNext++) {
      const c = envelopeCentre(this.envNext, this.envStepS, this.settings.rateHz);
      if (!final && c + this.half > n) break;
      const a = Math.max(0, c - this.half);
      const b = Math.min(n, c + this.half);
      const { data, offset } = this.emgHistory.view(a);
      this.envelope.set(this.envNext, b > a ? rmsAboutMean(data, offset, offset + b - a) : 0);
    }
    this.emgHistory.dropBefore(envelopeCentre(this.envNext, this.envStepS, this.settings.rateHz) - this.half);
  }

  private bandsUpTo(n: number): void {
    const m = this.segmentN;
    for (; this.bandNext * this.bandHopN + m <= n; this.bandNext++) {
      const { data, offset } = this.eegHistory.view(this.bandNext * this.bandHopN);
      const w = this.bandWelch;
      w.compute(data, offset, m);
      this.band.delta.push(w.bandPower(...EEG_BANDS_HZ.delta));
      this.band.theta.push(w.bandPower(...EEG_BANDS_HZ.theta));
      this.band.sigma.push(w.bandPower(...EEG_BANDS_HZ.sigma));
      this.band.beta.push(w.bandPower(...EEG_BANDS_HZ.beta));
    }
    this.eegHistory.dropBefore(this.bandNext * this.bandHopN);
  }

  /** Everything computed, once the stream has ended; `startS` is the time of the first sample. */
  finish(startS: number): Omit<SleepFeatureInput, 'epochS'> {
    this.envelopeUpTo(this.n, true);
    const { rateHz, envelopeStepS, envelopeWindowS, bandPowerStepS } = this.settings;
    const features: EpochFeatures = {
      deltaV2: this.epochs.delta.take(), thetaV2: this.epochs.theta.take(), sigmaV2: this.epochs.sigma.take(),
      betaV2: this.epochs.beta.take(), emgRmsV: this.epochs.emg.take(),
    };
    return {
      startS,
      features,
      envelope: { stepS: envelopeStepS, windowS: envelopeWindowS, startS, emgRmsV: this.envelope.take() },
      bandPower: {
        stepS: bandPowerStepS,
        startS: startS + this.segmentN / 2 / rateHz,
        deltaV2: this.band.delta.take(), thetaV2: this.band.theta.take(), sigmaV2: this.band.sigma.take(), betaV2: this.band.beta.take(),
      },
    };
  }
}

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

/**
 * Replays `path` once and reduces it to what the analysis needs (input.ts): photometry block
 * means at `analysisRateHz`, and from the EEG/EMG aux channels the per-epoch sleep features, the
 * EMG envelope and a band-power series. Throws AnalysisError E_ANALYSIS_NO_CHANNEL when the
 * recording has no photometry channel or lacks a named aux channel, E_ANALYSIS_BAD_INPUT for a
 * bad option; everything else the recording lacks is listed in `missing`.
 */
export async function readAnalysisInput(path: string, options: AnalysisInputOptions = {}, replay: Pick<ReplayOptions, 'demod' | 'cutoffS'> = {}): Promise<AnalysisInput> {
  const d = ANALYSIS_INPUT_DEFAULTS;
  const analysisRateHz = options.analysisRateHz ?? d.analysisRateHz;
  const epochS = options.epochS ?? d.epochS;
  const bandPowerStepS = options.bandPowerStepS ?? d.bandPowerStepS;
  const envelopeWindowS = options.envelopeWindowS ?? d.envelopeWindowS;
  const envelopeStepS = options.envelopeStepS ?? d.envelopeStepS;
  if (!(analysisRateHz > 0)) badOption('analysisRateHz', analysisRateHz, 'positive');
  if (!(epochS >= d.welchSegmentS)) badOption('epochS', epochS, `at least the ${d.welchSegmentS} s Welch segment`);
  if (!(bandPowerStepS > 0)) badOption('bandPowerStepS', bandPowerStepS, 'positive');
  if (!(envelopeStepS > 0 && envelopeWindowS >= envelopeStepS && envelopeStepS <= epochS)) badOption('envelopeStepS', envelopeStepS, `positive, at most envelopeWindowS (${envelopeWindowS} s) and epochS`);

  let photometry: BlockMeans | undefined;
  let signalChannels: readonly SignalChannel[] = [];
  let signalRateHz = 0;
  let auxChannels: readonly SignalChannel[] = [];
  let auxRateHz = 0;
  let eegName: string | undefined;
  let emgName: string | undefined;
  let features: SleepFeatureStream | undefined;
  let aux: AuxVolts | undefined;
  const missing: string[] = [];

  const sink: ReplaySink = {
    begin: (ctx) => {
      signalChannels = ctx.signalChannels;
      signalRateHz = ctx.signalRateHz;
      auxChannels = ctx.auxChannels;
      auxRateHz = ctx.auxOutputRateHz;
      if (signalChannels.length === 0 || (ctx.config.leds ?? []).length === 0) {
        throw new AnalysisError('E_ANALYSIS_NO_CHANNEL', `${path} has no photometry channel (no LED was configured, so no detector channel measures fluorescence): nothing to analyse; record with at least one LED and one detector`);
      }
      const factor = signalRateHz / analysisRateHz;
      if (!(factor >= 1 && Math.abs(factor - Math.round(factor)) < 1e-9)) {
        badOption('analysisRateHz', analysisRateHz, `a divisor of the recording's signal rate ${signalRateHz} Hz (e.g. 10 Hz of 100 Hz)`);
      }
      photometry = new BlockMeans(signalChannels, Math.round(factor));
      missing.push(...photometryMissing(signalChannels));

      const names = auxChannels.map((c) => c.name);
      const pick = (given: string | undefined, fallback: string): string | undefined => {
        if (given !== undefined && !names.includes(given)) {
          throw new AnalysisError('E_ANALYSIS_NO_CHANNEL', `${path} has no aux channel "${given}" (it has ${names.length ? names.join(', ') : 'none'}); name one of those or leave the option out`);
        }
        return given ?? (names.includes(fallback) ? fallback : undefined);
      };
      eegName = pick(options.eeg, 'EEG');
      emgName = pick(options.emg, 'EMG');
      if (!eegName || !emgName) {
        const lacking = !eegName && !emgName ? 'no EEG/EMG aux channels' : !eegName ? 'no EEG aux channel' : 'no EMG aux channel';
        missing.push(`${lacking} (aux: ${names.length ? names.join(', ') : 'none'}): no sleep scoring, no micro-arousals, no NREM bouts for the NE oscillation analysis, no EEG band power`);
        return;
      }
      if (!(auxRateHz >= MIN_AUX_RATE_HZ) || !(Math.round(epochS * auxRateHz) >= 64)) {
        missing.push(`EEG/EMG sampled at ${auxRateHz} Hz (below ${MIN_AUX_RATE_HZ} Hz the β band 15–30 Hz is lost): no sleep scoring, no micro-arousals, no EEG band power`);
        return;
      }
      for (const c of auxChannels.filter((x) => x.name === eegName || x.name === emgName)) {
        if (c.voltsAt === 'adc-input') missing.push(`${c.name} scale known only at the ADC input (the device did not report its amplifier gain): EEG/EMG powers are in volts at the ADC input, not at the electrode`);
      }
      const stream = new SleepFeatureStream({ rateHz: auxRateHz, epochS, welchSegmentS: d.welchSegmentS, envelopeWindowS, envelopeStepS, bandPowerStepS });
      features = stream;
      aux = new AuxVolts([eegName, emgName], (v, n) => stream.add(v[0]!, v[1]!, n));
    },
    signals: (b) => {
      if (b.stream === 'signals') photometry?.add(b);
      else aux?.add(b);
    },
  };
  await replayRecording(path, [sink], { ...replay });
  if (!photometry) {
    throw new AnalysisError('E_ANALYSIS_NO_CHANNEL', `${path} holds no acquisition to analyse; record one first`);
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
      const eegChannel = aux.channels.find((c) => c.name === eegName)!;
      const startS = signalTimeS(aux.first, auxRateHz, eegChannel, {});
      sleep = { epochS, ...features.finish(startS) };
      auxEndS = aux.next / auxRateHz;
    }
  }
  return {
    path,
    durationS: Math.max(photometry.end / signalRateHz, auxEndS),
    photometry: photometryInput,
    sleep,
    missing,
  };
}

/** Aux channels as whole arrays, in volts (see readAuxVolts). */
export interface AuxVoltsRecording {
  rateHz: number;
  /** aux output index of sample 0 */
  firstIndex: number;
  /** session time of sample 0 (the channels' group delay removed), s */
  startS: number;
  channels: readonly SignalChannel[];
  /** by channel name: codes × voltsPerCode, NaN in gaps, all of one length */
  data: Record<string, Float64Array>;
}

/**
 * The named aux channels of a recording as whole arrays of volts (each channel's voltsPerCode),
 * from the first aux sample, gaps NaN: the same samples readAnalysisInput reduces while streaming.
 * Memory grows with the recording (8 bytes per sample per channel): for short recordings and
 * tests. `sinks` ride along in the same replay.
 */
export async function readAuxVolts(path: string, names: readonly string[], sinks: ReplaySink[] = []): Promise<AuxVoltsRecording> {
  const parts = names.map(() => [] as Float64Array[]);
  let rateHz = 0;
  let available: readonly SignalChannel[] = [];
  const aux = new AuxVolts(names, (v) => {
    v.forEach((x, k) => { parts[k]!.push(Float64Array.from(x)); });
  });
  await replayRecording(path, [{
    begin: (ctx) => {
      rateHz = ctx.auxOutputRateHz;
      available = ctx.auxChannels;
      const absent = names.filter((n) => !available.some((c) => c.name === n));
      if (absent.length > 0) {
        throw new AnalysisError('E_ANALYSIS_NO_CHANNEL', `${path} has no aux channel ${absent.join(', ')} (it has ${available.length ? available.map((c) => c.name).join(', ') : 'none'})`);
      }
    },
    signals: (b) => { if (b.stream === 'aux') aux.add(b); },
  }, ...sinks]);
  if (aux.first < 0) throw new AnalysisError('E_ANALYSIS_NO_CHANNEL', `${path} has aux channels configured but no aux samples`);
  const data: Record<string, Float64Array> = {};
  names.forEach((name, k) => {
    const total = parts[k]!.reduce((s, p) => s + p.length, 0);
    const out = new Float64Array(total);
    let at = 0;
    for (const p of parts[k]!) { out.set(p, at); at += p.length; }
    data[name] = out;
  });
  const channels = names.map((n) => aux.channels.find((c) => c.name === n)!);
  return { rateHz, firstIndex: aux.first, startS: signalTimeS(aux.first, rateHz, channels[0]!, {}), channels, data };
}
