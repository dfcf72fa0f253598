// The host's journal: everything needed to reproduce an acquisition offline,
// in the order it happened — received bytes (before any decoding), what each
// command meant, link openings, heartbeat round trips. The raw log stores it;
// replay() turns it back into the exact acquisition items the live Rig saw.
import { concatMap, from, type Observable } from 'rxjs';
import { decodeEnvelope, type DeviceInfo, FrameDecoder } from '../../protocol/index.ts';
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

/**
 * Re-runs a journal through the same frame decoder and assembler the live Rig
 * uses. Deterministic: the same entries give the same items, bit for bit.
 */
export class JournalReplayer {
  private decoder: FrameDecoder | undefined;
  private readonly assembler: AcquisitionAssembler;
  private out: ReplayOutput[] = [];

  constructor() {
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
        break;
      case 'intent':
        this.assembler.intent(entry.intent);
        break;
      case 'rx':
        (this.decoder ??= this.newDecoder()).push(entry.bytes);
        break;
      default:
    }
    return this.out;
  }

  private newDecoder(): FrameDecoder {
    return new FrameDecoder((payload) => {
      try {
        this.assembler.message(decodeEnvelope(payload));
      } catch {
        // counted live; nothing to deliver
      }
    });
  }
}

/** RxJS form of JournalReplayer. */
export function replay(entries: Observable<JournalEntry>): Observable<ReplayOutput> {
  const replayer = new JournalReplayer();
  return entries.pipe(concatMap((e) => from(replayer.push(e))));
}
