// One unit: a recording session from its first byte to its summary — the raw log opened
// before the device, session.json at the start, after the handshake and at the end, the
// commanded-power log, one shared demodulation feeding the derived files, progress, stop on
// duration / signal / stop() / error, the failed-recording marking and summary.json. The
// steps share the session's state and their order is the recording's guarantee, so they stay together.
//
// `fiberrig acquire` and the live view's Record button both record through it. It never
// prints: it reports RecorderEvents (host/cli/recorder-events.ts prints them).
import { writeFile } from 'node:fs/promises';
import { type Observable, share, Subject, Subscription } from 'rxjs';
import { CommandedPowerLog, ledDrivesInForce } from '../calibration/recording.ts';
import { toWireConfig } from '../config/acquisition.ts';
import { countClipped } from '../dsp/clipping.ts';
import { type DemodOptions, demodulate, type SignalBlock, SignalDemodulator } from '../pipeline/demodulate.ts';
import type { AcquisitionItem, TimedDigitalEvent, TimedLedEvent } from '../rig/assembler.ts';
import type { JournalEntry } from '../rig/journal.ts';
import { type LinkHealth, Rig } from '../rig/rig.ts';
import { cutoffIndex, DerivedWriter } from './derived.ts';
import { checkDiskSpace, SpaceReserve } from './disk-space.ts';
import type { RecordError } from './errors.ts';
import { OutputDir } from './output-dir.ts';
import { markRecordingFailed, recordingFailure, writeSessionAtEnd } from './recording-end.ts';
import { canonicalConfig, RAW_LOG_FILE_NAME, RawLogWriter } from './rawlog.ts';
import type {
  RecorderContext, RecorderEvent, RecorderOptions, RecorderState, RecordingResult, RecordingSummary, StoppedBy,
} from './recorder-types.ts';
import {
  calibrationJson, configJson, deviceInfoJson, deviceInfoSha256, type ProcessingSettings, SESSION_FILE_NAME, type SessionFile, wireConfigSha256, writeSession,
} from './session.ts';
import { softwareVersions } from './version.ts';

export type * from './recorder-types.ts';

/** Host-side processing settings of an acquisition file (what `fiberrig demod` re-uses). */
export function processingOfFile(file: RecorderOptions['file']): ProcessingSettings {
  return {
    outputRateHz: file.outputRateHz,
    ...(file.lowpassHz !== undefined ? { lowpassHz: file.lowpassHz } : {}),
    ...(file.auxOutputRateHz !== undefined ? { auxOutputRateHz: file.auxOutputRateHz } : {}),
  };
}

const isoOf = (us: number): string => new Date(us / 1000).toISOString();
/** The disk-space pre-flight of a recording without a duration: one hour. */
const OPEN_ENDED_CHECK_S = 3600;

type Health = Pick<LinkHealth, 'hostDetectedMissingSamples' | 'deviceReportedDroppedSamples' | 'reconnects' | 'bytesIn' | 'framesRejected'>;

/** Counters since `base` (a borrowed Rig counted what came before the recording too). */
function healthSince(h: LinkHealth, base: Health | undefined): Health {
  if (!base) return h;
  const framesRejected: Record<string, number> = {};
  for (const [k, v] of Object.entries(h.framesRejected)) framesRejected[k] = v - ((base.framesRejected as Record<string, number>)[k] ?? 0);
  return {
    hostDetectedMissingSamples: h.hostDetectedMissingSamples - base.hostDetectedMissingSamples,
    deviceReportedDroppedSamples: h.deviceReportedDroppedSamples - base.deviceReportedDroppedSamples,
    reconnects: h.reconnects - base.reconnects, bytesIn: h.bytesIn - base.bytesIn, framesRejected: framesRejected as LinkHealth['framesRejected'],
  };
}

