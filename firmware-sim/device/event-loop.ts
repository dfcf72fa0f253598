// The event loop: world time moves to the next due event - a detector or aux
// block complete, the watchdog deadline passed, a Status due, a scheduled
// fault, the end of a disconnect - or to the target, whichever comes first;
// the part the event belongs to then acts, and the link sends what it can by
// then. An event due at the target instant (within float rounding of its
// schedule) happens in this advance, before whatever the host sends at that
// instant, as the firmware's poll takes due work before input.
import { EPS, epsAt } from './clock.ts';
import { statusIntervalS } from './commands.ts';
import { type DeviceCore, drain } from './core.ts';
import { applyFault, type FaultQueue } from './fault-injection.ts';
import { statusOf } from './status.ts';
import { tripWatchdog, watchdogDueDevS } from './watchdog.ts';

function nextDeviceEventDevS(core: DeviceCore): number {
  const { session, run } = core;
  if (session.bootloader) return Number.POSITIVE_INFINITY;
  let t = session.nextStatusDevS;
  // the watchdog trips once the deadline is past (a Heartbeat arriving at the deadline itself is in time), as in the C core
  if (run.running) {
    const wd = watchdogDueDevS(core);
    t = Math.min(t, run.detBlockDueDevS(), run.auxBlockDueDevS(), wd + 2 * epsAt(wd));
  }
  return t;
}

/** Advances the simulation to world time `targetW`, acting on every event due on the way. */
export function advanceWorldTo(core: DeviceCore, faults: FaultQueue, targetW: number): void {
  const { clock, uplink } = core;
  for (;;) {
    const evDev = nextDeviceEventDevS(core);
    const evW = evDev === Number.POSITIVE_INFINITY ? evDev : clock.worldOf(evDev);
    const faultW = faults.nextAtS;
    const reconnectW = uplink.reconnectAtWorldS;
    const tW = Math.min(evW, faultW, reconnectW);
    if (tW > targetW + EPS) {
      moveTo(core, clock.devOf(targetW), targetW);
      return;
    }
    if (faultW <= tW) {
      moveTo(core, clock.devOf(faultW), faultW);
      applyFault(core, faults.shift());
    } else if (reconnectW <= tW) {
      moveTo(core, clock.devOf(reconnectW), reconnectW);
      uplink.reconnect();
      core.events.emit('reconnect');
      drain(core);
    } else {
      moveTo(core, evDev, evW);
      processDue(core);
    }
  }
}

function moveTo(core: DeviceCore, devS: number, worldS: number): void {
  core.clock.moveTo(devS, worldS);
  drain(core);
}

function processDue(core: DeviceCore): void {
  const { clock, session } = core;
  const now = clock.devS + EPS;
  const wd = watchdogDueDevS(core);
  if (core.run.running && wd + epsAt(wd) < clock.devS) tripWatchdog(core);
  const run = core.run;
  if (run.running && run.detBlockDueDevS() <= now) {
    core.blocks.produceDetectorBlock(run.nextDet, run.config!.blockSamples);
    run.nextDet += run.config!.blockSamples;
  }
  if (run.running && run.auxBlockDueDevS() <= now) {
    core.blocks.produceAuxBlock(run.nextAux, run.config!.aux!.blockSamples);
    run.nextAux += run.config!.aux!.blockSamples;
  }
  if (session.nextStatusDevS <= now) {
    session.nextStatusDevS += statusIntervalS(core);
    if (session.nextStatusDevS <= clock.devS) session.nextStatusDevS = clock.devS + statusIntervalS(core);
    core.uplink.send({ requestId: 0, status: statusOf(core) }, 'control');
  }
  drain(core);
}
