// The heartbeat watchdog (safety lives in the firmware). While running, if no
// Heartbeat arrives for heartbeat_timeout_ms (Start counts as one), every LED
// goes dark from the first sample at or after the deadline, a LedEvent(0 mA)
// per LED marks the sample index, Status.dark_reason = HEARTBEAT_TIMEOUT and a
// Log warns. A later Heartbeat does NOT relight them (the safer choice: a host
// that lost contact must re-arm on purpose): the next SetLed restores every
// configured LED to its commanded level (commands.ts) and restarts the
// watchdog; Start also re-arms.
//
// Accelerated runs. A host heartbeats on its own (wall) clock; a simulator
// running at 10x or as fast as the host reads would see heartbeats arrive
// tens of device-seconds apart and trip the watchdog although the host is
// alive. With a host clock (core.watchdogClockS, set by
// SimDevice.useHostClockForWatchdog(); the pacer does this at any speed other
// than 1) the watchdog measures heartbeat age on the host's clock; a trip then
// darkens the LEDs from the next block. At speed 1 and in tests that drive
// advance() directly, the watchdog runs on device time as the firmware's does.
import { LogLevel } from '../../protocol/index.ts';
import { type DeviceCore, log } from './core.ts';
import { emitLedEvent } from './led-events.ts';

/** A Heartbeat (or Start, or a re-arming SetLed) was seen now. */
export function heartbeatSeen(core: DeviceCore): void {
  core.session.lastHeartbeatDevS = core.clock.devS;
  if (core.watchdogClockS) core.lastHeartbeatHostS = core.watchdogClockS();
}

/** Device time the watchdog trips at (+Infinity when it cannot: stopped, tripped, or on the host clock). */
export function watchdogDueDevS(core: DeviceCore): number {
  if (!core.run.running || core.run.tripped || core.watchdogClockS) return Number.POSITIVE_INFINITY;
  return core.session.lastHeartbeatDevS + core.session.config!.heartbeatTimeoutMs / 1000;
}

/** On the host clock: trips when the last heartbeat is older than the timeout. */
export function checkHostClockWatchdog(core: DeviceCore): void {
  const config = core.session.config;
  if (!core.watchdogClockS || !core.run.running || core.run.tripped || !config) return;
  if (core.watchdogClockS() - core.lastHeartbeatHostS > config.heartbeatTimeoutMs / 1000) tripWatchdog(core, core.clock.devS);
}

/** Heartbeat age as Status reports it, ms. */
export function heartbeatAgeMs(core: DeviceCore): number {
  const ageS = core.watchdogClockS ? core.watchdogClockS() - core.lastHeartbeatHostS : core.clock.devS - core.session.lastHeartbeatDevS;
  return Math.max(0, Math.round(ageS * 1000));
}

/** Darkens every LED from the first sample at or after `deadline` (device time) that can still change. */
export function tripWatchdog(core: DeviceCore, deadline = watchdogDueDevS(core)): void {
  const run = core.run;
  const c = core.session.config!;
  let at = Math.max(run.nextDet, Math.ceil((deadline - run.startDevS) * c.sampleRateHz - 1e-6));
  const last = run.lastChange();
  if (last && last.at > at) at = last.at;
  run.changes.push({ at, peaks: new Float64Array(c.leds.length) });
  run.tripped = true;
  run.everTripped = true;
  for (let k = 0; k < c.leds.length; k++) emitLedEvent(core, k, 0, at);
  log(core, LogLevel.LOG_LEVEL_WARN, `heartbeat timeout (${c.heartbeatTimeoutMs} ms): LEDs dark from sample ${at}`);
}
