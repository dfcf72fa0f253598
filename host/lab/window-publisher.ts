// JetStream publishing for a window of records in flight at once, cheaply: the JetStream
// publish protocol itself (a core publish carrying `Nats-Msg-Id`, its PubAck coming back on the
// reply subject) with ONE reply subscription for all of them and one timer sweeping the
// deadlines, instead of a request per record (the client's `js.publish` makes a request, a timer
// and two error objects with stack traces per message: ~2/3 of the mirror's CPU per record).
// Each publish still resolves with its own PubAck or rejects (a JetStream error reply, no
// responders, or no ack within the timeout), so the mirror keeps its in-order window and rollback.
import { createInbox, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { PubAck } from '@nats-io/jetstream';
import { LabError } from './errors.ts';

/** What the mirror needs of a JetStream client (`js.publish`'s shape; a test stands in for it). */
export interface RecordPublisher {
  publish(subject: string, data: Uint8Array | string, options: { msgID: string; headers: MsgHdrs; timeout: number }): Promise<PubAck>;
}

interface Waiting {
  resolve: (ack: PubAck) => void;
  reject: (error: Error) => void;
  deadlineMs: number;
}

export class WindowPublisher implements RecordPublisher {
  private readonly prefix = createInbox();
  private readonly waiting = new Map<string, Waiting>();
  private readonly subscription: Subscription;
  private readonly sweep: ReturnType<typeof setInterval>;
  private next = 0;

  constructor(private readonly nc: NatsConnection, sweepMs = 250) {
    this.subscription = nc.subscribe(`${this.prefix}.*`, {
      callback: (_error, msg) => {
        const token = msg.subject.slice(this.prefix.length + 1);
        const w = this.waiting.get(token);
        if (!w) return; // timed out already
        this.waiting.delete(token);
        if (msg.headers?.hasError) {
          w.reject(new LabError('E_LAB_PUBLISH', `the broker answered ${msg.headers.code} ${msg.headers.description}`, 'is the raw stream there? (fiberrig agent creates it)'));
          return;
        }
        let ack: PubAck & { error?: { code: number; description: string } };
        try {
          ack = JSON.parse(msg.string()) as typeof ack;
        } catch {
          w.reject(new LabError('E_LAB_PUBLISH', 'the broker\'s PubAck is not JSON', 'check that the server is nats-server with JetStream'));
          return;
        }
        if (ack.error) w.reject(new LabError('E_LAB_PUBLISH', `JetStream refused the record: ${ack.error.code} ${ack.error.description}`, 'see the stream\'s limits and the server log'));
        else w.resolve(ack);
      },
    });
    // insertion order is deadline order (one timeout per publisher user): stop at the first one not due
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (const [token, w] of this.waiting) {
        if (w.deadlineMs > now) break;
        this.waiting.delete(token);
        w.reject(new LabError('E_LAB_PUBLISH_TIMEOUT', 'no PubAck in time', 'the broker is away or overloaded; the mirror retries'));
      }
    }, sweepMs);
  }

  publish(subject: string, data: Uint8Array | string, options: { msgID: string; headers: MsgHdrs; timeout: number }): Promise<PubAck> {
    const token = (this.next++).toString(36);
    options.headers.set('Nats-Msg-Id', options.msgID);
    return new Promise<PubAck>((resolve, reject) => {
      this.waiting.set(token, { resolve, reject, deadlineMs: Date.now() + options.timeout });
      try {
        this.nc.publish(subject, data, { reply: `${this.prefix}.${token}`, headers: options.headers });
      } catch (error) {
        this.waiting.delete(token);
        reject(error as Error);
      }
    });
  }

  /** Stops listening; what is still waiting is rejected. */
  close(): void {
    clearInterval(this.sweep);
    this.subscription.unsubscribe();
    for (const w of this.waiting.values()) w.reject(new LabError('E_LAB_PUBLISH_CLOSED', 'publisher closed', 'the agent is stopping; a later agent back-fills'));
    this.waiting.clear();
  }
}
