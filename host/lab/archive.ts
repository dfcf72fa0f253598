// `fiberrig archive`: the lab's central archive. A durable pull consumer on the raw stream
// writes every mirrored record at its offset of DIR/<rig>/<session>/raw.fjl (archive-files.ts),
// fsyncs, and only then acknowledges (group commit: one fsync per batch of messages). A
// session's end marker is acknowledged once the copy's size and SHA-256 equal the marker's
// (archived.json is written); then `demod` runs on it. Restarts resume from the consumer's
// unacknowledged messages; a redelivered record that is already there is skipped.
//
// Two archive processes on the same durable consumer (and the same DIR) share the messages
// without duplicates: a record lands at its own offset whichever process gets it, and an end
// marker that arrives before the other process has written the session's last records is
// handed back (nak with a delay) until the copy is whole.
//
// Progress per session goes to the KV bucket fiberrig_archive (archive-progress.ts) for the
// dashboard: counts after each fsynced batch (throttled), complete/verified at the end marker,
// then the demod's outcome.
import { stat } from 'node:fs/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import { type ConsumerMessages, type JsMsg, jetstream } from '@nats-io/jetstream';
import { demodRecording } from '../record/demod.ts';
import { type ArchiveRecord, ArchiveFiles, type WrittenCounts } from './archive-files.ts';
import { ArchiveProgressPublisher } from './archive-progress.ts';
import { ensureArchiveConsumer, ensureRawStream, openArchiveBucket } from './broker.ts';
import { parseEndMarker, type SessionEndMarker, sha256OfPrefix } from './end-marker.ts';
import { ARCHIVE_CONSUMER, HEADER_KIND, HEADER_OFFSET, parseRawSubject, RAW_STREAM } from './layout.ts';
import { recordLengthAt } from './record-cutter.ts';

/** A session file not written for this long is closed (reopened on its next record). */
const IDLE_FILE_MS = 30_000;
/** A pull request's lifetime (its idle heartbeat is half of it). */
const PULL_EXPIRES_MS = 5_000;

export interface LabArchiveOptions {
  nc: NatsConnection;
  dir: string;
  /** Run demod on each completed session (default true). */
  demod?: boolean;
  /** Write, fsync and acknowledge after at most this many messages or this long, ms (defaults 2048, 20); longer while a flush runs (group commit). */
  batchMessages?: number;
  batchMs?: number;
  /** Replicas of the raw stream when this archive creates it (default 1; 3 on a 3-node cluster); its consumer has as many. */
  replicas?: number;
  /** Redelivery delay of an end marker that came before its session's records, ms (default 500). */
  incompleteRetryMs?: number;
  /** Per-session progress puts to the fiberrig_archive bucket at most this often, ms (default 1000). */
  progressIntervalMs?: number;
  onEvent?: (event: ArchiveEvent) => void;
}

export type ArchiveEvent =
  | { type: 'session-archived'; rig: string; session: string; marker: SessionEndMarker }
  | { type: 'session-incomplete'; rig: string; session: string; haveBytes: number; wantBytes: number }
  | { type: 'demod-done'; rig: string; session: string; signalRows: number }
  | { type: 'demod-failed'; rig: string; session: string; message: string }
  | { type: 'message-refused'; subject: string; reason: string }
  /** The progress bucket could not be opened or made (e.g. the user's permissions): no per-session progress on the dashboard. */
  | { type: 'progress-unavailable'; reason: string };

export interface ArchiveStats {
  recordsWritten: number;
  recordsSkipped: number;
  sessionsArchived: number;
}

export class LabArchive {
  private readonly files: ArchiveFiles;
  /** Messages taken and not yet written: written, fsynced and acknowledged together. */
  private pending: Array<{ m: JsMsg; record: ArchiveRecord }> = [];
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private demodQueue: Promise<void> = Promise.resolve();
  private sessionsArchived = 0;
  private progress: ArchiveProgressPublisher | undefined;
  private readonly o: Required<Omit<LabArchiveOptions, 'onEvent'>> & Pick<LabArchiveOptions, 'onEvent'>;

  constructor(options: LabArchiveOptions) {
    this.o = { demod: true, batchMessages: 2048, batchMs: 20, incompleteRetryMs: 500, replicas: 1, progressIntervalMs: 1000, ...options };
    this.files = new ArchiveFiles(options.dir);
  }

  get stats(): ArchiveStats {
    return { recordsWritten: this.files.recordsWritten, recordsSkipped: this.files.recordsSkipped, sessionsArchived: this.sessionsArchived };
  }

  /** Creates the stream and consumer when missing and starts consuming. */
  async start(): Promise<void> {
    await ensureRawStream(this.o.nc, this.o.replicas);
    await ensureArchiveConsumer(this.o.nc);
    try {
      this.progress = new ArchiveProgressPublisher(await openArchiveBucket(this.o.nc, this.o.replicas), this.o.progressIntervalMs);
    } catch (error) {
      // the dashboard's view only: archiving goes on without it
      this.o.onEvent?.({ type: 'progress-unavailable', reason: (error as Error).message });
    }
    const consumer = await jetstream(this.o.nc).consumers.get(RAW_STREAM, ARCHIVE_CONSUMER);
    // pulls expire every 5 s (heartbeats every 2.5 s): when the consumer's leader moves (a cluster node
    // lost) the pull it held is gone, and two missed heartbeats re-pull within ~5 s rather than ~30 s
    this.messages = await consumer.consume({ max_messages: 1024, expires: PULL_EXPIRES_MS });
    this.loop = this.consume(this.messages);
  }

