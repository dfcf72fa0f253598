// The derived files of a recording (signals.csv, aux.csv, events.csv,
// gaps.csv), written by one class whether the data comes live from the Rig
// or from replaying the raw log: the same inputs in the same order give the
// same bytes. Everything is placed by session time; with a cutoff, only data
// before it is written, so a live run and its offline re-run end alike.
import { Edge } from '../../protocol/index.ts';
import type { TimeOptions } from '../pipeline/time.ts';
import type { SignalBlock } from '../pipeline/demodulate.ts';
import type { AcquisitionItem, RigBlock, RigGap, TimedDigitalEvent, TimedLedEvent } from '../rig/assembler.ts';
import { darkSpanOf, type RigLight } from '../rig/light.ts';
import type { SessionGap, SessionQualitySpan } from './session.ts';
import { SignalFiles } from './signal-files.ts';

/** Rows of an output stream that lie before `cutoffS`: indices below this. */
export function cutoffIndex(cutoffS: number, rateHz: number): number {
  return Math.ceil(cutoffS * rateHz - 1e-9);
}

/** `block` limited to rows before `cutoffS` (undefined when none are). */
export function trimSignalBlock(block: SignalBlock, cutoffS: number | undefined): SignalBlock | undefined {
  if (cutoffS === undefined) return block;
  const limit = Math.max(0, Math.min(block.count, cutoffIndex(cutoffS, block.rateHz) - block.firstIndex));
  if (limit <= 0) return undefined;
  if (limit === block.count) return block;
  return {
    ...block, count: limit, values: block.values.map((v) => v.subarray(0, limit)),
    ...(block.phaseRad ? { phaseRad: block.phaseRad.map((v) => v.subarray(0, limit)) } : {}),
  };
}

/** `block` limited to samples before session index `limit`; undefined if none. */
export function trimRawBlock(block: RigBlock, limit: number): RigBlock | undefined {
  const n = Math.min(block.sampleCount, limit - block.sessionIndex);
  if (n <= 0) return undefined;
  if (n === block.sampleCount) return block;
  return { ...block, sampleCount: n, samples: block.samples.subarray(0, n * block.channelIds.length) as typeof block.samples };
}

/** `gap` limited to samples before session index `limit`; undefined if none. */
export function trimGap(gap: RigGap, limit: number): RigGap | undefined {
  const n = Math.min(gap.count, limit - gap.sessionIndex);
  if (n <= 0) return undefined;
  return n === gap.count ? gap : { ...gap, count: n };
}

/** `item` limited to samples before `cutoffS` (its source's rate `rateHz`). */
export function trimItem(item: AcquisitionItem, cutoffS: number | undefined, rateHz: number): AcquisitionItem | undefined {
  if (cutoffS === undefined || !(rateHz > 0) || item.kind === 'light') return item;
  const limit = cutoffIndex(cutoffS, rateHz);
  return item.kind === 'block' ? trimRawBlock(item, limit) : trimGap(item, limit);
}

/** The quality span a `lit` marker closes, limited to samples before `cutoffS`; undefined when none. */
export function qualitySpanOf(marker: RigLight, rateHz: number, cutoffS: number | undefined): SessionQualitySpan | undefined {
  const span = darkSpanOf(marker, rateHz, cutoffS === undefined ? Number.POSITIVE_INFINITY : cutoffIndex(cutoffS, rateHz));
  return span && {
    source: span.source, sessionIndex: span.sessionIndex, count: span.count, startS: span.startS, durationS: span.durationS,
    flag: 'leds-dark', cause: span.cause, label: span.label,
  };
}

export interface Timebase {
  /** Detector sample rate. */
  rateHz: number;
  /** Aux sample rate (0 without aux). */
  auxRateHz: number;
  /** Tick rate of DigitalEvent.subsample_ticks. */
  timerHz: number;
}

export function digitalEventTimeS(e: TimedDigitalEvent, tb: Timebase): number {
  return e.sessionIndex / tb.rateHz + e.subsampleTicks / (tb.timerHz || 1);
}

export interface ChannelStats {
  sum: number;
  n: number;
  min: number;
  max: number;
  last: number;
}

/**
 * Another file made from the signal blocks the writer writes (after its cutoff), e.g. the
 * analysis input (host/analysis/input-file.ts): composed by the caller, so recording code does
 * not depend on what the file holds.
 */
export interface DerivedOutput {
  signals(block: SignalBlock): void;
  /** Writes the file into `dir`; resolves with its name, or null when there is nothing to write. */
  close(dir: string): Promise<string | null>;
}

export class DerivedWriter {
  /** Gaps written, in order (for session.json). */
  readonly gaps: SessionGap[] = [];
  /** Flagged spans written, in order (for session.json). */
  readonly quality: SessionQualitySpan[] = [];
  /** Per signal channel statistics of the rows written. */
  readonly stats = new Map<string, ChannelStats>();
  rawDetectorSamples = 0;
  outputRateHz = 0;
  private cutoffS: number | undefined;
  private extent = 0;
  /** statsOf: the channel list last seen and its statistics in column order. */
  private statsChannels: SignalBlock['channels'] | undefined;
  private statsColumns: ChannelStats[] = [];

  /** Names of the other outputs' files, once closed. */
  private readonly outputFiles: string[] = [];

