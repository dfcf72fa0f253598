// Clipping: samples at either rail of the ADC carry no information about the
// signal. Pure, one pass over a block.

/** Whether `v` is at or beyond a rail. */
function atRail(v: number, minCode: number, maxCode: number): number {
  return v <= minCode || v >= maxCode ? 1 : 0;
}

/**
 * Number of samples at or beyond `minCode` or `maxCode`. Four samples per step, tested together:
 * blocks rarely touch a rail, so the one branch per four is nearly always the same way.
 */
export function countClipped(samples: ArrayLike<number>, minCode: number, maxCode: number): number {
  let n = 0;
  const length = samples.length;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    const a = samples[i]!;
    const b = samples[i + 1]!;
    const c = samples[i + 2]!;
    const d = samples[i + 3]!;
    if (a <= minCode || a >= maxCode || b <= minCode || b >= maxCode || c <= minCode || c >= maxCode || d <= minCode || d >= maxCode) {
      n += atRail(a, minCode, maxCode) + atRail(b, minCode, maxCode) + atRail(c, minCode, maxCode) + atRail(d, minCode, maxCode);
    }
  }
  for (; i < length; i++) n += atRail(samples[i]!, minCode, maxCode);
  return n;
}
