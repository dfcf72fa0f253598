// The Rig: what developers, the CLI, the live view, calibration and the tests
// script against. One object per device URL; it owns the link, replays the
// acquisition after a disconnect or a device reset, and turns the device's
// stream into ordered, gap-annotated observables on one session timeline.
import { Subject, type Observable } from 'rxjs';
import {
  assertCompatibleVersion, type AcquisitionConfigInit, type CalibrationTable, type CalibrationTableInit, type DeviceInfo,
  type DigitalEvent, type Envelope, type LedEvent, PROTOCOL_VERSION, type SelfTestReport, SampleSource, samplesView,
  type SampleArray, type Status,
} from '../../protocol/index.ts';
import { LinkError } from '../link/errors.ts';
import { Link, type HeartbeatSample } from '../link/link.ts';
import { openTransport as defaultOpenTransport, type Transport } from '../transport/open.ts';
import { RigError } from './errors.ts';

export type Source = 'detector' | 'aux';

/** A block of raw samples placed on the session timeline. */
export interface RigBlock {
  kind: 'block';
  source: Source;
  /** Index of the first sample on the session timeline (continuous across reconnects), in this source's rate. */
  sessionIndex: number;
  /** The device's own first_sample_index (restarts at 0 on each Start). */
  deviceIndex: number;
  sampleCount: number;
  channelIds: number[];
  /** Interleaved raw ADC codes (sampleCount x channelIds.length). */
  samples: SampleArray;
  configId: number;
  segment: number;
}

export type GapReason = 'missing-blocks' | 'reconnect' | 'device-reset';

/** Samples that never arrived: recorded, never zero-filled, never closed up. */
export interface RigGap {
  kind: 'gap';
  source: Source;
  /** First missing index on the session timeline, in this source's rate. */
  sessionIndex: number;
  count: number;
  reason: GapReason;
  /** True when the length was estimated from the host clock (the device restarted its counter). */
  estimated: boolean;
  segment: number;
}

export type AcquisitionItem = RigBlock | RigGap;

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
  reconnectInitialDelayMs?: number;
  reconnectMaxDelayMs?: number;
  /** How long to keep trying before giving up, ms. */
  reconnectGiveUpMs?: number;
  openTransport?: (url: string) => Promise<Transport>;
  hostName?: string;
}

interface SourceCursor {
  /** Next expected device index in the current segment. */
  nextDeviceIndex: number;
  /** Session index of device index 0 in the current segment. */
  offset: number;
  /** Next expected session index. */
  nextSessionIndex: number;
  started: boolean;
}

export class Rig {
  /** Blocks and gaps, in order, one emission per block. */
  readonly acquisition$: Observable<AcquisitionItem>;
  readonly digitalEvents$: Observable<DigitalEvent & { sessionIndex: number }>;
  readonly ledEvents$: Observable<LedEvent & { sessionIndex: number }>;
  readonly status$: Observable<Status>;
  readonly logs$: Observable<{ level: number; message: string; deviceTimeUs: number }>;
  readonly health$: Observable<LinkHealth>;
  readonly heartbeats$: Observable<HeartbeatSample & { sessionIndex: number }>;

  private readonly acquisitionSubject = new Subject<AcquisitionItem>();
  private readonly digitalSubject = new Subject<DigitalEvent & { sessionIndex: number }>();
  private readonly ledSubject = new Subject<LedEvent & { sessionIndex: number }>();
  private readonly statusSubject = new Subject<Status>();
  private readonly logSubject = new Subject<{ level: number; message: string; deviceTimeUs: number }>();
  private readonly healthSubject = new Subject<LinkHealth>();
  private readonly heartbeatSubject = new Subject<HeartbeatSample & { sessionIndex: number }>();

