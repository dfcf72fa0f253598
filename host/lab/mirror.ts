// Mirrors a raw log into the raw stream while the Recorder writes it, decoupled from the
// recorder: it tails the file from its acknowledged offset, cuts whole records
// (record-cutter.ts), publishes each with a message id (rig.session.seq) and a bounded
// number in flight, advances its checkpoint (mirror.json) in file order as PubAcks arrive, and
// after the recording ends sends the session's end marker. When the broker cannot be reached
// the recording goes on (the mirror only reads the file); the mirror rolls back to the last
// acknowledged record and back-fills in order when the broker returns — retries carry the same
// message ids, so JetStream stores each record once.
import { type FileHandle, open } from 'node:fs/promises';
import { headers } from '@nats-io/transport-node';
import type { PubAck } from '@nats-io/jetstream';
import { type MirrorCheckpoint, readMirrorCheckpoint, writeMirrorCheckpoint } from './checkpoint-file.ts';
import { type SessionEndMarker, type SessionMark, sha256OfPrefix } from './end-marker.ts';
import { LabError } from './errors.ts';
import { endMsgId, HEADER_KIND, HEADER_OFFSET, HEADER_SEQ, rawSubject, recordMsgId } from './layout.ts';
import { cutRecords } from './record-cutter.ts';
import type { RecordPublisher } from './window-publisher.ts';
import { RECORD_HEADER_BYTES, RECORD_OVERHEAD_BYTES } from '../record/rawlog-format.ts';

export interface RawLogMirrorOptions {
  /** A WindowPublisher (one reply subscription for the whole window), or a JetStream client's publish. */
  js: RecordPublisher;
  rig: string;
  session: string;
  /** The raw log being written. */
  rawLogPath: string;
  /** Where progress is kept (mirror.json beside the raw log). */
  checkpointPath: string;
  /** How often the file is read for new records, ms (default 100). */
  pollMs?: number;
  /** Publishes awaiting their PubAck at most (default 256). */
  maxInFlight?: number;
  /** A publish not acknowledged within this fails and is retried, ms (default 2000). */
  ackTimeoutMs?: number;
  /** Wait after a failure before retrying, ms (default 250). */
  retryMs?: number;
  /** Reports broker trouble and recovery (the agent logs it); never throws into the mirror. */
  onEvent?: (event: MirrorEvent) => void;
}

export type MirrorEvent =
  | { type: 'publish-failed'; ackedBytes: number; message: string }
  | { type: 'resumed'; ackedBytes: number }
  | { type: 'ended'; marker: SessionEndMarker };

export interface MirrorStats {
  ackedBytes: number;
  ackedRecords: number;
  /** Bytes read from the file and not yet acknowledged (in flight or waiting for the broker). */
  fileBytes: number;
  failures: number;
  ended: boolean;
}

interface InFlight {
  seq: number;
  endOffset: number;
  ack: Promise<PubAck>;
  settled: boolean;
}

