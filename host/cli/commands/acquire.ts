// `fiberrig acquire`: configure, start, record, show progress on stderr, stop
// at the duration (device time) or on Ctrl-C, and print a summary on stdout
// (JSON with --json). The recording itself — raw log first, session.json,
// derived files, summary.json — is host/record/recorder.ts; this file parses
// the arguments and prints (host/cli/recorder-events.ts).
import { resolve } from 'node:path';
import { analysisInputOutputs } from '../../analysis/input-file.ts';
import { type AcquisitionFile, DEFAULT_LOCKIN_CONFIG, loadAcquisitionConfig } from '../../config/acquisition.ts';
import { startLiveServer } from '../../live/server.ts';
import { Recorder, type RecordingSummary } from '../../record/recorder.ts';
import type { RigOptions } from '../../rig/rig.ts';
import { checkDeviceUrl } from '../../transport/open.ts';
import { FiberrigError } from '../../../protocol/index.ts';
import type { Command } from 'commander';
import '../devices.ts';
import type { CliIo, Runner } from '../main.ts';
import { checkDurationForRates, parseDuration } from '../duration.ts';
import { printRecorderEvents, printRecordingSummary } from '../recorder-events.ts';
import { parsePort } from './view.ts';

export { processingOfFile } from '../../record/recorder.ts';

export interface AcquireOptions {
  device: string;
  config?: string;
  duration?: string;
  out?: string;
  json?: boolean;
  subject?: string;
  notes?: string;
  quiet?: boolean;
  /** Serve the live view (http://127.0.0.1:PORT/) while recording. */
  live?: boolean;
  port?: string | number;
}

export type AcquireSummary = RecordingSummary;

/** recordings/<ISO time> under the working directory. */
export function defaultOutDir(): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return resolve('recordings', stamp);
}

export async function acquireCommand(io: CliIo, opts: AcquireOptions, rigOptions: RigOptions = {}): Promise<number> {
  const file: AcquisitionFile = opts.config ? await loadAcquisitionConfig(opts.config) : DEFAULT_LOCKIN_CONFIG;
  const durationS = parseDuration(opts.duration ?? '10m');
  checkDurationForRates(durationS, opts.duration ?? '10m', file.outputRateHz);
  if (!opts.live && opts.port !== undefined) throw new FiberrigError('E_USAGE', `--port ${opts.port} is the live view's port, and --live is not given`, 'add --live to watch the recording in the browser, or leave --port out');
  const livePort = opts.live ? parsePort(opts.port) : undefined; // before anything is written
  // a URL that cannot name a device fails here, before anything is created (an injected transport opens its own)
  if (!rigOptions.openTransport) checkDeviceUrl(opts.device);
  const outDir = resolve(opts.out ?? defaultOutDir());
  const recorder = new Recorder({
    device: opts.device, rigOptions, file, durationS, outDir, subject: opts.subject ?? null, notes: opts.notes ?? null,
    // analysis-input.bin beside the CSV files: `fiberrig analyze` reads it instead of demodulating the raw log again
    derivedOutputs: analysisInputOutputs,
    stopOnProcessSignals: true,
    beforeConfigure: opts.live
      ? async ({ rig, wire, signals$ }) => {
        // before Configure: a port in use fails with the device untouched. Closes itself when the rig closes;
        // never slows the recording (display frames are dropped instead)
        const live = await startLiveServer({
          rig, config: file, wire, port: livePort ?? 8080, signals: signals$,
          recording: { isRecording: true, subject: opts.subject ?? null, target: outDir, reason: 'fiberrig acquire records from start to --duration (Ctrl-C stops)' },
          acquisitionLockedReason: 'fiberrig acquire runs this acquisition: it stops at --duration or on Ctrl-C',
        });
        io.stderr.write(`fiberrig: live view at ${live.url}\n`);
      }
      : undefined,
  });
  const printing = printRecorderEvents(io, recorder.events$, { quiet: opts.quiet ?? false });
  try {
    const { summary, error } = await recorder.run();
    printRecordingSummary(io, summary, opts.json);
    if (error) throw error;
  } finally {
    printing.unsubscribe();
  }
  return 0;
}

export function define(command: Command, io: CliIo, run: Runner): void {
  command
    .requiredOption('--device <url>', 'serial path (/dev/ttyACM0?baud=…), sim://SCENARIO?seed=…&speed=…, or tcp://HOST:PORT')
    .option('--config <file>', 'acquisition config (JSON); default: 3-wavelength lock-in')
    .option('--duration <time>', 'device time to record, e.g. 90s, 10m, 1h', '10m')
    .option('--out <dir>', 'recording directory (default recordings/<timestamp>)')
    .option('--subject <id>', 'subject id stored with the recording')
    .option('--notes <text>', 'free-text notes stored with the recording (session.json)')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--quiet', 'no progress on stderr')
    .option('--live', 'serve the live view in the browser while recording')
    .option('--port <n>', 'live view port (default 8080; 0: any free port); needs --live')
    .action((opts: AcquireOptions) => run(() => acquireCommand(io, opts))());
}
