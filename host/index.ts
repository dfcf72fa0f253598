// fiberrig: the host's public API, the package's main entry point (`import … from 'fiberrig'`).
// A Rig (connect, configure, acquire, LEDs, digital lines), acquisition configs and their
// checks, demodulation into per-wavelength signals, device URLs and transport bindings, and
// the typed errors. The simulator (sim:// URLs) is `fiberrig/sim`; test helpers `fiberrig/testing`;
// the pure DSP `fiberrig/dsp`. Everything not exported here may change shape between versions.
export {
  type AcquisitionItem, type DarkCause, type DarkSpan, type GapReason, type LinkHealth, Rig, type RigBlock, type RigGap, type RigLight,
  type RigOptions, type Source, type TimedDigitalEvent, type TimedLedEvent,
} from './rig/rig.ts';
export { RigError } from './rig/errors.ts';
export { DeviceError, LinkError } from './link/errors.ts';
export {
  type AcquisitionFile, acquisitionConfigSchema, ConfigError, DEFAULT_LOCKIN_CONFIG, loadAcquisitionConfig, parseAcquisitionConfig, toWireConfig,
} from './config/acquisition.ts';
export { CONFIG_RANGES, ConfigRangeError, type RangeIssue, wireRangeIssues } from './config/wire-ranges.ts';
export { type DemodOptions, demodulate, type SignalBlock, type SignalChannel, SignalDemodulator } from './pipeline/demodulate.ts';
export { PipelineError } from './pipeline/errors.ts';
export { type BindingInterface, checkDeviceUrl, openTransport, registerBinding, type Transport } from './transport/open.ts';
export {
  type AcquisitionConfigInit, type DeviceInfo, FiberrigError, ModulationMode, PROTOCOL_VERSION,
} from '../protocol/index.ts';
