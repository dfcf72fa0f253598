// One unit: the replay device's protocol state machine — commands, the runs it
// plays and its clock share one state (whether it runs, where in the recording
// it is, the uptime every Ack and Status names), so they stay in one class.
//
// The replay device: a recording served as a device, speaking the protocol.
// It answers Hello and GetInfo with the recorded DeviceInfo, accepts only the
// recording's own configuration (anything else: Error naming the first field
// that differs), and on Start sends the recording again — every SampleBlock,
// DigitalEvent, LedEvent, Status and Log, in the recorded order, with the
// recorded sample indices (so a recorded gap stays a gap) — paced on the
// recorded sample clock by `speed` (a number, or "max": as fast as the host
// reads). Stop stops; heartbeats are answered; Status is sent while nothing
// recorded is being sent (idle, or after the recording ran out).
//
// A recorded cable pull is played as one: where the original link closed, the
// port fails as an unplugged device's does (once the host has read everything
// before it); the device keeps its place, and the host's reopen finds it (the
// binding's registry). The blocks the original device sent after the reopen
// follow; the host's Stop then ends the run where the recording's did (its
// Ack names the recorded index and uptime), and the next Start plays the
// recording's next run with the recorded Start's uptime — so the host places
// the new run exactly as it placed the original. Where the recording ends (or
// ends a run in a way a host cannot ask for again: a device reset, its final
// Stop), the device warns (Log) and falls silent; if the host still wants data
// after END_GRACE_MS it is unplugged, and refuses the host's resume (Configure,
// Start) with an Error saying the recording ended.
//
// Its clock: while a run plays, uptime is the Start's uptime plus the sample
// clock of what was sent (as firmware's uptime and sample counter tick
// together); otherwise it follows the wall clock (x speed). Frames are
// protocol/ frames (encodeFrame); the bytes of a recorded message are sent as
// recorded, except that Status and Log get this device's uptime.
import { performance } from 'node:perf_hooks';
import {
  DarkReason, decodeEnvelope, encodeEnvelope, encodeFrame, type Envelope, type EnvelopeInit, ErrorCode, formatVersion, FrameDecoder, LogLevel, type Status,
} from '../../protocol/index.ts';
import { configDifference } from './config-diff.ts';
import { type RecordedAck, type RecordedDevice, type RecordedMessage, recordedRuns, type RunEvent } from './recording.ts';
import type { ReplaySpeed } from './url.ts';

/** speed=max: unread bytes below which more of the recording is sent. */
export const LOW_WATER_BYTES = 16 * 1024;
/** After the recording ran out while the host still runs it: wall-clock ms before the device unplugs. */
export const END_GRACE_MS = 2000;
/** Error.message and Error.field bounds (fiberrig.options, a NUL kept). */
const ERROR_MESSAGE_MAX_BYTES = 95;
const ERROR_FIELD_MAX_BYTES = 47;
const DEFAULT_STATUS_INTERVAL_MS = 1000;
/** Longest wait between checks of a waiting run (ms). */
const TICK_MS = 20;
const COMMANDS = new Set(['hello', 'getInfo', 'configure', 'start', 'stop', 'setLed', 'heartbeat', 'selfTest', 'readCalibration', 'writeCalibration', 'reset', 'enterBootloader']);
const BEFORE_HELLO = new Set(['hello', 'getInfo', 'heartbeat', 'reset', 'enterBootloader']);

export interface ReplayDeviceOptions {
  speed: ReplaySpeed;
  /** Wall clock, ms (default performance.now). */
  now?: () => number;
}

interface Run {
  /** Uptime at the Start's sample 0 (what its Ack said). */
  startUptimeUs: number;
  startWallMs: number;
  /** Next detector sample index: after the last detector block sent. */
  nextIndex: number;
  /** The recording's cable pull happened in this run: its Stop ends it as the recording's did. */
  pulled: boolean;
  /** A Stop is waiting: send the rest of the recorded run at once. */
  flushing: boolean;
  /** The recorded Stop that ended this (pulled) run. */
  recordedStop: RecordedAck | null;
  wake: (() => void) | null;
  /** Resolves when the run's pump is done. */
  done: Promise<void>;
}

