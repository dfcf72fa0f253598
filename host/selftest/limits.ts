// Pass/fail limits of the self-test, in one place so a lab can read (and
// override) what "passes" means. Fractions of full scale (FS) are of the
// detector's ADC range; ppm of the nominal sample rate.

export interface SelfTestLimits {
  /** Dark level above this fraction of FS: WARN (large offset or light leak). */
  offsetWarnFractionFs: number;
  /** More than this fraction of dark samples at code 0: FAIL (negative offset clipped: small signals are lost). */
  offsetZeroFraction: number;
  /** Dark noise (rms, mains flicker removed) above this fraction of FS: WARN. */
  noiseWarnFractionFs: number;
  /** Dark noise above this fraction of FS: FAIL. */
  noiseFailFractionFs: number;
  /** Dark level at or above this fraction of FS (or most samples at the top code): FAIL (saturated). */
  saturatedFractionFs: number;
  /** Less range than this left above the brightest LED step: WARN. */
  headroomWarnFraction: number;
  /** LED ladder, fractions of each channel's continuous current limit (the first must be 0). */
  ledLadder: readonly number[];
  /** Each ladder step must rise by more than this many standard errors of the difference. */
  ledStepSigmas: number;
  /** Total rise over the ladder, fraction of FS, for PASS (below: WARN if still significant). */
  ledMinRiseFractionFs: number;
  /** |sample-rate error| up to this: PASS. */
  ratePassPpm: number;
  /** |sample-rate error| above this: FAIL (between: WARN). */
  rateFailPpm: number;
  /** A rate this far off (fraction) is not a crystal error: the device is not real time (N/A). */
  rateImplausibleFraction: number;
  /** Rejected frames per frame received: above 0 WARN, above this FAIL. */
  frameErrorFailRate: number;
  /** Loopback: fraction of sync pulses that must arrive on the wired input. */
  loopbackMinFraction: number;
  /** Watchdog: heartbeat timeout configured for the test, ms (device range 100..60000). */
  watchdogTimeoutMs: number;
  /** Watchdog: LEDs must be dark within timeout x this + 250 ms (host time) for PASS, else WARN; never: FAIL. */
  watchdogLateFactor: number;
}

export const DEFAULT_LIMITS: Readonly<SelfTestLimits> = Object.freeze({
  offsetWarnFractionFs: 0.1,
  offsetZeroFraction: 0.5,
  noiseWarnFractionFs: 100e-6,
  noiseFailFractionFs: 200e-6,
  saturatedFractionFs: 0.95,
  headroomWarnFraction: 0.1,
  ledLadder: Object.freeze([0, 0.125, 0.25, 0.5]),
  ledStepSigmas: 4,
  ledMinRiseFractionFs: 2e-4,
  ratePassPpm: 250,
  rateFailPpm: 1000,
  rateImplausibleFraction: 0.05,
  frameErrorFailRate: 1e-3,
  loopbackMinFraction: 0.9,
  watchdogTimeoutMs: 500,
  watchdogLateFactor: 2,
});
