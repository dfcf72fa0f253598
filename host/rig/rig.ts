// One unit: the link, the replay after a reset or reconnect, and the session timeline change together.
// The Rig: what developers, the CLI, the live view, calibration and the tests
// script against. One object per device URL; it owns the link, replays the
// acquisition after a disconnect or a device reset, and turns the device's
// stream into ordered, gap-annotated observables on one session timeline.
import { Subject, type Observable } from 'rxjs';
import {
  assertCompatibleVersion, type AcquisitionConfigInit, type CalibrationTable, type CalibrationTableInit, type DeviceInfo,
  type Envelope, PROTOCOL_VERSION, type SelfTestReport, type Status,
} from '../../protocol/index.ts';
import { assertSetLedRanges, assertWireRanges } from '../config/wire-ranges.ts';
import { ClockFit } from '../dsp/clock.ts';
import { LinkError } from '../link/errors.ts';
import { hostClockUs, Link, type HeartbeatSample } from '../link/link.ts';
import { openTransport as defaultOpenTransport, type Transport } from '../transport/open.ts';
import {
  AcquisitionAssembler, type AcquisitionItem, type GapReason, type Intent, type TimedDigitalEvent, type TimedLedEvent,
} from './assembler.ts';
import { RigError } from './errors.ts';
import type { JournalEntry } from './journal.ts';
import { estimateResetInstant, type UptimeProbe } from './placement.ts';
import { trace } from '../trace.ts';
import { ReconnectSchedule } from './reconnect.ts';
import { LightKeeper } from './light-keeper.ts';


const traceRig = trace('rig');
export type { AcquisitionItem, GapReason, RigBlock, RigGap, Source, TimedDigitalEvent, TimedLedEvent } from './assembler.ts';
export type { DarkCause, DarkSpan, RigLight } from './light.ts';

export interface LinkHealth {
  connected: boolean;
  reconnects: number;
  framesRejected: { crc: number; oversize: number; cobs: number; decode: number };
  bytesIn: number;
  timeouts: number;
  /** Samples lost, detected by the host from index discontinuities (detector rate). */
  hostDetectedMissingSamples: number;
  /** Samples the device reported dropping (Status.samples_dropped, summed over segments). */
  deviceReportedDroppedSamples: number;
  lastHeartbeatRoundTripMs: number | undefined;
}

export interface RigOptions {
  /** Defaults to 1/4 of the configured heartbeat timeout, or 250 ms. */
  heartbeatIntervalMs?: number;
  requestTimeoutMs?: number;
  retries?: number;
  /** Reconnect after the device goes away while running. */
  reconnect?: boolean;
  /** Delay before the first reopen attempt, ms (default 100). */
  reconnectInitialDelayMs?: number;
  /** Longest wait between reopen attempts while the port is absent or failing, ms (default 200: a poll). */
  reconnectMaxDelayMs?: number;
  /** How long to keep trying before giving up, ms. */
  reconnectGiveUpMs?: number;
  openTransport?: (url: string) => Promise<Transport>;
  /** Waits between reconnect attempts (tests inject one that records the schedule). Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
  hostName?: string;
  /**
   * Receives every journal entry synchronously, from the moment the port opens
   * (journal$ only reaches subscribers that exist at the time). The raw log.
   */
  onJournal?: (entry: JournalEntry) => void;
}

/** Host wall clock, microseconds since the Unix epoch (the link's clock, so journal times and heartbeats agree). */
const nowUs = hostClockUs;

export class Rig {
  /** Blocks and gaps, in order, one emission per block. */
  readonly acquisition$: Observable<AcquisitionItem>;
  readonly digitalEvents$: Observable<TimedDigitalEvent>;
  readonly ledEvents$: Observable<TimedLedEvent>;
  readonly status$: Observable<Status>;
  readonly logs$: Observable<{ level: number; message: string; deviceTimeUs: number }>;
  readonly health$: Observable<LinkHealth>;
  readonly heartbeats$: Observable<HeartbeatSample & { sessionIndex: number }>;
  /** Everything needed to replay this session offline; the raw log subscribes first. */
  readonly journal$: Observable<JournalEntry>;

