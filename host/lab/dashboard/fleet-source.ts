// The dashboard's seam to the fleet (as serialport's bindings are the Rig's seam to a port):
// rigs' states as they change (and a rig leaving), live samples per rig, a command to one rig
// with its typed reply, and the archive's progress (backlog, and per session) when known. nats-source.ts is the lab's
// broker; memory-source.ts stands in for it in tests.
import type { Observable } from 'rxjs';
import type { RigState } from '../agent.ts';
import type { AgentCommand } from '../commands.ts';
import type { LabErrorReply } from '../errors.ts';
import type { SessionArchiveProgress } from '../archive-progress.ts';
import type { LiveSample } from '../live-publisher.ts';

export type { LiveSample, SessionArchiveProgress };

/**
 * A rig's fleet entry: the agent's RigState, where the LED and disk health and the mirror's
 * session may be missing (an entry written by an agent from before they were reported).
 */
export type FleetRigState = Omit<RigState, 'leds' | 'disk' | 'mirror'> & {
  mirror: (Omit<NonNullable<RigState['mirror']>, 'session'> & { session?: string }) | null;
  leds?: { dark: boolean; reason?: 'watchdog' | 'fault' | null; sinceIso?: string | null };
  disk?: { freeBytes: number; totalBytes: number } | null;
};

export type FleetEvent =
  /** ageMs: how long ago the broker stored it, when known (a state read at start may be old: its agent may be dead). */
  | { type: 'state'; rig: string; state: FleetRigState; ageMs?: number }
  /** The entry was deleted (the agent left), purged, or expired. */
  | { type: 'gone'; rig: string; reason: 'deleted' | 'expired' };

/** A command as sent on the wire (commands.ts parses it on the agent): `config` is an acquisition file's JSON. */
export type FleetCommand =
  | { cmd: 'start'; subject: string | null; durationS: number; config?: unknown }
  | Exclude<AgentCommand, { cmd: 'start' }>;

export type CommandReply = ({ ok: true } & Record<string, unknown>) | LabErrorReply;

/** The archive consumer's backlog (fleet-wide; per session: SessionArchiveProgress). */
export interface ArchiveProgress {
  /** Messages not yet delivered to any archive process. */
  pendingMessages: number;
  /** Delivered, not yet acknowledged (written and fsynced). */
  ackPendingMessages: number;
  /** The last stream sequence acknowledged in order. */
  ackFloorSeq: number;
  /** The raw stream's last sequence. */
  streamLastSeq: number;
  /** false: no archive consumer on the broker yet (the other figures are 0). */
  consumer: boolean;
}

export interface FleetSource {
  /** Every rig's current state first, then each change. */
  readonly rigs$: Observable<FleetEvent>;
  /** Live samples of every rig (lossy). */
  readonly live$: Observable<LiveSample>;
  /** The fleet entries' lifetime without refresh, ms, when the source knows it (the bucket's TTL): a rig silent for longer is offline. */
  readonly fleetTtlMs$?: Observable<number>;
  /** The archive's backlog as it changes; absent when the source cannot know it. */
  readonly archive$?: Observable<ArchiveProgress>;
  /** Each session's archive progress (the archive's fiberrig_archive bucket): every entry first, then each change; absent when unknown. */
  readonly archiveSessions$?: Observable<SessionArchiveProgress>;
  /** Sends one command to one rig; resolves with its reply, or a refusal when no agent answers (never rejects). */
  send(rig: string, command: FleetCommand): Promise<CommandReply>;
  close(): Promise<void>;
}

/** A reply made here, not by an agent (no agent answered, the request timed out). */
export function localRefusal(code: string, message: string, hint: string): LabErrorReply {
  return { ok: false, error: { code, message, hint } };
}
