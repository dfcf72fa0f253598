// Butterworth low-pass filters as second-order sections (SOS), and a streaming
// SOS filter with persistent state.
//
// Layout (scipy-compatible): an SOS is a Float64Array of 6 numbers per section,
// [b0, b1, b2, a0 = 1, a1, a2]; H(z) = prod (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2).
// Sections are evaluated in transposed direct form II (2 state values each), in
// double precision, which is well conditioned down to cutoff/rate ~ 1e-4.
//
// Design: analog Butterworth prototype, bilinear transform with the cutoff
// pre-warped (|H| = -3.01 dB exactly at cutoffHz). Odd orders get one
// first-order section (b2 = a2 = 0). Sections are ordered from low to high Q.
// Every section has unity DC gain.

import { DspError } from './errors.ts';

export type Sos = Float64Array;

/** Checks a rate and a cutoff; throws typed errors with a remedy. */
function checkDesign(order: number, cutoffHz: number, rateHz: number): void {
  if (!(Number.isFinite(rateHz) && rateHz > 0)) {
    throw new DspError('E_DSP_BAD_RATE', `rateHz must be a positive finite number (got ${rateHz})`);
  }
  if (!(Number.isInteger(order) && order >= 1 && order <= 32)) {
    throw new DspError('E_DSP_BAD_ORDER', `filter order must be an integer in 1..32 (got ${order})`);
  }
  if (!(Number.isFinite(cutoffHz) && cutoffHz > 0 && cutoffHz < rateHz / 2)) {
    throw new DspError(
      'E_DSP_BAD_CUTOFF',
      `cutoffHz must be in (0, rateHz/2 = ${rateHz / 2}) (got ${cutoffHz}); lower the cutoff or raise the rate`,
    );
  }
}

/** Number of second-order sections in `sos`. */
export function sosSectionCount(sos: Sos): number {
  return sos.length / 6;
}

/**
 * Butterworth low-pass of any order (1..32) as second-order sections,
 * by the bilinear transform with pre-warping.
 */
export function butterworthLowpass(order: number, cutoffHz: number, rateHz: number): Sos {
  checkDesign(order, cutoffHz, rateHz);
  const k = Math.tan((Math.PI * cutoffHz) / rateHz); // pre-warped analog cutoff / (2 fs)
  const k2 = k * k;
  const pairs = Math.floor(order / 2);
  const odd = order % 2 === 1;
  const sos = new Float64Array(6 * (pairs + (odd ? 1 : 0)));
  let s = 0;
  if (odd) {
    // H(s) = 1 / (s + 1)  ->  K (1 + z^-1) / ((1 + K) + (K - 1) z^-1)
    const a0 = 1 + k;
    sos.set([k / a0, k / a0, 0, 1, (k - 1) / a0, 0], 0);
    s = 1;
  }
  // Pole pairs s^2 + q s + 1 with q = 2 sin(theta), theta = (2i - 1) pi / (2 order).
  // Largest theta = lowest Q first.
  for (let i = pairs; i >= 1; i--) {
    const q = 2 * Math.sin(((2 * i - 1) * Math.PI) / (2 * order));
    const a0 = 1 + q * k + k2;
    sos.set([k2 / a0, (2 * k2) / a0, k2 / a0, 1, (2 * (k2 - 1)) / a0, (1 - q * k + k2) / a0], 6 * s);
    s++;
  }
  return sos;
}

/** Complex frequency response of an SOS cascade at one frequency. */
export interface FrequencyResponse {
  re: number;
  im: number;
  magnitude: number;
  magnitudeDb: number;
  phaseRad: number;
}

/** H(e^{j 2 pi f / fs}) of the cascade. */
export function sosFrequencyResponse(sos: Sos, freqHz: number, rateHz: number): FrequencyResponse {
  const w = (2 * Math.PI * freqHz) / rateHz;
  const c1 = Math.cos(w);
  const s1 = -Math.sin(w); // z^-1 = cos w - j sin w
  const c2 = Math.cos(2 * w);
  const s2 = -Math.sin(2 * w);
  let re = 1;
  let im = 0;
  for (let i = 0; i < sos.length; i += 6) {
    const nr = sos[i]! + sos[i + 1]! * c1 + sos[i + 2]! * c2;
    const ni = sos[i + 1]! * s1 + sos[i + 2]! * s2;
    const dr = sos[i + 3]! + sos[i + 4]! * c1 + sos[i + 5]! * c2;
    const di = sos[i + 4]! * s1 + sos[i + 5]! * s2;
    const dd = dr * dr + di * di;
    const hr = (nr * dr + ni * di) / dd;
    const hi = (ni * dr - nr * di) / dd;
    const r = re * hr - im * hi;
    im = re * hi + im * hr;
    re = r;
  }
  const magnitude = Math.hypot(re, im);
  return { re, im, magnitude, magnitudeDb: 20 * Math.log10(magnitude), phaseRad: Math.atan2(im, re) };
}

/** Group delay in seconds at freqHz (numerical derivative of the phase). */
export function sosGroupDelayS(sos: Sos, freqHz: number, rateHz: number): number {
  const df = rateHz * 1e-7;
  const f0 = Math.max(0, freqHz - df);
  const f1 = freqHz + df;
  const a = sosFrequencyResponse(sos, f0, rateHz);
  const b = sosFrequencyResponse(sos, f1, rateHz);
  // phase difference of b relative to a, without unwrapping problems
  const dphi = Math.atan2(b.im * a.re - b.re * a.im, b.re * a.re + b.im * a.im);
  return -dphi / (2 * Math.PI * (f1 - f0));
}

