// The raw log: an append-only file of records holding the host's journal
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
// 2 reconnect, 3 device-reset) + f64 missing detector samples; rx = the bytes
// as received; heartbeat = f64 host send µs, f64 host receive µs, f64 device
// sample index, f64 device time µs, u8 running; meta and end = JSON.
// Readers skip record types they do not know (CRC-checked), so later versions
// can add types.
import { closeSync, fsync, fsyncSync, openSync, writeSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type AcquisitionConfigInit, crc32c, type DeviceInfo, pb } from '../../protocol/index.ts';
import type { GapReason, Intent } from '../rig/assembler.ts';
import type { JournalEntry } from '../rig/journal.ts';
import { RecordError } from './errors.ts';
import { FIBERRIG_VERSION } from './version.ts';

export const RAW_LOG_FORMAT_VERSION = 1;
export const RAW_LOG_MAGIC = 'FRRAWLOG';
export const RAW_LOG_FILE_NAME = 'raw.fjl';
const SYNC0 = 0x46;
const SYNC1 = 0xd7;
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
  | { kind: 'end'; hostTimeUs: number; end: Record<string, unknown> };

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

function jsonBytes(value: unknown): Uint8Array {
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
      const b = Buffer.allocUnsafe(33);
      b.writeDoubleLE(entry.sample.hostSendUs, 0);
      b.writeDoubleLE(entry.sample.hostReceiveUs, 8);
      b.writeDoubleLE(entry.sample.deviceSampleIndex, 16);
      b.writeDoubleLE(entry.sample.deviceTimeUs, 24);
      b[32] = entry.sample.running ? 1 : 0;
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
    const tail = Buffer.alloc(9);
    if (intent.resume) {
      tail[0] = REASONS[intent.resume.reason];
      tail.writeDoubleLE(intent.resume.missingDetectorSamples, 1);
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
          sample: { hostSendUs: buf.readDoubleLE(0), hostReceiveUs: buf.readDoubleLE(8), deviceSampleIndex: buf.readDoubleLE(16), deviceTimeUs: buf.readDoubleLE(24), running: buf[32] === 1 },
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
      return reason ? { requestId, command: 'start', resume: { reason, missingDetectorSamples: buf.readDoubleLE(6) } } : { requestId, command: 'start' };
    }
    case COMMANDS.stop:
      return { requestId, command: 'stop' };
    default:
      throw damaged(`intent command ${buf[4]}`);
  }
}

