// Clipping: samples at either rail of the ADC carry no information about the
// signal. Pure, one pass over a block.

/** Number of samples at or beyond `minCode` or `maxCode`. */
export function countClipped(samples: ArrayLike<number>, minCode: number, maxCode: number): number {
  let n = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!;
    if (v <= minCode || v >= maxCode) n++;
  }
  return n;
}
