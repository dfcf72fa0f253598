// The raw log's record format (encoding and decoding). The raw log: an append-only file of records holding the host's journal
// (every received byte before any decoding, what each command meant, link
// openings, heartbeat round trips), so the whole acquisition can be replayed
// offline bit for bit. Crash-safe: records are CRC-checked, the file is
// fsynced at least every `fsyncIntervalMs`, and a torn tail (a partial record
// or a bad CRC after a crash or power cut) is detected and ignored on reopen.
//
// Record layout (little-endian):
//
//   offset  size  field
//   0       2     sync bytes 0x46 0xD7
//   2       1     record type (RecordType)
//   3       1     flags, 0
//   4       4     payload length n (<= MAX_RECORD_PAYLOAD_BYTES)
//   8       8     host time, µs since the Unix epoch (float64, exact below 2^53)
//   16      n     payload
//   16+n    4     CRC-32C of bytes [0, 16+n)
//
// The first record is a header: "FRRAWLOG" + u16 format version + u16 0 +
// JSON (fiberrig version, host start time). Payloads: link = u8 (1 open, 0
// closed); device-info = protobuf DeviceInfo; intent = u32 request id, u8
// command (1 configure, 2 start, 3 stop), then configure: protobuf
// AcquisitionConfig, start: u8 resume reason (0 none, 1 missing-blocks,
// 2 reconnect, 3 device-reset) + f64 missing detector samples (the host's
// estimate) [+ f64 reset session index + f64 its uncertainty in samples, NaN
// when not measured; absent in logs written before they existed]; rx = the bytes
// as received; heartbeat = f64 host send µs, f64 host receive µs, f64 device
// sample index, f64 device time µs, u8 running; meta and end = JSON.
// Format 2 adds checkpoint records (type 9, see checkpoint.ts): a redundant
// copy of the header, device info and the intents replay needs, written with
// each Start and periodically, so damage near the start loses only what it
// touches. Format 1 logs (no checkpoints) read as before.
// Readers skip record types they do not know (CRC-checked), so later versions
// can add types.
import type { Checkpoint } from './checkpoint.ts';
import { type AcquisitionConfigInit, crc32c, type DeviceInfo, pb } from '../../protocol/index.ts';
import type { GapReason, Intent } from '../rig/assembler.ts';
import type { JournalEntry } from '../rig/journal.ts';
import { RecordError } from './errors.ts';

export const RAW_LOG_FORMAT_VERSION = 2;
export const RAW_LOG_MAGIC = 'FRRAWLOG';
export const RAW_LOG_FILE_NAME = 'raw.fjl';
export const SYNC0 = 0x46;
export const SYNC1 = 0xd7;
export const RECORD_HEADER_BYTES = 16;
export const RECORD_TRAILER_BYTES = 4;
export const RECORD_OVERHEAD_BYTES = RECORD_HEADER_BYTES + RECORD_TRAILER_BYTES;
/** Largest payload a record may carry; a length field above it marks a damaged record. */
export const MAX_RECORD_PAYLOAD_BYTES = 16 * 1024 * 1024;

export const RecordType = {
  header: 1,
  link: 2,
  deviceInfo: 3,
  intent: 4,
  rx: 5,
  heartbeat: 6,
  meta: 7,
  end: 8,
  checkpoint: 9,
} as const;

export interface RawLogHeader {
  magic: string;
  formatVersion: number;
  fiberrigVersion: string;
  hostStartTimeUs: number;
  hostStartIso: string;
}

/** Everything a raw log holds, in file order. */
export type RawLogRecord =
  | { kind: 'header'; hostTimeUs: number; header: RawLogHeader }
  | { kind: 'entry'; entry: JournalEntry }
  | { kind: 'meta'; hostTimeUs: number; meta: Record<string, unknown> }
  | { kind: 'end'; hostTimeUs: number; end: Record<string, unknown> }
  | { kind: 'checkpoint'; hostTimeUs: number; checkpoint: Checkpoint };

const COMMANDS = { configure: 1, start: 2, stop: 3 } as const;
const REASONS: Record<GapReason, number> = { 'missing-blocks': 1, reconnect: 2, 'device-reset': 3 };
const REASON_NAMES: Record<number, GapReason> = { 1: 'missing-blocks', 2: 'reconnect', 3: 'device-reset' };

/**
 * The configuration exactly as the device receives it: a protobuf round trip
 * (float fields become float32). Give the Rig, the live demodulator and the
 * raw log this object and offline replay sees the same numbers bit for bit.
 */
