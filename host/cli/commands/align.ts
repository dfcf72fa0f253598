// `fiberrig align REC1 REC2 …`: puts a group of recordings on one time axis by
// their shared sync line (host/align/): the recording whose configuration drove
// sync_out is the axis; each other recording's sync edges map its session time
// onto it. Writes alignment.json into every recording (exports then add the
// group's time column), prints the fit per recording.
import type { Command } from 'commander';
import { FiberrigError } from '../../../protocol/index.ts';
import { alignRecordings } from '../../align/index.ts';
import type { CliIo, Runner } from '../main.ts';

export interface AlignCliOptions {
  syncLine?: string;
  dryRun?: boolean;
  json?: boolean;
}

export async function alignCommand(io: CliIo, recordings: string[], opts: AlignCliOptions): Promise<number> {
  let syncLine: number | undefined;
  if (opts.syncLine !== undefined) {
    syncLine = Number(opts.syncLine);
    if (!/^\d+$/.test(opts.syncLine) || syncLine > 255) throw new FiberrigError('E_USAGE', `--sync-line ${opts.syncLine} is not a digital line id`, 'give the input line id (0..255), e.g. --sync-line 0');
  }
  const result = await alignRecordings(recordings, { ...(syncLine !== undefined ? { syncLine } : {}), write: !opts.dryRun });
  if (opts.json) {
    io.stdout.write(`${JSON.stringify({ driver: result.driver, driverRateHz: result.driverRateHz, periodSamples: result.periodSamples, files: result.files, recordings: result.recordings.map(({ knots, ...r }) => ({ ...r, knots: knots.length })) })}\n`);
    return 0;
  }
  io.stdout.write(`time axis: ${result.driver} (driver, pulse every ${result.periodSamples} samples at ${result.driverRateHz} Hz)\n`);
  for (const r of result.recordings) {
    if (r.role === 'driver') continue;
    io.stdout.write(
      `  ${r.name}: ${r.edges} edges (pulses ${r.firstPulse}..${r.lastPulse}), offset ${r.offsetS.toFixed(6)} s, rate ${((r.scale - 1) * 1e6).toFixed(2)} ppm vs the driver, `
      + `residual rms ${r.residualRmsSamples.toFixed(3)} max ${r.residualMaxSamples.toFixed(3)} samples, ${r.knots.length} knots\n`,
    );
  }
  for (const f of result.files) io.stdout.write(`  wrote ${f}\n`);
  return 0;
}

export function define(command: Command, io: CliIo, run: Runner): void {
  command
    .description('align a group of recordings on one time axis by their shared sync line: the recording that drove sync_out is the axis; writes alignment.json into each recording (CSV exports then add group_time_s)')
    .argument('<recordings...>', 'the recording directories of the group (the driver\'s and each receiver\'s)')
    .option('--sync-line <line>', 'the digital input line the sync line is wired to on the receivers (default: each one\'s only digital input)')
    .option('--dry-run', 'fit and print, write nothing')
    .option('--json', 'print a JSON report on stdout')
    .action((recordings: string[], opts: AlignCliOptions) => run(() => alignCommand(io, recordings, opts))());
}
