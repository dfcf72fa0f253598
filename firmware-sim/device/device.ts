// The simulated fiberrig firmware. It speaks the wire protocol (framed
// Envelopes in, framed Envelopes out), keeps a virtual clock that its owner
// advances explicitly, and while running turns the modulation schedule and a
// simulated World into SampleBlocks, DigitalEvents, LedEvents and Status.
//
// This file is the facade: the public API over the parts, which are
//   clock.ts            world time, device uptime and the crystal's drift
//   session.ts          what a boot starts fresh; the handshake; reboot()
//   run-state.ts        one run's counters and drive changes (fresh per Start)
//   commands.ts         decoding and answering the host's commands
//   watchdog.ts         the heartbeat watchdog; led-events.ts the LedEvents
//   blocks.ts           schedule + World -> sample blocks, ring buffer, edges
//   uplink.ts           the control and stream queues and the paced link
//   status.ts           Status, SelfTest and the counters behind them
//   fault-injection.ts  scheduled faults acting on those parts
//   sync-tap.ts         a sync line shared with other rigs (sync-bus.ts): drive it, timestamp it
//   event-loop.ts       advance(): the next due event, and the part that acts
// Every part works on the shared DeviceCore (core.ts).
import { EventEmitter } from 'node:events';
import type { Envelope, EnvelopeInit } from '../../protocol/index.ts';
import type { World } from '../world/world.ts';
import { type BoardDefinition, checkBoard, DEFAULT_BOARD } from './board.ts';
import { BlockProducer, type LoopbackWire } from './blocks.ts';
import { DeviceClock } from './clock.ts';
import { CommandHandler } from './commands.ts';
import { type DeviceCore, drain } from './core.ts';
import { SimError } from './errors.ts';
import { advanceWorldTo } from './event-loop.ts';
import { applyFault, FaultQueue } from './fault-injection.ts';
import { ByteFaultStage, checkFault, type FaultSpec, GroundTruth, Rng } from './faults.ts';
import { Outbox } from './link.ts';
import { NonVolatileStore } from './nv.ts';
import { RunState } from './run-state.ts';
import { newSession, reboot } from './session.ts';
import { darkReasonOf, type FrameRejections, frameRejectionsOf, ledCurrentsNowOf, sampleIndexOf, statusOf } from './status.ts';
import { Uplink } from './uplink.ts';
import type { SyncBus } from './sync-bus.ts';
import { type SyncBusJoin, SyncTap } from './sync-tap.ts';
import type { NormalizedConfig } from './validate.ts';
import { checkHostClockWatchdog } from './watchdog.ts';

export type { LoopbackWire } from './blocks.ts';
export type { FrameRejections } from './status.ts';
export type { SyncBusJoin } from './sync-tap.ts';

export interface SimDeviceOptions {
  /** The world the device measures. */
  world: World;
  board?: BoardDefinition;
  /** Non-volatile memory; share one between devices to model a power cycle that keeps flash. */
  nv?: NonVolatileStore;
  /** Seeds the fault RNG (byte faults). Default 1. */
  seed?: number;
  /** Device crystal error, ppm (positive: the device runs fast). */
  driftPpm?: number;
  /** Link throughput, bytes per second of world time. Default 1e6 (USB full speed). */
  linkBytesPerSecond?: number;
  /** Host receive buffer, bytes. Default 64 KiB. */
  outboxBytes?: number;
  /** A wire from the sync output to a digital input (edges appear as DigitalEvents). */
  loopbackWire?: LoopbackWire | null;
  /** Faults to inject (each at its atS, or at once). */
  faults?: readonly FaultSpec[];
  /** A sync line shared with other simulated rigs (sync-bus.ts): its bus, this rig's time origin on it, its input line. */
  syncBus?: SyncBusJoin | null;
}

export type SimDeviceEvent = 'disconnect' | 'reconnect' | 'reset' | 'bootloader';

export class SimDevice {
  readonly board: BoardDefinition;
  readonly world: World;
  readonly nv: NonVolatileStore;
  readonly truth = new GroundTruth();
  readonly outbox: Outbox;
  readonly linkBytesPerSecond: number;
  readonly events = new EventEmitter();
  private readonly core: DeviceCore;
  private readonly commands: CommandHandler;
  private readonly faults = new FaultQueue();

