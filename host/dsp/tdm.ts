// Time-division demodulation (TIME_DIVISION mode).
//
// Schedule (protocol, TimeDivisionTiming): one cycle = one slot per LED in config
// order, plus an optional dark slot at the end. Each slot lasts slotSamples raw
// samples; the LED is on for onSamples from the slot start; samples
// settleSamples .. settleSamples + windowSamples - 1 of the slot are averaged for that
// LED (also in the dark slot). Raw sample n is at cycle position n mod cycleSamples,
// cycleSamples = slotSamples * slotCount; its cycle index is floor(n / cycleSamples).
//
// Output: one value per (detector, LED) per cycle = mean(LED window) - mean(dark
// window of the same cycle) (no subtraction without a dark slot), at output index =
// cycle index. A cycle is emitted only if every one of its window samples was seen
// since the last reset(); so a stream that starts mid-cycle (or restarts after a gap)
// drops the partial cycle instead of mis-assigning it. A cycle is emitted as soon as
// its last window sample arrives.
//
// Input: interleaved like SampleBlock.samples (all detectors for sample 0, then 1...).
// Output: interleaved (cycle - firstCycleIndex) * (detectorCount * ledCount)
// + detector * ledCount + led.

import { tdmDelayS } from './delay.ts';
import { checkSampleIndex, DspError } from './errors.ts';
import type { SampleArray } from './lockin.ts';

export interface TdmConfig {
  ledCount: number;
  detectorCount: number;
  slotSamples: number;
  onSamples: number;
  settleSamples: number;
  windowSamples: number;
  darkSlot: boolean;
}

export interface TdmSlot {
  /** cycle index floor(n / cycleSamples) */
  cycleIndex: number;
  /** slot within the cycle, 0 .. slotCount - 1 */
  slot: number;
  /** LED index in config order, or -1 for the dark slot */
  ledIndex: number;
  /** sample position within its slot */
  slotPosition: number;
  /** the LED of this slot is on at n (always false in the dark slot) */
  ledOn: boolean;
  /** n is averaged for its slot */
  inWindow: boolean;
}

function checkUint(v: number, name: string, min: number): void {
  if (!(Number.isInteger(v) && v >= min)) {
    throw new DspError('E_DSP_BAD_CONFIG', `${name} must be an integer >= ${min} (got ${v})`);
  }
}

/** Validates a TDM config; returns {slotCount, cycleSamples}. */
export function tdmGeometry(config: TdmConfig): { slotCount: number; cycleSamples: number } {
  checkUint(config.ledCount, 'ledCount', 1);
  checkUint(config.detectorCount, 'detectorCount', 1);
  checkUint(config.slotSamples, 'slotSamples', 1);
  checkUint(config.onSamples, 'onSamples', 0);
  checkUint(config.settleSamples, 'settleSamples', 0);
  checkUint(config.windowSamples, 'windowSamples', 1);
  if (config.onSamples > config.slotSamples) {
    throw new DspError('E_DSP_BAD_CONFIG', `onSamples (${config.onSamples}) must not exceed slotSamples (${config.slotSamples})`);
  }
  if (config.settleSamples + config.windowSamples > config.slotSamples) {
    throw new DspError(
      'E_DSP_BAD_CONFIG',
      `settleSamples + windowSamples (${config.settleSamples + config.windowSamples}) must not exceed slotSamples (${config.slotSamples}); shorten the window`,
    );
  }
  const slotCount = config.ledCount + (config.darkSlot ? 1 : 0);
  return { slotCount, cycleSamples: slotCount * config.slotSamples };
}

/** Where raw sample n falls in the schedule (pure). */
export function tdmSchedule(config: TdmConfig, n: number): TdmSlot {
  checkSampleIndex(n, 'n');
  const { cycleSamples } = tdmGeometry(config);
  const pos = n % cycleSamples;
  const slot = Math.floor(pos / config.slotSamples);
  const slotPosition = pos - slot * config.slotSamples;
  const ledIndex = slot < config.ledCount ? slot : -1;
  return {
    cycleIndex: Math.floor(n / cycleSamples),
    slot,
    ledIndex,
    slotPosition,
    ledOn: ledIndex >= 0 && slotPosition < config.onSamples,
    inWindow: slotPosition >= config.settleSamples && slotPosition < config.settleSamples + config.windowSamples,
  };
}

export interface TdmOutput {
  values: Float64Array;
}

