// One unit: the row-time function, gap segmenter and metadata file every CSV export must agree on.
// What the CSV-family exports (GuPPy, pMAT, wide CSV) share: the one function
// that turns an output row into a time, the segmenter that decides which rows
// a gap policy keeps, the quality-span file, and the machine-readable metadata
// file every CSV export writes (units, rates, delays, time base, gap policy,
// segments and omitted spans, versions, source recording).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import type { SignalBlock, SignalChannel } from '../pipeline/demodulate.ts';
import type { ReplayContext, ReplaySummary } from '../record/replay.ts';
import type { SessionQualitySpan } from '../record/session.ts';
import { TextFileWriter } from '../record/text-file.ts';
import { FIBERRIG_VERSION } from '../record/version.ts';
import { ExportError, type GapPolicy, type TimeOptions } from './common.ts';
import type { GroupAxis } from './group-axis.ts';
import { compensatesDelay, signalTimeS, timeShiftS } from '../pipeline/time.ts';

export interface CsvExportOptions extends TimeOptions {
  /** Default: `segments` for guppy and pmat, `nan` for the wide CSV. */
  gaps?: GapPolicy;
  /** With `segments`: gap-free spans shorter than this are left out (and listed). Default 1 s. */
  minSegmentS?: number;
}

/** Files written by an export, for its report. */
export interface ExportOutput {
  files: string[];
  rows: number;
}

export const DEFAULT_MIN_SEGMENT_S = 1;

/** Rows a kept segment needs at `rateHz` (at least one): `minSegmentS` (default 1 s) of output. */
export function minSegmentRows(options: CsvExportOptions, rateHz: number): number {
  return Math.max(1, Math.ceil((options.minSegmentS ?? DEFAULT_MIN_SEGMENT_S) * rateHz));
}

/**
 * Export time (s) of output row `k` of `block`: the one place the CSV formats compute a row's
 * time. The device clock (session output index / output rate), minus the first channel's filter
 * delay unless delay compensation is off (host/pipeline/time.ts). Channels whose delay differs (time division)
 * get their own times from `formatSignalTime` (host/pipeline/time.ts).
 */
export function rowTimeS(block: SignalBlock, k: number, options: TimeOptions): number {
  const first = block.channels[0];
  return first ? signalTimeS(block.firstIndex + k, block.rateHz, first, options) : (block.firstIndex + k) / block.rateHz;
}

export function requireSignals(ctx: ReplayContext): void {
  if (ctx.signalChannels.length === 0) throw new ExportError('E_EXPORT_NO_SIGNALS', 'the recording has no demodulated channels', 'check the recording configuration (fiberrig inspect)');
}

/**
 * Writes flagged spans to a `start_s,stop_s,flag,label` CSV, opened at the first span; a recording
 * aligned with its group adds `group_start_s,group_stop_s` (the span on the group's axis).
 */
export class QualityFile {
  private out: TextFileWriter | undefined;
  private axis: GroupAxis | null = null;

  constructor(private readonly path: string, private readonly output: ExportOutput) {}

  /** The recording's group axis (from begin(), before any span). */
  onAxis(axis: GroupAxis | null): void {
    this.axis = axis;
  }

  write(span: SessionQualitySpan): void {
    if (!this.out) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.out = new TextFileWriter(this.path);
      this.out.write(`start_s,stop_s,flag,label${this.axis ? ',group_start_s,group_stop_s' : ''}\n`);
      this.output.files.push(this.path);
    }
    const stopS = span.startS + span.durationS;
    const group = this.axis ? `,${this.axis.text(span.startS)},${this.axis.text(stopS)}` : '';
    this.out.write(`${span.startS.toFixed(6)},${stopS.toFixed(6)},${span.flag},${span.label}${group}\n`);
  }

  close(): void {
    this.out?.close();
  }
}

/** A run of exported rows: consecutive output indices with every channel finite (`segments`), or everything kept (`omit`). */
export interface SegmentRecord {
  /** Directory (guppy, pmat) the segment's files are in, relative to the export. */
  name: string;
  firstOutputIndex: number;
  /** Output index after the last row. */
  endOutputIndex: number;
  rows: number;
  firstTimeS: number;
  lastTimeS: number;
}

