// The link: one device connection. Correlates commands with replies by
// request id (with timeouts and retries for commands that are safe to
// repeat), keeps the device's watchdog fed with heartbeats, and fans the
// device's unsolicited stream out as an RxJS Subject.
import { trace } from '../trace.ts';
import { Subject } from 'rxjs';
import {
  type DecodeCounters, decodeEnvelope, type Envelope, type EnvelopeInit, FrameDecoder, frameEnvelope,
} from '../../protocol/index.ts';
import type { Transport } from '../transport/open.ts';
import { DeviceError, LinkError } from './errors.ts';

/** A command body: exactly one member of Envelope.body. */
export type Command = Omit<EnvelopeInit, 'requestId'>;

/** Commands whose repetition leaves the device in the same state. */
const SAFE_TO_REPEAT = new Set(['hello', 'getInfo', 'configure', 'stop', 'setLed', 'heartbeat', 'selfTest', 'readCalibration', 'writeCalibration']);

const traceLink = trace('link');
const traceFrames = trace('frames');

export interface LinkOptions {
  requestTimeoutMs?: number;
  /** Extra attempts for commands that are safe to repeat. */
  retries?: number;
  /** Host clock in microseconds (injectable for tests). */
  nowUs?: () => number;
  /** Sees every received chunk before it is decoded (the raw log's tap). */
  onRx?: (chunk: Uint8Array) => void;
  /** Sees every decoded message, replies included, in arrival order, before dispatch. */
  onMessage?: (message: Envelope) => void;
}

/**
 * The host clock of heartbeat round trips and journal entries: µs since the Unix
 * epoch with µs resolution (performance.timeOrigin + performance.now(); not
 * stepped by NTP). Date.now() has 1 ms resolution, which alone limits a
 * device-to-host drift fit over a few seconds to tens of ppm.
 */
