// The lock-in carrier phase, shared by the device side (the simulator drives
// its LEDs with it) and the host (it regenerates its reference oscillators
// from it): both must agree on the phase of every sample, for any sample index
// a recording can reach (n < 2^53). The C firmware does the same arithmetic
// in hardware/firmware/core/fr_schedule.c.
//
// Convention: LED k is driven as peak * (1 + sin(2 pi u_k(n))) / 2 at device
// sample index n, with u(n) = frac(f * n / fs) cycles.
//
// Exactness. A carrier given as a double (a float32 from the wire is one too)
// is an exact dyadic rational f = F / 2^e; a sample rate likewise. So
// f / fs = num / den exactly, with integers num = F (scaled) and
// den = fs * 2^e (scaled): u(n) = ((num * n) mod den) / den, computed with
// BigInt. With g = gcd(num, den), step = num / g and period = den / g, the
// carrier repeats exactly every `period` samples and u(n) = ((step * n) mod
// period) / period - the same rational, one rounding: cyclesAt(n) returns that
// double. Consumers that step through samples can advance the residue
// r += step (mod period), exact in doubles while period < 2^52, and divide by
// period: the same doubles as cyclesAt, however the stream is split in blocks.
//
// The host's references work on the dyadic form (dyadicResidueAt(n) / den,
// and 2 pi residue / den for a table entry): the same rational, and the same
// double as cyclesAt whenever den < 2^53 - which holds for every float32
// carrier (all that cross the wire) at any sample rate below 2^29 Hz. Only a
// double carrier with a long binary expansion can round differently in the
// last bit; both forms stay as they were so that neither the simulator's
// output nor the host's demodulation changed when they came to share this file.
import { FiberrigError } from './errors.ts';

export class CarrierError extends FiberrigError {
  declare readonly code: 'E_CARRIER_VALUE' | 'E_CARRIER_RATE';

  constructor(code: 'E_CARRIER_VALUE' | 'E_CARRIER_RATE', message: string, hint: string) {
    super(code, message, hint);
    this.name = 'CarrierError';
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** The exact phase of one carrier at one sample rate. */
export class CarrierPhase {
  readonly carrierHz: number;
  readonly sampleRateHz: number;
  /** carrierHz / sampleRateHz = num / den exactly (dyadic form, not reduced). */
  readonly num: bigint;
  readonly den: bigint;
  /** num / gcd(num, den): phase advance per sample, in units of 1/period cycles. */
  readonly step: bigint;
  /** den / gcd(num, den): the carrier's exact period in samples (huge for carriers such as 211.3 Hz). */
  readonly period: bigint;

  constructor(carrierHz: number, sampleRateHz: number) {
    if (!(Number.isFinite(carrierHz) && carrierHz >= 0)) {
      throw new CarrierError('E_CARRIER_VALUE', `carrier ${carrierHz} Hz`, 'give a finite carrier frequency >= 0 Hz');
    }
    if (!(Number.isFinite(sampleRateHz) && sampleRateHz > 0)) {
      throw new CarrierError('E_CARRIER_RATE', `sample rate ${sampleRateHz} Hz`, 'give a finite sample rate > 0 Hz');
    }
    this.carrierHz = carrierHz;
    this.sampleRateHz = sampleRateHz;
    let e = 0;
    let scaled = carrierHz;
    while (!Number.isInteger(scaled)) {
      scaled *= 2; // exact: only the exponent changes
      e++;
    }
    let fsScaled = sampleRateHz;
    while (!Number.isInteger(fsScaled)) {
      fsScaled *= 2;
      scaled *= 2;
    }
    this.num = BigInt(scaled);
    this.den = BigInt(fsScaled) * (1n << BigInt(e));
    const g = gcd(this.num, this.den) || 1n;
    this.step = this.num / g;
    this.period = this.den / g;
  }

  /** Exact residue (step * n) mod period: u(n) = residue / period. */
  residueAt(n: number): bigint {
    return (this.step * BigInt(n)) % this.period;
  }

  /** Exact residue (num * n) mod den of the dyadic form: u(n) = residue / den. */
  dyadicResidueAt(n: number): bigint {
    return (this.num * BigInt(n)) % this.den;
  }

  /** frac(carrierHz * n / sampleRateHz), in [0, 1), for an integer 0 <= n < 2^53: the exact rational, rounded once (while period < 2^53). */
  cyclesAt(n: number): number {
    return Number(this.residueAt(n)) / Number(this.period);
  }
}

/** Exact frac(carrierHz * n / sampleRateHz), in [0, 1), for an integer 0 <= n < 2^53. */
export function carrierPhaseCycles(carrierHz: number, sampleRateHz: number, n: number): number {
  return new CarrierPhase(carrierHz, sampleRateHz).cyclesAt(n);
}

/** Exact period of a carrier in samples (may be huge for carriers like 211.3 Hz). */
export function carrierPeriodSamples(carrierHz: number, sampleRateHz: number): bigint {
  return new CarrierPhase(carrierHz, sampleRateHz).period;
}
