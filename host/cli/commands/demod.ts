// `fiberrig demod --in RECORDING [--lowpass HZ] [--rate HZ] [--out DIR]`:
// re-demodulates a recording offline from its raw log (like re-processing a
// raw TDT store). With the recording's own settings the derived files equal
// the live ones byte for byte.
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { AnalysisInputOutput } from '../../analysis/input-file.ts';
import { analysisStreamsOf } from '../../analysis/input-reduce.ts';
import { demodRecording } from '../../record/demod.ts';
import { resolveRecording } from '../../record/session.ts';
import type { CliIo, Runner } from '../main.ts';
import { demodOverrides, progressPrinter } from './export.ts';

export interface DemodCliOptions {
  in: string;
  out?: string;
  lowpass?: string;
  rate?: string;
  auxRate?: string;
  /** commander's negation of --no-delay-compensation */
  delayCompensation?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export async function demodCommand(io: CliIo, opts: DemodCliOptions): Promise<number> {
  const overrides = demodOverrides(opts);
  const paths = await resolveRecording(resolve(opts.in));
  const outDir = resolve(opts.out ?? join(paths.dir, 'demod'));
  const progress = progressPrinter(io, 'demod', Boolean(opts.quiet));
  // the analysis input too (analysis-input.bin): `fiberrig analyze` reads it instead of replaying when it matches
  const result = await demodRecording(paths.rawLog, outDir, overrides, progress, { delayCompensation: opts.delayCompensation ?? true },
    (ctx) => [new AnalysisInputOutput(analysisStreamsOf(ctx), ctx.demodOptions ?? {})]);
  const report = {
    outDir, files: result.files, signalRows: result.signalRows, outputRateHz: result.outputRateHz, settings: result.settings,
    delayCompensation: result.delayCompensation, groupDelays: result.groupDelays,
    gaps: result.summary.gapCount, tornTailBytes: result.summary.rawLog.tornTailBytes,
  };
  if (opts.json) io.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    const delays = result.groupDelays.map((d) => `${d.name} ${(d.groupDelayS * 1e3).toFixed(3)} ms`).join(', ');
    io.stdout.write(`demodulated ${result.signalRows} rows at ${result.outputRateHz} Hz (${JSON.stringify(result.settings)}) into ${outDir}\n`);
    io.stdout.write(`filter delays: ${delays || 'none'}; ${result.delayCompensation ? 'subtracted from the signal times' : 'NOT subtracted (--no-delay-compensation): times are filter-output times'}\n`);
  }
  return 0;
}

export function define(command: Command, io: CliIo, run: Runner): void {
  command
    .requiredOption('--in <recording>', 'recording directory (or its raw.fjl)')
    .option('--lowpass <hz>', 'lock-in envelope low-pass cutoff (default: the recording\'s)')
    .option('--rate <hz>', 'output rate (default: the recording\'s)')
    .option('--aux-rate <hz>', 'aux output rate (default: the recording\'s)')
    .option('--out <dir>', 'where the derived files go (default RECORDING/demod)')
    .option('--no-delay-compensation', 'write filter-output times: do not subtract each channel\'s filter delay from its signal times (the delays are printed)')
    .option('--json', 'print a JSON summary on stdout')
    .option('--quiet', 'no progress on stderr')
    .action((opts: DemodCliOptions) => run(() => demodCommand(io, opts))());
}
