// Seeded randomness for the simulated world.
//
// Two kinds:
// - `Rng`: a streaming xoshiro128** generator (fast, 2^128 - 1 period) with a
//   Box-Muller Gaussian. Used where things are generated in order (hypnogram,
//   NE cycles, per-unit parameters). `Rng.derive(seed, stream)` gives an
//   independent generator per named stream, so adding a draw in one stream
//   never shifts another.
// - counter-based functions (`hash32`, `uniformAt`, `normalPairAt`): pure
//   functions of (key, counter). Used for per-sample noise keyed by world time,
//   so a rendered sample does not depend on how the calls were chunked.

/** Golden-ratio increment used by splitmix32. */
const GOLDEN = 0x9e3779b9;

/** A well-mixing 32-bit bijection (the "lowbias32" finaliser). */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Hash two 32-bit words into one (order matters). */
export function hash32(a: number, b: number): number {
  return mix32((a ^ mix32((b + GOLDEN) | 0)) >>> 0);
}

/** hash32(a, b) | 0 into out[i]: a result of a call not inlined is boxed (most 32-bit words), a store is not. */
export function hash32Into(out: Int32Array, i: number, a: number, b: number): void {
  out[i] = hash32(a, b) | 0;
}

/** FNV-1a of a string, mixed: turns stream names into 32-bit keys. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h >>> 0);
}

/** A 32-bit key for (seed, stream name[, index]). */
export function streamKey(seed: number, stream: string, index = 0): number {
  return hash32(hash32(seed >>> 0, hashString(stream)), index >>> 0);
}

const TWO_POW_32 = 4294967296;
const INV_TWO_POW_32 = 1 / TWO_POW_32;
const TWO_PI = 2 * Math.PI;

/** Uniform in (0, 1) (never 0, never 1) from a 32-bit word. */
export function unitFromU32(u: number): number {
  return (u + 0.5) * INV_TWO_POW_32;
}

/** Counter-based uniform in (0, 1): a pure function of (key, hi, lo). */
export function uniformAt(key: number, hi: number, lo: number): number {
  return unitFromU32(hash32(hash32(key, hi), lo));
}

/**
 * Counter-based pair of independent standard normals (Box-Muller), a pure
 * function of (key, counter). `counter` is a non-negative integer up to 2^53.
 * Writes the pair to out[0], out[1].
 */
export function normalPairAt(key: number, counter: number, out: Float64Array): void {
  const hi = Math.floor(counter * INV_TWO_POW_32);
  const lo = (counter - hi * TWO_POW_32) >>> 0;
  const u1 = hash32(hash32(key, hi), lo);
  const u2 = mix32((u1 ^ 0x68e31da4) >>> 0);
  const r = Math.sqrt(-2 * Math.log(unitFromU32(u1)));
  const th = TWO_PI * unitFromU32(u2);
  out[0] = r * Math.cos(th);
  out[1] = r * Math.sin(th);
}

// ---- Ziggurat (Marsaglia & Tsang 2000, 128 layers) for counter-based normals.
const ZIG_R = 3.442619855899;
const ZIG_V = 9.91256303526217e-3;
const ZIG_M1 = 2147483648.0;
const ZK = new Float64Array(128);
const ZW = new Float64Array(128);
/** The Ziggurat's layer bounds and widths, for render loops that write the fast path out (read only). */
export { ZK as ZIG_K, ZW as ZIG_W };
const ZF = new Float64Array(128);
{
  let dn = ZIG_R;
  let tn = dn;
  const q = ZIG_V / Math.exp(-0.5 * dn * dn);
  ZK[0] = (dn / q) * ZIG_M1;
  ZK[1] = 0;
  ZW[0] = q / ZIG_M1;
  ZW[127] = dn / ZIG_M1;
  ZF[0] = 1;
  ZF[127] = Math.exp(-0.5 * dn * dn);
  for (let i = 126; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(ZIG_V / dn + Math.exp(-0.5 * dn * dn)));
    ZK[i + 1] = (dn / tn) * ZIG_M1;
    tn = dn;
    ZF[i] = Math.exp(-0.5 * dn * dn);
    ZW[i] = dn / ZIG_M1;
  }
}

/**
 * Counter-based standard normal (Ziggurat): a pure function of (key, counter),
 * counter a non-negative integer up to 2^53. About 99 % of calls take the fast
 * path (two hashes, one table look-up); the rest draw further words by re-hashing.
 */
export function normalAt(key: number, counter: number): number {
  const hi = Math.floor(counter * INV_TWO_POW_32);
  return normalFromBase(hash32(key, hi), (counter - hi * TWO_POW_32) >>> 0);
}

