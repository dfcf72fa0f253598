// One unit: the rings, cursors and per-page resolution share one bounded store the pages read from.
// What the live view shows, kept on the server: demodulated signals and aux
// in bounded rings (the longest window), the latest raw samples, clipping,
// events, gaps and device health. It subscribes to the Rig like any other
// sink and never touches the recording path; each page gets its own cursor
// and resolution (LiveFeed.frameFor), so a page that falls behind only
// loses display points.
import type { Observable, Subscription } from 'rxjs';
import { type AcquisitionConfigInit, DarkReason, ModulationMode, type Status } from '../../protocol/index.ts';
import { ClockFit } from '../dsp/clock.ts';
import { type DemodOptions, type SignalBlock, SignalDemodulator } from '../pipeline/demodulate.ts';
import { describeLight } from '../rig/light.ts';
import type { AcquisitionItem, Rig, RigBlock, RigLight, TimedDigitalEvent, TimedLedEvent } from '../rig/rig.ts';
import { type LiveAnalysisOptions, LiveCorrection, LiveSleep, type LiveSleepState, planLiveCorrection, planLiveSleep } from './analysis.ts';
import { bucketFor, bucketMinMax, codeRangeOf, RangeMeter, SampleRing, ScopeBuffer, type SeriesChunk } from './display.ts';
import type {
  AnalysisDescription, ChannelDescription, FrameMessage, LedDescription, LiveEvent, RecordingView, StatusView, Warning,
} from './messages.ts';

/** The part of the Rig the live view uses. */
export type LiveRig = Pick<
  Rig,
  'url' | 'info' | 'acquisition$' | 'digitalEvents$' | 'ledEvents$' | 'status$' | 'heartbeats$' | 'running' | 'linkHealth' | 'configuration'
  | 'configure' | 'start' | 'stop' | 'setLed'
>;

export interface FeedOptions {
  /** History kept for the longest window, seconds (default 600). */
  historyS?: number;
  /** Raw samples per detector in the raw view (default 250). */
  scopeSamples?: number;
  /** Points per trace a page gets over its window (default 1200, about one per pixel). */
  targetPoints?: number;
  /**
   * Demodulated signals from a demodulation the caller already runs (e.g. `fiberrig acquire --live` shares its
   * own): the feed then runs none. Absent: the feed demodulates the rig's acquisition itself.
   */
  signals?: Observable<SignalBlock>;
  /** The corrected ΔF/F and the running sleep state (host/live/analysis.ts). */
  analysis?: LiveAnalysisOptions;
}

/** A page's position in the feed. */
export interface ClientView {
  windowS: number;
  generation: number;
  signalsCursor: number | undefined;
  auxCursor: number | undefined;
  dffCursor: number | undefined;
  /** the next epoch this page has not been sent */
  epochCursor: number | undefined;
  eventSeq: number;
}

const MODE_NAMES: Record<number, string> = {
  [ModulationMode.MODULATION_MODE_CONTINUOUS]: 'continuous',
  [ModulationMode.MODULATION_MODE_TIME_DIVISION]: 'time-division',
  [ModulationMode.MODULATION_MODE_LOCK_IN]: 'lock-in',
};

const DARK_NAMES: Record<number, StatusView['darkReason']> = {
  [DarkReason.DARK_REASON_NONE]: 'none',
  [DarkReason.DARK_REASON_STOPPED]: 'stopped',
  [DarkReason.DARK_REASON_HEARTBEAT_TIMEOUT]: 'heartbeat-timeout',
  [DarkReason.DARK_REASON_FAULT]: 'fault',
};

/** Hold a clipping or gap warning on screen this long after the last occurrence. */
const WARNING_HOLD_MS = 3000;
const NEAR_FULL_SCALE = 0.95;
/** Keep "LEDs dark ... flagged" on screen this long after light came back. */
const LIGHT_HOLD_MS = 30_000;
const MAX_EVENTS = 2000;

