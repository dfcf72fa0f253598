// Writes the raw log (see rawlog-format.ts for the record layout): append-only,
// CRC-checked records, fsynced at least every `fsyncIntervalMs`. Records are
// encoded on the caller's thread; the disk I/O runs in a worker (rawlog-io.ts).
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { JournalEntry } from '../rig/journal.ts';
import { type CheckpointSchedule, CheckpointScheduler } from './checkpoint.ts';
import { RecordError } from './errors.ts';
import { RawLogIo, type RawLogIoEvents } from './rawlog-io.ts';
import {
  encodeEntry, encodeRecordBytes, headerPayload, jsonBytes, MAX_RECORD_PAYLOAD_BYTES, putRecord, RAW_LOG_FORMAT_VERSION,
  RECORD_OVERHEAD_BYTES, type RawLogHeader, RecordType,
} from './rawlog-format.ts';
import { FIBERRIG_VERSION } from './version.ts';

/** RawLogWriterOptions.bufferBytes's default (disk-space.ts sizes its reserve from it). */
export const DEFAULT_RAWLOG_BUFFER_BYTES = 256 * 1024;

export interface RawLogWriterOptions {
  /** Host clock, µs since the epoch (injectable for tests). */
  nowUs?: () => number;
  /**
   * Buffered bytes that trigger a write. Default DEFAULT_RAWLOG_BUFFER_BYTES (256 KiB): what is still buffered
   * when the disk fills is written into the space reserve, sized from it (disk-space.ts); the buffers are
   * reused, so a slow flow costs no more. (1 MiB saved no measurable CPU: ~650 vs ~160 writes per simulated
   * hour at full speed.)
   */
  bufferBytes?: number;
  /** Longest time a record waits in the buffer, ms. Default 100. */
  flushIntervalMs?: number;
  /** Longest time between fsyncs while data arrives, ms. Default 500 (the contract is ≤ 1 s). */
  fsyncIntervalMs?: number;
  /** Called once when a write or fsync fails; the writer stops writing. */
  onError?: (error: RecordError) => void;
  /**
   * Most bytes handed to the I/O worker and not yet written; past it the
   * writer fails (E_RAWLOG_WRITE) instead of growing. Default 256 MiB.
   */
  maxQueuedBytes?: number;
  /**
   * TEST ONLY (a seam for the disk-stall test): the I/O worker blocks for
   * `durationMs` (Atomics.wait) before its first write once `afterBytes` are
   * written, as a disk that stops answering would. Never set it otherwise.
   */
  testOnlyStall?: { afterBytes: number; durationMs: number };
  /** How often checkpoint records (a redundant copy of what replay needs) are written; see checkpoint.ts. */
  checkpoints?: CheckpointSchedule;
}

export interface RawLogWriterStats {
  records: number;
  /** Bytes the I/O worker confirmed written to the OS (records complete). */
  bytesWritten: number;
  /** Bytes handed to the I/O worker and not yet confirmed written. */
  bytesQueued: number;
  /** Most bytes waiting for the disk at once so far (from the worker's own count, so exact however busy this thread was). */
  maxQueuedBytes: number;
  /** Received device bytes logged. */
  rxBytes: number;
  writes: number;
  /** Record buffers allocated (the rest of the hand-overs reused one the worker gave back). */
  buffersAllocated: number;
  fsyncs: number;
  /** Largest time between a record being logged and its bytes reaching the OS (confirmed by the worker), ms. */
  maxHoldMs: number;
  /** CPU seconds (user + system) of the I/O worker thread, its writes' system time included: set on close (Linux; else null). */
  ioThreadCpuS: number | null;
}

/** Written buffers kept for reuse (the worker gives each back): enough for the hand-overs in flight at full speed. */
const SPARE_BUFFERS = 4;

/** Default bound of the bytes waiting for the disk. */
export const DEFAULT_MAX_QUEUED_BYTES = 256 * 1024 * 1024;

/**
 * Appends records to a new raw log. `write(entry)` is synchronous and cheap
 * (the Rig calls it from its receive path): records are encoded into a
 * buffer that is handed to the I/O worker (by transfer) when it holds
 * `bufferBytes` or is `flushIntervalMs` old; the worker writes it, gives the
 * buffer back (by transfer) for the next records, fsyncs
 * every `fsyncIntervalMs` while data arrives, and on close. The caller's
 * thread never waits for the disk: a stalled disk queues chunks (bounded by
 * `maxQueuedBytes`) and stalls nothing else.
 */
