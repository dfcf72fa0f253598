// Writes the raw log (see rawlog-format.ts for the record layout): append-only,
// CRC-checked records, fsynced at least every `fsyncIntervalMs`.
import { closeSync, fsync, fsyncSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { JournalEntry } from '../rig/journal.ts';
import { type CheckpointSchedule, CheckpointScheduler } from './checkpoint.ts';
import { RecordError } from './errors.ts';
import {
  encodeEntry, encodeRecordBytes, headerPayload, jsonBytes, MAX_RECORD_PAYLOAD_BYTES, putRecord, RAW_LOG_FORMAT_VERSION,
  RECORD_OVERHEAD_BYTES, type RawLogHeader, RecordType,
} from './rawlog-format.ts';
import { FIBERRIG_VERSION } from './version.ts';

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
  /** How often checkpoint records (a redundant copy of what replay needs) are written; see checkpoint.ts. */
  checkpoints?: CheckpointSchedule;
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
  private checkpoints: CheckpointScheduler | undefined;

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
    writer.checkpoints = new CheckpointScheduler(header, options.checkpoints);
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
    const checkpoint = this.checkpoints?.after(entry, payload);
    if (checkpoint) this.append(RecordType.checkpoint, entry.hostTimeUs, checkpoint);
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
