// The one module where host meets the simulator (test/boundaries checks that
// no other host module imports firmware-sim). Importing it registers the
// simulator where hardware plugs in:
//
// - sim:// device URLs open a simulated device through the same serialport
//   binding seam as real ports (host/transport/open.ts), in this thread, or in a
//   worker thread where the URL says thread=worker and nothing here needs the
//   device (simThreadFor: refused for a test's device, a fixed speed, persist=1,
//   a sync bus, `--meter sim`);
// - sim://replay?rec=DIR (and replay://DIR) open a recording served as a
//   device (host/replay/); every other sim:// URL opens the simulator;
// - `--meter sim` reads the simulated power meter at the fiber tip of the
//   sim:// device a calibration opened (host/calibration/meters.ts).
//
// It also hands the commands that exist only for the simulator what they
// need: `fiberrig sim` its servers (SIM_SERVERS) and `fiberrig cohort
// --simulate` the simulated truth it compares against (SIMULATED_NE_AMPLITUDE).
import {
  checkSimUrl, serveSimOnPty, serveSimOnTcp, SimBinding, type SimDevice, simPowerMeterOf, simServeOptionsFromUrl, simThreadFor, ZOLPIDEM_NE_AMPLITUDE_SCALE,
} from '../../firmware-sim/simulator.ts';
import { CalibrationError } from '../calibration/errors.ts';
import { type MeterInfo, type PowerMeter, registerMeter } from '../calibration/meters.ts';
import { ReplayBinding } from '../replay/binding.ts';
import { checkReplayUrl, isReplayUrl } from '../replay/url.ts';
import { type BindingInterface, registerBinding } from '../transport/open.ts';

/** sim:// URLs whose device `--meter sim` reads: they run in this thread. */
const meterDevices = new Set<string>();

/** Where a sim:// device runs: in this thread when `--meter sim` reads it, else as simThreadFor says. */
function threadFor(path: string): 'main' | 'worker' {
  return meterDevices.has(path.trim()) ? 'main' : simThreadFor(path);
}

/** sim:// URLs: sim://replay?rec=DIR plays a recording, any other scenario is simulated. */
const simOrReplay: BindingInterface = {
  list: async () => [...(await SimBinding.list()), ...(await ReplayBinding.list())],
  open: async (options) => {
    const path = String(options?.path ?? '');
    if (isReplayUrl(path)) return ReplayBinding.open(options);
    return SimBinding.open(options, options && typeof options === 'object' ? { thread: threadFor(path) } : {});
  },
};

/**
 * Registers sim:// (the simulator, and sim://replay?rec=DIR) and replay://DIR as the CLI opens them. Done on
 * import; call it again to restore them after something registered another binding for the scheme (tests).
 */
export function registerSimBindings(): void {
  registerBinding('sim', simOrReplay, (url) => (isReplayUrl(url) ? checkReplayUrl(url) : checkSimUrl(url)));
  registerBinding('replay', ReplayBinding, checkReplayUrl);
}
registerSimBindings();

const SIM_METER_HINT = 'use --device sim://SCENARIO (e.g. sim://dark), or a real meter (manual, scpi:PATH)';

registerMeter({
  kind: 'sim',
  usage: 'sim',
  check: (spec, deviceUrl) => {
    if (spec.toLowerCase() !== 'sim') throw new CalibrationError('E_METER', `--meter ${spec}: the simulator's meter takes no options`, 'write --meter sim');
    if (!/^sim:\/\//i.test(deviceUrl)) throw new CalibrationError('E_METER', `--meter sim reads a simulated device, and ${deviceUrl} is not one`, SIM_METER_HINT);
    meterDevices.add(deviceUrl.trim()); // its device must be reachable here (SimBinding.ports)
  },
  open: async (_spec, deviceUrl): Promise<PowerMeter> => {
    const handle = SimBinding.ports.lookup(deviceUrl);
    if (!handle) throw new CalibrationError('E_METER', '--meter sim reads the simulated device this command opened, and there is none', SIM_METER_HINT);
    const meter = simPowerMeterOf(handle.device);
    const info: MeterInfo = { kind: 'sim', model: meter.model, serialNumber: meter.serialNumber };
    return {
      info,
      setWavelengthNm: async (nm) => {
        meter.wavelengthNm = nm;
        info.wavelengthNm = nm;
      },
      readUw: async () => meter.readUw(),
      close: async () => undefined,
    };
  },
});

/** A running simulator server (`fiberrig sim`). */
export interface SimServer {
  /** Where outside programs open it (the pty path, or tcp://HOST:PORT). */
  readonly url: string;
  /** The simulated device it serves: its world's ground truth, faults to inject. */
  readonly device: SimDevice;
  close(): Promise<void>;
}

/** What `fiberrig sim` serves a sim:// device with. */
export const SIM_SERVERS = {
  /** Refuses a sim:// URL the simulator could never open (typed error with a hint). */
  checkUrl: checkSimUrl,
  /** Serves the device a sim:// URL names on a new pty at `path` (needs socat). */
  async onPty(path: string, deviceUrl: string): Promise<SimServer> {
    const server = await serveSimOnPty(path, simServeOptionsFromUrl(deviceUrl));
    return { url: path, device: server.device, close: () => server.close() };
  },
  /** Serves it on TCP `host:port` (port 0: any free port). */
  async onTcp(host: string, port: number, deviceUrl: string): Promise<SimServer> {
    const server = await serveSimOnTcp(host, port, simServeOptionsFromUrl(deviceUrl));
    return { url: server.url, device: server.device, close: () => server.close() };
  },
} as const;

/** The simulated NE oscillation amplitude per scenario, relative to `sleep` (the truth `cohort --simulate` reports beside its estimate). */
export const SIMULATED_NE_AMPLITUDE: Readonly<Record<string, number>> = { sleep: 1, zolpidem: ZOLPIDEM_NE_AMPLITUDE_SCALE };

// The simulator's public API, re-exported for the `fiberrig/sim` entry point (host/sim.ts) and
// the test helpers (host/testing/): the one way host code reaches it.
export {
  createSimDevice, type CreateSimDeviceOptions, type DeviceTruth, type FaultSpec, type GroundTruth, type HardwareFault,
  LINEAR_SCENARIO, parseFaults, parseHardwareFaults, worldFaultsOf, parseScenarioSpec, parseSimUrl, readScenarioFile, SCENARIO_NAMES,
  type ScenarioSpec, type ScenarioSpecInput, serveSimOnPty, serveSimOnTcp, SimBinding, type SimDevice, SimError,
  type SimPortHandle, SimPorts, type SimPtyServer, type SimServeOptions, simServeOptionsFromUrl, type SimTcpServer,
  type SimUrl, type SimWorld, type Speed, type TimelineEvent, type TimelineEventInput, type WorldFaults,
} from '../../firmware-sim/simulator.ts';
