// The time base of exported signals. A demodulated output k of a block is labelled
// (firstIndex + k) / rateHz on the session timeline; what it measured lies
// `channel.groupDelayS` earlier (host/dsp/delay.ts: a filter's lag, or for TDM a
// negative value: the LED's window sits later in the cycle). With delay compensation
// (the default) every exported signal time is the time its light was measured:
// output time − groupDelayS. Without it, times are the raw output times and the
// delay belongs in the file's metadata. Raw (unfiltered) series keep their times.
import { packAscii, putFixed6 } from '../record/number-text.ts';
import type { SignalChannel } from './demodulate.ts';

/** How signal times relate to the demodulator's output (exports, signals.csv). */
export interface TimeOptions {
  /**
   * true (default): a signal sample's time is when its light was measured — the output time minus
   * the channel's `groupDelayS`. false: raw filter-output times, and the delay is recorded in the
   * file's metadata so a reader can correct it.
   */
  delayCompensation?: boolean;
}

/** Whether `options` asks for delay-compensated times (the default). */
export function compensatesDelay(options: TimeOptions): boolean {
  return options.delayCompensation ?? true;
}

/** Seconds subtracted from `channel`'s output times: its group delay when compensating (the default), else 0. */
export function timeShiftS(channel: Pick<SignalChannel, 'groupDelayS'>, options: TimeOptions): number {
  return compensatesDelay(options) ? channel.groupDelayS : 0;
}

/** Exported time, in seconds on the session timeline, of output `index` of `channel` at `rateHz`. */
export function signalTimeS(index: number, rateHz: number, channel: Pick<SignalChannel, 'groupDelayS'>, options: TimeOptions): number {
  return index / rateHz - timeShiftS(channel, options);
}

/** `signalTimeS` as every CSV writes a time (µs resolution). */
export function formatSignalTime(index: number, rateHz: number, channel: Pick<SignalChannel, 'groupDelayS'>, options: TimeOptions): string {
  if (timeShiftS(channel, options) === 0) {
    const us = wholeMicroseconds(index, rateHz);
    if (us !== undefined) {
      // the same text as toFixed(6), without formatting a double: index / rateHz is a whole number of µs
      const rem = us % 1e6;
      return `${(us - rem) / 1e6}.${String(rem).padStart(6, '0')}`;
    }
  }
  return signalTimeS(index, rateHz, channel, options).toFixed(6);
}

/**
 * index / rateHz in µs when that is an exact integer that toFixed(6) of the (correctly rounded)
 * quotient prints unchanged: a non-negative integer index, an integer rate dividing 1 MHz, under 2e9 s.
 */
function wholeMicroseconds(index: number, rateHz: number): number | undefined {
  if (!(Number.isInteger(index) && index >= 0 && Number.isInteger(rateHz) && rateHz > 0 && 1e6 % rateHz === 0)) return undefined;
  const us = index * (1e6 / rateHz);
  return us < 2e15 ? us : undefined;
}

/**
 * The shift shared by every channel (so one time column is exact for all of them), or
 * undefined when they differ (time division: each LED's window has its own place in the cycle).
 */
export function sharedTimeShiftS(channels: ReadonlyArray<Pick<SignalChannel, 'groupDelayS'>>, options: TimeOptions): number | undefined {
  if (channels.length === 0) return 0;
  const first = timeShiftS(channels[0]!, options);
  return channels.every((c) => timeShiftS(c, options) === first) ? first : undefined;
}

/**
 * For a series holding every channel under one start time (NWB): the start time is the first
 * channel's, and channel c's samples were measured `offsetsS[c]` seconds after the series' times
 * (0 for all when they share a shift). For the file's metadata.
 */
export function seriesTimeOffsetsS(channels: ReadonlyArray<Pick<SignalChannel, 'groupDelayS'>>, options: TimeOptions): number[] {
  if (channels.length === 0) return [];
  const first = timeShiftS(channels[0]!, options);
  return channels.map((c) => first - timeShiftS(c, options));
}

