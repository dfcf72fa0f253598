// The simulated fiberrig firmware. It speaks the wire protocol (framed
// Envelopes in, framed Envelopes out), keeps a virtual clock that its owner
// advances explicitly, and while running turns the modulation schedule and a
// simulated World into SampleBlocks, DigitalEvents, LedEvents and Status.
//
// Clocks. The simulation's master clock is world time (seconds; what a
// transport paces against wall-clock time). The device's own uptime clock
// (device_time_us) and its sample clock run (1 + drift_ppm * 1e-6) times faster
// than world time, so detector sample n of a run is taken at device time
// start + n / fs and at world time start_w + n / (fs * (1 + ppm * 1e-6)). A
// drift change takes effect at the next detector block boundary (so each block
// is rendered with one sample period); uptime restarts at 0 after a reset.
//
// Samples are raw ADC codes, clamped to the ADC's range: detector blocks are
// UINT16_LE (unipolar photodetector codes, 0 V = 0), aux blocks INT16_LE
// (bipolar EEG/EMG, 0 uV = 0), as the board definition says; channel_ids are
// the configured ids in configuration order.
//
// Sample n is "taken" at the end of its period: a block [first, first + B)
// is complete, rendered and queued at device time start + (first + B) / fs.
// Aux sample k is taken with detector sample k * divider. Aux blocks also hold
// block_samples samples per channel.
//
// Link. Replies, Status and Log go out first (a priority queue); sample blocks,
// DigitalEvents, LedEvents and Stop's Ack go out in order behind them (so when
// the host sees Stop's Ack, every block of the run has been sent). The link
// sends whole frames at `linkBytesPerSecond` into the Outbox (the host's
// receive buffer); it stalls while the Outbox is full or the host is detached.
// Blocks wait in the ring buffer (board.bufferBlocks); when it is full a new
// block is dropped and counted (Status.blocks_dropped / samples_dropped) while
// the sample index keeps counting, so the host sees the gap.
//
// Accelerated runs. A host heartbeats on its own (wall) clock; a simulator
// running at 10x or as fast as the host reads would see heartbeats arrive
// tens of device-seconds apart and trip the watchdog although the host is
// alive. useHostClockForWatchdog() makes the watchdog measure heartbeat age
// on the host's clock (the pacer does this at any speed other than 1); a trip
// then darkens the LEDs from the next block. At speed 1 and in tests that
// drive advance() directly, the watchdog runs on device time as the firmware's does.
//
// Safety. LED currents are validated on every path (Configure, SetLed, power
// conversions). The heartbeat watchdog: while running, if no Heartbeat arrives
// for heartbeat_timeout_ms (Start counts as one), every LED goes dark from the
// first sample at or after the deadline, a LedEvent(0 mA) per LED marks the
// sample index, Status.dark_reason = HEARTBEAT_TIMEOUT and a Log warns. A
// later Heartbeat does NOT relight them (the safer choice: a host that lost
// contact must re-arm on purpose): the next SetLed restores every configured
// LED to its commanded level (with the new level for its channel) at the next
// block boundary, with LedEvents, and restarts the watchdog; Start also re-arms.
// Every drive the device applies while running is announced by a LedEvent
// naming its first sample: Start announces every configured LED at sample 0
// (after its Ack), SetLed and the watchdog their changes. Stop darkens every
// LED from the sample its Ack names (no LedEvent: the Ack says it).
//
// Session. Hello must come first after power-on and after every reset; until
// then only Hello, GetInfo, Heartbeat, Reset and EnterBootloader are served and
// anything else is refused with NOT_CONFIGURED (field "hello").
import { EventEmitter } from 'node:events';
import {
  DarkReason, Edge, encodeFrame, ErrorCode, FrameDecoder, LogLevel, pb, SampleFormat, SampleSource, SelfTestOutcome,
  decodeEnvelope, type Envelope, type EnvelopeInit, PROTOCOL_VERSION, formatVersion,
} from '../../protocol/index.ts';
import type { DetectorRenderRequest, AuxRenderRequest, World } from '../world/world.ts';
import { type BoardDefinition, checkBoard, codeRange, DEFAULT_BOARD, deviceInfoOf } from './board.ts';
import { scanEnvelope } from './bounds.ts';
import { CalibrationMap, validateCalibrationTable } from './calibration.ts';
import { SimError } from './errors.ts';
import {
  type AppliedDrive, ByteFaultStage, checkFault, type FaultRecord, type FaultSpec, type FrameMeta, GroundTruth, type LostRange, Rng,
} from './faults.ts';
import { type Issue, issue } from './issue.ts';
import { Outbox } from './link.ts';
import { NonVolatileStore, StorageFailure } from './nv.ts';
import { ModulationSchedule } from './schedule.ts';
import { type NormalizedConfig, validateConfig, validateSetLed } from './validate.ts';

export interface LoopbackWire {
  /** Output line driven by the sync output (default: the configured sync_out line). */
  fromLine?: number;
  /** Input line the wire goes to. */
  toLine: number;
  /** Propagation delay, timer ticks (default 0). */
  delayTicks?: number;
}

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
}

export interface FrameRejections {
  crc: number;
  oversize: number;
  cobs: number;
  decode: number;
}

interface Queued {
  bytes: Uint8Array;
  meta: FrameMeta;
  readyDevS: number;
  isBlock: boolean;
}

interface Segment {
  devS: number;
  worldS: number;
  /** 1 + ppm * 1e-6 */
  rate: number;
}

interface DriveChange {
  at: number;
  peaks: Float64Array;
}

const EPS = 1e-9;
/** EPS, or a few float steps of t where those are coarser (device times past ~8e6 s): t + epsAt(t) > t always. */
const epsAt = (t: number): number => Math.max(EPS, Math.abs(t) * 8 * Number.EPSILON);
const HOST_BODIES_BEFORE_HELLO = new Set(['hello', 'getInfo', 'heartbeat', 'reset', 'enterBootloader']);
const COMMANDS = new Set([
  'hello', 'getInfo', 'configure', 'start', 'stop', 'setLed', 'heartbeat', 'selfTest', 'readCalibration', 'writeCalibration', 'reset',
  'enterBootloader',
]);
const BODY_KEYS = [
  ...COMMANDS, 'ack', 'error', 'deviceInfo', 'heartbeatAck', 'selfTestReport', 'calibrationTable', 'sampleBlock', 'digitalEvent', 'ledEvent',
  'status', 'log',
] as const;
const CONTROL_QUEUE_MAX = 256;
const EVENT_QUEUE_MAX = 4096;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export type SimDeviceEvent = 'disconnect' | 'reconnect' | 'reset' | 'bootloader';

export class SimDevice {
  readonly board: BoardDefinition;
  readonly world: World;
  readonly nv: NonVolatileStore;
  readonly truth = new GroundTruth();
  readonly outbox: Outbox;
  readonly linkBytesPerSecond: number;
  readonly events = new EventEmitter();

  // clocks
  private worldS = 0;
  private devS = 0;
  private segs: Segment[];
  private ppm: number;

  // session
  private handshaken = false;
  private bootloader = false;
  private config: NormalizedConfig | null = null;
  private configIdValue = 0;
  private nextConfigId = 1;
  private schedule: ModulationSchedule | null = null;
  private calibration: CalibrationMap;
  private commandedMa: Float64Array = new Float64Array(0);
  private commandedUw: Array<number | undefined> = [];

