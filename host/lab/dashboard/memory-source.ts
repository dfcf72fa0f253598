// An in-memory fleet for tests and demos: rigs are set, changed and removed by hand, live
// samples pushed, and commands answered by a handler (default: a simple rig model that
// refuses a start while recording and a stop while idle, as the agent does).
import { concat, defer, from, type Observable, ReplaySubject, Subject } from 'rxjs';
import type { ArchiveProgress, CommandReply, FleetCommand, FleetEvent, FleetRigState, FleetSource, LiveSample, SessionArchiveProgress } from './fleet-source.ts';
import { localRefusal } from './fleet-source.ts';

export type CommandHandler = (rig: string, command: FleetCommand, state: FleetRigState | undefined) => CommandReply | Promise<CommandReply>;

export interface SentCommand {
  rig: string;
  command: FleetCommand;
  /** Date.now() when send() was called. */
  atMs: number;
  reply?: CommandReply;
}

/** A rig's state with sensible defaults (an idle simulated rig). */
export function rigState(rig: string, patch: Partial<FleetRigState> = {}): FleetRigState {
  return {
    rig, device: `sim://sleep?seed=${rig.length}`,
    info: { firmware: 'fiberrig-sim 1.0.0', board: 'sim', serialNumber: `SIM-${rig}`, leds: 3, detectors: 2 },
    status: 'idle', recording: false, session: null, subject: null,
    link: { connected: true, reconnects: 0, missingSamples: 0, droppedSamples: 0, heartbeatRoundTripMs: 2 },
    mirror: null, updatedIso: new Date().toISOString(),
    ...patch,
  };
}

export class MemoryFleetSource implements FleetSource {
  private readonly states = new Map<string, FleetRigState>();
  private readonly events = new Subject<FleetEvent>();
  private readonly samples = new Subject<LiveSample>();
  private readonly archive = new ReplaySubject<ArchiveProgress>(1);
  private readonly sessionProgress = new Map<string, SessionArchiveProgress>();
  private readonly sessionEvents = new Subject<SessionArchiveProgress>();
  private sessionCounter = 0;
  readonly sent: SentCommand[] = [];
  handler: CommandHandler;

  readonly rigs$: Observable<FleetEvent> = defer(() => concat(
    from([...this.states.values()].map((state): FleetEvent => ({ type: 'state', rig: state.rig, state }))),
    this.events,
  ));
  readonly live$: Observable<LiveSample> = this.samples.asObservable();
  readonly archive$: Observable<ArchiveProgress> = this.archive.asObservable();
  readonly archiveSessions$: Observable<SessionArchiveProgress> = defer(() => concat(from([...this.sessionProgress.values()]), this.sessionEvents));

  constructor(handler?: CommandHandler) {
    this.handler = handler ?? ((rig, command, state) => this.model(rig, command, state));
  }

  state(rig: string): FleetRigState | undefined {
    return this.states.get(rig);
  }

  /** Adds or changes a rig (a KV put). */
  setRig(state: FleetRigState): void {
    const next = { ...state, updatedIso: new Date().toISOString() };
    this.states.set(state.rig, next);
    this.events.next({ type: 'state', rig: state.rig, state: next });
  }

  /** Changes part of a rig's state. */
  patchRig(rig: string, patch: Partial<FleetRigState>): void {
    const current = this.states.get(rig) ?? rigState(rig);
    this.setRig({ ...current, ...patch });
  }

  /** The rig leaves (its KV entry deleted or expired). */
  removeRig(rig: string, reason: 'deleted' | 'expired' = 'expired'): void {
    this.states.delete(rig);
    this.events.next({ type: 'gone', rig, reason });
  }

  pushLive(sample: LiveSample): void {
    this.samples.next(sample);
  }

  pushArchive(progress: ArchiveProgress): void {
    this.archive.next(progress);
  }

  /** Sets a session's archive progress (a put to the archive's bucket). */
  setSessionProgress(progress: SessionArchiveProgress): void {
    this.sessionProgress.set(`${progress.rig}.${progress.session}`, progress);
    this.sessionEvents.next(progress);
  }

  async send(rig: string, command: FleetCommand): Promise<CommandReply> {
    const entry: SentCommand = { rig, command, atMs: Date.now() };
    this.sent.push(entry);
    const state = this.states.get(rig);
    const reply = state === undefined
      ? localRefusal('E_LAB_OFFLINE', `rig ${rig} has no agent on the broker`, 'start `fiberrig agent` for it, or check its broker connection')
      : await this.handler(rig, command, state);
    entry.reply = reply;
    return reply;
  }

  /** The default handler: start/stop change the rig's state as an agent would. */
  private model(rig: string, command: FleetCommand, state: FleetRigState | undefined): CommandReply {
    if (!state) return localRefusal('E_LAB_OFFLINE', `rig ${rig} is offline`, 'start its agent');
    switch (command.cmd) {
      case 'start': {
        if (state.recording) return localRefusal('E_LAB_BUSY', `rig ${rig} is recording session ${state.session}`, 'send stop first, or wait for its duration');
        const session = `S${String(++this.sessionCounter).padStart(4, '0')}`;
        this.patchRig(rig, { status: 'recording', recording: true, session, subject: command.subject, mirror: { session, ackedBytes: 0, fileBytes: 0, failures: 0 } });
        return { ok: true, session };
      }
      case 'stop': {
        if (!state.recording) return localRefusal('E_LAB_NOT_RECORDING', `rig ${rig} is not recording: nothing to stop`, 'send a start command first');
        const session = state.session;
        this.patchRig(rig, { status: 'idle', recording: false, session: null, subject: null });
        return { ok: true, session, stoppedBy: 'user' };
      }
      case 'status':
        return { ok: true, state };
      default:
        return { ok: true };
    }
  }

  async close(): Promise<void> {
    this.events.complete();
    this.samples.complete();
    this.archive.complete();
    this.sessionEvents.complete();
  }
}
