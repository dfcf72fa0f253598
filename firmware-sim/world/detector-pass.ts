// The detector render's inner pass: a chunk of samples laid out by the world's render loop (grid runs,
// interpolation fractions, LED drive shapes, flicker sines, noise words) and, per detector, one pass
// that sums its light and turns it into codes (noise, rounding, clipping) or noise-free float codes.
import { hash32Into, normalTailOfArgs, ZIG_K, ZIG_W } from './rng.ts';

/** Detector samples per chunk (the render loop's unit; a chunk's grid slots stay cached while it is done). */
export const CHUNK = 512;
/** Odd multiplier spreading a noise counter's low word (rng.ts normalFastAt). */
export const WEYL = 0x9e3779b1 | 0;

// Module-local copies: imported bindings are read through getters in some loaders (tsx), costly in hot loops.
const ZK = ZIG_K;
const ZW = ZIG_W;
const tailOfArgs = normalTailOfArgs;
/** The Ziggurat tail's arguments u and hz (cells: arguments of a call are boxed). */
const TAIL_ARGS = new Float64Array(2);
const hashInto = hash32Into;
/** The noise hash bases of a pass (a store and a load: no boxed number per chunk). */
const BASES = new Int32Array(2);

/** One chunk of detector samples, filled by the world's render loop and read by detectorPass. */
export class DetectorChunk {
  /** Samples in the chunk. */
  n = 0;
  /** Runs of samples between grid points: run r starts at segAt[r] (segAt[runs] = n) and interpolates grid slots segO0[r]..segO1[r]. */
  runs = 0;
  readonly segAt = new Int32Array(CHUNK + 1);
  readonly segO0 = new Int32Array(CHUNK);
  readonly segO1 = new Int32Array(CHUNK);
  /** Per sample: the fraction between its two grid points. */
  readonly fr = new Float64Array(CHUNK);
  /** The high word of every sample's noise counter (a chunk never spans two). */
  noiseHi = 0;
  /** Per sample: its noise counter's low word times WEYL (the hash input shared by the detectors). */
  readonly word = new Int32Array(CHUNK);
  /** The lit LEDs (drive shape non-zero somewhere in the chunk), in board order. */
  nLit = 0;
  readonly lit: Uint8Array;
  /** Per LED: drive shapes (mA-equivalent) of the chunk's samples. */
  readonly shapes: Float64Array[];
  /** Per flicker harmonic: its unit sine at the chunk's samples. */
  readonly flicks: Float64Array[];
  /** Extras per sample (flicker harmonics past the second, lit LEDs past the fourth). */
  readonly extra = new Float64Array(CHUNK);
  /** Zeros: what an unused LED or flicker slot of the pass reads. */
  readonly zero = new Float64Array(CHUNK);
  /** The Ziggurat tail's value (a store and a load: no boxed number in the pass). */
  readonly tail = new Float64Array(1);
  /** Per run: its grid index g (the grid point of segO0; a sample's fraction is t / gridS - g). */
  readonly runGrid = new Float64Array(CHUNK);
  /** Sample i of the chunk is at t = t0S + (at + i) * dtS (the request's t0S and dtS); invGridS = 1 / gridS. */
  t0S = 0;
  dtS = 0;
  at = 0;
  invGridS = 0;
  /** On the tick lattice the noise words step by a constant: word i = word0 + i * wordStep (mod 2^32); else wordStep 0 and `word` holds them. */
  word0 = 0;
  wordStep = 0;
  /** The request's LED currents (mA; the chunk's samples at at..at + n) and the LEDs' drive-curve constants (the world's arrays). */
  currentMa: ReadonlyArray<ArrayLike<number>> = [];
  readonly ledTh: Float64Array;
  readonly ledXMax: Float64Array;
  readonly ledDroop: Float64Array;
  readonly ledOn: Float64Array;
  /** The flicker harmonics' frequencies, phases (cycles) and per-sample rotation (cos, sin) (the world's arrays; see flickerSines). */
  readonly flickHz: Float64Array;
  readonly flickPhaseCycles: Float64Array;
  readonly flickCosStep: Float64Array;
  readonly flickSinStep: Float64Array;

