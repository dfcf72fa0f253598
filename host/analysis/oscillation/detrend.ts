// Per-bout preparation of a trace: NaN gaps (short ones interpolated, long ones split the bout),
// a least-squares polynomial removed, then a zero-phase high-pass.
import { solveLeastNorm } from '../../dsp/linear.ts';
import { butterworthLowpass, type Sos, sosFilterInPlace, sosSteadyState } from '../../dsp/biquad.ts';

export interface Piece {
  /** index of data[0] in the full trace */
  offset: number;
  data: Float64Array;
}

/**
 * Finite pieces of x[i0, i1): NaN runs at the ends are trimmed, interior NaN runs of at most
 * `maxGapSamples` are filled by linear interpolation, longer ones split the range.
 */
export function finitePieces(x: ArrayLike<number>, i0: number, i1: number, maxGapSamples: number): Piece[] {
  const pieces: Piece[] = [];
  let start = -1; // first sample of the current piece
  let lastFinite = -1;
  const close = (): void => {
    if (start < 0) return;
    const data = new Float64Array(lastFinite + 1 - start);
    for (let i = start; i <= lastFinite; i++) data[i - start] = x[i]!;
    interpolateInteriorGaps(data);
    pieces.push({ offset: start, data });
    start = -1;
  };
  for (let i = i0; i < i1; i++) {
    if (!Number.isFinite(x[i]!)) continue;
    if (start >= 0 && i - lastFinite - 1 > maxGapSamples) close();
    if (start < 0) start = i;
    lastFinite = i;
  }
  close();
  return pieces;
}

/** Fills NaN runs by linear interpolation between finite neighbours; runs at the ends take the nearest finite value. */
export function interpolateInteriorGaps(x: Float64Array): void {
  let prev = -1;
  for (let i = 0; i <= x.length; i++) {
    if (i < x.length && !Number.isFinite(x[i]!)) continue;
    if (i - prev > 1) {
      const a = prev >= 0 ? x[prev]! : i < x.length ? x[i]! : 0;
      const b = i < x.length ? x[i]! : a;
      for (let k = prev + 1; k < i; k++) x[k] = prev >= 0 ? a + ((b - a) * (k - prev)) / (i - prev) : b;
    }
    prev = i;
  }
}

/** Removes the least-squares polynomial of `order` (time scaled to [-1, 1]) from x, in place. */
export function polyDetrendInPlace(x: Float64Array, order: number): void {
  const n = x.length;
  if (n === 0) return;
  const m = Math.min(order, n - 1) + 1;
  // normal equations in the basis 1, u, u², … with u in [-1, 1]
  const ata = new Float64Array(m * m);
  const atb = new Float64Array(m);
  const pw = new Float64Array(2 * m);
  for (let i = 0; i < n; i++) {
    const u = n > 1 ? (2 * i) / (n - 1) - 1 : 0;
    pw[0] = 1;
    for (let k = 1; k < 2 * m; k++) pw[k] = pw[k - 1]! * u;
    for (let r = 0; r < m; r++) {
      atb[r]! += pw[r]! * x[i]!;
      for (let c = 0; c < m; c++) ata[r * m + c]! += pw[r + c]!;
    }
  }
  const coef = solveLeastNorm(ata, atb, m);
  for (let i = 0; i < n; i++) {
    const u = n > 1 ? (2 * i) / (n - 1) - 1 : 0;
    let y = 0;
    for (let k = m - 1; k >= 0; k--) y = y * u + coef[k]!;
    x[i]! -= y;
  }
}


/** Runs an SOS cascade forward then backward over x in place (zero phase, |H|² response), each pass started in steady state. */
export function filtfiltInPlace(sos: Sos, x: Float64Array): void {
  const n = x.length;
  if (n === 0) return;
  const state = new Float64Array((sos.length / 6) * 2);
  sosSteadyState(sos, state, 0, x[0]!);
  sosFilterInPlace(sos, state, 0, x, 0, n, 1);
  x.reverse();
  sosSteadyState(sos, state, 0, x[0]!);
  sosFilterInPlace(sos, state, 0, x, 0, n, 1);
  x.reverse();
}

/** The low-pass whose complement is the high-pass below: 2nd-order Butterworth at `cornerHz`. */
export function highpassDesign(rateHz: number, cornerHz: number): Sos {
  return butterworthLowpass(2, cornerHz, rateHz);
}

/**
 * Zero-phase high-pass in place: x minus its forward-backward 2nd-order Butterworth low-pass at
 * `cornerHz`. Gain is 1 − 1/(1 + (f/corner)⁴): 0.5 at the corner, 0.996 at 4× the corner.
 */
export function highpassInPlace(x: Float64Array, sos: Sos): void {
  const low = Float64Array.from(x);
  filtfiltInPlace(sos, low);
  for (let i = 0; i < x.length; i++) x[i]! -= low[i]!;
}

/** Polynomial detrend then high-pass: the per-bout preparation of every trace. */
export function detrendInPlace(x: Float64Array, order: number, highpassSos: Sos): void {
  polyDetrendInPlace(x, order);
  highpassInPlace(x, highpassSos);
}
