// The lock-in's hot loop (lockin.ts): a pure function over typed arrays, no allocation.
//
// Stage 1 of the chain mixes a detector's samples with a carrier's sin/cos and sums them
// in a CIC2 (triangular window of 2 R1 - 1 samples), as two weighted polyphase
// accumulators per output (a: weights R1 - p, closing at this segment's end; b: weights
// p, carried into the next). A sample's position p in its segment runs 0 .. R1 - 1; the
// segment closes after position R1 - 1.
//
// The loop runs segment by segment, so there is no per-sample branch: within a segment
// the weights R1 - p and p are running counts, and the carrier's reference never wraps
// inside a chunk (reference.ts). Every product and sum is the same operation, in the same
// order, as in the sample-by-sample formulation (x (R1 - p) sin, ... added sample by
// sample), so outputs are bit-identical to it.
// Measured, and slower: applying the weights once per sample in a pass shared by all
// carriers (the extra stores cost more than the multiplies they save), and mixing two
// detectors in one pass (eight running sums do not fit the registers), or two carriers of one
// detector (likewise). Faster (~13 %): sin and cos interleaved in one table (one load stream, one
// bounds check), with the weights kept as doubles.

export type SampleArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Int16Array
  | Uint16Array
  | readonly number[];

/**
 * Mixes `count` samples of one detector (from index `from` of the interleaved `samples`, step
 * `stride`) with one carrier's reference (`sinCos`: sin and cos interleaved, entries from `ref0`,
 * no wrap) into the CIC2
 * accumulators acc[a4 .. a4 + 3] = [aI, bI, aQ, bQ]; each closed segment's I and Q go to
 * `outI`/`outQ` from index 0. `p0` is the position of the first sample in its segment.
 * Returns how many segments closed.
 */
export function mixCic(
  samples: SampleArray,
  from: number,
  stride: number,
  sinCos: Float64Array,
  ref0: number,
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
  let j = from;
  // t walks the interleaved table: entry e's sin at 2e, its cos at 2e + 1
  let t = 2 * ref0;
  const end = 2 * (ref0 + count);
  while (t < end) {
    // the rest of this CIC segment (positions p .. r1 - 1), or of the chunk
    const stop = Math.min(end, t + 2 * (r1 - p));
    // the weights as doubles from the start (+ 0.5 - 0.5 is exact): measured faster than small-integer
    // counters converted at every multiply; the values, and so every product, are the same
    let wB = p + 0.5 - 0.5;
    let wA = r1 - wB;
    p += (stop - t) >> 1;
    for (; t < stop; t += 2, j += stride) {
      const x = samples[j]!;
      const s = sinCos[t]!;
      const co = sinCos[t + 1]!;
      const xa = x * wA;
      const xb = x * wB;
      aI += xa * s;
      bI += xb * s;
      aQ += xa * co;
      bQ += xb * co;
      wA -= 1;
      wB += 1;
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