  constructor(options: SimDeviceOptions) {
    this.board = options.board ?? DEFAULT_BOARD;
    checkBoard(this.board);
    this.world = options.world;
    this.nv = options.nv ?? new NonVolatileStore();
    const ppm = options.driftPpm ?? 0;
    checkFault({ type: 'drift', ppm });
    this.linkBytesPerSecond = options.linkBytesPerSecond ?? 1_000_000;
    if (!(this.linkBytesPerSecond > 0)) throw new SimError('E_SIM_OPTIONS', `link rate ${this.linkBytesPerSecond} B/s`, 'give a positive bytes-per-second rate');
    this.outbox = new Outbox(options.outboxBytes ?? 64 * 1024);
    const clock = new DeviceClock(ppm);
    const faultStage = new ByteFaultStage(new Rng(options.seed ?? 1), this.truth);
    const onFrame = (payload: Uint8Array): void => this.commands.onFrame(payload);
    const core: DeviceCore = {
      board: this.board, world: this.world, nv: this.nv, truth: this.truth, events: this.events, clock,
      uplink: new Uplink(clock, this.truth, this.outbox, faultStage, this.linkBytesPerSecond, this.board.maxMessageBytes),
      blocks: null as unknown as BlockProducer, // set below: the producer needs the core it belongs to
      syncTap: null, // set below, as blocks
      session: newSession({ board: this.board, nv: this.nv }, onFrame),
      run: RunState.idle(0),
      runCount: 0,
      watchdogClockS: undefined,
      lastHeartbeatHostS: 0,
      reboot: (logMessage, lastWords) => reboot(core, logMessage, lastWords, onFrame),
    };
    (core as { blocks: BlockProducer }).blocks = new BlockProducer(core, this.board, options.loopbackWire ?? null);
    if (options.syncBus) (core as { syncTap: SyncTap | null }).syncTap = new SyncTap(core, options.syncBus);
    this.core = core;
    this.commands = new CommandHandler(core);
    for (const f of options.faults ?? []) this.inject(f);
  }

  // ------------------------------------------------------------ inspection

  get worldTimeS(): number {
    return this.core.clock.worldS;
  }

  get deviceTimeUs(): number {
    return this.core.clock.deviceTimeUs;
  }

  get running(): boolean {
    return this.core.run.running;
  }

  get configured(): boolean {
    return this.core.session.config !== null;
  }

  get configId(): number {
    return this.core.session.configId;
  }

  get isHandshaken(): boolean {
    return this.core.session.handshaken;
  }

  get inBootloader(): boolean {
    return this.core.session.bootloader;
  }

  get driftPpm(): number {
    return this.core.clock.ppm;
  }

  /** Starts since the simulation began (ground-truth run number of the current or last run). */
  get run(): number {
    return this.core.runCount;
  }

  /** The configuration in force (normalized), or null. */
  get currentConfig(): NormalizedConfig | null {
    return this.core.session.config;
  }

  /**
   * World time (s) of detector sample 0 of the current or last run, or null when there was none
   * since boot: where a run's sample n sits in the world's ground truth (n / rate later, at no drift).
   */
  get runStartWorldS(): number | null {
    const run = this.core.run;
    return run.config ? this.core.clock.worldOf(run.startDevS) : null;
  }

  /** The shared sync line this rig is on, or null. */
  get syncBus(): SyncBus | null {
    return this.core.syncTap?.bus ?? null;
  }

  /**
   * Ground truth of the shared sync line: the common (bus) time, seconds, of detector sample `n` (may be
   * fractional) of the current or last run since boot — world time + the rig's origin on the bus (origin 0
   * when on no bus). Null when there was no run since boot.
   */
  commonTimeOfSample(n: number): number | null {
    const run = this.core.run;
    if (!run.config) return null;
    return this.core.clock.worldOf(run.startDevS + n / run.config.sampleRateHz) + (this.core.syncTap?.originS ?? 0);
  }

  /**
   * Places this rig on its sync bus's time base now, if it is not placed yet: a pacer calls it when it starts moving
   * the rig's clock with the wall clock, so that wall and true time agree from then on (else the first use places it).
   */
  fixSyncOrigin(): void {
    this.core.syncTap?.fixOrigin();
  }

