// The replay device: a recording served as a device, speaking the protocol.
// It answers Hello and GetInfo with the recorded DeviceInfo, accepts only the
// recording's own configuration (anything else: Error naming the first field
// that differs), and on Start sends the recording's first run again — every
// SampleBlock, DigitalEvent, LedEvent, Status and Log, in the recorded order,
// with the recorded sample indices (so a recorded gap stays a gap) — paced on
// the recorded sample clock by `speed` (a number, or "max": as fast as the
// host reads). Stop stops; heartbeats are answered; Status is sent while
// nothing recorded is being sent (idle, or after the recording ran out).
//
// Its clock: while the recording plays, uptime is the Start's uptime plus the
// sample clock of what was sent (as firmware's uptime and sample counter tick
// together); otherwise it follows the wall clock (x speed). Frames are
// protocol/ frames (encodeFrame); the bytes of a recorded message are sent as
// recorded, except that Status and Log get this device's uptime.
import { performance } from 'node:perf_hooks';
import {
  DarkReason, decodeEnvelope, encodeEnvelope, encodeFrame, type Envelope, type EnvelopeInit, ErrorCode, formatVersion, FrameDecoder, LogLevel, type Status,
} from '../../protocol/index.ts';
import { configDifference } from './config-diff.ts';
import type { RecordedDevice, RecordedMessage, RunEnd } from './recording.ts';
import { recordedRun } from './recording.ts';
import type { ReplaySpeed } from './url.ts';

/** speed=max: unread bytes below which more of the recording is sent. */
export const LOW_WATER_BYTES = 16 * 1024;
/** Error.message and Error.field bounds (fiberrig.options, a NUL kept). */
const ERROR_MESSAGE_MAX_BYTES = 95;
const ERROR_FIELD_MAX_BYTES = 47;
const DEFAULT_STATUS_INTERVAL_MS = 1000;
/** Longest wait between checks of a paced run (ms). */
const PACE_TICK_MS = 20;
const BEFORE_HELLO = new Set(['hello', 'getInfo', 'heartbeat', 'reset', 'enterBootloader']);

export interface ReplayDeviceOptions {
  speed: ReplaySpeed;
  /** Wall clock, ms (default performance.now). */
  now?: () => number;
}

interface Run {
  startUptimeUs: number;
  startWallMs: number;
  /** Next detector sample index: after the last detector block sent. */
  nextIndex: number;
  iterator: AsyncGenerator<RecordedMessage, RunEnd>;
  /** Set when the recorded run has been sent to its end. */
  ended: RunEnd | null;
  wake: (() => void) | null;
}

