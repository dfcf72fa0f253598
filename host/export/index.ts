// `exportRecording`: one streaming pass over a recording's raw log into a
// file format other tools open (GuPPy, pMAT, NWB, a wide CSV).
import type { DemodOptions } from '../pipeline/demodulate.ts';
import { type ReplaySink, type ReplaySummary, replayRecording } from '../record/replay.ts';
import { EXPORT_FORMATS, ExportError, type ExportFormat, type GapPolicy, type ProgressCallback } from './common.ts';
import { AuxCsvSink } from './aux-csv.ts';
import { type ExportOutput, GuppySink, PmatSink, WideCsvSink } from './csv-formats.ts';
import { NwbSink } from './nwb.ts';

export { EXPORT_FORMATS, ExportError, type ExportFormat, type GapPolicy } from './common.ts';
export type { ExportOutput } from './csv-formats.ts';

export interface ExportOptions {
  /** Demodulation settings over the recording's own. */
  demod?: DemodOptions;
  /** CSV formats: NaN rows for gaps (default) or leave them out. NWB always uses NaN. */
  gaps?: GapPolicy;
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

export function parseFormat(text: string): ExportFormat {
  if ((EXPORT_FORMATS as readonly string[]).includes(text)) return text as ExportFormat;
  throw new ExportError('E_EXPORT_FORMAT', `unknown export format "${text}"`, `use one of ${EXPORT_FORMATS.join(', ')}`);
}

/** Exports the recording at `path` (directory or raw log) to `out` (a directory for guppy/pmat, a file for nwb/csv). */
export async function exportRecording(path: string, format: ExportFormat, out: string, options: ExportOptions = {}): Promise<ExportResult> {
  const timeOptions = { delayCompensation: options.delayCompensation ?? true };
  const csvOptions = { ...timeOptions, ...(options.gaps ? { gaps: options.gaps } : {}) };
  let sink: ReplaySink & { output: ExportOutput };
  switch (format) {
    case 'guppy': sink = new GuppySink(out, csvOptions); break;
    case 'pmat': sink = new PmatSink(out, csvOptions); break;
    case 'csv': sink = new WideCsvSink(out, csvOptions); break;
    case 'nwb': sink = new NwbSink(out, timeOptions); break;
  }
  // EEG/EMG in volts at the electrode: their own files for guppy and csv (aux-csv.ts), inside the NWB file
  const aux = new AuxCsvSink(format === 'guppy' || format === 'csv' ? format : 'none', out, csvOptions);
  const summary = await replayRecording(path, [sink, aux], {
    ...(options.demod ? { demod: options.demod } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  if (sink.output.files.length === 0) {
    throw new ExportError('E_EXPORT_EMPTY', 'the recording holds no samples to export', 'check it with fiberrig inspect: the acquisition may have failed before data arrived');
  }
  return { format, summary, files: [...sink.output.files, ...aux.output.files], rows: sink.output.rows, warnings: aux.warnings };
}