/**
 * normalAt split for hot loops: normalAt(key, c) === normalFromBase(hash32(key, hi), lo)
 * with hi = floor(c / 2^32), lo = c mod 2^32 (the base changes only every 2^32 counts).
 */
export function normalFromBase(base: number, lo: number): number {
  // the fast path is small enough for the optimizer to inline into hot loops (no boxed
  // arguments or results per call); the rare rest is normalTailOf
  const u = hash32(base, lo);
  const hz = u | 0;
  const iz = mix32((u ^ 0x2545f491) >>> 0) & 127;
  if (Math.abs(hz) < ZK[iz]!) return hz * ZW[iz]!;
  return normalTailOf(u, hz, iz);
}

/**
 * normalAt(key, counters[i]) for i < n, into out[0..n): the same values, for hot loops. The hashes are
 * written out on 32-bit integers here (no call returns a boxed number per sample).
 */
export function normalsAt(key: number, counters: Float64Array, n: number, out: Float64Array): void {
  let hiCur = -1;
  let base = 0;
  for (let i = 0; i < n; i++) {
    const c = counters[i]!;
    const hi = Math.floor(c * INV_TWO_POW_32);
    if (hi !== hiCur) {
      base = hash32(key, hi) | 0;
      hiCur = hi;
    }
    // u = hash32(base, lo) = mix32(base ^ mix32(lo + GOLDEN)), as int32 bits
    let x = ((c - hi * TWO_POW_32) + GOLDEN) | 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x7feb352d);
    x ^= x >>> 15;
    x = Math.imul(x, 0x846ca68b);
    x ^= x >>> 16;
    let u = base ^ x;
    u ^= u >>> 16;
    u = Math.imul(u, 0x7feb352d);
    u ^= u >>> 15;
    u = Math.imul(u, 0x846ca68b);
    u ^= u >>> 16;
    // iz = mix32(u ^ 0x2545f491) & 127
    let z = u ^ 0x2545f491;
    z ^= z >>> 16;
    z = Math.imul(z, 0x7feb352d);
    z ^= z >>> 15;
    z = Math.imul(z, 0x846ca68b);
    z ^= z >>> 16;
    const iz = z & 127;
    // two stores, not one of a conditional: a merge with the tail's (boxed) result would box every value
    if (Math.abs(u) < ZK[iz]!) out[i] = u * ZW[iz]!;
    else normalTailInto(out, i, u >>> 0, u, iz);
  }
}

/** Odd multiplier (2^32 / golden ratio) that spreads a counter's low word before the one hash of `normalFastAt`. */
const WEYL = 0x9e3779b1 | 0;

/**
 * Counter-based standard normal from ONE hash (the fast noise of the render loops): a pure function of
 * (key, counter), counter a non-negative integer up to 2^53. The word u = mix32(hash32(key, hi) ^ lo · WEYL)
 * (hi, lo: the counter's high and low 32 bits) feeds a 128-layer Ziggurat: layer from u's low 7 bits, the
 * value from the other 25 (so layer and value share no bits); about 1.2 % of draws continue in the tail
 * by re-hashing. Not the values of `normalAt` (3 hashes): the same N(0, 1) (tested in rng.test.ts).
 */
export function normalFastAt(key: number, counter: number): number {
  const hi = Math.floor(counter * INV_TWO_POW_32);
  return normalFastFromBase(hash32(key, hi) | 0, (counter - hi * TWO_POW_32) | 0);
}

/** normalFastAt(key, c) === normalFastFromBase(hash32(key, hi) | 0, lo | 0), hi = floor(c / 2^32), lo = c mod 2^32. */
export function normalFastFromBase(base: number, lo: number): number {
  let u = base ^ Math.imul(lo, WEYL);
  u ^= u >>> 16;
  u = Math.imul(u, 0x7feb352d);
  u ^= u >>> 15;
  u = Math.imul(u, 0x846ca68b);
  u ^= u >>> 16;
  const iz = u & 127;
  const hz = u & -128;
  if (Math.abs(hz) < ZK[iz]!) return hz * ZW[iz]!;
  return normalTailOf(u >>> 0, hz, iz);
}

/**
 * normalFastAt(key, counters[i]) for i < n, into out[0..n): the same values, for hot loops (one hash per
 * value written out on 32-bit integers; the base re-hashed only when a counter's high word changes).
 */
