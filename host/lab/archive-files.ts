// The archive's session files: each mirrored record is written at its own byte offset of
// DIR/<rig>/<session>/raw.fjl, so the order in which records arrive — across redeliveries and
// across archive processes sharing DIR — does not matter, and a record already there (equal
// bytes at its offset) is skipped rather than appended twice. `putBatch()` writes a batch's
// records file by file, contiguous ones in one write, reading back only where the file may
// already hold them. `sync()` makes what was written durable before the messages are acknowledged.
import { constants } from 'node:fs';
import { type FileHandle, mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RAW_LOG_FILE_NAME } from '../record/rawlog-format.ts';
import type { SessionEndMarker } from './end-marker.ts';

/** Written when a session's copy matched its end marker. */
export const ARCHIVED_FILE = 'archived.json';

export interface ArchivedSession {
  marker: SessionEndMarker;
  verifiedIso: string;
  demod?: { signalRows: number; files: string[] } | { error: string };
}

/** One record to place: its session and byte offset. */
export interface ArchiveRecord {
  rig: string;
  session: string;
  offset: number;
  bytes: Uint8Array;
}

/** What a batch wrote (not skipped) in one session. */
export interface WrittenCounts {
  rig: string;
  session: string;
  records: number;
  bytes: number;
}

export class ArchiveFiles {
  private readonly open = new Map<string, FileHandle>();
  /** Bytes each open file holds at least (its size at open, then what this process wrote): a record past it is new. */
  private readonly knownBytes = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private readonly lastUsedMs = new Map<string, number>();
  recordsWritten = 0;
  recordsSkipped = 0;

  constructor(readonly dir: string) {}

  sessionDir(rig: string, session: string): string {
    return join(this.dir, rig, session);
  }

  rawLogPath(rig: string, session: string): string {
    return join(this.sessionDir(rig, session), RAW_LOG_FILE_NAME);
  }

  private async handle(rig: string, session: string): Promise<FileHandle> {
    const path = this.rawLogPath(rig, session);
    let fh = this.open.get(path);
    this.lastUsedMs.set(path, Date.now());
    if (!fh) {
      await mkdir(this.sessionDir(rig, session), { recursive: true });
      // not O_APPEND: records go to their own offsets
      fh = await open(path, constants.O_RDWR | constants.O_CREAT, 0o644);
      this.open.set(path, fh);
      this.knownBytes.set(path, (await fh.stat()).size);
    }
    return fh;
  }

  /**
   * Writes a batch: per file, in offset order, each run of contiguous records past what the file
   * is known to hold in one write (no read-back); a record where the file may hold it already
   * (a redelivery, a hole filled later, another archive process's work) goes through `put`.
   */
  async putBatch(records: readonly ArchiveRecord[]): Promise<WrittenCounts[]> {
    const written: WrittenCounts[] = [];
    const byFile = new Map<string, ArchiveRecord[]>();
    for (const r of records) {
      const key = `${r.rig}/${r.session}`;
      let list = byFile.get(key);
      if (!list) byFile.set(key, (list = []));
      list.push(r);
    }
    for (const list of byFile.values()) {
      list.sort((x, y) => x.offset - y.offset);
      const { rig, session } = list[0]!;
      const fh = await this.handle(rig, session);
      const path = this.rawLogPath(rig, session);
      const counts: WrittenCounts = { rig, session, records: 0, bytes: 0 };
      for (let i = 0; i < list.length;) {
        const first = list[i]!;
        if (first.offset < (this.knownBytes.get(path) ?? 0)) {
          if (await this.put(rig, session, first.offset, first.bytes)) {
            counts.records += 1;
            counts.bytes += first.bytes.length;
          }
          i += 1;
          continue;
        }
        let j = i + 1;
        let end = first.offset + first.bytes.length;
        while (j < list.length && list[j]!.offset === end) end += list[j++]!.bytes.length;
        const run = Buffer.concat(list.slice(i, j).map((r) => r.bytes));
        let at = 0;
        while (at < run.length) at += (await fh.write(run, at, run.length - at, first.offset + at)).bytesWritten;
        this.grow(path, end);
        this.dirty.add(path);
        this.recordsWritten += j - i;
        counts.records += j - i;
        counts.bytes += run.length;
        i = j;
      }
      if (counts.records > 0) written.push(counts);
    }
    return written;
  }

  private grow(path: string, end: number): void {
    if (end > (this.knownBytes.get(path) ?? 0)) this.knownBytes.set(path, end);
  }

  /** Writes `bytes` at `offset` unless equal bytes are there already; true when written. */
  async put(rig: string, session: string, offset: number, bytes: Uint8Array): Promise<boolean> {
    const fh = await this.handle(rig, session);
    const there = Buffer.alloc(bytes.length);
    const { bytesRead } = await fh.read(there, 0, bytes.length, offset);
    if (bytesRead === bytes.length && there.equals(bytes)) {
      this.recordsSkipped += 1;
      return false;
    }
    let at = 0;
    while (at < bytes.length) at += (await fh.write(bytes, at, bytes.length - at, offset + at)).bytesWritten;
    this.grow(this.rawLogPath(rig, session), offset + bytes.length);
    this.dirty.add(this.rawLogPath(rig, session));
    this.recordsWritten += 1;
    return true;
  }

  /** fsyncs every file written since the last sync. */
  async sync(): Promise<void> {
    const paths = [...this.dirty];
    this.dirty.clear();
    await Promise.all(paths.map((p) => this.open.get(p)?.sync()));
  }

  /** Closes a session's file (after it verified). */
  async closeSession(rig: string, session: string): Promise<void> {
    await this.closePath(this.rawLogPath(rig, session));
  }

  private async closePath(path: string): Promise<void> {
    const fh = this.open.get(path);
    this.open.delete(path);
    this.knownBytes.delete(path);
    this.lastUsedMs.delete(path);
    if (this.dirty.delete(path)) await fh?.sync();
    await fh?.close();
  }

  /**
   * Closes files not written for `idleMs` (a session another archive process finished, or one whose
   * agent is away): they reopen on the next record. Keeps the open files bounded.
   */
  async closeIdle(idleMs: number): Promise<void> {
    const now = Date.now();
    for (const [path, used] of [...this.lastUsedMs]) if (now - used > idleMs) await this.closePath(path);
  }

  async closeAll(): Promise<void> {
    await this.sync();
    for (const fh of this.open.values()) await fh.close().catch(() => undefined);
    this.open.clear();
    this.knownBytes.clear();
    this.lastUsedMs.clear();
  }

  async readArchived(rig: string, session: string): Promise<ArchivedSession | undefined> {
    try {
      return JSON.parse(await readFile(join(this.sessionDir(rig, session), ARCHIVED_FILE), 'utf8')) as ArchivedSession;
    } catch {
      return undefined;
    }
  }

  async writeArchived(rig: string, session: string, archived: ArchivedSession): Promise<void> {
    const path = join(this.sessionDir(rig, session), ARCHIVED_FILE);
    await writeFile(`${path}.tmp`, `${JSON.stringify(archived, null, 2)}\n`);
    await rename(`${path}.tmp`, path);
  }
}
