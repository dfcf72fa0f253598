// Command handling: a frame from the host is bounds-checked and decoded, then
// dispatched to its handler, which answers with exactly one reply (Ack, Error
// or the requested message) carrying the command's request_id. Errors name the
// offending field as the README of protocol/ says.
//
// Safety: LED currents are validated on every path (Configure, SetLed, power
// conversions; validate.ts). A SetLed after a watchdog trip restores every
// configured LED to its commanded level (with the new level for its channel)
// at the next block boundary, with LedEvents, and restarts the watchdog;
// Start re-arms too (watchdog.ts).
import {
  decodeEnvelope, type Envelope, type EnvelopeInit, ErrorCode, formatVersion, PROTOCOL_VERSION,
} from '../../protocol/index.ts';
import { deviceInfoOf } from './board.ts';
import { CalibrationMap, validateCalibrationTable } from './calibration.ts';
import { uptimeUsAt } from './clock.ts';
import { scanEnvelope } from './bounds.ts';
import { type DeviceCore, drain, reply, sendError } from './core.ts';
import { type Issue, issue } from './issue.ts';
import { emitLedEvent } from './led-events.ts';
import { StorageFailure } from './nv.ts';
import { RunState } from './run-state.ts';
import { ModulationSchedule } from './schedule.ts';
import { sampleIndexOf, selfTestItemsOf } from './status.ts';
import { bodyOf } from './uplink.ts';
import { validateConfig, validateSetLed } from './validate.ts';
import { heartbeatSeen } from './watchdog.ts';

const BODIES_BEFORE_HELLO = new Set(['hello', 'getInfo', 'heartbeat', 'reset', 'enterBootloader']);
const COMMANDS = new Set([
  'hello', 'getInfo', 'configure', 'start', 'stop', 'setLed', 'heartbeat', 'selfTest', 'readCalibration', 'writeCalibration', 'reset',
  'enterBootloader',
]);

type Body<K extends keyof EnvelopeInit> = NonNullable<EnvelopeInit[K]>;

export class CommandHandler {
  constructor(private readonly core: DeviceCore) {}