  private readonly acquisitionSubject = new Subject<AcquisitionItem>();
  private readonly digitalSubject = new Subject<TimedDigitalEvent>();
  private readonly ledSubject = new Subject<TimedLedEvent>();
  private readonly statusSubject = new Subject<Status>();
  private readonly logSubject = new Subject<{ level: number; message: string; deviceTimeUs: number }>();
  private readonly healthSubject = new Subject<LinkHealth>();
  private readonly heartbeatSubject = new Subject<HeartbeatSample & { sessionIndex: number }>();
  private readonly journalSubject = new Subject<JournalEntry>();
  private readonly assembler: AcquisitionAssembler;
  /** Relights the LEDs once heartbeats are answered again after a watchdog trip. */
  readonly lightKeeper: LightKeeper;

  private link!: Link;
  private deviceInfo!: DeviceInfo;
  private config: AcquisitionConfigInit | undefined;
  private configId = 0;
  private wantRunning = false;
  private reconnecting: Promise<void> | undefined;
  private closing = false;
  private lastDetectorArrivalUs = 0;
  private droppedBySegment = 0;
  private droppedEarlierSegments = 0;
  private readonly health: LinkHealth = {
    connected: false, reconnects: 0, framesRejected: { crc: 0, oversize: 0, cobs: 0, decode: 0 }, bytesIn: 0, timeouts: 0,
    hostDetectedMissingSamples: 0, deviceReportedDroppedSamples: 0, lastHeartbeatRoundTripMs: undefined,
  };
  private readonly frameTotalsBefore = { crc: 0, oversize: 0, cobs: 0, decode: 0, bytesIn: 0, timeouts: 0 };
  private clockFit: ClockFit | undefined;
  /** One clock fit per segment (a device reset or reconnect starts a new one). */
  private readonly segmentClocks: ClockFit[] = [];
  /** Highest session index a running heartbeat reported in the current segment (taken before any reset). */
  private lastRunningSessionIndex = 0;

  private constructor(readonly url: string, private readonly options: RigOptions) {
    this.acquisition$ = this.acquisitionSubject.asObservable();
    this.digitalEvents$ = this.digitalSubject.asObservable();
    this.ledEvents$ = this.ledSubject.asObservable();
    this.status$ = this.statusSubject.asObservable();
    this.logs$ = this.logSubject.asObservable();
    this.health$ = this.healthSubject.asObservable();
    this.heartbeats$ = this.heartbeatSubject.asObservable();
    this.journal$ = this.journalSubject.asObservable();
    const onJournal = options.onJournal;
    if (onJournal) this.journalSubject.subscribe(onJournal);
    this.assembler = new AcquisitionAssembler({
      item: (item) => {
        if (item.kind === 'block' && item.source === 'detector') this.lastDetectorArrivalUs = nowUs();
        this.acquisitionSubject.next(item);
      },
      digital: (e) => this.digitalSubject.next(e),
      led: (e) => this.ledSubject.next(e),
    });
    this.lightKeeper = new LightKeeper({ config: () => this.config, light: () => this.assembler.light.state, setLed: (channel, drive) => this.setLed(channel, drive) });
  }

  /** Opens the device at `url`, handshakes, and checks the protocol version. */
  static async connect(url: string, options: RigOptions = {}): Promise<Rig> {
    const rig = new Rig(url, options);
    await rig.open();
    return rig;
  }

  get info(): DeviceInfo {
    return this.deviceInfo;
  }

  /** The configuration in force (as sent), and the id the device gave it. */
  get configuration(): { config: AcquisitionConfigInit | undefined; configId: number } {
    return { config: this.config, configId: this.configId };
  }

  get running(): boolean {
    return this.wantRunning;
  }

  /**
   * Device-to-host clock mapping of the acquisition (reset by start()): a fit of
   * host time against the session sample index over the heartbeat round trips of
   * the running device. `clock.driftPpm` > 0 means the device's sample clock runs
   * slow against the host's; `clock.toHostTimeUs(sessionIndex)` is the host wall
   * time (µs since the epoch) of a sample. Undefined before the first start();
   * `clock.fit` is null until two heartbeats were answered while running.
   */
  get clock(): ClockFit | undefined {
    return this.clockFit;
  }