  constructor(
    led: { th: Float64Array; xMax: Float64Array; droop: Float64Array; on: Float64Array },
    flicker: { hz: Float64Array; phaseCycles: Float64Array; cosStep: Float64Array; sinStep: Float64Array },
  ) {
    const leds = led.th.length;
    const harmonics = flicker.hz.length;
    this.ledTh = led.th;
    this.ledXMax = led.xMax;
    this.ledDroop = led.droop;
    this.ledOn = led.on;
    this.flickHz = flicker.hz;
    this.flickPhaseCycles = flicker.phaseCycles;
    this.flickCosStep = flicker.cosStep;
    this.flickSinStep = flicker.sinStep;
    this.lit = new Uint8Array(leds);
    this.shapes = Array.from({ length: leds }, () => new Float64Array(CHUNK));
    this.flicks = Array.from({ length: harmonics }, () => new Float64Array(CHUNK));
  }
}

/** A detector's constants in codes, as one pass uses them (set by the world per detector and request). */
export class DetectorPassParams {
  /** Board position and detector count (gain slots hold [led][detector]). */
  d = 0;
  nD = 1;
  /** Ambient DC and per-harmonic flicker amplitudes (flicker[0..nH)). */
  dc = 0;
  flicker = new Float64Array(0);
  offset = 0;
  maxCode = 0;
  read2 = 0;
  shot = 0;
  /** Noise multiplier: fault factor / sqrt(oversampling). */
  noiseFactor = 1;
  /** The detector's noise key (noise on) or -1 (noise off). */
  noiseKey = -1;
  /** No light reaches the ADC (the dead fault): offset and noise only. */
  dead = false;
}

/**
 * The chunk's flicker sines: harmonic j at sample i is sin(2 pi (frac(hz_j tStart) + phaseCycles_j)) rotated
 * i steps by (cosStep_j, sinStep_j) (exact phase at the chunk start). Two harmonics per loop: two independent
 * rotations, not one waiting on its own latency.
 */
export function flickerSines(
  c: DetectorChunk, tStartS: number, hz: Float64Array, phaseCycles: Float64Array, cosStep: Float64Array, sinStep: Float64Array,
): void {
  const nH = hz.length;
  const n = c.n;
  for (let j = 0; j < nH; j += 2) {
    const j2 = j + 1 < nH ? j + 1 : j;
    const xa = hz[j]! * tStartS;
    const xb = hz[j2]! * tStartS;
    const thA = 2 * Math.PI * (xa - Math.floor(xa) + phaseCycles[j]!);
    const thB = 2 * Math.PI * (xb - Math.floor(xb) + phaseCycles[j2]!);
    let sa = Math.sin(thA);
    let ca = Math.cos(thA);
    let sb = Math.sin(thB);
    let cb = Math.cos(thB);
    const cda = cosStep[j]!;
    const sda = sinStep[j]!;
    const cdb = cosStep[j2]!;
    const sdb = sinStep[j2]!;
    const fa = c.flicks[j]!;
    const fb = c.flicks[j2]!;
    for (let i = 0; i < n; i++) {
      fa[i] = sa;
      fb[i] = sb;
      const sa2 = sa * cda + ca * sda;
      ca = ca * cda - sa * sda;
      sa = sa2;
      const sb2 = sb * cdb + cb * sdb;
      cb = cb * cdb - sb * sdb;
      sb = sb2;
    }
  }
}

/** Flicker harmonics past the second and lit LEDs past the fourth into c.extra; false if there are none (extra unused). */
function extrasOf(c: DetectorChunk, gv: Float64Array, p: DetectorPassParams): boolean {
  const nH = p.flicker.length;
  if (p.dead || (nH <= 2 && c.nLit <= 4)) return false;
  const n = c.n;
  const acc = c.extra;
  acc.fill(0, 0, n);
  for (let j = 2; j < nH; j++) {
    const amp = p.flicker[j]!;
    const flk = c.flicks[j]!;
    for (let i = 0; i < n; i++) acc[i] = acc[i]! + amp * flk[i]!;
  }
  for (let l = 4; l < c.nLit; l++) {
    const off = c.lit[l]! * p.nD + p.d;
    const shp = c.shapes[c.lit[l]!]!;
    for (let r = 0; r < c.runs; r++) {
      const a = gv[c.segO0[r]! + off]!;
      const slope = gv[c.segO1[r]! + off]! - a;
      const end = c.segAt[r + 1]!;
      for (let i = c.segAt[r]!; i < end; i++) acc[i] = acc[i]! + shp[i]! * (a + slope * c.fr[i]!);
    }
  }
  return true;
}

/**
 * Detector p.d over chunk c, one loop per run of samples between two grid points. Light = dc + two flicker
 * harmonics + extras + four LED slots (shape x gain interpolated between the run's two grid slots in gv;
 * unused slots read zeros), in that order. Then either float codes offset + light into oFloat[at..] or, into
 * oInt[at..], offset + light + noise (a one-hash Ziggurat normal x sqrt(read² + shot x light) x noiseFactor),
 * clipped to 0..maxCode and rounded half up.
 */
