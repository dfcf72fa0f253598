// Streaming analysis for the live view: a causal corrected ΔF/F of the sensor
// channel and a running sleep state per epoch. Nothing new is computed here:
// host/analysis correctSignal runs on a bounded recent window every few
// seconds, and host/analysis/sleep scoreSleep on a bounded recent window of
// EEG/EMG every few epochs. Each update only emits what is new since the last
// one (samples or epochs), so every value shown depends only on data that had
// arrived when it was computed. Pure: no I/O, no clocks (the caller pushes).
import { spectralAbsorptionTable } from '../analysis/absorption.ts';
import { type AbsorptionTable, absorptionAt, type CorrectionMethod, type CorrectionOptions, correctSignal } from '../analysis/correct.ts';
import { scoreSleep, type SleepState } from '../analysis/sleep/score.ts';
import { BLOOD_VOLUME_BAND_NM, CONTROL_BAND_NM, inBand, SENSOR_BAND_NM } from '../pipeline/wavelength-roles.ts';

export type LiveSleepState = SleepState | 'unknown';

export interface LiveAnalysisOptions {
  /** ΔF/F: the correction runs over at most this much recent data, s (default 600). */
  correctionWindowS?: number;
  /** ΔF/F: refit every this many seconds of data (default 10; one refit of a 600 s window costs ~0.2 s of CPU). */
  correctionEveryS?: number;
  /** ΔF/F: nothing before this much data, s (default 30). */
  correctionWarmupS?: number;
  /** ΔF/F: the correction's rate, Hz: the signals are averaged down to it (default 10). */
  correctionRateHz?: number;
  /** Correction method; default haemodynamic when a 560 nm channel and a control exist, else isosbestic with a control, else none. A method whose channels are missing falls back the same way. */
  method?: CorrectionMethod;
  /** Blood absorption per LED wavelength (relative; scale fitted); default: from haemoglobin spectra (analysis/absorption.ts). Haemodynamic correction when a 560 nm channel and a control exist; else isosbestic. */
  absorption?: AbsorptionTable;
  /** Patch-cord autofluorescence by channel name (the signals' units), subtracted first (host/analysis README). */
  autofluorescence?: Readonly<Record<string, number>>;
  /** Sleep: epoch length, s (default 4). */
  epochS?: number;
  /** Sleep: scoring runs over at most this many recent epochs (default 450: 30 min at 4 s). */
  sleepWindowEpochs?: number;
  /** Sleep: rescore every this many new epochs (default 15). */
  sleepEveryEpochs?: number;
  /** Sleep: 'unknown' until this many epochs without missing samples have arrived (default 45: 3 min at 4 s; scoreSleep needs at least 30). */
  sleepMinEpochs?: number;
  /** Sleep: EEG/EMG are averaged down to at most this rate, Hz (default 250; at least 64). */
  sleepRateHz?: number;
}

export interface LiveChannel {
  name: string;
  inputId: number;
  wavelengthNm?: number;
  label?: string;
}

/** What the live correction uses: set once from the channel list. */
export interface LiveCorrectionPlan {
  sensor: string;
  control: string | null;
  bloodVolume: string | null;
  method: CorrectionMethod;
  rateHz: number;
}

/** Newly corrected samples: ΔF/F (%) at `firstIndex / rateHz` s of session time onward. */
export interface DffChunk {
  firstIndex: number;
  dffPercent: Float64Array;
}

/** Newly scored epochs: epoch k starts at k · epochS s of session time. */
export interface EpochChunk {
  firstEpoch: number;
  states: LiveSleepState[];
}

/** The bleaching fit's time-constant search on 300 bin means (2 s each over 600 s: the fast τ is >= 60 s), ~10× faster than the offline 4096. */
const LIVE_BLEACHING_BINS = 300;

const DEFAULTS = {
  correctionWindowS: 600, correctionEveryS: 10, correctionWarmupS: 30, correctionRateHz: 10,
  epochS: 4, sleepWindowEpochs: 450, sleepEveryEpochs: 15, sleepMinEpochs: 45, sleepRateHz: 250,
};

/**
 * Averages a stream of samples (one or more channels) indexed on a session timeline into
 * bins of `factor` input samples, and keeps the newest `capacity` bins in a ring. A bin with a
 * missing input sample is NaN.
 */
class BinnedHistory {
  private readonly ring: Float64Array[];
  /** the oldest bin held */
  first = 0;
  /** one past the newest complete bin */
  next = 0;
  private started = false;
  private readonly acc: Float64Array;
  private accBin = -1;
  private accCount = 0;

