// The host's journal: everything needed to reproduce an acquisition offline,
// in the order it happened — received bytes (before any decoding), what each
// command meant, link openings, heartbeat round trips. The raw log stores it;
// replay() turns it back into the exact acquisition items the live Rig saw.
import { concatMap, from, type Observable } from 'rxjs';
import { decodeEnvelope, type DeviceInfo, type Envelope, FrameDecoder } from '../../protocol/index.ts';
import type { HeartbeatSample } from '../link/link.ts';
import {
  AcquisitionAssembler, type AcquisitionItem, type Intent, type TimedDigitalEvent, type TimedLedEvent,
} from './assembler.ts';

export type JournalEntry =
  | { type: 'link'; hostTimeUs: number; state: 'open' | 'closed' }
  | { type: 'device-info'; hostTimeUs: number; info: DeviceInfo }
  | { type: 'intent'; hostTimeUs: number; intent: Intent }
  | { type: 'rx'; hostTimeUs: number; bytes: Uint8Array }
  | { type: 'heartbeat'; hostTimeUs: number; sample: HeartbeatSample };

export type ReplayOutput =
  | { kind: 'item'; item: AcquisitionItem }
  | { kind: 'digital'; event: TimedDigitalEvent }
  | { kind: 'led'; event: TimedLedEvent };

/** What the assembler knows when a message arrives (for ReplayRecovery). */
export interface ReplayState {
  placing: boolean;
  configId: number;
  /** Intents logged (or recovered) and not yet answered, by request id. */
  pending: ReadonlyMap<number, Intent>;
}

/**
 * Repairs a journal with lost entries (a damaged raw log): called before each
 * decoded device message reaches the assembler; returns intents to register
 * first, each with a reply to apply at once or none (the message itself is the
 * reply). Never consulted for an undamaged journal's result: return [] then.
 */
export interface ReplayRecovery {
  before(message: Envelope, state: ReplayState): Array<{ intent: Intent; reply?: Envelope }>;
}

/**
 * Re-runs a journal through the same frame decoder and assembler the live Rig
 * uses. Deterministic: the same entries give the same items, bit for bit.
 */
export class JournalReplayer {
  private decoder: FrameDecoder | undefined;
  private readonly assembler: AcquisitionAssembler;
  private out: ReplayOutput[] = [];
  private readonly pending = new Map<number, Intent>();
  /** Received bytes since a break in the journal (breakStream), up to the first frame delimiter. */
  private splice: Uint8Array[] | undefined;
  /** Frame payloads captured instead of delivered (while resolving a splice). */
  private capture: Uint8Array[] | undefined;

  constructor(private readonly recovery?: ReplayRecovery) {
    this.assembler = new AcquisitionAssembler({
      item: (item) => this.out.push({ kind: 'item', item }),
      digital: (event) => this.out.push({ kind: 'digital', event }),
      led: (event) => this.out.push({ kind: 'led', event }),
    });
  }

  /** Segment of the acquisition the next device message belongs to (0 until the first resume). */
  get segment(): number {
    return this.assembler.currentSegment;
  }

  /** Applies one entry; returns what it produced. */
  push(entry: JournalEntry): ReplayOutput[] {
    this.out = [];
    switch (entry.type) {
      case 'link':
        // each connection has its own decoder: a partial frame never spans a reconnect
        this.decoder = entry.state === 'open' ? this.newDecoder() : undefined;
        this.splice = undefined;
        break;
      case 'intent':
        this.assembler.intent(entry.intent);
        if (this.recovery) this.pending.set(entry.intent.requestId, entry.intent);
        break;
      case 'rx': {
        const bytes = this.splice ? this.resolveSplice(entry.bytes) : entry.bytes;
        if (bytes.length) (this.decoder ??= this.newDecoder()).push(bytes);
        break;
      }
      default:
    }
    return this.out;
  }

  /**
   * Entries were lost here (a damaged raw log). A frame cut by the loss must
   * not swallow the next one: at the next frame delimiter the bytes are
   * decoded both joined to the partial frame before the break (the lost
   * entries held no received bytes) and alone (they did); the one that
   * decodes is delivered.
   */
  breakStream(): void {
    if (this.decoder?.hasPartialFrame) this.splice = [];
  }

  private resolveSplice(bytes: Uint8Array): Uint8Array {
    const delimiter = bytes.indexOf(0);
    if (delimiter === -1) {
      this.splice!.push(bytes);
      return bytes.subarray(0, 0);
    }
    const head = Buffer.concat([...this.splice!, bytes.subarray(0, delimiter + 1)]);
    this.splice = undefined;
    this.capture = [];
    this.decoder!.push(head);
    const joined = this.capture;
    this.capture = [];
    const fresh = this.newDecoder();
    fresh.push(head);
    const alone = this.capture;
    this.capture = undefined;
    this.decoder = fresh; // both are between frames now
    for (const payload of joined.length ? joined : alone) this.deliver(payload);
    return bytes.subarray(delimiter + 1);
  }

  private recover(message: Envelope): void {
    const a = this.assembler;
    for (const { intent, reply } of this.recovery!.before(message, { placing: a.placing, configId: a.configIdInForce, pending: this.pending })) {
      a.intent(intent);
      this.pending.set(intent.requestId, intent);
      if (reply) {
        a.message(reply);
        this.pending.delete(intent.requestId);
      }
    }
    if (message.requestId !== 0) this.pending.delete(message.requestId);
  }

  private newDecoder(): FrameDecoder {
    return new FrameDecoder((payload) => {
      if (this.capture) this.capture.push(payload);
      else this.deliver(payload);
    });
  }

  private deliver(payload: Uint8Array): void {
    try {
      const message = decodeEnvelope(payload);
      if (this.recovery) this.recover(message);
      this.assembler.message(message);
    } catch {
      // counted live; nothing to deliver
    }
  }
}

/** RxJS form of JournalReplayer. */
export function replay(entries: Observable<JournalEntry>): Observable<ReplayOutput> {
  const replayer = new JournalReplayer();
  return entries.pipe(concatMap((e) => from(replayer.push(e))));
}
