// fiberrig/testing: hardware-in-the-loop test helpers for your own mocha tests. Open any
// target by name with setup and teardown (useTarget, openTarget), control the simulated world
// during a run (target.sim), and assert against the ground truth (expectTracks, expectGaps).
// It registers sim:// (importing it imports host/cli/devices.ts).
export { assertSim } from './sim-only.ts';
export { expectGaps, expectTracks, gapsOf, type SampleSpan, type SignalTrace, signalOf, type TracksOptions, type TracksReport } from './assertions.ts';
export { MissingTool, TestingError, type TestingErrorCode } from './errors.ts';
export { IN_CI, targetFromEnv, type TargetRef, useTarget } from './mocha.ts';
export { openSimTargets, openTarget, TARGET_NAMES, type Target, type TargetOptions } from './targets.ts';
export type { SimControl, WorldEventInput } from './world.ts';