const READ_CHUNK_BYTES = 1024 * 1024;
const CHECKPOINT_EVERY_MS = 250;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class RawLogMirror {
  private checkpoint: MirrorCheckpoint;
  /** Next record to publish: its offset and sequence number. */
  private nextOffset = 0;
  private nextSeq = 0;
  private inFlight: InFlight[] = [];
  private fileBytes = 0;
  private failures = 0;
  private writerClosed = false;
  private stopped = false;
  private lastCheckpointMs = 0;
  private running: Promise<void> | undefined;
  private readonly o: Required<Omit<RawLogMirrorOptions, 'onEvent'>> & Pick<RawLogMirrorOptions, 'onEvent'>;

  private constructor(options: RawLogMirrorOptions, checkpoint: MirrorCheckpoint) {
    this.o = { pollMs: 100, maxInFlight: 256, ackTimeoutMs: 2000, retryMs: 250, ...options };
    this.checkpoint = checkpoint;
    this.nextOffset = checkpoint.ackedBytes;
    this.nextSeq = checkpoint.ackedRecords;
  }

  /** A mirror of `rawLogPath`, resuming from its checkpoint when one exists. */
  static async create(options: RawLogMirrorOptions): Promise<RawLogMirror> {
    const saved = await readMirrorCheckpoint(options.checkpointPath);
    const checkpoint = saved && saved.rig === options.rig && saved.session === options.session
      ? { ...saved, marks: saved.marks ?? [] } : { rig: options.rig, session: options.session, ackedBytes: 0, ackedRecords: 0, ended: false, marks: [] };
    return new RawLogMirror(options, checkpoint);
  }

  /** The session this mirror sends. */
  get session(): string {
    return this.checkpoint.session;
  }

  get stats(): MirrorStats {
    return { ackedBytes: this.checkpoint.ackedBytes, ackedRecords: this.checkpoint.ackedRecords, fileBytes: this.fileBytes, failures: this.failures, ended: this.checkpoint.ended };
  }

  /** An event marked during the session (kept in mirror.json at once, carried by the end marker). */
  async mark(mark: SessionMark): Promise<void> {
    this.checkpoint.marks.push(mark);
    await this.saveCheckpoint(true);
  }

  /** Starts tailing the file. */
  start(): void {
    this.running ??= this.run();
  }

  /**
   * The raw log is closed: mirrors what is left, then sends the end marker. Resolves when the
   * broker acknowledged it; retries as long as it takes unless `abandon()` is called.
   */
  async finish(): Promise<SessionEndMarker | undefined> {
    this.writerClosed = true;
    this.start();
    await this.running;
    return this.checkpoint.ended ? this.endMarker : undefined;
  }

  /** Stops where it is (the process ends): the checkpoint keeps what was acknowledged; a later agent back-fills the rest. */
  async abandon(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
    await this.saveCheckpoint(true).catch(() => undefined);
  }

  private endMarker: SessionEndMarker | undefined;

  private async run(): Promise<void> {
    if (this.checkpoint.ended) return;
    let fh: FileHandle;
    try {
      fh = await open(this.o.rawLogPath, 'r');
    } catch (cause) {
      throw new LabError('E_LAB_MIRROR_OPEN', `cannot read raw log ${this.o.rawLogPath}: ${(cause as Error).message}`, 'the recording directory must stay readable while the agent mirrors it', { cause });
    }
    try {
      while (!this.stopped) {
        const closedBeforeRead = this.writerClosed;
        const progressed = await this.publishNew(fh);
        if (!(await this.collectAcks(false))) continue;
        if (!progressed) {
          if (closedBeforeRead) {
            // everything whole is sent: wait for its acks, then the end marker
            if (!(await this.collectAcks(true))) continue;
            if (await this.publishEnd()) break;
            continue;
          }
          await sleep(this.o.pollMs);
        }
      }
    } finally {
      await fh.close();
    }
    await this.saveCheckpoint(true);
  }

  /** Publishes the whole records after `nextOffset`; true when any was sent. */
  private async publishNew(fh: FileHandle): Promise<boolean> {
    const { size } = await fh.stat();
    this.fileBytes = size;
    let sent = false;
    while (this.nextOffset < size && !this.stopped) {
      const want = Math.min(READ_CHUNK_BYTES, size - this.nextOffset);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, this.nextOffset);
      let { records, consumed, stop } = cutRecords(buf.subarray(0, bytesRead), this.nextOffset);
      const needed = records.length === 0 && stop === 'incomplete' && bytesRead >= RECORD_HEADER_BYTES
        ? buf.readUInt32LE(4) + RECORD_OVERHEAD_BYTES : 0;
      if (needed > bytesRead && this.nextOffset + needed <= size) {
        // one record larger than the chunk (the cutter checked its length is allowed): read just it
        const big = Buffer.allocUnsafe(needed);
        const r = await fh.read(big, 0, needed, this.nextOffset);
        ({ records, consumed, stop } = cutRecords(big.subarray(0, r.bytesRead), this.nextOffset));
      }
      if (records.length === 0) break;
      for (const record of records) {
        while (this.inFlight.length >= this.o.maxInFlight) {
          if (!(await this.collectAcks(false, true))) return true;
        }
        const h = headers();
        h.set(HEADER_KIND, 'record');
        h.set(HEADER_OFFSET, String(record.offset));
        h.set(HEADER_SEQ, String(this.nextSeq));
        const entry: InFlight = {
          seq: this.nextSeq, endOffset: record.offset + record.bytes.length, settled: false,
          ack: this.o.js.publish(rawSubject(this.o.rig, this.o.session), record.bytes.slice(), {
            msgID: recordMsgId(this.o.rig, this.o.session, this.nextSeq), headers: h, timeout: this.o.ackTimeoutMs,
          }),
        };
        entry.ack.then(() => { entry.settled = true; }, () => { entry.settled = true; });
        this.inFlight.push(entry);
        this.nextSeq += 1;
        this.nextOffset = entry.endOffset;
        sent = true;
      }
      if (consumed === 0) break;
    }
    return sent;
  }

  /**
   * Takes the acknowledged publishes off the front of the window, in order (all of them when
   * `all`, at least one when `one`); false after a failure (rolled back to the last ack).
   */
  private async collectAcks(all: boolean, one = false): Promise<boolean> {
    let taken = 0;
    while (this.inFlight.length > 0) {
      const head = this.inFlight[0]!;
      if (!head.settled && !all && !(one && taken === 0)) break;
      try {
        await head.ack;
      } catch (error) {
        await this.rollBack(error as Error);
        return false;
      }
      this.inFlight.shift();
      this.checkpoint.ackedBytes = head.endOffset;
      this.checkpoint.ackedRecords = head.seq + 1;
      taken += 1;
    }
    if (taken > 0) {
      if (this.failures > 0 && this.resumePending) {
        this.resumePending = false;
        this.o.onEvent?.({ type: 'resumed', ackedBytes: this.checkpoint.ackedBytes });
      }
      await this.saveCheckpoint(false);
    }
    return true;
  }

  private resumePending = false;

  /** A publish failed: wait out the rest, go back to the last acknowledged record, and pause before retrying. */
  private async rollBack(error: Error): Promise<void> {
    await Promise.allSettled(this.inFlight.map((f) => f.ack));
    // acks that did arrive in order after the last one taken still count
    for (const f of this.inFlight) {
      const ok = await f.ack.then(() => true, () => false);
      if (!ok) break;
      this.checkpoint.ackedBytes = f.endOffset;
      this.checkpoint.ackedRecords = f.seq + 1;
    }
    this.inFlight = [];
    this.nextOffset = this.checkpoint.ackedBytes;
    this.nextSeq = this.checkpoint.ackedRecords;
    this.failures += 1;
    this.resumePending = true;
    this.o.onEvent?.({ type: 'publish-failed', ackedBytes: this.checkpoint.ackedBytes, message: error.message });
    await this.saveCheckpoint(true);
    await sleep(this.o.retryMs);
  }

  private async publishEnd(): Promise<boolean> {
    const bytes = this.checkpoint.ackedBytes;
    this.endMarker ??= {
      format: 'fiberrig-session-end', rig: this.o.rig, session: this.o.session,
      records: this.checkpoint.ackedRecords, bytes, sha256: await sha256OfPrefix(this.o.rawLogPath, bytes),
      unmirroredBytes: this.fileBytes - bytes, marks: this.checkpoint.marks,
    };
    const h = headers();
    h.set(HEADER_KIND, 'end');
    try {
      await this.o.js.publish(rawSubject(this.o.rig, this.o.session), JSON.stringify(this.endMarker), {
        msgID: endMsgId(this.o.rig, this.o.session), headers: h, timeout: this.o.ackTimeoutMs,
      });
    } catch (error) {
      this.failures += 1;
      this.o.onEvent?.({ type: 'publish-failed', ackedBytes: bytes, message: (error as Error).message });
      await sleep(this.o.retryMs);
      return false;
    }
    this.checkpoint.ended = true;
    this.o.onEvent?.({ type: 'ended', marker: this.endMarker });
    return true;
  }

  private async saveCheckpoint(force: boolean): Promise<void> {
    const now = Date.now();
    if (!force && now - this.lastCheckpointMs < CHECKPOINT_EVERY_MS) return;
    this.lastCheckpointMs = now;
    // one write at a time (a mark and the acks both save): each write goes through one temporary file
    const snapshot = structuredClone(this.checkpoint);
    const write = this.saving.then(() => writeMirrorCheckpoint(this.o.checkpointPath, snapshot));
    this.saving = write.catch(() => undefined);
    await write;
  }

  private saving: Promise<void> = Promise.resolve();
}
