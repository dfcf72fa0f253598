// Demodulated signals, aux channels, events, gaps and quality flags as CSV
// files in a recording directory. Times come from the device clock (output
// index / rate on the session timeline), minus each channel's group delay
// (host/pipeline/time.ts) unless delay compensation is off: a signal's time is
// when its light was measured; time-division channels, whose LEDs are measured
// at different times of a cycle, get one `<name>_time_s` column each; gaps are NaN rows, never dropped or
// zero-filled; quality.csv lists spans whose samples arrived but whose signals
// are NaN (every LED dark).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SignalBlock } from '../pipeline/demodulate.ts';
import type { TimeOptions } from '../pipeline/time.ts';
import { ChannelTimeColumns } from '../pipeline/time.ts';
import { packAscii, putAscii, putPrecision9 } from './number-text.ts';
import { formatValue, formatVolts, TextFileWriter } from './text-file.ts';

class CsvFile {
  readonly out: TextFileWriter;
  rows = 0;
  /** Signal files: how their time columns are written. */
  times: ChannelTimeColumns | undefined;
  /** One row's formatted values (reused). */
  readonly cells: string[] = [];
  /** aux.csv: formatted volts per channel by ADC code (an aux value is an integer code times the channel's scale). */
  volts: VoltsCache[] | undefined;

  constructor(readonly path: string, header: string) {
    this.out = new TextFileWriter(path);
    this.out.write(`${header}\n`);
  }

  write(text: string): void {
    this.out.write(text);
  }

  flush(): void {
    this.out.flush();
  }

  close(): void {
    this.out.close();
  }
}

/** Codes cached per channel: a signed 16-bit ADC's range, -32768..32767. */
const CODE_OFFSET = 32768;
const CACHED_CODES = 65536;
/** Most bytes of one aux value's text: toExponential(6) is at most 14 characters ("-1.234567e-100"), "NaN" 3. */
const MAX_VOLTS_BYTES = 14;
/** Most bytes of a time cell written as bytes (ChannelTimeColumns.writeTime: under 1e9 s, µs resolution, signed). */
const MAX_TIME_BYTES = 18;
/** Most bytes of a signal value's text: toPrecision(9) is at most 17 characters ("-1.23456789e+100", "-0.00000123456789"). */
const MAX_VALUE_BYTES = 17;

/** Most bytes a row's word stores (a time: 4, writeNextTime; an aux value: under 4 * VOLTS_WORDS) write past the row's text. */
const WORD_SLACK_BYTES = 16;
/** Words (4 ASCII bytes each) of one cached aux value's text: MAX_VOLTS_BYTES rounded up. */
const VOLTS_WORDS = 4;

/** One aux channel's formatted values by code (filled on first use): text, and ASCII bytes packed in words. */
interface VoltsCache {
  scale: number;
  text: Array<string | undefined>;
  /** Code slot i's text bytes in words [i * VOLTS_WORDS, + VOLTS_WORDS) (packAscii), byteLength[i] of them; 0: not formatted yet. */
  words: Uint32Array;
  byteLength: Uint8Array;
}

function voltsCache(scale: number): VoltsCache {
  return {
    scale, text: new Array<string | undefined>(CACHED_CODES).fill(undefined),
    words: new Uint32Array(CACHED_CODES * VOLTS_WORDS), byteLength: new Uint8Array(CACHED_CODES),
  };
}

/**
 * formatVolts(code * scale), cached by code: EEG/EMG rows repeat the same few thousand codes, and
 * formatting dominates writing aux.csv. Values that are not such codes are formatted directly.
 */
function voltsOfCode(cache: VoltsCache, code: number): string {
  const slot = code + CODE_OFFSET;
  if (!(Number.isInteger(slot) && slot >= 0 && slot < CACHED_CODES)) return formatVolts(code * cache.scale);
  let text = cache.text[slot];
  if (text === undefined) {
    text = formatVolts(code * cache.scale);
    cache.text[slot] = text;
  }
  return text;
}

/**
 * voltsOfCode's text as ASCII bytes into out (`view` over the same bytes) from `at`; returns the end.
 * Writes up to 4 * VOLTS_WORDS - 1 bytes past it (whole words; overwritten by what is written next).
 */
