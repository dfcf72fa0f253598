// Typed errors for the DSP library. Every error names what to do about it.

/** Codes thrown by host/dsp. Stable: callers may switch on them. */
export type DspErrorCode =
  | 'E_DSP_BAD_RATE' // a rate is not a positive (integer where required) number, or rates don't divide
  | 'E_DSP_BAD_CUTOFF' // a filter cutoff is out of (0, Nyquist) or too high for the output rate
  | 'E_DSP_BAD_ORDER' // filter order is not an integer in range
  | 'E_DSP_BAD_CARRIER' // a lock-in carrier is out of (0, fs/2) or duplicated
  | 'E_DSP_BAD_CONFIG' // another configuration value is out of range or inconsistent
  | 'E_DSP_BAD_INPUT' // an input array has the wrong length / stride
  | 'E_DSP_BAD_INDEX' // a sample index is not a non-negative safe integer
  | 'E_DSP_DISCONTINUITY' // a block does not start where the previous one ended
  | 'E_DSP_OUTPUT_TOO_SMALL' // a preallocated output array cannot hold the result
  | 'E_DSP_DEGENERATE_FIT'; // a fit has too few valid points or a singular design

export class DspError extends Error {
  readonly code: DspErrorCode;
  constructor(code: DspErrorCode, message: string) {
    super(message);
    this.name = 'DspError';
    this.code = code;
  }
}

/** Throws E_DSP_BAD_INDEX unless `n` is a non-negative safe integer. */
export function checkSampleIndex(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new DspError(
      'E_DSP_BAD_INDEX',
      `${what} must be a non-negative safe integer (got ${n}); pass the device sample index as a Number`,
    );
  }
}
