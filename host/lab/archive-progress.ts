// The archive's progress per session, published to the KV bucket `fiberrig_archive` (layout.ts)
// for the dashboard: records and bytes written (and fsynced) so far, then complete and verified
// at the session's end marker, then the demod's outcome.
//
// Throttled: what a flush wrote is added to a pending count per session, and the counts go out
// at most once per interval (the archive's default 1000 ms: ≤ 1 put per second per session and
// process). Two archive processes on one durable consumer each write part of a session, so each
// adds its own counts to the entry with a compare-and-set (update at the revision it last wrote
// or read; on a conflict it reads the entry again next time, so one archive alone puts without reading). Counts a killed process had not published yet are missing until the
// end marker, whose figures replace them. Publishing never holds up writing or acknowledging:
// a failed put keeps its counts for the next try.
import type { KV } from '@nats-io/kv';
import { archiveProgressKey } from './layout.ts';

/** One session's entry in `fiberrig_archive`. */
export interface SessionArchiveProgress {
  rig: string;
  session: string;
  /** Records written and fsynced in the archive copy (the end marker's count once complete). */
  records: number;
  /** Bytes of them (the end marker's byte count once complete). */
  bytes: number;
  /** The end marker arrived and the copy matched it. */
  complete: boolean;
  /** The copy's SHA-256 equals the agent's (checked at completion). */
  sha256Ok: boolean;
  /** The archive's demod of the complete session ('off': that archive runs none). */
  demod: 'pending' | 'done' | 'failed' | 'off';
  updatedIso: string;
}

/** A value read from the bucket, checked (undefined when it is not one). */
export function parseSessionArchiveProgress(value: unknown): SessionArchiveProgress | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const ok = typeof v['rig'] === 'string' && typeof v['session'] === 'string' && typeof v['records'] === 'number' && typeof v['bytes'] === 'number'
    && typeof v['complete'] === 'boolean' && typeof v['sha256Ok'] === 'boolean' && ['pending', 'done', 'failed', 'off'].includes(v['demod'] as string);
  return ok ? (value as SessionArchiveProgress) : undefined;
}

interface Pending {
  rig: string;
  session: string;
  records: number;
  bytes: number;
}

export class ArchiveProgressPublisher {
  private readonly pending = new Map<string, Pending>();
  /** The entry as this process last wrote it, per session key: updated at its revision without reading it first. */
  private readonly last = new Map<string, { revision: number; value: SessionArchiveProgress }>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private publishing: Promise<void> = Promise.resolve();
  /** Puts and updates that failed (kept for the next try). */
  failures = 0;

  constructor(private readonly kv: KV, private readonly intervalMs = 1000) {}

  /** A flush wrote and fsynced these records of a session. */
  add(rig: string, session: string, records: number, bytes: number): void {
    const key = archiveProgressKey(rig, session);
    const p = this.pending.get(key) ?? { rig, session, records: 0, bytes: 0 };
    p.records += records;
    p.bytes += bytes;
    this.pending.set(key, p);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    // unref: never what keeps a process alive (stop() sends what is pending)
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.publish();
    }, this.intervalMs).unref();
  }

  /** Sends the pending counts now (each session's, added to its entry). */
  publish(): Promise<void> {
    this.publishing = this.publishing.then(async () => {
      const batch = [...this.pending.values()];
      this.pending.clear();
      await Promise.all(batch.map(async (p) => {
        if (!(await this.merge(p))) this.keep(p);
      }));
    });
    return this.publishing;
  }

  private keep(p: Pending): void {
    this.failures += 1;
    const key = archiveProgressKey(p.rig, p.session);
    const later = this.pending.get(key);
    this.pending.set(key, later ? { ...p, records: p.records + later.records, bytes: p.bytes + later.bytes } : p);
    this.schedule();
  }

  /** Adds a session's counts to its entry (compare-and-set); true when done (or no longer needed). */
  private async merge(p: Pending): Promise<boolean> {
    const key = archiveProgressKey(p.rig, p.session);
    try {
      let base = this.last.get(key);
      if (!base) {
        const entry = await this.kv.get(key);
        const value = entry && entry.operation === 'PUT' ? parseSessionArchiveProgress(entry.json()) : undefined;
        if (entry && value) base = { revision: entry.revision, value };
      }
      if (base?.value.complete) return true; // the end marker's figures are final
      const next: SessionArchiveProgress = {
        rig: p.rig, session: p.session, records: (base?.value.records ?? 0) + p.records, bytes: (base?.value.bytes ?? 0) + p.bytes,
        complete: false, sha256Ok: false, demod: 'pending', updatedIso: new Date().toISOString(),
      };
      const revision = base ? await this.kv.update(key, JSON.stringify(next), base.revision) : await this.kv.create(key, JSON.stringify(next));
      this.last.set(key, { revision, value: next });
      return true;
    } catch {
      this.last.delete(key); // another archive updated it first, or the broker is away: read it next time
      return false;
    }
  }

  /** The session's copy matched its end marker: its final figures (demod still to come when it runs). */
  complete(rig: string, session: string, records: number, bytes: number, demod: SessionArchiveProgress['demod']): Promise<void> {
    const key = archiveProgressKey(rig, session);
    this.pending.delete(key);
    this.last.delete(key);
    const value: SessionArchiveProgress = { rig, session, records, bytes, complete: true, sha256Ok: true, demod, updatedIso: new Date().toISOString() };
    // in line with the counts' puts, so a later state is never overtaken by an earlier one
    this.publishing = this.publishing.then(async () => {
      try {
        await this.kv.put(key, JSON.stringify(value));
      } catch {
        this.failures += 1; // archived.json holds it; the dashboard shows the session unfinished
      }
    });
    return this.publishing;
  }

  /** Sends what is pending and stops the timer. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.publish();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
