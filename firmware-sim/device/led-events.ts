// LedEvents: every drive the device applies while running is announced by a
// LedEvent naming its first sample: Start announces every configured LED at
// sample 0 (after its Ack), SetLed and the watchdog their changes. Stop
// darkens every LED from the sample its Ack names (no LedEvent: the Ack says it).
import type { DeviceCore } from './core.ts';

/** Announces configured LED `k` (configuration order) at `currentMa` from detector sample `at`. */
export function emitLedEvent(core: DeviceCore, k: number, currentMa: number, at: number): void {
  const { session } = core;
  const led = session.config!.leds[k]!;
  const requestedUw = session.commandedUw[k];
  const powerUw = currentMa === 0 ? 0 : (requestedUw ?? session.calibration.powerForCurrent(led.channel, currentMa));
  core.uplink.send({ requestId: 0, ledEvent: { channel: led.channel, currentMa, powerUw, sampleIndex: at, configId: session.configId } }, 'stream');
}
