// Reads the raw log (see rawlog-format.ts for the record layout): streaming,
// CRC-checked, resynchronising after damage (the header included), a torn
// tail ignored.
//
// Bytes that form no valid record are either a damaged span (reported with
// its byte range; reading resumes at the next valid record) or, at the very
// end of the file, the torn tail of a crash: the start of a record the writer
// did not finish (sync bytes, a type, flags 0 and a length reaching past the
// end of the file, as far as those bytes exist). Anything else at the end is
// damage too. A damaged length field in the last record reads as a torn tail:
// the two cannot be told apart.
import { type FileHandle, open } from 'node:fs/promises';
import { crc32c } from '../../protocol/index.ts';
import type { JournalEntry } from '../rig/journal.ts';
import { decodeCheckpoint } from './checkpoint.ts';
import { RecordError } from './errors.ts';
import {
  decodeRecord, MAX_RECORD_PAYLOAD_BYTES, RAW_LOG_MAGIC, RECORD_HEADER_BYTES, RECORD_OVERHEAD_BYTES, RECORD_TRAILER_BYTES, type RawLogRecord,
  RecordType, SYNC0, SYNC1,
} from './rawlog-format.ts';

/** Bytes [startByte, endByte) of the file that form no valid record (one or more records lost). */
export interface DamagedSpan {
  startByte: number;
  endByte: number;
}

/** Damaged spans listed in `stats.damagedSpans` (all are counted). */
export const MAX_LISTED_DAMAGED_SPANS = 10_000;

export interface RawLogReadStats {
  fileBytes: number;
  /** Bytes consumed so far (valid records, skipped damage, torn tail). */
  position: number;
  records: number;
  /** Records of types this version does not know (skipped). */
  unknownRecords: number;
  /** Damaged spans (skipped, reading resumed at the next valid record; or damage at the end). */
  corruptSpans: number;
  corruptBytes: number;
  /** The first MAX_LISTED_DAMAGED_SPANS damaged spans, in file order. */
  damagedSpans: DamagedSpan[];
  /** True when the first valid record is not the header (the header was damaged). */
  headerMissing: boolean;
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
  /** Called for each damaged span, before the record after it is yielded. */
  onDamage?: (span: DamagedSpan) => void;
  /** Start reading at this byte offset (a record boundary, or damage is reported up to the next record). Default 0. */
  startAt?: number;
}

/**
 * Streams a raw log: `records()` yields every record, `entries()` the journal
 * entries. Memory is bounded by the largest record (plus a 1 MiB window).
 */
export class RawLogReader {
  readonly stats: RawLogReadStats;
  private constructor(readonly path: string, private readonly fh: FileHandle, fileBytes: number, private readonly options: RawLogReaderOptions) {
    this.stats = {
      fileBytes, position: 0, records: 0, unknownRecords: 0, corruptSpans: 0, corruptBytes: 0, damagedSpans: [], headerMissing: false, tornTailBytes: 0, cleanEnd: false,
    };
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
    let pos = this.options.startAt ?? 0;
    stats.position = pos;
    let lastProgress = 0;
    let first = pos === 0;
    const damage = (startByte: number, endByte: number): void => {
      const span = { startByte, endByte };
      stats.corruptSpans++;
      stats.corruptBytes += endByte - startByte;
      if (stats.damagedSpans.length < MAX_LISTED_DAMAGED_SPANS) stats.damagedSpans.push(span);
      this.options.onDamage?.(span);
    };
    try {
      while (true) {
        const valid = await this.recordAt(win, pos);
        if (valid === undefined) {
          const next = await this.resync(win, pos + 1);
          if (next === undefined) {
            if (pos < stats.fileBytes) {
              if (await this.tornAt(win, pos, first)) stats.tornTailBytes = stats.fileBytes - pos;
              else if (first) throw new RecordError('E_RAWLOG_NOT_A_LOG', `${this.path} holds no valid raw log record`, 'pass the raw.fjl of a recording made by fiberrig acquire');
              else damage(pos, stats.fileBytes);
            } else if (first && pos === 0) {
              throw new RecordError('E_RAWLOG_NOT_A_LOG', `${this.path} is empty`, 'pass the raw.fjl of a recording made by fiberrig acquire');
            }
            stats.position = stats.fileBytes;
            break;
          }
          damage(pos, next);
          pos = next;
          continue;
        }
        const { type, hostTimeUs, payload, end } = valid;
        if (first && type !== RecordType.header) stats.headerMissing = true;
        first = false;
        pos = end;
        stats.position = pos;
        stats.records++;
        const record = type === RecordType.checkpoint ? { kind: 'checkpoint' as const, hostTimeUs, checkpoint: decodeCheckpoint(payload) } : decodeRecord(type, hostTimeUs, payload);
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

  /**
   * True when the bytes from `pos` to the end of the file are the start of a
   * record the writer did not finish (the header record when `header`).
   */
  private async tornAt(win: Window, pos: number, header: boolean): Promise<boolean> {
    const n = this.stats.fileBytes - pos;
    const have = Math.min(n, RECORD_HEADER_BYTES + RAW_LOG_MAGIC.length);
    if (!(await win.ensure(pos, have))) return false;
    const b = win.view(pos, have);
    if (b[0] !== SYNC0 || (have > 1 && b[1] !== SYNC1)) return false;
    if (have > 2 && (b[2] === 0 || (header && b[2] !== RecordType.header))) return false;
    if (have > 3 && b[3] !== 0) return false;
    if (have >= 8) {
      const length = b.readUInt32LE(4);
      if (length > MAX_RECORD_PAYLOAD_BYTES || RECORD_HEADER_BYTES + length + RECORD_TRAILER_BYTES <= n) return false;
    }
    if (header && have > RECORD_HEADER_BYTES && b.toString('latin1', RECORD_HEADER_BYTES, have) !== RAW_LOG_MAGIC.slice(0, have - RECORD_HEADER_BYTES)) return false;
    return true;
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