/** The bytes of an ASCII text. */
function asciiBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Bytes of a fraction text ".ffffff" (a whole number of µs below 1e6). */
const FRACTION_BYTES = 7;
/** Words of a whole second's text (under 2e9 s: at most 10 digits). */
const SECOND_WORDS = 3;

/** Highest rate whose fraction texts a time column caches (one short string per output in a second). */
const MAX_CACHED_RATE_HZ = 100_000;

/**
 * Columns of a table holding several channels per row. One `time_s` column when every
 * channel shares its shift; otherwise each channel gets its own `<name>_time_s` column
 * right before its values (no single time is right for all of them, so none is written).
 */
export class ChannelTimeColumns {
  readonly shared: boolean;
  private readonly channels: readonly SignalChannel[];
  /** Shared, unshifted times: the rate the cached texts below are for (0: none). */
  private wholeRateHz = 0;
  /** ".ffffff" of output k within a second (k < wholeRateHz), filled on first use; and as ASCII bytes. */
  private fractionText: Array<string | undefined> = [];
  private fractionBytes: Array<Uint8Array | undefined> = [];
  /** The last whole second written, its text and its ASCII bytes. */
  private second = -1;
  private secondText = '';
  private secondBytes: Uint8Array = new Uint8Array(0);
  /** The fraction texts' bytes packed in words (packAscii), 2 per output k (first word 0: not filled yet). */
  private fractionWords = new Uint32Array(0);
  /** startRows/writeNextTime: `secondText` packed in words, and its length. */
  private readonly secondWords = new Uint32Array(SECOND_WORDS);
  private secondLength = 0;
  /** startRows/writeNextTime: the next row's place within `this.second` (may be `wholeRateHz`: the next second's 0). */
  private cursorSlot = 0;

  constructor(channels: readonly SignalChannel[], private readonly options: TimeOptions) {
    this.channels = channels;
    this.shared = sharedTimeShiftS(channels, options) !== undefined;
  }

  /**
   * For a shared, unshifted time column at a rate dividing 1 MHz, output `index`'s place within its
   * second (`this.second` is then its second), else -1: its text is formatSignalTime's, from cached
   * pieces (the whole second changes once per second; the fraction is one of `rateHz` texts).
   */
  private wholeSlot(index: number, rateHz: number): number {
    if (rateHz !== this.wholeRateHz) {
      if (!(this.shared && Number.isInteger(rateHz) && rateHz > 0 && rateHz <= MAX_CACHED_RATE_HZ && 1e6 % rateHz === 0)) return -1;
      if (this.channels.length > 0 && timeShiftS(this.channels[0]!, this.options) !== 0) return -1;
      this.wholeRateHz = rateHz;
      this.fractionText = new Array<string | undefined>(rateHz).fill(undefined);
      this.fractionBytes = new Array<Uint8Array | undefined>(rateHz).fill(undefined);
      this.fractionWords = new Uint32Array(rateHz * 2);
      this.second = -1;
    }
    if (!(Number.isInteger(index) && index >= 0 && index * (1e6 / rateHz) < 2e15)) return -1;
    const second = Math.floor(index / rateHz);
    if (second !== this.second) {
      this.second = second;
      this.secondText = String(second);
      this.secondBytes = asciiBytes(this.secondText);
    }
    return index - second * rateHz;
  }

  private fractionOf(k: number): string {
    let fraction = this.fractionText[k];
    if (fraction === undefined) {
      fraction = `.${String(k * (1e6 / this.wholeRateHz)).padStart(6, '0')}`;
      this.fractionText[k] = fraction;
    }
    return fraction;
  }

  /**
   * The row's time cell (a shared time column: the text `row` starts with) as ASCII bytes into
   * `out` from `at` (at most 18 bytes); returns the end. -1 (nothing written) where only `row` can write it.
   */
  writeTime(index: number, rateHz: number, out: Uint8Array, at: number): number {
    const k = this.wholeSlot(index, rateHz);
    if (k < 0) return this.writeShiftedTime(index, rateHz, out, at);
    const second = this.secondBytes;
    for (let i = 0; i < second.length; i++) out[at++] = second[i]!;
    let fraction = this.fractionBytes[k];
    if (fraction === undefined) {
      fraction = asciiBytes(this.fractionOf(k));
      this.fractionBytes[k] = fraction;
    }
    for (let i = 0; i < fraction.length; i++) out[at++] = fraction[i]!;
    return at;
  }

