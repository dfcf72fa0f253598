// One unit: one acquisition serves every self-test measurement; splitting it would split that shared run.
// `runSelfTest(url)`: the bring-up report of a fiberrig device. It opens the
// device, makes the measurements and hands them to the judgements in
// checks.ts. One acquisition (CONTINUOUS, every detector at up to 1 kS/s,
// every LED at 0 mA, the sync output pulsing, every digital input captured)
// serves every check:
//
//   handshake        Hello answered, protocol compatible, firmware version
//   device.*         the device's own SelfTest items
//   detector.N.*     offset, dark noise (mains flicker removed) and headroom, LEDs off
//   led.N            each LED stepped 0, 1/8, 1/4, 1/2 of its continuous limit: the
//                    level must rise monotonically on some detector. Needs the fiber
//                    on a reference target that fluoresces under every LED (in the
//                    simulator: sim://steps; sim://dark, a capped fiber, is too dim at 560/630 nm)
//   sample_rate      device sample counter against the host's monotonic clock, from
//                    heartbeat round trips over `rateSeconds` (real-time devices only)
//   frames           frames rejected (host and device side) per frame received
//   digital_loopback sync-out pulses seen on a digital input (when wired)
//   watchdog         heartbeats paused: the device must darken the LEDs, and the
//                    detector must return to its dark level
//
// Analog checks a target cannot make are N/A: when the device's own self-test
// calls its ADC untestable (a simulated, host-built or emulated front end),
// a noise-free constant dark level makes the noise line N/A, and a target
// where nothing ever moves makes every LED and detector line N/A. So is
// everything with `analog: 'off'`.
import { performance } from 'node:perf_hooks';
import type { Subscription } from 'rxjs';
import { type AcquisitionConfigInit, DarkReason, DigitalDirection, Edge, ModulationMode, SelfTestOutcome, type Status } from '../../protocol/index.ts';
import { DeviceError } from '../link/errors.ts';
import { Rig, type RigOptions, type TimedLedEvent } from '../rig/rig.ts';
import {
  type DetectorDesc, deviceItemLines, frameLine, handshakeLine, headroomLine, isSaturated, type LadderPeak, ledLine, type LedLadder, loopbackLine,
  maxCodeOf, noiseLine, offsetLine, sampleRateLine, watchdogLine, type WatchdogResult,
} from './checks.ts';
import { DEFAULT_LIMITS, type SelfTestLimits } from './limits.ts';
import { SampleStore } from './samples.ts';
import { fitTickRate, type WindowStats, windowStats } from './stats.ts';
import { overallOutcome, type SelfTestLine, type SelfTestReport } from './types.ts';

export interface SelfTestOptions {
  /** The digital input the builder wired the sync output to: the loopback line FAILs if the pulses do not arrive there. */
  loopbackLine?: number;
  /** Host seconds of the sample-rate measurement (it runs alongside the other checks). Default 3. */
  rateSeconds?: number;
  /** 'off' skips the analog checks (LEDs, detectors), reporting them N/A. Default 'auto'. */
  analog?: 'auto' | 'off';
  limits?: Partial<SelfTestLimits>;
  rigOptions?: RigOptions;
  /** Progress messages (the CLI shows them on stderr). */
  onProgress?: (message: string) => void;
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const nowS = (): number => performance.now() / 1000;

/** Runs every check against the device at `url` and returns the report (never throws for a device fault). */
export async function runSelfTest(url: string, options: SelfTestOptions = {}): Promise<SelfTestReport> {
  const started = performance.now();
  const limits: SelfTestLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const progress = options.onProgress ?? ((): void => undefined);
  const lines: SelfTestLine[] = [];
  const report = (info?: Rig['info']): SelfTestReport => ({
    device: url,
    firmware: info ? `${info.firmwareName} ${info.firmwareVersion}` : undefined,
    board: info?.boardModel,
    serialNumber: info?.serialNumber,
    lines,
    outcome: overallOutcome(lines),
    durationMs: Math.round(performance.now() - started),
  });

  progress(`opening ${url}`);
  let rig: Rig;
  try {
    rig = await Rig.connect(url, { requestTimeoutMs: 1000, retries: 1, reconnect: false, hostName: 'fiberrig selftest', ...options.rigOptions });
  } catch (error) {
    lines.push(handshakeLine({ ok: false, error: errorText(error) }));
    lines.push({ id: 'checks', title: 'everything else', outcome: 'N/A', detail: 'not run: no handshake' });
    return report();
  }
  try {
    const info = rig.info;
    const p = info.protocol;
    lines.push(handshakeLine({
      ok: true, protocol: `${p?.major ?? 0}.${p?.minor ?? 0}`, firmware: `${info.firmwareName} ${info.firmwareVersion}`, board: info.boardModel, serial: info.serialNumber, buildId: info.buildId,
    }));
    await new Session(rig, limits, options, progress, lines).run();
    return report(info);
  } finally {
    await rig.close().catch(() => undefined);
  }
}

class Session {
  private readonly subscriptions: Subscription[] = [];
  private received = 0;
  private lastStatus: Status | undefined;
  private spuriousTrips = 0;
  private watchdogArmed = false;
  private readonly rises = new Map<number, number[]>();
  private readonly ledEvents: Array<TimedLedEvent & { hostS: number }> = [];

