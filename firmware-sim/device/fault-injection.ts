// Injecting faults into a running device: faults wait for their world time
// (spec.atS) in a queue, then act on the part of the device they break - the
// byte stage and the link (uplink.ts), the crystal (clock.ts), the ring buffer
// (blocks.ts) or the whole firmware (a reset). What each one did goes to the
// ground truth (faults.ts describes the kinds and the records).
import type { DeviceCore } from './core.ts';
import { checkFault, type FaultSpec, type LostRange } from './faults.ts';

export class FaultQueue {
  private scheduled: Array<{ atS: number; seq: number; spec: FaultSpec }> = [];
  private seq = 0;

  /** World time of the next scheduled fault (+Infinity when none). */
  get nextAtS(): number {
    return this.scheduled[0]?.atS ?? Number.POSITIVE_INFINITY;
  }

  /** Schedules a fault at spec.atS (world time); returns false when it is due now (at or before `nowS`). */
  schedule(spec: FaultSpec, nowS: number): boolean {
    checkFault(spec);
    if (spec.atS !== undefined && spec.atS > nowS) {
      this.scheduled.push({ atS: spec.atS, seq: this.seq++, spec });
      this.scheduled.sort((a, b) => a.atS - b.atS || a.seq - b.seq);
      return true;
    }
    return false;
  }

  /** Takes the next scheduled fault. */
  shift(): FaultSpec {
    return this.scheduled.shift()!.spec;
  }
}

export function applyFault(core: DeviceCore, spec: FaultSpec): void {
  const { clock, run, uplink, truth } = core;
  const base = { worldTimeS: clock.worldS, deviceTimeUs: clock.deviceTimeUs, lost: [] as LostRange[], lostMessages: [] as string[], bytesAffected: 0, framesAffected: 0 };
  switch (spec.type) {
    case 'corrupt':
    case 'drop_bytes':
    case 'dup_bytes':
      uplink.faultStage.addRate(spec.type, spec.rate, clock.worldS + (spec.durationS ?? Number.POSITIVE_INFINITY));
      break;
    case 'corrupt_frames':
      uplink.faultStage.addFrameCorruption(spec.count, spec.kind ?? 'sampleBlock');
      break;
    case 'disconnect':
      if (uplink.disconnect(spec.durationS)) core.events.emit('disconnect', spec.durationS);
      break;
    case 'drift': {
      let atDev = clock.devS;
      let atSample: number | null = null;
      if (run.running) {
        atSample = run.nextBoundary(clock.devS);
        atDev = run.startDevS + atSample / run.config!.sampleRateHz;
      }
      const detail = `${clock.ppm} -> ${spec.ppm} ppm${atSample === null ? '' : ` from detector sample ${atSample} of run ${core.runCount}`}`;
      clock.setDrift(atDev, spec.ppm);
      if (atSample !== null) core.syncTap?.retimed(atSample);
      truth.record({ ...base, type: 'drift', detail });
      break;
    }
    case 'overrun':
      core.session.forcedDrops += spec.blocks;
      core.session.forcedRecord = truth.record({ ...base, type: 'overrun', detail: `forced drop of the next ${spec.blocks} blocks` });
      break;
    case 'reset':
      core.reboot('reset (fault: watchdog)', null);
      break;
  }
}
