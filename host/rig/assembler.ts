// Places the device's stream on one session timeline. Pure bookkeeping, no
// I/O and no clocks: the live Rig and the offline replay of a raw log feed it
// the same inputs in the same order and get identical output.
//
// Within a segment (one Start) the device's sample counter is the clock. A new
// segment (after a reconnect or a device reset) restarts the device counter at
// 0; where it lands on the session timeline is decided here (placement.ts)
// from journaled inputs only — the Stop and Start Acks' device uptimes (in the
// received bytes) and the host's measurements carried by the Start intent —
// so replay reproduces it exactly.
import {
  type AcquisitionConfigInit, type DigitalEvent, type Envelope, type LedEvent, pb, SampleSource, samplesView, type SampleArray,
} from '../../protocol/index.ts';
import { placeResumedRun, type PlacementMethod, type ResetEstimate } from './placement.ts';
import { LightTracker, type RigLight } from './light.ts';

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
  /** True when the length was not counted by the device's sample counter (the device restarted its counter). */
  estimated: boolean;
  /** Half-width of the interval holding the true count, samples of this source (0: counted exactly). */
  uncertaintySamples: number;
  /** How a segment gap was placed (placement.ts); absent for missing blocks. */
  placement?: PlacementMethod;
  segment: number;
}

export type AcquisitionItem = RigBlock | RigGap | RigLight;

export type TimedDigitalEvent = DigitalEvent & { sessionIndex: number };
/**
 * A drive the device applied, placed on the session timeline: a LedEvent (Start
 * announces every configured LED at sample 0; SetLed, the watchdog and its
 * re-arm their changes), or, with `via: 'stop'`, the darkening of a lit LED at
 * the sample Stop's Ack names (the device sends no LedEvent for it).
 */
export type TimedLedEvent = LedEvent & { sessionIndex: number; via?: 'stop' };

/**
 * What the host meant by a command, recorded before the command is sent. The
 * device's reply (matched by request id) decides whether it took effect.
 */
export type Intent =
  | { requestId: number; command: 'configure'; config: AcquisitionConfigInit }
  | { requestId: number; command: 'start'; resume?: { reason: GapReason; missingDetectorSamples: number; reset?: ResetEstimate } }
  | { requestId: number; command: 'stop' };

export interface AssemblerSinks {
  item(item: AcquisitionItem): void;
  digital?(event: TimedDigitalEvent): void;
  led?(event: TimedLedEvent): void;
}

interface Cursor {
  nextDeviceIndex: number;
  offset: number;
  nextSessionIndex: number;
}

/**
 * `message.body`, cheaply for the common case: on a decoded Envelope, `body` is a getter that lists the
 * object's keys; a decoded one holding a SampleBlock holds nothing else in the oneof (decoding a member
 * deletes the others), so its body is 'sampleBlock'. Plain objects (tests, replays) say their body.
 */
function bodyOf(message: Envelope): Envelope['body'] {
  return message instanceof pb.Envelope && message.sampleBlock != null ? 'sampleBlock' : message.body;
}

export class AcquisitionAssembler {
  private configId = 0;
  private sampleRateHz = 0;
  private auxDivider = 1;
  /** The current run's Stop Ack (device index and uptime), once it arrived. */
  private stopPoint: { deviceIndex: number; deviceTimeUs: number } | undefined;
  private hasAux = false;
  private running = false;
  private segment = 0;
  private readonly cursors: Record<Source, Cursor> = {
    detector: { nextDeviceIndex: 0, offset: 0, nextSessionIndex: 0 },
    aux: { nextDeviceIndex: 0, offset: 0, nextSessionIndex: 0 },
  };
  /** Detector samples found missing from index discontinuities and estimated segment gaps. */
  missingDetectorSamples = 0;

  /** Where the configured LEDs went dark and came back (LedEvents, Status, Log); emits `light` items. */
  readonly light: LightTracker;
  /** Channels of the configured LEDs, and the drive each was last reported at in this segment (absent: not reported). */
  private ledChannels: number[] = [];
  private readonly ledLevelMa = new Map<number, number>();

  constructor(private readonly sinks: AssemblerSinks) {
    this.light = new LightTracker((marker) => this.sinks.item(marker), () => this.segment);
  }

  get currentSegment(): number {
    return this.segment;
  }

  /** True between an acknowledged Start and Stop: sample blocks are placed. */
  get placing(): boolean {
    return this.running;
  }

  /** Config id of the acknowledged Configure (0 before any): blocks carrying another are ignored. */
  get configIdInForce(): number {
    return this.configId;
  }

  /** Session index where the next detector sample would land. */
  get nextDetectorSessionIndex(): number {
    return this.cursors.detector.nextSessionIndex;
  }