/** Output rows not exported, and why. */
export interface OmittedSpan {
  firstOutputIndex: number;
  endOutputIndex: number;
  /** On the rows' time base (delay-compensated like the rows when they are). */
  startS: number;
  stopS: number;
  rows: number;
  /** "gap (reconnect)", "LEDs dark: watchdog", "filter settling", "segment shorter than 1 s", ... */
  causes: string[];
}

export interface SegmenterEvents {
  /** A segment starts with the row at output index `index`; return its name. */
  open(index: number): string;
  /** The segment ended; `keep` false: it is shorter than the minimum and its files must go. */
  close(segment: SegmentRecord, keep: boolean): void;
}

/**
 * Decides, row by row, which output rows a gap policy keeps: `nan` keeps all; `omit` keeps rows
 * with every channel finite, in one run; `segments` starts a new run after every non-finite row
 * and drops runs shorter than `minRows` (listed as omitted).
 */
export class Segmenter {
  readonly segments: SegmentRecord[] = [];
  readonly omitted: OmittedSpan[] = [];
  private current: SegmentRecord | undefined;
  private omitFrom: number | undefined;
  private shortSpans: Array<{ first: number; end: number }> = [];
  private nextIndex = 0;
  private rateHz = 0;
  /** Seconds the rows' times are shifted from output times (the first channel's delay when compensating). */
  private shiftS = 0;

  constructor(
    private readonly policy: GapPolicy,
    private readonly minRows: number,
    private readonly events: SegmenterEvents,
    /** How rows' exported times are made (`rowTimeS`). */
    private readonly timeOptions: TimeOptions,
  ) {}

  /** Whether row `k` of `block` is written; call for every row in order. Opens and closes segments. */
  keep(block: SignalBlock, k: number): boolean {
    this.rateHz = block.rateHz;
    this.shiftS = block.channels[0] ? timeShiftS(block.channels[0], this.timeOptions) : 0;
    const index = block.firstIndex + k;
    if (index < this.nextIndex) return false; // never twice
    if (index > this.nextIndex) this.missing(this.nextIndex);
    this.nextIndex = index + 1;
    const finite = this.policy === 'nan' || block.values.every((v) => Number.isFinite(v[k]!));
    if (!finite) {
      this.missing(index);
      return false;
    }
    if (this.omitFrom !== undefined) this.closeOmitted(index);
    const t = rowTimeS(block, k, this.timeOptions);
    if (!this.current) {
      const name = this.events.open(index);
      this.current = { name, firstOutputIndex: index, endOutputIndex: index, rows: 0, firstTimeS: t, lastTimeS: t };
    }
    this.current.endOutputIndex = index + 1;
    this.current.rows++;
    this.current.lastTimeS = t;
    return true;
  }

  /** Closes the open segment (end of the export). */
  finish(): void {
    this.closeSegment();
    if (this.omitFrom !== undefined) this.closeOmitted(this.nextIndex);
  }

  /** Rows from `from` on are not exported (NaN or never produced) until the next kept row. */
  private missing(from: number): void {
    if (this.policy === 'segments') this.closeSegment();
    this.omitFrom ??= from;
  }

  private closeSegment(): void {
    const s = this.current;
    if (!s) return;
    this.current = undefined;
    const keep = this.policy !== 'segments' || s.rows >= this.minRows;
    this.events.close(s, keep);
    if (keep) {
      this.segments.push(s);
      return;
    }
    this.shortSpans.push({ first: s.firstOutputIndex, end: s.endOutputIndex });
    // one omitted span from the end of the last kept segment
    const last = this.omitted.at(-1);
    if (last && last.endOutputIndex === s.firstOutputIndex) {
      this.omitted.pop();
      this.omitFrom = last.firstOutputIndex;
      if (last.causes.includes('short segment')) this.shortSpans.push({ first: last.firstOutputIndex, end: last.endOutputIndex });
    } else this.omitFrom ??= s.firstOutputIndex;
  }

