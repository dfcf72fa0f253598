// `fiberrig analyze REC [--out DIR]`: corrected signals, sleep, NE oscillation → analysis.json,
// CSV tables and report.html in DIR (default REC/analysis), written all or nothing. stdout: a
// summary (or --json); stderr: progress and what could not be computed.
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { FiberrigError } from '../../../protocol/index.ts';
import { analyzeRecording, type AnalyzeOptions, writeAnalysis } from '../../analysis/analyze/index.ts';
import { type AbsorptionTable, CORRECTION_METHODS, type CorrectionMethod } from '../../analysis/correct.ts';
import { flagOrPositional } from '../arguments.ts';
import type { CliIo, Runner } from '../main.ts';
import { positiveNumber } from './export.ts';

export interface AnalyzeCliOptions {
  out?: string;
  method?: string;
  hypnogram?: string;
  absorption?: string;
  epochS?: string;
  rate?: string;
  /** commander's negation of --no-traces */
  traces?: boolean;
  json?: boolean;
  quiet?: boolean;
}

function parseMethod(text: string | undefined): CorrectionMethod | undefined {
  if (text === undefined) return undefined;
  if (!(CORRECTION_METHODS as readonly string[]).includes(text)) {
    throw new FiberrigError('E_USAGE', `--method "${text}" is not a correction method`, `use one of ${CORRECTION_METHODS.join(', ')}`);
  }
  return text as CorrectionMethod;
}

async function readHypnogram(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(resolve(path), 'utf8');
  } catch (e) {
    throw new FiberrigError('E_USAGE', `--hypnogram ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, 'give a CSV of epoch states (see host/analysis/sleep/README.md, "Hypnogram CSV")');
  }
}

/** --absorption FILE: JSON rows [wavelengthNm, coefficient], sorted by wavelength (checked again by absorptionAt). */
async function readAbsorption(path: string | undefined): Promise<AbsorptionTable | undefined> {
  if (path === undefined) return undefined;
  const hint = 'give a JSON array of [wavelengthNm, coefficient] rows, e.g. [[405, 2.1], [470, 0.9], [560, 1.6]] (relative blood absorption; the scale is fitted)';
  let rows: unknown;
  try {
    rows = JSON.parse(await readFile(resolve(path), 'utf8'));
  } catch (e) {
    throw new FiberrigError('E_USAGE', `--absorption ${path} cannot be read as JSON (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, hint);
  }
  if (!Array.isArray(rows) || rows.length === 0 || !rows.every((r) => Array.isArray(r) && r.length === 2 && r.every((v) => typeof v === 'number' && Number.isFinite(v)))) {
    throw new FiberrigError('E_USAGE', `--absorption ${path} is not a list of [wavelengthNm, coefficient] rows`, hint);
  }
  return rows as Array<[number, number]>;
}