  /**
   * Starts writing the times of rows `firstIndex .. firstIndex + count` in order by `writeNextTime`
   * (the text writeTime writes, stepped from row to row: no division or check per row). False,
   * nothing started, where writeTime is needed (a time that is not a whole number of µs of a shared,
   * unshifted column).
   */
  startRows(firstIndex: number, count: number, rateHz: number): boolean {
    if (count <= 0) return false;
    const k = this.wholeSlot(firstIndex, rateHz);
    // the last row within wholeSlot's range too (every row between then is: the range is an interval)
    if (k < 0 || !((firstIndex + count - 1) * (1e6 / rateHz) < 2e15)) return false;
    this.cursorSlot = k;
    this.secondLength = packAscii(this.secondText, this.secondWords, 0, SECOND_WORDS);
    return true;
  }

  /**
   * The next row's time (after startRows) as ASCII bytes into `view` from `at`; returns the end.
   * Writes up to 4 bytes past it (whole words; overwritten by what is written next).
   */
  writeNextTime(view: DataView, at: number): number {
    let k = this.cursorSlot;
    if (k === this.wholeRateHz) {
      // the next whole second
      k = 0;
      this.second++;
      this.secondText = String(this.second);
      this.secondBytes = asciiBytes(this.secondText);
      this.secondLength = packAscii(this.secondText, this.secondWords, 0, SECOND_WORDS);
    }
    const second = this.secondWords;
    view.setUint32(at, second[0]!, true);
    view.setUint32(at + 4, second[1]!, true);
    view.setUint32(at + 8, second[2]!, true);
    at += this.secondLength;
    const fractions = this.fractionWords;
    const from = 2 * k;
    if (fractions[from] === 0) packAscii(this.fractionOf(k), fractions, from, 2);
    view.setUint32(at, fractions[from]!, true);
    view.setUint32(at + 4, fractions[from + 1]!, true);
    this.cursorSlot = k + 1;
    return at + FRACTION_BYTES;
  }

  /**
   * A shared time column shifted by the channels' delay (signals.csv by default): formatSignalTime's
   * text, toFixed(6) of the shifted time, as bytes (putFixed6); -1 where only `row` writes it.
   */
  private writeShiftedTime(index: number, rateHz: number, out: Uint8Array, at: number): number {
    const channel = this.channels[0];
    if (!this.shared || channel === undefined || timeShiftS(channel, this.options) === 0) return -1;
    const t = signalTimeS(index, rateHz, channel, this.options);
    return Math.abs(t) < 1e9 ? putFixed6(t, out, at) : -1;
  }

  /** Header cells for the channels (with their time columns). */
  header(): string[] {
    return this.shared ? ['time_s', ...this.channels.map((c) => c.name)] : this.channels.flatMap((c) => [`${c.name}_time_s`, c.name]);
  }


  /** One row's cells (no trailing newline, no leading comma), values already formatted per channel. */
  row(index: number, rateHz: number, values: readonly string[]): string {
    // string concatenation, no intermediate arrays: aux.csv writes thousands of rows per second
    const channels = this.channels;
    if (this.shared) {
      const k = this.wholeSlot(index, rateHz);
      let text = k >= 0 ? this.secondText + this.fractionOf(k) : channels.length > 0 ? formatSignalTime(index, rateHz, channels[0]!, this.options) : (index / rateHz).toFixed(6);
      for (let i = 0; i < values.length; i++) text += `,${values[i]}`;
      return text;
    }
    let text = '';
    for (let i = 0; i < channels.length; i++) text += `${i > 0 ? ',' : ''}${formatSignalTime(index, rateHz, channels[i]!, this.options)},${values[i]}`;
    return text;
  }
}
