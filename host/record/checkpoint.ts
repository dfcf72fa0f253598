// Checkpoint records (raw log format 2): a redundant copy of what replay needs
// to place samples — the header, the latest device info, the latest Configure
// intent, the first Start (time of session index 0) and the latest Start
// (resume fields included) — so a damaged record near the start of a log (or
// anywhere) costs only the samples it held.
//
// Written by the RawLogWriter right after every Start intent (before the
// device can answer it) and then every `everyBytes` of log or `everyUs` of
// host time while an acquisition runs. Payload:
//
//   u8 layout (1), then sections: u8 tag | u32 length | bytes
//   tag 1 header       the header record's payload
//   tag 2 device info  f64 host µs + the device-info record's payload
//   tag 3 configure    f64 host µs + the intent record's payload
//   tag 4 first start  f64 host µs + the intent record's payload
//   tag 5 latest start f64 host µs + the intent record's payload
//
// Sections reuse the records' own payload encodings (and decoders), so they
// decode to exactly what the original records hold. Unknown tags are skipped.
import type { DeviceInfo } from '../../protocol/index.ts';
import type { Intent } from '../rig/assembler.ts';
import type { JournalEntry } from '../rig/journal.ts';
import { RecordError } from './errors.ts';
import { decodeRecord, headerPayload, RECORD_OVERHEAD_BYTES, type RawLogHeader, RecordType } from './rawlog-format.ts';

const LAYOUT = 1;
const TAG = { header: 1, deviceInfo: 2, configure: 3, firstStart: 4, start: 5 } as const;

export interface TimedIntent {
  hostTimeUs: number;
  intent: Intent;
}

/** What a checkpoint repeats (each part optional: only what had happened when it was written). */
export interface Checkpoint {
  header?: RawLogHeader;
  deviceInfo?: { hostTimeUs: number; info: DeviceInfo };
  configure?: TimedIntent;
  /** The first Start without resume: its host time is the fallback time of session index 0. */
  firstStart?: TimedIntent;
  /** The latest Start (a resume after a reconnect or reset carries its gap estimate). */
  start?: TimedIntent;
}

function section(tag: number, body: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head[0] = tag;
  head.writeUInt32LE(body.byteLength, 1);
  return Buffer.concat([head, body]);
}

function timed(hostTimeUs: number, payload: Uint8Array): Buffer {
  const t = Buffer.alloc(8);
  t.writeDoubleLE(hostTimeUs, 0);
  return Buffer.concat([t, payload]);
}

function malformed(what: string): RecordError {
  return new RecordError('E_RAWLOG_RECORD', `raw log checkpoint is malformed: ${what}`, 'the record passed its CRC but does not decode; report it with the raw log');
}

/** Decodes a checkpoint record's payload (CRC already checked). */
export function decodeCheckpoint(payload: Uint8Array): Checkpoint {
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (buf.length < 1 || buf[0] !== LAYOUT) throw malformed(`layout ${buf[0]}`);
  const cp: Checkpoint = {};
  let at = 1;
  while (at < buf.length) {
    if (at + 5 > buf.length) throw malformed('truncated section');
    const tag = buf[at]!;
    const length = buf.readUInt32LE(at + 1);
    const body = buf.subarray(at + 5, at + 5 + length);
    if (body.length !== length) throw malformed('truncated section');
    at += 5 + length;
    if (tag === TAG.header) {
      const r = decodeRecord(RecordType.header, 0, body);
      if (r?.kind === 'header') cp.header = r.header;
      continue;
    }
    if (tag < TAG.deviceInfo || tag > TAG.start) continue;
    if (body.length < 8) throw malformed('section too short');
    const hostTimeUs = body.readDoubleLE(0);
    const rest = body.subarray(8);
    if (tag === TAG.deviceInfo) {
      const r = decodeRecord(RecordType.deviceInfo, hostTimeUs, rest);
      if (r?.kind === 'entry' && r.entry.type === 'device-info') cp.deviceInfo = { hostTimeUs, info: r.entry.info };
      continue;
    }
    const r = decodeRecord(RecordType.intent, hostTimeUs, rest);
    if (r?.kind !== 'entry' || r.entry.type !== 'intent') throw malformed('intent section');
    const t: TimedIntent = { hostTimeUs, intent: r.entry.intent };
    if (tag === TAG.configure) cp.configure = t;
    else if (tag === TAG.firstStart) cp.firstStart = t;
    else cp.start = t;
  }
  return cp;
}

export interface CheckpointSchedule {
  /** Log bytes between periodic checkpoints. Default 1 MiB. */
  everyBytes?: number;
  /** Host time between periodic checkpoints, µs. Default 2 s. */
  everyUs?: number;
}

/**
 * The writer's side: watches the journal entries as they are logged and says
 * when to write a checkpoint (and its payload). Pure bookkeeping, no I/O.
 */
export class CheckpointScheduler {
  private readonly sections = new Map<number, Buffer>();
  private payload: Buffer | undefined;
  private started = false;
  private bytesSince = 0;
  private lastUs = 0;
  private readonly everyBytes: number;
  private readonly everyUs: number;

  constructor(header: RawLogHeader, schedule: CheckpointSchedule = {}) {
    this.everyBytes = schedule.everyBytes ?? 1024 * 1024;
    this.everyUs = schedule.everyUs ?? 2_000_000;
    this.sections.set(TAG.header, section(TAG.header, headerPayload(header)));
  }

  /**
   * `entry` (whose record payload is `payload`) was just logged: returns a
   * checkpoint payload to log right after it, or undefined.
   */
  after(entry: JournalEntry, payload: Uint8Array): Uint8Array | undefined {
    this.bytesSince += payload.byteLength + RECORD_OVERHEAD_BYTES;
    if (entry.type === 'device-info') this.set(TAG.deviceInfo, entry.hostTimeUs, payload);
    if (entry.type === 'intent' && entry.intent.command === 'configure') this.set(TAG.configure, entry.hostTimeUs, payload);
    if (entry.type === 'intent' && entry.intent.command === 'start') {
      if (!entry.intent.resume) this.set(TAG.firstStart, entry.hostTimeUs, payload);
      this.set(TAG.start, entry.hostTimeUs, payload);
      this.started = true;
      return this.emit(entry.hostTimeUs);
    }
    if (!this.started) return undefined;
    if (this.bytesSince >= this.everyBytes || entry.hostTimeUs - this.lastUs >= this.everyUs) return this.emit(entry.hostTimeUs);
    return undefined;
  }

  private set(tag: number, hostTimeUs: number, payload: Uint8Array): void {
    if (tag === TAG.firstStart && this.sections.has(tag)) return; // the first one only
    this.sections.set(tag, section(tag, timed(hostTimeUs, payload)));
    this.payload = undefined;
  }

  private emit(hostTimeUs: number): Uint8Array {
    this.payload ??= Buffer.concat([Uint8Array.of(LAYOUT), ...[...this.sections.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s)]);
    this.bytesSince = this.payload.byteLength + RECORD_OVERHEAD_BYTES;
    this.lastUs = hostTimeUs;
    return this.payload;
  }
}
