// The device's transmit path up to the transport: two queues and a paced link.
//
// Replies, Status and Log go out first (the control queue, a priority queue);
// sample blocks, DigitalEvents, LedEvents and Stop's Ack go out in order behind
// them (the stream queue: so when the host sees Stop's Ack, every block of the
// run has been sent). The link sends whole frames at `linkBytesPerSecond` into
// the Outbox (the host's receive buffer); it stalls while the Outbox is full,
// the host is detached or a disconnect fault holds the link down. Frames pass
// the byte fault stage on their way out. Blocks in the stream queue are the
// ring buffer (board.bufferBlocks): the block producer asks `bufferedBlocks`
// before it queues one.
import { encodeFrame, pb, type EnvelopeInit } from '../../protocol/index.ts';
import { type DeviceClock, EPS } from './clock.ts';
import type { ByteFaultStage, FaultRecord, FrameMeta, GroundTruth } from './faults.ts';
import type { Outbox } from './link.ts';

export interface Queued {
  bytes: Uint8Array;
  meta: FrameMeta;
  readyDevS: number;
  isBlock: boolean;
  /** A HeartbeatAck encoded when its transmission starts (bytes empty until then): reply_queued_us says how long it waited. */
  heartbeatAck?: HeartbeatAckInit;
}

type HeartbeatAckInit = NonNullable<EnvelopeInit['heartbeatAck']>;

/** A queue entry, always of one shape (same fields, same order): the link's loads of it stay monomorphic. */
function queued(bytes: Uint8Array, meta: FrameMeta, readyDevS: number, isBlock: boolean, heartbeatAck: HeartbeatAckInit | undefined): Queued {
  return { bytes, meta, readyDevS, isBlock, heartbeatAck };
}

const CONTROL_QUEUE_MAX = 256;
const EVENT_QUEUE_MAX = 4096;
const BODY_KEYS = [
  'hello', 'getInfo', 'configure', 'start', 'stop', 'setLed', 'heartbeat', 'selfTest', 'readCalibration', 'writeCalibration', 'reset',
  'enterBootloader', 'ack', 'error', 'deviceInfo', 'heartbeatAck', 'selfTestReport', 'calibrationTable', 'sampleBlock', 'digitalEvent',
  'ledEvent', 'status', 'log',
] as const;

/** The Envelope body an Envelope init carries (its first set body field), if any. */
export function bodyOf(message: object): string | undefined {
  return BODY_KEYS.find((k) => (message as Record<string, unknown>)[k] != null);
}

export class Uplink {
  /** Unsolicited messages dropped because a queue was full (never expected). */
  messagesDropped = 0;
  private control: Queued[] = [];
  private stream: Queued[] = [];
  private streamBlocks = 0;
  private streamEvents = 0;
  private linkFreeAtDevS = 0;
  private hostAttached = true;
  private disconnectedUntilWorldS = Number.NEGATIVE_INFINITY;
  private disconnectRecord: FaultRecord | null = null;

  constructor(
    private readonly clock: DeviceClock,
    private readonly truth: GroundTruth,
    readonly outbox: Outbox,
    readonly faultStage: ByteFaultStage,
    readonly linkBytesPerSecond: number,
    private readonly maxMessageBytes: number,
  ) {}

  /** Blocks waiting in the ring buffer. */
  get bufferedBlocks(): number {
    return this.streamBlocks;
  }

  /** True during a disconnect fault. */
  get disconnected(): boolean {
    return this.clock.worldS < this.disconnectedUntilWorldS;
  }

  /** True while the link is down (a disconnect fault, or no host attached). */
  get linkDown(): boolean {
    return !this.hostAttached || this.clock.worldS < this.disconnectedUntilWorldS;
  }

  /** World time the current disconnect ends (+Infinity when none). */
  get reconnectAtWorldS(): number {
    return this.disconnectRecord ? this.disconnectedUntilWorldS : Number.POSITIVE_INFINITY;
  }

  /** Encodes and queues a message (unsolicited ones are dropped, and counted, when their queue is full). */
  send(message: EnvelopeInit, queue: 'control' | 'stream', meta?: FrameMeta): void {
    const kind = meta?.kind ?? bodyOf(message) ?? 'unknown';
    const m: FrameMeta = meta ?? { kind, requestId: message.requestId ?? 0 };
    const bytes = encodeFrame(pb.Envelope.encode(message).finish(), this.maxMessageBytes);
    if (queue === 'control') {
      const unsolicited = (message.requestId ?? 0) === 0;
      if (unsolicited && this.control.length >= CONTROL_QUEUE_MAX) {
        this.messagesDropped++;
        return;
      }
      this.control.push(queued(bytes, m, this.clock.devS, false, undefined));
    } else {
      if (this.streamEvents >= EVENT_QUEUE_MAX && m.kind !== 'ack') {
        this.messagesDropped++;
        return;
      }
      this.streamEvents++;
      this.stream.push(queued(bytes, m, this.clock.devS, false, undefined));
    }
  }

  /**
   * Queues a HeartbeatAck on the control queue, encoded when the link starts
   * sending it: its reply_queued_us is the device time it waited from now (the
   * heartbeat's arrival) for the link, behind the frame being sent or while the
   * host's receive buffer is full.
   */
  sendHeartbeatAck(requestId: number, ack: HeartbeatAckInit): void {
    this.control.push(queued(new Uint8Array(0), { kind: 'heartbeatAck', requestId }, this.clock.devS, false, ack));
  }

