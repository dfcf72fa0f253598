// The lab dashboard's WebSocket messages (JSON text frames). The page (public/app.js) is
// written against these shapes.
import { z } from 'zod';
import { MAX_DURATION_S } from '../commands.ts';
import type { LabErrorReply } from '../errors.ts';
import type { ArchiveProgress } from './fleet-source.ts';
import type { RigRow } from './fleet-table.ts';
import type { LivePoint } from './live-buffer.ts';

const rigName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const id = z.number().int().nonnegative();

export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('start'), id,
    /** One entry per selected rig, each with its animal's subject id. */
    rigs: z.array(z.object({ rig: rigName, subject: z.string().max(200).nullable() })).min(1).max(256),
    durationS: z.number().positive().max(MAX_DURATION_S),
  }),
  z.object({ type: z.literal('stop'), id, rigs: z.array(rigName).min(1).max(256) }),
  z.object({ type: z.literal('forget'), id, rig: rigName }),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

export interface HelloMessage {
  type: 'hello';
  frameIntervalMs: number;
  /** Seconds of live trace each rig's plot holds. */
  liveWindowS: number;
  offlineAfterS: number;
  /**
   * How a group starts: the agent's start command has no start instant, so the dashboard sends
   * every start at the same moment ('simultaneous'); each rig starts when its agent gets it.
   */
  groupStart: 'simultaneous';
  maxDurationS: number;
}

export interface FleetFrame {
  type: 'fleet';
  seq: number;
  nowIso: string;
  rigs: RigRow[];
  /** New live points per rig since this page's last frame. */
  live: Record<string, LivePoint[]>;
  archive: ArchiveProgress | null;
}

export interface RigResult {
  rig: string;
  ok: boolean;
  /** The session a start began or a stop ended. */
  session?: string | null;
  error?: LabErrorReply['error'];
  /** From the dashboard's send to the reply, ms. */
  replyMs: number;
}

export interface ReplyMessage {
  type: 'reply';
  id: number;
  action: ClientMessage['type'];
  /** When the dashboard sent the commands (all of a group at this instant). */
  sentIso: string;
  results: RigResult[];
}

export type ServerMessage = HelloMessage | FleetFrame | ReplyMessage;
