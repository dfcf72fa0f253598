// Shared by the pty and TCP servers: the device and pacer behind a server.
import { createSimDevice, type CreateSimDeviceOptions } from '../device/create.ts';
import { SYNC_BUSES } from '../device/sync-bus.ts';
import type { SimDevice } from '../device/device.ts';
import { Pacer } from './pacer.ts';
import { parseSimUrl, type Speed } from './sim-url.ts';

export interface SimServeOptions extends CreateSimDeviceOptions {
  /** Simulated seconds per wall-clock second, or "max" (as fast as the client reads while acquiring). Default 1. */
  speed?: Speed;
  /** Serve this device instead of creating one. */
  device?: SimDevice;
  /** Join the process's sync bus of this name when the device is made (sim-url.ts sync_bus=, sync_in=). */
  syncBusName?: { name: string; inputLine: number };
}

export interface SimServer {
  readonly device: SimDevice;
  readonly pacer: Pacer;
  /** Stops serving: closes the client, stops the clock, releases every handle and child process. */
  close(): Promise<void>;
}

export function servedDevice(options: SimServeOptions): { device: SimDevice; pacer: Pacer } {
  const { speed, device: given, syncBusName, ...rest } = options;
  const syncBus = syncBusName ? SYNC_BUSES.joinNow(syncBusName.name, speed ?? 1, syncBusName.inputLine) : rest.syncBus;
  const device = given ?? createSimDevice({ ...rest, ...(syncBus ? { syncBus } : {}) });
  const pacer = new Pacer(device, { speed: speed ?? 1 });
  return { device, pacer };
}

/**
 * Serve options from a sim:// URL, for command lines such as
 * `fiberrig sim --pty /tmp/fiberrig --device sim://sleep?speed=10&faults=...`.
 * (persist is meaningless for a server: its device always persists.)
 */
export function simServeOptionsFromUrl(url: string): SimServeOptions {
  const u = parseSimUrl(url);
  return {
    scenario: u.scenario,
    seed: u.seed,
    speed: u.speed,
    driftPpm: u.driftPpm,
    faults: u.faults,
    ...(u.linkBytesPerSecond ? { linkBytesPerSecond: u.linkBytesPerSecond } : {}),
    ...(u.loopbackLine !== undefined ? { loopbackWire: { toLine: u.loopbackLine } } : {}),
    ...(u.ledAging ? { ledAging: u.ledAging } : {}),
    ...(u.hardwareFaults ? { hardwareFaults: u.hardwareFaults } : {}),
    ...(u.syncBus ? { syncBusName: u.syncBus } : {}),
    ...(u.scenarioFile ? { scenarioSpec: u.scenarioFile.spec, ...(u.scenarioFile.board ? { board: u.scenarioFile.board } : {}) } : {}),
  };
}
