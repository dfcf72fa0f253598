// Two pieces of the detector render loop's chunk layout (world-impl.ts renderChunk) that need no per-sample
// floor or store: which LEDs are lit in a chunk, and the chunk's runs of samples between two grid points.
import type { DetectorChunk } from './detector-pass.ts';

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
