// The state the parts of a simulated device share. Each part's logic lives in
// its own file (clock.ts, uplink.ts, session.ts, run-state.ts, blocks.ts,
// commands.ts, watchdog.ts, led-events.ts, status.ts, fault-injection.ts,
// event-loop.ts; device.ts lists what each does); this object only holds them
// together so that they can reach one another. What a reset wipes is
// `session` (and `run`), each replaced by a fresh object; a Start replaces `run`.
import type { EventEmitter } from 'node:events';
import type { EnvelopeInit } from '../../protocol/index.ts';
import type { World } from '../world/world.ts';
import type { BoardDefinition } from './board.ts';
import type { BlockProducer } from './blocks.ts';
import type { DeviceClock } from './clock.ts';
import type { GroundTruth } from './faults.ts';
import type { Issue } from './issue.ts';
import type { NonVolatileStore } from './nv.ts';
import type { RunState } from './run-state.ts';
import type { Session } from './session.ts';
import type { SyncTap } from './sync-tap.ts';
import type { Queued, Uplink } from './uplink.ts';

export interface DeviceCore {
  readonly board: BoardDefinition;
  readonly world: World;
  readonly nv: NonVolatileStore;
  readonly truth: GroundTruth;
  readonly events: EventEmitter;
  readonly clock: DeviceClock;
  readonly uplink: Uplink;
  readonly blocks: BlockProducer;
  /** The rig's connection to a shared sync line (sync-tap.ts), or null. */
  readonly syncTap: SyncTap | null;
  /** What the firmware holds in RAM since its last boot. */
  session: Session;
  /** The current run (running) or the last one since boot (stopped), or an idle one. */
  run: RunState;
  /** Starts since the simulation began (never reset). */
  runCount: number;
  /** When set, the watchdog measures heartbeat age on this clock (seconds, the host's timescale). */
  watchdogClockS: (() => number) | undefined;
  /** The host clock's reading at the last heartbeat (when watchdogClockS is set). */
  lastHeartbeatHostS: number;
  /** Restarts the firmware (session.ts reboot()); `lastWords` go out first after the boot. */
  reboot(logMessage: string | null, lastWords: Queued | null): void;
}

export function reply(core: DeviceCore, requestId: number, body: Omit<EnvelopeInit, 'requestId'>): void {
  core.uplink.send({ requestId, ...body }, 'control');
}

export function sendError(core: DeviceCore, requestId: number, i: Issue): void {
  core.uplink.send({ requestId, error: { code: i.code, message: i.message, field: i.field } }, 'control');
}

export function log(core: DeviceCore, level: number, message: string): void {
  core.uplink.send({ requestId: 0, log: { level, message: message.slice(0, 95), deviceTimeUs: core.clock.deviceTimeUs } }, 'control');
}

/** Sends what the link can send by now. */
export function drain(core: DeviceCore): void {
  core.uplink.drain(core.clock.devS);
}