  private closeOmitted(end: number): void {
    const from = this.omitFrom!;
    this.omitFrom = undefined;
    if (end <= from) return;
    const rate = this.rateHz || 1;
    const short = this.shortSpans.some((s) => s.first >= from && s.first < end);
    this.shortSpans = [];
    this.omitted.push({ firstOutputIndex: from, endOutputIndex: end, startS: from / rate - this.shiftS, stopS: end / rate - this.shiftS, rows: end - from, causes: short ? ['short segment'] : [] });
  }
}

/** Names the causes of each omitted span from the gap records and quality spans that overlap it (one ordered pass). */
export function explainOmitted(omitted: OmittedSpan[], summary: ReplaySummary, minSegmentS: number): void {
  const disruptions = [
    ...summary.gaps.filter((g) => g.source === 'detector').map((g) => ({ startS: g.startS, stopS: g.startS + g.durationS, cause: `gap (${g.reason})` })),
    ...summary.quality.map((q) => ({ startS: q.startS, stopS: q.startS + q.durationS, cause: q.label })),
  ].sort((a, b) => a.startS - b.startS);
  // spans come in time order: disruptions[0, from) all end before the current span starts
  let from = 0;
  let endedTo = Number.NEGATIVE_INFINITY; // latest end among disruptions[0, from]
  for (const span of omitted) {
    while (from < disruptions.length && Math.max(endedTo, disruptions[from]!.stopS) <= span.startS) {
      endedTo = Math.max(endedTo, disruptions[from]!.stopS);
      from++;
    }
    const causes: string[] = [];
    let coveredTo = span.startS;
    for (let i = from; i < disruptions.length && disruptions[i]!.startS < span.stopS; i++) {
      const d = disruptions[i]!;
      if (d.stopS <= span.startS) continue;
      causes.push(d.cause);
      coveredTo = Math.max(coveredTo, d.stopS);
    }
    if (span.causes.includes('short segment')) causes.push(`gap-free span shorter than ${minSegmentS} s`);
    // what the gaps and dark spans do not cover: the lock-in filters settling (after the start, a gap or light back)
    if (coveredTo < span.stopS - 1e-9) causes.push('filter settling');
    span.causes = [...new Set(causes)];
  }
}

/** How a column's values convert to physical units. */
export interface ColumnUnits {
  /** Column (wide CSV) or file (guppy, pmat) that holds the channel. */
  column: string;
  channel: string;
  source: string;
  detector?: number;
  auxInput?: number;
  ledChannel?: number;
  wavelengthNm?: number;
  carrierHz?: number;
  /** What the numbers are: demodulated amplitude in ADC codes of the input. */
  unit: 'adc-code';
  /** volts = value x voltsPerCode (at the ADC input). */
  voltsPerCode: number;
  /** The channel's filter group delay (s) and whether its times were moved back by it. */
  groupDelayS: number;
  timesDelayCompensated: boolean;
}

export function channelUnits(c: SignalChannel, column: string, options: TimeOptions): ColumnUnits {
  const compensated = compensatesDelay(options);
  return {
    column, channel: c.name, source: c.source,
    ...(c.source === 'detector' ? { detector: c.inputId } : { auxInput: c.inputId }),
    ...(c.ledChannel !== undefined ? { ledChannel: c.ledChannel } : {}),
    ...(c.wavelengthNm !== undefined ? { wavelengthNm: c.wavelengthNm } : {}),
    ...(c.carrierHz !== undefined ? { carrierHz: c.carrierHz } : {}),
    unit: 'adc-code', voltsPerCode: c.voltsPerCode, groupDelayS: c.groupDelayS, timesDelayCompensated: compensated,
  };
}

export const GAP_POLICY_TEXT: Record<GapPolicy, string> = {
  segments: 'every gap-free span of rows (all channels finite) is its own segment with its own files; rows that are NaN (gaps, filter settling, LEDs dark) are in no file and listed in "omitted"',
  omit: 'rows with a NaN channel are left out; later rows keep their true device times (the time column jumps over each omitted span)',
  nan: 'one row per output sample on a regular grid; NaN where samples never arrived, while the filters settle, or while every LED was dark',
};

