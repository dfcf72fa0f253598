// `fiberrig selftest`: the bring-up report of a fiberrig device.
export * from './checks.ts';
export { SelfTestError } from './errors.ts';
export { formatReport } from './format.ts';
export { DEFAULT_LIMITS, type SelfTestLimits } from './limits.ts';
export { runSelfTest, type SelfTestOptions } from './run.ts';
export { SampleStore } from './samples.ts';
export { fitTickRate, MAINS_FLICKER_HZ, type RateFit, upperEnvelope, type WindowStats, windowStats } from './stats.ts';
export { type Outcome, overallOutcome, type SelfTestLine, type SelfTestReport } from './types.ts';