  /**
   * The clock fit of each segment of the acquisition, in order (index = segment).
   * Each maps that segment's session indices to host time; drift is per segment,
   * so a reconnect or a reset never mixes two runs in one fit.
   */
  get clocks(): readonly ClockFit[] {
    return this.segmentClocks;
  }

  linkHealth(): LinkHealth {
    this.refreshHealth();
    return structuredClone(this.health);
  }

  async configure(config: AcquisitionConfigInit): Promise<number> {
    assertWireRanges(config, this.deviceInfo); // a number that would wrap on the wire never leaves the host
    const reply = await this.link.request({ configure: { config } }, { beforeSend: (requestId) => this.recordIntent({ requestId, command: 'configure', config }) });
    this.config = config;
    this.configId = reply.ack?.configId ?? 0;
    return this.configId;
  }

  async start(): Promise<void> {
    if (!this.config) throw new RigError('E_NOT_CONFIGURED', 'start before configure', 'call configure(config) first');
    this.droppedBySegment = 0;
    this.droppedEarlierSegments = 0;
    this.segmentClocks.length = 0;
    this.newSegmentClock();
    this.lastDetectorArrivalUs = nowUs();
    const sentUs = nowUs();
    await this.link.request({ start: {} }, { beforeSend: (requestId) => this.recordIntent({ requestId, command: 'start' }) });
    this.anchorSegmentClock(sentUs);
    this.wantRunning = true;
    this.startHeartbeat();
  }

  async stop(): Promise<void> {
    this.wantRunning = false;
    if (this.reconnecting) await this.reconnecting.catch(() => undefined);
    if (this.link.isOpen) await this.link.request({ stop: {} }, { beforeSend: (requestId) => this.recordIntent({ requestId, command: 'stop' }) });
  }

  async setLed(channel: number, drive: { currentMa: number } | { powerUw: number }): Promise<number> {
    assertSetLedRanges(channel, drive, this.deviceInfo);
    const reply = await this.link.request({ setLed: { channel, ...drive } });
    return reply.ack?.sampleIndex ?? 0;
  }

  async selfTest(): Promise<SelfTestReport> {
    const reply = await this.link.request({ selfTest: {} }, { timeoutMs: 10_000 });
    return reply.selfTestReport!;
  }

  async readCalibration(): Promise<CalibrationTable> {
    const reply = await this.link.request({ readCalibration: {} });
    return reply.calibrationTable!;
  }

  async writeCalibration(table: CalibrationTableInit): Promise<void> {
    await this.link.request({ writeCalibration: { table } });
  }

  /** Resets the device and handshakes again once it is back. */
  async reset(): Promise<void> {
    this.wantRunning = false;
    await this.link.request({ reset: {} });
    await this.handshake();
  }

  /** Sends a raw command (for tools and tests) and returns the reply. */
  async command(command: Parameters<Link['request']>[0]): Promise<Envelope> {
    return this.link.request(command);
  }

  /**
   * Stops sending heartbeats, so the device's watchdog darkens the LEDs after
   * its timeout (the self-test of the watchdog). resumeHeartbeats(), start() or
   * a reconnect sends them again.
   */
  pauseHeartbeats(): void {
    this.link.stopHeartbeat();
  }

  /** Sends heartbeats again while running (after pauseHeartbeats()). */
  resumeHeartbeats(): void {
    if (this.wantRunning && this.link.isOpen) this.startHeartbeat();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.wantRunning = false;
    if (this.link?.isOpen) {
      await this.link.request({ stop: {} }, { timeoutMs: 500, retries: 0, beforeSend: (requestId) => this.recordIntent({ requestId, command: 'stop' }) }).catch(() => undefined);
      await this.link.close();
    }
    for (const s of [this.acquisitionSubject, this.digitalSubject, this.ledSubject, this.statusSubject, this.logSubject, this.healthSubject, this.heartbeatSubject, this.journalSubject] as Subject<unknown>[]) s.complete();
  }

