// Gap handling helpers. The device's sample counter is the clock: a missing range is
// recorded as a gap (NaN + a gap record), never zero-filled and never closed up.
//
// checkContinuity compares a block's first index with the index expected next and
// classifies it. Typical use in a pipeline, per block:
//   const c = checkContinuity(expected, block.firstSampleIndex, block.sampleCount);
//   'first' | 'contiguous': process the block;
//   'gap':       record {fromIndex, count}; demodulator.reset(); process the block;
//                write NaN for the missing outputs (outputGap + fillNaN);
//   'overlap':   skip the first `skip` samples (already seen), process the rest;
//   'duplicate': drop the block.

import { checkSampleIndex, DspError } from './errors.ts';

export type Continuity =
  | { kind: 'first' } // nothing expected yet
  | { kind: 'contiguous' }
  | { kind: 'gap'; fromIndex: number; count: number } // samples [fromIndex, fromIndex + count) missing
  | { kind: 'overlap'; fromIndex: number; skip: number } // the first `skip` samples repeat ones already seen
  | { kind: 'duplicate'; fromIndex: number; count: number }; // the whole block was already seen

/** Classifies a block against the expected next index (null = nothing expected). */
export function checkContinuity(expectedNext: number | null, firstIndex: number, sampleCount: number): Continuity {
  checkSampleIndex(firstIndex, 'firstIndex');
  if (!(Number.isInteger(sampleCount) && sampleCount >= 0)) {
    throw new DspError('E_DSP_BAD_INPUT', `sampleCount must be a non-negative integer (got ${sampleCount})`);
  }
  if (expectedNext === null) return { kind: 'first' };
  checkSampleIndex(expectedNext, 'expectedNext');
  if (firstIndex === expectedNext) return { kind: 'contiguous' };
  if (firstIndex > expectedNext) return { kind: 'gap', fromIndex: expectedNext, count: firstIndex - expectedNext };
  if (firstIndex + sampleCount <= expectedNext) return { kind: 'duplicate', fromIndex: firstIndex, count: sampleCount };
  return { kind: 'overlap', fromIndex: firstIndex, skip: expectedNext - firstIndex };
}

/**
 * Output indices lost to a raw gap in a stream decimated by `factor` (output j at raw
 * index j * factor): given the next output index the stream expected and the raw index
 * where data resumes, returns {fromIndex, count} of outputs to write as NaN.
 * (Outputs that the demodulator blanks while settling are written by it, as NaN.)
 */
export function outputGap(expectedNextOutput: number, resumeSampleIndex: number, factor: number): { fromIndex: number; count: number } {
  checkSampleIndex(expectedNextOutput, 'expectedNextOutput');
  checkSampleIndex(resumeSampleIndex, 'resumeSampleIndex');
  if (!(Number.isInteger(factor) && factor >= 1)) {
    throw new DspError('E_DSP_BAD_RATE', `factor must be an integer >= 1 (got ${factor})`);
  }
  const firstProduced = Math.ceil(resumeSampleIndex / factor);
  return { fromIndex: expectedNextOutput, count: Math.max(0, firstProduced - expectedNextOutput) };
}

/** Writes NaN into out[offset + i * stride] for i in [0, count). Returns out. */
export function fillNaN<T extends Float64Array | Float32Array>(out: T, offset: number, count: number, stride = 1): T {
  if (count < 0 || offset < 0 || (count > 0 && offset + (count - 1) * stride >= out.length)) {
    throw new DspError(
      'E_DSP_OUTPUT_TOO_SMALL',
      `cannot write ${count} NaN values from ${offset} (stride ${stride}) into an array of ${out.length}; allocate more`,
    );
  }
  if (stride === 1) out.fill(Number.NaN, offset, offset + count);
  else for (let i = 0, j = offset; i < count; i++, j += stride) out[j] = Number.NaN;
  return out;
}

/** A new Float64Array of `count * channels` NaN values (for gap emissions). */
export function nanBlock(count: number, channels = 1): Float64Array {
  return new Float64Array(count * channels).fill(Number.NaN);
}