function headerPayload(header: RawLogHeader): Uint8Array {
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
function putRecord(out: Buffer, at: number, type: number, hostTimeUs: number, payload: Uint8Array): number {
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

// -------------------------------------------------------------------- writer

export interface RawLogWriterOptions {
  /** Host clock, µs since the epoch (injectable for tests). */
  nowUs?: () => number;
  /** Buffered bytes that trigger a write. Default 64 KiB. */
  bufferBytes?: number;
  /** Longest time a record waits in the buffer, ms. Default 100. */
  flushIntervalMs?: number;
  /** Longest time between fsyncs while data arrives, ms. Default 500 (the contract is ≤ 1 s). */
  fsyncIntervalMs?: number;
  /** Called once when a write or fsync fails; the writer stops writing. */
  onError?: (error: RecordError) => void;
}

export interface RawLogWriterStats {
  records: number;
  /** Bytes handed to the OS (records complete). */
  bytesWritten: number;
  /** Received device bytes logged. */
  rxBytes: number;
  writes: number;
  fsyncs: number;
  /** Largest time between a record being logged and its bytes reaching the OS, ms. */
  maxHoldMs: number;
}

/**
 * Appends records to a new raw log. `write(entry)` is synchronous and cheap
 * (the Rig calls it from its receive path): records are encoded into a
 * buffer that goes to the OS when it holds `bufferBytes` or is
 * `flushIntervalMs` old, and the file is fsynced every `fsyncIntervalMs`
 * (in the background) and on close.
 */
export class RawLogWriter {
  readonly stats: RawLogWriterStats = { records: 0, bytesWritten: 0, rxBytes: 0, writes: 0, fsyncs: 0, maxHoldMs: 0 };
  private fd: number | undefined;
  private readonly buffer: Buffer;
  private used = 0;
  private oldestBufferedMs = 0;
  private dirty = false;
  private fsyncing = false;
  private failed: RecordError | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly nowUs: () => number;
  private readonly onError: ((error: RecordError) => void) | undefined;

  private constructor(readonly path: string, fd: number, options: RawLogWriterOptions) {
    this.fd = fd;
    this.nowUs = options.nowUs ?? (() => Date.now() * 1000);
    this.onError = options.onError;
    this.buffer = Buffer.allocUnsafe(options.bufferBytes ?? 64 * 1024);
    const flushMs = options.flushIntervalMs ?? 100;
    const fsyncMs = options.fsyncIntervalMs ?? 500;
    const flushTimer = setInterval(() => this.flushIfOlderThan(flushMs), Math.max(5, Math.floor(flushMs / 4)));
    const fsyncTimer = setInterval(() => this.backgroundFsync(), fsyncMs);
    flushTimer.unref();
    fsyncTimer.unref();
    this.timers.push(flushTimer, fsyncTimer);
  }

  /** Creates `path` (which must not exist) and writes and syncs the header record. */
  static async create(path: string, options: RawLogWriterOptions = {}): Promise<RawLogWriter> {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      throw new RecordError(
        code === 'EEXIST' ? 'E_RECORDING_EXISTS' : 'E_RAWLOG_OPEN', `cannot create raw log ${path}: ${(cause as Error).message}`,
        code === 'EEXIST' ? 'choose a new recording directory (--out); recordings are never overwritten' : 'check that the directory exists and is writable', { cause },
      );
    }
    const writer = new RawLogWriter(path, fd, options);
    const startUs = writer.nowUs();
    const header: RawLogHeader = {
      magic: 'fiberrig-raw-log', formatVersion: RAW_LOG_FORMAT_VERSION, fiberrigVersion: FIBERRIG_VERSION,
      hostStartTimeUs: startUs, hostStartIso: new Date(startUs / 1000).toISOString(),
    };
    writer.append(RecordType.header, startUs, headerPayload(header));
    writer.flush();
    try {
      fsyncSync(fd);
      // make the new directory entry durable too
      const dirFd = openSync(dirname(path), 'r');
      try { fsyncSync(dirFd); } catch { /* not supported everywhere */ } finally { closeSync(dirFd); }
    } catch (cause) {
      writer.fail('fsync', cause);
    }
    if (writer.failed) throw writer.failed;
    return writer;
  }

  /** The first failure, if any: after it nothing more is written. */
  get error(): RecordError | undefined {
    return this.failed;
  }

  get isOpen(): boolean {
    return this.fd !== undefined;
  }

  /** Logs one journal entry (the Rig's `onJournal`). */
  readonly write = (entry: JournalEntry): void => {
    const { type, payload } = encodeEntry(entry);
    if (entry.type === 'rx') this.stats.rxBytes += payload.byteLength;
    this.append(type, entry.hostTimeUs, payload);
  };

  /** Logs free-form metadata (host-side settings, subject) as JSON. */
  writeMeta(meta: Record<string, unknown>): void {
    this.append(RecordType.meta, this.nowUs(), jsonBytes(meta));
  }

  /** Hands buffered records to the OS now. */
  flush(): void {
    if (this.used === 0 || this.fd === undefined || this.failed) return;
    this.writeOut(this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  /** Flushes and fsyncs now. */
  sync(): void {
    this.flush();
    if (this.fd === undefined || this.failed) return;
    try {
      fsyncSync(this.fd);
      this.stats.fsyncs++;
      this.dirty = false;
    } catch (cause) {
      this.fail('fsync', cause);
    }
  }

  /** Writes an end record (a clean close), flushes, fsyncs and closes. Idempotent. */
  async close(end: Record<string, unknown> = {}): Promise<void> {
    if (this.fd === undefined) return;
    for (const t of this.timers) clearInterval(t);
    if (!this.failed) this.append(RecordType.end, this.nowUs(), jsonBytes(end));
    this.sync();
    while (this.fsyncing) await new Promise((r) => setTimeout(r, 1));
    const fd = this.fd;
    this.fd = undefined;
    try {
      closeSync(fd);
    } catch (cause) {
      this.fail('close', cause);
    }
    if (this.failed) throw this.failed;
  }

  private append(type: number, hostTimeUs: number, payload: Uint8Array): void {
    if (this.fd === undefined || this.failed) return;
    const size = payload.byteLength + RECORD_OVERHEAD_BYTES;
    if (payload.byteLength > MAX_RECORD_PAYLOAD_BYTES) {
      this.fail('append', new Error(`record of ${payload.byteLength} bytes exceeds ${MAX_RECORD_PAYLOAD_BYTES}`));
      return;
    }
    if (this.used + size > this.buffer.length) this.flush();
    if (size > this.buffer.length) {
      this.writeOut(encodeRecordBytes(type, hostTimeUs, payload));
    } else {
      if (this.used === 0) this.oldestBufferedMs = performance.now();
      this.used = putRecord(this.buffer, this.used, type, hostTimeUs, payload);
    }
    this.stats.records++;
  }

  private writeOut(bytes: Uint8Array): void {
    if (this.fd === undefined) return;
    try {
      let off = 0;
      while (off < bytes.byteLength) off += writeSync(this.fd, bytes, off, bytes.byteLength - off);
      this.stats.writes++;
      this.stats.bytesWritten += bytes.byteLength;
      this.dirty = true;
      if (this.used > 0) this.stats.maxHoldMs = Math.max(this.stats.maxHoldMs, performance.now() - this.oldestBufferedMs);
    } catch (cause) {
      this.fail('write', cause);
    }
  }

  private flushIfOlderThan(ms: number): void {
    if (this.used > 0 && performance.now() - this.oldestBufferedMs >= ms) this.flush();
  }

  private backgroundFsync(): void {
    this.flush();
    if (!this.dirty || this.fsyncing || this.fd === undefined || this.failed) return;
    this.fsyncing = true;
    this.dirty = false;
    fsync(this.fd, (error) => {
      this.fsyncing = false;
      if (error) this.fail('fsync', error);
      else this.stats.fsyncs++;
    });
  }

  private fail(what: string, cause: unknown): void {
    if (this.failed) return;
    this.failed = new RecordError('E_RAWLOG_WRITE', `raw log ${what} failed on ${this.path}: ${(cause as Error).message}`, 'free disk space or use another disk; the recording stopped being lossless here', { cause });
    this.onError?.(this.failed);
  }
}

// -------------------------------------------------------------------- reader

export interface RawLogReadStats {
  fileBytes: number;
  /** Bytes consumed so far (valid records, skipped damage, torn tail). */
  position: number;
  records: number;
  /** Records of types this version does not know (skipped). */
  unknownRecords: number;
  /** Damaged spans inside the file (skipped, reading resumed at the next valid record). */
  corruptSpans: number;
  corruptBytes: number;
  /** Bytes after the last valid record that form no valid record: the torn tail of a crash. */
  tornTailBytes: number;
  /** True when the log ends with an end record (closed cleanly). */
  cleanEnd: boolean;
}

const CHUNK_BYTES = 1024 * 1024;

/** A forward-only window over a file; chunks are fresh buffers, so views handed out stay valid. */
class Window {
  private buf: Buffer = Buffer.alloc(0);
  private base = 0;
  private fileEnd = 0;
  private eof = false;

  constructor(private readonly fh: FileHandle) {}

  /** Makes bytes [pos, pos + n) available; false if the file ends before. Drops bytes before `pos`. */
  async ensure(pos: number, n: number): Promise<boolean> {
    while (pos + n > this.base + this.buf.length) {
      if (this.eof) return false;
      const keepFrom = Math.max(0, Math.min(pos - this.base, this.buf.length));
      const keep = this.buf.subarray(keepFrom);
      const want = Math.max(CHUNK_BYTES, n - keep.length);
      const next = Buffer.allocUnsafe(keep.length + want);
      keep.copy(next, 0);
      const { bytesRead } = await this.fh.read(next, keep.length, want, this.fileEnd);
      if (bytesRead === 0) this.eof = true;
      this.fileEnd += bytesRead;
      this.base += keepFrom;
      this.buf = next.subarray(0, keep.length + bytesRead);
    }
    return true;
  }

  byte(pos: number): number {
    return this.buf[pos - this.base]!;
  }

  view(pos: number, n: number): Buffer {
    return this.buf.subarray(pos - this.base, pos - this.base + n);
  }
}

export interface RawLogReaderOptions {
  /** Called now and then with the bytes consumed so far. */
  onProgress?: (position: number, fileBytes: number) => void;
}

/**
 * Streams a raw log: `records()` yields every record, `entries()` the journal
 * entries. Memory is bounded by the largest record (plus a 1 MiB window).
 */
export class RawLogReader {
  readonly stats: RawLogReadStats;
  private constructor(readonly path: string, private readonly fh: FileHandle, fileBytes: number, private readonly options: RawLogReaderOptions) {
    this.stats = { fileBytes, position: 0, records: 0, unknownRecords: 0, corruptSpans: 0, corruptBytes: 0, tornTailBytes: 0, cleanEnd: false };
  }

  static async open(path: string, options: RawLogReaderOptions = {}): Promise<RawLogReader> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (cause) {
      throw new RecordError('E_RAWLOG_OPEN', `cannot open raw log ${path}: ${(cause as Error).message}`, 'pass a recording directory (or its raw.fjl) made by fiberrig acquire', { cause });
    }
    const { size } = await fh.stat();
    return new RawLogReader(path, fh, size, options);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  /** Every record in file order; the first is the header. Closes the file when done. */
  async *records(): AsyncGenerator<RawLogRecord> {
    const win = new Window(this.fh);
    const stats = this.stats;
    let pos = 0;
    let lastProgress = 0;
    let first = true;
    try {
      while (true) {
        const valid = await this.recordAt(win, pos);
        if (valid === undefined) {
          if (first) {
            throw new RecordError('E_RAWLOG_NOT_A_LOG', `${this.path} does not start with a valid raw log record`, 'pass the raw.fjl of a recording made by fiberrig acquire');
          }
          const next = await this.resync(win, pos + 1);
          if (next === undefined) {
            stats.tornTailBytes = stats.fileBytes - pos;
            stats.position = stats.fileBytes;
            break;
          }
          stats.corruptSpans++;
          stats.corruptBytes += next - pos;
          pos = next;
          continue;
        }
        const { type, hostTimeUs, payload, end } = valid;
        if (first && type !== RecordType.header) {
          throw new RecordError('E_RAWLOG_NOT_A_LOG', `${this.path} does not start with a raw log header`, 'pass the raw.fjl of a recording made by fiberrig acquire');
        }
        first = false;
        pos = end;
        stats.position = pos;
        stats.records++;
        const record = decodeRecord(type, hostTimeUs, payload);
        if (!record) {
          stats.unknownRecords++;
          continue;
        }
        stats.cleanEnd = record.kind === 'end';
        if (this.options.onProgress && pos - lastProgress >= CHUNK_BYTES) {
          lastProgress = pos;
          this.options.onProgress(pos, stats.fileBytes);
        }
        yield record;
      }
      this.options.onProgress?.(stats.position, stats.fileBytes);
    } finally {
      await this.fh.close().catch(() => undefined);
    }
  }

  /** The journal entries, in order (header, meta and end records skipped). */
  async *entries(): AsyncGenerator<JournalEntry> {
    for await (const r of this.records()) if (r.kind === 'entry') yield r.entry;
  }

  /** The record at `pos` if it is complete and its CRC matches. */
  private async recordAt(win: Window, pos: number): Promise<{ type: number; hostTimeUs: number; payload: Uint8Array; end: number } | undefined> {
    if (!(await win.ensure(pos, RECORD_HEADER_BYTES))) return undefined;
    const head = win.view(pos, RECORD_HEADER_BYTES);
    if (head[0] !== SYNC0 || head[1] !== SYNC1) return undefined;
    const length = head.readUInt32LE(4);
    if (length > MAX_RECORD_PAYLOAD_BYTES) return undefined;
    const total = RECORD_HEADER_BYTES + length + RECORD_TRAILER_BYTES;
    if (pos + total > this.stats.fileBytes) return undefined;
    if (!(await win.ensure(pos, total))) return undefined;
    const whole = win.view(pos, total);
    const body = whole.subarray(0, RECORD_HEADER_BYTES + length);
    if (crc32c(body) !== whole.readUInt32LE(RECORD_HEADER_BYTES + length)) return undefined;
    return { type: whole[2]!, hostTimeUs: whole.readDoubleLE(8), payload: whole.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + length), end: pos + total };
  }

  /** Position of the next valid record at or after `from`, or undefined. */
  private async resync(win: Window, from: number): Promise<number | undefined> {
    for (let p = from; p + RECORD_OVERHEAD_BYTES <= this.stats.fileBytes; p++) {
      if (!(await win.ensure(p, 2))) return undefined;
      if (win.byte(p) !== SYNC0 || win.byte(p + 1) !== SYNC1) continue;
      if (await this.recordAt(win, p)) return p;
    }
    return undefined;
  }
}

/** Streams the journal entries of a raw log (torn tail ignored). */
export async function* readRawLog(path: string): AsyncGenerator<JournalEntry> {
  const reader = await RawLogReader.open(path);
  yield* reader.entries();
}