export interface ExportMetadataInput {
  exportFormat: string;
  /** Directory the metadata file is in: file and segment paths are relative to it. */
  baseDir: string;
  ctx: ReplayContext;
  summary: ReplaySummary;
  options: TimeOptions;
  gapPolicy: GapPolicy;
  minSegmentS?: number;
  columns: ColumnUnits[];
  segments: SegmentRecord[];
  omitted: OmittedSpan[];
  files: string[];
  /** Format-specific additions (pMAT pairs, GuPPy file roles, digital columns, events outside segments). */
  extra?: Record<string, unknown>;
}

export const EXPORT_METADATA_FORMAT = 'fiberrig-export';
export const EXPORT_METADATA_VERSION = 1;

/** Host time (µs) of session index 0: the heartbeat clock fit, else when Start was sent. */
export function sessionStartUs(ctx: ReplayContext, summary: ReplaySummary): number {
  return summary.clock?.offsetUs ?? (ctx.startHostTimeUs || ctx.header.hostStartTimeUs);
}

/** The metadata document every CSV-family export writes (README: "Metadata"). */
export function exportMetadata(m: ExportMetadataInput): Record<string, unknown> {
  const { ctx, summary } = m;
  const startUs = sessionStartUs(ctx, summary);
  const compensated = compensatesDelay(m.options);
  return {
    format: EXPORT_METADATA_FORMAT,
    formatVersion: EXPORT_METADATA_VERSION,
    exportFormat: m.exportFormat,
    exportedWith: { fiberrig: FIBERRIG_VERSION, at: new Date().toISOString() },
    source: {
      recording: basename(ctx.dir),
      rawLog: basename(ctx.rawLogPath),
      recordedWith: { fiberrig: ctx.header.fiberrigVersion, ...(ctx.session ? { protocol: ctx.session.software.protocol } : {}) },
      subject: ctx.session?.subject ?? null,
      device: { firmware: `${ctx.info.firmwareName} ${ctx.info.firmwareVersion}`, board: ctx.info.boardModel, serial: ctx.info.serialNumber },
    },
    timeBase: {
      clock: 'device sample clock',
      unit: 's',
      zero: 'session sample index 0 (the first sample of the recording)',
      sessionStartIso: startUs > 0 ? new Date(startUs / 1000).toISOString() : null,
      sessionStartFrom: summary.clock ? 'heartbeat clock fit' : 'host time when Start was sent',
      detectorRateHz: ctx.timebase.rateHz,
      outputRateHz: ctx.signalRateHz,
      delayCompensation: compensated,
      delayNote: compensated
        ? 'signal times are when the light was measured: output time minus each channel\'s groupDelayS'
        : 'signal times are raw filter-output times; subtract each channel\'s groupDelayS to get when the light was measured',
      digitalEvents: 'edge times on the device clock (sample index / rate + sub-sample timer ticks); never delay-shifted',
    },
    columns: m.columns,
    gapPolicy: {
      policy: m.gapPolicy,
      meaning: GAP_POLICY_TEXT[m.gapPolicy],
      ...(m.gapPolicy === 'segments' ? { minSegmentS: m.minSegmentS ?? DEFAULT_MIN_SEGMENT_S } : {}),
    },
    segments: m.segments,
    omitted: m.omitted,
    gaps: summary.gaps.map((g) => ({ source: g.source, startS: g.startS, stopS: g.startS + g.durationS, samples: g.count, reason: g.reason, estimated: g.estimated, uncertaintySamples: g.uncertaintySamples ?? 0 })),
    gapCount: summary.gapCount,
    quality: summary.quality.map((q) => ({ startS: q.startS, stopS: q.startS + q.durationS, flag: q.flag, cause: q.cause, label: q.label })),
    files: m.files.map((f) => relative(m.baseDir, f)),
    ...(m.extra ?? {}),
  };
}