export interface TdmResult {
  /** cycles written */
  count: number;
  /** cycle index of the first one written, or -1 when count = 0 */
  firstCycleIndex: number;
}

export class TdmDemodulator {
  readonly config: Readonly<TdmConfig>;
  readonly slotCount: number;
  readonly cycleSamples: number;
  /** detectorCount * ledCount */
  readonly channelCount: number;
  /** per detector x slot window sums for the current cycle */
  private readonly sums: Float64Array;
  /** window samples seen in the current cycle (all detectors share it) */
  private seen = 0;
  private cycle = -1;
  private expectedNext: number | null = null;
  private readonly windowTotal: number;

  constructor(config: TdmConfig) {
    const g = tdmGeometry(config);
    this.config = { ...config };
    this.slotCount = g.slotCount;
    this.cycleSamples = g.cycleSamples;
    this.channelCount = config.detectorCount * config.ledCount;
    this.sums = new Float64Array(config.detectorCount * g.slotCount);
    this.windowTotal = config.windowSamples * g.slotCount;
  }

  get nextSampleIndex(): number | null {
    return this.expectedNext;
  }

  /** Seconds by which LED `ledIndex`'s output time (cycle start) lags its window's centre: negative (delay.ts). */
  delayS(ledIndex: number, sampleRateHz: number): number {
    return tdmDelayS(this.config, ledIndex, sampleRateHz);
  }

  /** Largest number of cycles one block of `blockSamples` can complete. */
  maxOutputCycles(blockSamples: number): number {
    return Math.floor((blockSamples - 1) / this.cycleSamples) + 1;
  }

  createOutput(blockSamples: number): TdmOutput {
    return { values: new Float64Array(this.maxOutputCycles(blockSamples) * this.channelCount) };
  }

  /** Forgets the partial cycle (after a gap); the next block may start anywhere. */
  reset(): void {
    this.sums.fill(0);
    this.seen = 0;
    this.cycle = -1;
    this.expectedNext = null;
  }

  process(
    samples: SampleArray,
    firstSampleIndex: number,
    out: TdmOutput,
    sampleCount: number = samples.length / this.config.detectorCount,
  ): TdmResult {
    checkSampleIndex(firstSampleIndex, 'firstSampleIndex');
    const { detectorCount: dc, ledCount, slotSamples, settleSamples, windowSamples, darkSlot } = this.config;
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
    const needed = this.maxOutputCycles(Math.max(1, sampleCount)) * this.channelCount;
    if (out.values.length < needed) {
      throw new DspError(
        'E_DSP_OUTPUT_TOO_SMALL',
        `out.values holds ${out.values.length} values; a block of ${sampleCount} samples needs ${needed} (use createOutput)`,
      );
    }
    const cs = this.cycleSamples;
    const sums = this.sums;
    const sc = this.slotCount;
    const ch = this.channelCount;
    const winEnd = settleSamples + windowSamples;
    const values = out.values;
    let count = 0;
    let firstCycle = -1;

    let cycle = Math.floor(firstSampleIndex / cs);
    const pos = firstSampleIndex - cycle * cs;
    let slot = Math.floor(pos / slotSamples);
    let sp = pos - slot * slotSamples;
    if (cycle !== this.cycle) {
      // a new cycle (or the first block after reset): start it afresh
      sums.fill(0);
      this.seen = 0;
      this.cycle = cycle;
    }
    for (let i = 0; i < sampleCount; i++) {
      if (sp >= settleSamples && sp < winEnd) {
        const base = i * dc;
        for (let det = 0; det < dc; det++) {
          const si = det * sc + slot;
          sums[si] = sums[si]! + samples[base + det]!;
        }
        if (++this.seen === this.windowTotal) {
          // all windows of this cycle seen: emit
          if (firstCycle < 0) firstCycle = cycle;
          const o = count * ch;
          for (let det = 0; det < dc; det++) {
            const dark = darkSlot ? sums[det * sc + ledCount]! / windowSamples : 0;
            for (let led = 0; led < ledCount; led++) {
              values[o + det * ledCount + led] = sums[det * sc + led]! / windowSamples - dark;
            }
          }
          count++;
        }
      }
      // advance the schedule by one sample
      if (++sp === slotSamples) {
        sp = 0;
        if (++slot === sc) {
          slot = 0;
          cycle++;
          this.cycle = cycle;
          this.seen = 0;
          sums.fill(0);
        }
      }
    }
    this.expectedNext = firstSampleIndex + sampleCount;
    return { count, firstCycleIndex: firstCycle };
  }
}