  private link!: Link;
  private deviceInfo!: DeviceInfo;
  private config: AcquisitionConfigInit | undefined;
  private configId = 0;
  private wantRunning = false;
  private segment = 0;
  private reconnecting: Promise<void> | undefined;
  private closing = false;
  private auxDivider = 1;
  private readonly cursors: Record<Source, SourceCursor> = {
    detector: { nextDeviceIndex: 0, offset: 0, nextSessionIndex: 0, started: false },
    aux: { nextDeviceIndex: 0, offset: 0, nextSessionIndex: 0, started: false },
  };
  private lastDetectorArrivalUs = 0;
  private droppedBySegment = 0;
  private droppedEarlierSegments = 0;
  private readonly health: LinkHealth = {
    connected: false, reconnects: 0, framesRejected: { crc: 0, oversize: 0, cobs: 0, decode: 0 }, bytesIn: 0, timeouts: 0,
    hostDetectedMissingSamples: 0, deviceReportedDroppedSamples: 0, lastHeartbeatRoundTripMs: undefined,
  };
  private readonly frameTotalsBefore = { crc: 0, oversize: 0, cobs: 0, decode: 0, bytesIn: 0, timeouts: 0 };

  private constructor(readonly url: string, private readonly options: RigOptions) {
    this.acquisition$ = this.acquisitionSubject.asObservable();
    this.digitalEvents$ = this.digitalSubject.asObservable();
    this.ledEvents$ = this.ledSubject.asObservable();
    this.status$ = this.statusSubject.asObservable();
    this.logs$ = this.logSubject.asObservable();
    this.health$ = this.healthSubject.asObservable();
    this.heartbeats$ = this.heartbeatSubject.asObservable();
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

  /** Sample rate of the detector stream in the configuration in force. */
  get sampleRateHz(): number {
    return this.config?.sampleRateHz ?? 0;
  }

  linkHealth(): LinkHealth {
    this.refreshHealth();
    return structuredClone(this.health);
  }

  async configure(config: AcquisitionConfigInit): Promise<number> {
    const reply = await this.link.request({ configure: { config } });
    this.config = config;
    this.configId = reply.ack?.configId ?? 0;
    const auxRate = config.aux?.rateHz ?? 0;
    this.auxDivider = auxRate > 0 && config.sampleRateHz ? Math.round(config.sampleRateHz / auxRate) : 1;
    return this.configId;
  }

  async start(): Promise<void> {
    if (!this.config) throw new RigError('E_NOT_CONFIGURED', 'start before configure', 'call configure(config) first');
    for (const c of Object.values(this.cursors)) Object.assign(c, { nextDeviceIndex: 0, offset: 0, nextSessionIndex: 0, started: false });
    this.segment = 0;
    this.droppedBySegment = 0;
    this.droppedEarlierSegments = 0;
    await this.link.request({ start: {} });
    this.wantRunning = true;
    this.cursors.detector.started = true;
    this.cursors.aux.started = true;
    this.startHeartbeat();
  }

  async stop(): Promise<void> {
    this.wantRunning = false;
    if (this.reconnecting) await this.reconnecting.catch(() => undefined);
    if (this.link.isOpen) await this.link.request({ stop: {} });
  }

  async setLed(channel: number, drive: { currentMa: number } | { powerUw: number }): Promise<number> {
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

  /** Sends a raw command (for tools and tests); replies as the link gives them. */
  async command(command: Parameters<Link['request']>[0]): Promise<Envelope> {
    return this.link.request(command);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.wantRunning = false;
    if (this.link?.isOpen) {
      await this.link.request({ stop: {} }, { timeoutMs: 500, retries: 0 }).catch(() => undefined);
      await this.link.close();
    }
    this.acquisitionSubject.complete();
    this.digitalSubject.complete();
    this.ledSubject.complete();
    this.statusSubject.complete();
    this.logSubject.complete();
    this.healthSubject.complete();
    this.heartbeatSubject.complete();
  }

  // ------------------------------------------------------------- internals

  private async open(): Promise<void> {
    const open = this.options.openTransport ?? defaultOpenTransport;
    const transport = await open(this.url);
    this.link = new Link(transport, {
      ...(this.options.requestTimeoutMs !== undefined ? { requestTimeoutMs: this.options.requestTimeoutMs } : {}),
      ...(this.options.retries !== undefined ? { retries: this.options.retries } : {}),
    });
    this.link.stream$.subscribe((m) => this.onMessage(m));
    this.link.heartbeats$.subscribe((h) => this.onHeartbeat(h));
    void this.link.closed.then(() => this.onLinkClosed());
    try {
      await this.handshake();
    } catch (error) {
      await this.link.close().catch(() => undefined);
      throw error;
    }
    this.health.connected = true;
  }

  private async handshake(): Promise<void> {
    const reply = await this.link.request({ hello: { protocol: { ...PROTOCOL_VERSION }, hostName: this.options.hostName ?? 'fiberrig host' } });
    if (!reply.deviceInfo) throw new RigError('E_HANDSHAKE', `device answered Hello with ${reply.body}`, 'is this a fiberrig device? check the URL');
    assertCompatibleVersion(reply.deviceInfo.protocol);
    this.deviceInfo = reply.deviceInfo;
  }

  private startHeartbeat(): void {
    const timeoutMs = this.config?.heartbeatTimeoutMs || 2000;
    this.link.startHeartbeat(this.options.heartbeatIntervalMs ?? Math.max(50, Math.floor(timeoutMs / 4)));
  }

  private onMessage(message: Envelope): void {
    switch (message.body) {
      case 'sampleBlock': {
        const b = message.sampleBlock!;
        if (b.configId !== this.configId) return; // a block from an older configuration
        const source: Source = b.source === SampleSource.SAMPLE_SOURCE_AUX ? 'aux' : 'detector';
        this.acceptBlock(source, b.firstSampleIndex, b.sampleCount, b.channelIds, samplesView(b.format, b.samples, b.channelIds.length, b.sampleCount), b.configId);
        return;
      }
      case 'digitalEvent': {
        const e = message.digitalEvent!;
        this.digitalSubject.next({ ...e, sessionIndex: e.sampleIndex + this.cursors.detector.offset });
        return;
      }
      case 'ledEvent': {
        const e = message.ledEvent!;
        this.ledSubject.next({ ...e, sessionIndex: e.sampleIndex + this.cursors.detector.offset });
        return;
      }
      case 'status': {
        const s = message.status!;
        if (s.running && s.configId === this.configId) this.droppedBySegment = s.samplesDropped;
        this.statusSubject.next(s);
        this.refreshHealth();
        this.healthSubject.next(structuredClone(this.health));
        return;
      }
      case 'log': {
        const l = message.log!;
        this.logSubject.next({ level: l.level, message: l.message, deviceTimeUs: l.deviceTimeUs });
        return;
      }
      default:
    }
  }

  private acceptBlock(source: Source, deviceIndex: number, sampleCount: number, channelIds: number[], samples: SampleArray, configId: number): void {
    const cursor = this.cursors[source];
    if (!cursor.started) return;
    if (source === 'detector') this.lastDetectorArrivalUs = Date.now() * 1000;
    if (deviceIndex < cursor.nextDeviceIndex) return; // a duplicate or an overlap: already delivered
    if (deviceIndex > cursor.nextDeviceIndex) {
      const count = deviceIndex - cursor.nextDeviceIndex;
      this.acquisitionSubject.next({ kind: 'gap', source, sessionIndex: cursor.nextSessionIndex, count, reason: 'missing-blocks', estimated: false, segment: this.segment });
      if (source === 'detector') this.health.hostDetectedMissingSamples += count;
    }
    const sessionIndex = deviceIndex + cursor.offset;
    cursor.nextDeviceIndex = deviceIndex + sampleCount;
    cursor.nextSessionIndex = sessionIndex + sampleCount;
    this.acquisitionSubject.next({ kind: 'block', source, sessionIndex, deviceIndex, sampleCount, channelIds, samples, configId, segment: this.segment });
  }

  private onHeartbeat(h: HeartbeatSample): void {
    this.health.lastHeartbeatRoundTripMs = (h.hostReceiveUs - h.hostSendUs) / 1000;
    this.heartbeatSubject.next({ ...h, sessionIndex: h.deviceSampleIndex + this.cursors.detector.offset });
    if (this.wantRunning && !h.running && !this.reconnecting) {
      // The device stopped on its own: it was reset (power glitch, watchdog, Reset from elsewhere).
      this.reconnecting = this.resume('device-reset').finally(() => { this.reconnecting = undefined; });
    }
  }

  private onLinkClosed(): void {
    this.health.connected = false;
    this.accumulateLinkCounters();
    if (this.closing) return;
    if (this.wantRunning && this.options.reconnect !== false && !this.reconnecting) {
      this.reconnecting = this.reconnectLoop().finally(() => { this.reconnecting = undefined; });
    }
  }

  private async reconnectLoop(): Promise<void> {
    let delayMs = this.options.reconnectInitialDelayMs ?? 100;
    const maxDelayMs = this.options.reconnectMaxDelayMs ?? 5000;
    const giveUpAt = Date.now() + (this.options.reconnectGiveUpMs ?? 10 * 60_000);
    while (this.wantRunning && !this.closing) {
      await new Promise((r) => setTimeout(r, delayMs));
      try {
        await this.open();
        this.health.reconnects++;
        await this.resume('reconnect');
        return;
      } catch (error) {
        if (this.link?.isOpen) await this.link.close().catch(() => undefined);
        if (Date.now() > giveUpAt) {
          this.wantRunning = false;
          this.acquisitionSubject.error(new RigError('E_RECONNECT_FAILED', `could not reconnect to ${this.url}: ${(error as Error).message}`, 'check the device and its cable, then start a new acquisition'));
          return;
        }
        delayMs = Math.min(maxDelayMs, delayMs * 2);
      }
    }
  }

  /** Re-applies the configuration and restarts; the missing span becomes an estimated gap. */
  private async resume(reason: GapReason): Promise<void> {
    if (!this.config) return;
    try {
      if (reason === 'device-reset') await this.handshake();
      await this.link.request({ stop: {} }).catch(() => undefined);
      const reply = await this.link.request({ configure: { config: this.config } });
      this.configId = reply.ack?.configId ?? 0;
      await this.link.request({ start: {} });
    } catch (error) {
      if (error instanceof LinkError) return; // the link went away again; the reconnect loop takes over
      throw error;
    }
    const rateHz = this.config.sampleRateHz ?? 0;
    const elapsedUs = Math.max(0, Date.now() * 1000 - this.lastDetectorArrivalUs);
    const missingDetector = Math.max(0, Math.round((elapsedUs / 1e6) * rateHz));
    this.segment++;
    this.droppedEarlierSegments += this.droppedBySegment;
    this.droppedBySegment = 0;
    for (const source of ['detector', 'aux'] as const) {
      const cursor = this.cursors[source];
      const missing = source === 'detector' ? missingDetector : Math.ceil(missingDetector / this.auxDivider);
      if (missing > 0) {
        this.acquisitionSubject.next({ kind: 'gap', source, sessionIndex: cursor.nextSessionIndex, count: missing, reason, estimated: true, segment: this.segment });
        if (source === 'detector') this.health.hostDetectedMissingSamples += missing;
      }
      cursor.offset = cursor.nextSessionIndex + missing;
      cursor.nextSessionIndex = cursor.offset;
      cursor.nextDeviceIndex = 0;
    }
    this.startHeartbeat();
  }

  private accumulateLinkCounters(): void {
    const c = this.link.frameCounters;
    this.frameTotalsBefore.crc += c.rejected.crc;
    this.frameTotalsBefore.oversize += c.rejected.oversize;
    this.frameTotalsBefore.cobs += c.rejected.cobs;
    this.frameTotalsBefore.decode += c.decodeErrors;
    this.frameTotalsBefore.bytesIn += c.bytesIn;
    this.frameTotalsBefore.timeouts += this.link.counters.timeouts;
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
    this.health.deviceReportedDroppedSamples = this.droppedEarlierSegments + this.droppedBySegment;
  }
}
