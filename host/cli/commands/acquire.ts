// `fiberrig acquire`: configure, start, record, show progress on stderr, stop
// at the duration (device time) or on Ctrl-C, and print a summary on stdout
// (JSON with --json). The raw log is opened before the device and receives
// every journal entry first; session.json is written at the start and
// rewritten at the end; signals.csv and friends are derived files (the same
// code writes them offline with `fiberrig demod`).
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CommandedPowerLog, ledDrivesInForce } from '../../calibration/recording.ts';
import { AnalysisInputOutput, analysisStreamsOfDemodulator } from '../../analysis/input-file.ts';
import { countClipped } from '../../dsp/clipping.ts';
import { Subscription, share } from 'rxjs';
import {
  type AcquisitionFile, DEFAULT_LOCKIN_CONFIG, loadAcquisitionConfig, toWireConfig,
} from '../../config/acquisition.ts';
import { type DemodOptions, demodulate, type SignalBlock, SignalDemodulator } from '../../pipeline/demodulate.ts';
import { startLiveServer } from '../../live/server.ts';
import { cutoffIndex, DerivedWriter } from '../../record/derived.ts';
import { checkDiskSpace, type DiskSpaceCheck, SpaceReserve } from '../../record/disk-space.ts';
import type { RecordError } from '../../record/errors.ts';
import { OutputDir } from '../../record/output-dir.ts';
import { markRecordingFailed, recordingFailure, writeSessionAtEnd } from '../../record/recording-end.ts';
import { canonicalConfig, RAW_LOG_FILE_NAME, RawLogWriter } from '../../record/rawlog.ts';
import {
  calibrationJson, configJson, deviceInfoJson, deviceInfoSha256, type ProcessingSettings, SESSION_FILE_NAME, type SessionFile, wireConfigSha256, writeSession,
} from '../../record/session.ts';
import { softwareVersions } from '../../record/version.ts';
import type { TimedDigitalEvent, TimedLedEvent } from '../../rig/assembler.ts';
import { type AcquisitionItem, Rig, type RigOptions } from '../../rig/rig.ts';
import { checkDeviceUrl } from '../../transport/open.ts';
import { FiberrigError } from '../../../protocol/index.ts';
import { describeLight } from '../../rig/light.ts';
import type { Command } from 'commander';
import '../devices.ts';
import type { CliIo, Runner } from '../main.ts';
import { checkDurationForRates, formatDuration, parseDuration } from '../duration.ts';
import { parsePort } from './view.ts';

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

export interface AcquireSummary {
  recording: string;
  device: string;
  firmware: string;
  mode: string;
  durationS: number;
  rawSamples: number;
  signalRows: number;
  outputRateHz: number;
  channels: Array<{ name: string; mean: number; min: number; max: number }>;
  gaps: number;
  missingSamples: number;
  /** Flagged spans (quality.csv): samples arrived but signals are NaN. */
  qualityFlags: number;
  /** Spans with every configured LED dark, and their total length (s). */
  darkSpans: number;
  darkS: number;
  deviceDroppedSamples: number;
  framesRejected: Record<string, number>;
  reconnects: number;
  rawLogBytes: number;
  stoppedBy: 'duration' | 'signal' | 'error';
  /** The pre-flight disk space estimate against the free space. */
  diskSpace?: DiskSpaceCheck;
}

function defaultOutDir(): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return resolve('recordings', stamp);
}

/** Host-side processing settings of an acquisition file (what `fiberrig demod` re-uses). */
export function processingOfFile(file: AcquisitionFile): ProcessingSettings {
  return {
    outputRateHz: file.outputRateHz,
    ...(file.lowpassHz !== undefined ? { lowpassHz: file.lowpassHz } : {}),
    ...(file.auxOutputRateHz !== undefined ? { auxOutputRateHz: file.auxOutputRateHz } : {}),
  };
}

const isoOf = (us: number): string => new Date(us / 1000).toISOString();