  /** One frame's payload from the host (its CRC already checked). */
  onFrame(payload: Uint8Array): void {
    const core = this.core;
    // the C firmware's static bounds: a field beyond them is answered, naming it, before decoding
    const scan = scanEnvelope(payload);
    if (scan.overflow) {
      this.sendError(scan.requestId, issue(ErrorCode.ERROR_CODE_FIELD_TOO_LONG, scan.overflow.field, scan.overflow.message));
      drain(core);
      return;
    }
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(payload);
    } catch {
      core.session.decodeErrors++;
      this.sendError(scan.requestId, issue(ErrorCode.ERROR_CODE_FRAME_ERROR, '', 'frame CRC ok but not a fiberrig.v1 Envelope'));
      drain(core);
      return;
    }
    this.handle(envelope);
  }

  /** One decoded Envelope from the host. */
  handle(envelope: Envelope | EnvelopeInit): void {
    if (this.core.session.bootloader) return;
    this.dispatch(envelope);
    drain(this.core);
  }

  sendError(requestId: number, i: Issue): void {
    sendError(this.core, requestId, i);
  }

  private dispatch(envelope: Envelope | EnvelopeInit): void {
    const core = this.core;
    const e = envelope as Envelope;
    const body = e.body ?? bodyOf(envelope);
    const id = envelope.requestId ?? 0;
    if (!body || !COMMANDS.has(body)) {
      // the field names the body as the .proto does (sample_block), like every other Error.field
      const name = body ? body.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`) : '';
      this.sendError(id, issue(ErrorCode.ERROR_CODE_UNKNOWN_COMMAND, name, body ? `${name} is not a command` : 'envelope has no body this device knows'));
      return;
    }
    if (!core.session.handshaken && !BODIES_BEFORE_HELLO.has(body)) {
      this.sendError(id, issue(ErrorCode.ERROR_CODE_NOT_CONFIGURED, 'hello', 'send Hello first (device restarted or new session)'));
      return;
    }
    switch (body) {
      case 'hello':
        this.onHello(id, envelope.hello!);
        return;
      case 'getInfo':
        reply(core, id, { deviceInfo: deviceInfoOf(core.board, core.session.calibration.channels) });
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
        reply(core, id, { selfTestReport: { items: selfTestItemsOf(core) } });
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

  private onHello(id: number, hello: Body<'hello'>): void {
    const { session, clock } = this.core;
    const v = hello.protocol;
    if (!v || (v.major ?? 0) !== PROTOCOL_VERSION.major) {
      const seen = v ? `${v.major ?? 0}.${v.minor ?? 0}` : 'none';
      this.sendError(id, issue(ErrorCode.ERROR_CODE_VERSION_MISMATCH, 'hello.protocol', `host speaks ${seen}, device speaks ${formatVersion(PROTOCOL_VERSION)}`));
      return;
    }
    session.handshaken = true;
    if (session.nextStatusDevS === Number.POSITIVE_INFINITY) session.nextStatusDevS = clock.devS + statusIntervalS(this.core);
    reply(this.core, id, { deviceInfo: deviceInfoOf(this.core.board, session.calibration.channels) });
  }

  private onConfigure(id: number, configure: Body<'configure'>): void {
    const { session, clock, run } = this.core;
    if (run.running) {
      this.sendError(id, issue(ErrorCode.ERROR_CODE_BUSY, 'configure', 'Stop before Configure'));
      return;
    }
    const result = validateConfig(configure.config, this.core.board, session.calibration);
    if (!result.ok) {
      this.sendError(id, result.issue);
      return;
    }
    const c = result.config;
    session.config = c;
    session.configId = session.nextConfigId++;
    session.schedule = new ModulationSchedule({
      mode: c.mode, sampleRateHz: c.sampleRateHz, leds: c.leds.map((l) => ({ channel: l.channel, peakMa: l.peakMa, carrierHz: l.carrierHz })),
      timeDivision: c.timeDivision,
    });
    this.core.blocks.configure(c);
    session.commandedMa = Float64Array.from(c.leds, (l) => l.peakMa);
    session.commandedUw = c.leds.map((l) => l.powerUw);
    session.nextStatusDevS = Math.min(session.nextStatusDevS, clock.devS + c.statusIntervalMs / 1000);
    reply(this.core, id, { ack: { configId: session.configId, sampleIndex: 0 } });
  }

  private onStart(id: number): void {
    const core = this.core;
    const { session, clock } = core;
    if (core.run.running) {
      this.sendError(id, issue(ErrorCode.ERROR_CODE_BUSY, 'start', 'already running'));
      return;
    }
    if (!session.config) {
      this.sendError(id, issue(ErrorCode.ERROR_CODE_NOT_CONFIGURED, 'start', 'Start needs an accepted Configure'));
      return;
    }
    core.runCount++;
    const run = new RunState(core.runCount, session.config, clock.devS, session.commandedMa.slice());
    core.run = run;
    heartbeatSeen(core);
    core.syncTap?.started();
    reply(core, id, { ack: { configId: session.configId, sampleIndex: 0, deviceTimeUs: uptimeUsAt(run.startDevS) } });
    // the drive applied from sample 0 is part of the record: one LedEvent per configured LED
    for (let k = 0; k < run.peaks.length; k++) emitLedEvent(core, k, run.peaks[k]!, 0);
  }

  private onStop(id: number): void {
    const core = this.core;
    const { session, run, clock } = core;
    if (!run.running) {
      // idempotent: a repeated Stop gets the same answer
      reply(core, id, { ack: { configId: session.configId, sampleIndex: run.lastStopIndex, deviceTimeUs: run.lastStopUs } });
      return;
    }
    const c = run.config!;
    const next = run.samplesTaken(clock.devS);
    run.lastStopIndex = next;
    run.lastStopUs = uptimeUsAt(run.startDevS + next / c.sampleRateHz);
    if (next > run.nextDet) core.blocks.produceDetectorBlock(run.nextDet, next - run.nextDet);
    run.nextDet = next;
    if (c.aux) {
      const auxNext = Math.ceil(next / c.aux.divider);
      if (auxNext > run.nextAux) core.blocks.produceAuxBlock(run.nextAux, auxNext - run.nextAux);
      run.nextAux = auxNext;
    }
    run.running = false;
    core.syncTap?.ended(next);
    run.changes = [];
    run.tripped = false;
    core.blocks.noteDark(next, 'stop');
    core.uplink.send({ requestId: id, ack: { configId: session.configId, sampleIndex: next, deviceTimeUs: run.lastStopUs } }, 'stream', { kind: 'ack', requestId: id });
  }

  private onSetLed(id: number, setLed: Body<'setLed'>): void {
    const core = this.core;
    const { session, run, clock } = core;
    const r = validateSetLed(setLed, core.board, session.config, session.calibration);
    if (!r.ok) {
      this.sendError(id, r.issue);
      return;
    }
    const c = session.config!;
    session.commandedMa[r.ledIndex] = r.currentMa;
    session.commandedUw[r.ledIndex] = r.powerUw;
    if (!run.running) {
      reply(core, id, { ack: { configId: session.configId, sampleIndex: 0 } });
      return;
    }
    let at = run.nextBoundary(clock.devS);
    const last = run.lastChange();
    if (last && last.at > at) at = last.at;
    const restore = run.tripped;
    const peaks = restore ? session.commandedMa.slice() : (last?.peaks ?? run.peaks).slice();
    peaks[r.ledIndex] = r.currentMa;
    run.changes.push({ at, peaks });
    if (restore) {
      run.tripped = false;
      heartbeatSeen(core); // re-arming proves the host is there: the watchdog restarts
    }
    for (let k = 0; k < c.leds.length; k++) {
      if (!restore && k !== r.ledIndex) continue;
      emitLedEvent(core, k, peaks[k]!, at);
    }
    reply(core, id, { ack: { configId: session.configId, sampleIndex: at } });
  }

  private onHeartbeat(id: number, hb: Body<'heartbeat'>): void {
    const core = this.core;
    heartbeatSeen(core);
    core.uplink.sendHeartbeatAck(id, { hostTimeUs: hb.hostTimeUs ?? 0, sampleIndex: sampleIndexOf(core), deviceTimeUs: core.clock.deviceTimeUs, running: core.run.running });
  }

  private onReadCalibration(id: number): void {
    try {
      const table = this.core.nv.readCalibration();
      reply(this.core, id, { calibrationTable: table });
    } catch (e) {
      this.sendError(id, issue(ErrorCode.ERROR_CODE_STORAGE, 'read_calibration', `calibration read failed: ${(e as Error).message}`));
    }
  }

  private onWriteCalibration(id: number, w: Body<'writeCalibration'>): void {
    const core = this.core;
    if (core.run.running) {
      this.sendError(id, issue(ErrorCode.ERROR_CODE_BUSY, 'write_calibration', 'Stop before writing calibration'));
      return;
    }
    const bad = validateCalibrationTable(w.table, core.board, 'table');
    if (bad) {
      this.sendError(id, bad);
      return;
    }
    try {
      core.nv.writeCalibration(w.table ?? {});
    } catch (e) {
      if (!(e instanceof StorageFailure)) throw e;
      this.sendError(id, issue(ErrorCode.ERROR_CODE_STORAGE, 'write_calibration', `calibration write failed: ${e.message}`));
      return;
    }
    core.session.calibration = new CalibrationMap(w.table);
    reply(core, id, { ack: { configId: core.session.configId, sampleIndex: 0 } });
  }

  private onReset(id: number): void {
    const core = this.core;
    reply(core, id, { ack: { configId: core.session.configId, sampleIndex: sampleIndexOf(core) } });
    core.reboot('reset (command)', core.uplink.popControl());
  }

  private onEnterBootloader(id: number): void {
    const core = this.core;
    reply(core, id, { ack: { configId: core.session.configId, sampleIndex: sampleIndexOf(core) } });
    core.reboot(null, core.uplink.popControl());
    core.session.bootloader = true;
    core.session.nextStatusDevS = Number.POSITIVE_INFINITY;
    core.events.emit('bootloader');
  }
}

/** Status period in force, seconds. */
export function statusIntervalS(core: DeviceCore): number {
  return (core.session.config?.statusIntervalMs ?? core.board.defaultStatusIntervalMs) / 1000;
}