  private constructor(readonly files: SignalFiles, private readonly tb: Timebase, cutoffS: number | undefined, private readonly outputs: readonly DerivedOutput[]) {
    this.cutoffS = cutoffS;
  }

  /** `signalTables` false: no signals.csv and aux.csv (SignalFiles); the statistics and the other outputs are made alike. */
  static async create(dir: string, tb: Timebase, cutoffS?: number, timeOptions: TimeOptions = {}, outputs: readonly DerivedOutput[] = [], signalTables = true): Promise<DerivedWriter> {
    return new DerivedWriter(await SignalFiles.create(dir, timeOptions, signalTables), tb, cutoffS, outputs);
  }

  /** Names of every file written so far (the CSV files, then the other outputs' once closed). */
  get fileNames(): string[] {
    return [...this.files.files, ...this.outputFiles];
  }

  /** From now on only data before `cutoffS` is written (the live recorder sets it when it stops). */
  setCutoff(cutoffS: number): void {
    this.cutoffS = cutoffS;
  }

  /**
   * Session time just past everything written so far. A live run that stops
   * early uses it as its cutoff: nothing already written is cut, and an
   * offline re-run with the same cutoff writes the same rows.
   */
  get extentS(): number {
    return this.extent;
  }

  private extend(endS: number): void {
    if (endS > this.extent) this.extent = endS;
  }

  get cutoff(): number | undefined {
    return this.cutoffS;
  }

  get signalRows(): number {
    return this.files.signalRows;
  }

  item(input: AcquisitionItem): void {
    const rate = input.source === 'aux' ? this.tb.auxRateHz || this.tb.rateHz : this.tb.rateHz;
    const item = trimItem(input, this.cutoffS, rate);
    if (!item) return;
    if (item.kind === 'light') {
      const span = qualitySpanOf(item, this.tb.rateHz, this.cutoffS);
      if (!span) return;
      this.quality.push(span);
      this.files.writeQuality({ source: span.source, startS: span.startS, durationS: span.durationS, samples: span.count, flag: span.flag, label: span.label });
      return;
    }
    const count = item.kind === 'gap' ? item.count : item.sampleCount;
    this.extend((item.sessionIndex + count) / rate);
    if (item.kind === 'gap') {
      const gap: SessionGap = { source: item.source, sessionIndex: item.sessionIndex, count: item.count, startS: item.sessionIndex / rate, durationS: item.count / rate, reason: item.reason, estimated: item.estimated, uncertaintySamples: item.uncertaintySamples };
      this.gaps.push(gap);
      this.files.writeGap({ source: gap.source, startS: gap.startS, durationS: gap.durationS, samples: gap.count, reason: gap.reason, estimated: gap.estimated, uncertaintySamples: gap.uncertaintySamples ?? 0 });
      return;
    }
    if (item.source === 'detector') this.rawDetectorSamples += item.sampleCount;
  }

  signals(input: SignalBlock): void {
    const block = trimSignalBlock(input, this.cutoffS);
    if (!block) return;
    this.files.writeSignals(block);
    const outputs = this.outputs;
    for (let o = 0; o < outputs.length; o++) outputs[o]!.signals(block);
    this.extend((block.firstIndex + block.count) / block.rateHz);
    if (block.stream !== 'signals') return;
    this.outputRateHz = block.rateHz;
    const stats = this.statsOf(block.channels);
    for (let i = 0; i < stats.length; i++) {
      const st = stats[i]!;
      const values = block.values[i]!;
      for (let k = 0; k < block.count; k++) {
        const v = values[k]!;
        if (Number.isNaN(v)) continue;
        st.sum += v;
        st.n++;
        if (v < st.min) st.min = v;
        if (v > st.max) st.max = v;
        st.last = v;
      }
    }
  }

  /** The statistics of `channels` in column order (looked up in `stats` once per channel list). */
  private statsOf(channels: SignalBlock['channels']): ChannelStats[] {
    if (channels === this.statsChannels) return this.statsColumns;
    const columns: ChannelStats[] = [];
    for (const c of channels) {
      let st = this.stats.get(c.name);
      if (!st) this.stats.set(c.name, (st = { sum: 0, n: 0, min: Infinity, max: -Infinity, last: Number.NaN }));
      columns.push(st);
    }
    this.statsChannels = channels;
    this.statsColumns = columns;
    return columns;
  }

  digital(e: TimedDigitalEvent): void {
    const timeS = digitalEventTimeS(e, this.tb);
    if (this.cutoffS !== undefined && timeS >= this.cutoffS) return;
    this.extend(timeS + 1e-6);
    this.files.writeEvent({ timeS, kind: 'digital', line: e.line, value: e.edge === Edge.EDGE_RISING ? 'rising' : 'falling' });
  }

  led(e: TimedLedEvent): void {
    const timeS = e.sessionIndex / this.tb.rateHz;
    if (this.cutoffS !== undefined && timeS >= this.cutoffS) return;
    this.extend(timeS + 1e-6);
    this.files.writeEvent({ timeS, kind: 'led', line: e.channel, value: `${e.currentMa}mA` });
  }

  flush(): void {
    this.files.flush();
  }

  async close(): Promise<void> {
    await this.files.close();
    for (const output of this.outputs) {
      const name = await output.close(this.files.dir);
      if (name !== null) this.outputFiles.push(name);
    }
  }
}