  constructor(
    private readonly rig: Rig,
    private readonly limits: SelfTestLimits,
    private readonly options: SelfTestOptions,
    private readonly progress: (message: string) => void,
    private readonly lines: SelfTestLine[],
  ) {}

  async run(): Promise<void> {
    const { rig, limits, lines } = this;
    const info = rig.info;

    // the device's own self-test (before the watchdog is tripped on purpose)
    let adcNotApplicable = false;
    try {
      const own = await rig.selfTest();
      this.received++;
      lines.push(...deviceItemLines(own.items));
      adcNotApplicable = own.items.some((i) => i.name === 'adc' && i.outcome === SelfTestOutcome.SELF_TEST_OUTCOME_NOT_APPLICABLE);
    } catch (error) {
      const unsupported = error instanceof DeviceError && (error.deviceCode === 'UNKNOWN_COMMAND' || error.deviceCode === 'UNSUPPORTED');
      lines.push({ id: 'device', title: 'device self-test', outcome: unsupported ? 'N/A' : 'WARN', detail: unsupported ? 'the firmware has no built-in self-test' : errorText(error) });
    }

    const detectors: DetectorDesc[] = info.detectors.map((d) => ({ id: d.id, label: d.label, adcBits: d.adcBits, fullScaleV: d.fullScaleV }));
    const maxRateHz = Math.min(info.maxSampleRateHz || 1000, ...info.detectors.map((d) => d.maxRateHz || Number.POSITIVE_INFINITY));
    const rateHz = Math.max(1, Math.min(1000, maxRateHz));
    const blockSamples = Math.max(1, Math.min(info.maxBlockSamples || 1024, Math.round(rateHz / 50)));
    const inputs = info.digitalLines.filter((l) => l.direction === DigitalDirection.DIGITAL_DIRECTION_INPUT);
    const output = info.digitalLines.find((l) => l.direction === DigitalDirection.DIGITAL_DIRECTION_OUTPUT);
    const syncPeriod = Math.max(2, Math.round(rateHz / 10));
    const config: AcquisitionConfigInit = {
      mode: ModulationMode.MODULATION_MODE_CONTINUOUS,
      sampleRateHz: rateHz,
      leds: info.leds.map((l) => ({ channel: l.id, currentMa: 0 })),
      detectorIds: detectors.map((d) => d.id),
      oversampling: 1,
      digitalInputIds: inputs.map((l) => l.id),
      ...(output ? { syncOut: { enabled: true, line: output.id, periodSamples: syncPeriod, pulseSamples: Math.max(1, Math.floor(syncPeriod / 2)) } } : {}),
      blockSamples,
      heartbeatTimeoutMs: limits.watchdogTimeoutMs,
    };
    const runTitle = 'measurements';
    if (detectors.length === 0) {
      lines.push({ id: runTitle, title: runTitle, outcome: 'FAIL', detail: 'the device reports no detector' });
      return;
    }
    try {
      await rig.configure(config);
      this.received++;
    } catch (error) {
      const unsupported = error instanceof DeviceError && error.deviceCode === 'UNSUPPORTED';
      lines.push({ id: runTitle, title: runTitle, outcome: unsupported ? 'N/A' : 'FAIL', detail: `not run: the device refused the self-test acquisition (CONTINUOUS, ${rateHz} S/s): ${errorText(error)}` });
      return;
    }

    const store = new SampleStore(detectors.map((d) => d.id));
    this.subscribe(store);
    this.progress(`acquiring: ${rateHz} S/s, ${detectors.length} detectors, ${info.leds.length} LEDs`);
    try {
      await rig.start();
      this.received++;
    } catch (error) {
      lines.push({ id: runTitle, title: runTitle, outcome: 'FAIL', detail: `not run: the device did not start: ${errorText(error)}` });
      return;
    }
    this.watchdogArmed = true;

    const sampler = this.sampleRate(rateHz, this.options.rateSeconds ?? 3);
    const settle = Math.max(1, Math.round(rateHz * 0.01));
    const windowN = Math.max(10, Math.round(rateHz * 0.1)); // 100 ms: whole periods of 100/120 Hz flicker
    const timeoutMs = (n: number): number => 3000 + (5000 * n) / rateHz;

    let analogLines: SelfTestLine[] = [];
    let watchdogPick: { ledId: number; detectorIndex: number; darkMean: number } | undefined;
    let analogUsable = false;
    if (this.options.analog === 'off') {
      analogLines = [{ id: 'analog', title: 'LEDs and detectors', outcome: 'N/A', detail: 'skipped (analog checks off)' }];
    } else {
      try {
        const analog = await this.analogChecks(store, detectors, rateHz, settle, windowN, timeoutMs, adcNotApplicable);
        analogLines = analog.lines;
        watchdogPick = analog.watchdogPick;
        analogUsable = analog.usable;
      } catch (error) {
        analogLines = [{ id: 'analog', title: 'LEDs and detectors', outcome: 'FAIL', detail: errorText(error) }];
      }
    }
    lines.push(...analogLines);

    const fit = await sampler;
    lines.push(sampleRateLine(fit, rateHz, limits));

    // digital loopback over everything received so far (leave the last two blocks' events in flight)
    const lastIndex = store.next - 2 * blockSamples;
    const expectedRises: number[] = [];
    for (let k = 1; k * syncPeriod < lastIndex; k++) expectedRises.push(k * syncPeriod);
    lines.push(loopbackLine({
      output: output ? { id: output.id, label: output.label } : undefined,
      inputs: inputs.map((l) => ({ id: l.id, label: l.label, rises: this.rises.get(l.id) ?? [] })),
      expectedRises,
      requiredLine: this.options.loopbackLine,
    }, limits));

    // the watchdog last: it darkens the LEDs on purpose
    this.progress('watchdog: pausing heartbeats');
    try {
      lines.push(watchdogLine(await this.watchdog(store, detectors, rateHz, settle, windowN, timeoutMs, analogUsable ? watchdogPick : undefined), limits));
    } catch (error) {
      rig.resumeHeartbeats();
      lines.push({ id: 'watchdog', title: 'watchdog darkens LEDs when heartbeats stop', outcome: 'FAIL', detail: `not completed: ${errorText(error)}` });
    }

    const health = rig.linkHealth();
    lines.push(frameLine({
      received: this.received,
      hostRejected: health.framesRejected,
      deviceRejected: this.lastStatus ? Object.values(this.lastStatus.framesRejected ?? {}).reduce((a: number, b) => a + Number(b), 0) : undefined,
      timeouts: health.timeouts,
    }, limits));
    for (const s of this.subscriptions) s.unsubscribe();
    await rig.stop().catch(() => undefined);
  }

