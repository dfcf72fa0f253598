// One unit: `fiberrig agent` — one rig on the lab's broker. It holds the device open, keeps
// the rig's entry in the fleet bucket fresh (the bucket's TTL removes a dead agent's entry),
// answers commands on fiberrig.rig.<rig>.cmd, records each session locally first through the
// Recorder (exactly as `fiberrig acquire`: DIR/<session>/raw.fjl, session.json, derived
// files), mirrors its raw log into the raw stream (mirror.ts) and publishes decimated live
// signals (live-publisher.ts). Sessions a previous agent left unmirrored are back-filled at start.
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import { type AcquisitionFile, DEFAULT_LOCKIN_CONFIG } from '../config/acquisition.ts';
import { RAW_LOG_FILE_NAME } from '../record/rawlog-format.ts';
import { Recorder, type RecorderOptions, type RecordingResult } from '../record/recorder.ts';
import { Rig, type RigOptions } from '../rig/rig.ts';
import { ensureRawStream, openRigsBucket } from './broker.ts';
import { MIRROR_CHECKPOINT_FILE } from './checkpoint-file.ts';
import { type AgentCommand, parseCommand } from './commands.ts';
import { errorReply, LabError } from './errors.ts';
import { checkToken, commandSubject, newSessionId } from './layout.ts';
import { LivePublisher } from './live-publisher.ts';
import { type DiskHealth, diskHealth, type LedHealth, LedWatch } from './rig-health.ts';
import { type MirrorEvent, RawLogMirror } from './mirror.ts';
import { WindowPublisher } from './window-publisher.ts';

export interface LabAgentOptions {
  nc: NatsConnection;
  rig: string;
  /** Device URL (as for `fiberrig acquire --device`). */
  device: string;
  rigOptions?: RigOptions;
  /** Local recordings: DIR/<session>/. */
  dir: string;
  /** Fleet entry lifetime without refresh, ms (default 15000), when this agent creates the bucket; refreshed every third of it or of the bucket's own TTL, whichever is shorter. */
  ttlMs?: number;
  /** The acquisition file of a start command without `config` (default: the 3-wavelength lock-in). */
  defaultFile?: AcquisitionFile;
  /** Live subject rate, Hz (default 10). */
  liveRateHz?: number;
  /** Other derived outputs of each recording (as `fiberrig acquire` passes the analysis input). */
  derivedOutputs?: RecorderOptions['derivedOutputs'];
  /** Replicas of the raw stream and the fleet bucket when this agent creates them (default 1; 3 on a 3-node cluster). */
  replicas?: number;
  /** How long stop() waits for the mirror to deliver what is left before leaving it to the next agent, ms (default 10000). */
  flushTimeoutMs?: number;
  onEvent?: (event: AgentEvent) => void;
}

export type AgentEvent =
  | { type: 'command'; command: AgentCommand['cmd']; ok: boolean; code?: string }
  | { type: 'recording-started'; session: string; outDir: string }
  | { type: 'recording-finished'; session: string; result: RecordingResult }
  | { type: 'mirror'; session: string; event: MirrorEvent }
  | { type: 'registry-failed'; message: string };

/** The rig's entry in the fleet bucket (key: the rig name). */
export interface RigState {
  rig: string;
  device: string;
  info: { firmware: string; board: string; serialNumber: string; leds: number; detectors: number };
  status: 'idle' | 'recording' | 'stopping';
  recording: boolean;
  session: string | null;
  subject: string | null;
  link: { connected: boolean; reconnects: number; missingSamples: number; droppedSamples: number; heartbeatRoundTripMs: number | null };
  /** The running (else the last) session's mirror: bytes the broker acknowledged of those read from its raw log. */
  mirror: { session: string; ackedBytes: number; fileBytes: number; failures: number } | null;
  /** LEDs darkened by the device itself (watchdog or fault), from its Status messages. */
  leds: LedHealth;
  /** The file system of the agent's --dir (null when it cannot be read). */
  disk: DiskHealth | null;
  updatedIso: string;
}

interface Current {
  session: string;
  subject: string | null;
  recorder: Recorder;
  mirror: RawLogMirror;
  live: LivePublisher | undefined;
  done: Promise<RecordingResult | undefined>;
}

export class LabAgent {
  private current: Current | undefined;
  private readonly mirrors = new Map<RawLogMirror, Promise<unknown>>();
  private subscription: Subscription | undefined;
  private refresh: ReturnType<typeof setInterval> | undefined;
  private lastMirror: RawLogMirror | undefined;
  private stopping = false;
  private brokerConnected = true;
  /** Every mirror of this agent publishes through it (one reply subscription for all PubAcks). */
  private readonly publisher: WindowPublisher;

  private readonly leds: LedWatch;
  private disk: DiskHealth | null = null;

  private constructor(private readonly o: LabAgentOptions, private readonly rig: Rig, private readonly kv: KV) {
    this.publisher = new WindowPublisher(o.nc);
    this.leds = new LedWatch(rig.status$);
  }