export function hostClockUs(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

export interface HeartbeatSample {
  hostSendUs: number;
  hostReceiveUs: number;
  deviceSampleIndex: number;
  deviceTimeUs: number;
  running: boolean;
  /** Device µs the ack waited before it started out (HeartbeatAck.reply_queued_us; 0 or absent: not reported). */
  replyQueuedUs?: number;
}

export interface LinkCounters {
  sent: number;
  timeouts: number;
  retries: number;
  lateReplies: number;
}

interface Pending {
  resolve: (reply: Envelope) => void;
  reject: (error: Error) => void;
}

function bodyOf(command: Command): string {
  const keys = Object.keys(command).filter((k) => (command as Record<string, unknown>)[k] != null);
  if (keys.length !== 1) throw new LinkError('E_COMMAND', `a command has exactly one body, got ${keys.join(', ') || 'none'}`, 'pass one of the Envelope commands, e.g. { getInfo: {} }');
  return keys[0]!;
}

export class Link {
  /** Unsolicited device messages: sample blocks, events, status, logs. */
  readonly stream$ = new Subject<Envelope>();
  /** Heartbeat round trips, for clock mapping. */
  readonly heartbeats$ = new Subject<HeartbeatSample>();
  readonly counters: LinkCounters = { sent: 0, timeouts: 0, retries: 0, lateReplies: 0 };
  readonly closed: Promise<void>;

  private readonly decoder: FrameDecoder;
  private readonly decodeCounters: DecodeCounters;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private isClosed = false;
  /** Why the transport went away, if it failed rather than closed. */
  lastError: Error | undefined;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly nowUs: () => number;
  /** Host time the chunk being decoded arrived (frames of one chunk are decoded, and their data handled, before the next). */
  private chunkArrivedUs = 0;
  /** Replies' arrival times: when their chunk arrived, not when a waiting promise ran (after the whole chunk's blocks). */
  private readonly arrivedUs = new WeakMap<Envelope, number>();

  constructor(readonly transport: Transport, options: LinkOptions = {}) {
    this.timeoutMs = options.requestTimeoutMs ?? 1000;
    this.retries = options.retries ?? 2;
    this.nowUs = options.nowUs ?? hostClockUs;
    const onMessage = options.onMessage;
    this.decoder = new FrameDecoder((payload) => {
      let message: Envelope;
      try {
        message = decodeEnvelope(payload);
      } catch {
        this.decodeCounters.decodeErrors++;
        return;
      }
      if (traceFrames.enabled) traceFrames('<- %s #%d (%d B)', message.body, message.requestId, payload.length);
      onMessage?.(message);
      if (message.requestId !== 0) this.arrivedUs.set(message, this.chunkArrivedUs);
      this.dispatch(message);
    });
    this.decodeCounters = Object.assign(this.decoder.counters, { decodeErrors: 0 });
    const onRx = options.onRx;
    transport.stream.on('data', (chunk: Buffer) => {
      this.chunkArrivedUs = this.nowUs();
      onRx?.(chunk);
      this.decoder.push(chunk);
    });
    this.closed = new Promise((resolve) => {
      const done = (): void => {
        if (this.isClosed) return;
        this.isClosed = true;
        this.stopHeartbeat();
        for (const [, p] of this.pending) p.reject(new LinkError('E_LINK_CLOSED', 'the device went away while a command was pending', 'check the cable; the Rig reconnects on its own'));
        this.pending.clear();
        this.stream$.complete();
        this.heartbeats$.complete();
        resolve();
      };
      transport.stream.once('close', done);
      transport.stream.once('end', done);
      transport.stream.on('error', (error) => {
        this.lastError = error;
        done();
      });
    });
  }

  /** Frames rejected and bytes received, by reason (from the frame decoder). */
  get frameCounters(): DecodeCounters {
    return this.decodeCounters;
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /**
   * Sends a command and resolves with the reply envelope. An Error reply
   * rejects with DeviceError; no reply rejects with LinkError E_TIMEOUT after
   * the retries allowed for that command.
   */
  async request(command: Command, options: { timeoutMs?: number; retries?: number; beforeSend?: (requestId: number) => void } = {}): Promise<Envelope> {
    const body = bodyOf(command);
    if (this.isClosed) throw new LinkError('E_LINK_CLOSED', `cannot send ${body}: the link is closed`, 'reconnect to the device');
    const requestId = this.allocateId();
    const attempts = 1 + (SAFE_TO_REPEAT.has(body) ? (options.retries ?? this.retries) : 0);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const frame = frameEnvelope({ ...command, requestId });
    const reply = new Promise<Envelope>((resolve, reject) => this.pending.set(requestId, { resolve, reject }));
    reply.catch(() => undefined);
    options.beforeSend?.(requestId);
    try {
      for (let attempt = 0; attempt < attempts; attempt++) {
        if (attempt > 0) this.counters.retries++;
        traceLink('-> %s #%d%s', body, requestId, attempt > 0 ? ` (retry ${attempt} of ${attempts - 1})` : '');
        this.write(frame);
        const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
        const result = await Promise.race([reply, timer]);
        if (result === 'timeout') {
          traceLink('   %s #%d: no reply within %d ms', body, requestId, timeoutMs);
          continue;
        }
        if (result.body === 'error') {
          const e = result.error!;
          traceLink('<- error #%d to %s: %s %s%s', requestId, body, e.code, e.message, e.field ? ` (field ${e.field})` : '');
          throw new DeviceError(e.code, e.message, e.field);
        }
        traceLink('<- %s #%d to %s', result.body, requestId, body);
        return result;
      }
      this.counters.timeouts++;
      traceLink('   %s #%d: gave up after %d attempt(s)', body, requestId, attempts);
      throw new LinkError('E_TIMEOUT', `no reply to ${body} within ${timeoutMs} ms (${attempts} attempt${attempts > 1 ? 's' : ''})`, 'check that the device is powered, the URL is right, and nothing else holds the port');
    } finally {
      this.pending.delete(requestId);
    }
  }

  /** Sends heartbeats every `intervalMs`; each reply becomes a clock-mapping sample. */
  startHeartbeat(intervalMs: number): void {
    this.stopHeartbeat();
    const beat = (): void => {
      if (this.isClosed) return;
      const hostSendUs = this.nowUs();
      this.request({ heartbeat: { hostTimeUs: hostSendUs } }, { retries: 0, timeoutMs: Math.max(intervalMs * 2, 200) })
        .then((reply) => {
          const ack = reply.heartbeatAck;
          if (!ack) return;
          this.heartbeats$.next({
            hostSendUs, hostReceiveUs: this.arrivalUsOf(reply, hostSendUs), deviceSampleIndex: ack.sampleIndex, deviceTimeUs: ack.deviceTimeUs, running: ack.running,
            replyQueuedUs: ack.replyQueuedUs ?? 0,
          });
        })
        .catch(() => undefined); // a missed heartbeat shows up as link health, not as an exception
    };
    beat();
    this.heartbeatTimer = setInterval(beat, intervalMs);
    this.heartbeatTimer.unref();
  }

  /**
   * When `reply`, to a request sent at `sentUs`, reached the host: the arrival of the bytes that carried it (a
   * reply behind a chunk of sample blocks is otherwise stamped only after they were all handled, late by the
   * host's own work), or now; never before `sentUs`, so the round trip is never negative.
   */
  arrivalUsOf(reply: Envelope, sentUs: number): number {
    return Math.max(sentUs, this.arrivedUs.get(reply) ?? this.nowUs());
  }

  stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  async close(): Promise<void> {
    this.stopHeartbeat();
    await this.transport.close();
    this.transport.stream.destroy();
    await this.closed;
  }

  private write(frame: Uint8Array): void {
    this.counters.sent++;
    if (traceFrames.enabled) traceFrames('-> %d B', frame.length);
    this.transport.stream.write(frame);
  }

  private allocateId(): number {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    return id;
  }

  private dispatch(message: Envelope): void {
    if (message.requestId !== 0) {
      const pending = this.pending.get(message.requestId);
      if (pending) {
        this.pending.delete(message.requestId);
        pending.resolve(message);
      } else {
        this.counters.lateReplies++;
        traceLink('<- %s #%d: late (no request waits for it)', message.body, message.requestId);
      }
      return;
    }
    this.stream$.next(message);
  }
}
