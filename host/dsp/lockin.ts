// One unit: one filter chain (mix, CIC, FIR, settling) whose stages share state per detector and carrier.
// Quadrature lock-in demodulator, referenced to the device sample index.
//
// Signal model (protocol): LED k is driven as peak_k (1 + sin(2 pi f_k n / fs)) / 2.
// A detector seeing g * drive carries a sinusoid of amplitude A = g peak_k / 2 at f_k.
// Output per (detector, carrier): magnitude = A, phaseRad = phi for a component
// A sin(2 pi f_k n / fs + phi). (I = A cos phi, Q = A sin phi.)
//
// Filter chain (per detector x carrier x {I, Q}); defaults fs = 10 kHz, out = 100 Hz:
//   1. mix:   x[n] * sin(phi_k(n)) and x[n] * cos(phi_k(n)), references from tables
//             (see reference.ts; exact for any n < 2^53).
//   2. CIC2:  a second-order CIC (triangular window of 2*R1 - 1 samples) decimating by
//             R1 (default R1 = 10 -> 1 kHz), computed as two weighted polyphase
//             accumulators, so no integrator drift. Double zeros at every multiple of
//             the intermediate rate kill products that would alias to DC.
//   3. IIR:   Butterworth low-pass (default order 4, cutoff 10 Hz) as biquads at the
//             intermediate rate.
//   4. pick:  every R2-th IIR output (default R2 = 10 -> 100 Hz).
// Anchoring: stage-1 output m is the CIC window ending at raw index m*R1; output j is
// the chain output after consuming raw sample j*D (D = fs/out = R1*R2). So output j
// "belongs to" raw index j*D, independent of where a stream or block starts.
// R1 is the largest divisor of D with fs/R1 >= 64 * cutoffHz.
//
// At the defaults (README.md; checked by test/host/dsp/lockin.test.ts):
//   passband: -0.0000 dB at 1 Hz of envelope, -0.0001 dB at 2 Hz, -3.01 dB at 10 Hz.
//   stopband: 78 dB at 91 Hz offset (211 Hz carrier vs 120 Hz flicker), 88 dB at 120 Hz
//   (nearest carrier spacing 211/331), 56 dB at the output Nyquist (50 Hz).
//   group delay: 42.5 ms at DC (0.9 ms CIC + 41.6 ms Butterworth) = 4.25 output samples (delay.ts).
//   settling after reset(): see LockinDesign.settlingOutputs (0.1 % of a step).
//
// Input: one block = `sampleCount` samples of every detector, interleaved like
// SampleBlock.samples (sample 0 of every detector, then sample 1, ...).
// Output: interleaved per output sample: index (j - firstOutputIndex) * channels +
// detector * carrierCount + carrier.

import { butterworthLowpass, type Sos, sosFilterInPlace, sosFilterPairInPlace, sosFrequencyResponse } from './biquad.ts';
import { mixCic, type SampleArray } from './lockin-kernels.ts';
import { isWasmSampleArray, lockinMixWasm } from './lockin-wasm.ts';
import { lockinDelayS } from './delay.ts';
import { checkSampleIndex, DspError } from './errors.ts';
import { CarrierReference } from './reference.ts';

export interface LockinConfig {
  /** ADC rate per detector; an integer (the protocol's uint32). */
  sampleRateHz: number;
  /** One carrier per LED, in (0, fs/2), distinct. */
  carriersHz: readonly number[];
  detectorCount: number;
  /** Default 100 Hz. sampleRateHz / outputRateHz must be an integer. */
  outputRateHz?: number;
  /** Envelope low-pass cutoff, default 10 Hz; must be < outputRateHz / 2. */
  cutoffHz?: number;
  /** Butterworth order, default 4. */
  filterOrder?: number;
  /** Write NaN for outputs until the filter settles after start/reset(). Default true. */
  blankSettling?: boolean;
}

export interface LockinDesign {
  sampleRateHz: number;
  outputRateHz: number;
  /** D = fs / out */
  decimation: number;
  /** R1, CIC2 decimation */
  stage1Decimation: number;
  /** fs / R1 */
  stage1RateHz: number;
  /** R2 = D / R1 */
  stage2Decimation: number;
  cutoffHz: number;
  filterOrder: number;
  /** Butterworth SOS at stage1RateHz (unity DC gain). */
  sos: Sos;
  /** DC group delay of the whole chain, seconds: output j (time j / outputRateHz) measures the envelope at that time minus this (delay.ts). */
  groupDelayS: number;
  /** Stage-1 samples after reset() until a step is within 0.1 % for good. */
  settlingStage1Samples: number;
  /** The same in output samples (upper bound). */
  settlingOutputs: number;
}