export class Recorder {
  private readonly eventSubject = new Subject<RecorderEvent>();
  /** What happens, in order; completes when run() ends. Synchronous: subscribe before run(). */
  readonly events$: Observable<RecorderEvent> = this.eventSubject.asObservable();
  readonly outDir: string;
  private stateValue: RecorderState = 'idle';
  private rigValue: Rig | undefined;
  private abortRecording: ((error: Error) => void) | undefined;
  private requestStop: ((by: StoppedBy) => void) | undefined;
  private pendingStop: StoppedBy | undefined;
  private running: Promise<RecordingResult> | undefined;

  constructor(private readonly options: RecorderOptions) {
    this.outDir = options.outDir;
  }

  get state(): RecorderState {
    return this.stateValue;
  }

  /** The device being recorded (once connected). */
  get rig(): Rig | undefined {
    return this.rigValue;
  }

  /** Ends the recording early (stoppedBy "user", or the reason given); the derived files end where the data written so far ends. */
  stop(by: StoppedBy = 'user'): void {
    if (this.requestStop) this.requestStop(by);
    else this.pendingStop ??= by;
  }

  /** Ends the recording with `error` (stoppedBy "error"; the directory is marked FAILED). */
  abort(error: Error): void {
    if (this.abortRecording) this.abortRecording(error);
  }

  /** Records until the duration, stop(), a process signal or an error. Resolves with the summary; rejects when nothing could be summarised. */
  run(): Promise<RecordingResult> {
    this.running ??= this.record().finally(() => {
      this.stateValue = 'finished';
      this.eventSubject.complete();
    });
    return this.running;
  }

  private emit(event: RecorderEvent): void {
    this.eventSubject.next(event);
  }