  // ------------------------------------------------------------- internals

  private newSegmentClock(): void {
    this.clockFit = new ClockFit({ deviceTicksHz: this.config?.sampleRateHz || 1 });
    this.segmentClocks.push(this.clockFit);
    this.lastRunningSessionIndex = 0;
  }

  /** Sample 0 of the run was taken while Start was in flight: the segment's first clock observation. */
  private anchorSegmentClock(startSentUs: number): void {
    this.clockFit?.add({ deviceTicks: this.assembler.sessionIndexOf(0), hostSendUs: startSentUs, hostRecvUs: Math.max(startSentUs, nowUs()) });
  }

  private recordIntent(intent: Intent): void {
    this.journalSubject.next({ type: 'intent', hostTimeUs: nowUs(), intent });
    this.assembler.intent(intent);
  }

  private async open(): Promise<void> {
    const open = this.options.openTransport ?? defaultOpenTransport;
    const transport = await open(this.url);
    traceRig('%s: port open', this.url);
    this.journalSubject.next({ type: 'link', hostTimeUs: nowUs(), state: 'open' });
    const link = new Link(transport, {
      ...(this.options.requestTimeoutMs !== undefined ? { requestTimeoutMs: this.options.requestTimeoutMs } : {}),
      ...(this.options.retries !== undefined ? { retries: this.options.retries } : {}),
      onRx: (bytes) => this.journalSubject.next({ type: 'rx', hostTimeUs: nowUs(), bytes }),
      onMessage: (m) => this.assembler.message(m),
    });
    this.link = link;
    link.stream$.subscribe((m) => this.onMessage(m));
    link.heartbeats$.subscribe((h) => this.onHeartbeat(h));
    void link.closed.then(() => this.onLinkClosed(link));
    try {
      await this.handshake();
    } catch (error) {
      await link.close().catch(() => undefined);
      throw error;
    }
    this.health.connected = true;
  }

  private async handshake(): Promise<void> {
    const reply = await this.link.request({ hello: { protocol: { ...PROTOCOL_VERSION }, hostName: this.options.hostName ?? 'fiberrig host' } });
    if (!reply.deviceInfo) throw new RigError('E_HANDSHAKE', `device answered Hello with ${reply.body}`, 'is this a fiberrig device? check the URL');
    assertCompatibleVersion(reply.deviceInfo.protocol);
    this.deviceInfo = reply.deviceInfo;
    this.journalSubject.next({ type: 'device-info', hostTimeUs: nowUs(), info: reply.deviceInfo });
  }

  private startHeartbeat(): void {
    const timeoutMs = this.config?.heartbeatTimeoutMs || 2000;
    this.link.startHeartbeat(this.options.heartbeatIntervalMs ?? Math.max(50, Math.floor(timeoutMs / 4)));
  }

  private onMessage(message: Envelope): void {
    if (message.body === 'status') {
      const s = message.status!;
      if (s.running && s.configId === this.configId) this.droppedBySegment = s.samplesDropped;
      this.statusSubject.next(s);
      this.refreshHealth();
      this.healthSubject.next(structuredClone(this.health));
    } else if (message.body === 'log') {
      const l = message.log!;
      this.logSubject.next({ level: l.level, message: l.message, deviceTimeUs: l.deviceTimeUs });
    }
  }

  private onHeartbeat(h: HeartbeatSample): void {
    this.health.lastHeartbeatRoundTripMs = (h.hostReceiveUs - h.hostSendUs) / 1000;
    this.journalSubject.next({ type: 'heartbeat', hostTimeUs: h.hostReceiveUs, sample: h });
    const sessionIndex = this.assembler.sessionIndexOf(h.deviceSampleIndex);
    if (h.running && this.wantRunning && !this.reconnecting) {
      this.clockFit?.add({ deviceTicks: sessionIndex, hostSendUs: h.hostSendUs, hostRecvUs: h.hostReceiveUs, deviceQueuedUs: h.replyQueuedUs });
      this.lastRunningSessionIndex = Math.max(this.lastRunningSessionIndex, sessionIndex);
    }
    if (h.running && this.wantRunning && !this.reconnecting) this.lightKeeper.heartbeatAnswered();
    this.heartbeatSubject.next({ ...h, sessionIndex });
    if (this.wantRunning && !h.running && !this.reconnecting) {
      // The device stopped on its own: it was reset (power glitch, watchdog, Reset from elsewhere).
      traceRig('%s: device stopped on its own (reset?): resuming', this.url);
      this.reconnecting = this.resume('device-reset')
        .catch((error: unknown) => this.failAcquisition(error))
        .finally(() => this.afterDeviceReset());
    }
  }

