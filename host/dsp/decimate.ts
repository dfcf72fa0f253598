// Block-wise decimator for CONTINUOUS mode and aux (EEG/EMG) channels.
//
// Anti-alias: Butterworth low-pass (default order 8, cutoff 0.4 x output rate) as
// biquads at the input rate, then keep every `factor`-th sample. Anchoring: output j
// is the filter output after consuming input sample j * factor (independent of where
// the stream or a block starts). factor = 1 passes samples through unfiltered.
//
// Defaults (order 8, cutoff 0.4 fout): passband flat within 0.01 dB up to 0.2 fout
// (-3 dB at 0.4 fout); attenuation 28 dB at 0.6 fout (folds to 0.4 fout), 64 dB at
// fout (folds to DC). DC group delay `groupDelayS` (delay.ts): 2.03 / fout at factor 10,
// 2.04 / fout at factor 100, 1.97 / fout at factor 4 (20.3 ms for 1 kHz -> 100 Hz).
// Ask for a higher order or lower cutoff where aliasing near fout/2 matters.
//
// State is initialised to steady state for the first sample after construction or
// reset(), so a signal with a large DC level (photometry in CONTINUOUS mode) starts
// without a transient. Inputs must be finite: on a gap, write NaN outputs for the gap
// (gaps.ts) and reset() instead of feeding NaN.
//
// Input/output: interleaved channels (sample 0 of every channel, then sample 1, ...).

import { butterworthLowpass, type Sos, sosFilterInPlace, sosSteadyState } from './biquad.ts';
import { decimatorDelayS } from './delay.ts';
import { checkSampleIndex, DspError } from './errors.ts';
import type { SampleArray } from './lockin.ts';

export interface DecimatorConfig {
  /** input rate (for the filter design) */
  inputRateHz: number;
  /** integer decimation factor >= 1 */
  factor: number;
  channelCount: number;
  /** anti-alias cutoff; default 0.4 * inputRateHz / factor */
  cutoffHz?: number;
  /** Butterworth order, default 8 */
  order?: number;
}

export interface DecimatorResult {
  count: number;
  /** output index j of the first output (input index j * factor) */
  firstOutputIndex: number;
}

const CHUNK = 4096;

export class Decimator {
  readonly inputRateHz: number;
  readonly outputRateHz: number;
  readonly factor: number;
  readonly channelCount: number;
  /** null when factor = 1 (pass-through) */
  readonly sos: Sos | null;
  /** DC group delay, seconds: output j (time j / outputRateHz) measures the input at that time minus this (0 for a pass-through). */
  readonly groupDelayS: number;
  private readonly state: Float64Array;
  private readonly ss: number;
  private readonly buf = new Float64Array(CHUNK);
  private expectedNext: number | null = null;

  constructor(config: DecimatorConfig) {
    const { inputRateHz, factor, channelCount } = config;
    if (!(Number.isFinite(inputRateHz) && inputRateHz > 0)) {
      throw new DspError('E_DSP_BAD_RATE', `inputRateHz must be positive (got ${inputRateHz})`);
    }
    if (!(Number.isInteger(factor) && factor >= 1)) {
      throw new DspError('E_DSP_BAD_RATE', `factor must be an integer >= 1 (got ${factor}); the output rate must divide the input rate`);
    }
    if (!(Number.isInteger(channelCount) && channelCount >= 1)) {
      throw new DspError('E_DSP_BAD_CONFIG', `channelCount must be a positive integer (got ${channelCount})`);
    }
    this.inputRateHz = inputRateHz;
    this.factor = factor;
    this.outputRateHz = inputRateHz / factor;
    this.channelCount = channelCount;
    this.sos =
      factor === 1 && config.cutoffHz === undefined
        ? null
        : butterworthLowpass(config.order ?? 8, config.cutoffHz ?? 0.4 * this.outputRateHz, inputRateHz);
    this.groupDelayS = decimatorDelayS(this.sos, inputRateHz);
    this.ss = this.sos ? (this.sos.length / 6) * 2 : 0;
    this.state = new Float64Array(this.ss * channelCount);
  }

