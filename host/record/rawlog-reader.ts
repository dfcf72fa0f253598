// Reads the raw log (see rawlog-format.ts for the record layout): streaming,
// CRC-checked, resynchronising after damage, a torn tail ignored.
import { type FileHandle, open } from 'node:fs/promises';
import { crc32c } from '../../protocol/index.ts';
import type { JournalEntry } from '../rig/journal.ts';
import { RecordError } from './errors.ts';
import {
  decodeRecord, MAX_RECORD_PAYLOAD_BYTES, RECORD_HEADER_BYTES, RECORD_OVERHEAD_BYTES, RECORD_TRAILER_BYTES, type RawLogRecord,
  RecordType, SYNC0, SYNC1,
} from './rawlog-format.ts';

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
