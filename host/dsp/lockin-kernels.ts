// The lock-in's hot loops (lockin.ts): pure functions over typed arrays, no allocation.
//
// Stage 1 of the chain mixes a detector's samples with a carrier's sin/cos and sums them
// in a CIC2 (triangular window of 2 R1 - 1 samples), as two weighted polyphase
// accumulators per output (a: weights R1 - p, closing at this segment's end; b: weights
// p, carried into the next). A sample's position p in its segment runs 0 .. R1 - 1; the
// segment closes after position R1 - 1.
//
// The weighting x (R1 - p), x p is done once per sample (`weighCic`), not once per
// carrier, and the mixing loops run segment by segment (no per-sample branch) with the
// carrier's reference never wrapping inside a chunk (reference.ts). Every sum is formed
// with the same operations in the same order as the per-sample formulation
// (x (R1 - p) sin, ... added sample by sample), so outputs do not depend on this layout.
// (Measured: mixing two detectors in one pass is slower — 8 accumulators spill.)

export type SampleArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Int16Array
  | Uint16Array
  | readonly number[];

/**
 * Writes x (r1 - p) to `wa` and x p to `wb` (from index `base`) for `count` samples of
 * `samples` taken from index `from` with step `stride`; p starts at `p0`.
 */
export function weighCic(
  samples: SampleArray,
  from: number,
  stride: number,
  count: number,
  p0: number,
  r1: number,
  wa: Float64Array,
  wb: Float64Array,
  base: number,
): void {
  let p = p0;
  for (let i = base, j = from, end = base + count; i < end; i++, j += stride) {
    const x = samples[j]!;
    wa[i] = x * (r1 - p);
    wb[i] = x * p;
    if (++p === r1) p = 0;
  }
}

/**
 * Mixes `count` weighted samples (`wa`, `wb` from `base`) with the reference (`sinT`,
 * `cosT` from `ref0`, no wrap) into the accumulators acc[a4 .. a4 + 3] = [aI, bI, aQ, bQ],
 * writing each closed segment's I and Q to `outI`/`outQ` from 0. Returns how many closed.
 */
export function mixCic(
  sinT: Float64Array,
  cosT: Float64Array,
  ref0: number,
  wa: Float64Array,
  wb: Float64Array,
  base: number,
  count: number,
  p0: number,
  r1: number,
  acc: Float64Array,
  a4: number,
  outI: Float64Array,
  outQ: Float64Array,
): number {
  let aI = acc[a4]!;
  let bI = acc[a4 + 1]!;
  let aQ = acc[a4 + 2]!;
  let bQ = acc[a4 + 3]!;
  let p = p0;
  let m = 0;
  const shift = ref0 - base;
  const end = base + count;
  let w = base;
  while (w < end) {
    // the rest of this CIC segment (positions p .. r1 - 1), or of the chunk
    const stop = Math.min(end, w + r1 - p);
    p += stop - w;
    for (; w < stop; w++) {
      const s = sinT[w + shift]!;
      const co = cosT[w + shift]!;
      const xa = wa[w]!;
      const xb = wb[w]!;
      aI += xa * s;
      bI += xb * s;
      aQ += xa * co;
      bQ += xb * co;
    }
    if (p === r1) {
      outI[m] = aI;
      outQ[m] = aQ;
      m++;
      aI = bI;
      aQ = bQ;
      bI = 0;
      bQ = 0;
      p = 0;
    }
  }
  acc[a4] = aI;
  acc[a4 + 1] = bI;
  acc[a4 + 2] = aQ;
  acc[a4 + 3] = bQ;
  return m;
}