export function detectorPass(
  c: DetectorChunk, gv: Float64Array, p: DetectorPassParams, oInt: Int32Array | null, oFloat: Float64Array | null, at: number,
): void {
  const nD = p.nD;
  const d = p.d;
  const nH = p.flicker.length;
  const fr = c.fr;
  const segAt = c.segAt;
  const zero = c.zero;
  const dead = p.dead;
  const dc = dead ? 0 : p.dc;
  const f0 = dead || nH < 1 ? 0 : p.flicker[0]!;
  const f1 = dead || nH < 2 ? 0 : p.flicker[1]!;
  const F0 = nH < 1 ? zero : c.flicks[0]!;
  const F1 = nH < 2 ? zero : c.flicks[1]!;
  const X = extrasOf(c, gv, p) ? c.extra : zero;
  const nLit = dead ? 0 : c.nLit;
  const k0 = nLit > 0 ? c.lit[0]! : -1;
  const k1 = nLit > 1 ? c.lit[1]! : -1;
  const k2 = nLit > 2 ? c.lit[2]! : -1;
  const k3 = nLit > 3 ? c.lit[3]! : -1;
  const S0 = k0 < 0 ? zero : c.shapes[k0]!;
  const S1 = k1 < 0 ? zero : c.shapes[k1]!;
  const S2 = k2 < 0 ? zero : c.shapes[k2]!;
  const S3 = k3 < 0 ? zero : c.shapes[k3]!;
  const off = p.offset;
  const mx = p.maxCode;
  const r2 = p.read2;
  const sh = p.shot;
  const nf = p.noiseFactor;
  const noise = oInt !== null && p.noiseKey >= 0;
  const cw = c.word;
  const tail = c.tail;
  if (noise) hashInto(BASES, 0, p.noiseKey, c.noiseHi);
  const base = noise ? BASES[0]! : 0;
  for (let r = 0; r < c.runs; r++) {
    const o0 = c.segO0[r]! + d;
    const o1 = c.segO1[r]! + d;
    const a0 = k0 < 0 ? 0 : gv[o0 + k0 * nD]!;
    const s0 = k0 < 0 ? 0 : gv[o1 + k0 * nD]! - a0;
    const a1 = k1 < 0 ? 0 : gv[o0 + k1 * nD]!;
    const s1 = k1 < 0 ? 0 : gv[o1 + k1 * nD]! - a1;
    const a2 = k2 < 0 ? 0 : gv[o0 + k2 * nD]!;
    const s2 = k2 < 0 ? 0 : gv[o1 + k2 * nD]! - a2;
    const a3 = k3 < 0 ? 0 : gv[o0 + k3 * nD]!;
    const s3 = k3 < 0 ? 0 : gv[o1 + k3 * nD]! - a3;
    const end = segAt[r + 1]!;
    for (let i = segAt[r]!; i < end; i++) {
      const f = fr[i]!;
      const light = dc + f0 * F0[i]! + f1 * F1[i]! + X[i]!
        + S0[i]! * (a0 + s0 * f) + S1[i]! * (a1 + s1 * f) + S2[i]! * (a2 + s2 * f) + S3[i]! * (a3 + s3 * f);
      if (oFloat !== null) {
        oFloat[at + i] = off + light;
        continue;
      }
      let v = off + light;
      if (noise) {
        // normalFastFromBase(base, lo), written out (one hash; the rare tail through a scratch cell)
        let u = base ^ cw[i]!;
        u ^= u >>> 16;
        u = Math.imul(u, 0x7feb352d);
        u ^= u >>> 15;
        u = Math.imul(u, 0x846ca68b);
        u ^= u >>> 16;
        const iz = u & 127;
        const hz = u & -128;
        let z: number;
        if (Math.abs(hz) < ZK[iz]!) z = hz * ZW[iz]!;
        else {
          TAIL_ARGS[0] = u >>> 0;
          TAIL_ARGS[1] = hz;
          tailOfArgs(tail, 0, TAIL_ARGS, iz);
          z = tail[0]!;
        }
        v += Math.sqrt(r2 + sh * (light > 0 ? light : 0)) * nf * z;
      }
      // clip, then round half up (v >= 0 here: truncation is floor; maxCode < 2^30)
      if (v < 0) v = 0;
      else if (v > mx) v = mx;
      oInt![at + i] = (v + 0.5) | 0;
    }
  }
}
