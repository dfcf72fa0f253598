// `fiberrig view`: watch a device in the browser. Connects, configures, starts,
// and serves the live view until Ctrl-C (or until the device is lost for good).
// The page's Record button records through the same Recorder as `fiberrig
// acquire` (host/live/recording.ts); `--out DIR` records from the start (and
// with `--duration`, the command ends when that recording does).
import { resolve } from 'node:path';
import { analysisInputOutputs } from '../../analysis/input-file.ts';
import { type AcquisitionFile, DEFAULT_LOCKIN_CONFIG, loadAcquisitionConfig, toWireConfig } from '../../config/acquisition.ts';
import { LiveRecorder } from '../../live/recording.ts';
import { type LiveServer, startLiveServer } from '../../live/server.ts';
import type { RecordingResult } from '../../record/recorder.ts';
import { type AcquisitionConfigInit, FiberrigError, pb } from '../../../protocol/index.ts';
import { Rig, type RigOptions } from '../../rig/rig.ts';
import type { Command } from 'commander';
import '../devices.ts';
import { checkDeviceUrl } from '../../transport/open.ts';
import type { CliIo, Runner } from '../main.ts';
import { checkDurationForRates, parseDuration } from '../duration.ts';
import { printRecorderEvents, printRecordingSummary } from '../recorder-events.ts';

export interface ViewOptions {
  device: string;
  config?: string;
  port?: string | number;
  host?: string;
  token?: string;
  /** Record from the start into this directory. */
  out?: string;
  /** Device time per recording (default: until stopped); with --out the command ends when the first recording does. */
  duration?: string;
  subject?: string;
  notes?: string;
  /** Summaries as JSON lines on stdout. */
  json?: boolean;
  /** Stops the command (tests); otherwise SIGINT/SIGTERM. */
  signal?: AbortSignal;
  /** Called once the page is served (tests). */
  onServing?: (url: string) => void;
}

/** The configuration exactly as the device stores it (float fields as float32), so live demodulation uses the same numbers. */
function asSent(config: AcquisitionConfigInit): AcquisitionConfigInit {
  return pb.AcquisitionConfig.toObject(pb.AcquisitionConfig.decode(pb.AcquisitionConfig.encode(config).finish())) as AcquisitionConfigInit;
}

export function parsePort(value: string | number | undefined, fallback = 8080): number {
  if (value === undefined) return fallback;
  const port = /^\s*\d{1,5}\s*$/.test(String(value)) ? Number(value) : Number.NaN; // no "", "1e3", "0x50" or 400 digits
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FiberrigError('E_USAGE', `--port ${value} is not a port number`, 'give 1..65535, or 0 for any free port');
  return port;
}

/** recordings/<subject>-<ISO time> under the working directory (a Record press without --out). */
function recordingDirFor(subject: string | null): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return resolve('recordings', subject ? `${subject.replace(/[^\w.-]+/g, '_')}-${stamp}` : stamp);
}

export async function viewCommand(io: CliIo, opts: ViewOptions, rigOptions: RigOptions = {}): Promise<number> {
  const file: AcquisitionFile = opts.config ? await loadAcquisitionConfig(opts.config) : DEFAULT_LOCKIN_CONFIG;
  const port = parsePort(opts.port);
  const durationS = opts.duration === undefined ? Number.POSITIVE_INFINITY : parseDuration(opts.duration);
  if (opts.duration !== undefined) checkDurationForRates(durationS, opts.duration, file.outputRateHz);
  const wire = asSent(toWireConfig(file));
  if (!rigOptions.openTransport) checkDeviceUrl(opts.device);
  const rig = await Rig.connect(opts.device, rigOptions);
  const failures: Error[] = [];
  const onFinished = ({ summary, error }: RecordingResult): void => {
    printRecordingSummary(io, summary, opts.json);
    if (error) failures.push(error);
  };
  let server: LiveServer | undefined;
  const recorder = new LiveRecorder({
    // while it records, the page shows the recording's demodulation (one demodulation, shared)
    showSignals: (signals) => server?.useSignals(signals),
    rig, file, durationS, outDirFor: recordingDirFor, notes: opts.notes ?? null, derivedOutputs: analysisInputOutputs, onFinished,
    // a timed --out run ends with its recording: no need to start the device again
    resumeViewing: !(opts.out !== undefined && Number.isFinite(durationS)),
    // progress lines would drown the view's output, and the device is named already: notes and warnings only
    onRecorder: (r) => { printRecorderEvents(io, r.events$, { prefix: 'fiberrig view', skip: ['progress', 'connected'] }); },
  });
  try {
    io.stderr.write(`fiberrig view: ${rig.info.firmwareName} ${rig.info.firmwareVersion} on ${rig.info.boardModel} (${opts.device})\n`);
    // the server first: a --host it cannot listen on, or a port in use, fails with the device untouched
    const live = await startLiveServer({
      rig, config: file, wire, port, recording: recorder,
      ...(opts.host !== undefined ? { host: opts.host } : {}), ...(opts.token !== undefined ? { token: opts.token } : {}),
    });
    server = live;
    if (live.token !== undefined && opts.token === undefined) io.stderr.write(`fiberrig view: ${live.host} is not a loopback address: generated an access token\n`);
    io.stderr.write(`fiberrig view: live view at ${live.url} (${opts.out ? 'recording' : 'not recording: the page has a Record button'}; Ctrl-C stops)\n`);
    opts.onServing?.(live.url);
    let firstRecording: Promise<unknown> = new Promise(() => undefined);
    if (opts.out !== undefined) {
      // the recorder configures and starts the device, as acquire does
      await recorder.start(opts.subject ?? null, resolve(opts.out));
      if (Number.isFinite(durationS)) firstRecording = recorder.finished;
    } else {
      await rig.configure(wire);
      await rig.start();
    }
    await new Promise<void>((done) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        opts.signal?.removeEventListener('abort', stop);
        done();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      opts.signal?.addEventListener('abort', stop, { once: true });
      if (opts.signal?.aborted) stop();
      void live.closed.then(stop);
      void firstRecording.then(stop);
    });
    // a recording still running ends as acquire's does on Ctrl-C: its files cut where the data written ends
    await recorder.stop('signal');
    await live.close();
  } finally {
    await recorder.stop('signal').catch(() => undefined);
    await rig.close().catch(() => undefined);
  }
  if (failures[0]) throw failures[0];
  return 0;
}

export function define(command: Command, io: CliIo, run: Runner): void {
  command
    .requiredOption('--device <url>', 'serial path, sim://SCENARIO?…, or tcp://HOST:PORT')
    .option('--config <file>', 'acquisition config (JSON); default: 3-wavelength lock-in')
    .option('--port <n>', 'HTTP port (0: any free port)', '8080')
    .option('--host <address>', 'address to listen on; anything but loopback requires a token', '127.0.0.1')
    .option('--token <token>', 'access token (generated when --host is not loopback)')
    .option('--out <dir>', 'record from the start into this directory (the Record button records into recordings/<subject>-<time>)')
    .option('--duration <time>', 'device time per recording, e.g. 90s, 10m (default: until stopped); with --out, view ends when it is recorded')
    .option('--subject <id>', 'subject id of the --out recording')
    .option('--notes <text>', 'free-text notes stored with each recording (session.json)')
    .option('--json', 'print each recording summary as JSON on stdout')
    .action((opts: ViewOptions) => run(() => viewCommand(io, opts))());
}