const DEFAULT_OUTPUT_RATE_HZ = 100;
const DEFAULT_CUTOFF_HZ = 10;
const DEFAULT_ORDER = 4;
/** Minimum ratio intermediate rate / cutoff when choosing R1. */
const STAGE1_RATE_PER_CUTOFF = 64;
/** Settling criterion for blanking. */
export const LOCKIN_SETTLE_TOLERANCE = 1e-3;
/** Stage-1 samples per internal chunk (bounds scratch memory). */
const CHUNK_STAGE1 = 512;

/** Frequency response of the CIC2 stage (normalised to 1 at DC) at fHz. */
export function cic2Gain(fHz: number, sampleRateHz: number, r1: number): number {
  const x = (Math.PI * fHz) / sampleRateHz;
  if (Math.abs(Math.sin(x)) < 1e-300) return 1;
  const g = Math.sin(r1 * x) / (r1 * Math.sin(x));
  return g * g;
}

/**
 * Gain of the whole envelope filter (CIC2, then the IIR at the folded frequency) for
 * a mixing product at offsetHz from the carrier, normalised to 1 at DC.
 */
export function lockinEnvelopeGain(design: LockinDesign, offsetHz: number): number {
  const fs = design.sampleRateHz;
  const fi = design.stage1RateHz;
  let nu = Math.abs(offsetHz) % fs;
  if (nu > fs / 2) nu = fs - nu;
  let folded = nu % fi;
  if (folded > fi / 2) folded = fi - folded;
  const cic = Math.abs(cic2Gain(nu, fs, design.stage1Decimation));
  return cic * sosFrequencyResponse(design.sos, folded, fi).magnitude;
}

/**
 * Rejection (dB, positive) in the output of the `carrierHz` channel of a sinusoid at
 * `interfererHz` in the detector signal (0 = DC ambient), relative to the interferer's
 * amplitude: both mixing products |f - fc| and f + fc are considered.
 * E.g. lockinRejectionDb(design, 211, 120) is the 120 Hz flicker rejection at 211 Hz.
 */
export function lockinRejectionDb(design: LockinDesign, carrierHz: number, interfererHz: number): number {
  const g = Math.max(
    lockinEnvelopeGain(design, interfererHz - carrierHz),
    lockinEnvelopeGain(design, interfererHz + carrierHz),
  );
  // a DC interferer of amplitude B gives B * g (both products coincide at fc)
  return -20 * Math.log10(interfererHz === 0 ? 2 * g : g);
}

/** Validates a config and designs the filter chain (pure). */
export function designLockin(config: LockinConfig): LockinDesign {
  const fs = config.sampleRateHz;
  if (!(Number.isInteger(fs) && fs > 0)) {
    throw new DspError('E_DSP_BAD_RATE', `sampleRateHz must be a positive integer (got ${fs})`);
  }
  const out = config.outputRateHz ?? DEFAULT_OUTPUT_RATE_HZ;
  if (!(Number.isFinite(out) && out > 0)) {
    throw new DspError('E_DSP_BAD_RATE', `outputRateHz must be positive (got ${out})`);
  }
  const dReal = fs / out;
  const d = Math.round(dReal);
  if (d < 1 || Math.abs(dReal - d) > 1e-9 * dReal) {
    throw new DspError(
      'E_DSP_BAD_RATE',
      `outputRateHz ${out} must divide sampleRateHz ${fs} (fs/out = ${dReal}); choose e.g. ${fs / Math.max(1, Math.round(dReal))} Hz`,
    );
  }
  const cutoffHz = config.cutoffHz ?? DEFAULT_CUTOFF_HZ;
  if (!(Number.isFinite(cutoffHz) && cutoffHz > 0 && cutoffHz < out / 2)) {
    throw new DspError(
      'E_DSP_BAD_CUTOFF',
      `cutoffHz must be in (0, outputRateHz/2 = ${out / 2}) (got ${cutoffHz}); lower it or raise outputRateHz`,
    );
  }
  const order = config.filterOrder ?? DEFAULT_ORDER;
  // R1: largest divisor of D keeping the intermediate rate >= 64 x cutoff.
  let r1 = 1;
  for (let r = d; r >= 1; r--) {
    if (d % r === 0 && fs / r >= STAGE1_RATE_PER_CUTOFF * cutoffHz) {
      r1 = r;
      break;
    }
  }
  const fi = fs / r1;
  const r2 = d / r1;
  const sos = butterworthLowpass(order, cutoffHz, fi);
  // CIC2 (triangle of 2 R1 - 1 samples) delays by R1 - 1 raw samples, the Butterworth by its DC delay (delay.ts)
  const groupDelayS = lockinDelayS({ sampleRateHz: fs, stage1Decimation: r1, stage1RateHz: fi, sos });
  const settlingStage1Samples = computeSettling(sos, r1, fi, cutoffHz);
  return {
    sampleRateHz: fs,
    outputRateHz: out,
    decimation: d,
    stage1Decimation: r1,
    stage1RateHz: fi,
    stage2Decimation: r2,
    cutoffHz,
    filterOrder: order,
    sos,
    groupDelayS,
    settlingStage1Samples,
    settlingOutputs: Math.ceil(settlingStage1Samples / r2) + 1,
  };
}

