// fiberrig/sim: the firmware simulator, for scripts and tests without hardware. Importing it
// registers sim:// device URLs (Rig.connect('sim://steps?seed=1&speed=max')) and the simulated
// power meter; it also makes devices in code (createSimDevice, SimPorts), serves them on a pty
// or TCP (serveSimOnPty, serveSimOnTcp, SIM_SERVERS), and reads scenario documents
// (readScenarioFile, parseScenarioSpec; format: firmware-sim/world/scenario-file/README.md).
// host reaches the simulator only through host/cli/devices.ts (test/boundaries), so this
// module re-exports what that registration module hands out.
export {
  createSimDevice, type CreateSimDeviceOptions, type DeviceTruth, type FaultSpec, type GroundTruth, type HardwareFault, LINEAR_SCENARIO,
  parseFaults, parseHardwareFaults, parseScenarioSpec, parseSimUrl, readScenarioFile, SCENARIO_NAMES, type ScenarioSpec, type ScenarioSpecInput,
  SIM_SERVERS, SIMULATED_NE_AMPLITUDE, serveSimOnPty, serveSimOnTcp, SimBinding, type SimDevice, SimError, type SimPortHandle, SimPorts,
  type SimPtyServer, type SimServeOptions, type SimServer, simServeOptionsFromUrl, type SimTcpServer, type SimUrl, type SimWorld, type Speed,
  type TimelineEvent, type WorldFaults, worldFaultsOf,
} from './cli/devices.ts';
