// `fiberrig export --in RECORDING --format guppy|pmat|nwb|csv --out PATH`:
// one streaming pass over the raw log; progress on stderr, a summary on stdout.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { FiberrigError } from '../../../protocol/index.ts';
import { exportRecording, gapPolicyFor, parseFormat } from '../../export/index.ts';
import type { DemodOptions } from '../../pipeline/demodulate.ts';
import type { CliIo, Runner } from '../main.ts';

/** A stderr progress line at most twice a second (none when quiet). */
export function progressPrinter(io: CliIo, label: string, quiet: boolean): ((position: number, total: number) => void) | undefined {
  if (quiet) return undefined;
  const started = performance.now();
  let last = -Infinity;
  return (position, total) => {
    const now = performance.now();
    if (now - last < 500 && position < total) return;
    last = now;
    const mb = (n: number): string => (n / 1e6).toFixed(1);
    const rate = position / 1e6 / Math.max((now - started) / 1000, 1e-3);
    io.stderr.write(`${label}: ${total > 0 ? ((100 * position) / total).toFixed(0) : 100}% (${mb(position)} of ${mb(total)} MB of raw log, ${rate.toFixed(1)} MB/s)\n`);
  };
}

export function positiveNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0) throw new FiberrigError('E_USAGE', `${flag} "${text}" is not a positive number`, `e.g. ${flag} 100`);
  return v;
}

export function demodOverrides(opts: { lowpass?: string; rate?: string; auxRate?: string }): DemodOptions {
  const lowpassHz = positiveNumber('--lowpass', opts.lowpass);
  const outputRateHz = positiveNumber('--rate', opts.rate);
  const auxOutputRateHz = positiveNumber('--aux-rate', opts.auxRate);
  return {
    ...(lowpassHz !== undefined ? { lowpassHz } : {}),
    ...(outputRateHz !== undefined ? { outputRateHz } : {}),
    ...(auxOutputRateHz !== undefined ? { auxOutputRateHz } : {}),
  };
}

export interface ExportCliOptions {
  in: string;
  format: string;
  out: string;
  gaps?: string;
  lowpass?: string;
  rate?: string;
  /** commander's negation of --no-delay-compensation */
  delayCompensation?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export async function exportCommand(io: CliIo, opts: ExportCliOptions): Promise<number> {
  const format = parseFormat(opts.format);
  const gaps = gapPolicyFor(format, opts.gaps);
  const started = performance.now();
  const onProgress = progressPrinter(io, `export ${format}`, Boolean(opts.quiet));
  const result = await exportRecording(resolve(opts.in), format, resolve(opts.out), {
    demod: demodOverrides(opts), gaps, delayCompensation: opts.delayCompensation ?? true, ...(onProgress ? { onProgress } : {}),
  });
  const seconds = (performance.now() - started) / 1000;
  for (const w of result.warnings) io.stderr.write(`warning: ${w}\n`);
  const report = {
    format, files: result.files, rows: result.rows, seconds, rawLogBytes: result.summary.rawLog.fileBytes,
    detectorSamples: result.summary.detectorSamples, gaps: result.summary.gapCount, tornTailBytes: result.summary.rawLog.tornTailBytes,
    warnings: result.warnings,
  };
  if (opts.json) io.stdout.write(`${JSON.stringify(report)}\n`);
  else io.stdout.write(`exported ${format}: ${result.files.length} file(s), ${result.rows} rows, ${result.summary.gapCount} gaps, in ${seconds.toFixed(1)} s\n${result.files.map((f) => `  ${f}\n`).join('')}`);
  return 0;
}

export function define(command: Command, io: CliIo, run: Runner): void {
  command
    .description('export a recording for other tools: guppy (CSV per channel), pmat (time/signal/control CSV), nwb (NWB 2 with ndx-fiber-photometry), csv (one wide CSV)')
    .requiredOption('--in <recording>', 'recording directory (or its raw.fjl)')
    .requiredOption('--format <format>', 'guppy | pmat | nwb | csv')
    .requiredOption('--out <path>', 'a directory for guppy and pmat, a file for nwb and csv')
    .option('--gaps <policy>', 'segments (guppy/pmat default: one file set per gap-free span), omit (leave rows without a value out; times stay on the device clock) or nan (csv default: NaN rows)')
    .option('--lowpass <hz>', 'demodulate with this low-pass instead of the recording\'s')
    .option('--rate <hz>', 'demodulated output rate instead of the recording\'s')
    .option('--no-delay-compensation', 'write filter-output times: do not subtract each channel\'s filter delay from its signal times (the delay is then recorded in the export\'s metadata)')
    .option('--json', 'print a JSON summary on stdout')
    .option('--quiet', 'no progress on stderr')
    .action((opts: ExportCliOptions) => run(() => exportCommand(io, opts))());
}