/** computeSettling's results by design (a few ms each; every demodulator of a recording asks the same). */
const settlingCache = new Map<string, number>();

/**
 * Worst case over the reset phase within a CIC segment: stage-1 samples after reset
 * until the response to a unit step applied at reset stays within the tolerance.
 */
function computeSettling(sos: Sos, r1: number, fi: number, cutoffHz: number): number {
  const key = `${r1} ${fi} ${cutoffHz} ${sos.join(' ')}`;
  let settling = settlingCache.get(key);
  if (settling === undefined) {
    settling = computeSettlingUncached(sos, r1, fi, cutoffHz);
    if (settlingCache.size >= 64) settlingCache.clear();
    settlingCache.set(key, settling);
  }
  return settling;
}

function computeSettlingUncached(sos: Sos, r1: number, fi: number, cutoffHz: number): number {
  const horizon = Math.ceil((200 * fi) / cutoffHz) + 8; // ~200 cutoff periods
  const buf = new Float64Array(horizon);
  const state = new Float64Array((sos.length / 6) * 2);
  let worst = 0;
  const norm = r1 * r1;
  for (let p0 = 0; p0 < r1; p0++) {
    // CIC2 of a unit step starting at segment position p0.
    let a = 0;
    let b = 0;
    let p = p0;
    let m = 0;
    while (m < horizon) {
      a += r1 - p;
      b += p;
      if (p === r1 - 1) {
        buf[m++] = a / norm;
        a = b;
        b = 0;
        p = 0;
      } else p++;
    }
    state.fill(0);
    sosFilterInPlace(sos, state, 0, buf, 0, horizon);
    let last = 0;
    for (let i = 0; i < horizon; i++) {
      if (Math.abs(buf[i]! - 1) > LOCKIN_SETTLE_TOLERANCE) last = i + 1;
    }
    if (last > worst) worst = last;
  }
  return worst;
}

/** Preallocated output arrays (interleaved, see the header). */
export interface LockinOutput {
  magnitude: Float64Array;
  phaseRad: Float64Array;
  /** optional: A cos(phi) */
  inPhase?: Float64Array;
  /** optional: A sin(phi) */
  quadrature?: Float64Array;
}

export interface LockinResult {
  /** output samples written (each holds detectorCount * carrierCount values) */
  count: number;
  /** output index j of the first one (raw index j * decimation) */
  firstOutputIndex: number;
  /** raw sample index of the first output = firstOutputIndex * decimation */
  firstSampleIndex: number;
}

export type { SampleArray } from './lockin-kernels.ts';

export class LockinDemodulator {
  readonly design: LockinDesign;
  readonly detectorCount: number;
  readonly carrierCount: number;
  /** detectorCount * carrierCount */
  readonly channelCount: number;
  readonly carriersHz: readonly number[];
  readonly blankSettling: boolean;

  private readonly refs: CarrierReference[];
  private readonly chunkSamples: number;
  /** per channel: [aI, bI, aQ, bQ] CIC2 accumulators */
  private readonly acc: Float64Array;
  /** per channel: IIR state for I then Q */
  private readonly iirState: Float64Array;
  private readonly stateStride: number;
  private readonly bufI: Float64Array;
  private readonly bufQ: Float64Array;
  private expectedNext: number | null = null;
  private stage1SinceReset = 0;