export function writeMetadata(path: string, doc: Record<string, unknown>, output: ExportOutput): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
  output.files.push(path);
}

/** The policy a format uses: its default when none is asked for; NaN cells refused where the reader cannot take them. */
export function csvGapPolicy(format: 'guppy' | 'pmat' | 'csv', requested: GapPolicy | undefined): GapPolicy {
  const policy = requested ?? (format === 'csv' ? 'nan' : 'segments');
  if (policy === 'nan' && format !== 'csv') {
    const reader = format === 'guppy' ? 'GuPPy drops NaN cells column by column, which misaligns data and timestamps' : 'pMAT fits and smooths whole columns, and a NaN row poisons them';
    throw new ExportError('E_EXPORT_GAPS', `--gaps nan cannot be read by ${format === 'guppy' ? 'GuPPy' : 'pMAT'}: ${reader}`, 'use --gaps segments (default) or --gaps omit, or --format csv for NaN rows');
  }
  if (policy === 'segments' && format === 'csv') {
    throw new ExportError('E_EXPORT_GAPS', 'the wide CSV is one file: it has no segments', 'use --gaps nan (default) or --gaps omit, or --format guppy/pmat for one file set per gap-free span');
  }
  return policy;
}

/** The files of one segment directory (guppy, pmat): opened together, closed together, removed together. */
export class SegmentDir {
  readonly files = new Map<string, TextFileWriter>();

  constructor(readonly dir: string, private readonly output: ExportOutput) {
    mkdirSync(dir, { recursive: true });
  }

  open(name: string, header: string): TextFileWriter {
    const f = new TextFileWriter(join(this.dir, name));
    f.write(`${header}\n`);
    this.files.set(name, f);
    this.output.files.push(f.path);
    return f;
  }

  close(): void {
    for (const f of this.files.values()) f.close();
  }

  /** Closes and deletes the directory's files (a segment too short to keep). */
  remove(): void {
    this.close();
    const paths = new Set([...this.files.values()].map((f) => f.path));
    for (const p of paths) rmSync(p, { force: true });
    this.output.files = this.output.files.filter((p) => !paths.has(p));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Name of segment number `n` (1-based): segment_001, ... */
export function segmentName(n: number): string {
  return `segment_${String(n).padStart(3, '0')}`;
}

/** The kept segment whose rows cover time `t` (from its first row to one output period after its last). */
export function segmentAt(segments: readonly SegmentRecord[], t: number, rateHz: number): SegmentRecord | undefined {
  return segments.find((s) => t >= s.firstTimeS && t < s.lastTimeS + 1 / rateHz);
}

/**
 * The segment folders of a guppy/pmat export: a `Segmenter` whose segments each get a `SegmentDir`
 * (`segment_001`, ... or `gaps_omitted`); a segment too short to keep has its folder removed and its
 * rows taken back from `output.rows`.
 */
export class SegmentFolders {
  readonly segmenter: Segmenter;
  /** Kept segments' folders by segment name (closed; reopen files with `open`). */
  readonly dirs = new Map<string, SegmentDir>();
  private current: SegmentDir | undefined;
  private kept = 0;

  constructor(
    out: string,
    policy: GapPolicy,
    minRows: number,
    output: ExportOutput,
    timeOptions: TimeOptions,
    /** Open the segment's data files in `dir`. */
    onOpen: (dir: SegmentDir) => void,
    /** Hand buffered rows to the open segment's files before it closes. */
    beforeClose: () => void,
  ) {
    this.segmenter = new Segmenter(policy, minRows, {
      open: () => {
        const name = policy === 'segments' ? segmentName(this.kept + 1) : 'gaps_omitted';
        this.current = new SegmentDir(join(out, name), output);
        onOpen(this.current);
        return name;
      },
      close: (segment, keep) => {
        beforeClose();
        const dir = this.current!;
        this.current = undefined;
        if (!keep) {
          dir.remove();
          output.rows -= segment.rows;
          return;
        }
        this.kept++;
        dir.close();
        this.dirs.set(segment.name, dir);
      },
    }, timeOptions);
  }
}