export async function acquireCommand(io: CliIo, opts: AcquireOptions, rigOptions: RigOptions = {}): Promise<number> {
  const file: AcquisitionFile = opts.config ? await loadAcquisitionConfig(opts.config) : DEFAULT_LOCKIN_CONFIG;
  const durationS = parseDuration(opts.duration ?? '10m');
  checkDurationForRates(durationS, opts.duration ?? '10m', file.outputRateHz);
  if (!opts.live && opts.port !== undefined) throw new FiberrigError('E_USAGE', `--port ${opts.port} is the live view's port, and --live is not given`, 'add --live to watch the recording in the browser, or leave --port out');
  const livePort = opts.live ? parsePort(opts.port) : undefined; // before anything is written
  // a URL that cannot name a device fails here, before anything is created (an injected transport opens its own)
  if (!rigOptions.openTransport) checkDeviceUrl(opts.device);
  const outDir = resolve(opts.out ?? defaultOutDir());
  // exactly what the device gets (float fields as float32): live and offline demodulate the same numbers
  const wire = canonicalConfig(toWireConfig(file));
  const processing = processingOfFile(file);
  const demodOptions: DemodOptions = { ...processing };
  const log = (line: string): void => {
    if (!opts.quiet) io.stderr.write(`${line}\n`);
  };

  // the raw log first: it sees every byte from the moment the port opens
  const out = await OutputDir.prepare(outDir);
  const diskSpace = await checkDiskSpace(outDir, file, durationS);
  if (!diskSpace.fits) {
    io.stderr.write(`fiberrig: warning: ${formatDuration(durationS)} of this configuration needs about ${(diskSpace.neededBytes / 1e6).toFixed(0)} MB (raw log ~${(diskSpace.rawLogBytesPerHour / 1e6).toFixed(0)} MB/h, derived files ~${(diskSpace.derivedBytesPerHour / 1e6).toFixed(0)} MB/h) but ${outDir} has ${(diskSpace.freeBytes / 1e6).toFixed(0)} MB free (~${formatDuration(diskSpace.hoursFree * 3600)}); the recording will stop with E_DISK_FULL when the disk fills\n`);
  }
  // released when the disk fills, so session.json and summary.json can still say what happened
  const reserve = await SpaceReserve.create(outDir);
  let abortRecording: ((error: Error) => void) | undefined;
  let rawLogFailure: RecordError | undefined;
  out.created(SESSION_FILE_NAME);
  out.created(`${SESSION_FILE_NAME}.tmp`);
  let rawLog: RawLogWriter;
  try {
    rawLog = await RawLogWriter.create(out.created(RAW_LOG_FILE_NAME), {
      onError: (e) => { rawLogFailure = e; abortRecording?.(e); },
    });
  } catch (error) {
    await reserve.release();
    await out.removeCreated();
    throw error;
  }
  const startUs = Date.now() * 1000;
  rawLog.writeMeta({ kind: 'acquisition', device: opts.device, subject: opts.subject ?? null, notes: opts.notes ?? null, configFile: file, processing, requestedDurationS: durationS });
  const session: SessionFile = {
    format: 'fiberrig-session', formatVersion: 1, rawLog: RAW_LOG_FILE_NAME,
    subject: opts.subject ?? null, notes: opts.notes ?? null,
    device: { url: opts.device, info: null },
    config: { file, wire: configJson(wire), wireSha256: wireConfigSha256(wire) },
    processing, calibration: null, software: softwareVersions(),
    start: { hostTimeUs: startUs, iso: isoOf(startUs) }, end: null, requestedDurationS: durationS, status: 'recording',
    gaps: [], counters: null, derivedFiles: [], diskSpace,
  };
  // nothing recorded (the device failed before Start): take away what this run created, so
  // nothing is left that looks like a recording
  let deviceStarted = false;
  const removeUnstarted = async (error: Error): Promise<never> => {
    await rawLog.close({ stoppedBy: 'error', error: error.message }).catch(() => undefined);
    await reserve.release();
    const removed = await out.removeCreated();
    if (removed.length > 0) io.stderr.write(`fiberrig: nothing was recorded; removed what this run created in ${outDir}\n`);
    throw error;
  };
  let rig: Rig;
  try {
    await writeSession(outDir, session);
    const outer = rigOptions.onJournal;
    rig = await Rig.connect(opts.device, { ...rigOptions, onJournal: outer ? (e) => { rawLog.write(e); outer(e); } : rawLog.write });
  } catch (error) {
    return removeUnstarted(error as Error);
  }

  const subscriptions = new Subscription();
  const commandedPower = new CommandedPowerLog();
  let stoppedBy: AcquireSummary['stoppedBy'] = 'duration';
  let failure: Error | undefined;
  let summary: AcquireSummary | undefined;
  let derived: DerivedWriter | undefined;
  try {
    log(`fiberrig: ${rig.info.firmwareName} ${rig.info.firmwareVersion} on ${rig.info.boardModel} (${opts.device})`);
    session.device.info = deviceInfoJson(rig.info);
    session.device.infoSha256 = deviceInfoSha256(rig.info);
    let calibrationTable: Awaited<ReturnType<Rig['readCalibration']>> | null = null;
    if (rig.info.calibrationStored) {
      try {
        calibrationTable = await rig.readCalibration();
        session.calibration = calibrationJson(calibrationTable);
      } catch (error) {
        log(`warning: could not read the calibration table (${(error as Error).message}); session.json stores none`);
      }
    }
    // the host converts power with the device's own table: a power out of range fails here, clearly, before Configure
    session.ledDrives = ledDrivesInForce(wire, calibrationTable, rig.info);
    subscriptions.add(rig.status$.subscribe((st) => commandedPower.status(st)));
    subscriptions.add(rig.ledEvents$.subscribe((e) => commandedPower.ledEvent(e)));
    session.commandedPower = commandedPower.toJSON();
    await writeSession(outDir, session);
    // built before the device is touched: a processing setting (output rate, low-pass) the
    // demodulator refuses is an error now, with nothing configured or started
    const demodulator = new SignalDemodulator(wire, rig.info, demodOptions);
    // one demodulation feeds the derived files and the live view alike
    const signals$ = rig.acquisition$.pipe(demodulate(wire, rig.info, demodOptions), share());
    if (opts.live) {
      // before Configure: a port in use fails with the device untouched. Closes itself when the rig closes;
      // never slows the recording (display frames are dropped instead)
      const live = await startLiveServer({
        rig, config: file, wire, port: livePort ?? 8080, signals: signals$,
        recording: { isRecording: true, subject: opts.subject ?? null, target: outDir, reason: 'fiberrig acquire records from start to --duration (Ctrl-C stops)' },
        acquisitionLockedReason: 'fiberrig acquire runs this acquisition: it stops at --duration or on Ctrl-C',
      });
      io.stderr.write(`fiberrig: live view at ${live.url}\n`);
    }
    await rig.configure(wire);
    const rateHz = file.sampleRateHz;
    const targetSamples = Math.round(durationS * rateHz);
    const fullScale = Math.max(...rig.info.detectors.map((d) => 2 ** d.adcBits - 1), 1);
    const tb = { rateHz, auxRateHz: file.aux?.rateHz ?? 0, timerHz: rig.info.timerClockHz || 1 };
    // analysis-input.bin beside the CSV files: `fiberrig analyze` reads it instead of demodulating the raw log again
    const analysisInput = new AnalysisInputOutput(analysisStreamsOfDemodulator(demodulator, (wire.leds ?? []).length), demodOptions);
    const writer = await DerivedWriter.create(outDir, tb, durationS, {}, [analysisInput]);
    derived = writer;
    for (const name of ['signals.csv', 'aux.csv', 'events.csv', 'gaps.csv', 'analysis-input.bin']) out.created(name);
    // a derived file that cannot be written (disk full) stops the recording like a raw-log failure
    const guard = <T>(f: (value: T) => void) => (value: T): void => {
      try { f(value); } catch (error) { abortRecording?.(error as Error); }
    };
    let rawSamples = 0;
    let sessionEnd = 0;
    let gaps = 0;
    let clipped = 0;

    const done = new Promise<void>((resolveDone) => {
      const onSignal = (): void => { stoppedBy = 'signal'; resolveDone(); };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      subscriptions.add(() => { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); });
      abortRecording = (e) => { failure ??= e; stoppedBy = 'error'; resolveDone(); };
      if (rawLogFailure) abortRecording(rawLogFailure);

      subscriptions.add(rig.acquisition$.subscribe({
        next: guard((item: AcquisitionItem) => {
          writer.item(item);
          if (item.kind === 'light') {
            // loud, once per span and once when light is back, whatever --quiet says
            io.stderr.write(`fiberrig: WARNING: ${describeLight(item, rateHz)}\n`);
            return;
          }
          if (item.kind === 'gap') {
            gaps++;
            return;
          }
          if (item.source !== 'detector') return;
          rawSamples += item.sampleCount;
          sessionEnd = item.sessionIndex + item.sampleCount;
          const s = item.samples;
          clipped += countClipped(s, 0, fullScale);
          if (sessionEnd >= targetSamples) resolveDone();
        }),
        error: (e: Error) => { failure = e; stoppedBy = 'error'; resolveDone(); },
      }));
      subscriptions.add(signals$.subscribe({
        next: guard((block: SignalBlock) => writer.signals(block)),
        error: (e: Error) => { failure = e; stoppedBy = 'error'; resolveDone(); },
      }));
      subscriptions.add(rig.digitalEvents$.subscribe(guard((e: TimedDigitalEvent) => writer.digital(e))));
      subscriptions.add(rig.ledEvents$.subscribe(guard((e: TimedLedEvent) => writer.led(e))));
    });

    const started = Date.now();
    const progress = setInterval(() => {
      guard(() => writer.flush())(undefined);
      const h = rig.linkHealth();
      const elapsed = sessionEnd / rateHz;
      const levels = [...writer.stats.entries()].map(([name, st]) => `${name}=${Number.isNaN(st.last) ? '-' : st.last.toFixed(1)}`).join(' ');
      const wallS = (Date.now() - started) / 1000;
      log(`  ${formatDuration(elapsed)} / ${formatDuration(durationS)}  ${rawSamples} samples  ${(rawSamples / Math.max(wallS, 1e-3) / 1000).toFixed(1)} kS/s  gaps ${gaps}  rejected ${Object.values(h.framesRejected).reduce((a, b) => a + b, 0)}  clipped ${clipped}  raw log ${(rawLog.stats.bytesWritten / 1e6).toFixed(1)} MB  ${levels}`);
    }, 1000);
    progress.unref();

    await rig.start();
    deviceStarted = true;
    log(`recording to ${outDir} for ${formatDuration(durationS)} of device time`);
    await done;
    clearInterval(progress);
    // stopped early: the derived files end where the data written so far ends (offline re-runs use the same cutoff)
    if (stoppedBy !== 'duration') writer.setCutoff(Math.min(durationS, writer.extentS));
    if (rig.running) await rig.stop().catch(() => undefined);
    const health = rig.linkHealth();
    await writer.close().catch((error: Error) => { failure ??= error; stoppedBy = 'error'; });
    const endUs = Date.now() * 1000;
    const cutoffS = writer.cutoff ?? durationS;
    summary = {
      recording: outDir,
      device: opts.device,
      firmware: `${rig.info.firmwareName} ${rig.info.firmwareVersion}`,
      mode: file.mode,
      // stopped early: what the derived files hold (their cutoff), not what arrived while stopping
      durationS: Math.min(sessionEnd, targetSamples, cutoffIndex(cutoffS, rateHz)) / rateHz,
      rawSamples,
      signalRows: writer.signalRows,
      outputRateHz: writer.outputRateHz,
      channels: [...writer.stats.entries()].map(([name, st]) => ({ name, mean: st.n ? st.sum / st.n : Number.NaN, min: st.min, max: st.max })),
      // the gaps written (before the cutoff), as session.json counts them
      gaps: writer.gaps.length,
      missingSamples: health.hostDetectedMissingSamples,
      qualityFlags: writer.quality.length,
      darkSpans: writer.quality.filter((q) => q.flag === 'leds-dark').length,
      darkS: writer.quality.reduce((sum, q) => sum + q.durationS, 0),
      deviceDroppedSamples: health.deviceReportedDroppedSamples,
      framesRejected: health.framesRejected,
      reconnects: health.reconnects,
      rawLogBytes: 0,
      stoppedBy,
      diskSpace,
    };
    session.end = { hostTimeUs: endUs, iso: isoOf(endUs), stoppedBy, cutoffS, durationS: summary.durationS };
    session.commandedPower = commandedPower.toJSON();
    session.gaps = writer.gaps;
    session.quality = writer.quality;
    session.derivedFiles = writer.fileNames;
    session.counters = {
      rawSamples: writer.rawDetectorSamples, signalRows: writer.signalRows, gaps: writer.gaps.length,
      missingSamples: health.hostDetectedMissingSamples, deviceDroppedSamples: health.deviceReportedDroppedSamples,
      framesRejected: health.framesRejected, reconnects: health.reconnects, bytesIn: health.bytesIn, rawLogBytes: 0, rawLogRecords: 0,
    };
  } catch (error) {
    failure ??= error as Error;
    stoppedBy = 'error';
  } finally {
    subscriptions.unsubscribe();
    await derived?.close().catch(() => undefined);
    await rig.close().catch(() => undefined);
    // a failed recording (a full disk?) gets the reserved room for its last records
    if (failure || rawLogFailure) await reserve.release();
    await rawLog.close({ stoppedBy, ...(failure ? { error: failure.message } : {}) }).catch((e: Error) => { failure ??= e; });
  }
  if (session.counters) {
    session.counters.rawLogBytes = rawLog.stats.bytesWritten;
    session.counters.rawLogRecords = rawLog.stats.records;
  }
  if (!deviceStarted && failure) return removeUnstarted(failure);
  if (!session.end) {
    const endUs = Date.now() * 1000;
    session.end = { hostTimeUs: endUs, iso: isoOf(endUs), stoppedBy: 'error', cutoffS: derived ? Math.min(derived.cutoff ?? Infinity, derived.extentS) : 0, durationS: 0 };
  }
  if (failure) session.end.error = failure.message;
  session.status = failure ? 'failed' : 'complete';
  // the reserve goes now: on a full disk it is the room these last files need
  await reserve.release();
  const sessionError = await writeSessionAtEnd(outDir, session);
  if (sessionError) failure ??= sessionError;
  // what was recorded stays, in a directory that says it failed (session.json status, a FAILED file, inspect)
  if (failure) {
    if (await markRecordingFailed(outDir, failure)) io.stderr.write(`fiberrig: the acquisition failed; ${outDir} is marked FAILED (what was recorded before the failure is kept)\n`);
  }
  if (!summary) throw recordingFailure(failure ?? new Error('acquisition failed'), outDir, rawLog.stats.bytesWritten);
  summary.rawLogBytes = rawLog.stats.bytesWritten;
  try {
    await writeFile(out.created('summary.json'), `${JSON.stringify({ ...summary, config: file, subject: opts.subject ?? null }, null, 2)}\n`);
  } catch (error) {
    failure ??= error as Error;
  }
  if (opts.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
  else io.stdout.write(`recorded ${formatDuration(summary.durationS)} (${summary.signalRows} rows at ${summary.outputRateHz} Hz, ${summary.gaps} gaps${summary.qualityFlags ? `, ${summary.darkSpans} dark spans ${summary.darkS.toFixed(1)} s` : ''}) to ${outDir}\n`);
  if (failure) throw recordingFailure(failure, outDir, rawLog.stats.bytesWritten);
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