  constructor(readonly channels: number, readonly factor: number, readonly capacity: number) {
    this.ring = Array.from({ length: channels }, () => new Float64Array(capacity));
    this.acc = new Float64Array(channels);
  }

  /** Input samples firstIndex … firstIndex + count − 1 of each channel. */
  push(firstIndex: number, values: readonly ArrayLike<number>[], count: number): void {
    for (let i = 0; i < count; i++) {
      const bin = Math.floor((firstIndex + i) / this.factor);
      if (bin !== this.accBin) {
        this.flush();
        this.accBin = bin;
      }
      for (let c = 0; c < this.channels; c++) this.acc[c] = this.acc[c]! + values[c]![i]!;
      this.accCount++;
      if (this.accCount === this.factor) this.flush();
    }
  }

  private flush(): void {
    const bin = this.accBin;
    const complete = this.accCount === this.factor;
    const had = this.accCount > 0;
    this.accCount = 0;
    const acc = Float64Array.from(this.acc);
    this.acc.fill(0);
    if (!had || bin < this.next) return;
    if (!this.started) {
      this.started = true;
      this.first = bin;
      this.next = bin;
    }
    // bins skipped since the last one are NaN
    for (let k = Math.max(this.next, bin - this.capacity); k < bin; k++) for (const r of this.ring) r[k % this.capacity] = Number.NaN;
    for (let c = 0; c < this.channels; c++) this.ring[c]![bin % this.capacity] = complete ? acc[c]! / this.factor : Number.NaN;
    this.next = bin + 1;
    this.first = Math.max(this.first, this.next - this.capacity);
  }

  /** Channel c's bins [from, to) (within first … next), copied out. */
  slice(c: number, from: number, to: number): Float64Array {
    const out = new Float64Array(Math.max(0, to - from));
    const r = this.ring[c]!;
    for (let k = from; k < to; k++) out[k - from] = r[k % this.capacity]!;
    return out;
  }

  reset(): void {
    this.first = 0;
    this.next = 0;
    this.started = false;
    this.accBin = -1;
    this.accCount = 0;
    this.acc.fill(0);
  }
}

/**
 * Chooses the channels as the offline correction does (host/analysis/recording.ts): the blood-volume
 * channel is the brightest 540–600 nm one (the red detector sees the dye; `brightness` by name, e.g.
 * medians so far; without it the first), the sensor a 440–500 nm channel on another detector, its
 * control the 395–425 nm channel on the sensor's detector.
 */
export function planLiveCorrection(channels: readonly LiveChannel[], rateHz: number, options: LiveAnalysisOptions = {}, brightness?: (name: string) => number): LiveCorrectionPlan | null {
  const band = (c: LiveChannel, b: readonly [number, number]): boolean => inBand(c.wavelengthNm, b);
  let bv: LiveChannel | null = null;
  let best = Number.NEGATIVE_INFINITY;
  for (const c of channels.filter((x) => band(x, BLOOD_VOLUME_BAND_NM))) {
    const b = brightness ? brightness(c.name) : 0;
    if (!bv || b > best) { bv = c; best = b; }
  }
  const sensors = channels.filter((c) => band(c, SENSOR_BAND_NM));
  const sensor = sensors.find((c) => !bv || c.inputId !== bv.inputId) ?? sensors[0];
  if (!sensor || !(rateHz > 0)) return null;
  const control = channels.find((c) => c.inputId === sensor.inputId && band(c, CONTROL_BAND_NM)) ?? null;
  const possible: CorrectionMethod = bv && control ? 'haemodynamic' : control ? 'isosbestic' : 'none';
  const rank: Record<CorrectionMethod, number> = { haemodynamic: 2, isosbestic: 1, none: 0 };
  const method = options.method && rank[options.method] <= rank[possible] ? options.method : possible;
  return { sensor: sensor.name, control: control?.name ?? null, bloodVolume: method === 'haemodynamic' ? bv!.name : null, method, rateHz: liveCorrectionRateHz(rateHz, options) };
}

/** The rate the live correction runs at: the signals' rate divided by a whole factor, near `correctionRateHz`. */
export function liveCorrectionRateHz(rateHz: number, options: LiveAnalysisOptions = {}): number {
  return rateHz / Math.max(1, Math.round(rateHz / (options.correctionRateHz ?? DEFAULTS.correctionRateHz)));
}