export function canonicalConfig(config: AcquisitionConfigInit): AcquisitionConfigInit {
  const decoded = pb.AcquisitionConfig.decode(pb.AcquisitionConfig.encode(config).finish());
  return pb.AcquisitionConfig.toObject(decoded) as AcquisitionConfigInit;
}

// ------------------------------------------------------------------ encoding

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export function jsonBytes(value: unknown): Uint8Array {
  return textEncoder.encode(JSON.stringify(value));
}

/** Record type and payload of one journal entry. */
export function encodeEntry(entry: JournalEntry): { type: number; payload: Uint8Array } {
  switch (entry.type) {
    case 'link':
      return { type: RecordType.link, payload: Uint8Array.of(entry.state === 'open' ? 1 : 0) };
    case 'device-info':
      return { type: RecordType.deviceInfo, payload: pb.DeviceInfo.encode(entry.info as never).finish() };
    case 'rx':
      return { type: RecordType.rx, payload: entry.bytes };
    case 'heartbeat': {
      // bytes 33..36, when known: reply_queued_us (protocol 1.2; a reader before it stops at 33)
      const queued = entry.sample.replyQueuedUs;
      const b = Buffer.allocUnsafe(queued === undefined ? 33 : 37);
      b.writeDoubleLE(entry.sample.hostSendUs, 0);
      b.writeDoubleLE(entry.sample.hostReceiveUs, 8);
      b.writeDoubleLE(entry.sample.deviceSampleIndex, 16);
      b.writeDoubleLE(entry.sample.deviceTimeUs, 24);
      b[32] = entry.sample.running ? 1 : 0;
      if (queued !== undefined) b.writeUInt32LE(Math.min(0xffff_ffff, Math.max(0, Math.round(queued))), 33);
      return { type: RecordType.heartbeat, payload: b };
    }
    case 'intent':
      return { type: RecordType.intent, payload: encodeIntent(entry.intent) };
    default:
      throw new RecordError('E_RAWLOG_ENTRY', `unknown journal entry type ${(entry as { type: string }).type}`, 'update fiberrig: this journal entry has no raw log record yet');
  }
}

function encodeIntent(intent: Intent): Uint8Array {
  const head = Buffer.alloc(5);
  head.writeUInt32LE(intent.requestId >>> 0, 0);
  head[4] = COMMANDS[intent.command];
  if (intent.command === 'configure') return Buffer.concat([head, pb.AcquisitionConfig.encode(intent.config).finish()]);
  if (intent.command === 'start') {
    const tail = Buffer.alloc(intent.resume ? 25 : 9);
    if (intent.resume) {
      tail[0] = REASONS[intent.resume.reason];
      tail.writeDoubleLE(intent.resume.missingDetectorSamples, 1);
      tail.writeDoubleLE(intent.resume.reset?.resetSessionIndex ?? Number.NaN, 9);
      tail.writeDoubleLE(intent.resume.reset?.uncertaintySamples ?? Number.NaN, 17);
    }
    return Buffer.concat([head, tail]);
  }
  return head;
}

function damaged(what: string, cause?: unknown): RecordError {
  return new RecordError('E_RAWLOG_RECORD', `raw log record is malformed: ${what}`, 'the record passed its CRC but does not decode; report it with the raw log', cause ? { cause } : undefined);
}

/** Decodes one record's payload (CRC already checked); undefined for types this version does not know. */
export function decodeRecord(type: number, hostTimeUs: number, payload: Uint8Array): RawLogRecord | undefined {
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  switch (type) {
    case RecordType.header:
      return { kind: 'header', hostTimeUs, header: decodeHeaderPayload(buf) };
    case RecordType.link:
      return { kind: 'entry', entry: { type: 'link', hostTimeUs, state: buf[0] === 1 ? 'open' : 'closed' } };
    case RecordType.deviceInfo:
      try {
        return { kind: 'entry', entry: { type: 'device-info', hostTimeUs, info: pb.DeviceInfo.decode(buf) as unknown as DeviceInfo } };
      } catch (cause) {
        throw damaged('device info', cause);
      }
    case RecordType.rx:
      return { kind: 'entry', entry: { type: 'rx', hostTimeUs, bytes: payload } };
    case RecordType.heartbeat:
      if (buf.length < 33) throw damaged('heartbeat too short');
      return {
        kind: 'entry',
        entry: {
          type: 'heartbeat', hostTimeUs,
          sample: {
            hostSendUs: buf.readDoubleLE(0), hostReceiveUs: buf.readDoubleLE(8), deviceSampleIndex: buf.readDoubleLE(16), deviceTimeUs: buf.readDoubleLE(24), running: buf[32] === 1,
            ...(buf.length >= 37 ? { replyQueuedUs: buf.readUInt32LE(33) } : {}),
          },
        },
      };
    case RecordType.intent:
      return { kind: 'entry', entry: { type: 'intent', hostTimeUs, intent: decodeIntent(buf) } };
    case RecordType.meta:
      return { kind: 'meta', hostTimeUs, meta: parseJson(buf, 'meta') };
    case RecordType.end:
      return { kind: 'end', hostTimeUs, end: parseJson(buf, 'end') };
    default:
      return undefined;
  }
}