interface RangeState {
  meter: RangeMeter;
  lastClipMs: number[];
  lastNearMs: number[];
  clipPct: number[];
  peakPct: number[];
}

function newRangeState(n: number): RangeState {
  return { meter: new RangeMeter(n), lastClipMs: new Array(n).fill(-Infinity), lastNearMs: new Array(n).fill(-Infinity), clipPct: new Array(n).fill(0), peakPct: new Array(n).fill(0) };
}

export class LiveFeed {
  readonly mode: string;
  readonly sampleRateHz: number;
  readonly signalChannels: ChannelDescription[];
  readonly auxChannels: ChannelDescription[];
  readonly rawChannels: ChannelDescription[];
  readonly leds: LedDescription[];
  readonly signalRateHz: number;
  readonly auxRateHz: number;
  /** Unit of the aux traces: mV at the electrode, or at the ADC input when the device did not report its gain. */
  readonly auxUnit: string;
  /** Increments when a new acquisition starts (the session timeline restarts). */
  generation = 0;
  /** What the analysis strip shows (null parts: not possible with these channels). */
  readonly analysis: AnalysisDescription;

  private readonly liveDff: LiveCorrection | undefined;
  private readonly dff: SampleRing | undefined;
  private readonly liveSleep: LiveSleep | undefined;
  /** running sleep state per epoch: epochs[k] is epoch epochFirst + k */
  private epochs: LiveSleepState[] = [];
  private epochFirst = 0;
  private readonly maxEpochs: number;

  private demod: SignalDemodulator | undefined;
  private readonly signalScales: number[];
  private readonly auxScales: number[];
  private readonly signals: SampleRing;
  private readonly aux: SampleRing | undefined;
  private readonly scope: ScopeBuffer;
  private readonly detectorBits: number[];
  private readonly auxBits: number[];
  private readonly detectorRange: RangeState;
  private readonly auxRange: RangeState;
  private readonly targetPoints: number;
  private readonly subscriptions: Subscription[] = [];
  private readonly events: LiveEvent[] = [];
  private eventSeq = 0;
  private next = { detector: 0, aux: 0 };
  private detectorSamples = 0;
  private readonly rateHistory: { ms: number; samples: number }[] = [];
  private gaps = 0;
  private lastGap: { ms: number; text: string } | undefined;
  /** The last change of light (every configured LED dark, or light back), when it happened. */
  private lastLight: { ms: number; marker: RigLight } | undefined;
  private lastStatus: { ms: number; status: Status } | undefined;
  private clock: ClockFit;
  private driftPpm: number | null = null;
  private ticks = 0;
  private failure: string | undefined;
  private demodFailed = false;
  private sharedSignals: boolean;
  /** The subscription to signals of a demodulation another runs (options.signals or useSignals). */
  private shared: Subscription | undefined;
  private snapshot: Pick<FrameMessage, 'raw' | 'status' | 'warnings'>;