  /** Opens the device, registers the rig, answers commands, back-fills sessions left unmirrored. */
  static async start(options: LabAgentOptions): Promise<LabAgent> {
    checkToken('rig', options.rig);
    await mkdir(options.dir, { recursive: true });
    await ensureRawStream(options.nc, options.replicas ?? 1);
    const kv = await openRigsBucket(options.nc, options.ttlMs ?? 15_000, options.replicas ?? 1);
    const rig = await Rig.connect(options.device, options.rigOptions ?? {});
    const agent = new LabAgent(options, rig, kv);
    void agent.watchBroker();
    await agent.register();
    agent.subscription = options.nc.subscribe(commandSubject(options.rig), { callback: (_err, msg) => { void agent.answer(msg); } });
    // the bucket keeps the TTL it was made with (another agent's --ttl may differ): refresh within both
    const bucketTtlMs = (await kv.status()).ttl;
    const ttlMs = Math.min(options.ttlMs ?? 15_000, bucketTtlMs > 0 ? bucketTtlMs : Number.POSITIVE_INFINITY);
    agent.refresh = setInterval(() => { void agent.register(); }, ttlMs / 3);
    await agent.backfill();
    return agent;
  }

  get state(): RigState {
    const info = this.rig.info;
    const h = this.rig.linkHealth();
    const mirrorOf = this.current?.mirror ?? this.lastMirror;
    const mirror = mirrorOf?.stats;
    return {
      rig: this.o.rig, device: this.o.device,
      info: { firmware: `${info.firmwareName} ${info.firmwareVersion}`, board: info.boardModel, serialNumber: info.serialNumber, leds: info.leds.length, detectors: info.detectors.length },
      status: !this.current ? 'idle' : this.current.recorder.state === 'stopping' ? 'stopping' : 'recording',
      recording: this.current !== undefined, session: this.current?.session ?? null, subject: this.current?.subject ?? null,
      link: {
        connected: h.connected, reconnects: h.reconnects, missingSamples: h.hostDetectedMissingSamples,
        droppedSamples: h.deviceReportedDroppedSamples, heartbeatRoundTripMs: h.lastHeartbeatRoundTripMs ?? null,
      },
      mirror: mirror ? { session: mirrorOf!.session, ackedBytes: mirror.ackedBytes, fileBytes: mirror.fileBytes, failures: mirror.failures } : null,
      leds: this.leds.state,
      disk: this.disk,
      updatedIso: new Date().toISOString(),
    };
  }

  /** The running recording's end (undefined when none runs). */
  get recording(): Promise<RecordingResult | undefined> | undefined {
    return this.current?.done;
  }

  /** Follows the connection's state (the live publisher drops samples while the broker is away). */
  private async watchBroker(): Promise<void> {
    for await (const s of this.o.nc.status()) {
      if (s.type === 'disconnect') this.brokerConnected = false;
      else if (s.type === 'reconnect') this.brokerConnected = true;
    }
  }

  private async register(): Promise<void> {
    if (this.stopping) return;
    try {
      this.disk = await diskHealth(this.o.dir);
      await this.kv.put(this.o.rig, JSON.stringify(this.state));
    } catch (error) {
      this.o.onEvent?.({ type: 'registry-failed', message: (error as Error).message });
    }
  }

  private async answer(msg: Msg): Promise<void> {
    let command: AgentCommand | undefined;
    let reply: unknown;
    try {
      command = parseCommand(msg.data);
      reply = { ok: true, ...(await this.execute(command)) };
      this.o.onEvent?.({ type: 'command', command: command.cmd, ok: true });
    } catch (error) {
      reply = errorReply(error);
      this.o.onEvent?.({ type: 'command', command: command?.cmd ?? 'status', ok: false, code: (reply as ReturnType<typeof errorReply>).error.code });
    }
    if (msg.reply) msg.respond(JSON.stringify(reply));
    void this.register();
  }

  private async execute(command: AgentCommand): Promise<Record<string, unknown>> {
    switch (command.cmd) {
      case 'status':
        return { state: this.state };
      case 'start':
        return this.startRecording(command);
      case 'stop': {
        const current = this.requireRecording('stop');
        current.recorder.stop('user');
        const result = await current.done;
        return { session: current.session, stoppedBy: result?.summary.stoppedBy ?? null };
      }
      case 'led': {
        const applied = await this.rig.setLed(command.led, { currentMa: command.currentMa });
        return { led: command.led, applied };
      }
      case 'mark': {
        const current = this.requireRecording('mark');
        const mark = { label: command.label, hostTimeUs: Date.now() * 1000 };
        await current.mirror.mark(mark);
        return { session: current.session, mark };
      }
    }
  }