function parseJson(buf: Buffer, what: string): Record<string, unknown> {
  try {
    return JSON.parse(textDecoder.decode(buf)) as Record<string, unknown>;
  } catch (cause) {
    throw damaged(`${what} JSON`, cause);
  }
}

function decodeIntent(buf: Buffer): Intent {
  if (buf.length < 5) throw damaged('intent too short');
  const requestId = buf.readUInt32LE(0);
  switch (buf[4]) {
    case COMMANDS.configure:
      try {
        return { requestId, command: 'configure', config: pb.AcquisitionConfig.toObject(pb.AcquisitionConfig.decode(buf.subarray(5))) as AcquisitionConfigInit };
      } catch (cause) {
        throw damaged('configure intent', cause);
      }
    case COMMANDS.start: {
      const reason = buf.length >= 14 ? REASON_NAMES[buf[5]!] : undefined;
      if (!reason) return { requestId, command: 'start' };
      const resume: NonNullable<Extract<Intent, { command: 'start' }>['resume']> = { reason, missingDetectorSamples: buf.readDoubleLE(6) };
      if (buf.length >= 30) {
        const resetSessionIndex = buf.readDoubleLE(14);
        const uncertaintySamples = buf.readDoubleLE(22);
        if (Number.isFinite(resetSessionIndex) && Number.isFinite(uncertaintySamples)) resume.reset = { resetSessionIndex, uncertaintySamples };
      }
      return { requestId, command: 'start', resume };
    }
    case COMMANDS.stop:
      return { requestId, command: 'stop' };
    default:
      throw damaged(`intent command ${buf[4]}`);
  }
}

export function headerPayload(header: RawLogHeader): Uint8Array {
  const head = Buffer.alloc(12);
  head.write(RAW_LOG_MAGIC, 0, 'ascii');
  head.writeUInt16LE(header.formatVersion, 8);
  return Buffer.concat([head, jsonBytes(header)]);
}

function decodeHeaderPayload(buf: Buffer): RawLogHeader {
  if (buf.length < 12 || buf.toString('ascii', 0, 8) !== RAW_LOG_MAGIC) {
    throw new RecordError('E_RAWLOG_NOT_A_LOG', 'the file does not start with a fiberrig raw log header', 'pass the raw.fjl of a recording made by fiberrig acquire');
  }
  const formatVersion = buf.readUInt16LE(8);
  if (formatVersion > RAW_LOG_FORMAT_VERSION) {
    throw new RecordError('E_RAWLOG_VERSION', `raw log format ${formatVersion} is newer than this fiberrig reads (${RAW_LOG_FORMAT_VERSION})`, 'update fiberrig');
  }
  return { ...(parseJson(buf.subarray(12), 'header') as unknown as RawLogHeader), formatVersion };
}

/** Writes one record (header + payload + CRC) into `out` at `at`; returns the end offset. */
export function putRecord(out: Buffer, at: number, type: number, hostTimeUs: number, payload: Uint8Array): number {
  out[at] = SYNC0;
  out[at + 1] = SYNC1;
  out[at + 2] = type;
  out[at + 3] = 0;
  out.writeUInt32LE(payload.byteLength, at + 4);
  out.writeDoubleLE(hostTimeUs, at + 8);
  out.set(payload, at + RECORD_HEADER_BYTES);
  const end = at + RECORD_HEADER_BYTES + payload.byteLength;
  out.writeUInt32LE(crc32c(out.subarray(at, end)), end);
  return end + RECORD_TRAILER_BYTES;
}

/** One complete record as bytes (for tests and tools). */
export function encodeRecordBytes(type: number, hostTimeUs: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(payload.byteLength + RECORD_OVERHEAD_BYTES);
  putRecord(out, 0, type, hostTimeUs, payload);
  return out;
}