  // run
  private isRunning = false;
  private runCount = 0;
  private runStartDevS = 0;
  private nextDet = 0;
  private nextAux = 0;
  private peaks: Float64Array = new Float64Array(0);
  private changes: DriveChange[] = [];
  /** Ground truth: the drive each configured LED was last rendered with in this run. */
  private appliedMa: Float64Array = new Float64Array(0);
  private tripped = false;
  private everTripped = false;
  private lastHeartbeatDevS = 0;
  private lastHeartbeatHostS = 0;
  private watchdogClockS: (() => number) | undefined;
  /** Sample index the last Stop acked (0 before any). */
  private lastStopIndex = 0;
  /** Uptime (µs) at the start of lastStopIndex's period: Stop's Ack.device_time_us (0 after boot). */
  private lastStopUs = 0;
  private nextStatusDevS = Number.POSITIVE_INFINITY;
  private blocksDropped = 0;
  private samplesDropped = 0;
  private forcedDrops = 0;
  private forcedRecord: FaultRecord | null = null;
  private overrunRecord: FaultRecord | null = null;
  private decodeErrors = 0;
  private decoder: FrameDecoder;

  // link
  private readonly control: Queued[] = [];
  private readonly stream: Queued[] = [];
  private streamBlocks = 0;
  private streamEvents = 0;
  private linkFreeAtDevS = 0;
  private hostAttached = true;
  private disconnectedUntilWorldS = Number.NEGATIVE_INFINITY;
  private disconnectRecord: FaultRecord | null = null;
  private readonly faultStage: ByteFaultStage;
  private scheduled: Array<{ atS: number; seq: number; spec: FaultSpec }> = [];
  private faultSeq = 0;
  private messagesDroppedOnDevice = 0;

  // preallocated block buffers
  private readonly ledBufs: Float32Array[];
  private cfgLedViews: Float32Array[] = [];
  private readonly detOut: Int32Array[];
  private readonly auxOut: Int32Array[];
  private readonly packBuffer: ArrayBuffer;
  private readonly packU16: Uint16Array;
  private readonly packI16: Int16Array;
  private readonly packView: DataView;
  private readonly detRequest: DetectorRenderRequest;
  private readonly auxRequest: AuxRenderRequest;
  private readonly loopback: LoopbackWire | null;

  constructor(options: SimDeviceOptions) {
    this.board = options.board ?? DEFAULT_BOARD;
    checkBoard(this.board);
    this.world = options.world;
    this.nv = options.nv ?? new NonVolatileStore();
    this.ppm = options.driftPpm ?? 0;
    checkFault({ type: 'drift', ppm: this.ppm });
    this.linkBytesPerSecond = options.linkBytesPerSecond ?? 1_000_000;
    if (!(this.linkBytesPerSecond > 0)) throw new SimError('E_SIM_OPTIONS', `link rate ${this.linkBytesPerSecond} B/s`, 'give a positive bytes-per-second rate');
    this.outbox = new Outbox(options.outboxBytes ?? 64 * 1024);
    this.loopback = options.loopbackWire ?? null;
    this.segs = [{ devS: 0, worldS: 0, rate: 1 + this.ppm * 1e-6 }];
    this.faultStage = new ByteFaultStage(new Rng(options.seed ?? 1), this.truth);
    this.decoder = this.newDecoder();
    this.calibration = this.loadCalibration();

    const max = this.board.maxBlockSamples;
    this.ledBufs = this.board.leds.map(() => new Float32Array(max));
    this.detOut = this.board.detectors.map(() => new Int32Array(max));
    this.auxOut = this.board.auxInputs.map(() => new Int32Array(max));
    this.packBuffer = new ArrayBuffer(Math.max(2, max * Math.max(this.board.detectors.length, this.board.auxInputs.length) * 2));
    this.packU16 = new Uint16Array(this.packBuffer);
    this.packI16 = new Int16Array(this.packBuffer);
    this.packView = new DataView(this.packBuffer);
    this.detRequest = { t0S: 0, dtS: 0, count: 0, ledCurrentMa: this.ledBufs, oversampling: 1, out: this.detOut };
    this.auxRequest = { t0S: 0, dtS: 0, count: 0, out: this.auxOut };
    for (const f of options.faults ?? []) this.inject(f);
  }

  // ------------------------------------------------------------ inspection

  get worldTimeS(): number {
    return this.worldS;
  }

  get deviceTimeUs(): number {
    return Math.floor(this.devS * 1e6 + 1e-6);
  }

  get running(): boolean {
    return this.isRunning;
  }

  get configured(): boolean {
    return this.config !== null;
  }

  get configId(): number {
    return this.configIdValue;
  }

  get isHandshaken(): boolean {
    return this.handshaken;
  }

  get inBootloader(): boolean {
    return this.bootloader;
  }

  get driftPpm(): number {
    return this.ppm;
  }

  /** Starts since the simulation began (ground-truth run number of the current or last run). */
  get run(): number {
    return this.runCount;
  }

  /** The configuration in force (normalized), or null. */
  get currentConfig(): NormalizedConfig | null {
    return this.config;
  }

  /** Next detector sample index (0 when stopped). */
  get sampleIndex(): number {
    return this.isRunning ? this.samplesTaken(this.devS) : 0;
  }

  get darkReason(): number {
    if (!this.isRunning) return DarkReason.DARK_REASON_STOPPED;
    if (this.tripped) return DarkReason.DARK_REASON_HEARTBEAT_TIMEOUT;
    return DarkReason.DARK_REASON_NONE;
  }

  get frameRejections(): FrameRejections {
    const r = this.decoder.counters.rejected;
    return { crc: r.crc, oversize: r.oversize, cobs: r.cobs, decode: this.decodeErrors };
  }

  /** Unsolicited messages the device dropped because its queues were full (never expected). */
  get messagesDropped(): number {
    return this.messagesDroppedOnDevice;
  }

  /** Blocks waiting in the ring buffer. */
  get bufferedBlocks(): number {
    return this.streamBlocks;
  }

  /** True during a disconnect fault. */
  get disconnected(): boolean {
    return this.worldS < this.disconnectedUntilWorldS;
  }

  /** True while the link is down (a disconnect fault, or no host attached). */
  get linkDown(): boolean {
    return !this.hostAttached || this.worldS < this.disconnectedUntilWorldS;
  }

  /** Effective LED currents now (board order, mA): 0 when stopped or dark. */
  ledCurrentsNow(): Float64Array {
    const out = new Float64Array(this.board.leds.length);
    const cfg = this.config;
    if (!cfg || !this.isRunning) return out;
    const now = this.samplesTaken(this.devS);
    let peaks: Float64Array = this.peaks;
    for (const c of this.changes) if (c.at <= now) peaks = c.peaks;
    cfg.leds.forEach((l, k) => {
      out[l.boardIndex] = peaks[k]!;
    });
    return out;
  }

  // ----------------------------------------------------------------- input

  /** Bytes from the host. */
  receive(bytes: Uint8Array): void {
    if (this.bootloader) return;
    this.decoder.push(bytes);
  }

  /** One decoded Envelope from the host (skips the framing). */
  handle(envelope: Envelope | EnvelopeInit): void {
    if (this.bootloader) return;
    this.dispatch(envelope);
    this.drain(this.devS);
  }

  /** Reads up to `length` bytes the device has sent; returns the count. */
  readInto(target: Uint8Array, offset: number, length: number): number {
    const n = this.outbox.readInto(target, offset, length);
    if (n > 0) this.drain(this.devS);
    return n;
  }