  private requireRecording(what: string): Current {
    if (!this.current) throw new LabError('E_LAB_NOT_RECORDING', `rig ${this.o.rig} is not recording: nothing to ${what}`, 'send a start command first');
    return this.current;
  }

  private async startRecording(command: Extract<AgentCommand, { cmd: 'start' }>): Promise<Record<string, unknown>> {
    if (this.stopping) throw new LabError('E_LAB_STOPPING', `the agent of rig ${this.o.rig} is shutting down`, 'start the agent again');
    if (this.current) throw new LabError('E_LAB_BUSY', `rig ${this.o.rig} is recording session ${this.current.session}`, 'send stop first, or wait for its duration');
    const session = newSessionId();
    const outDir = join(this.o.dir, session);
    const mirror = await RawLogMirror.create({
      js: this.publisher, rig: this.o.rig, session, rawLogPath: join(outDir, RAW_LOG_FILE_NAME), checkpointPath: join(outDir, MIRROR_CHECKPOINT_FILE),
      onEvent: (event) => this.o.onEvent?.({ type: 'mirror', session, event }),
    });
    let live: LivePublisher | undefined;
    const recorder = new Recorder({
      device: this.rig, file: command.file ?? this.o.defaultFile ?? DEFAULT_LOCKIN_CONFIG, durationS: command.durationS, outDir, subject: command.subject,
      ...(this.o.derivedOutputs ? { derivedOutputs: this.o.derivedOutputs } : {}),
      beforeConfigure: ({ signals$ }) => { live = new LivePublisher(this.o.nc, this.o.rig, session, signals$, () => this.brokerConnected, this.o.liveRateHz ?? 10); },
    });
    let started: () => void = () => undefined;
    const startedP = new Promise<void>((resolve) => { started = resolve; });
    recorder.events$.subscribe((e) => {
      // the raw log exists before the device is connected: mirror from there
      if (e.type === 'connected') mirror.start();
      if (e.type === 'started') started();
    });
    const current: Current = { session, subject: command.subject, recorder, mirror, live: undefined, done: Promise.resolve(undefined) };
    this.current = current;
    const run = recorder.run();
    current.done = run.then((r) => r, () => undefined).finally(() => {
      live?.close();
      if (this.current === current) this.current = undefined;
      this.lastMirror = mirror;
    });
    void run.then((result) => {
      this.o.onEvent?.({ type: 'recording-finished', session, result });
      this.track(mirror);
    }, () => {
      // nothing recorded (the recorder removed what it created, the mirror never started): nothing to mirror
    });
    const first = await Promise.race([startedP.then(() => 'started' as const), run.then((r) => r, (e: unknown) => e)]);
    if (first !== 'started') {
      const error = first instanceof Error ? first : (first as RecordingResult).error;
      throw error ?? new LabError('E_LAB_START', `the recording on rig ${this.o.rig} ended before it started`, 'see the agent\'s stderr');
    }
    this.o.onEvent?.({ type: 'recording-started', session, outDir });
    return { session, outDir };
  }

  /** Lets the mirror send what is left and its end marker. */
  private track(mirror: RawLogMirror): void {
    this.mirrors.set(mirror, mirror.finish().catch(() => undefined).finally(() => this.mirrors.delete(mirror)));
  }

  /** Sessions in DIR whose mirror did not send its end marker (an agent killed or stopped with the broker away): mirror the rest now. */
  private async backfill(): Promise<void> {
    const names = await readdir(this.o.dir).catch(() => [] as string[]);
    for (const name of names.sort()) {
      const outDir = join(this.o.dir, name);
      const rawLogPath = join(outDir, RAW_LOG_FILE_NAME);
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(name) || !(await stat(rawLogPath).then((s) => s.isFile(), () => false))) continue;
      const mirror = await RawLogMirror.create({
        js: this.publisher, rig: this.o.rig, session: name, rawLogPath, checkpointPath: join(outDir, MIRROR_CHECKPOINT_FILE),
        onEvent: (event) => this.o.onEvent?.({ type: 'mirror', session: name, event }),
      });
      if (mirror.stats.ended) continue;
      this.track(mirror);
    }
  }

  /** Stops a running recording (stoppedBy "signal"), waits for the mirror to deliver it (at most flushTimeoutMs), leaves the fleet, keeps the connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.refresh);
    this.subscription?.unsubscribe();
    this.leds.close();
    const current = this.current;
    if (current) {
      current.recorder.stop('signal');
      await current.done;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<void>((resolve) => { timer = setTimeout(resolve, this.o.flushTimeoutMs ?? 10_000); });
    await Promise.race([Promise.all([...this.mirrors.values()]), timedOut]);
    clearTimeout(timer);
    // the broker is away: what is not acknowledged stays in mirror.json for the next agent's back-fill
    await Promise.all([...this.mirrors.keys()].map((m) => m.abandon()));
    this.publisher.close();
    await this.kv.delete(this.o.rig).catch(() => undefined);
    await this.rig.close();
  }
}
