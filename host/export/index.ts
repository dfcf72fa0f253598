// `exportRecording`: one streaming pass over a recording's raw log into a
// file format other tools open (GuPPy, pMAT, NWB, a wide CSV).
import type { DemodOptions } from '../pipeline/demodulate.ts';
import { type ReplaySink, type ReplaySummary, replayRecording } from '../record/replay.ts';
import { AuxCsvSink } from './aux-csv.ts';
import { EXPORT_FORMATS, ExportError, type ExportFormat, GAP_POLICIES, type GapPolicy, type ProgressCallback } from './common.ts';
import { csvGapPolicy, type ExportOutput, GuppySink, PmatSink, WideCsvSink } from './csv-formats.ts';
import { NwbSink } from './nwb.ts';
import { compensatesDelay } from '../pipeline/time.ts';

export { EXPORT_FORMATS, ExportError, type ExportFormat, GAP_POLICIES, type GapPolicy } from './common.ts';
export type { ExportOutput } from './csv-formats.ts';

export interface ExportOptions {
  /** Demodulation settings over the recording's own. */
  demod?: DemodOptions;
  /**
   * CSV formats: `segments` (guppy and pmat default: one file set per gap-free span), `omit` (rows
   * without a value left out), `nan` (wide CSV default: NaN rows). NWB always uses NaN.
   */
  gaps?: GapPolicy;
  /** guppy and pmat with `segments`: gap-free spans shorter than this (s) are left out and listed. Default 1. */
  minSegmentS?: number;
  /** Signal times compensated for the filters' group delay (default true); see `TimeOptions`. */
  delayCompensation?: boolean;
  onProgress?: ProgressCallback;
}

export interface ExportResult extends ExportOutput {
  format: ExportFormat;
  summary: ReplaySummary;
  /** What a reader must know about the files, e.g. aux values in volts at the ADC input (a device that did not report its gain). */
  warnings: string[];
}

/** The gap policy `format` uses for `requested` (undefined: the format's default); throws E_EXPORT_GAPS for one it cannot take. */
export function gapPolicyFor(format: ExportFormat, requested: string | undefined): GapPolicy {
  if (requested !== undefined && !(GAP_POLICIES as readonly string[]).includes(requested)) {
    throw new ExportError('E_EXPORT_GAPS', `unknown gap policy "${requested}"`, `use one of ${GAP_POLICIES.join(', ')}`);
  }
  const policy = requested as GapPolicy | undefined;
  if (format === 'nwb') {
    if (policy !== undefined && policy !== 'nan') throw new ExportError('E_EXPORT_GAPS', 'NWB series are regular: gaps are always NaN', 'leave out --gaps for NWB');
    return 'nan';
  }
  return csvGapPolicy(format, policy);
}

export function parseFormat(text: string): ExportFormat {
  if ((EXPORT_FORMATS as readonly string[]).includes(text)) return text as ExportFormat;
  throw new ExportError('E_EXPORT_FORMAT', `unknown export format "${text}"`, `use one of ${EXPORT_FORMATS.join(', ')}`);
}

/** Exports the recording at `path` (directory or raw log) to `out` (a directory for guppy/pmat, a file for nwb/csv). */
export async function exportRecording(path: string, format: ExportFormat, out: string, options: ExportOptions = {}): Promise<ExportResult> {
  const timeOptions = { delayCompensation: compensatesDelay(options) };
  const csvOptions = {
    ...timeOptions, gaps: gapPolicyFor(format, options.gaps), ...(options.minSegmentS !== undefined ? { minSegmentS: options.minSegmentS } : {}),
  };
  let sink: ReplaySink & { output: ExportOutput };
  switch (format) {
    case 'guppy': sink = new GuppySink(out, csvOptions); break;
    case 'pmat': sink = new PmatSink(out, csvOptions); break;
    case 'csv': sink = new WideCsvSink(out, csvOptions); break;
    case 'nwb': sink = new NwbSink(out, timeOptions); break;
  }
  // EEG/EMG in volts at the electrode: their own files for guppy and csv (aux-csv.ts), inside the NWB file
  const aux = new AuxCsvSink(format === 'guppy' || format === 'csv' ? format : 'none', out, csvOptions);
  // the aux files open at begin(), so they are known when the format's sink writes its metadata at end()
  if (sink instanceof GuppySink || sink instanceof WideCsvSink) sink.alsoWritten = aux.output;
  const summary = await replayRecording(path, [sink, aux], {
    ...(options.demod ? { demod: options.demod } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  if (sink.output.files.length === 0) {
    throw new ExportError('E_EXPORT_EMPTY', 'the recording holds no samples to export', 'check it with fiberrig inspect: the acquisition may have failed before data arrived');
  }
  return { format, summary, files: [...sink.output.files, ...aux.output.files], rows: sink.output.rows, warnings: aux.warnings };
}
