// Replaying a damaged raw log: where the lost header, device info,
// configuration and intents come from, and how the assembler resumes placing
// samples after a damaged Configure or Start (intent or Ack).
//
// Sources, in order: the log's own records; checkpoint records (the last one
// read, and the first one after the latest damaged span, found by reading
// ahead); session.json, only where its SHA-256 checks out (see session.ts).
// Nothing here acts before the reader has reported damage, so an undamaged
// log replays exactly as the live run went.
import type { AcquisitionConfigInit, DeviceInfo, Envelope } from '../../protocol/index.ts';
import type { Intent } from '../rig/assembler.ts';
import type { ReplayRecovery, ReplayState } from '../rig/journal.ts';
import type { Checkpoint, TimedIntent } from './checkpoint.ts';
import type { RawLogHeader } from './rawlog-format.ts';
import { RawLogReader } from './rawlog-reader.ts';
import { type SessionFile, sessionDeviceInfo, sessionWireConfig } from './session.ts';

/** Request ids for intents inferred from data (never used by the Rig, which counts up from 1). */
const INFERRED_CONFIGURE_ID = -2;
const INFERRED_START_ID = -1;

/** The first checkpoint at or after byte `from` of the raw log, read ahead with a second reader. */
export async function findCheckpoint(rawLogPath: string, from: number): Promise<{ at: number; checkpoint: Checkpoint | undefined }> {
  const reader = await RawLogReader.open(rawLogPath, { startAt: from });
  for await (const r of reader.records()) {
    if (r.kind === 'checkpoint') return { at: reader.stats.position, checkpoint: r.checkpoint };
  }
  return { at: Number.POSITIVE_INFINITY, checkpoint: undefined };
}

function ack(requestId: number, configId: number): Envelope {
  return { requestId, body: 'ack', ack: { configId, sampleIndex: 0 } } as unknown as Envelope;
}

function latestPending(pending: ReadonlyMap<number, Intent>, command: Intent['command']): Intent | undefined {
  let found: Intent | undefined;
  for (const intent of pending.values()) if (intent.command === command) found = intent;
  return found;
}

export class LogRecovery implements ReplayRecovery {
  /** Set once the reader reported damage: from then on lost entries are recovered. */
  damaged = false;
  /** Host time of the entry being replayed, µs (intents from the future are never used). */
  nowUs = 0;
  /** The last checkpoint read, in file order. */
  last: Checkpoint | undefined;
  /** The first checkpoint after the latest damaged span, and the byte where it ends. */
  next: { at: number; checkpoint: Checkpoint | undefined } | undefined;
  /** What was recovered, and from where (each once, in order). */
  readonly recovered: string[] = [];
  private readonly answered = new Set<number>();
  private startPlaced = false;

  constructor(private readonly session: SessionFile | null) {}

  note(what: string): void {
    if (!this.recovered.includes(what)) this.recovered.push(what);
  }

  /** Reads ahead to the first checkpoint after a damaged span ending at `endByte` (unless already known). */
  async damageEndsAt(rawLogPath: string, endByte: number): Promise<void> {
    this.damaged = true;
    if (this.next && this.next.at > endByte) return;
    this.next = await findCheckpoint(rawLogPath, endByte);
  }

  private checkpoints(): Checkpoint[] {
    return [this.last, this.next?.checkpoint].filter((c): c is Checkpoint => c !== undefined);
  }

  header(): RawLogHeader | undefined {
    const header = this.checkpoints().find((c) => c.header)?.header;
    if (header) this.note('header from a checkpoint record');
    return header;
  }

  deviceInfo(): DeviceInfo | undefined {
    const fromLog = this.checkpoints().find((c) => c.deviceInfo)?.deviceInfo?.info;
    if (fromLog) {
      this.note('device info from a checkpoint record');
      return fromLog;
    }
    const fromSession = sessionDeviceInfo(this.session);
    if (fromSession) this.note('device info from session.json (SHA-256 matches)');
    return fromSession;
  }