  constructor(config: LockinConfig) {
    this.design = designLockin(config);
    const dc = config.detectorCount;
    if (!(Number.isInteger(dc) && dc >= 1)) {
      throw new DspError('E_DSP_BAD_CONFIG', `detectorCount must be a positive integer (got ${dc})`);
    }
    const carriers = config.carriersHz;
    if (carriers.length === 0) {
      throw new DspError('E_DSP_BAD_CARRIER', 'carriersHz is empty; give one carrier per LED');
    }
    if (new Set(carriers).size !== carriers.length) {
      throw new DspError('E_DSP_BAD_CARRIER', `carriersHz has duplicates (${carriers.join(', ')}); give each LED its own carrier`);
    }
    this.detectorCount = dc;
    this.carrierCount = carriers.length;
    this.channelCount = dc * carriers.length;
    this.carriersHz = [...carriers];
    this.blankSettling = config.blankSettling ?? true;
    const r1 = this.design.stage1Decimation;
    this.chunkSamples = (CHUNK_STAGE1 - 1) * r1;
    this.refs = carriers.map((f) => new CarrierReference(f, this.design.sampleRateHz, this.chunkSamples));
    this.acc = new Float64Array(this.channelCount * 4);
    this.stateStride = (this.design.sos.length / 6) * 2;
    this.iirState = new Float64Array(this.channelCount * 2 * this.stateStride);
    this.bufI = new Float64Array(CHUNK_STAGE1);
    this.bufQ = new Float64Array(CHUNK_STAGE1);
  }

  /** Raw index the next block must start at, or null after construction/reset(). */
  get nextSampleIndex(): number | null {
    return this.expectedNext;
  }

  /** Largest number of output samples a block of `blockSamples` can produce. */
  maxOutputSamples(blockSamples: number): number {
    return Math.floor((blockSamples - 1) / this.design.decimation) + 1;
  }

  /** Allocates output arrays for blocks of up to `blockSamples` samples. */
  createOutput(blockSamples: number, withIq = false): LockinOutput {
    const n = this.maxOutputSamples(blockSamples) * this.channelCount;
    const out: LockinOutput = { magnitude: new Float64Array(n), phaseRad: new Float64Array(n) };
    if (withIq) {
      out.inPhase = new Float64Array(n);
      out.quadrature = new Float64Array(n);
    }
    return out;
  }

  /**
   * Forgets all filter state (after a gap). The next block may start at any index.
   * The first `design.settlingOutputs` outputs afterwards are NaN if blankSettling.
   */
  reset(): void {
    this.acc.fill(0);
    this.iirState.fill(0);
    this.expectedNext = null;
    this.stage1SinceReset = 0;
  }