  /** Everything the device has sent and nobody has read yet. */
  read(max?: number): Uint8Array | null {
    const out = this.outbox.readAll(max);
    if (out) this.drain(this.devS);
    return out;
  }

  /** Transports: whether a host is connected (a detached device keeps running; its link stalls). */
  setHostAttached(attached: boolean): void {
    if (attached === this.hostAttached) return;
    this.hostAttached = attached;
    if (!attached) {
      const d = this.outbox.discard();
      this.faultStage.clearMerge();
      if (d.bytes > 0) {
        this.truth.record({
          type: 'port_closed', worldTimeS: this.worldS, deviceTimeUs: this.deviceTimeUs, lost: d.lost, lostMessages: d.lostMessages,
          bytesAffected: d.bytes, framesAffected: d.frames, detail: 'host detached: unread bytes discarded',
        });
      }
    } else {
      this.drain(this.devS);
    }
  }

  // ------------------------------------------------------------------ time

  /** Advances the simulation by `seconds` of world time. */
  advance(seconds: number): void {
    if (!(seconds >= 0)) throw new SimError('E_SIM_TIME', `cannot advance by ${seconds} s`, 'advance by a finite number of seconds >= 0');
    this.checkHostClockWatchdog();
    this.advanceWorldTo(this.worldS + seconds);
  }

  /** Measure heartbeat age on `clockS` (seconds, the host's timescale) instead of device time. */
  useHostClockForWatchdog(clockS: () => number): void {
    this.watchdogClockS = clockS;
    this.lastHeartbeatHostS = clockS();
  }

  private heartbeatSeen(): void {
    this.lastHeartbeatDevS = this.devS;
    if (this.watchdogClockS) this.lastHeartbeatHostS = this.watchdogClockS();
  }

  private checkHostClockWatchdog(): void {
    if (!this.watchdogClockS || !this.isRunning || this.tripped || !this.config) return;
    if (this.watchdogClockS() - this.lastHeartbeatHostS > this.config.heartbeatTimeoutMs / 1000) this.tripWatchdog(this.devS);
  }

  /** Advances until the device uptime clock reads `deviceTimeUs`. */
  advanceTo(deviceTimeUs: number): void {
    let guard = 0;
    while (this.devS * 1e6 < deviceTimeUs - 1e-3 && guard++ < 1_000_000) {
      const dev = deviceTimeUs / 1e6;
      const seg = this.segFor(this.devS);
      this.advanceWorldTo(this.worldS + Math.max((dev - this.devS) / seg.rate, 1e-9));
    }
  }

  /** Schedules a fault at spec.atS (world time) or applies it now. */
  inject(spec: FaultSpec): void {
    checkFault(spec);
    if (spec.atS !== undefined && spec.atS > this.worldS) {
      this.scheduled.push({ atS: spec.atS, seq: this.faultSeq++, spec });
      this.scheduled.sort((a, b) => a.atS - b.atS || a.seq - b.seq);
      return;
    }
    this.applyFault(spec);
  }

  /** Hardware reset (reset pin / power cycle with flash kept): leaves the bootloader too. */
  powerCycle(): void {
    this.reboot('power cycle', null);
  }

  /** Status as the device would send it now. */
  statusNow(): EnvelopeInit['status'] {
    const cfg = this.config;
    const now = this.ledCurrentsNow();
    let sumMa = 0;
    for (const v of now) sumMa += v;
    const r = this.frameRejections;
    return {
      sampleIndex: this.sampleIndex,
      deviceTimeUs: this.deviceTimeUs,
      running: this.isRunning,
      configId: this.configIdValue,
      bufferFill: this.streamBlocks / this.board.bufferBlocks,
      blocksDropped: this.blocksDropped,
      samplesDropped: this.samplesDropped,
      framesRejected: { crc: r.crc, oversize: r.oversize, cobs: r.cobs, decode: r.decode },
      leds: this.board.leds.map((l, i) => ({
        channel: l.id, currentMa: now[i]!, powerUw: this.calibration.powerForCurrent(l.id, now[i]!),
      })),
      temperatureC: this.board.ambientTemperatureC + 0.05 * sumMa,
      heartbeatAgeMs: Math.max(0, Math.round((this.watchdogClockS ? this.watchdogClockS() - this.lastHeartbeatHostS : this.devS - this.lastHeartbeatDevS) * 1000)),
      darkReason: cfg ? this.darkReason : DarkReason.DARK_REASON_STOPPED,
      resets: this.nv.resets,
    };
  }

  // ------------------------------------------------------------- internals

  private newDecoder(): FrameDecoder {
    return new FrameDecoder((payload) => this.onFrame(payload), { maxPayloadBytes: this.board.maxMessageBytes });
  }

  private loadCalibration(): CalibrationMap {
    try {
      return new CalibrationMap(this.nv.readCalibration());
    } catch {
      return new CalibrationMap(null);
    }
  }