  /** The link may have closed while the reset was being handled: then reconnect now (onLinkClosed skipped it). */
  private afterDeviceReset(): void {
    this.reconnecting = undefined;
    if (!this.link.isOpen && this.wantRunning && !this.closing && this.options.reconnect !== false) {
      this.reconnecting = this.reconnectLoop().finally(() => { this.reconnecting = undefined; });
    }
  }

  private onLinkClosed(link: Link): void {
    if (link !== this.link) return;
    this.health.connected = false;
    this.accumulateLinkCounters(link);
    this.journalSubject.next({ type: 'link', hostTimeUs: nowUs(), state: 'closed' });
    traceRig('%s: link closed%s', this.url, this.closing ? '' : ' (not by us)');
    if (this.closing) return;
    if (this.wantRunning && this.options.reconnect !== false && !this.reconnecting) {
      this.reconnecting = this.reconnectLoop().finally(() => { this.reconnecting = undefined; });
    }
  }

  /**
   * Reopens the port until it is back, polling every <= 200 ms (reconnect.ts: a
   * replugged device is found within one interval, not after a back-off).
   */
  private async reconnectLoop(): Promise<void> {
    const schedule = new ReconnectSchedule(this.options);
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const giveUpAt = Date.now() + (this.options.reconnectGiveUpMs ?? 10 * 60_000);
    while (this.wantRunning && !this.closing) {
      await sleep(schedule.nextDelayMs());
      if (!this.wantRunning || this.closing) return;
      traceRig('%s: reconnecting', this.url);
      let opened = false;
      try {
        await this.open();
        opened = true;
        this.health.reconnects++;
        await this.resume('reconnect');
        if (this.link.isOpen) return; // else it closed again during the resume: keep trying
      } catch (error) {
        traceRig('%s: reconnect attempt failed: %s', this.url, (error as Error).message);
        if (this.link?.isOpen) await this.link.close().catch(() => undefined);
        if (opened && !(error instanceof LinkError)) {
          this.failAcquisition(error); // the device answered and refused: reopening will not help
          return;
        }
        if (Date.now() > giveUpAt) {
          this.failAcquisition(new RigError('E_RECONNECT_FAILED', `could not reconnect to ${this.url}: ${(error as Error).message}`, 'check the device and its cable, then start a new acquisition', { cause: error }));
          return;
        }
      }
    }
  }

  /** Ends the acquisition with a typed error on acquisition$ (never an unhandled rejection). */
  private failAcquisition(error: unknown): void {
    this.wantRunning = false;
    if (this.link?.isOpen) this.link.stopHeartbeat();
    const rigError = error instanceof RigError ? error
      : new RigError('E_RESUME_FAILED', `could not restart the acquisition on ${this.url} after a reconnect or device reset: ${(error as Error)?.message ?? String(error)}`,
        'check the device (its log and status); then start a new acquisition', { cause: error });
    traceRig('%s: acquisition failed: %s', this.url, rigError.message);
    this.acquisitionSubject.error(rigError);
  }