/**
 * Filters `count` samples of `buf` in place, starting at `offset`, stepping `stride`,
 * with TDF-II state `state[stateOffset .. stateOffset + 2*sections)`.
 * The building block for multi-channel filters; allocation-free.
 */
export function sosFilterInPlace(
  sos: Sos,
  state: Float64Array,
  stateOffset: number,
  buf: Float64Array | Float32Array,
  offset: number,
  count: number,
  stride = 1,
): void {
  const end = offset + count * stride;
  for (let s = 0, z = stateOffset; s < sos.length; s += 6, z += 2) {
    const b0 = sos[s]!;
    const b1 = sos[s + 1]!;
    const b2 = sos[s + 2]!;
    const a1 = sos[s + 4]!;
    const a2 = sos[s + 5]!;
    let z1 = state[z]!;
    let z2 = state[z + 1]!;
    for (let i = offset; i < end; i += stride) {
      const x = buf[i]!;
      const y = b0 * x + z1;
      z1 = b1 * x - a1 * y + z2;
      z2 = b2 * x - a2 * y;
      buf[i] = y;
    }
    state[z] = z1;
    state[z + 1] = z2;
  }
}

/**
 * `sosFilterInPlace` on two buffers at once (contiguous, `count` samples from 0), e.g. the I and Q
 * of one lock-in channel: the same arithmetic per buffer, so bit-identical results, with two
 * independent recursions interleaved for the CPU to overlap.
 */
export function sosFilterPairInPlace(
  sos: Sos,
  state: Float64Array,
  stateOffsetA: number,
  stateOffsetB: number,
  bufA: Float64Array,
  bufB: Float64Array,
  count: number,
): void {
  for (let s = 0, za = stateOffsetA, zb = stateOffsetB; s < sos.length; s += 6, za += 2, zb += 2) {
    const b0 = sos[s]!;
    const b1 = sos[s + 1]!;
    const b2 = sos[s + 2]!;
    const a1 = sos[s + 4]!;
    const a2 = sos[s + 5]!;
    let a1z = state[za]!;
    let a2z = state[za + 1]!;
    let b1z = state[zb]!;
    let b2z = state[zb + 1]!;
    for (let i = 0; i < count; i++) {
      const xa = bufA[i]!;
      const xb = bufB[i]!;
      const ya = b0 * xa + a1z;
      const yb = b0 * xb + b1z;
      a1z = b1 * xa - a1 * ya + a2z;
      b1z = b1 * xb - a1 * yb + b2z;
      a2z = b2 * xa - a2 * ya;
      b2z = b2 * xb - a2 * yb;
      bufA[i] = ya;
      bufB[i] = yb;
    }
    state[za] = a1z;
    state[za + 1] = a2z;
    state[zb] = b1z;
    state[zb + 1] = b2z;
  }
}

/**
 * Sets TDF-II state so that the cascade is in steady state for a constant input x
 * (the equivalent of scipy's sosfilt_zi(sos) * x). Avoids a start-up transient.
 */
export function sosSteadyState(sos: Sos, state: Float64Array, stateOffset: number, x: number): void {
  let u = x;
  for (let s = 0, z = stateOffset; s < sos.length; s += 6, z += 2) {
    const b0 = sos[s]!;
    const b1 = sos[s + 1]!;
    const b2 = sos[s + 2]!;
    const a1 = sos[s + 4]!;
    const a2 = sos[s + 5]!;
    const y = (u * (b0 + b1 + b2)) / (1 + a1 + a2);
    state[z + 1] = b2 * u - a2 * y;
    state[z] = y - b0 * u;
    u = y;
  }
}

/** A single-channel streaming SOS filter with persistent, preallocated state. */
export class SosFilter {
  readonly sos: Sos;
  private readonly state: Float64Array;

  constructor(sos: Sos) {
    if (sos.length === 0 || sos.length % 6 !== 0) {
      throw new DspError('E_DSP_BAD_CONFIG', `an SOS needs 6 coefficients per section (got ${sos.length})`);
    }
    this.sos = sos;
    this.state = new Float64Array((sos.length / 6) * 2);
  }

  /** Filters `buf` in place (the whole array, or `count` samples from `offset`). */
  processInPlace(buf: Float64Array | Float32Array, offset = 0, count = buf.length - offset): void {
    sosFilterInPlace(this.sos, this.state, 0, buf, offset, count, 1);
  }

  /** Filters `input` into `output` (same length or longer); returns `output`. */
  process<T extends Float64Array | Float32Array>(input: ArrayLike<number>, output: T): T {
    if (output.length < input.length) {
      throw new DspError(
        'E_DSP_OUTPUT_TOO_SMALL',
        `output holds ${output.length} samples but input has ${input.length}; allocate a larger output`,
      );
    }
    for (let i = 0; i < input.length; i++) output[i] = input[i]!;
    sosFilterInPlace(this.sos, this.state, 0, output, 0, input.length, 1);
    return output;
  }

  /** Zeroes the state. */
  reset(): void {
    this.state.fill(0);
  }

  /** Puts the filter in steady state for a constant input `x`. */
  setSteadyState(x: number): void {
    sosSteadyState(this.sos, this.state, 0, x);
  }
}