  /** Leaves the shared sync line (the simulation is discarded): a run driving it ends its pulses now. */
  leaveSyncBus(): void {
    this.core.syncTap?.leave();
  }

  /** Next detector sample index (0 when stopped). */
  get sampleIndex(): number {
    return sampleIndexOf(this.core);
  }

  get darkReason(): number {
    return darkReasonOf(this.core);
  }

  get frameRejections(): FrameRejections {
    return frameRejectionsOf(this.core);
  }

  /** Unsolicited messages the device dropped because its queues were full (never expected). */
  get messagesDropped(): number {
    return this.core.uplink.messagesDropped;
  }

  /** Blocks waiting in the ring buffer. */
  get bufferedBlocks(): number {
    return this.core.uplink.bufferedBlocks;
  }

  /** True during a disconnect fault. */
  get disconnected(): boolean {
    return this.core.uplink.disconnected;
  }

  /** True while the link is down (a disconnect fault, or no host attached). */
  get linkDown(): boolean {
    return this.core.uplink.linkDown;
  }

  /** Effective LED currents now (board order, mA): 0 when stopped or dark. */
  ledCurrentsNow(): Float64Array {
    return ledCurrentsNowOf(this.core);
  }

  /** Status as the device would send it now. */
  statusNow(): EnvelopeInit['status'] {
    return statusOf(this.core);
  }

  // ----------------------------------------------------------------- input

  /** Bytes from the host. */
  receive(bytes: Uint8Array): void {
    if (this.core.session.bootloader) return;
    this.core.session.decoder.push(bytes);
  }

  /** One decoded Envelope from the host (skips the framing). */
  handle(envelope: Envelope | EnvelopeInit): void {
    this.commands.handle(envelope);
  }

  /** Reads up to `length` bytes the device has sent; returns the count. */
  readInto(target: Uint8Array, offset: number, length: number): number {
    const n = this.outbox.readInto(target, offset, length);
    if (n > 0) drain(this.core);
    return n;
  }

  /** Everything the device has sent and nobody has read yet. */
  read(max?: number): Uint8Array | null {
    const out = this.outbox.readAll(max);
    if (out) drain(this.core);
    return out;
  }

  /** Transports: whether a host is connected (a detached device keeps running; its link stalls). */
  setHostAttached(attached: boolean): void {
    this.core.uplink.setHostAttached(attached);
  }

  // ------------------------------------------------------------------ time

  /** Advances the simulation by `seconds` of world time. */
  advance(seconds: number): void {
    if (!(seconds >= 0)) throw new SimError('E_SIM_TIME', `cannot advance by ${seconds} s`, 'advance by a finite number of seconds >= 0');
    checkHostClockWatchdog(this.core);
    this.advanceWorldTo(this.core.clock.worldS + seconds);
  }

  /** Measure heartbeat age on `clockS` (seconds, the host's timescale) instead of device time. */
  useHostClockForWatchdog(clockS: () => number): void {
    this.core.watchdogClockS = clockS;
    this.core.lastHeartbeatHostS = clockS();
  }

  /** Advances until the device uptime clock reads `deviceTimeUs`. */
  advanceTo(deviceTimeUs: number): void {
    const clock = this.core.clock;
    let guard = 0;
    while (clock.devS * 1e6 < deviceTimeUs - 1e-3 && guard++ < 1_000_000) {
      const dev = deviceTimeUs / 1e6;
      const seg = clock.segFor(clock.devS);
      this.advanceWorldTo(clock.worldS + Math.max((dev - clock.devS) / seg.rate, 1e-9));
    }
  }

  /** Schedules a fault at spec.atS (world time) or applies it now. */
  inject(spec: FaultSpec): void {
    if (!this.faults.schedule(spec, this.core.clock.worldS)) applyFault(this.core, spec);
  }

  /** Hardware reset (reset pin / power cycle with flash kept): leaves the bootloader too. */
  powerCycle(): void {
    this.core.reboot('power cycle', null);
  }

  private advanceWorldTo(targetW: number): void {
    advanceWorldTo(this.core, this.faults, targetW);
  }
}