export async function analyzeCommand(io: CliIo, recording: string, opts: AnalyzeCliOptions): Promise<number> {
  const rec = resolve(recording);
  const method = parseMethod(opts.method);
  const epochS = positiveNumber('--epoch-s', opts.epochS);
  const analysisRateHz = positiveNumber('--rate', opts.rate);
  const hypnogramCsv = await readHypnogram(opts.hypnogram);
  const absorption = await readAbsorption(opts.absorption);
  const recIsFile = await stat(rec).then((s) => s.isFile(), () => false);
  const out = resolve(opts.out ?? join(recIsFile ? dirname(rec) : rec, 'analysis'));
  const options: AnalyzeOptions = {
    ...(method ? { method } : {}),
    ...(epochS !== undefined ? { epochS } : {}),
    ...(analysisRateHz !== undefined ? { analysisRateHz } : {}),
    ...(hypnogramCsv !== undefined ? { hypnogramCsv } : {}),
    ...(absorption ? { absorption } : {}),
  };
  const say = (line: string): void => { if (!opts.quiet) io.stderr.write(`analyze: ${line}\n`); };
  const started = performance.now();
  say(`reading ${rec}`);
  const analysis = await analyzeRecording(rec, options);
  for (const u of analysis.unavailable) io.stderr.write(`analyze: not computed (${u.part}, ${u.code}): ${u.reason}\n`);
  say(`writing ${out}`);
  const written = await writeAnalysis(analysis, out, { traces: opts.traces ?? true });
  const seconds = (performance.now() - started) / 1000;
  const s = analysis.oscillation?.summary;
  const summary = {
    recording: analysis.recording,
    out: written.dir,
    files: written.files,
    durationS: analysis.durationS,
    correction: analysis.correction?.method ?? null,
    hypnogram: analysis.sleep?.source ?? null,
    epochs: analysis.sleep?.states.length ?? 0,
    microArousals: analysis.sleep?.microArousals.length ?? 0,
    bouts: s?.bouts ?? 0,
    peakFrequencyHz: s && Number.isFinite(s.peakFrequencyHz) ? s.peakFrequencyHz : null,
    cycleAmplitudePct: s && Number.isFinite(s.cycleAmplitudePct) ? s.cycleAmplitudePct : null,
    neBloodVolumeLagS: s && Number.isFinite(s.neBloodVolumeLagS) ? s.neBloodVolumeLagS : null,
    unavailable: analysis.unavailable,
    seconds,
  };
  if (opts.json) {
    io.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    const f = (v: number | null, unit: string): string => (v === null ? '—' : `${Number(v.toPrecision(3))} ${unit}`);
    io.stdout.write(`analysed ${(analysis.durationS / 60).toFixed(1)} min in ${seconds.toFixed(1)} s: correction ${summary.correction ?? 'none'}, `
      + `${summary.hypnogram ? `${summary.hypnogram} hypnogram (${summary.epochs} epochs, ${summary.microArousals} micro-arousals)` : 'no hypnogram'}, `
      + `${summary.bouts} NREM bouts, NE peak ${f(summary.peakFrequencyHz, 'Hz')}, cycle amplitude ${f(summary.cycleAmplitudePct, '%')}, NE→blood-volume lag ${f(summary.neBloodVolumeLagS, 's')}\n`
      + `${analysis.unavailable.length ? `${analysis.unavailable.length} part(s) not computed (listed in analysis.json and the report)\n` : ''}`
      + `${written.dir}\n${written.files.map((x) => `  ${x}\n`).join('')}`);
  }
  return 0;
}

export function define(command: Command, io: CliIo, run: Runner): void {
  command
    .description('analyse a recording: corrected ΔF/F, sleep scoring, NE oscillation → analysis.json, CSV tables and report.html')
    .argument('[recording]', 'recording directory (or its raw.fjl); the same as --in')
    .option('--in <recording>', 'recording directory (or its raw.fjl)')
    .option('--out <dir>', 'output directory (default RECORDING/analysis; an earlier analysis there is replaced)')
    .option('--method <method>', `correction: ${CORRECTION_METHODS.join(' | ')} (default: haemodynamic when a 560 nm channel and a 405 nm control exist, else isosbestic when a control exists)`)
    .option('--hypnogram <file>', 'use a hypnogram scored elsewhere (CSV of epoch states) instead of scoring the EEG/EMG')
    .option('--absorption <file>', 'relative blood absorption per LED wavelength for the haemodynamic correction: JSON [[wavelengthNm, coefficient], …] (default: from haemoglobin spectra)')
    .option('--epoch-s <s>', 'sleep epoch length, s (default 4)')
    .option('--rate <hz>', 'analysis rate of the photometry, Hz (default 10)')
    .option('--no-traces', 'do not write traces.csv')
    .option('--json', 'print a JSON summary on stdout')
    .option('--quiet', 'no progress on stderr')
    .action((positional: string | undefined, opts: AnalyzeCliOptions & { in?: string }) => run(() => {
      const recording = flagOrPositional(io, { flag: '--in', value: opts.in, positional, command: 'analyze', example: 'fiberrig analyze --in recordings/2024-…', positionalDocumented: true });
      return analyzeCommand(io, recording, opts);
    })());
}
