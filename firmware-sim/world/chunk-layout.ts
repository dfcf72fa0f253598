// Pieces of the detector render loop's chunk layout (world-impl.ts renderChunk): which LEDs are lit in a chunk,
// the chunk's runs of samples between two grid points (no floor per sample), the LED drive shapes, and the
// noise words of samples off the tick lattice.
import { type DetectorChunk, WEYL } from './detector-pass.ts';
import { NOISE_TICKS_PER_S } from './render-common.ts';

// Module-local copies: imported bindings are read through getters in some loaders (tsx), costly in hot loops.
const TICKS_PER_S = NOISE_TICKS_PER_S;
const WEYL_ = WEYL;
const TWO_P32 = 4294967296;

/**
 * The chunk's lit LEDs into c.lit / c.nLit (board order): an LED dark for the whole chunk (never above
 * threshold, or dead: ledOn 0) adds exactly 0 (finite gains) and is left out. Returns their count.
 */
export function litLedsOf(c: DetectorChunk, ledCurrentMa: ReadonlyArray<ArrayLike<number>>, at: number, n: number): number {
  let nLit = 0;
  for (let k = 0; k < ledCurrentMa.length; k++) {
    const cur = ledCurrentMa[k]!;
    const th = c.ledTh[k]!;
    let first = 0;
    while (first < n && !(cur[at + first]! > th)) first++;
    if (first === n || c.ledOn[k] === 0) continue;
    c.lit[nLit++] = k;
  }
  c.nLit = nLit;
  return nLit;
}

/**
 * The runs of samples at..at + n of a request (sample i at t = t0S + (at + i) * dtS) between two grid points
 * into c.segAt, c.runGrid, c.segO0 / c.segO1 (slotOf(g): grid point g's gain slot, called in order g, g + 1
 * per run as the per-sample layout does) without a floor per sample: t / gridS grows with the sample index, so
 * a run ends at the first sample whose grid index passes the run's (estimated, then stepped to exactly).
 * The same runs as flooring every sample. Returns the run count (c.segAt[runs] is left to the caller).
 */
export function gridRunsOf(
  c: DetectorChunk, t0S: number, dtS: number, at: number, n: number, invGridS: number, slotOf: (g: number) => number,
): number {
  const perSample = dtS * invGridS;
  let runs = 0;
  for (let i = 0; i < n;) {
    const x = (t0S + (at + i) * dtS) * invGridS;
    const g = Math.floor(x);
    let e = i + Math.ceil((g + 1 - x) / perSample);
    if (!(e > i)) e = i + 1;
    if (e > n) e = n;
    while (e > i + 1 && Math.floor((t0S + (at + e - 1) * dtS) * invGridS) > g) e--;
    while (e < n && Math.floor((t0S + (at + e) * dtS) * invGridS) <= g) e++;
    c.segAt[runs] = i;
    c.runGrid[runs] = g;
    c.segO0[runs] = slotOf(g);
    c.segO1[runs] = slotOf(g + 1);
    runs++;
    i = e;
  }
  return runs;
}

/** The lit LEDs' drive shapes (mA-equivalent; clamp(I - th, 0, xm) * (1 - droop * x) * on) of the chunk's n samples into c.shapes. */
export function ledShapesOf(c: DetectorChunk, n: number): void {
  const at = c.at;
  for (let l = 0; l < c.nLit; l++) {
    const k = c.lit[l]!;
    const cur = c.currentMa[k]!;
    const th = c.ledTh[k]!;
    const on = c.ledOn[k]!;
    const xm = c.ledXMax[k]!;
    const dr = c.ledDroop[k]!;
    const shp = c.shapes[k]!;
    for (let i = 0; i < n; i++) {
      let e = cur[at + i]! - th;
      if (!(e > 0)) e = 0;
      else if (e > xm) e = xm;
      shp[i] = e * (1 - dr * e) * on;
    }
  }
}

/**
 * The noise words of samples at..at + n off the tick lattice, each from its counter (noiseCounterOf, its low
 * word times WEYL), into c.word; stops where a counter leaves [cLo, cLo + 2^32) (the chunk ends there, and its
 * lit LEDs are re-scanned). Returns the samples done.
 */
export function noiseWordsOf(c: DetectorChunk, t0S: number, dtS: number, at: number, n: number, cLo: number): number {
  const cw = c.word;
  const cHi = cLo + TWO_P32;
  for (let i = 0; i < n; i++) {
    // noiseCounterOf(t), written out: no boxed number per sample; k a double from the start (+ 0.5 - 0.5 and
    // / 0.5, exact), so that nothing here is compiled for small integers (k passes 2^30 after 107 s: "overflow")
    const k = Math.round((t0S + (at + i) * dtS) * TICKS_PER_S) + 0.5 - 0.5;
    const ctr = k > -0.5 ? k / 0.5 : -k / 0.5 - 1;
    if (ctr < cLo || ctr >= cHi) {
      litLedsOf(c, c.currentMa, at, i);
      return i;
    }
    cw[i] = Math.imul((ctr - cLo) | 0, WEYL_);
  }
  return n;
}