  private subscribe(store: SampleStore): void {
    const { rig } = this;
    this.subscriptions.push(
      rig.acquisition$.subscribe({
        next: (item) => {
          if (item.kind !== 'block') return;
          this.received++;
          store.push(item);
        },
        error: (error: unknown) => store.fail(error instanceof Error ? error : new Error(String(error))),
        complete: () => store.fail(new Error('the device stream ended')),
      }),
      rig.status$.subscribe((s) => {
        this.received++;
        this.lastStatus = s;
        if (this.watchdogArmed && s.darkReason === DarkReason.DARK_REASON_HEARTBEAT_TIMEOUT) this.spuriousTrips++;
      }),
      rig.digitalEvents$.subscribe((e) => {
        this.received++;
        if (e.edge !== Edge.EDGE_RISING) return;
        const list = this.rises.get(e.line) ?? [];
        list.push(e.sampleIndex);
        this.rises.set(e.line, list);
      }),
      rig.ledEvents$.subscribe((e) => {
        this.received++;
        this.ledEvents.push({ ...e, hostS: nowS() });
      }),
      rig.logs$.subscribe(() => {
        this.received++;
      }),
      rig.heartbeats$.subscribe(() => {
        this.received++;
      }),
    );
  }

  /** Heartbeat round trips against the host's monotonic clock, alongside the other checks. */
  private async sampleRate(rateHz: number, seconds: number): Promise<ReturnType<typeof fitTickRate>> {
    const hostS: number[] = [];
    const ticks: number[] = [];
    const begin = nowS();
    for (;;) {
      const reply = await this.rig.command({ heartbeat: { hostTimeUs: Date.now() * 1000 } }).catch(() => undefined);
      const recvS = nowS();
      if (reply) this.received++;
      const ack = reply?.heartbeatAck;
      if (ack?.running) {
        hostS.push(recvS - begin);
        ticks.push(Number(ack.sampleIndex));
      }
      const elapsed = recvS - begin;
      if (elapsed >= seconds) break;
      if (elapsed >= 0.5 && hostS.length >= 8) {
        const quick = fitTickRate(hostS, ticks);
        // not a real-time device: no point measuring longer
        if (quick && Math.abs(quick.ticksPerSecond / rateHz - 1) > 4 * this.limits.rateImplausibleFraction) break;
      }
      await sleep(20);
    }
    return fitTickRate(hostS, ticks);
  }