  /** A heartbeat round trip outside the heartbeat timer: the device's uptime, measured now (journaled). */
  private async probeUptime(): Promise<UptimeProbe & { running: boolean }> {
    const hostSendUs = nowUs();
    const reply = await this.link.request({ heartbeat: { hostTimeUs: hostSendUs } }, { retries: 0 });
    const hostRecvUs = this.link.arrivalUsOf(reply, hostSendUs);
    const ack = reply.heartbeatAck;
    if (!ack) throw new RigError('E_HANDSHAKE', `device answered Heartbeat with ${reply.body}`, 'is this a fiberrig device? check the URL');
    const replyQueuedUs = ack.replyQueuedUs ?? 0;
    const sample = { hostSendUs, hostReceiveUs: hostRecvUs, deviceSampleIndex: ack.sampleIndex, deviceTimeUs: ack.deviceTimeUs, running: ack.running, replyQueuedUs };
    this.journalSubject.next({ type: 'heartbeat', hostTimeUs: hostRecvUs, sample });
    return { hostSendUs, hostRecvUs, deviceTimeUs: ack.deviceTimeUs, deviceQueuedUs: replyQueuedUs, running: ack.running };
  }

  /** Re-applies the configuration and restarts; the missing span becomes a gap placed by placement.ts. */
  private async resume(reason: GapReason): Promise<void> {
    const config = this.config;
    if (!config) return;
    let startSentUs = 0;
    try {
      if (reason === 'device-reset') await this.handshake();
      // measured before Stop: if the device is no longer running our run, its uptime dates the reset
      const probe = await this.probeUptime();
      await this.link.request({ stop: {} }, { beforeSend: (requestId) => this.recordIntent({ requestId, command: 'stop' }) }).catch(() => undefined);
      const reply = await this.link.request({ configure: { config } }, { beforeSend: (requestId) => this.recordIntent({ requestId, command: 'configure', config }) });
      this.configId = reply.ack?.configId ?? 0;
      this.droppedEarlierSegments += this.droppedBySegment;
      this.droppedBySegment = 0;
      startSentUs = nowUs();
      await this.link.request({ start: {} }, {
        beforeSend: (requestId) => {
          const rateHz = config.sampleRateHz ?? 0;
          const elapsedUs = Math.max(0, nowUs() - this.lastDetectorArrivalUs);
          const missingDetectorSamples = Math.max(0, Math.round((elapsedUs / 1e6) * rateHz));
          const lowerBound = Math.max(this.lastRunningSessionIndex, this.assembler.nextDetectorSessionIndex);
          const reset = probe.running ? undefined : estimateResetInstant(this.clockFit?.fit, probe, rateHz, lowerBound);
          this.recordIntent({ requestId, command: 'start', resume: { reason, missingDetectorSamples, ...(reset ? { reset } : {}) } });
        },
      });
    } catch (error) {
      if (error instanceof LinkError && !this.link.isOpen) return; // the link went away again; the reconnect loop takes over
      throw error;
    }
    this.newSegmentClock();
    this.anchorSegmentClock(startSentUs);
    this.startHeartbeat();
  }

  private accumulateLinkCounters(link: Link): void {
    const c = link.frameCounters;
    this.frameTotalsBefore.crc += c.rejected.crc;
    this.frameTotalsBefore.oversize += c.rejected.oversize;
    this.frameTotalsBefore.cobs += c.rejected.cobs;
    this.frameTotalsBefore.decode += c.decodeErrors;
    this.frameTotalsBefore.bytesIn += c.bytesIn;
    this.frameTotalsBefore.timeouts += link.counters.timeouts;
  }

  private refreshHealth(): void {
    const live = this.link?.isOpen ? this.link.frameCounters : undefined;
    const t = this.frameTotalsBefore;
    this.health.framesRejected = {
      crc: t.crc + (live?.rejected.crc ?? 0),
      oversize: t.oversize + (live?.rejected.oversize ?? 0),
      cobs: t.cobs + (live?.rejected.cobs ?? 0),
      decode: t.decode + (live?.decodeErrors ?? 0),
    };
    this.health.bytesIn = t.bytesIn + (live?.bytesIn ?? 0);
    this.health.timeouts = t.timeouts + (this.link?.isOpen ? this.link.counters.timeouts : 0);
    this.health.hostDetectedMissingSamples = this.assembler.missingDetectorSamples;
    this.health.deviceReportedDroppedSamples = this.droppedEarlierSegments + this.droppedBySegment;
  }
}