const clip = (text: string, max: number): string => (text.length <= max ? text : text.slice(0, max));
const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export class ReplayDevice {
  /** Called when bytes become readable. */
  onReadable: (() => void) | null = null;
  /** Called when the device unplugs itself (a recorded cable pull, or the recording's end). */
  onUnplug: (() => void) | null = null;
  /** Frames from the host that failed to decode as an Envelope. */
  decodeErrors = 0;
  /** True between a (replayed) cable pull and the reopen that finds the device again. */
  unplugged = false;
  private readonly outbox: Uint8Array[] = [];
  private outboxOffset = 0;
  private outboxBytes = 0;
  private readonly decoder = new FrameDecoder((payload) => this.onFrame(payload));
  private commands: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private readonly speed: ReplaySpeed;
  private readonly rateHz: number;
  private handshaken = false;
  private configured = false;
  /** The config id the recording's device gave the configuration of the run to play next. */
  private configId = 0;
  private iterator: AsyncGenerator<RunEvent> | null = null;
  /** Recorded uptime + offset = this device's uptime (fixed at a fresh Start). */
  private offsetUs = 0;
  private run: Run | null = null;
  /** After a pulled run's recorded Stop: the next recorded run's Start (null: there is none). */
  private nextStart: RecordedAck | null | undefined;
  /** The next run follows a recorded device reset (its Start runs on this device's rebooted clock). */
  private nextAfterReset = false;
  /** Set once the recording ran out under a running host: why the device refuses to resume. */
  private endedBecause: string | null = null;
  private endTimer: NodeJS.Timeout | null = null;
  private lastStop = { sampleIndex: 0, deviceTimeUs: 0 };
  private clockBaseUs = 0;
  private clockWallMs: number;
  private statusTimer: NodeJS.Timeout | null = null;
  private lastRecordedStatus: Status | null = null;
  private closed = false;

  constructor(
    readonly recording: RecordedDevice,
    options: ReplayDeviceOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
    this.speed = options.speed;
    this.rateHz = recording.config?.sampleRateHz || 1;
    this.clockWallMs = this.now();
  }

  /** Unread bytes. */
  get length(): number {
    return this.outboxBytes;
  }

  get running(): boolean {
    return this.run !== null;
  }

  /** Bytes from the host. */
  receive(bytes: Uint8Array): void {
    if (!this.closed && !this.unplugged) this.decoder.push(bytes);
  }

  /** Copies up to `length` unread bytes into `buffer` at `offset`; returns how many. */
  readInto(buffer: Uint8Array, offset: number, length: number): number {
    let n = 0;
    while (n < length && this.outbox.length > 0) {
      const head = this.outbox[0]!;
      const take = Math.min(length - n, head.length - this.outboxOffset);
      buffer.set(head.subarray(this.outboxOffset, this.outboxOffset + take), offset + n);
      n += take;
      this.outboxOffset += take;
      if (this.outboxOffset === head.length) {
        this.outbox.shift();
        this.outboxOffset = 0;
      }
    }
    this.outboxBytes -= n;
    if (this.run && this.outboxBytes < LOW_WATER_BYTES) this.wakeRun(this.run);
    return n;
  }

  /** A port opened the device again after it unplugged (the host's reconnect). */
  reattach(): void {
    this.unplugged = false;
    this.decoder.reset();
    if (this.statusTimer) this.statusTimer.ref();
    if (this.run) this.wakeRun(this.run);
  }

  /** The port closed for good: stop sending, release the raw log, stop every timer. */
  close(): void {
    this.closed = true;
    this.stopRun();
    this.stopStatus();
    this.clearEndTimer();
    void this.iterator?.return(undefined).catch(() => undefined);
    this.iterator = null;
    this.dropOutbox();
  }

  /** Device uptime, µs. */
  uptimeUs(): number {
    const run = this.run;
    if (run) return run.startUptimeUs + Math.round((run.nextIndex * 1e6) / this.rateHz);
    const rate = this.speed === 'max' ? 1 : this.speed;
    return this.clockBaseUs + Math.max(0, Math.round((this.now() - this.clockWallMs) * 1000 * rate));
  }

  /** Lets the wall clock carry the uptime on from `uptimeUs`. */
  private anchorClock(uptimeUs: number): void {
    this.clockBaseUs = uptimeUs;
    this.clockWallMs = this.now();
  }

  private dropOutbox(): void {
    this.outbox.length = 0;
    this.outboxBytes = 0;
    this.outboxOffset = 0;
  }

  private send(message: EnvelopeInit): void {
    this.sendPayload(encodeEnvelope(message));
  }

  private sendPayload(payload: Uint8Array): void {
    if (this.closed || this.unplugged) return; // nobody at the other end of the cable
    const frame = encodeFrame(payload);
    this.outbox.push(frame);
    this.outboxBytes += frame.length;
    this.onReadable?.();
  }

  private sendError(requestId: number, code: number, field: string, message: string): void {
    this.send({ requestId, error: { code, field: clip(field, ERROR_FIELD_MAX_BYTES), message: clip(message, ERROR_MESSAGE_MAX_BYTES) } });
  }

  private sendLog(level: number, message: string): void {
    this.send({ log: { level, message: clip(message, ERROR_MESSAGE_MAX_BYTES), deviceTimeUs: this.uptimeUs() } });
  }

  private unplug(): void {
    this.unplugged = true;
    this.dropOutbox();
    this.statusTimer?.unref();
    this.onUnplug?.();
  }

  private onFrame(payload: Uint8Array): void {
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(payload);
    } catch {
      this.decodeErrors++;
      this.sendError(0, ErrorCode.ERROR_CODE_FRAME_ERROR, '', 'frame is not an Envelope');
      return;
    }
    // one command at a time, in order (a Stop may wait for the recorded run's end)
    this.commands = this.commands.then(() => this.dispatch(envelope)).catch((error: unknown) => {
      this.sendError(envelope.requestId ?? 0, ErrorCode.ERROR_CODE_INTERNAL, '', `replay device: ${(error as Error)?.message ?? String(error)}`);
    });
  }

  private async dispatch(e: Envelope): Promise<void> {
    if (this.closed) return;
    const id = e.requestId ?? 0;
    const body = e.body;
    if (body && !BEFORE_HELLO.has(body) && !this.handshaken && COMMANDS.has(body)) {
      this.sendError(id, ErrorCode.ERROR_CODE_NOT_CONFIGURED, 'hello', 'send Hello first (device restarted or new session)');
      return;
    }
    switch (body) {
      case 'hello': {
        const v = e.hello?.protocol;
        const mine = this.recording.info.protocol ?? { major: 0, minor: 0 };
        if (!v || v.major !== mine.major) {
          this.sendError(id, ErrorCode.ERROR_CODE_VERSION_MISMATCH, 'hello.protocol', `host speaks ${v ? formatVersion(v) : 'none'}, device speaks ${formatVersion(mine)}`);
          return;
        }
        this.handshaken = true;
        this.startStatus();
        this.send({ requestId: id, deviceInfo: this.recording.info });
        return;
      }
      case 'getInfo':
        this.send({ requestId: id, deviceInfo: this.recording.info });
        return;
      case 'heartbeat':
        this.send({
          requestId: id,
          heartbeatAck: { hostTimeUs: e.heartbeat?.hostTimeUs ?? 0, sampleIndex: this.run?.nextIndex ?? 0, deviceTimeUs: this.uptimeUs(), running: this.running },
        });
        return;
      case 'configure':
        this.onConfigure(id, e);
        return;
      case 'start':
        this.onStart(id);
        return;
      case 'stop':
        await this.onStop(id);
        return;
      case 'readCalibration':
        this.send({ requestId: id, calibrationTable: this.recording.calibration ?? { leds: [] } });
        return;
      case 'reset':
        this.send({ requestId: id, ack: {} });
        this.stopRun();
        this.stopStatus();
        this.clearEndTimer();
        this.handshaken = false;
        this.configured = false;
        this.endedBecause = null;
        this.nextStart = undefined;
        this.nextAfterReset = false;
        this.lastStop = { sampleIndex: 0, deviceTimeUs: 0 };
        this.anchorClock(0);
        return;
      case 'setLed':
        this.sendError(id, ErrorCode.ERROR_CODE_UNSUPPORTED, 'set_led', 'replay device: the recording\'s LED drives are replayed, they cannot be set');
        return;
      case 'selfTest':
      case 'writeCalibration':
      case 'enterBootloader':
        this.sendError(id, ErrorCode.ERROR_CODE_UNSUPPORTED, snake(body), `replay device: ${snake(body)} is not supported`);
        return;
      default: {
        const name = body ? snake(body) : '';
        this.sendError(id, ErrorCode.ERROR_CODE_UNKNOWN_COMMAND, name, body ? `${name} is not a command` : 'envelope has no body this device knows');
      }
    }
  }

  private onConfigure(id: number, e: Envelope): void {
    if (this.run) {
      this.sendError(id, ErrorCode.ERROR_CODE_BUSY, 'configure', 'Stop before Configure');
      return;
    }
    if (this.endedBecause) {
      this.sendError(id, ErrorCode.ERROR_CODE_UNSUPPORTED, 'configure', this.endedBecause);
      return;
    }
    const recorded = this.recording.config;
    if (!recorded) {
      this.sendError(id, ErrorCode.ERROR_CODE_UNSUPPORTED, 'configure', 'replay device: the recording never started, it holds no run to play');
      return;
    }
    const diff = configDifference(recorded, e.configure?.config ?? {});
    if (diff) {
      this.configured = false;
      this.sendError(id, ErrorCode.ERROR_CODE_INVALID_CONFIG, diff.field, `replay: ${diff.field.replace(/^config\./, '')} is ${diff.requested}, the recording's is ${diff.recorded} (use its config)`);
      return;
    }
    this.configured = true;
    // after a recorded cable pull the device numbered the host's new Configure: its next run's blocks carry that id
    this.configId = this.nextStart ? this.nextStart.configId : this.recording.configId;
    this.send({ requestId: id, ack: { configId: this.configId } });
  }

  private onStart(id: number): void {
    if (this.run) {
      this.sendError(id, ErrorCode.ERROR_CODE_BUSY, 'start', 'already running');
      return;
    }
    if (!this.configured) {
      this.sendError(id, ErrorCode.ERROR_CODE_NOT_CONFIGURED, 'start', 'Start needs an accepted Configure');
      return;
    }
    if (this.endedBecause || this.nextStart === null) {
      this.sendError(id, ErrorCode.ERROR_CODE_UNSUPPORTED, 'start', this.endedBecause ?? `replay: the recording ends at sample ${this.lastStop.sampleIndex}, it holds no later run`);
      return;
    }
    let startUptimeUs: number;
    if (this.nextStart && this.iterator && this.nextAfterReset) {
      // the host resumes after the recorded device reset: the recording's next run, on the rebooted clock
      startUptimeUs = this.uptimeUs();
      this.offsetUs = startUptimeUs - this.nextStart.deviceTimeUs;
    } else if (this.nextStart && this.iterator) {
      // the host resumes after the recorded cable pull: the recording's next run, at its recorded uptime
      startUptimeUs = this.offsetUs + this.nextStart.deviceTimeUs;
    } else {
      void this.iterator?.return(undefined).catch(() => undefined);
      this.iterator = recordedRuns(this.recording.rawLogPath);
      startUptimeUs = this.uptimeUs();
    }
    this.nextStart = undefined;
    this.nextAfterReset = false;
    let finish = (): void => undefined;
    const run: Run = {
      startUptimeUs, startWallMs: this.now(), nextIndex: 0, pulled: false, flushing: false, recordedStop: null, wake: null,
      done: new Promise<void>((resolve) => { finish = resolve; }),
    };
    this.run = run;
    this.send({ requestId: id, ack: { configId: this.configId, sampleIndex: 0, deviceTimeUs: startUptimeUs } });
    void this.pump(run, this.iterator).finally(finish);
  }

  private async onStop(id: number): Promise<void> {
    const run = this.run;
    if (run) {
      if (run.pulled) {
        // after a cable pull the old run ends where the recording's did: what it sent after the reopen first
        run.flushing = true;
        this.wakeRun(run);
        await run.done;
      }
      const stop = run.recordedStop;
      this.lastStop = stop ? { sampleIndex: stop.sampleIndex, deviceTimeUs: this.offsetUs + stop.deviceTimeUs } : { sampleIndex: run.nextIndex, deviceTimeUs: this.uptimeUs() };
      this.stopRun(this.lastStop.deviceTimeUs);
    }
    this.send({ requestId: id, ack: { configId: this.configured ? this.configId : 0, ...this.lastStop } });
  }

  private stopRun(uptimeUs = this.uptimeUs()): void {
    const run = this.run;
    if (!run) return;
    this.run = null;
    this.clearEndTimer();
    this.anchorClock(uptimeUs);
    this.wakeRun(run);
  }

  private wakeRun(run: Run): void {
    const wake = run.wake;
    run.wake = null;
    wake?.();
  }

  /** Waits until `ready()` (checked on every wake and every TICK_MS); false when the run was stopped meanwhile. */
  private async waitFor(run: Run, ready: () => boolean): Promise<boolean> {
    while (this.run === run && !ready()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { run.wake = null; resolve(); }, TICK_MS);
        timer.unref(); // a run nobody reads (unplugged, abandoned) never keeps the process alive
        run.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.run === run;
  }

  /** May the detector block ending at `end` be sent now? */
  private due(run: Run, end: number): boolean {
    if (run.flushing) return true;
    if (this.speed === 'max') return this.outboxBytes < LOW_WATER_BYTES;
    return this.now() >= run.startWallMs + (end / this.rateHz / this.speed) * 1000;
  }

  /** Plays the recording from where `iterator` is, until this run's recorded end. */
  private async pump(run: Run, iterator: AsyncGenerator<RunEvent>): Promise<void> {
    try {
      for (;;) {
        const next = await iterator.next();
        if (this.run !== run) return;
        if (next.done) {
          this.recordingEnds(run, 'end-of-log');
          return;
        }
        const event = next.value;
        if (event.kind === 'started') {
          this.offsetUs = run.startUptimeUs - event.ack.deviceTimeUs; // the first run's Start: recorded uptime + offset = ours
        } else if (event.kind === 'message') {
          const end = event.message.detectorEnd;
          if (end !== undefined && !(await this.waitFor(run, () => this.due(run, end)))) return;
          this.sendRecorded(run, event.message);
        } else if (event.kind === 'unplugged') {
          // the host read everything the original link delivered, then the cable is pulled; wait for the reopen
          if (!(await this.waitFor(run, () => this.outboxBytes === 0 || run.flushing))) return;
          run.pulled = true;
          if (!run.flushing) this.unplug();
          if (!(await this.waitFor(run, () => !this.unplugged))) return;
        } else if (event.why === 'stop' && run.pulled) {
          run.recordedStop = event.ack;
          const after = await iterator.next();
          this.nextStart = !after.done && after.value.kind === 'started' ? after.value.ack : null;
          return;
        } else {
          const after = event.why === 'stop' ? await iterator.next() : undefined;
          if (this.run !== run) return;
          const next = after && !after.done && after.value.kind === 'started' ? after.value : undefined;
          if (next?.resume === 'device-reset') {
            await this.resetAsRecorded(run, next.ack);
            return;
          }
          // a later run the original host started on its own cannot be asked for again: say what follows
          this.recordingEnds(run, next ? 'a later run follows' : event.why === 'stop' ? 'its last Stop' : event.why);
          return;
        }
      }
    } catch (error) {
      if (this.run !== run) return;
      this.sendLog(LogLevel.LOG_LEVEL_ERROR, `replay: cannot read the recording: ${(error as Error).message}`);
      this.recordingEnds(run, 'a read error');
    }
  }

  /**
   * The recorded device reset here (its host resumed with reason device-reset): once the host has read
   * what came before, the device is back at power-on (not running, Hello needed, uptime 0); the host's
   * resume Start then plays the next run (on this device's clock: the host places it by its own estimate).
   */
  private async resetAsRecorded(run: Run, nextStart: RecordedAck): Promise<void> {
    if (!(await this.waitFor(run, () => this.outboxBytes === 0))) return;
    this.stopRun(0);
    this.stopStatus();
    this.handshaken = false;
    this.configured = false;
    this.lastStop = { sampleIndex: 0, deviceTimeUs: 0 };
    this.nextStart = nextStart;
    this.nextAfterReset = true;
  }

  private sendRecorded(run: Run, recorded: RecordedMessage): void {
    if (recorded.detectorEnd !== undefined) run.nextIndex = Math.max(run.nextIndex, recorded.detectorEnd);
    if (recorded.body === 'status' && recorded.message.status) {
      this.lastRecordedStatus = recorded.message.status;
      this.send({ status: { ...recorded.message.status, deviceTimeUs: this.uptimeUs() } });
    } else if (recorded.body === 'log' && recorded.message.log) {
      this.send({ log: { ...recorded.message.log, deviceTimeUs: this.uptimeUs() } });
    } else {
      this.sendPayload(recorded.payload);
    }
  }

  /** Nothing more to play in this run: warn, fall silent, and unplug if the host still runs it after END_GRACE_MS. */
  private recordingEnds(run: Run, why: string): void {
    const message = `replay: the recording ends at sample ${run.nextIndex} (${why})`;
    this.sendLog(LogLevel.LOG_LEVEL_WARN, message);
    this.clearEndTimer();
    this.endTimer = setTimeout(() => {
      this.endTimer = null;
      if (this.run !== run || this.closed) return;
      this.endedBecause = `${message}: nothing more to play`;
      this.unplug();
    }, END_GRACE_MS);
  }

  private clearEndTimer(): void {
    if (this.endTimer) clearTimeout(this.endTimer);
    this.endTimer = null;
  }

  private startStatus(): void {
    if (this.statusTimer || this.closed) return;
    const intervalMs = this.recording.config?.statusIntervalMs || DEFAULT_STATUS_INTERVAL_MS;
    this.statusTimer = setInterval(() => {
      if (this.run && !this.run.recordedStop && !this.endTimer) return; // the recorded Status messages are sent instead
      this.send({ status: this.statusNow() });
    }, intervalMs);
  }

  private stopStatus(): void {
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.statusTimer = null;
  }

  private statusNow(): NonNullable<EnvelopeInit['status']> {
    const run = this.run;
    const last = this.lastRecordedStatus;
    const r = this.decoder.counters.rejected;
    const common = {
      deviceTimeUs: this.uptimeUs(), configId: this.configured ? this.configId : 0, bufferFill: 0,
      framesRejected: { crc: r.crc, oversize: r.oversize, cobs: r.cobs, decode: this.decodeErrors },
    };
    if (run && last) return { ...last, ...common, sampleIndex: run.nextIndex, running: true };
    return {
      ...common, sampleIndex: run?.nextIndex ?? 0, running: run !== null, darkReason: run ? DarkReason.DARK_REASON_NONE : DarkReason.DARK_REASON_STOPPED,
      leds: (this.recording.info.leds ?? []).map((l) => ({ channel: l.id, currentMa: 0, powerUw: 0 })),
    };
  }
}