  config(): AcquisitionConfigInit | undefined {
    const configure = this.checkpoints().find((c) => c.configure)?.configure?.intent;
    if (configure?.command === 'configure') {
      this.note('configuration from a checkpoint record');
      return configure.config;
    }
    const fromSession = sessionWireConfig(this.session);
    if (fromSession) this.note('configuration from session.json (SHA-256 matches)');
    return fromSession;
  }

  /** Host time of the first Start (session index 0) from a checkpoint. */
  firstStartHostTimeUs(): number | undefined {
    return this.checkpoints().find((c) => c.firstStart)?.firstStart?.hostTimeUs;
  }

  before(message: Envelope, state: ReplayState): Array<{ intent: Intent; reply?: Envelope }> {
    if (message.requestId !== 0) {
      if (message.body !== 'ack') return [];
      const id = message.requestId;
      this.answered.add(id);
      const known = state.pending.get(id);
      if (known) {
        if (known.command === 'start') this.startPlaced = true;
        return [];
      }
      if (!this.damaged) return [];
      const intent = this.byRequestId(id);
      if (!intent) return [];
      this.note(`${intent.command} intent (request ${id}) from a checkpoint record`);
      if (intent.command === 'start') this.startPlaced = true;
      return [{ intent }];
    }
    if (!this.damaged || message.body !== 'sampleBlock') return [];
    const configId = message.sampleBlock!.configId;
    if (state.placing && state.configId === configId) return [];
    const out: Array<{ intent: Intent; reply?: Envelope }> = [];
    if (state.configId !== configId) {
      // the Configure's Ack (or the Configure) was lost: the data's config id is the one the device took
      const configure = latestPending(state.pending, 'configure') ?? this.unanswered('configure') ?? this.inferredConfigure(state);
      if (!configure) return [];
      out.push({ intent: configure, reply: ack(configure.requestId, configId) });
      this.answered.add(configure.requestId);
      this.note(`Configure accepted (config id ${configId}), inferred from the data after damage`);
    }
    if (!state.placing) {
      // the Start's Ack (or the Start) was lost, and data flows: the device started
      const start = latestPending(state.pending, 'start') ?? this.unanswered('start') ?? (this.startPlaced ? undefined : { requestId: INFERRED_START_ID, command: 'start' as const });
      if (start) {
        out.push({ intent: start, reply: ack(start.requestId, configId) });
        this.answered.add(start.requestId);
        this.startPlaced = true;
        this.note(start.requestId === INFERRED_START_ID ? 'Start inferred from the data after damage (no copy of the intent survived)' : `Start (request ${start.requestId}) accepted, inferred from the data after damage`);
      }
    }
    return out;
  }

  private byRequestId(id: number): Intent | undefined {
    for (const c of this.checkpoints()) {
      for (const t of [c.configure, c.start, c.firstStart]) if (t && t.intent.requestId === id) return t.intent;
    }
    return undefined;
  }

  /** The checkpoints' latest `command` intent, if it was never answered and is not from the future. */
  private unanswered(command: 'configure' | 'start'): Intent | undefined {
    for (const c of this.checkpoints()) {
      const t: TimedIntent | undefined = c[command];
      if (t && t.hostTimeUs <= this.nowUs && !this.answered.has(t.intent.requestId)) return t.intent;
    }
    return undefined;
  }

  /** No copy of the Configure survived: one from session.json's checked configuration, while no Configure took effect. */
  private inferredConfigure(state: ReplayState): Intent | undefined {
    if (state.configId !== 0 || this.answered.has(INFERRED_CONFIGURE_ID)) return undefined;
    const config = sessionWireConfig(this.session);
    if (!config) return undefined;
    this.note('configuration from session.json (SHA-256 matches)');
    return { requestId: INFERRED_CONFIGURE_ID, command: 'configure', config };
  }
}