  /**
   * Demodulates one block. `samples` holds `sampleCount` samples per detector,
   * interleaved. Throws E_DSP_DISCONTINUITY if the block does not start at
   * `nextSampleIndex` (record the gap, then reset()).
   */
  process(
    samples: SampleArray,
    firstSampleIndex: number,
    out: LockinOutput,
    sampleCount: number = samples.length / this.detectorCount,
  ): LockinResult {
    checkSampleIndex(firstSampleIndex, 'firstSampleIndex');
    const dc = this.detectorCount;
    if (!Number.isInteger(sampleCount) || sampleCount < 0 || sampleCount * dc > samples.length) {
      throw new DspError(
        'E_DSP_BAD_INPUT',
        `samples (length ${samples.length}) must hold sampleCount (${sampleCount}) x ${dc} detectors, interleaved`,
      );
    }
    if (this.expectedNext !== null && firstSampleIndex !== this.expectedNext) {
      throw new DspError(
        'E_DSP_DISCONTINUITY',
        `block starts at sample ${firstSampleIndex} but ${this.expectedNext} was expected; record the gap (gaps.ts checkContinuity) and call reset() first`,
      );
    }
    checkSampleIndex(firstSampleIndex + sampleCount, 'firstSampleIndex + sampleCount');
    const { decimation: d, stage1Decimation: r1 } = this.design;
    const firstOut = Math.ceil(firstSampleIndex / d);
    const lastOut = sampleCount > 0 ? Math.floor((firstSampleIndex + sampleCount - 1) / d) : firstOut - 1;
    const count = Math.max(0, lastOut - firstOut + 1);
    const ch = this.channelCount;
    if (out.magnitude.length < count * ch || out.phaseRad.length < count * ch) {
      throw new DspError(
        'E_DSP_OUTPUT_TOO_SMALL',
        `this block yields ${count} outputs x ${ch} channels; allocate with createOutput(${sampleCount})`,
      );
    }
    const inPhase = out.inPhase;
    const quadrature = out.quadrature;
    if ((inPhase && inPhase.length < count * ch) || (quadrature && quadrature.length < count * ch)) {
      throw new DspError('E_DSP_OUTPUT_TOO_SMALL', 'inPhase/quadrature are shorter than magnitude; allocate with createOutput');
    }

    const acc = this.acc;
    const { bufI, bufQ } = this;
    const kc = this.carrierCount;
    const cs = this.chunkSamples;
    // the WebAssembly SIMD kernel (lockin-wasm.ts; bit-identical) for typed arrays, else mixCic
    const wasm = isWasmSampleArray(samples) ? lockinMixWasm() : null;
    for (let c0 = 0; c0 < sampleCount; c0 += cs) {
      const len = Math.min(cs, sampleCount - c0);
      const n0 = firstSampleIndex + c0;
      const p0 = (n0 + r1 - 1) % r1; // position of n0 in its CIC segment
      const mFirst = Math.ceil(n0 / r1); // stage-1 index of the first segment end in the chunk
      const samplesByte = wasm ? wasm.loadSamples(samples as Exclude<SampleArray, readonly number[]>, c0 * dc, len * dc) : 0;
      let m1 = 0;
      for (let k = 0; k < kc; k++) {
        const ref = this.refs[k]!;
        const idx0 = ref.prepare(n0, len); // idx0 .. idx0 + len - 1 never wrap (reference.ts)
        const tableByte = wasm ? wasm.table(ref, len) + 16 * idx0 : 0;
        for (let det = 0; det < dc; det++) {
          const c = det * kc + k;
          if (wasm && det + 1 < dc) {
            // two detectors per pass: one table load for both
            m1 = wasm.mix2(samplesByte + 8 * det, 8 * dc, tableByte, len, p0, r1, acc, c * 4, (c + kc) * 4);
            wasm.segments(0, m1, bufI, bufQ);
            this.finishChannel(c, bufI, bufQ, m1, mFirst, firstOut, out);
            wasm.segments(1, m1, bufI, bufQ);
            this.finishChannel(c + kc, bufI, bufQ, m1, mFirst, firstOut, out);
            det++;
            continue;
          }
          m1 = wasm
            ? wasm.mix(samplesByte + 8 * det, 8 * dc, tableByte, len, p0, r1, acc, c * 4, bufI, bufQ)
            : mixCic(samples, c0 * dc + det, dc, ref.sinCos, idx0, len, p0, r1, acc, c * 4, bufI, bufQ);
          this.finishChannel(c, bufI, bufQ, m1, mFirst, firstOut, out);
        }
      }
      this.stage1SinceReset += m1;
    }
    this.expectedNext = firstSampleIndex + sampleCount;
    return { count, firstOutputIndex: firstOut, firstSampleIndex: firstOut * d };
  }

  /**
   * Stage 2 and 3 of channel c for one chunk: its m stage-1 I/Q values through the IIR
   * (in place), then every R2-th of them to the output (NaN while settling).
   */
  private finishChannel(c: number, bufI: Float64Array, bufQ: Float64Array, m: number, mFirst: number, firstOut: number, out: LockinOutput): void {
    if (m === 0) return;
    const { stage2Decimation: r2, stage1Decimation: r1 } = this.design;
    const so = c * 2 * this.stateStride;
    sosFilterPairInPlace(this.design.sos, this.iirState, so, so + this.stateStride, bufI, bufQ, m);
    const scale = 2 / (r1 * r1);
    const settle = this.blankSettling ? this.design.settlingStage1Samples : 0;
    const ch = this.channelCount;
    const { magnitude, phaseRad, inPhase, quadrature } = out;
    // pick every R2-th stage-1 sample
    for (let t = (r2 - (mFirst % r2)) % r2; t < m; t += r2) {
      const o = ((mFirst + t) / r2 - firstOut) * ch + c;
      const iv = bufI[t]! * scale;
      const qv = bufQ[t]! * scale;
      if (this.stage1SinceReset + t + 1 <= settle) {
        magnitude[o] = Number.NaN;
        phaseRad[o] = Number.NaN;
        if (inPhase) inPhase[o] = Number.NaN;
        if (quadrature) quadrature[o] = Number.NaN;
      } else {
        magnitude[o] = Math.sqrt(iv * iv + qv * qv);
        phaseRad[o] = Math.atan2(qv, iv);
        if (inPhase) inPhase[o] = iv;
        if (quadrature) quadrature[o] = qv;
      }
    }
  }
}