  private async analogChecks(
    store: SampleStore, detectors: DetectorDesc[], rateHz: number, settle: number, windowN: number, timeoutMs: (n: number) => number, adcNotApplicable: boolean,
  ): Promise<{ lines: SelfTestLine[]; usable: boolean; watchdogPick: { ledId: number; detectorIndex: number; darkMean: number } | undefined }> {
    const { rig, limits } = this;
    const info = rig.info;
    const stats = (w: Float64Array, d: DetectorDesc): WindowStats => windowStats(w, rateHz, maxCodeOf(d));

    this.progress('detectors: dark level and noise (LEDs off)');
    const darkN = Math.max(windowN, Math.round(rateHz * 0.3));
    const darkFrom = Math.max(store.next, Math.round(rateHz * 0.05));
    const darkWindows = await store.window(darkFrom, darkN, timeoutMs(darkFrom + darkN));
    const dark = darkWindows.map((w, i) => stats(w, detectors[i]!));
    const lo = dark.map((s) => s.min);
    const hi = dark.map((s) => s.max);
    const usableIdx = detectors.map((_, i) => i).filter((i) => dark[i]!.count > 0 && !isSaturated(dark[i]!, maxCodeOf(detectors[i]!), limits));

    const peaks: LadderPeak[][] = detectors.map(() => []);
    const ladders: LedLadder[] = [];
    const ladderWindows: WindowStats[][][] = [];
    for (const led of info.leds) {
      this.progress(`LED ${led.id} (${led.wavelengthNm} nm): current ladder`);
      const currents = limits.ledLadder.map((f) => f * led.maxCurrentContinuousMa);
      const perDetector: WindowStats[][] = detectors.map(() => []);
      for (const currentMa of currents) {
        const at = await rig.setLed(led.id, { currentMa });
        this.received++;
        const from = Math.max(at, store.next) + settle;
        const windows = await store.window(from, windowN, timeoutMs(windowN + settle));
        windows.forEach((w, i) => {
          const s = stats(w, detectors[i]!);
          perDetector[i]!.push(s);
          peaks[i]!.push({ ledId: led.id, currentMa, max: s.max, clipped: s.atMax });
          lo[i] = Math.min(lo[i]!, s.min);
          hi[i] = Math.max(hi[i]!, s.max);
        });
      }
      await rig.setLed(led.id, { currentMa: 0 });
      this.received++;
      ladderWindows.push(perDetector);
      ladders.push({
        led: { id: led.id, wavelengthNm: led.wavelengthNm },
        currentsMa: currents,
        detectors: usableIdx.map((i) => ({ detector: detectors[i]!, windows: perDetector[i]! })),
      });
    }

    // an emulated target without an analog front end: it says its ADC cannot be tested, and nothing ever moves
    const constant = detectors.every((_, i) => Number.isFinite(lo[i]!) && lo[i] === hi[i]);
    if (adcNotApplicable && constant) {
      const reason = `not applicable on this target: the device calls its ADC untestable and every detector reads one constant code (${dark.map((s) => s.mean).join(', ')}) whatever the LEDs do`;
      return {
        usable: false, watchdogPick: undefined,
        lines: [
          ...detectors.flatMap((d) => (['offset', 'noise', 'headroom'] as const).map((k) => ({ id: `detector.${d.id}.${k}`, title: `detector ${d.id} ${k}`, outcome: 'N/A' as const, detail: reason }))),
          ...info.leds.map((l) => ({ id: `led.${l.id}`, title: `LED ${l.id} (${l.wavelengthNm} nm) responds`, outcome: 'N/A' as const, detail: reason })),
        ],
      };
    }
    const out: SelfTestLine[] = [];
    detectors.forEach((d, i) => {
      out.push(offsetLine(d, dark[i]!, limits), noiseLine(d, dark[i]!, rateHz, limits, adcNotApplicable), headroomLine(d, dark[i]!, peaks[i]!, limits));
    });
    const ledLines = ladders.map((l) => ledLine(l, limits));
    out.push(...ledLines);

    // the watchdog watches the LED that responded best, on its best detector
    let pick: { ledId: number; detectorIndex: number; darkMean: number; score: number } | undefined;
    ladders.forEach((ladder, k) => {
      if (ledLines[k]!.outcome !== 'PASS') return;
      for (const i of usableIdx) {
        const ws = ladderWindows[k]![i]!;
        const first = ws[0];
        const target = ws[Math.min(2, ws.length - 1)];
        if (!first || !target || target.atMax > 0) continue;
        const score = (target.mean - first.mean) / (Math.hypot(first.meanStdError, target.meanStdError) || 1e-9);
        if (!pick || score > pick.score) pick = { ledId: ladder.led.id, detectorIndex: i, darkMean: first.mean, score };
      }
    });
    return { lines: out, usable: true, watchdogPick: pick };
  }

