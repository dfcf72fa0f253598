// The fleet on the lab's NATS broker (host/lab/layout.ts names everything): rigs from a watch
// on the fleet bucket, live samples from fiberrig.live.>, commands as requests on each rig's
// command subject, the archive's backlog from its durable consumer's info (polled), each
// session's archive progress from a watch on the archive's bucket.
//
// JetStream KV (nats-server 2.9) does not tell a watcher when an entry expires: a rig whose
// agent died simply stops being refreshed, and the fleet table marks it offline once it has not
// been heard of for the bucket's TTL. A deleted entry (an agent that stopped) is a 'gone' event.
import { type NatsConnection, NoRespondersError, RequestError, type Subscription, TimeoutError } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { type KvStatus, type KvWatchEntry, Kvm } from '@nats-io/kv';
import { concat, defer, from, type Observable, ReplaySubject, Subject } from 'rxjs';
import { FiberrigError } from '../../../protocol/index.ts';
import { parseSessionArchiveProgress } from '../archive-progress.ts';
import { ARCHIVE_BUCKET, ARCHIVE_CONSUMER, archiveProgressKey, checkToken, commandSubject, liveSubject, RAW_STREAM, RIGS_BUCKET } from '../layout.ts';
import type { ArchiveProgress, CommandReply, FleetCommand, FleetEvent, FleetRigState, FleetSource, LiveSample, SessionArchiveProgress } from './fleet-source.ts';
import { localRefusal } from './fleet-source.ts';

export interface NatsFleetSourceOptions {
  nc: NatsConnection;
  /** How long a command waits for its reply, ms (default 20000: a start configures the device first). */
  requestTimeoutMs?: number;
  /** Archive backlog poll interval, ms (default 2000; 0: none). */
  archivePollMs?: number;
  /** Retry interval while the fleet (or archive) bucket does not exist yet (no agent or archive has run), ms (default 2000). */
  bucketRetryMs?: number;
}

interface Stoppable {
  stop(): void;
}

export class NatsFleetSource implements FleetSource {
  private readonly states = new Map<string, FleetRigState>();
  private readonly events = new Subject<FleetEvent>();
  private readonly samples = new Subject<LiveSample>();
  private readonly archive = new ReplaySubject<ArchiveProgress>(1);
  private readonly ttl = new ReplaySubject<number>(1);
  private readonly liveSubscription: Subscription;
  private readonly watchers = new Set<Stoppable>();
  private readonly sessions = new Map<string, SessionArchiveProgress>();
  private readonly sessionEvents = new Subject<SessionArchiveProgress>();
  private archiveTimer: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  private readonly watching: Promise<unknown>;

  readonly rigs$: Observable<FleetEvent> = defer(() => concat(
    from([...this.states.values()].map((state): FleetEvent => ({ type: 'state', rig: state.rig, state }))),
    this.events,
  ));
  readonly live$: Observable<LiveSample> = this.samples.asObservable();
  readonly archive$: Observable<ArchiveProgress> = this.archive.asObservable();
  readonly fleetTtlMs$: Observable<number> = this.ttl.asObservable();
  readonly archiveSessions$: Observable<SessionArchiveProgress> = defer(() => concat(from([...this.sessions.values()]), this.sessionEvents));

  constructor(private readonly o: NatsFleetSourceOptions) {
    this.liveSubscription = o.nc.subscribe(liveSubject('>'), {
      callback: (error, msg) => {
        if (error) return;
        const sample = parseLiveSample(msg.subject, msg.data);
        if (sample) this.samples.next(sample);
      },
    });
    this.watching = Promise.all([
      this.watchBucket(RIGS_BUCKET, (entry) => this.onEntry(entry), (status) => { if (status.ttl > 0) this.ttl.next(status.ttl); }),
      this.watchBucket(ARCHIVE_BUCKET, (entry) => this.onSessionEntry(entry)),
    ]);
    const pollMs = o.archivePollMs ?? 2000;
    if (pollMs > 0) {
      this.archiveTimer = setInterval(() => { void this.pollArchive(); }, pollMs);
      this.archiveTimer.unref();
      void this.pollArchive();
    }
  }

  private async watchBucket(bucket: string, onEntry: (entry: KvWatchEntry) => void, onStatus?: (status: KvStatus) => void): Promise<void> {
    while (!this.closed) {
      try {
        const kv = await new Kvm(this.o.nc).open(bucket);
        const status = await kv.status(); // fails while the bucket does not exist
        onStatus?.(status);
        const entries = await kv.watch();
        this.watchers.add(entries);
        if (this.closed) entries.stop();
        try {
          for await (const entry of entries) onEntry(entry);
        } finally {
          this.watchers.delete(entries);
        }
      } catch {
        // no bucket yet (no agent or archive has started), or the broker is away: try again
      }
      if (!this.closed) await new Promise((r) => setTimeout(r, this.o.bucketRetryMs ?? 2000));
    }
  }