  constructor(private readonly rig: LiveRig, private readonly wire: AcquisitionConfigInit, private readonly demodOptions: DemodOptions, options: FeedOptions = {}) {
    const info = rig.info;
    this.mode = MODE_NAMES[wire.mode ?? 0] ?? `mode ${wire.mode}`;
    this.sampleRateHz = wire.sampleRateHz ?? 0;
    const historyS = options.historyS ?? 600;
    this.targetPoints = options.targetPoints ?? 1200;
    const probe = new SignalDemodulator(wire, info, demodOptions);
    const sig = probe.signalStage;
    const auxStage = probe.auxStage;
    const detectorLabel = (id: number): string => info.detectors.find((d) => d.id === id)?.label || `PD${id}`;
    this.signalRateHz = sig.rateHz;
    this.signalChannels = sig.channels.map((c) => ({
      name: c.name, inputId: c.inputId, label: detectorLabel(c.inputId),
      ...(c.wavelengthNm !== undefined ? { wavelengthNm: c.wavelengthNm } : {}), ...(c.ledChannel !== undefined ? { ledChannel: c.ledChannel } : {}),
    }));
    this.signalScales = sig.channels.map((c) => c.voltsPerCode * 1000);
    this.auxRateHz = auxStage?.rateHz ?? 0;
    this.auxChannels = (auxStage?.channels ?? []).map((c) => ({ name: c.name, inputId: c.inputId, label: c.name }));
    this.auxScales = (auxStage?.channels ?? []).map((c) => c.voltsPerCode * 1000);
    this.auxUnit = (auxStage?.channels ?? []).every((c) => c.voltsAt !== 'adc-input') ? 'mV at the electrode' : 'mV at the ADC input (amplifier gain not reported)';
    this.signals = new SampleRing(this.signalChannels.length, historyS * this.signalRateHz + 1);
    this.aux = auxStage ? new SampleRing(this.auxChannels.length, historyS * this.auxRateHz + 1) : undefined;
    const detectorIds = wire.detectorIds ?? [];
    this.rawChannels = detectorIds.map((id) => ({ name: detectorLabel(id), inputId: id, label: detectorLabel(id) }));
    this.detectorBits = detectorIds.map((id) => info.detectors.find((d) => d.id === id)?.adcBits ?? 16);
    this.auxBits = (wire.aux?.inputIds ?? []).map((id) => info.auxInputs.find((a) => a.id === id)?.adcBits ?? 16);
    this.scope = new ScopeBuffer(detectorIds.length, options.scopeSamples ?? 250);
    this.detectorRange = newRangeState(detectorIds.length);
    this.auxRange = newRangeState(this.auxBits.length);
    const pulsed = wire.mode === ModulationMode.MODULATION_MODE_TIME_DIVISION;
    this.leds = (wire.leds ?? []).map((l) => {
      const board = info.leds.find((b) => b.id === (l.channel ?? 0));
      return {
        channel: l.channel ?? 0,
        wavelengthNm: board?.wavelengthNm ?? 0,
        limitMa: (pulsed ? board?.maxCurrentPulsedMa : board?.maxCurrentContinuousMa) ?? 0,
        ...(l.currentMa != null ? { configuredMa: l.currentMa } : {}),
        ...(l.powerUw != null ? { configuredUw: l.powerUw } : {}),
        calibrated: Boolean(board?.calibrated),
        ...(l.carrierHz ? { carrierHz: l.carrierHz } : {}),
      };
    });
    this.clock = new ClockFit({ deviceTicksHz: this.sampleRateHz || 1, capacity: 256 });
    const analysisOptions = options.analysis ?? {};
    // possible at all with these channels (which blood-volume channel: chosen from the data after the warm-up)
    const possible = planLiveCorrection(this.signalChannels, this.signalRateHz, analysisOptions);
    if (possible) {
      this.liveDff = new LiveCorrection(this.signalChannels, this.signalRateHz, analysisOptions);
      this.dff = new SampleRing(1, historyS * this.liveDff.rateHz + 1);
    }
    const sleepPlan = this.auxRateHz >= 64 ? planLiveSleep(this.auxChannels) : null;
    if (sleepPlan) this.liveSleep = new LiveSleep(sleepPlan, this.auxRateHz, analysisOptions);
    this.maxEpochs = Math.ceil(historyS / (this.liveSleep?.epochS ?? 4)) + 1;
    this.analysis = {
      dff: this.liveDff ? { rateHz: this.liveDff.rateHz, unit: 'ΔF/F %', warmupS: analysisOptions.correctionWarmupS ?? 30 } : null,
      sleep: sleepPlan && this.liveSleep ? { epochS: this.liveSleep.epochS, eeg: this.auxChannels[sleepPlan.eeg]!.name, emg: this.auxChannels[sleepPlan.emg]!.name } : null,
    };
    this.snapshot = { status: this.statusView(Date.now()), warnings: [] };

    this.subscriptions.push(
      rig.acquisition$.subscribe({ next: (item) => this.guard(() => this.onItem(item)), error: (e: Error) => { this.failure = e.message; } }),
      rig.digitalEvents$.subscribe((e) => this.guard(() => this.onDigital(e))),
      rig.ledEvents$.subscribe((e) => this.guard(() => this.onLed(e))),
      rig.status$.subscribe((status) => { this.lastStatus = { ms: Date.now(), status }; }),
      rig.heartbeats$.subscribe((h) => this.guard(() => {
        if (h.running) this.clock.add({ deviceTicks: h.sessionIndex, hostSendUs: h.hostSendUs, hostRecvUs: h.hostReceiveUs, deviceQueuedUs: h.replyQueuedUs });
      })),
    );
    // after acquisition$: an item restarts the timeline (restart()) before its signals arrive
    this.sharedSignals = false;
    if (options.signals) this.useSignals(options.signals);
  }