  private async record(): Promise<RecordingResult> {
    const opts = this.options;
    const { file, durationS, outDir } = opts;
    this.stateValue = 'connecting';
    const borrowed = typeof opts.device === 'string' ? undefined : opts.device;
    const deviceUrl = borrowed ? borrowed.url : opts.device as string;
    const rigOptions = opts.rigOptions ?? {};
    // exactly what the device gets (float fields as float32): live and offline demodulate the same numbers
    const wire = canonicalConfig(toWireConfig(file));
    const processing = processingOfFile(file);
    const demodOptions: DemodOptions = { ...processing };
    const subject = opts.subject ?? null;

    // the raw log first: it sees every byte from the moment the port opens
    const out = await OutputDir.prepare(outDir);
    const diskSpace = await checkDiskSpace(outDir, file, Number.isFinite(durationS) ? durationS : OPEN_ENDED_CHECK_S);
    if (!diskSpace.fits) this.emit({ type: 'disk-space-short', diskSpace, durationS, outDir });
    // released when the disk fills, so session.json and summary.json can still say what happened
    const reserve = await SpaceReserve.create(outDir);
    let rawLogFailure: RecordError | undefined;
    out.created(SESSION_FILE_NAME);
    out.created(`${SESSION_FILE_NAME}.tmp`);
    let rawLog: RawLogWriter;
    try {
      rawLog = await RawLogWriter.create(out.created(RAW_LOG_FILE_NAME), {
        onError: (e) => { rawLogFailure = e; this.abortRecording?.(e); },
      });
    } catch (error) {
      await reserve.release();
      await out.removeCreated();
      throw error;
    }
    const startUs = Date.now() * 1000;
    rawLog.writeMeta({ kind: 'acquisition', device: deviceUrl, subject, notes: opts.notes ?? null, configFile: file, processing, requestedDurationS: Number.isFinite(durationS) ? durationS : null });
    const session: SessionFile = {
      format: 'fiberrig-session', formatVersion: 1, rawLog: RAW_LOG_FILE_NAME,
      subject, notes: opts.notes ?? null,
      device: { url: deviceUrl, info: null },
      config: { file, wire: configJson(wire), wireSha256: wireConfigSha256(wire) },
      processing, calibration: null, software: softwareVersions(),
      start: { hostTimeUs: startUs, iso: isoOf(startUs) }, end: null, requestedDurationS: Number.isFinite(durationS) ? durationS : null, status: 'recording',
      gaps: [], counters: null, derivedFiles: [], diskSpace,
    };
    const subscriptions = new Subscription();
    // nothing recorded (the device failed before Start): take away what this run created, so
    // nothing is left that looks like a recording
    let deviceStarted = false;
    const removeUnstarted = async (error: Error): Promise<never> => {
      subscriptions.unsubscribe();
      await rawLog.close({ stoppedBy: 'error', error: error.message }).catch(() => undefined);
      await reserve.release();
      const removed = await out.removeCreated();
      if (removed.length > 0) this.emit({ type: 'removed-unstarted', outDir });
      throw error;
    };
    let rig: Rig;
    let healthBase: Health | undefined;
    try {
      await writeSession(outDir, session);
      if (borrowed) {
        rig = borrowed;
        if (rig.running) await rig.stop();
        // the raw log joins an open link: it starts as a replay expects one, with the link open and the device's info
        rawLog.write({ type: 'link', hostTimeUs: Date.now() * 1000, state: 'open' });
        rawLog.write({ type: 'device-info', hostTimeUs: Date.now() * 1000, info: rig.info });
        subscriptions.add(rig.journal$.subscribe((e: JournalEntry) => rawLog.write(e)));
        healthBase = structuredClone(rig.linkHealth());
      } else {
        const outer = rigOptions.onJournal;
        rig = await Rig.connect(deviceUrl, { ...rigOptions, onJournal: outer ? (e) => { rawLog.write(e); outer(e); } : rawLog.write });
      }
    } catch (error) {
      return removeUnstarted(error as Error);
    }
    this.rigValue = rig;

    const commandedPower = new CommandedPowerLog();
    let stoppedBy: StoppedBy = 'duration';
    let failure: Error | undefined;
    let summary: RecordingSummary | undefined;
    let derived: DerivedWriter | undefined;
    let progress: ReturnType<typeof setInterval> | undefined;
    try {
      this.emit({ type: 'connected', firmware: `${rig.info.firmwareName} ${rig.info.firmwareVersion}`, board: rig.info.boardModel, device: deviceUrl });
      session.device.info = deviceInfoJson(rig.info);
      session.device.infoSha256 = deviceInfoSha256(rig.info);
      let calibrationTable: Awaited<ReturnType<Rig['readCalibration']>> | null = null;
      if (rig.info.calibrationStored) {
        try {
          calibrationTable = await rig.readCalibration();
          session.calibration = calibrationJson(calibrationTable);
        } catch (error) {
          this.emit({ type: 'calibration-unreadable', message: (error as Error).message });
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
      // one demodulation feeds the derived files and any live consumer alike
      const signals$ = rig.acquisition$.pipe(demodulate(wire, rig.info, demodOptions), share());
      const context: RecorderContext = { rig, file, wire, signals$, outDir };
      await opts.beforeConfigure?.(context);
      await rig.configure(wire);
      const rateHz = file.sampleRateHz;
      const targetSamples = Number.isFinite(durationS) ? Math.round(durationS * rateHz) : Number.POSITIVE_INFINITY;
      const fullScale = Math.max(...rig.info.detectors.map((d) => 2 ** d.adcBits - 1), 1);
      const tb = { rateHz, auxRateHz: file.aux?.rateHz ?? 0, timerHz: rig.info.timerClockHz || 1 };
      const outputs = opts.derivedOutputs?.({ demodulator, wire, demodOptions, info: rig.info }) ?? [];
      const writer = await DerivedWriter.create(outDir, tb, Number.isFinite(durationS) ? durationS : undefined, {}, outputs, opts.signalTables ?? true);
      derived = writer;
      for (const name of ['signals.csv', 'aux.csv', 'events.csv', 'gaps.csv']) out.created(name);
      // a derived file that cannot be written (disk full) stops the recording like a raw-log failure
      const guard = <T>(f: (value: T) => void) => (value: T): void => {
        try { f(value); } catch (error) { this.abortRecording?.(error as Error); }
      };
      let rawSamples = 0;
      let sessionEnd = 0;
      let gaps = 0;
      let clipped = 0;

      const done = new Promise<void>((resolveDone) => {
        if (opts.stopOnProcessSignals) {
          const onSignal = (): void => { stoppedBy = 'signal'; resolveDone(); };
          process.once('SIGINT', onSignal);
          process.once('SIGTERM', onSignal);
          subscriptions.add(() => { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); });
        }
        this.requestStop = (by) => { if (stoppedBy !== 'error') stoppedBy = by; resolveDone(); };
        this.abortRecording = (e) => { failure ??= e; stoppedBy = 'error'; resolveDone(); };
        if (rawLogFailure) this.abortRecording(rawLogFailure);

        subscriptions.add(rig.acquisition$.subscribe({
          next: guard((item: AcquisitionItem) => {
            writer.item(item);
            if (item.kind === 'light') {
              this.emit({ type: 'light', light: item, rateHz });
              return;
            }
            if (item.kind === 'gap') {
              gaps++;
              return;
            }
            if (item.source !== 'detector') return;
            rawSamples += item.sampleCount;
            sessionEnd = item.sessionIndex + item.sampleCount;
            clipped += countClipped(item.samples, 0, fullScale);
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
      progress = setInterval(() => {
        guard(() => writer.flush())(undefined);
        const h = healthSince(rig.linkHealth(), healthBase);
        const wallS = (Date.now() - started) / 1000;
        this.emit({
          type: 'progress',
          progress: {
            elapsedS: sessionEnd / rateHz, durationS, rawSamples, samplesPerS: rawSamples / Math.max(wallS, 1e-3), gaps,
            framesRejected: Object.values(h.framesRejected).reduce((a, b) => a + b, 0), clipped, rawLogBytes: rawLog.stats.bytesWritten,
            levels: [...writer.stats.entries()].map(([name, st]) => ({ name, last: st.last })),
          },
        });
      }, opts.progressIntervalMs ?? 1000);
      progress.unref();

      await rig.start();
      deviceStarted = true;
      this.stateValue = 'recording';
      this.emit({ type: 'started', outDir, durationS });
      if (this.pendingStop) this.requestStop?.(this.pendingStop);
      await done;
      clearInterval(progress);
      this.stateValue = 'stopping';
      this.emit({ type: 'stopping', stoppedBy });
      // stopped early: the derived files end where the data written so far ends (offline re-runs use the same cutoff)
      if (stoppedBy !== 'duration') writer.setCutoff(Number.isFinite(durationS) ? Math.min(durationS, writer.extentS) : writer.extentS);
      if (rig.running) await rig.stop().catch(() => undefined);
      const health = healthSince(rig.linkHealth(), healthBase);
      await writer.close().catch((error: Error) => { failure ??= error; stoppedBy = 'error'; });
      const endUs = Date.now() * 1000;
      const cutoffS = writer.cutoff ?? durationS;
      summary = {
        recording: outDir,
        device: deviceUrl,
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
      if (progress) clearInterval(progress);
      this.requestStop = undefined;
      this.abortRecording = undefined;
      subscriptions.unsubscribe();
      await derived?.close().catch(() => undefined);
      // the other outputs' files (written when the writer closes) are this run's too
      for (const name of derived?.fileNames ?? []) out.created(name);
      if (borrowed) {
        if (rig.running) await rig.stop().catch(() => undefined);
      } else {
        await rig.close().catch(() => undefined);
      }
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
    if (failure && await markRecordingFailed(outDir, failure)) this.emit({ type: 'marked-failed', outDir });
    if (!summary) throw recordingFailure(failure ?? new Error('acquisition failed'), outDir, rawLog.stats.bytesWritten);
    summary.rawLogBytes = rawLog.stats.bytesWritten;
    try {
      await writeFile(out.created('summary.json'), `${JSON.stringify({ ...summary, config: file, subject }, null, 2)}\n`);
    } catch (error) {
      failure ??= error as Error;
    }
    const result: RecordingResult = failure ? { summary, error: recordingFailure(failure, outDir, rawLog.stats.bytesWritten) } : { summary };
    this.emit({ type: 'finished', ...result });
    return { ...result, rawLogIoCpuS: rawLog.stats.ioThreadCpuS };
  }
}