/**
 * Causal ΔF/F: push the demodulated signals as they arrive; take() returns the samples corrected
 * since the last call. The channels are chosen once the warm-up has arrived (planLiveCorrection by
 * the medians so far). Every `correctionEveryS` of data, correctSignal runs over the last
 * `correctionWindowS` (bleaching fit, isosbestic or haemodynamic fit, ΔF/F baseline all over that
 * window) and the samples that arrived since the previous run are emitted from it: each is
 * computed from data up to at most `correctionEveryS` after it, never later data.
 */
export class LiveCorrection {
  /** the channels and method, once chosen (after the warm-up) */
  plan: LiveCorrectionPlan | undefined;
  readonly rateHz: number;
  private readonly history: BinnedHistory;
  private readonly o: typeof DEFAULTS & LiveAnalysisOptions;
  private emitted = -1;
  private lastRun = -1;
  private coefficients: CorrectionOptions['coefficients'];
  private af: CorrectionOptions['autofluorescence'];
  /** the last correction's error, if it threw (shown as a warning, never thrown into the feed) */
  error: string | undefined;

  constructor(private readonly channels: readonly LiveChannel[], rateHz: number, options: LiveAnalysisOptions = {}) {
    this.o = { ...DEFAULTS, ...options };
    this.rateHz = liveCorrectionRateHz(rateHz, options);
    const factor = Math.max(1, Math.round(rateHz / this.rateHz));
    this.history = new BinnedHistory(channels.length, factor, Math.ceil(this.o.correctionWindowS * this.rateHz));
  }

  reset(): void {
    this.history.reset();
    this.plan = undefined;
    this.emitted = -1;
    this.lastRun = -1;
    this.error = undefined;
  }

  /** Demodulated signals (every channel of the stream, in order) at session indices firstIndex … */
  push(firstIndex: number, values: readonly ArrayLike<number>[], count: number): void {
    this.history.push(firstIndex, values, count);
  }

  private choose(): LiveCorrectionPlan | undefined {
    const h = this.history;
    const median = (name: string): number => {
      const k = this.channels.findIndex((c) => c.name === name);
      const x = Array.from(h.slice(k, h.first, h.next)).filter(Number.isFinite).sort((a, b) => a - b);
      return x.length > 0 ? x[x.length >> 1]! : Number.NEGATIVE_INFINITY;
    };
    const plan = planLiveCorrection(this.channels, this.rateHz * h.factor, this.o, median) ?? undefined;
    if (!plan) return undefined;
    const wl = (n: string | null): number => this.channels.find((c) => c.name === n)?.wavelengthNm ?? Number.NaN;
    const table = this.o.absorption ?? spectralAbsorptionTable([plan.sensor, plan.control, plan.bloodVolume].flatMap((n) => (n ? [wl(n)] : [])));
    this.coefficients = plan.method === 'haemodynamic'
      ? { sensor: absorptionAt(table, wl(plan.sensor)), control: absorptionAt(table, wl(plan.control)), bloodVolume: absorptionAt(table, wl(plan.bloodVolume)) }
      : undefined;
    const af = this.o.autofluorescence;
    this.af = af
      ? {
          ...(af[plan.sensor] !== undefined ? { sensor: af[plan.sensor]! } : {}),
          ...(plan.control && af[plan.control] !== undefined ? { control: af[plan.control]! } : {}),
          ...(plan.bloodVolume && af[plan.bloodVolume] !== undefined ? { bloodVolume: af[plan.bloodVolume]! } : {}),
        }
      : undefined;
    return plan;
  }

  /** Runs the correction when due; the samples corrected since the last call, if any. */
  take(): DffChunk | undefined {
    const h = this.history;
    const rate = this.rateHz;
    if (h.next - h.first < this.o.correctionWarmupS * rate) return undefined;
    if (this.lastRun >= 0 && h.next - this.lastRun < this.o.correctionEveryS * rate) return undefined;
    this.lastRun = h.next;
    this.plan ??= this.choose();
    const plan = this.plan;
    if (!plan) return undefined;
    const from = Math.max(this.emitted, h.first);
    const tS = Float64Array.from({ length: h.next - h.first }, (_, i) => (h.first + i) / rate);
    const data = (name: string | null): Float64Array | undefined => (name === null ? undefined : h.slice(this.channels.findIndex((c) => c.name === name), h.first, h.next));
    const control = data(plan.control);
    const bloodVolume = data(plan.bloodVolume);
    let dff: Float64Array;
    try {
      const r = correctSignal(
        { tS, sensor: data(plan.sensor)!, ...(control ? { control } : {}), ...(bloodVolume ? { bloodVolume } : {}) },
        {
          method: plan.method,
          ...(this.coefficients ? { coefficients: this.coefficients, fitScale: true } : {}),
          ...(this.af ? { autofluorescence: this.af } : {}),
          bleachingMaxBins: LIVE_BLEACHING_BINS,
        },
      );
      dff = r.dffPercent;
      this.error = undefined;
    } catch (error) {
      this.error = (error as Error).message;
      return undefined;
    }
    this.emitted = h.next;
    return { firstIndex: from, dffPercent: dff.slice(from - h.first) };
  }
}