function putVolts(cache: VoltsCache, code: number, out: Uint8Array, view: DataView, at: number): number {
  const slot = code + CODE_OFFSET;
  if (!(Number.isInteger(slot) && slot >= 0 && slot < CACHED_CODES)) return putAscii(formatVolts(code * cache.scale), out, at);
  let n = cache.byteLength[slot]!;
  const words = cache.words;
  const from = slot * VOLTS_WORDS;
  if (n === 0) {
    const text = formatVolts(code * cache.scale);
    if (text.length > 4 * VOLTS_WORDS) return putAscii(text, out, at); // not for a finite code times a finite scale (MAX_VOLTS_BYTES)
    n = packAscii(text, words, from, VOLTS_WORDS);
    cache.byteLength[slot] = n;
  }
  view.setUint32(at, words[from]!, true);
  view.setUint32(at + 4, words[from + 1]!, true);
  view.setUint32(at + 8, words[from + 2]!, true);
  view.setUint32(at + 12, words[from + 3]!, true);
  return at + n;
}

/** One aux row's values after its time (",v,v...\n") into out from `at`; returns the end. */
function putAuxValues(volts: VoltsCache[], columns: Float64Array[], k: number, out: Uint8Array, view: DataView, at: number): number {
  for (let c = 0; c < columns.length; c++) {
    out[at++] = 44; // ','
    at = putVolts(volts[c]!, columns[c]![k]!, out, view, at);
  }
  out[at++] = 10; // '\n'
  return at;
}

/** One signals row's values after its time (",v,v...\n") into out from `at`; returns the end. */
function putSignalValues(columns: Float64Array[], k: number, out: Uint8Array, at: number): number {
  for (let c = 0; c < columns.length; c++) {
    out[at++] = 44; // ','
    at = putPrecision9(columns[c]![k]!, out, at);
  }
  out[at++] = 10; // '\n'
  return at;
}

/** `count` aux rows whose times `times` steps (startRows), into out from `at`; returns the end. */
function putAuxRows(volts: VoltsCache[], columns: Float64Array[], count: number, times: ChannelTimeColumns, out: Uint8Array, view: DataView, at: number): number {
  for (let k = 0; k < count; k++) at = putAuxValues(volts, columns, k, out, view, times.writeNextTime(view, at));
  return at;
}

/** `count` signals rows whose times `times` steps (startRows), into out from `at`; returns the end. */
function putSignalRows(columns: Float64Array[], count: number, times: ChannelTimeColumns, out: Uint8Array, view: DataView, at: number): number {
  for (let k = 0; k < count; k++) at = putSignalValues(columns, k, out, times.writeNextTime(view, at));
  return at;
}

export interface EventRow {
  timeS: number;
  kind: string;
  line: number;
  value: string;
}

export interface GapRow {
  source: string;
  startS: number;
  durationS: number;
  samples: number;
  reason: string;
  estimated: boolean;
  uncertaintySamples: number;
}

/** A span of the timeline whose signals are not to be trusted although its samples arrived (e.g. LEDs dark). */
export interface QualityRow {
  source: string;
  startS: number;
  durationS: number;
  samples: number;
  /** Machine-readable flag, e.g. "leds-dark". */
  flag: string;
  /** What a person reads, e.g. "LEDs dark: watchdog". */
  label: string;
}

export const DERIVED_FILE_NAMES = ['signals.csv', 'aux.csv', 'events.csv', 'gaps.csv', 'quality.csv'] as const;

/**
 * Writes signals.csv, aux.csv, events.csv, gaps.csv and quality.csv into `dir`; without `signalTables`
 * only the last three (the signal tables can be made later from the raw log: `fiberrig demod`).
 */
export class SignalFiles {
  private signals: CsvFile | undefined;
  private aux: CsvFile | undefined;
  private readonly events: CsvFile;
  private readonly gaps: CsvFile;
  private readonly quality: CsvFile;

  private constructor(readonly dir: string, private readonly timeOptions: TimeOptions, private readonly signalTables: boolean) {
    this.events = new CsvFile(join(dir, 'events.csv'), 'time_s,kind,line,value');
    this.gaps = new CsvFile(join(dir, 'gaps.csv'), 'source,start_s,duration_s,samples,reason,estimated,uncertainty_samples');
    this.quality = new CsvFile(join(dir, 'quality.csv'), 'source,start_s,duration_s,samples,flag,label');
  }

  static async create(dir: string, timeOptions: TimeOptions = {}, signalTables = true): Promise<SignalFiles> {
    await mkdir(dir, { recursive: true });
    return new SignalFiles(dir, timeOptions, signalTables);
  }

  get signalRows(): number {
    return this.signals?.rows ?? 0;
  }

  /** Names of the files written so far. */
  get files(): string[] {
    return [this.signals && 'signals.csv', this.aux && 'aux.csv', 'events.csv', 'gaps.csv', 'quality.csv'].filter((x): x is string => Boolean(x));
  }