const clip = (text: string, max: number): string => (text.length <= max ? text : text.slice(0, max));
const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export class ReplayDevice {
  /** Called when bytes become readable. */
  onReadable: (() => void) | null = null;
  /** Frames from the host that failed to decode as an Envelope. */
  decodeErrors = 0;
  private readonly outbox: Uint8Array[] = [];
  private outboxOffset = 0;
  private outboxBytes = 0;
  private readonly decoder = new FrameDecoder((payload) => this.onFrame(payload));
  private readonly now: () => number;
  private readonly speed: ReplaySpeed;
  private readonly rateHz: number;
  private handshaken = false;
  private configured = false;
  private run: Run | null = null;
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
    if (!this.closed) this.decoder.push(bytes);
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
    if (this.run?.wake && this.outboxBytes < LOW_WATER_BYTES) this.wakeRun(this.run);
    return n;
  }

  /** The port closed: stop sending, release the raw log, stop every timer. */
  close(): void {
    this.closed = true;
    this.stopRun();
    this.stopStatus();
    this.outbox.length = 0;
    this.outboxBytes = 0;
    this.outboxOffset = 0;
  }

  /** Device uptime, µs. */
  uptimeUs(): number {
    const run = this.run;
    if (run && !run.ended) return run.startUptimeUs + Math.round((run.nextIndex * 1e6) / this.rateHz);
    const rate = this.speed === 'max' ? 1 : this.speed;
    return this.clockBaseUs + Math.max(0, Math.round((this.now() - this.clockWallMs) * 1000 * rate));
  }

  /** Lets the wall clock carry the uptime on from now (after a run stops or runs out). */
  private anchorClock(uptimeUs: number): void {
    this.clockBaseUs = uptimeUs;
    this.clockWallMs = this.now();
  }

  private send(message: EnvelopeInit): void {
    this.sendPayload(encodeEnvelope(message));
  }

  private sendPayload(payload: Uint8Array): void {
    if (this.closed) return;
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

  private onFrame(payload: Uint8Array): void {
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(payload);
    } catch {
      this.decodeErrors++;
      this.sendError(0, ErrorCode.ERROR_CODE_FRAME_ERROR, '', 'frame is not an Envelope');
      return;
    }
    this.dispatch(envelope);
  }

  private dispatch(e: Envelope): void {
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
        this.onStop(id);
        return;
      case 'readCalibration':
        this.send({ requestId: id, calibrationTable: this.recording.calibration ?? { leds: [] } });
        return;
      case 'reset':
        this.send({ requestId: id, ack: {} });
        this.stopRun();
        this.stopStatus();
        this.handshaken = false;
        this.configured = false;
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
    this.send({ requestId: id, ack: { configId: this.recording.configId } });
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
    const startUptimeUs = this.uptimeUs();
    const run: Run = {
      startUptimeUs, startWallMs: this.now(), nextIndex: 0, iterator: recordedRun(this.recording.rawLogPath), ended: null, wake: null,
    };
    this.run = run;
    this.send({ requestId: id, ack: { configId: this.recording.configId, sampleIndex: 0, deviceTimeUs: startUptimeUs } });
    void this.pump(run);
  }

  private onStop(id: number): void {
    const run = this.run;
    if (run) {
      this.lastStop = { sampleIndex: run.nextIndex, deviceTimeUs: this.uptimeUs() };
      this.stopRun();
    }
    this.send({ requestId: id, ack: { configId: this.configured ? this.recording.configId : 0, ...this.lastStop } });
  }

  private stopRun(): void {
    const run = this.run;
    if (!run) return;
    const uptimeUs = this.uptimeUs();
    this.run = null;
    this.anchorClock(uptimeUs);
    this.wakeRun(run);
    run.iterator.return('stop').catch(() => undefined);
  }

  private wakeRun(run: Run): void {
    const wake = run.wake;
    run.wake = null;
    wake?.();
  }

  /** Sends the recorded run, message by message, each when its turn comes. */
  private async pump(run: Run): Promise<void> {
    try {
      for (;;) {
        const next = await run.iterator.next();
        if (this.run !== run) return;
        if (next.done) {
          this.runOut(run, next.value);
          return;
        }
        const message = next.value;
        if (message.detectorEnd !== undefined) await this.turnOf(run, message.detectorEnd);
        if (this.run !== run) return;
        this.sendRecorded(run, message);
      }
    } catch (error) {
      if (this.run !== run) return;
      this.sendLog(LogLevel.LOG_LEVEL_ERROR, `replay: cannot read the recording: ${(error as Error).message}`);
      this.runOut(run, 'end-of-log');
    }
  }

  /** Waits until the detector block ending at `end` may be sent. */
  private async turnOf(run: Run, end: number): Promise<void> {
    while (this.run === run) {
      let waitMs: number;
      if (this.speed === 'max') {
        if (this.outboxBytes < LOW_WATER_BYTES) return;
        waitMs = Number.POSITIVE_INFINITY; // until the host reads
      } else {
        const dueMs = run.startWallMs + (end / this.rateHz / this.speed) * 1000;
        waitMs = dueMs - this.now();
        if (waitMs <= 0) return;
      }
      await new Promise<void>((resolve) => {
        const timer = Number.isFinite(waitMs) ? setTimeout(() => { run.wake = null; resolve(); }, Math.min(waitMs, PACE_TICK_MS)) : null;
        run.wake = () => {
          if (timer) clearTimeout(timer);
          resolve();
        };
      });
    }
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

  /** The recorded run has been sent to its end: the device keeps running, silent, and says so once. */
  private runOut(run: Run, why: RunEnd): void {
    const uptimeUs = this.uptimeUs();
    run.ended = why;
    this.anchorClock(uptimeUs);
    this.sendLog(LogLevel.LOG_LEVEL_WARN, `replay: the recording ends at sample ${run.nextIndex} (${why}); nothing more will come`);
  }

  private startStatus(): void {
    if (this.statusTimer || this.closed) return;
    const intervalMs = this.recording.config?.statusIntervalMs || DEFAULT_STATUS_INTERVAL_MS;
    this.statusTimer = setInterval(() => {
      if (this.run && !this.run.ended) return; // the recorded Status messages are sent instead
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
      deviceTimeUs: this.uptimeUs(), configId: this.configured ? this.recording.configId : 0, bufferFill: 0,
      framesRejected: { crc: r.crc, oversize: r.oversize, cobs: r.cobs, decode: this.decodeErrors },
    };
    if (run && last) {
      return { ...last, ...common, sampleIndex: run.nextIndex, running: true };
    }
    return {
      ...common, sampleIndex: run?.nextIndex ?? 0, running: run !== null, darkReason: run ? DarkReason.DARK_REASON_NONE : DarkReason.DARK_REASON_STOPPED,
      leds: (this.recording.info.leds ?? []).map((l) => ({ channel: l.id, currentMa: 0, powerUw: 0 })),
    };
  }
}

const COMMANDS = new Set(['hello', 'getInfo', 'configure', 'start', 'stop', 'setLed', 'heartbeat', 'selfTest', 'readCalibration', 'writeCalibration', 'reset', 'enterBootloader']);