/** Finds EEG and EMG among the aux channels (by label or name: /emg/i is EMG, the first other one EEG). */
export function planLiveSleep(channels: readonly LiveChannel[]): { eeg: number; emg: number } | null {
  const text = (c: LiveChannel): string => `${c.label ?? ''} ${c.name}`;
  const emg = channels.findIndex((c) => /emg/i.test(text(c)));
  const eeg = channels.findIndex((c, i) => i !== emg && (/eeg/i.test(text(c)) || emg >= 0));
  return emg >= 0 && eeg >= 0 ? { eeg, emg } : null;
}

/**
 * Running sleep state per epoch: push EEG/EMG as they arrive; take() returns the epochs scored
 * since the last call. Every `sleepEveryEpochs` new epochs, scoreSleep (the unsupervised mixture of
 * host/analysis/sleep) runs over the newest run of up to `sleepWindowEpochs` epochs without missing
 * samples and the new epochs get its states; 'unknown' until such a run has `sleepMinEpochs` epochs
 * (scoreSleep needs at least 30), inside gaps, and while scoring fails.
 */
export class LiveSleep {
  readonly epochS: number;
  private readonly history: BinnedHistory;
  private readonly o: typeof DEFAULTS & LiveAnalysisOptions;
  private readonly rateHz: number;
  private readonly perEpoch: number;
  private emitted = -1;
  private lastRun = -1;
  error: string | undefined;

  constructor(private readonly plan: { eeg: number; emg: number }, auxRateHz: number, options: LiveAnalysisOptions = {}) {
    this.o = { ...DEFAULTS, ...options };
    this.epochS = this.o.epochS;
    const factor = Math.max(1, Math.floor(auxRateHz / Math.max(64, this.o.sleepRateHz)));
    this.rateHz = auxRateHz / factor;
    this.perEpoch = Math.round(this.epochS * this.rateHz);
    this.history = new BinnedHistory(2, factor, this.perEpoch * this.o.sleepWindowEpochs);
  }

  reset(): void {
    this.history.reset();
    this.emitted = -1;
    this.lastRun = -1;
    this.error = undefined;
  }

  push(firstIndex: number, values: readonly ArrayLike<number>[], count: number): void {
    this.history.push(firstIndex, [values[this.plan.eeg]!, values[this.plan.emg]!], count);
  }

  take(): EpochChunk | undefined {
    const h = this.history;
    // whole epochs on the session's epoch grid
    const firstEpoch = Math.ceil(h.first / this.perEpoch);
    const endEpoch = Math.floor(h.next / this.perEpoch);
    if (endEpoch <= firstEpoch) return undefined;
    const from = Math.max(this.emitted, firstEpoch);
    if (this.lastRun >= 0 && endEpoch - this.lastRun < this.o.sleepEveryEpochs) return undefined;
    if (endEpoch <= from) return undefined;
    this.lastRun = endEpoch;
    const states: LiveSleepState[] = new Array(endEpoch - from).fill('unknown');
    // score the newest run of epochs without missing samples (a gap's epochs stay 'unknown')
    const eeg = h.slice(0, firstEpoch * this.perEpoch, endEpoch * this.perEpoch);
    const emg = h.slice(1, firstEpoch * this.perEpoch, endEpoch * this.perEpoch);
    let start = firstEpoch;
    for (let i = eeg.length - 1; i >= 0; i--) {
      if (!(Number.isFinite(eeg[i]!) && Number.isFinite(emg[i]!))) {
        start = firstEpoch + Math.floor(i / this.perEpoch) + 1;
        break;
      }
    }
    if (endEpoch - start >= this.o.sleepMinEpochs) {
      const a = (start - firstEpoch) * this.perEpoch;
      try {
        const r = scoreSleep({ eegV: eeg.subarray(a), emgV: emg.subarray(a), rateHz: this.rateHz, startS: (start * this.perEpoch) / this.rateHz }, { epochS: this.epochS });
        for (let e = Math.max(from, start); e < endEpoch; e++) states[e - from] = r.states[e - start]!;
        this.error = undefined;
      } catch (error) {
        this.error = (error as Error).message;
      }
    }
    this.emitted = endEpoch;
    return { firstEpoch: from, states };
  }
}