  /**
   * From now on shows the signals of a demodulation another runs (a recording's, shared), or —
   * undefined — demodulates on its own again, from the next acquisition item. Switch between a
   * Stop and the next Start: each demodulation starts with its acquisition.
   */
  useSignals(signals: Observable<SignalBlock> | undefined): void {
    this.shared?.unsubscribe();
    this.shared = undefined;
    this.demod = undefined;
    this.sharedSignals = signals !== undefined;
    if (!signals) return;
    this.shared = signals.subscribe({
      next: (block) => this.guard(() => this.onSignals(block)),
      error: (e: Error) => { this.failure = `live view cannot demodulate: ${e.message}`; },
    });
  }

  /** Completes when the Rig closes (its streams complete). */
  onRigClosed(callback: () => void): void {
    this.subscriptions.push(this.rig.status$.subscribe({ complete: callback }));
  }

  close(): void {
    for (const s of this.subscriptions) s.unsubscribe();
    this.subscriptions.length = 0;
    this.shared?.unsubscribe();
    this.shared = undefined;
  }

  // a display bug must never become an error on the Rig's streams (RxJS would rethrow it asynchronously)
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.failure = `live view: ${(error as Error).message}`;
    }
  }

  private restart(): void {
    this.generation++;
    this.demod = undefined;
    this.signals.reset();
    this.aux?.reset();
    this.scope.reset();
    this.events.length = 0;
    this.next = { detector: 0, aux: 0 };
    this.gaps = 0;
    this.lastGap = undefined;
    this.lastLight = undefined;
    this.clock = new ClockFit({ deviceTicksHz: this.sampleRateHz || 1, capacity: 256 });
    this.driftPpm = null;
    this.liveDff?.reset();
    this.dff?.reset();
    this.liveSleep?.reset();
    this.epochs = [];
    this.epochFirst = 0;
  }

  private onItem(item: AcquisitionItem): void {
    if (item.kind === 'light') {
      // a marker, not samples: the demodulator below makes the signals NaN over the span
      this.lastLight = { ms: Date.now(), marker: item };
    } else {
      // the session timeline restarts at 0 with every new acquisition
      if (item.sessionIndex < this.next[item.source]) this.restart();
      this.next[item.source] = item.sessionIndex + (item.kind === 'gap' ? item.count : item.sampleCount);
    }
    if (item.kind === 'gap') {
      this.gaps++;
      this.lastGap = { ms: Date.now(), text: `${item.count} ${item.source} samples missing (${item.reason}${item.estimated ? `, ±${item.uncertaintySamples} samples` : ''})` };
      // a new run (reconnect, reset): its drift is fitted on its own
      if (item.reason !== 'missing-blocks' && item.source === 'detector') this.clock.reset();
    } else if (item.kind === 'block') {
      this.onRaw(item);
    }
    if (this.demodFailed || this.sharedSignals) return;
    try {
      this.demod ??= new SignalDemodulator(this.wire, this.rig.info, this.demodOptions);
      for (const block of this.demod.push(item)) this.onSignals(block);
    } catch (error) {
      this.demodFailed = true;
      this.failure = `live view cannot demodulate: ${(error as Error).message}`;
    }
  }

  private onRaw(block: RigBlock): void {
    const ch = block.channelIds.length;
    if (block.source === 'detector') {
      this.detectorSamples += block.sampleCount;
      if (ch === this.scope.channelCount) this.scope.push(block.samples, block.sampleCount, block.sessionIndex + block.sampleCount);
      const range = codeRangeOf(block.samples, this.detectorBits[0] ?? 16);
      if (range && ch === this.detectorRange.meter.channelCount) this.detectorRange.meter.add(block.samples, block.sampleCount, range, !(block.samples instanceof Uint16Array));
    } else {
      const range = codeRangeOf(block.samples, this.auxBits[0] ?? 16);
      if (range && ch === this.auxRange.meter.channelCount) this.auxRange.meter.add(block.samples, block.sampleCount, range, !(block.samples instanceof Uint16Array));
    }
  }

  private onSignals(block: SignalBlock): void {
    if (block.stream === 'signals') {
      this.signals.write(block.firstIndex, block.values, block.count, this.signalScales);
      if (this.liveDff && this.dff) {
        this.liveDff.push(block.firstIndex, block.values, block.count);
        const c = this.liveDff.take();
        if (c) this.dff.write(c.firstIndex, [c.dffPercent], c.dffPercent.length);
      }
    } else {
      this.aux?.write(block.firstIndex, block.values, block.count, this.auxScales);
      if (this.liveSleep) {
        this.liveSleep.push(block.firstIndex, block.values, block.count);
        const c = this.liveSleep.take();
        if (c) {
          if (this.epochs.length === 0) this.epochFirst = c.firstEpoch;
          // epochs arrive in order; a gap in between reads 'unknown'
          while (this.epochFirst + this.epochs.length < c.firstEpoch) this.epochs.push('unknown');
          this.epochs.push(...c.states);
          if (this.epochs.length > this.maxEpochs) {
            const drop = this.epochs.length - this.maxEpochs;
            this.epochs.splice(0, drop);
            this.epochFirst += drop;
          }
        }
      }
    }
  }

  private pushEvent(event: Omit<LiveEvent, 'seq'>): void {
    this.events.push({ seq: ++this.eventSeq, ...event });
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
  }

  private onDigital(e: TimedDigitalEvent): void {
    const timerHz = this.rig.info.timerClockHz || 1;
    this.pushEvent({ kind: 'digital', tS: e.sessionIndex / (this.sampleRateHz || 1) + e.subsampleTicks / timerHz, line: e.line, rising: e.edge === 1 });
  }

  private onLed(e: TimedLedEvent): void {
    this.pushEvent({ kind: 'led', tS: e.sessionIndex / (this.sampleRateHz || 1), channel: e.channel, currentMa: e.currentMa, powerUw: e.powerUw });
  }

  /** Once per display frame: the parts every page gets (status, warnings, raw view). */
  tick(nowMs = Date.now()): void {
    this.ticks++;
    this.rateHistory.push({ ms: nowMs, samples: this.detectorSamples });
    while (this.rateHistory.length > 2 && nowMs - this.rateHistory[0]!.ms > 2000) this.rateHistory.shift();
    if (this.ticks % 20 === 1 && this.clock.observationCount >= 8) {
      const fit = this.clock.fit;
      this.driftPpm = fit ? fit.driftPpm : null;
    }
    const warnings: Warning[] = [];
    this.rangeWarnings(this.detectorRange, this.rawChannels.map((c) => c.label), nowMs, warnings);
    this.rangeWarnings(this.auxRange, this.auxChannels.map((c) => c.label), nowMs, warnings);
    const status = this.statusView(nowMs);
    if (this.lastGap && nowMs - this.lastGap.ms < WARNING_HOLD_MS) warnings.push({ level: 'error', text: `GAP: ${this.lastGap.text}` });
    const light = this.lastLight;
    if (light && (!light.marker.lit || nowMs - light.ms < LIGHT_HOLD_MS)) {
      warnings.push({ level: light.marker.lit ? 'warn' : 'error', text: describeLight(light.marker, this.sampleRateHz) });
    }
    if (!status.connected) warnings.push({ level: 'error', text: 'device link down (reconnecting)' });
    if (status.running && status.darkReason !== 'none' && status.darkReason !== 'unknown') warnings.push({ level: 'error', text: `LEDs dark: ${status.darkReason}` });
    if (status.bufferFillPct !== null && status.bufferFillPct > 50) warnings.push({ level: 'warn', text: `device buffer ${status.bufferFillPct.toFixed(0)}% full` });
    if (status.deviceDroppedSamples > 0) warnings.push({ level: 'error', text: `device dropped ${status.deviceDroppedSamples} samples` });
    if (this.failure) warnings.push({ level: 'error', text: this.failure });
    if (this.liveDff?.error) warnings.push({ level: 'warn', text: `live ΔF/F: ${this.liveDff.error}` });
    if (this.liveSleep?.error) warnings.push({ level: 'warn', text: `live sleep state: ${this.liveSleep.error}` });
    const fullScale = this.detectorBits.map((b) => 2 ** b - 1);
    this.snapshot = {
      status,
      warnings,
      ...(this.scope.endIndex > 0
        ? { raw: { tS: this.scope.endIndex / (this.sampleRateHz || 1), y: this.scope.snapshot((v, c) => Math.round((v / fullScale[c]!) * 10000) / 100) } }
        : {}),
    };
  }

  private rangeWarnings(state: RangeState, labels: string[], nowMs: number, out: Warning[]): void {
    const readings = state.meter.take();
    readings.forEach((r, c) => {
      if (r.total > 0) {
        if (r.clipped > 0) {
          state.lastClipMs[c] = nowMs;
          state.clipPct[c] = (100 * r.clipped) / r.total;
        }
        if (r.peakFraction >= NEAR_FULL_SCALE) {
          state.lastNearMs[c] = nowMs;
          state.peakPct[c] = 100 * r.peakFraction;
        }
      }
      const label = labels[c] ?? `ch${c}`;
      if (nowMs - state.lastClipMs[c]! < WARNING_HOLD_MS) out.push({ level: 'error', text: `CLIPPING ${label}: ${state.clipPct[c]!.toFixed(2)}% of samples at the ADC rail` });
      else if (nowMs - state.lastNearMs[c]! < WARNING_HOLD_MS) out.push({ level: 'warn', text: `near saturation ${label}: peak ${state.peakPct[c]!.toFixed(1)}% of full scale` });
    });
  }

  private statusView(nowMs: number): StatusView {
    const health = this.rig.linkHealth();
    const s = this.lastStatus?.status;
    const first = this.rateHistory[0];
    const last = this.rateHistory.at(-1);
    const receivedRateHz = first && last && last.ms > first.ms ? ((last.samples - first.samples) * 1000) / (last.ms - first.ms) : 0;
    const fr = s?.framesRejected;
    return {
      running: s ? Boolean(s.running) : false,
      connected: health.connected,
      acquiring: this.rig.running,
      configuredRateHz: this.sampleRateHz,
      receivedRateHz,
      sessionS: this.next.detector / (this.sampleRateHz || 1),
      bufferFillPct: s ? 100 * s.bufferFill : null,
      blocksDropped: s ? Number(s.blocksDropped) : 0,
      deviceDroppedSamples: health.deviceReportedDroppedSamples,
      hostMissingSamples: health.hostDetectedMissingSamples,
      gaps: this.gaps,
      framesRejectedDevice: fr ? fr.crc + fr.oversize + fr.cobs + fr.decode : 0,
      framesRejectedHost: health.framesRejected.crc + health.framesRejected.oversize + health.framesRejected.cobs + health.framesRejected.decode,
      heartbeatAgeMs: s ? s.heartbeatAgeMs : null,
      heartbeatRoundTripMs: health.lastHeartbeatRoundTripMs ?? null,
      darkReason: s ? (DARK_NAMES[s.darkReason] ?? 'unknown') : 'unknown',
      temperatureC: s ? s.temperatureC : null,
      clockDriftPpm: this.driftPpm,
      reconnects: health.reconnects,
      leds: (s?.leds ?? []).map((l) => ({ channel: l.channel, currentMa: l.currentMa, powerUw: l.powerUw })),
      statusAgeMs: this.lastStatus ? nowMs - this.lastStatus.ms : null,
    };
  }

  newView(windowS: number): ClientView {
    return { windowS, generation: this.generation, signalsCursor: undefined, auxCursor: undefined, dffCursor: undefined, epochCursor: undefined, eventSeq: 0 };
  }

  /** A new window: the next frame resends the history at the new resolution. */
  setWindow(view: ClientView, windowS: number): void {
    view.windowS = windowS;
    view.signalsCursor = undefined;
    view.auxCursor = undefined;
    view.dffCursor = undefined;
    view.epochCursor = undefined;
    view.eventSeq = 0;
  }

  /** The next frame for one page; advances its cursors. */
  frameFor(view: ClientView, seq: number, recording: RecordingView): FrameMessage {
    const frame: FrameMessage = { type: 'frame', seq, ...this.snapshot, recording };
    if (view.generation !== this.generation) {
      frame.reset = true;
      view.generation = this.generation;
      view.signalsCursor = undefined;
      view.auxCursor = undefined;
      view.dffCursor = undefined;
      view.epochCursor = undefined;
      view.eventSeq = 0;
    }
    const signals = this.series(this.signals, this.signalRateHz, view.windowS, view.signalsCursor);
    if (signals) {
      view.signalsCursor = signals.cursor;
      if (signals.chunk.x.length > 0) frame.signals = signals.chunk;
    }
    if (this.aux) {
      const aux = this.series(this.aux, this.auxRateHz, view.windowS, view.auxCursor);
      if (aux) {
        view.auxCursor = aux.cursor;
        if (aux.chunk.x.length > 0) frame.aux = aux.chunk;
      }
    }
    if (this.dff && this.liveDff?.plan) {
      const dff = this.series(this.dff, this.liveDff.rateHz, view.windowS, view.dffCursor);
      if (dff) {
        view.dffCursor = dff.cursor;
        if (dff.chunk.x.length > 0) {
          const { sensor, control, bloodVolume, method } = this.liveDff.plan;
          frame.dff = { ...dff.chunk, sensor, control, bloodVolume, method };
        }
      }
    }
    if (this.liveSleep && this.epochs.length > 0) {
      const epochS = this.liveSleep.epochS;
      const end = this.epochFirst + this.epochs.length;
      const oldest = Math.max(this.epochFirst, Math.floor((end * epochS - view.windowS) / epochS));
      const from = Math.max(view.epochCursor ?? oldest, oldest);
      if (from < end) frame.sleep = { firstEpoch: from, epochS, states: this.epochs.slice(from - this.epochFirst) };
      view.epochCursor = end;
    }
    const fromS = this.signals.head / (this.signalRateHz || 1) - view.windowS;
    const events = this.events.filter((e) => e.seq > view.eventSeq && e.tS >= fromS);
    if (events.length > 0) frame.events = events;
    view.eventSeq = this.eventSeq;
    return frame;
  }

  private series(ring: SampleRing, rateHz: number, windowS: number, cursor: number | undefined): { cursor: number; chunk: SeriesChunk } | undefined {
    if (ring.empty || rateHz <= 0) return undefined;
    const bucket = bucketFor(windowS, rateHz, this.targetPoints);
    const oldest = Math.ceil(Math.max(ring.tail, ring.head - windowS * rateHz) / bucket) * bucket;
    const from = Math.max(cursor ?? oldest, oldest);
    const chunk: SeriesChunk = { x: [], y: Array.from({ length: ring.channelCount }, () => []) };
    return { cursor: bucketMinMax(ring, from, ring.head, bucket, rateHz, chunk), chunk };
  }
}
