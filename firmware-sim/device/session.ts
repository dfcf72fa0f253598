// The firmware's session: what it holds in RAM since its last boot - the
// handshake, the bootloader flag, the configuration in force and its id, the
// calibration read from flash, the commanded drive, the heartbeat and Status
// timers, the frame decoder's counters and any forced ring-buffer drops. A
// boot makes a fresh Session (and an idle RunState): reboot() replaces them.
//
// Hello must come first after power-on and after every reset; until then only
// Hello, GetInfo, Heartbeat, Reset and EnterBootloader are served and anything
// else is refused with NOT_CONFIGURED (field "hello").
import { FrameDecoder, LogLevel } from '../../protocol/index.ts';
import type { CalibrationMap } from './calibration.ts';
import { type DeviceCore, drain, log } from './core.ts';
import type { FaultRecord, LostRange } from './faults.ts';
import { calibrationMapOf } from './nv.ts';
import { RunState } from './run-state.ts';
import type { ModulationSchedule } from './schedule.ts';
import type { Queued } from './uplink.ts';
import type { NormalizedConfig } from './validate.ts';

export class Session {
  handshaken = false;
  bootloader = false;
  config: NormalizedConfig | null = null;
  configId = 0;
  nextConfigId = 1;
  schedule: ModulationSchedule | null = null;
  /** Commanded drive per configured LED (mA, and the µW asked for, if any): what Start and a watchdog re-arm apply. */
  commandedMa: Float64Array = new Float64Array(0);
  commandedUw: Array<number | undefined> = [];
  lastHeartbeatDevS = 0;
  nextStatusDevS = Number.POSITIVE_INFINITY;
  /** CRC-good frames that were not an Envelope. */
  decodeErrors = 0;
  /** Blocks an overrun fault still forces the ring buffer to drop. */
  forcedDrops = 0;
  forcedRecord: FaultRecord | null = null;
  readonly decoder: FrameDecoder;

  constructor(
    maxMessageBytes: number,
    public calibration: CalibrationMap,
    onFrame: (payload: Uint8Array) => void,
  ) {
    this.decoder = new FrameDecoder(onFrame, { maxPayloadBytes: maxMessageBytes });
  }
}

/** A fresh session for `core` (its frames go to `onFrame`). */
export function newSession(core: Pick<DeviceCore, 'board' | 'nv'>, onFrame: (payload: Uint8Array) => void): Session {
  return new Session(core.board.maxMessageBytes, calibrationMapOf(core.nv), onFrame);
}

/**
 * Restarts the firmware: run, configuration, session and counters cleared,
 * queued output lost (recorded), NV kept and its reset counter bumped.
 * `lastWords` (the Ack of a Reset command) still goes out first, behind the
 * replies and Status already queued before it (the firmware sends its control
 * queue in order before it restarts; only the stream is lost); `logMessage`
 * (when not null) is logged after the boot.
 */
export function reboot(core: DeviceCore, logMessage: string | null, lastWords: Queued | null, onFrame: (payload: Uint8Array) => void): void {
  const lost: LostRange[] = [];
  const lostMessages: string[] = [];
  const { clock, run } = core;
  const queued = core.uplink.restart(lastWords !== null);
  if (run.running) {
    const c = run.config!;
    const taken = run.samplesTaken(clock.devS);
    core.blocks.noteDark(taken, 'reset');
    core.syncTap?.ended(taken);
    if (taken > run.nextDet) lost.push({ source: 'detector', run: run.number, configId: core.session.configId, first: run.nextDet, count: taken - run.nextDet });
    if (c.aux) {
      const auxTaken = Math.ceil(taken / c.aux.divider);
      if (auxTaken > run.nextAux) lost.push({ source: 'aux', run: run.number, configId: core.session.configId, first: run.nextAux, count: auxTaken - run.nextAux });
    }
  }
  for (const meta of queued.lost) {
    if (meta.kind === 'sampleBlock' && meta.source) {
      lost.push({ source: meta.source, run: meta.run ?? 0, configId: meta.configId ?? 0, first: meta.firstSampleIndex ?? 0, count: meta.sampleCount ?? 0 });
    } else {
      lostMessages.push(meta.requestId ? `${meta.kind}#${meta.requestId}` : meta.kind);
    }
  }
  core.truth.record({
    type: lastWords ? 'commanded_reset' : 'reset', worldTimeS: clock.worldS, deviceTimeUs: clock.deviceTimeUs, lost, lostMessages,
    bytesAffected: 0, framesAffected: 0, detail: logMessage ?? 'enter bootloader',
  });
  core.nv.resets++;

  // fresh firmware state
  clock.restart();
  core.session = newSession(core, onFrame);
  core.run = RunState.idle(core.runCount);
  for (const q of queued.kept) core.uplink.requeueControl(q);
  if (lastWords) core.uplink.requeueControl(lastWords);
  if (logMessage !== null) log(core, LogLevel.LOG_LEVEL_INFO, logMessage);
  core.events.emit('reset');
  drain(core);
}
