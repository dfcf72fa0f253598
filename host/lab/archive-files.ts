// The archive's session files: each mirrored record is written at its own byte offset of
// DIR/<rig>/<session>/raw.fjl, so the order in which records arrive — across redeliveries and
// across archive processes sharing DIR — does not matter, and a record already there (equal
// bytes at its offset) is skipped rather than appended twice. `sync()` makes what was written
// durable before the messages are acknowledged.
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

export class ArchiveFiles {
  private readonly open = new Map<string, FileHandle>();
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
    }
    return fh;
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