  private async watchdog(
    store: SampleStore, detectors: DetectorDesc[], rateHz: number, settle: number, windowN: number, timeoutMs: (n: number) => number,
    pick: { ledId: number; detectorIndex: number; darkMean: number } | undefined,
  ): Promise<WatchdogResult> {
    const { rig, limits } = this;
    const info = rig.info;
    const led = info.leds.find((l) => l.id === pick?.ledId) ?? info.leds[0];
    const result: WatchdogResult = { timeoutMs: limits.watchdogTimeoutMs, darkAfterMs: undefined, waitedMs: 0, darkFromSample: undefined, spuriousTrips: this.spuriousTrips };
    if (!led) return { ...result, darkAfterMs: 0 };
    const currentMa = (limits.ledLadder[Math.min(2, limits.ledLadder.length - 1)] ?? 0.25) * led.maxCurrentContinuousMa;
    const at = await rig.setLed(led.id, { currentMa });
    this.received++;
    let litMean: number | undefined;
    if (pick) {
      const w = await store.window(Math.max(at, store.next) + settle, windowN, timeoutMs(windowN + settle));
      litMean = windowStats(w[pick.detectorIndex]!, rateHz, maxCodeOf(detectors[pick.detectorIndex]!)).mean;
    }
    this.watchdogArmed = false;
    const pausedS = nowS();
    const seen = this.ledEvents.length;
    rig.pauseHeartbeats();
    const deadlineS = pausedS + (limits.watchdogTimeoutMs * limits.watchdogLateFactor + 2000) / 1000;
    let darkEvent: (TimedLedEvent & { hostS: number }) | undefined;
    let statusDarkS: number | undefined;
    const statusSub = rig.status$.subscribe((s) => {
      if (s.darkReason === DarkReason.DARK_REASON_HEARTBEAT_TIMEOUT) statusDarkS ??= nowS();
    });
    try {
      while (nowS() < deadlineS) {
        darkEvent = this.ledEvents.slice(seen).find((e) => e.channel === led.id && e.currentMa === 0);
        if (darkEvent || statusDarkS !== undefined) break;
        await sleep(10);
      }
    } finally {
      statusSub.unsubscribe();
    }
    const darkS = darkEvent?.hostS ?? statusDarkS;
    result.waitedMs = (nowS() - pausedS) * 1000;
    if (darkS !== undefined) {
      result.darkAfterMs = (darkS - pausedS) * 1000;
      result.darkFromSample = darkEvent?.sampleIndex;
      if (pick && litMean !== undefined) {
        const from = Math.max(darkEvent?.sampleIndex ?? store.next, 0) + settle;
        const w = await store.window(from, windowN, timeoutMs(windowN + settle)).catch(() => undefined);
        if (w) {
          const after = windowStats(w[pick.detectorIndex]!, rateHz, maxCodeOf(detectors[pick.detectorIndex]!)).mean;
          result.level = { detector: detectors[pick.detectorIndex]!, litMean, afterMean: after, darkMean: pick.darkMean };
        }
      }
    }
    rig.resumeHeartbeats();
    await rig.setLed(led.id, { currentMa: 0 }).catch(() => undefined); // re-arms the watchdog
    this.received++;
    return result;
  }
}