  /** Encodes a HeartbeatAck whose transmission starts at device time `startDevS`. */
  private finishHeartbeatAck(q: Queued, startDevS: number): void {
    if (!q.heartbeatAck) return;
    const replyQueuedUs = Math.min(0xffff_ffff, Math.max(0, Math.round((startDevS - q.readyDevS) * 1e6)));
    q.bytes = encodeFrame(pb.Envelope.encode({ requestId: q.meta.requestId, heartbeatAck: { ...q.heartbeatAck, replyQueuedUs } }).finish(), this.maxMessageBytes);
    q.heartbeatAck = undefined;
  }

  /** Queues an encoded sample block frame into the ring buffer. */
  pushBlock(frame: Uint8Array, meta: FrameMeta): void {
    this.stream.push(queued(frame, meta, this.clock.devS, true, undefined));
    this.streamBlocks++;
  }

  /** Takes back the last control message queued (a Reset's Ack, sent as the reboot's last words). */
  popControl(): Queued {
    return this.control.pop()!;
  }

  /** Sends queued frames whose transmission starts at or before device time `untilDevS`. */
  drain(untilDevS: number): void {
    if (this.linkDown) {
      // nothing can leave before the link is back: no sending credit accumulates meanwhile
      if (this.linkFreeAtDevS < untilDevS) this.linkFreeAtDevS = untilDevS;
      return;
    }
    const rate = this.linkBytesPerSecond;
    for (;;) {
      if (!this.outbox.hasRoom) {
        if (this.linkFreeAtDevS < untilDevS) this.linkFreeAtDevS = untilDevS;
        return;
      }
      const q = this.control[0] ?? this.stream[0];
      if (!q) {
        if (this.linkFreeAtDevS < untilDevS) this.linkFreeAtDevS = untilDevS;
        return;
      }
      const start = Math.max(this.linkFreeAtDevS, q.readyDevS);
      if (start > untilDevS + EPS) return;
      this.finishHeartbeatAck(q, start);
      if (q === this.control[0]) this.control.shift();
      else {
        this.stream.shift();
        if (q.isBlock) this.streamBlocks--;
        else this.streamEvents--;
      }
      this.linkFreeAtDevS = start + (q.bytes.length / rate) * this.clock.segFor(start).rate;
      const out = this.faultStage.process(q.bytes, q.meta, this.clock.worldOf(start), Math.floor(start * 1e6));
      this.truth.framesOut++;
      this.truth.bytesOut += out.length;
      this.outbox.push(out, q.meta);
    }
  }

  /**
   * A reboot: every queued frame is lost, except (when `keepControl`) the
   * control queue, which is returned to go out first after the boot. Returns
   * the lost frames' metadata and the kept frames.
   */
  restart(keepControl: boolean): { lost: FrameMeta[]; kept: Queued[] } {
    const kept = keepControl ? this.control.splice(0) : [];
    for (const q of kept) this.finishHeartbeatAck(q, this.clock.devS); // waited until the reboot
    const lost = [...this.control, ...this.stream].map((q) => q.meta);
    this.control = [];
    this.stream = [];
    this.streamBlocks = 0;
    this.streamEvents = 0;
    this.linkFreeAtDevS = 0;
    return { lost, kept };
  }

  /** Queues a frame kept over a reboot (ready at once). */
  requeueControl(q: Queued): void {
    this.control.push(queued(q.bytes, q.meta, 0, q.isBlock, q.heartbeatAck));
  }

  /** Transports: whether a host is connected (a detached device keeps running; its link stalls). */
  setHostAttached(attached: boolean): boolean {
    if (attached === this.hostAttached) return false;
    this.hostAttached = attached;
    if (!attached) {
      const d = this.outbox.discard();
      this.faultStage.clearMerge();
      if (d.bytes > 0) {
        this.truth.record({
          type: 'port_closed', worldTimeS: this.clock.worldS, deviceTimeUs: this.clock.deviceTimeUs, lost: d.lost, lostMessages: d.lostMessages,
          bytesAffected: d.bytes, framesAffected: d.frames, detail: 'host detached: unread bytes discarded',
        });
      }
    } else {
      this.drain(this.clock.devS);
    }
    return true;
  }

  /** A disconnect fault: unread bytes are lost and the link stays down for `durationS` of world time. Returns false when an ongoing one already covers it. */
  disconnect(durationS: number): boolean {
    const d = this.outbox.discard();
    this.faultStage.clearMerge();
    const until = this.clock.worldS + durationS;
    if (this.disconnectRecord && this.disconnectedUntilWorldS >= until) return false;
    this.disconnectedUntilWorldS = until;
    this.disconnectRecord = this.truth.record({
      worldTimeS: this.clock.worldS, deviceTimeUs: this.clock.deviceTimeUs, lost: d.lost, lostMessages: d.lostMessages,
      bytesAffected: d.bytes, framesAffected: d.frames, type: 'disconnect', detail: `link down for ${durationS} s`,
    });
    return true;
  }

  reconnect(): void {
    this.disconnectRecord = null;
    this.disconnectedUntilWorldS = Number.NEGATIVE_INFINITY;
  }
}