  /** Session index of a device detector index in the current segment. */
  sessionIndexOf(deviceIndex: number): number {
    return deviceIndex + this.cursors.detector.offset;
  }

  private readonly intents = new Map<number, Intent>();

  /** Records what a command about to be sent means; applied when the device acks it. */
  intent(intent: Intent): void {
    this.intents.set(intent.requestId, intent);
  }

  /** A Configure was accepted: blocks carrying other config ids are ignored. */
  private configured(configId: number, sampleRateHz: number, auxRateHz: number): void {
    this.configId = configId;
    this.sampleRateHz = sampleRateHz;
    this.auxDivider = auxRateHz > 0 && sampleRateHz > 0 ? Math.round(sampleRateHz / auxRateHz) : 1;
    this.hasAux = auxRateHz > 0;
  }

  private configuredLeds(config: AcquisitionConfigInit): void {
    this.ledChannels = (config.leds ?? []).map((l) => l.channel ?? 0);
    this.light.configured(this.ledChannels);
  }

  /** A new acquisition starts at session index 0. */
  private started(): void {
    this.light.restarted(this.cursors.detector.nextSessionIndex);
    this.ledLevelMa.clear();
    this.running = true;
    this.segment = 0;
    this.missingDetectorSamples = 0;
    this.stopPoint = undefined;
    for (const c of Object.values(this.cursors)) Object.assign(c, { nextDeviceIndex: 0, offset: 0, nextSessionIndex: 0 });
  }

  /**
   * Stop's Ack names the next detector sample index: every sample before it was
   * taken (aux sample k with detector sample k * divider), and Stop's Ack follows
   * every block of the run. Samples after the last delivered block (its blocks
   * were dropped or damaged) are missing: recorded as a gap, or nobody would
   * ever know they were taken.
   */
  private stopped(nextDetectorIndex: number, deviceTimeUs: number, configId: number): void {
    if (this.running) {
      this.trailingGap('detector', nextDetectorIndex);
      if (this.hasAux) this.trailingGap('aux', Math.ceil(nextDetectorIndex / this.auxDivider));
      if (deviceTimeUs > 0) this.stopPoint = { deviceIndex: nextDetectorIndex, deviceTimeUs };
      this.light.stopped(this.cursors.detector.nextSessionIndex);
      // a device that was reset answers Stop with index and uptime 0: it stopped no run of ours
      if (deviceTimeUs > 0 && nextDetectorIndex >= this.cursors.detector.nextDeviceIndex) this.darkenedByStop(nextDetectorIndex, configId);
    }
    this.running = false;
  }

  /**
   * Stop darkens every LED from the sample its Ack names, and the device sends
   * no LedEvent for it: the log gets the 0 mA of each LED not already dark
   * there (so after a resume it shows them dark, then lit again by Start).
   */
  private darkenedByStop(deviceIndex: number, configId: number): void {
    for (const channel of this.ledChannels) {
      if (this.ledLevelMa.get(channel) === 0) continue;
      this.ledLevelMa.set(channel, 0);
      this.sinks.led?.({ channel, currentMa: 0, powerUw: 0, sampleIndex: deviceIndex, configId, sessionIndex: this.sessionIndexOf(deviceIndex), via: 'stop' });
    }
  }

  private trailingGap(source: Source, nextDeviceIndex: number): void {
    const cursor = this.cursors[source];
    const count = nextDeviceIndex - cursor.nextDeviceIndex;
    if (count <= 0) return;
    this.sinks.item({ kind: 'gap', source, sessionIndex: cursor.nextSessionIndex, count, reason: 'missing-blocks', estimated: false, uncertaintySamples: 0, segment: this.segment });
    if (source === 'detector') this.missingDetectorSamples += count;
    cursor.nextDeviceIndex = nextDeviceIndex;
    cursor.nextSessionIndex += count;
  }

