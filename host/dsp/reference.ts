// Lock-in reference oscillators regenerated from the device sample index (no PLL).
//
// Convention (protocol): LED k is driven as peak * (1 + sin(2 pi f n / fs)) / 2 at
// device sample index n. The reference phase is therefore phi(n) = 2 pi frac(f n / fs).
//
// The phase itself is protocol's (protocol/src/carrier.ts, shared with the
// simulator): a carrier given as a double is an exact dyadic rational, so
// frac(f n / fs) is computed exactly with BigInt for any n < 2^53.
//  - Table mode (the usual case, e.g. integer carriers at integer fs): the reference
//    is periodic with the carrier's exact period P. If P <= MAX_TABLE_PERIOD we
//    tabulate sin/cos over one period (each entry from the exact residue of f/fs in
//    its dyadic form num/den, phase = 2 pi residue / den) and index the table with
//    n mod P, which is exact in double arithmetic for any safe n. Results are
//    bit-identical however the stream is split into blocks.
//  - Fallback mode (P too long, e.g. a float32 carrier like 211.3 Hz): the phase at
//    the start of each chunk is computed exactly as above, and within the chunk as
//    frac(u0 + i f/fs) with Math.sin/Math.cos (phase error < 1e-12 rad; results
//    depend on the block split only at the 1e-15 level). Slower: ~2 trig calls per
//    sample per carrier, shared by all detectors.

import { CarrierPhase } from '../../protocol/index.ts';
import { DspError } from './errors.ts';

export { carrierPhaseCycles } from '../../protocol/index.ts';

/** Longest exact period (samples) tabulated; 2^17 -> 4 MB of tables per carrier (sin, cos and both interleaved). */
export const MAX_TABLE_PERIOD = 1 << 17;

/**
 * Reference sin/cos of one carrier. `prepare(n0, count)` returns the index into
 * `sin`/`cos` (and entry index into `sinCos`) of sample n0; the `count` (<= chunkSamples) entries from there are
 * consecutive, with no wrap to handle: in table mode the arrays hold one period
 * followed by its first `chunkSamples` entries again (entry j is the phase of
 * j mod period), in fallback mode they hold the chunk.
 */
export class CarrierReference {
  readonly carrierHz: number;
  readonly sampleRateHz: number;
  /** Exact period in samples when tabulated, else null. */
  readonly periodSamples: number | null;
  sin: Float64Array;
  cos: Float64Array;
  /** The same entries interleaved (sin of entry j at 2j, its cos at 2j + 1): the lock-in's hot loop reads this. */
  sinCos: Float64Array;
  /** The period (table mode) or Number.MAX_SAFE_INTEGER (fallback); entries at j and j + wrap are equal. */
  wrap: number;
  private readonly carrier: CarrierPhase;
  private readonly cyclesPerSample: number;

  constructor(carrierHz: number, sampleRateHz: number, chunkSamples: number) {
    if (!(Number.isFinite(carrierHz) && carrierHz > 0 && carrierHz < sampleRateHz / 2)) {
      throw new DspError(
        'E_DSP_BAD_CARRIER',
        `carrier ${carrierHz} Hz must be in (0, sampleRateHz/2 = ${sampleRateHz / 2}) Hz`,
      );
    }
    this.carrierHz = carrierHz;
    this.sampleRateHz = sampleRateHz;
    const carrier = new CarrierPhase(carrierHz, sampleRateHz);
    this.carrier = carrier;
    this.cyclesPerSample = carrierHz / sampleRateHz;
    if (carrier.period <= BigInt(MAX_TABLE_PERIOD)) {
      const p = Number(carrier.period);
      this.periodSamples = p;
      // one period, then the first chunkSamples entries again: a chunk never wraps in the hot loop
      this.sin = new Float64Array(p + chunkSamples);
      this.cos = new Float64Array(p + chunkSamples);
      const den = Number(carrier.den);
      let residue = 0n;
      for (let j = 0; j < p; j++) {
        const phase = (2 * Math.PI * Number(residue)) / den;
        this.sin[j] = Math.sin(phase);
        this.cos[j] = Math.cos(phase);
        residue = (residue + carrier.num) % carrier.den;
      }
      for (let j = p; j < p + chunkSamples; j++) {
        this.sin[j] = this.sin[j - p]!;
        this.cos[j] = this.cos[j - p]!;
      }
      this.wrap = p;
    } else {
      this.periodSamples = null;
      this.sin = new Float64Array(chunkSamples);
      this.cos = new Float64Array(chunkSamples);
      this.wrap = Number.MAX_SAFE_INTEGER;
    }
    this.sinCos = new Float64Array(2 * this.sin.length);
    this.interleave(this.sin.length);
  }

  /** Copies the first `count` entries of `sin` and `cos` into `sinCos`. */
  private interleave(count: number): void {
    const { sin, cos, sinCos } = this;
    for (let j = 0; j < count; j++) {
      sinCos[2 * j] = sin[j]!;
      sinCos[2 * j + 1] = cos[j]!;
    }
  }

  /** Positions the reference at sample n0 for `count` (<= chunkSamples) samples. */
  prepare(n0: number, count: number): number {
    const p = this.periodSamples;
    if (p !== null) return n0 % p;
    const u0 = Number(this.carrier.dyadicResidueAt(n0)) / Number(this.carrier.den);
    const r = this.cyclesPerSample;
    const s = this.sin;
    const c = this.cos;
    for (let i = 0; i < count; i++) {
      let u = u0 + i * r;
      u -= Math.floor(u);
      const phase = 2 * Math.PI * u;
      s[i] = Math.sin(phase);
      c[i] = Math.cos(phase);
    }
    this.interleave(count);
    return 0;
  }
}