  private onFrame(payload: Uint8Array): void {
    // the C firmware's static bounds: a field beyond them is answered, naming it, before decoding
    const scan = scanEnvelope(payload);
    if (scan.overflow) {
      this.sendError(scan.requestId, issue(ErrorCode.ERROR_CODE_FIELD_TOO_LONG, scan.overflow.field, scan.overflow.message));
      this.drain(this.devS);
      return;
    }
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(payload);
    } catch {
      this.decodeErrors++;
      this.sendError(scan.requestId, issue(ErrorCode.ERROR_CODE_FRAME_ERROR, '', 'frame CRC ok but not a fiberrig.v1 Envelope'));
      this.drain(this.devS);
      return;
    }
    this.handle(envelope);
  }

  private segFor(devS: number): Segment {
    for (let i = this.segs.length - 1; i > 0; i--) if (this.segs[i]!.devS <= devS) return this.segs[i]!;
    return this.segs[0]!;
  }

  private worldOf(devS: number): number {
    const s = this.segFor(devS);
    return s.worldS + (devS - s.devS) / s.rate;
  }

  private devOf(worldS: number): number {
    let s = this.segs[0]!;
    for (let i = this.segs.length - 1; i > 0; i--) {
      if (this.segs[i]!.worldS <= worldS) {
        s = this.segs[i]!;
        break;
      }
    }
    return s.devS + (worldS - s.worldS) * s.rate;
  }

  private samplesTaken(devS: number): number {
    if (!this.config) return 0;
    return Math.max(0, Math.floor((devS - this.runStartDevS) * this.config.sampleRateHz + 1e-4));
  }

  private detBlockDueDevS(): number {
    const c = this.config!;
    return this.runStartDevS + (this.nextDet + c.blockSamples) / c.sampleRateHz;
  }

  private auxBlockDueDevS(): number {
    const c = this.config!;
    if (!c.aux) return Number.POSITIVE_INFINITY;
    return this.runStartDevS + ((this.nextAux + c.blockSamples - 1) * c.aux.divider + 1) / c.sampleRateHz;
  }

  private watchdogDueDevS(): number {
    if (!this.isRunning || this.tripped || this.watchdogClockS) return Number.POSITIVE_INFINITY;
    return this.lastHeartbeatDevS + this.config!.heartbeatTimeoutMs / 1000;
  }

  private nextDeviceEventDevS(): number {
    if (this.bootloader) return Number.POSITIVE_INFINITY;
    let t = this.nextStatusDevS;
    // the watchdog trips once the deadline is past (a Heartbeat arriving at the deadline itself is in time), as in the C core
    if (this.isRunning) t = Math.min(t, this.detBlockDueDevS(), this.auxBlockDueDevS(), this.watchdogDueDevS() + 2 * epsAt(this.watchdogDueDevS()));
    return t;
  }

  private advanceWorldTo(targetW: number): void {
    for (;;) {
      const evDev = this.nextDeviceEventDevS();
      const evW = evDev === Number.POSITIVE_INFINITY ? evDev : this.worldOf(evDev);
      const faultW = this.scheduled[0]?.atS ?? Number.POSITIVE_INFINITY;
      const reconnectW = this.disconnectRecord ? this.disconnectedUntilWorldS : Number.POSITIVE_INFINITY;
      const tW = Math.min(evW, faultW, reconnectW);
      // an event due at the target instant (within float rounding of its schedule) happens in this advance,
      // before whatever the host sends at that instant, as the firmware's poll takes due work before input
      if (tW > targetW + EPS) {
        this.moveTo(this.devOf(targetW), targetW);
        return;
      }
      if (faultW <= tW) {
        this.moveTo(this.devOf(faultW), faultW);
        const due = this.scheduled.shift()!;
        this.applyFault(due.spec);
      } else if (reconnectW <= tW) {
        this.moveTo(this.devOf(reconnectW), reconnectW);
        this.reconnect();
      } else {
        this.moveTo(evDev, evW);
        this.processDue();
      }
    }
  }

  private moveTo(devS: number, worldS: number): void {
    if (devS > this.devS) this.devS = devS;
    if (worldS > this.worldS) this.worldS = worldS;
    this.drain(this.devS);
  }

  private processDue(): void {
    const now = this.devS + EPS;
    if (this.isRunning && this.watchdogDueDevS() + epsAt(this.watchdogDueDevS()) < this.devS) this.tripWatchdog();
    if (this.isRunning && this.detBlockDueDevS() <= now) {
      const c = this.config!;
      this.produceDetectorBlock(this.nextDet, c.blockSamples);
      this.nextDet += c.blockSamples;
    }
    if (this.isRunning && this.auxBlockDueDevS() <= now) {
      const c = this.config!;
      this.produceAuxBlock(this.nextAux, c.blockSamples);
      this.nextAux += c.blockSamples;
    }
    if (this.nextStatusDevS <= now) {
      this.nextStatusDevS += this.statusIntervalS();
      if (this.nextStatusDevS <= this.devS) this.nextStatusDevS = this.devS + this.statusIntervalS();
      this.send({ requestId: 0, status: this.statusNow() }, 'control');
    }
    this.drain(this.devS);
  }

  private statusIntervalS(): number {
    return (this.config?.statusIntervalMs ?? this.board.defaultStatusIntervalMs) / 1000;
  }

  // ------------------------------------------------------------------ link

  private send(message: EnvelopeInit, queue: 'control' | 'stream', meta?: FrameMeta): void {
    const kind = meta?.kind ?? BODY_KEYS.find((k) => (message as Record<string, unknown>)[k] != null) ?? 'unknown';
    const m: FrameMeta = meta ?? { kind, requestId: message.requestId ?? 0 };
    const bytes = encodeFrame(pb.Envelope.encode(message).finish(), this.board.maxMessageBytes);
    if (queue === 'control') {
      const unsolicited = (message.requestId ?? 0) === 0;
      if (unsolicited && this.control.length >= CONTROL_QUEUE_MAX) {
        this.messagesDroppedOnDevice++;
        return;
      }
      this.control.push({ bytes, meta: m, readyDevS: this.devS, isBlock: false });
    } else {
      if (this.streamEvents >= EVENT_QUEUE_MAX && m.kind !== 'ack') {
        this.messagesDroppedOnDevice++;
        return;
      }
      this.streamEvents++;
      this.stream.push({ bytes, meta: m, readyDevS: this.devS, isBlock: false });
    }
  }

  private sendError(requestId: number, i: Issue): void {
    this.send({ requestId, error: { code: i.code, message: i.message, field: i.field } }, 'control');
  }

  private log(level: number, message: string): void {
    this.send({ requestId: 0, log: { level, message: message.slice(0, 95), deviceTimeUs: this.deviceTimeUs } }, 'control');
  }

  /** Sends queued frames whose transmission starts at or before device time `untilDevS`. */
  private drain(untilDevS: number): void {
    if (this.linkDown) {
      // nothing can leave before the link is back: no sending credit accumulates meanwhile
      if (this.linkFreeAtDevS < untilDevS) this.linkFreeAtDevS = untilDevS;
      return;
    }
    const rate = this.linkBytesPerSecond;
    for (;;) {
      if (!this.outbox.hasRoom) {
        if (this.linkFreeAtDevS < untilDevS) this.linkFreeAtDevS = untilDevS;
        return;
      }
      const q = this.control[0] ?? this.stream[0];
      if (!q) {
        if (this.linkFreeAtDevS < untilDevS) this.linkFreeAtDevS = untilDevS;
        return;
      }
      const start = Math.max(this.linkFreeAtDevS, q.readyDevS);
      if (start > untilDevS + EPS) return;
      if (q === this.control[0]) this.control.shift();
      else {
        this.stream.shift();
        if (q.isBlock) this.streamBlocks--;
        else this.streamEvents--;
      }
      this.linkFreeAtDevS = start + (q.bytes.length / rate) * this.segFor(start).rate;
      const out = this.faultStage.process(q.bytes, q.meta, this.worldOf(start), Math.floor(start * 1e6));
      this.truth.framesOut++;
      this.truth.bytesOut += out.length;
      this.outbox.push(out, q.meta);
    }
  }

  private reconnect(): void {
    this.disconnectRecord = null;
    this.disconnectedUntilWorldS = Number.NEGATIVE_INFINITY;
    this.events.emit('reconnect');
    this.drain(this.devS);
  }

  // ---------------------------------------------------------------- faults

  private applyFault(spec: FaultSpec): void {
    const base = { worldTimeS: this.worldS, deviceTimeUs: this.deviceTimeUs, lost: [] as LostRange[], lostMessages: [] as string[], bytesAffected: 0, framesAffected: 0 };
    switch (spec.type) {
      case 'corrupt':
      case 'drop_bytes':
      case 'dup_bytes':
        this.faultStage.addRate(spec.type, spec.rate, this.worldS + (spec.durationS ?? Number.POSITIVE_INFINITY));
        break;
      case 'corrupt_frames':
        this.faultStage.addFrameCorruption(spec.count, spec.kind ?? 'sampleBlock');
        break;
      case 'disconnect': {
        const d = this.outbox.discard();
        this.faultStage.clearMerge();
        const until = this.worldS + spec.durationS;
        if (this.disconnectRecord && this.disconnectedUntilWorldS >= until) break;
        this.disconnectedUntilWorldS = until;
        this.disconnectRecord = this.truth.record({
          ...base, type: 'disconnect', lost: d.lost, lostMessages: d.lostMessages, bytesAffected: d.bytes, framesAffected: d.frames,
          detail: `link down for ${spec.durationS} s`,
        });
        this.events.emit('disconnect', spec.durationS);
        break;
      }
      case 'drift': {
        const rate = 1 + spec.ppm * 1e-6;
        let atDev = this.devS;
        let atSample: number | null = null;
        if (this.isRunning) {
          const c = this.config!;
          atSample = this.samplesTaken(this.devS) <= this.nextDet ? this.nextDet : this.nextDet + c.blockSamples;
          atDev = this.runStartDevS + atSample / c.sampleRateHz;
        }
        const worldAt = this.worldOf(atDev);
        this.segs = this.segs.filter((s) => s.devS < atDev);
        this.segs.push({ devS: atDev, worldS: worldAt, rate });
        this.truth.record({
          ...base, type: 'drift',
          detail: `${this.ppm} -> ${spec.ppm} ppm${atSample === null ? '' : ` from detector sample ${atSample} of run ${this.runCount}`}`,
        });
        this.ppm = spec.ppm;
        break;
      }
      case 'overrun':
        this.forcedDrops += spec.blocks;
        this.forcedRecord = this.truth.record({ ...base, type: 'overrun', detail: `forced drop of the next ${spec.blocks} blocks` });
        break;
      case 'reset':
        this.reboot('reset (fault: watchdog)', null);
        break;
    }
  }

  // ------------------------------------------------------------- commands

  private dispatch(envelope: Envelope | EnvelopeInit): void {
    const e = envelope as Envelope;
    const body = e.body ?? BODY_KEYS.find((k) => (envelope as Record<string, unknown>)[k] != null);
    const id = envelope.requestId ?? 0;
    if (!body || !COMMANDS.has(body)) {
      // the field names the body as the .proto does (sample_block), like every other Error.field
      const name = body ? body.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`) : '';
      this.sendError(id, issue(ErrorCode.ERROR_CODE_UNKNOWN_COMMAND, name, body ? `${name} is not a command` : 'envelope has no body this device knows'));
      return;
    }
    if (!this.handshaken && !HOST_BODIES_BEFORE_HELLO.has(body)) {
      this.sendError(id, issue(ErrorCode.ERROR_CODE_NOT_CONFIGURED, 'hello', 'send Hello first (device restarted or new session)'));
      return;
    }
    switch (body) {
      case 'hello':
        this.onHello(id, envelope.hello!);
        return;
      case 'getInfo':
        this.reply(id, { deviceInfo: deviceInfoOf(this.board, this.calibration.channels) });
        return;
      case 'configure':
        this.onConfigure(id, envelope.configure!);
        return;
      case 'start':
        this.onStart(id);
        return;
      case 'stop':
        this.onStop(id);
        return;
      case 'setLed':
        this.onSetLed(id, envelope.setLed!);
        return;
      case 'heartbeat':
        this.onHeartbeat(id, envelope.heartbeat!);
        return;
      case 'selfTest':
        this.reply(id, { selfTestReport: { items: this.selfTestItems() } });
        return;
      case 'readCalibration':
        this.onReadCalibration(id);
        return;
      case 'writeCalibration':
        this.onWriteCalibration(id, envelope.writeCalibration!);
        return;
      case 'reset':
        this.onReset(id);
        return;
      case 'enterBootloader':
        this.onEnterBootloader(id);
        return;
    }
  }

  private reply(requestId: number, body: Omit<EnvelopeInit, 'requestId'>): void {
    this.send({ requestId, ...body }, 'control');
  }

  private onHello(id: number, hello: NonNullable<EnvelopeInit['hello']>): void {
    const v = hello.protocol;
    if (!v || (v.major ?? 0) !== PROTOCOL_VERSION.major) {
      const seen = v ? `${v.major ?? 0}.${v.minor ?? 0}` : 'none';
      this.sendError(id, issue(ErrorCode.ERROR_CODE_VERSION_MISMATCH, 'hello.protocol', `host speaks ${seen}, device speaks ${formatVersion(PROTOCOL_VERSION)}`));
      return;
    }
    this.handshaken = true;
    if (this.nextStatusDevS === Number.POSITIVE_INFINITY) this.nextStatusDevS = this.devS + this.statusIntervalS();
    this.reply(id, { deviceInfo: deviceInfoOf(this.board, this.calibration.channels) });
  }

  private onConfigure(id: number, configure: NonNullable<EnvelopeInit['configure']>): void {
    if (this.isRunning) {
      this.sendError(id, issue(ErrorCode.ERROR_CODE_BUSY, 'configure', 'Stop before Configure'));
      return;
    }
    const result = validateConfig(configure.config, this.board, this.calibration);
    if (!result.ok) {
      this.sendError(id, result.issue);
      return;
    }
    const c = result.config;
    this.config = c;
    this.configIdValue = this.nextConfigId++;
    this.schedule = new ModulationSchedule({
      mode: c.mode, sampleRateHz: c.sampleRateHz, leds: c.leds.map((l) => ({ channel: l.channel, peakMa: l.peakMa, carrierHz: l.carrierHz })),
      timeDivision: c.timeDivision,
    });
    this.cfgLedViews = c.leds.map((l) => this.ledBufs[l.boardIndex]!);
    for (const b of this.ledBufs) b.fill(0);
    this.commandedMa = Float64Array.from(c.leds, (l) => l.peakMa);
    this.commandedUw = c.leds.map((l) => l.powerUw);
    this.peaks = new Float64Array(c.leds.length);
    this.detRequest.oversampling = c.oversampling;
    this.nextStatusDevS = Math.min(this.nextStatusDevS, this.devS + c.statusIntervalMs / 1000);
    this.reply(id, { ack: { configId: this.configIdValue, sampleIndex: 0 } });
  }

  private onStart(id: number): void {
    if (this.isRunning) {
      this.sendError(id, issue(ErrorCode.ERROR_CODE_BUSY, 'start', 'already running'));
      return;
    }
    if (!this.config) {
      this.sendError(id, issue(ErrorCode.ERROR_CODE_NOT_CONFIGURED, 'start', 'Start needs an accepted Configure'));
      return;
    }
    this.isRunning = true;
    this.lastStopIndex = 0;
    this.lastStopUs = 0;
    this.runCount++;
    this.runStartDevS = this.devS;
    this.nextDet = 0;
    this.nextAux = 0;
    this.peaks = this.commandedMa.slice();
    this.changes = [];
    this.appliedMa = new Float64Array(0);
    this.tripped = false;
    this.everTripped = false;
    this.heartbeatSeen();
    this.blocksDropped = 0;
    this.samplesDropped = 0;
    this.overrunRecord = null;
    this.reply(id, { ack: { configId: this.configIdValue, sampleIndex: 0, deviceTimeUs: this.uptimeUsAt(this.runStartDevS) } });
    // the drive applied from sample 0 is part of the record: one LedEvent per configured LED
    for (let k = 0; k < this.peaks.length; k++) this.emitLedEvent(k, this.peaks[k]!, 0);
  }

  /** Device uptime in whole µs at device time `devS` (the clock of device_time_us). */
  private uptimeUsAt(devS: number): number {
    return Math.floor(devS * 1e6 + 1e-6);
  }

  private onStop(id: number): void {
    if (!this.isRunning) {
      // idempotent: a repeated Stop gets the same answer
      this.reply(id, { ack: { configId: this.configIdValue, sampleIndex: this.lastStopIndex, deviceTimeUs: this.lastStopUs } });
      return;
    }
    const c = this.config!;
    const next = this.samplesTaken(this.devS);
    this.lastStopIndex = next;
    this.lastStopUs = this.uptimeUsAt(this.runStartDevS + next / c.sampleRateHz);
    if (next > this.nextDet) this.produceDetectorBlock(this.nextDet, next - this.nextDet);
    this.nextDet = next;
    if (c.aux) {
      const auxNext = Math.ceil(next / c.aux.divider);
      if (auxNext > this.nextAux) this.produceAuxBlock(this.nextAux, auxNext - this.nextAux);
      this.nextAux = auxNext;
    }
    this.isRunning = false;
    this.changes = [];
    this.tripped = false;
    this.noteDark(next, 'stop');
    this.send({ requestId: id, ack: { configId: this.configIdValue, sampleIndex: next, deviceTimeUs: this.lastStopUs } }, 'stream', { kind: 'ack', requestId: id });
  }

  private onSetLed(id: number, setLed: NonNullable<EnvelopeInit['setLed']>): void {
    const r = validateSetLed(setLed, this.board, this.config, this.calibration);
    if (!r.ok) {
      this.sendError(id, r.issue);
      return;
    }
    const c = this.config!;
    this.commandedMa[r.ledIndex] = r.currentMa;
    this.commandedUw[r.ledIndex] = r.powerUw;
    if (!this.isRunning) {
      this.reply(id, { ack: { configId: this.configIdValue, sampleIndex: 0 } });
      return;
    }
    let at = this.samplesTaken(this.devS) <= this.nextDet ? this.nextDet : this.nextDet + c.blockSamples;
    const last = this.changes[this.changes.length - 1];
    if (last && last.at > at) at = last.at;
    const restore = this.tripped;
    const peaks = restore ? this.commandedMa.slice() : (last?.peaks ?? this.peaks).slice();
    peaks[r.ledIndex] = r.currentMa;
    this.changes.push({ at, peaks });
    if (restore) {
      this.tripped = false;
      this.heartbeatSeen(); // re-arming proves the host is there: the watchdog restarts
    }
    for (let k = 0; k < c.leds.length; k++) {
      if (!restore && k !== r.ledIndex) continue;
      this.emitLedEvent(k, peaks[k]!, at);
    }
    this.reply(id, { ack: { configId: this.configIdValue, sampleIndex: at } });
  }

  private emitLedEvent(k: number, currentMa: number, at: number): void {
    const c = this.config!;
    const led = c.leds[k]!;
    const requestedUw = this.commandedUw[k];
    const powerUw = currentMa === 0 ? 0 : (requestedUw ?? this.calibration.powerForCurrent(led.channel, currentMa));
    this.send({ requestId: 0, ledEvent: { channel: led.channel, currentMa, powerUw, sampleIndex: at, configId: this.configIdValue } }, 'stream');
  }

  private onHeartbeat(id: number, hb: NonNullable<EnvelopeInit['heartbeat']>): void {
    this.heartbeatSeen();
    this.reply(id, {
      heartbeatAck: { hostTimeUs: hb.hostTimeUs ?? 0, sampleIndex: this.sampleIndex, deviceTimeUs: this.deviceTimeUs, running: this.isRunning },
    });
  }

  private tripWatchdog(deadline = this.watchdogDueDevS()): void {
    const c = this.config!;
    let at = Math.max(this.nextDet, Math.ceil((deadline - this.runStartDevS) * c.sampleRateHz - 1e-6));
    const last = this.changes[this.changes.length - 1];
    if (last && last.at > at) at = last.at;
    this.changes.push({ at, peaks: new Float64Array(c.leds.length) });
    this.tripped = true;
    this.everTripped = true;
    for (let k = 0; k < c.leds.length; k++) this.emitLedEvent(k, 0, at);
    this.log(LogLevel.LOG_LEVEL_WARN, `heartbeat timeout (${c.heartbeatTimeoutMs} ms): LEDs dark from sample ${at}`);
  }

  private onReadCalibration(id: number): void {
    try {
      const table = this.nv.readCalibration();
      this.reply(id, { calibrationTable: table });
    } catch (e) {
      this.sendError(id, issue(ErrorCode.ERROR_CODE_STORAGE, 'read_calibration', `calibration read failed: ${(e as Error).message}`));
    }
  }

  private onWriteCalibration(id: number, w: NonNullable<EnvelopeInit['writeCalibration']>): void {
    if (this.isRunning) {
      this.sendError(id, issue(ErrorCode.ERROR_CODE_BUSY, 'write_calibration', 'Stop before writing calibration'));
      return;
    }
    const bad = validateCalibrationTable(w.table, this.board, 'table');
    if (bad) {
      this.sendError(id, bad);
      return;
    }
    try {
      this.nv.writeCalibration(w.table ?? {});
    } catch (e) {
      if (!(e instanceof StorageFailure)) throw e;
      this.sendError(id, issue(ErrorCode.ERROR_CODE_STORAGE, 'write_calibration', `calibration write failed: ${e.message}`));
      return;
    }
    this.calibration = new CalibrationMap(w.table);
    this.reply(id, { ack: { configId: this.configIdValue, sampleIndex: 0 } });
  }

  private onReset(id: number): void {
    this.reply(id, { ack: { configId: this.configIdValue, sampleIndex: this.sampleIndex } });
    const ack = this.control.pop()!;
    this.reboot('reset (command)', ack);
  }

  private onEnterBootloader(id: number): void {
    this.reply(id, { ack: { configId: this.configIdValue, sampleIndex: this.sampleIndex } });
    const ack = this.control.pop()!;
    this.reboot(null, ack);
    this.bootloader = true;
    this.nextStatusDevS = Number.POSITIVE_INFINITY;
    this.events.emit('bootloader');
  }

  /**
   * Restarts the firmware: run, configuration, session and counters cleared,
   * queued output lost (recorded), NV kept and its reset counter bumped.
   * `lastWords` (the Ack of a Reset command) still goes out first, behind the
   * replies and Status already queued before it (the firmware sends its control
   * queue in order before it restarts; only the stream is lost); `logMessage`
   * (when not null) is logged after the boot.
   */
  private reboot(logMessage: string | null, lastWords: Queued | null): void {
    const lost: LostRange[] = [];
    const lostMessages: string[] = [];
    const kept = lastWords ? this.control.splice(0) : [];
    if (this.isRunning) {
      const c = this.config!;
      const taken = this.samplesTaken(this.devS);
      this.noteDark(taken, 'reset');
      if (taken > this.nextDet) lost.push({ source: 'detector', run: this.runCount, configId: this.configIdValue, first: this.nextDet, count: taken - this.nextDet });
      if (c.aux) {
        const auxTaken = Math.ceil(taken / c.aux.divider);
        if (auxTaken > this.nextAux) lost.push({ source: 'aux', run: this.runCount, configId: this.configIdValue, first: this.nextAux, count: auxTaken - this.nextAux });
      }
    }
    for (const q of [...this.control, ...this.stream]) {
      if (q.meta.kind === 'sampleBlock' && q.meta.source) {
        lost.push({ source: q.meta.source, run: q.meta.run ?? 0, configId: q.meta.configId ?? 0, first: q.meta.firstSampleIndex ?? 0, count: q.meta.sampleCount ?? 0 });
      } else {
        lostMessages.push(q.meta.requestId ? `${q.meta.kind}#${q.meta.requestId}` : q.meta.kind);
      }
    }
    this.truth.record({
      type: lastWords ? 'commanded_reset' : 'reset', worldTimeS: this.worldS, deviceTimeUs: this.deviceTimeUs, lost, lostMessages,
      bytesAffected: 0, framesAffected: 0, detail: logMessage ?? 'enter bootloader',
    });
    this.control.length = 0;
    this.stream.length = 0;
    this.streamBlocks = 0;
    this.streamEvents = 0;
    this.nv.resets++;

    // fresh firmware state
    const rate = 1 + this.ppm * 1e-6;
    this.devS = 0;
    this.segs = [{ devS: 0, worldS: this.worldS, rate }];
    this.linkFreeAtDevS = 0;
    this.handshaken = false;
    this.bootloader = false;
    this.config = null;
    this.configIdValue = 0;
    this.nextConfigId = 1;
    this.schedule = null;
    this.isRunning = false;
    this.changes = [];
    this.tripped = false;
    this.everTripped = false;
    this.lastHeartbeatDevS = 0;
    this.lastStopIndex = 0;
    this.lastStopUs = 0;
    this.blocksDropped = 0;
    this.samplesDropped = 0;
    this.forcedDrops = 0;
    this.forcedRecord = null;
    this.overrunRecord = null;
    this.decodeErrors = 0;
    this.decoder = this.newDecoder();
    this.calibration = this.loadCalibration();
    this.nextStatusDevS = Number.POSITIVE_INFINITY;
    for (const q of kept) this.control.push({ ...q, readyDevS: 0 });
    if (lastWords) this.control.push({ ...lastWords, readyDevS: 0 });
    if (logMessage !== null) this.log(LogLevel.LOG_LEVEL_INFO, logMessage);
    this.events.emit('reset');
    this.drain(this.devS);
  }

  private selfTestItems(): NonNullable<NonNullable<EnvelopeInit['selfTestReport']>['items']> {
    const O = SelfTestOutcome;
    const rejected = this.frameRejections;
    const totalRejected = rejected.crc + rejected.oversize + rejected.cobs + rejected.decode;
    const calStored = this.nv.hasCalibration;
    const calIntact = this.nv.calibrationIntact();
    const hbMs = this.config?.heartbeatTimeoutMs ?? this.board.defaultHeartbeatTimeoutMs;
    return [
      { name: 'firmware', outcome: O.SELF_TEST_OUTCOME_PASS, detail: `${this.board.firmwareName} ${this.board.firmwareVersion}`, value: 0, unit: '' },
      { name: 'led_driver', outcome: O.SELF_TEST_OUTCOME_NOT_APPLICABLE, detail: 'simulated driver: no current sense', value: 0, unit: '' },
      { name: 'adc', outcome: O.SELF_TEST_OUTCOME_NOT_APPLICABLE, detail: 'simulated ADC: no reference input', value: this.board.detectors[0]?.adcBits ?? 0, unit: 'bit' },
      {
        name: 'buffer', outcome: this.blocksDropped > 0 ? O.SELF_TEST_OUTCOME_WARN : O.SELF_TEST_OUTCOME_PASS,
        detail: this.blocksDropped > 0 ? `${this.blocksDropped} blocks dropped this run` : `${this.board.bufferBlocks} blocks, none dropped`,
        value: this.blocksDropped, unit: 'blocks',
      },
      {
        name: 'calibration_crc',
        outcome: !calStored ? O.SELF_TEST_OUTCOME_WARN : calIntact ? O.SELF_TEST_OUTCOME_PASS : O.SELF_TEST_OUTCOME_FAIL,
        detail: !calStored ? 'no calibration stored: power_uw unavailable' : calIntact ? 'stored table matches its CRC' : 'stored table fails its CRC',
        value: 0, unit: '',
      },
      {
        name: 'nv_storage', outcome: this.nv.failReads || this.nv.failWrites ? O.SELF_TEST_OUTCOME_FAIL : O.SELF_TEST_OUTCOME_PASS,
        detail: this.nv.failReads || this.nv.failWrites ? 'flash access fails' : `resets ${this.nv.resets}`, value: this.nv.resets, unit: '',
      },
      {
        name: 'watchdog', outcome: this.everTripped ? O.SELF_TEST_OUTCOME_WARN : O.SELF_TEST_OUTCOME_PASS,
        detail: this.everTripped ? 'heartbeat timeout tripped this run' : 'heartbeat watchdog armed', value: hbMs, unit: 'ms',
      },
      {
        name: 'link', outcome: totalRejected > 0 ? O.SELF_TEST_OUTCOME_WARN : O.SELF_TEST_OUTCOME_PASS,
        detail: totalRejected > 0 ? `${totalRejected} frames rejected` : 'no frames rejected', value: totalRejected, unit: 'frames',
      },
      { name: 'temperature', outcome: O.SELF_TEST_OUTCOME_PASS, detail: 'board sensor', value: this.statusNow()!.temperatureC ?? 0, unit: 'C' },
    ];
  }

  // --------------------------------------------------------------- blocks

  /** Fills the per-LED current buffers for detector samples [first, first + count). */
  private fillSchedule(first: number, count: number): void {
    const schedule = this.schedule;
    if (!schedule || this.cfgLedViews.length === 0) return;
    while (this.changes.length > 0 && this.changes[0]!.at <= first) this.peaks = this.changes.shift()!.peaks;
    if (first === 0) this.noteDrives(0, this.peaks, 'start');
    this.noteDrives(first, this.peaks, 'change');
    let cur = first;
    const end = first + count;
    let i = 0;
    while (i < this.changes.length && this.changes[i]!.at < end) {
      const ch = this.changes[i]!;
      if (ch.at > cur) schedule.fill(cur, ch.at - cur, this.cfgLedViews, this.peaks, cur - first);
      this.peaks = ch.peaks;
      cur = ch.at;
      this.noteDrives(cur, this.peaks, 'change');
      i++;
    }
    if (i > 0) this.changes.splice(0, i);
    if (end > cur) schedule.fill(cur, end - cur, this.cfgLedViews, this.peaks, cur - first);
  }

  /** Ground truth: every LED lit in this run goes dark from sample `at` (Stop, reset). */
  private noteDark(at: number, cause: 'stop' | 'reset'): void {
    const c = this.config;
    if (!c) return;
    for (let k = 0; k < this.appliedMa.length; k++) {
      const ma = this.appliedMa[k]!;
      if (ma === 0 || Number.isNaN(ma)) continue;
      this.appliedMa[k] = 0;
      this.truth.drives.push({ run: this.runCount, configId: this.configIdValue, sampleIndex: at, channel: c.leds[k]!.channel, currentMa: 0, cause });
    }
  }

  /** Ground truth: the LEDs whose drive from sample `at` of this run differs from what they were driven with. */
  private noteDrives(at: number, peaks: Float64Array, cause: AppliedDrive['cause']): void {
    const c = this.config;
    if (!c) return;
    if (cause === 'start') this.appliedMa = new Float64Array(c.leds.length).fill(Number.NaN);
    for (let k = 0; k < c.leds.length; k++) {
      const ma = peaks[k] ?? 0;
      if (this.appliedMa[k] === ma) continue;
      this.appliedMa[k] = ma;
      this.truth.drives.push({ run: this.runCount, configId: this.configIdValue, sampleIndex: at, channel: c.leds[k]!.channel, currentMa: ma, cause });
    }
  }

  /** Whether the next block goes into the ring buffer; counts and records drops. */
  private admitBlock(source: 'detector' | 'aux', first: number, count: number): boolean {
    const forced = this.forcedDrops > 0;
    if (!forced && this.streamBlocks < this.board.bufferBlocks) {
      this.overrunRecord = null;
      return true;
    }
    const lost: LostRange = { source, run: this.runCount, configId: this.configIdValue, first, count };
    this.blocksDropped++;
    if (source === 'detector') this.samplesDropped += count;
    if (forced) {
      this.forcedDrops--;
      this.forcedRecord?.lost.push(lost);
      if (this.forcedRecord) this.forcedRecord.framesAffected++;
      if (this.forcedDrops === 0) this.forcedRecord = null;
    } else {
      if (!this.overrunRecord) {
        this.overrunRecord = this.truth.record({
          type: 'buffer_overrun', worldTimeS: this.worldS, deviceTimeUs: this.deviceTimeUs, lost: [], lostMessages: [], bytesAffected: 0, framesAffected: 0,
          detail: this.linkDown ? 'ring buffer full: link down' : 'ring buffer full: link too slow or host not reading',
        });
        this.log(LogLevel.LOG_LEVEL_WARN, `ring buffer overrun at ${source} sample ${first}`);
      }
      this.overrunRecord.lost.push(lost);
      this.overrunRecord.framesAffected++;
    }
    return false;
  }

  private produceDetectorBlock(first: number, count: number): void {
    const c = this.config!;
    const fs = c.sampleRateHz;
    this.fillSchedule(first, count);
    const t0Dev = this.runStartDevS + first / fs;
    const seg = this.segFor(t0Dev);
    const req = this.detRequest;
    req.t0S = this.worldOf(t0Dev);
    req.dtS = 1 / (fs * seg.rate);
    req.count = count;
    this.world.renderDetectors(req);
    this.truth.blocksProduced.detector++;

    if (c.digitalInputIds.length > 0) this.captureEdges(first, count, req.t0S, req.dtS, seg.rate);
    if (!this.admitBlock('detector', first, count)) return;

    const nc = c.detectorIds.length;
    const format = this.board.detectorFormat;
    for (let ch = 0; ch < nc; ch++) {
      const bi = c.detectorBoardIndex[ch]!;
      const { min, max } = codeRange(format, this.board.detectors[bi]!.adcBits);
      this.pack(this.detOut[bi]!, count, ch, nc, min, max, format === SampleFormat.SAMPLE_FORMAT_UINT16_LE);
    }
    this.queueBlock(SampleSource.SAMPLE_SOURCE_DETECTOR, 'detector', first, count, c.detectorIds, format, count * nc * 2);
  }

  private produceAuxBlock(first: number, count: number): void {
    const c = this.config!;
    const aux = c.aux!;
    const fs = c.sampleRateHz;
    // Render in pieces of constant sample period (a drift change may fall inside an aux block).
    let k = first;
    const end = first + count;
    const req = this.auxRequest;
    const outs = this.auxOut;
    while (k < end) {
      const tDev = this.runStartDevS + (k * aux.divider) / fs;
      const seg = this.segFor(tDev);
      const nextSeg = this.segs.find((s) => s.devS > tDev + EPS);
      let kEnd = end;
      if (nextSeg) kEnd = Math.min(end, Math.max(k + 1, Math.ceil(((nextSeg.devS - this.runStartDevS) * fs) / aux.divider - 1e-6)));
      req.t0S = this.worldOf(tDev);
      req.dtS = aux.divider / (fs * seg.rate);
      req.count = kEnd - k;
      if (k === first) {
        req.out = outs;
      } else {
        req.out = outs.map((o) => o.subarray(k - first));
      }
      this.world.renderAux(req);
      k = kEnd;
    }
    req.out = outs;
    this.truth.blocksProduced.aux++;
    if (!this.admitBlock('aux', first, count)) return;
    const nc = aux.inputIds.length;
    const format = this.board.auxFormat;
    for (let ch = 0; ch < nc; ch++) {
      const bi = aux.boardIndex[ch]!;
      const { min, max } = codeRange(format, this.board.auxInputs[bi]!.adcBits);
      this.pack(outs[bi]!, count, ch, nc, min, max, format === SampleFormat.SAMPLE_FORMAT_UINT16_LE);
    }
    this.queueBlock(SampleSource.SAMPLE_SOURCE_AUX, 'aux', first, count, aux.inputIds, format, count * nc * 2);
  }

  private pack(src: Int32Array, count: number, ch: number, nc: number, min: number, max: number, unsigned: boolean): void {
    if (LITTLE_ENDIAN) {
      const dst = unsigned ? this.packU16 : this.packI16;
      for (let i = 0, j = ch; i < count; i++, j += nc) {
        const v = src[i]!;
        dst[j] = Math.min(max, Math.max(min, v));
      }
      return;
    }
    const view = this.packView;
    for (let i = 0, j = ch; i < count; i++, j += nc) {
      const v = src[i]!;
      const clamped = Math.min(max, Math.max(min, v));
      if (unsigned) view.setUint16(j * 2, clamped, true);
      else view.setInt16(j * 2, clamped, true);
    }
  }

  private queueBlock(source: number, name: 'detector' | 'aux', first: number, count: number, channelIds: number[], format: number, bytes: number): void {
    const configId = this.configIdValue;
    const payload = pb.Envelope.encode({
      requestId: 0,
      sampleBlock: {
        configId, source, firstSampleIndex: first, sampleCount: count, channelIds, format, samples: new Uint8Array(this.packBuffer, 0, bytes),
      },
    }).finish();
    const frame = encodeFrame(payload, this.board.maxMessageBytes);
    this.stream.push({
      bytes: frame, readyDevS: this.devS, isBlock: true,
      meta: { kind: 'sampleBlock', requestId: 0, source: name, run: this.runCount, configId, firstSampleIndex: first, sampleCount: count },
    });
    this.streamBlocks++;
  }

  /** DigitalEvents for edges during detector samples [first, first + count). */
  private captureEdges(first: number, count: number, t0W: number, dtW: number, rate: number): void {
    const c = this.config!;
    const fs = c.sampleRateHz;
    const ticksPerSample = this.board.timerClockHz / fs;
    const events: Array<{ line: number; rising: boolean; n: number; ticks: number }> = [];
    for (const e of this.world.digitalEdges(t0W, t0W + count * dtW)) {
      if (!c.digitalInputIds.includes(e.lineId)) continue;
      const x = (e.tS - t0W) / dtW;
      let n = Math.floor(x + 1e-9);
      let ticks = Math.floor((x - n) * dtW * rate * this.board.timerClockHz + 1e-6);
      if (ticks < 0) ticks = 0;
      if (ticks >= ticksPerSample) {
        n++;
        ticks = 0;
      }
      events.push({ line: e.lineId, rising: e.rising, n: first + n, ticks });
    }
    const wire = this.loopback;
    const sync = c.syncOut;
    if (wire && sync && (wire.fromLine ?? sync.line) === sync.line && c.digitalInputIds.includes(wire.toLine)) {
      const delay = wire.delayTicks ?? 0;
      const dn = Math.floor(delay / ticksPerSample);
      const dt = delay - dn * ticksPerSample;
      const p0 = Math.floor((first - dn) / sync.periodSamples) - 1;
      for (let p = Math.max(0, p0); ; p++) {
        const rise = p * sync.periodSamples + dn;
        if (rise >= first + count) break;
        const fall = rise + sync.pulseSamples;
        if (rise >= first) events.push({ line: wire.toLine, rising: true, n: rise, ticks: dt });
        if (fall >= first && fall < first + count) events.push({ line: wire.toLine, rising: false, n: fall, ticks: dt });
      }
    }
    if (events.length === 0) return;
    events.sort((a, b) => a.n - b.n || a.ticks - b.ticks);
    for (const ev of events) {
      this.send({
        requestId: 0,
        digitalEvent: {
          line: ev.line, edge: ev.rising ? Edge.EDGE_RISING : Edge.EDGE_FALLING, sampleIndex: ev.n, subsampleTicks: ev.ticks, configId: this.configIdValue,
        },
      }, 'stream');
    }
  }
}