  /** Creates a decimator from rates; outputRateHz must divide inputRateHz. */
  static fromRates(inputRateHz: number, outputRateHz: number, channelCount: number, order?: number): Decimator {
    const f = inputRateHz / outputRateHz;
    const r = Math.round(f);
    if (!(r >= 1 && Math.abs(f - r) <= 1e-9 * f)) {
      throw new DspError('E_DSP_BAD_RATE', `outputRateHz ${outputRateHz} must divide inputRateHz ${inputRateHz} (ratio ${f})`);
    }
    return new Decimator({ inputRateHz, factor: r, channelCount, ...(order !== undefined ? { order } : {}) });
  }

  get nextSampleIndex(): number | null {
    return this.expectedNext;
  }

  maxOutputSamples(blockSamples: number): number {
    return Math.floor((blockSamples - 1) / this.factor) + 1;
  }

  createOutput(blockSamples: number): Float64Array {
    return new Float64Array(this.maxOutputSamples(blockSamples) * this.channelCount);
  }

  reset(): void {
    this.state.fill(0);
    this.expectedNext = null;
  }

  /** Decimates one block of `sampleCount` interleaved samples into `out` (interleaved). */
  process(
    samples: SampleArray,
    firstSampleIndex: number,
    out: Float64Array | Float32Array,
    sampleCount: number = samples.length / this.channelCount,
  ): DecimatorResult {
    checkSampleIndex(firstSampleIndex, 'firstSampleIndex');
    const ch = this.channelCount;
    if (!Number.isInteger(sampleCount) || sampleCount < 0 || sampleCount * ch > samples.length) {
      throw new DspError(
        'E_DSP_BAD_INPUT',
        `samples (length ${samples.length}) must hold sampleCount (${sampleCount}) x ${ch} channels, interleaved`,
      );
    }
    if (this.expectedNext !== null && firstSampleIndex !== this.expectedNext) {
      throw new DspError(
        'E_DSP_DISCONTINUITY',
        `block starts at sample ${firstSampleIndex} but ${this.expectedNext} was expected; record the gap (gaps.ts) and call reset() first`,
      );
    }
    const f = this.factor;
    const firstOut = Math.ceil(firstSampleIndex / f);
    const lastOut = sampleCount > 0 ? Math.floor((firstSampleIndex + sampleCount - 1) / f) : firstOut - 1;
    const count = Math.max(0, lastOut - firstOut + 1);
    if (out.length < count * ch) {
      throw new DspError('E_DSP_OUTPUT_TOO_SMALL', `out holds ${out.length} values; need ${count * ch} (use createOutput(${sampleCount}))`);
    }
    const sos = this.sos;
    if (this.expectedNext === null && sos && sampleCount > 0) {
      for (let c = 0; c < ch; c++) sosSteadyState(sos, this.state, c * this.ss, samples[c]!);
    }
    if (!sos && f === 1) {
      // pass-through: output k is input k (firstOut = firstSampleIndex), rows in the same order
      for (let i = 0, n = sampleCount * ch; i < n; i++) out[i] = samples[i]!;
      this.expectedNext = firstSampleIndex + sampleCount;
      return { count, firstOutputIndex: firstOut };
    }
    const buf = this.buf;
    for (let c0 = 0; c0 < sampleCount; c0 += CHUNK) {
      const len = Math.min(CHUNK, sampleCount - c0);
      const n0 = firstSampleIndex + c0;
      const t0 = (f - (n0 % f)) % f; // first offset in the chunk with (n0 + t) % f == 0
      for (let c = 0; c < ch; c++) {
        if (sos) {
          for (let i = 0, j = c0 * ch + c; i < len; i++, j += ch) buf[i] = samples[j]!;
          sosFilterInPlace(sos, this.state, c * this.ss, buf, 0, len);
          for (let t = t0; t < len; t += f) out[((n0 + t) / f - firstOut) * ch + c] = buf[t]!;
        } else {
          for (let t = t0; t < len; t += f) out[((n0 + t) / f - firstOut) * ch + c] = samples[(c0 + t) * ch + c]!;
        }
      }
    }
    this.expectedNext = firstSampleIndex + sampleCount;
    return { count, firstOutputIndex: firstOut };
  }
}