  /**
   * The device was restarted (after a reconnect or reset) and acked Start with
   * the uptime of its sample 0: place the new run (placement.ts) and record the
   * span between as a gap carrying its uncertainty.
   */
  private resumed(resume: NonNullable<Extract<Intent, { command: 'start' }>['resume']>, startDeviceTimeUs: number): void {
    const det = this.cursors.detector;
    this.light.restarted(det.nextSessionIndex);
    this.ledLevelMa.clear();
    const placed = placeResumedRun({
      rateHz: this.sampleRateHz, nextSessionIndex: det.nextSessionIndex, oldOffset: det.offset, stop: this.stopPoint,
      startDeviceTimeUs, reset: resume.reset, hostEstimateSamples: resume.missingDetectorSamples,
    });
    this.segment++;
    this.running = true;
    this.stopPoint = undefined;
    for (const source of ['detector', 'aux'] as const) {
      const cursor = this.cursors[source];
      const divider = source === 'detector' ? 1 : this.auxDivider;
      // aux sample k is taken with detector sample k * divider
      const offset = Math.max(cursor.nextSessionIndex, Math.round(placed.offset / divider));
      const missing = offset - cursor.nextSessionIndex;
      // a configuration without aux inputs has no aux timeline to leave a gap in
      if (missing > 0 && (source === 'detector' || this.hasAux)) {
        this.sinks.item({
          kind: 'gap', source, sessionIndex: cursor.nextSessionIndex, count: missing, reason: resume.reason, estimated: true,
          uncertaintySamples: Math.ceil(placed.uncertaintySamples / divider), placement: placed.method, segment: this.segment,
        });
        if (source === 'detector') this.missingDetectorSamples += missing;
      }
      cursor.offset = offset;
      cursor.nextSessionIndex = offset;
      cursor.nextDeviceIndex = 0;
    }
  }

  /** Every message from the device, replies included, in arrival order. */
  message(message: Envelope): void {
    if (message.requestId !== 0) {
      this.reply(message);
      return;
    }
    if (!this.running) return;
    switch (bodyOf(message)) {
      case 'sampleBlock': {
        const b = message.sampleBlock!;
        if (b.configId !== this.configId) return; // from an older configuration
        const source: Source = b.source === SampleSource.SAMPLE_SOURCE_AUX ? 'aux' : 'detector';
        this.block(source, b.firstSampleIndex, b.sampleCount, b.channelIds, samplesView(b.format, b.samples, b.channelIds.length, b.sampleCount), b.configId);
        return;
      }
      case 'digitalEvent': {
        const e = message.digitalEvent!;
        if (e.configId && e.configId !== this.configId) return;
        // decoded messages keep proto3 defaults on the prototype: copy fields explicitly, never spread
        this.sinks.digital?.({ line: e.line, edge: e.edge, sampleIndex: e.sampleIndex, subsampleTicks: e.subsampleTicks, configId: e.configId, sessionIndex: this.sessionIndexOf(e.sampleIndex) });
        return;
      }
      case 'ledEvent': {
        const e = message.ledEvent!;
        if (e.configId && e.configId !== this.configId) return; // from an older configuration
        this.ledLevelMa.set(e.channel, e.currentMa);
        this.sinks.led?.({ channel: e.channel, currentMa: e.currentMa, powerUw: e.powerUw, sampleIndex: e.sampleIndex, configId: e.configId, sessionIndex: this.sessionIndexOf(e.sampleIndex) });
        this.light.led(e.channel, e.currentMa, this.sessionIndexOf(e.sampleIndex));
        return;
      }
      case 'status':
        this.light.status(message.status!);
        return;
      case 'log':
        this.light.log(message.log!.level, message.log!.message);
        return;
      default:
    }
  }

  private reply(message: Envelope): void {
    const intent = this.intents.get(message.requestId);
    if (!intent) return;
    this.intents.delete(message.requestId);
    if (message.body !== 'ack') return; // refused: nothing changed on the device
    if (intent.command === 'configure') {
      this.configured(message.ack!.configId, intent.config.sampleRateHz ?? 0, intent.config.aux?.rateHz ?? 0);
      this.configuredLeds(intent.config);
    } else if (intent.command === 'start') {
      if (intent.resume) this.resumed(intent.resume, message.ack!.deviceTimeUs);
      else this.started();
    } else {
      this.stopped(message.ack!.sampleIndex, message.ack!.deviceTimeUs, message.ack!.configId);
    }
  }

  private block(source: Source, deviceIndex: number, sampleCount: number, channelIds: number[], samples: SampleArray, configId: number): void {
    const cursor = this.cursors[source];
    if (deviceIndex < cursor.nextDeviceIndex) return; // a duplicate or an overlap: already delivered
    if (deviceIndex > cursor.nextDeviceIndex) {
      const count = deviceIndex - cursor.nextDeviceIndex;
      this.sinks.item({ kind: 'gap', source, sessionIndex: cursor.nextSessionIndex, count, reason: 'missing-blocks', estimated: false, uncertaintySamples: 0, segment: this.segment });
      if (source === 'detector') this.missingDetectorSamples += count;
    }
    const sessionIndex = deviceIndex + cursor.offset;
    cursor.nextDeviceIndex = deviceIndex + sampleCount;
    cursor.nextSessionIndex = sessionIndex + sampleCount;
    this.sinks.item({ kind: 'block', source, sessionIndex, deviceIndex, sampleCount, channelIds, samples, configId, segment: this.segment });
  }
}