export function normalsFastAt(key: number, counters: Float64Array, n: number, out: Float64Array): void {
  let hiCur = -1;
  let base = 0;
  for (let i = 0; i < n; i++) {
    const c = counters[i]!;
    const hi = Math.floor(c * INV_TWO_POW_32);
    if (hi !== hiCur) {
      base = hash32(key, hi) | 0;
      hiCur = hi;
    }
    let u = base ^ Math.imul((c - hi * TWO_POW_32) | 0, WEYL);
    u ^= u >>> 16;
    u = Math.imul(u, 0x7feb352d);
    u ^= u >>> 15;
    u = Math.imul(u, 0x846ca68b);
    u ^= u >>> 16;
    const iz = u & 127;
    const hz = u & -128;
    // two stores, not one of a conditional: a merge with the tail's (boxed) result would box every value
    if (Math.abs(hz) < ZK[iz]!) out[i] = hz * ZW[iz]!;
    else normalTailInto(out, i, u >>> 0, hz, iz);
  }
}

/**
 * normalFastFromBase(base, lo_i) for i < n into out[0..n), given words[i] = Math.imul(lo_i, WEYL) (as
 * `noiseWordOf` makes them): for several keys at the same counters, the counters' part done once.
 */
export function normalsFromWords(base: number, words: Int32Array, n: number, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let u = base ^ words[i]!;
    u ^= u >>> 16;
    u = Math.imul(u, 0x7feb352d);
    u ^= u >>> 15;
    u = Math.imul(u, 0x846ca68b);
    u ^= u >>> 16;
    const iz = u & 127;
    const hz = u & -128;
    if (Math.abs(hz) < ZK[iz]!) out[i] = hz * ZW[iz]!;
    else normalTailInto(out, i, u >>> 0, hz, iz);
  }
}

/** The hash input of a counter's low word lo (an integer 0 .. 2^32 - 1) in normalFastAt. */
export function noiseWordOf(lo: number): number {
  return Math.imul(lo | 0, WEYL);
}

/** normalFromBase past its first table test: further words from a re-hash chain of `u` (no allocation). */
export function normalTailOf(u: number, hz: number, iz: number): number {
  normalTailInto(TAIL_CELL, 0, u, hz, iz);
  return TAIL_CELL[0]!;
}

const TAIL_CELL = new Float64Array(1);

const TAIL_ARGS = new Float64Array(2);

/**
 * normalTailOf written to out[i] rather than returned: a call that is not inlined returns a boxed number (a
 * heap allocation per tail draw); a typed-array store does not.
 */
export function normalTailInto(out: Float64Array, i: number, u: number, hz: number, iz: number): void {
  TAIL_ARGS[0] = u;
  TAIL_ARGS[1] = hz;
  normalTailOfArgs(out, i, TAIL_ARGS, iz);
}

/**
 * normalTailInto with u and hz read from args[0] and args[1]: a call that is not inlined boxes each argument
 * outside V8's small-integer range (most 32-bit words), typed-array cells are not boxed.
 */
export function normalTailOfArgs(out: Float64Array, i: number, args: Float64Array, iz: number): void {
  let u = args[0]!;
  let hz = args[1]!;
  let n = 0;
  for (;;) {
    const x = hz * ZW[iz]!;
    if (iz === 0) {
      let xt: number;
      let y: number;
      do {
        u = mix32((u + 0x6a09e667 + ++n) >>> 0);
        xt = -Math.log(unitFromU32(u)) / ZIG_R;
        u = mix32((u + 0x6a09e667 + ++n) >>> 0);
        y = -Math.log(unitFromU32(u));
      } while (y + y < xt * xt);
      out[i] = hz > 0 ? ZIG_R + xt : -ZIG_R - xt;
      return;
    }
    u = mix32((u + 0x6a09e667 + ++n) >>> 0);
    if (ZF[iz]! + unitFromU32(u) * (ZF[iz - 1]! - ZF[iz]!) < Math.exp(-0.5 * x * x)) {
      out[i] = x;
      return;
    }
    u = mix32((u + 0x6a09e667 + ++n) >>> 0);
    hz = u | 0;
    iz = mix32((u ^ 0x2545f491) >>> 0) & 127;
    if (Math.abs(hz) < ZK[iz]!) {
      out[i] = hz * ZW[iz]!;
      return;
    }
  }
}

/** splitmix32 step, used to expand a 32-bit seed into generator state. */
export function splitmix32(state: { s: number }): number {
  state.s = (state.s + GOLDEN) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** xoshiro128** with a Box-Muller Gaussian. Deterministic for a given seed. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    const st = { s: seed | 0 };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  /** An independent generator for a named stream of a seed. */
  static derive(seed: number, stream: string, index = 0): Rng {
    return new Rng(streamKey(seed, stream, index));
  }

  /** Next 32-bit unsigned word. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in (0, 1). */
  next(): number {
    return unitFromU32(this.nextU32());
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller, both values used). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const r = Math.sqrt(-2 * Math.log(this.next()));
    const th = TWO_PI * this.next();
    this.spare = r * Math.sin(th);
    this.hasSpare = true;
    return r * Math.cos(th);
  }

  /** Log-normal with the given median and log-space standard deviation. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(this.next());
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