  writeSignals(block: SignalBlock): void {
    if (!this.signalTables) return;
    const aux = block.stream === 'aux';
    const file = aux ? (this.aux ??= this.open('aux.csv', block)) : (this.signals ??= this.open('signals.csv', block));
    const columns = block.values;
    if (aux) {
      // aux (EEG/EMG) in volts at the electrode (or at the ADC input, so named, when the device did not report its gain);
      // a cache holds one scale's strings: a channel whose scale changes starts afresh
      file.volts ??= [];
      for (let c = 0; c < columns.length; c++) {
        const scale = block.channels[c]!.voltsPerCode;
        if (file.volts[c]?.scale !== scale) {
          file.volts[c] = voltsCache(scale);
        }
      }
    }
    if (this.writeRowBytes(file, block, aux)) {
      file.rows += block.count;
      return;
    }
    let text = '';
    const times = file.times!;
    const cells = file.cells;
    cells.length = columns.length;
    for (let k = 0; k < block.count; k++) {
      for (let c = 0; c < columns.length; c++) {
        const v = columns[c]![k]!;
        cells[c] = aux ? voltsOfCode(file.volts![c]!, v) : formatValue(v);
      }
      text += `${times.row(block.firstIndex + k, block.rateHz, cells)}\n`;
    }
    file.rows += block.count;
    file.write(text);
  }

  /**
   * Rows as ASCII bytes straight into the file's buffer, the same text as the string path: signals.csv
   * values by putPrecision9 (formatValue = toPrecision(9)), aux.csv volts per code by putVolts (formatVolts,
   * cached as bytes). False, nothing written, when a row's time is not one writeTime writes (a delayed or
   * odd-rate time column, time division's per-channel times): the string path writes those.
   */
  private writeRowBytes(file: CsvFile, block: SignalBlock, aux: boolean): boolean {
    const times = file.times!;
    const columns = block.values;
    // room for the rows, and for what the word stores write past the last one
    const { buffer, view, end } = file.out.room(block.count * (MAX_TIME_BYTES + 1 + columns.length * ((aux ? MAX_VOLTS_BYTES : MAX_VALUE_BYTES) + 1)) + WORD_SLACK_BYTES);
    let at: number;
    if (times.startRows(block.firstIndex, block.count, block.rateHz)) {
      // times stepped row to row (a shared, unshifted column: aux.csv)
      at = aux ? putAuxRows(file.volts!, columns, block.count, times, buffer, view, end) : putSignalRows(columns, block.count, times, buffer, view, end);
    } else {
      at = end;
      for (let k = 0; k < block.count; k++) {
        at = times.writeTime(block.firstIndex + k, block.rateHz, buffer, at);
        if (at < 0) return false; // nothing committed: the block is written as text
        at = aux ? putAuxValues(file.volts!, columns, k, buffer, view, at) : putSignalValues(columns, k, buffer, at);
      }
    }
    file.out.commit(at);
    return true;
  }

  writeEvent(row: EventRow): void {
    this.events.write(`${row.timeS.toFixed(9)},${row.kind},${row.line},${row.value}\n`);
    this.events.rows++;
  }

  writeGap(row: GapRow): void {
    this.gaps.write(`${row.source},${row.startS.toFixed(6)},${row.durationS.toFixed(6)},${row.samples},${row.reason},${row.estimated},${row.uncertaintySamples}\n`);
    this.gaps.rows++;
  }

  writeQuality(row: QualityRow): void {
    this.quality.write(`${row.source},${row.startS.toFixed(6)},${row.durationS.toFixed(6)},${row.samples},${row.flag},${row.label}\n`);
    this.quality.rows++;
  }

  /** Hands buffered rows to the OS (the live recorder calls this every second). */
  flush(): void {
    for (const f of [this.signals, this.aux, this.events, this.gaps, this.quality]) f?.flush();
  }

  async close(): Promise<void> {
    for (const f of [this.signals, this.aux, this.events, this.gaps, this.quality]) f?.close();
  }

  private open(name: string, block: SignalBlock): CsvFile {
    // aux columns name their unit: EEG_V (volts at the electrode), or EEG_V_at_ADC_input (a device that did not report its gain)
    const unitOf = (c: SignalBlock['channels'][number]): string => `${c.name}_${c.voltsAt === 'adc-input' ? 'V_at_ADC_input' : 'V'}`;
    const channels = block.stream === 'aux' ? block.channels.map((c) => ({ ...c, name: unitOf(c) })) : block.channels;
    const times = new ChannelTimeColumns(channels, this.timeOptions);
    const file = new CsvFile(join(this.dir, name), times.header().join(','));
    file.times = times;
    return file;
  }
}
