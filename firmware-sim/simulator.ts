// The simulator as the rest of fiberrig uses it: the simulated firmware
// measuring the simulated world. Importing this module makes every
// simulated device (sim://, pty, TCP) measure the full world model
// (scenarios sleep, zolpidem, steps, dark, and the noise-free "linear").
import { LINEAR_SCENARIO, registeredWorldFactory, registerWorldFactory, type WorldFactory } from './device/create.ts';
import { SimError } from './device/errors.ts';
import { SimBinding, workerFits } from './transport/binding.ts';
import { FILE_SCENARIO, parseSimUrl, type SimThread } from './transport/sim-url.ts';
import { createWorld, SCENARIO_NAMES } from './world/index.ts';

/** Every scenario a sim:// URL can name: the built-in "linear" and the world's. */
export const SIM_SCENARIO_NAMES: readonly string[] = [LINEAR_SCENARIO, ...SCENARIO_NAMES, FILE_SCENARIO];

function unknownScenario(scenario: string): SimError {
  return new SimError('E_SIM_UNKNOWN_SCENARIO', `there is no simulator scenario "${scenario}"`, `choose one of: ${SIM_SCENARIO_NAMES.join(', ')} (e.g. sim://sleep?seed=1&speed=10, or sim://file?path=my-scenario.json)`);
}

/** The world factory this module registers: the full world model, with the whole scenario list in its error. */
export const simulatorWorldFactory: WorldFactory = (scenario, seed, board, options) => {
  if (options?.scenarioSpec) return createWorld(options.scenarioSpec, seed, board, options);
  if (!SCENARIO_NAMES.includes(scenario)) throw unknownScenario(scenario);
  return createWorld(scenario, seed, board, options);
};

registerWorldFactory(simulatorWorldFactory);

/** Checks a sim:// URL (syntax, options, scenario name) without creating anything. */
export function checkSimUrl(url: string): void {
  const { scenario } = parseSimUrl(url);
  if (!SIM_SCENARIO_NAMES.includes(scenario)) throw unknownScenario(scenario);
}

/**
 * Where a command that needs nothing of the device but its bytes runs the device behind `url`
 * (transport/README.md): in this thread unless the URL says thread=worker, which is refused where
 * something here needs the device (workerFits) or the world is not the simulator's (the one a worker
 * registers). In this thread by default: measured on this 2-core machine class, the worker path cost
 * 1.1-1.9x the CPU of one thread for the same recording and was 0.8-1.2x as fast (the two threads slow
 * each other down), so `acquire` keeps everything on one thread (transport/README.md).
 */
export function simThreadFor(url: string): SimThread {
  const parsed = parseSimUrl(url);
  if (parsed.thread !== 'worker') return 'main';
  if (registeredWorldFactory() !== simulatorWorldFactory || !workerFits(parsed, SimBinding.ports)) {
    throw new SimError(
      'E_SIM_THREAD',
      `${url}: thread=worker needs speed=max and a device nothing in this process holds (no persist=1, sync_bus, created port or --meter sim)`,
      'drop thread=worker (the default runs the device in this thread)',
    );
  }
  return 'worker';
}

export { SimBinding };
export { serveSimOnPty } from './transport/pty.ts';
export { serveSimOnTcp } from './transport/tcp.ts';
export { simServeOptionsFromUrl } from './transport/serve.ts';
export { type SimPortHandle, SimPorts } from './transport/sim-ports.ts';
export { SimPowerMeter, simPowerMeterOf, type SimPowerMeterOptions } from './device/power-meter.ts';
export { ZOLPIDEM_NE_AMPLITUDE_SCALE } from './world/index.ts';

// The simulator's public API (the `fiberrig/sim` entry point, through host/cli/devices.ts):
// devices made in code, the world's ground truth and faults, scenario documents.
export { createSimDevice, type CreateSimDeviceOptions, LINEAR_SCENARIO } from './device/create.ts';
export type { SimDevice } from './device/device.ts';
export { SimError } from './device/errors.ts';
export { type FaultSpec, GroundTruth as DeviceTruth, parseFaults } from './device/faults.ts';
export { type HardwareFault, parseHardwareFaults, worldFaultsOf } from './device/hardware-faults.ts';
export { type SimUrl, type Speed, parseSimUrl } from './transport/sim-url.ts';
export type { SimPtyServer } from './transport/pty.ts';
export type { SimTcpServer } from './transport/tcp.ts';
export type { SimServeOptions } from './transport/serve.ts';
export { parseScenarioSpec, readScenarioFile } from './world/scenario-file/parse.ts';
export type { ScenarioSpec, ScenarioSpecInput, TimelineEvent, TimelineEventInput } from './world/scenario-file/spec.ts';
export { SCENARIO_NAMES } from './world/index.ts';
export type { GroundTruth, SimWorld } from './world/index.ts';
export type { WorldFaults } from './world/types.ts';