export class RawLogWriter {
  readonly stats: RawLogWriterStats = { records: 0, bytesWritten: 0, bytesQueued: 0, maxQueuedBytes: 0, rxBytes: 0, writes: 0, buffersAllocated: 0, fsyncs: 0, maxHoldMs: 0, ioThreadCpuS: null };
  /** Defined (0) while open; the descriptor itself lives in the I/O worker. */
  private fd: number | undefined;
  private buffer: Buffer;
  /** Buffers the worker gave back after writing them, for the next hand-overs (no allocation, no zeroing). */
  private readonly spare: ArrayBuffer[] = [];
  private used = 0;
  private oldestBufferedMs = 0;
  private dirty = false;
  private readonly io: RawLogIo;
  private readonly bufferBytes: number;
  private readonly maxQueuedBytes: number;
  /** Bytes handed to the worker so far. */
  private handedOverBytes = 0;
  /** Per chunk handed to the worker and not yet confirmed: when its oldest record was logged. */
  private readonly inFlight: Array<{ bytes: number; oldestMs: number }> = [];
  private failed: RecordError | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly nowUs: () => number;
  private readonly onError: ((error: RecordError) => void) | undefined;
  private checkpoints: CheckpointScheduler | undefined;

  private constructor(readonly path: string, io: RawLogIo, options: RawLogWriterOptions) {
    this.fd = 0;
    this.io = io;
    this.nowUs = options.nowUs ?? (() => Date.now() * 1000);
    this.onError = options.onError;
    this.bufferBytes = options.bufferBytes ?? DEFAULT_RAWLOG_BUFFER_BYTES;
    this.maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.buffer = this.nextBuffer();
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
    // the worker reports to the writer, which exists once the file does
    let writer: RawLogWriter | undefined;
    const events: RawLogIoEvents = {
      written: (bytes, buffer) => writer?.confirmed(bytes, buffer),
      fsynced: () => { if (writer) writer.stats.fsyncs++; },
      failed: (what, cause) => writer?.fail(what, cause),
    };
    let io: RawLogIo;
    try {
      io = await RawLogIo.open({ path, ...(options.testOnlyStall ? { testOnlyStall: options.testOnlyStall } : {}) }, events);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      throw new RecordError(
        code === 'EEXIST' ? 'E_RECORDING_EXISTS' : 'E_RAWLOG_OPEN', `cannot create raw log ${path}: ${(cause as Error).message}`,
        code === 'EEXIST' ? 'choose a new recording directory (--out); recordings are never overwritten' : 'check that the directory exists and is writable', { cause },
      );
    }
    writer = new RawLogWriter(path, io, options);
    const startUs = writer.nowUs();
    const header: RawLogHeader = {
      magic: 'fiberrig-raw-log', formatVersion: RAW_LOG_FORMAT_VERSION, fiberrigVersion: FIBERRIG_VERSION,
      hostStartTimeUs: startUs, hostStartIso: new Date(startUs / 1000).toISOString(),
    };
    writer.append(RecordType.header, startUs, headerPayload(header));
    writer.checkpoints = new CheckpointScheduler(header, options.checkpoints);
    await writer.sync();
    try {
      // make the new directory entry durable too
      const dirFd = openSync(dirname(path), 'r');
      try { fsyncSync(dirFd); } catch { /* not supported everywhere */ } finally { closeSync(dirFd); }
    } catch (cause) {
      writer.fail('fsync', cause);
    }
    if (writer.failed) {
      await writer.close().catch(() => undefined);
      throw writer.failed;
    }
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

  /** Hands buffered records to the I/O worker now (never waits for the disk). */
  flush(): void {
    if (this.used === 0 || this.fd === undefined || this.failed) return;
    const oldestMs = this.oldestBufferedMs;
    const chunk = this.buffer.subarray(0, this.used);
    // the worker takes the buffer itself (transfer) and gives it back once written: the next records go into a spare one
    this.buffer = this.nextBuffer();
    this.used = 0;
    this.writeOut(chunk, oldestMs, true);
  }

  /** Flushes; resolves when everything logged so far is written and fsynced (or the writer failed). */
  async sync(): Promise<void> {
    this.flush();
    if (this.fd === undefined || this.failed) return;
    await this.io.sync();
    this.dirty = false;
  }

  /** Writes an end record (a clean close), flushes, fsyncs and closes. Idempotent. */
  async close(end: Record<string, unknown> = {}): Promise<void> {
    if (this.fd === undefined) return;
    for (const t of this.timers) clearInterval(t);
    if (!this.failed) this.append(RecordType.end, this.nowUs(), jsonBytes(end));
    this.flush();
    this.fd = undefined;
    // after a failure the end record (it says why) is still tried, after the last complete record
    let tail: Uint8Array | undefined;
    if (this.failed) {
      tail = encodeRecordBytes(RecordType.end, this.nowUs(), jsonBytes({ ...end, rawLogError: this.failed.message }));
      this.stats.bytesQueued += tail.byteLength;
      this.handedOverBytes += tail.byteLength;
      this.inFlight.push({ bytes: tail.byteLength, oldestMs: performance.now() });
    }
    // the worker writes what it holds, fsyncs and closes the file, also after a failure
    await this.io.close(tail);
    this.stats.ioThreadCpuS = this.io.ioThreadCpuS;
    if (this.failed) throw this.failed;
  }

  /** A spare buffer given back by the worker, or a new one: its own ArrayBuffer (never Buffer's shared pool), transferred whole. */
  private nextBuffer(): Buffer {
    const reused = this.spare.pop();
    if (reused) return Buffer.from(reused);
    this.stats.buffersAllocated++;
    return Buffer.from(new ArrayBuffer(this.bufferBytes));
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

  /** `giveBuffer`: the caller gives up the whole buffer behind `bytes` (it is transferred to the worker, not copied). */
  private writeOut(bytes: Uint8Array, oldestMs = performance.now(), giveBuffer = false): void {
    if (this.fd === undefined || this.failed) return;
    // what waits for the disk now (the worker's shared counter: exact even in a long synchronous run of writes)
    const waiting = this.handedOverBytes - this.io.bytesWritten;
    if (waiting + bytes.byteLength > this.maxQueuedBytes) {
      this.fail('write', new Error(`the disk has not taken ${waiting} bytes queued for it (limit ${this.maxQueuedBytes}): it is too slow or stalled`));
      return;
    }
    this.handedOverBytes += bytes.byteLength;
    this.stats.bytesQueued += bytes.byteLength;
    this.stats.maxQueuedBytes = Math.max(this.stats.maxQueuedBytes, waiting + bytes.byteLength);
    this.inFlight.push({ bytes: bytes.byteLength, oldestMs });
    this.dirty = true;
    // a whole buffer of ours comes back once written (see confirmed)
    this.io.write(bytes, giveBuffer, giveBuffer && bytes.buffer.byteLength === this.bufferBytes);
  }

  /** The worker wrote the oldest chunk in flight (and gave back its buffer, when it was one of ours). */
  private confirmed(bytes: number, buffer?: ArrayBuffer): void {
    if (buffer && buffer.byteLength === this.bufferBytes && this.spare.length < SPARE_BUFFERS && this.fd !== undefined) this.spare.push(buffer);
    const chunk = this.inFlight.shift();
    this.stats.writes++;
    this.stats.bytesWritten += bytes;
    this.stats.bytesQueued -= bytes;
    if (chunk) this.stats.maxHoldMs = Math.max(this.stats.maxHoldMs, performance.now() - chunk.oldestMs);
  }

  private flushIfOlderThan(ms: number): void {
    if (this.used > 0 && performance.now() - this.oldestBufferedMs >= ms) this.flush();
  }

  private backgroundFsync(): void {
    this.flush();
    if (!this.dirty || this.fd === undefined || this.failed) return;
    this.dirty = false;
    this.io.fsync();
  }

  private fail(what: string, cause: unknown): void {
    if (this.failed) return;
    this.failed = new RecordError('E_RAWLOG_WRITE', `raw log ${what} failed on ${this.path}: ${(cause as Error).message}`, 'free disk space or use another disk; the recording stopped being lossless here', { cause });
    this.onError?.(this.failed);
  }
}