  private onSessionEntry(entry: KvWatchEntry): void {
    if (entry.operation !== 'PUT') return; // purged: nothing to show (the page keeps what it had)
    let progress: SessionArchiveProgress | undefined;
    try {
      progress = parseSessionArchiveProgress(entry.json());
    } catch {
      return;
    }
    if (!progress || archiveProgressKey(progress.rig, progress.session) !== entry.key) return;
    this.sessions.set(entry.key, progress);
    this.sessionEvents.next(progress);
  }

  private onEntry(entry: KvWatchEntry): void {
    if (entry.operation !== 'PUT') {
      if (this.states.delete(entry.key)) this.events.next({ type: 'gone', rig: entry.key, reason: 'deleted' });
      return;
    }
    let state: FleetRigState;
    try {
      state = entry.json<FleetRigState>();
    } catch {
      return; // not an agent's entry
    }
    if (typeof state !== 'object' || state === null || state.rig !== entry.key || typeof state.link !== 'object' || typeof state.info !== 'object') return;
    this.states.set(entry.key, state);
    // the entries the watch starts with may be old (an agent that died within the TTL); later ones are news
    const ageMs = entry.isUpdate ? undefined : Date.now() - entry.created.getTime();
    this.events.next({ type: 'state', rig: entry.key, state, ...(ageMs !== undefined ? { ageMs } : {}) });
  }

  private async pollArchive(): Promise<void> {
    try {
      const jsm = await jetstreamManager(this.o.nc);
      const stream = await jsm.streams.info(RAW_STREAM).catch(() => undefined);
      const consumer = stream ? await jsm.consumers.info(RAW_STREAM, ARCHIVE_CONSUMER).catch(() => undefined) : undefined;
      if (this.closed) return;
      this.archive.next(consumer
        ? { consumer: true, pendingMessages: consumer.num_pending, ackPendingMessages: consumer.num_ack_pending, ackFloorSeq: consumer.ack_floor.stream_seq, streamLastSeq: stream!.state.last_seq }
        : { consumer: false, pendingMessages: 0, ackPendingMessages: 0, ackFloorSeq: 0, streamLastSeq: stream?.state.last_seq ?? 0 });
    } catch {
      // the broker is away: the page keeps the last figures
    }
  }

  async send(rig: string, command: FleetCommand): Promise<CommandReply> {
    try {
      checkToken('rig', rig);
      const reply = await this.o.nc.request(commandSubject(rig), JSON.stringify(command), { timeout: this.o.requestTimeoutMs ?? 20_000 });
      const parsed = reply.json<CommandReply>();
      if (typeof parsed !== 'object' || parsed === null || typeof parsed.ok !== 'boolean') {
        return localRefusal('E_LAB_REPLY', `rig ${rig} answered something that is not a command reply`, 'check that the agent and the dashboard are the same fiberrig version');
      }
      return parsed;
    } catch (error) {
      if (error instanceof FiberrigError) return localRefusal(error.code, error.message, error.hint);
      if (error instanceof NoRespondersError || (error instanceof RequestError && error.isNoResponders())) {
        return localRefusal('E_LAB_OFFLINE', `no agent answers for rig ${rig}`, 'start `fiberrig agent --rig ' + rig + '`, or check its broker connection');
      }
      if (error instanceof TimeoutError || (error instanceof RequestError && error.cause instanceof TimeoutError)) {
        return localRefusal('E_LAB_NO_REPLY', `rig ${rig} did not answer within ${(this.o.requestTimeoutMs ?? 20_000) / 1000} s`, 'look at the agent\'s stderr; the command may still take effect');
      }
      return localRefusal('E_LAB_REQUEST', `the command to rig ${rig} failed: ${(error as Error).message}`, 'check the broker connection');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.archiveTimer);
    this.liveSubscription.unsubscribe();
    for (const w of this.watchers) w.stop();
    await Promise.race([this.watching, new Promise((r) => setTimeout(r, 1000))]);
    this.events.complete();
    this.samples.complete();
    this.archive.complete();
    this.ttl.complete();
    this.sessionEvents.complete();
  }
}

/** A live message, or undefined when it is not one (it is dropped: the live subject is lossy anyway). */
export function parseLiveSample(subject: string, data: Uint8Array): LiveSample | undefined {
  const rig = subject.split('.').at(-1);
  try {
    const v = JSON.parse(Buffer.from(data).toString('utf8')) as LiveSample;
    if (typeof v !== 'object' || v === null || v.rig !== rig || typeof v.timeS !== 'number' || typeof v.session !== 'string' || typeof v.values !== 'object' || v.values === null) return undefined;
    return v;
  } catch {
    return undefined;
  }
}