  /** Stops consuming, writes and acknowledges what it holds, waits for a running demod. */
  async stop(): Promise<void> {
    await this.messages?.close();
    await this.loop;
    await this.flush();
    await this.demodQueue;
    await this.progress?.close();
    await this.files.closeAll();
  }

  private async consume(messages: ConsumerMessages): Promise<void> {
    for await (const m of messages) {
      try {
        await this.handle(m);
      } catch (error) {
        // a local write failure: hand it back for a later try
        m.nak(1000);
        this.o.onEvent?.({ type: 'message-refused', subject: m.subject, reason: (error as Error).message });
      }
    }
  }

  private async handle(m: JsMsg): Promise<void> {
    let rig: string;
    let session: string;
    try {
      ({ rig, session } = parseRawSubject(m.subject));
    } catch (error) {
      this.refuse(m, (error as Error).message);
      return;
    }
    const kind = m.headers?.get(HEADER_KIND);
    if (kind === 'end') {
      await this.endOfSession(m, rig, session);
      return;
    }
    const offset = Number(m.headers?.get(HEADER_OFFSET));
    if (kind !== 'record' || !Number.isSafeInteger(offset) || offset < 0) {
      this.refuse(m, 'no record offset header');
      return;
    }
    // checksum per record: the record's own CRC-32C
    if (recordLengthAt(m.data, 0) !== m.data.length) {
      this.refuse(m, `record at offset ${offset} of ${rig}/${session} fails its CRC or is not one whole record`);
      return;
    }
    this.pending.push({ m, record: { rig, session, offset, bytes: m.data } });
    if (this.pending.length >= this.o.batchMessages) await this.flush();
    else this.flushTimer ??= setTimeout(() => { void this.flush(); }, this.o.batchMs);
  }

  private refuse(m: JsMsg, reason: string): void {
    m.term(reason);
    this.o.onEvent?.({ type: 'message-refused', subject: m.subject, reason });
  }

  /**
   * Writes the batch (contiguous records in one write per file), fsyncs once per file, then
   * acknowledges it all. Group commit: the batch is taken when the previous flush is done, not
   * when this one is asked for, so while fsyncs are slow (many sessions at once: one fsync per
   * file) batches grow instead of queueing up — fsyncs per second stay bounded, not one per record.
   */
  private flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushing = this.flushing.then(async () => {
      const batch = this.pending;
      this.pending = [];
      if (batch.length === 0) return;
      let written: WrittenCounts[];
      try {
        written = await this.files.putBatch(batch.map((p) => p.record));
        await this.files.sync();
      } catch (error) {
        // a local write failure: hand the batch back for a later try
        for (const { m } of batch) m.nak(1000);
        this.o.onEvent?.({ type: 'message-refused', subject: batch[0]!.m.subject, reason: `${batch.length} messages not written: ${(error as Error).message}` });
        return;
      }
      for (const { m } of batch) m.ack();
      for (const w of written) this.progress?.add(w.rig, w.session, w.records, w.bytes);
      await this.files.closeIdle(IDLE_FILE_MS);
    });
    return this.flushing;
  }

  private async endOfSession(m: JsMsg, rig: string, session: string): Promise<void> {
    const marker = parseEndMarker(m.data);
    if (!marker || marker.rig !== rig || marker.session !== session) {
      this.refuse(m, `end marker of ${rig}/${session} is not readable`);
      return;
    }
    if (await this.files.readArchived(rig, session)) {
      m.ack(); // archived before (a redelivery)
      return;
    }
    await this.flush();
    const path = this.files.rawLogPath(rig, session);
    const haveBytes = await stat(path).then((s) => s.size, () => 0);
    const whole = haveBytes === marker.bytes && (await sha256OfPrefix(path, marker.bytes)) === marker.sha256;
    if (!whole) {
      // records still on their way (another archive process holds some, or redeliveries pending)
      this.o.onEvent?.({ type: 'session-incomplete', rig, session, haveBytes, wantBytes: marker.bytes });
      m.nak(this.o.incompleteRetryMs);
      return;
    }
    await this.files.closeSession(rig, session);
    await this.files.writeArchived(rig, session, { marker, verifiedIso: new Date().toISOString() });
    m.ack();
    this.sessionsArchived += 1;
    this.o.onEvent?.({ type: 'session-archived', rig, session, marker });
    // not awaited: the bucket never holds up the consumer
    void this.progress?.complete(rig, session, marker.records, marker.bytes, this.o.demod ? 'pending' : 'off');
    if (this.o.demod) this.demodQueue = this.demodQueue.then(() => this.demodSession(rig, session, marker));
  }

  private async demodSession(rig: string, session: string, marker: SessionEndMarker): Promise<void> {
    const dir = this.files.sessionDir(rig, session);
    let result: { signalRows: number; files: string[] } | { error: string };
    try {
      const r = await demodRecording(this.files.rawLogPath(rig, session), dir);
      result = { signalRows: r.signalRows, files: r.files };
      this.o.onEvent?.({ type: 'demod-done', rig, session, signalRows: r.signalRows });
    } catch (error) {
      result = { error: (error as Error).message };
      this.o.onEvent?.({ type: 'demod-failed', rig, session, message: (error as Error).message });
    }
    await this.files.writeArchived(rig, session, { marker, verifiedIso: new Date().toISOString(), demod: result }).catch(() => undefined);
    await this.progress?.complete(rig, session, marker.records, marker.bytes, 'error' in result ? 'failed' : 'done');
  }
}
