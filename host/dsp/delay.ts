// Where each demodulator's output sits in time relative to the light (or voltage) it
// measured: the DC group delay of its filter chain plus the anchoring of its output
// index, in seconds, from the filter design alone (pure; no streaming state).
//
// Convention: an output labelled with time t (output index / output rate) measures
// the input around t − delayS. A positive delay is a filter lag; a negative one an
// output labelled before its measurement (a TDM cycle's outputs carry the cycle's
// start time, but each LED's window lies later in the cycle).
//
// "Exact" here means: the first moment of the chain's impulse response (what a ramp
// is delayed by once the transient has died out, and the delay of any signal whose
// spectrum is well inside the passband). It is computed in closed form from the
// coefficients, not by differencing the phase response.
import type { Sos } from './biquad.ts';
import { DspError } from './errors.ts';
import type { LockinDesign } from './lockin.ts';
import { type TdmConfig, tdmGeometry } from './tdm.ts';

/**
 * DC group delay of a cascade of biquads, in samples at its own rate. For a section
 * B(z)/A(z) with real coefficients the delay at DC is Σk·b_k/Σb_k − Σk·a_k/Σa_k (the
 * derivative of the phase at 0), and the cascade's delay is the sum over sections.
 */
export function sosDcGroupDelaySamples(sos: Sos): number {
  let total = 0;
  for (let s = 0; s < sos.length; s += 6) {
    const b0 = sos[s]!;
    const b1 = sos[s + 1]!;
    const b2 = sos[s + 2]!;
    const a0 = sos[s + 3]!;
    const a1 = sos[s + 4]!;
    const a2 = sos[s + 5]!;
    const bSum = b0 + b1 + b2;
    const aSum = a0 + a1 + a2;
    if (bSum === 0 || aSum === 0) {
      throw new DspError('E_DSP_BAD_CONFIG', `section ${s / 6} has no DC response (zero or pole at DC): its DC group delay is undefined; use a low-pass`);
    }
    total += (b1 + 2 * b2) / bSum - (a1 + 2 * a2) / aSum;
  }
  return total;
}

/**
 * Lock-in magnitude delay. Stage-1 output m is a triangular CIC2 window of 2·R1 − 1 raw
 * samples ending at raw index m·R1 (centre R1 − 1 samples earlier); the Butterworth at
 * the stage-1 rate adds its DC delay; output j is stage-1 output j·R2, i.e. it belongs
 * to raw index j·D, the time of output j. The references are regenerated at the index of
 * the sample they multiply, so mixing adds no delay (a detector lag shows as phase, and
 * the magnitude is unaffected).
 */
export function lockinDelayS(design: Pick<LockinDesign, 'sampleRateHz' | 'stage1Decimation' | 'stage1RateHz' | 'sos'>): number {
  const r1 = design.stage1Decimation;
  return (r1 - 1) / design.sampleRateHz + sosDcGroupDelaySamples(design.sos) / design.stage1RateHz;
}

/**
 * Decimator (CONTINUOUS mode and aux): output j is the anti-alias filter's output after
 * input sample j·factor, so the delay is the filter's DC delay at the input rate; a
 * pass-through (factor 1, no filter) has none.
 */
export function decimatorDelayS(sos: Sos | null, inputRateHz: number): number {
  if (!sos) return 0;
  if (!(inputRateHz > 0)) throw new DspError('E_DSP_BAD_RATE', `inputRateHz must be positive (got ${inputRateHz})`);
  return sosDcGroupDelaySamples(sos) / inputRateHz;
}

/**
 * TDM: output c of LED `ledIndex` (config order) is the mean of that LED's window in cycle
 * c, labelled with the cycle's start (c · cycleSamples / fs). The mean of a window of W
 * samples starting S samples into slot k measures the light at its centre,
 * k·slotSamples + S + (W − 1)/2 samples after the cycle start: the delay is minus that.
 * Channels of one stream differ by whole slots. (The dark-slot subtraction removes
 * ambient light; it does not move the time of the LED's light.)
 */
export function tdmDelayS(config: TdmConfig, ledIndex: number, sampleRateHz: number): number {
  tdmGeometry(config);
  if (!(Number.isInteger(ledIndex) && ledIndex >= 0 && ledIndex < config.ledCount)) {
    throw new DspError('E_DSP_BAD_CONFIG', `ledIndex must be an integer in [0, ${config.ledCount}) (got ${ledIndex})`);
  }
  if (!(sampleRateHz > 0)) throw new DspError('E_DSP_BAD_RATE', `sampleRateHz must be positive (got ${sampleRateHz})`);
  const centre = ledIndex * config.slotSamples + config.settleSamples + (config.windowSamples - 1) / 2;
  return -centre / sampleRateHz;
}
