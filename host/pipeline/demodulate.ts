// From raw blocks to per-wavelength signals: picks the demodulator the
// configuration calls for (lock-in, time division, or plain decimation),
// keeps it continuous across blocks, and turns gaps into NaN runs on the
// output time base — never zero-filled, never closed up.
import { Observable, type OperatorFunction } from 'rxjs';
import { type AcquisitionConfigInit, type DeviceInfo, ModulationMode } from '../../protocol/index.ts';
import { Decimator } from '../dsp/decimate.ts';
import { LockinDemodulator, type LockinOutput } from '../dsp/lockin.ts';
import { TdmDemodulator, type TdmOutput } from '../dsp/tdm.ts';
import type { AcquisitionItem, RigBlock, Source } from '../rig/rig.ts';
import { auxScale, type AuxVoltsAt } from './aux-units.ts';
import { PipelineError } from './errors.ts';

export interface SignalChannel {
  /** e.g. "470nm@det0", "EEG" */
  name: string;
  source: Source;
  /** Detector or aux input id. */
  inputId: number;
  ledChannel?: number;
  wavelengthNm?: number;
  carrierHz?: number;
  /**
   * Volts per ADC code of the input, to convert values. Aux channels: volts at the electrode (from the
   * device's AuxInputInfo.electrode_volts_per_code, see aux-units.ts), or at the ADC input when `voltsAt`
   * says so (a device that did not report its amplifier gain).
   */
  voltsPerCode: number;
  /** Aux channels: where `voltsPerCode` measures volts, and the warning of a fallback scale. */
  voltsAt?: AuxVoltsAt;
  scaleWarning?: string;
  /**
   * Seconds by which this channel's output lags the light (or voltage) it measures: the
   * filter chain's group delay at DC plus where its window sits, from the filter design.
   * Exports subtract it from output times unless asked not to (and then record it).
   */
  groupDelayS: number;
}

/** One emission: `count` output samples of every channel, starting at output index `firstIndex`. */
export interface SignalBlock {
  stream: 'signals' | 'aux';
  rateHz: number;
  /** Output index on the session timeline: sample k is at time (firstIndex + k) / rateHz seconds. */
  firstIndex: number;
  count: number;
  channels: readonly SignalChannel[];
  /** Per channel, `count` values (ADC-code units; NaN where samples were missing or filters were settling). */
  values: Float64Array[];
  /** Lock-in only: per channel phase in radians. */
  phaseRad?: Float64Array[];
}

export interface DemodOptions {
  /** Output rate for lock-in and continuous modes; default 100 Hz. */
  outputRateHz?: number;
  /** Lock-in envelope low-pass cutoff; default 10 Hz. */
  lowpassHz?: number;
  /** Aux output rate; default the aux input rate (no decimation). */
  auxOutputRateHz?: number;
}

interface Stage {
  readonly stream: 'signals' | 'aux';
  readonly source: Source;
  readonly channels: SignalChannel[];
  readonly rateHz: number;
  /**
   * Feed one block; returns output samples interleaved (count x channels, the first count rows of the
   * arrays, which are the stage's own and are overwritten by the next call) with their first output index.
   */
  process(samples: ArrayLike<number>, firstIndex: number, sampleCount: number): { firstIndex: number; count: number; interleaved: Float64Array; phase?: Float64Array };
  reset(): void;
  /**
   * Samples after which the device's modulation schedule repeats, as far as this stage's output
   * depends on it (1: not at all). A new segment restarts the device's counter at 0, so the stage
   * is fed the device index plus a session offset rounded to a multiple of this.
   */
  readonly schedulePeriodSamples: number;
  /** How many outputs (indices 0..n-1) depend only on input samples before `sampleIndex`. */
  outputsBefore(sampleIndex: number): number;
  /** Outputs carry a phase (lock-in). */
  readonly hasPhase: boolean;
}

function voltsPerCode(bits: number, fullScaleV: number): number {
  return bits > 0 ? fullScaleV / 2 ** bits : 1;
}

function detectorStage(config: AcquisitionConfigInit, info: DeviceInfo, options: DemodOptions): Stage {
  const rateHz = config.sampleRateHz ?? 0;
  const detectorIds = config.detectorIds ?? [];
  const leds = config.leds ?? [];
  const detectors = detectorIds.map((id) => {
    const d = info.detectors.find((x) => x.id === id);
    if (!d) throw new PipelineError('E_PIPELINE_CONFIG', `detector ${id} is not on this device`, 'use a detector id that `fiberrig info --device URL` lists');
    return d;
  });
  const blockSamples = config.blockSamples ?? 256;
  const ledInfo = (channel: number) => info.leds.find((l) => l.id === channel);
  const mode = config.mode ?? ModulationMode.MODULATION_MODE_UNSPECIFIED;
  const outputRateHz = options.outputRateHz ?? 100;

  if (mode === ModulationMode.MODULATION_MODE_LOCK_IN) {
    const carriersHz = leds.map((l) => l.carrierHz ?? 0);
    const demod = new LockinDemodulator({
      sampleRateHz: rateHz, carriersHz, detectorCount: detectors.length, outputRateHz,
      ...(options.lowpassHz !== undefined ? { cutoffHz: options.lowpassHz } : {}),
    });
    const out: LockinOutput = demod.createOutput(blockSamples);
    const channels: SignalChannel[] = [];
    for (const d of detectors) {
      for (const l of leds) {
        const wavelengthNm = ledInfo(l.channel ?? 0)?.wavelengthNm ?? 0;
        channels.push({ name: `${wavelengthNm}nm@det${d.id}`, source: 'detector', inputId: d.id, ledChannel: l.channel ?? 0, wavelengthNm, carrierHz: l.carrierHz ?? 0, voltsPerCode: voltsPerCode(d.adcBits, d.fullScaleV), groupDelayS: demod.design.groupDelayS });
      }
    }
    return {
      stream: 'signals', source: 'detector', channels, rateHz: demod.design.outputRateHz,
      process(samples, firstIndex, sampleCount) {
        const r = demod.process(samples as never, firstIndex, out, sampleCount);
        return { firstIndex: r.firstOutputIndex, count: r.count, interleaved: out.magnitude, phase: out.phaseRad };
      },
      reset: () => demod.reset(),
      // the magnitude does not depend on the carriers' phase; the phase output of a later segment is
      // relative to the reference regenerated from the session index
      schedulePeriodSamples: 1,
      outputsBefore: (sampleIndex) => Math.ceil(sampleIndex / demod.design.decimation),
      hasPhase: true,
    };
  }

  if (mode === ModulationMode.MODULATION_MODE_TIME_DIVISION) {
    const td = config.timeDivision;
    if (!td) throw new PipelineError('E_PIPELINE_CONFIG', 'time division needs timeDivision timing', 'add timeDivision to the configuration');
    const demod = new TdmDemodulator({
      ledCount: leds.length, detectorCount: detectors.length, slotSamples: td.slotSamples ?? 0, onSamples: td.onSamples ?? 0,
      settleSamples: td.settleSamples ?? 0, windowSamples: td.windowSamples ?? 0, darkSlot: Boolean(td.darkSlot),
    });
    const maxCycles = Math.ceil(blockSamples / demod.cycleSamples) + 1;
    const out: TdmOutput = { values: new Float64Array(maxCycles * demod.channelCount) };
    const channels: SignalChannel[] = [];
    for (const d of detectors) {
      leds.forEach((l, k) => {
        const wavelengthNm = ledInfo(l.channel ?? 0)?.wavelengthNm ?? 0;
        // each LED's window sits at its own place in the cycle
        channels.push({ name: `${wavelengthNm}nm@det${d.id}`, source: 'detector', inputId: d.id, ledChannel: l.channel ?? 0, wavelengthNm, voltsPerCode: voltsPerCode(d.adcBits, d.fullScaleV), groupDelayS: demod.delayS(k, rateHz) });
      });
    }
    return {
      stream: 'signals', source: 'detector', channels, rateHz: rateHz / demod.cycleSamples,
      process(samples, firstIndex, sampleCount) {
        const r = demod.process(samples as never, firstIndex, out, sampleCount);
        return { firstIndex: r.firstCycleIndex, count: r.count, interleaved: out.values };
      },
      reset: () => demod.reset(),
      // the LED of a slot is a function of the device's sample index: a segment's cycles must keep it
      schedulePeriodSamples: demod.cycleSamples,
      outputsBefore: (sampleIndex) => Math.floor(sampleIndex / demod.cycleSamples),
      hasPhase: false,
    };
  }

  if (mode === ModulationMode.MODULATION_MODE_CONTINUOUS) {
    const factor = Math.round(rateHz / outputRateHz);
    if (factor < 1 || factor * outputRateHz !== rateHz) {
      throw new PipelineError('E_PIPELINE_CONFIG', `output rate ${outputRateHz} Hz does not divide the sample rate ${rateHz} Hz`, 'choose an output rate that divides the sample rate');
    }
    const channels: SignalChannel[] = detectors.map((d) => ({ name: `det${d.id}`, source: 'detector', inputId: d.id, voltsPerCode: voltsPerCode(d.adcBits, d.fullScaleV), groupDelayS: 0 /* set by decimatingStage */ }));
    return decimatingStage('signals', 'detector', channels, rateHz, factor, blockSamples);
  }
  throw new PipelineError('E_PIPELINE_CONFIG', `modulation mode ${mode} cannot be demodulated`, 'set mode to CONTINUOUS, TIME_DIVISION or LOCK_IN');
}

function decimatingStage(stream: 'signals' | 'aux', source: Source, channels: SignalChannel[], inputRateHz: number, factor: number, blockSamples: number): Stage {
  const decimator = new Decimator({ inputRateHz, factor, channelCount: channels.length });
  for (const c of channels) c.groupDelayS = decimator.groupDelayS;
  const out = new Float64Array((Math.ceil(blockSamples / factor) + 1) * channels.length);
  return {
    stream, source, channels, rateHz: inputRateHz / factor,
    process(samples, firstIndex, sampleCount) {
      const r = decimator.process(samples as never, firstIndex, out, sampleCount);
      return { firstIndex: r.firstOutputIndex, count: r.count, interleaved: out };
    },
    reset: () => decimator.reset(),
    schedulePeriodSamples: 1,
    outputsBefore: (sampleIndex) => Math.ceil(sampleIndex / factor),
    hasPhase: false,
  };
}

function auxStage(config: AcquisitionConfigInit, info: DeviceInfo, options: DemodOptions): Stage | undefined {
  const ids = config.aux?.inputIds ?? [];
  const rateHz = config.aux?.rateHz ?? 0;
  if (ids.length === 0 || rateHz <= 0) return undefined;
  const channels: SignalChannel[] = ids.map((id) => {
    const a = info.auxInputs.find((x) => x.id === id);
    const scale = auxScale(info, id);
    return {
      name: a?.label || `aux${id}`, source: 'aux', inputId: id, voltsPerCode: scale.voltsPerCode, voltsAt: scale.voltsAt,
      ...(scale.warning ? { scaleWarning: scale.warning } : {}), groupDelayS: 0 /* set by decimatingStage */,
    };
  });
  const outRate = options.auxOutputRateHz ?? rateHz;
  const factor = Math.round(rateHz / outRate);
  if (factor < 1 || factor * outRate !== rateHz) {
    throw new PipelineError('E_PIPELINE_CONFIG', `aux output rate ${outRate} Hz does not divide the aux rate ${rateHz} Hz`, 'choose an aux output rate that divides the aux rate');
  }
  const auxBlock = Math.max(1, Math.ceil((config.blockSamples ?? 256) * rateHz / (config.sampleRateHz || rateHz)));
  return decimatingStage('aux', 'aux', channels, rateHz, factor, Math.max(auxBlock, config.aux?.blockSamples ?? 0, config.blockSamples ?? 256));
}

/** Output arrays are carved from slabs of this many bytes (or one block's, if larger). */
const OUTPUT_SLAB_BYTES = 64 * 1024;

/** A stateful demodulator for one acquisition: feed it blocks and gaps in order. */
export class SignalDemodulator {
  readonly stages: Stage[];
  private readonly nextOutput = new Map<Stage, number>();
  /** Per stage: the segment being fed, and the index the DSP sees minus the device index. */
  private readonly segments = new Map<Stage, { segment: number; base: number; nextIndex: number }>();
  /** Session index from which every configured LED is dark (undefined while lit). */
  private darkFrom: number | undefined;
  /** Output arrays are views of this; elements below `slabUsed` were handed out and are never written again. */
  private slab = new ArrayBuffer(0);
  private slabUsed = 0;

  constructor(config: AcquisitionConfigInit, info: DeviceInfo, options: DemodOptions = {}) {
    const aux = auxStage(config, info, options);
    this.stages = [detectorStage(config, info, options), ...(aux ? [aux] : [])];
  }

  /** The detector signal description (channels, rate). */
  get signalStage(): Stage {
    return this.stages[0]!;
  }

  get auxStage(): Stage | undefined {
    return this.stages[1];
  }

  private stageOf(source: Source): Stage | undefined {
    for (const stage of this.stages) if (stage.source === source) return stage;
    return undefined;
  }

  /** Processes one item; returns the signal blocks it completes (zero or one). */
  push(item: AcquisitionItem): SignalBlock[] {
    const stage = this.stageOf(item.source);
    if (!stage) return [];
    if (item.kind === 'light') {
      // dark samples are real readings of an unlit fiber, not signal: outputs whose filter saw one are NaN,
      // and the filters start afresh where light is back (their settling outputs are NaN too)
      if (!item.lit) this.darkFrom ??= item.sessionIndex;
      else if (this.darkFrom !== undefined) {
        this.darkFrom = undefined;
        stage.reset();
      }
      return [];
    }
    if (item.kind === 'gap') {
      stage.reset(); // outputs that depend on missing samples become NaN when the next block arrives
      return [];
    }
    if (stage.source === 'detector' && this.darkFrom !== undefined) return this.darkBlock(stage, item);
    return this.emit(stage, stage.process(item.samples, this.dspIndex(stage, item), item.sampleCount));
  }

  /** A detector block at or after the start of a dark span: the lit part is processed, the rest is NaN. */
  private darkBlock(stage: Stage, item: RigBlock): SignalBlock[] {
    // in the index the stage's DSP sees (the session index, or the segment's schedule-aligned one)
    const index = this.dspIndex(stage, item);
    const darkFrom = this.darkFrom! - item.sessionIndex + index;
    const lit = Math.max(0, Math.min(item.sampleCount, darkFrom - index));
    const out: SignalBlock[] = [];
    if (lit > 0) {
      out.push(...this.emit(stage, stage.process(item.samples.subarray(0, lit * item.channelIds.length), index, lit)));
    }
    const first = this.nextOutput.get(stage) ?? stage.outputsBefore(Math.max(darkFrom, index));
    const end = stage.outputsBefore(index + item.sampleCount);
    if (end > first) {
      const nan = (): Float64Array => new Float64Array(end - first).fill(Number.NaN);
      this.nextOutput.set(stage, end);
      out.push({
        stream: stage.stream, rateHz: stage.rateHz, firstIndex: first, count: end - first, channels: stage.channels,
        values: stage.channels.map(nan), ...(stage.hasPhase ? { phaseRad: stage.channels.map(nan) } : {}),
      });
    }
    return out;
  }

  private emit(stage: Stage, result: ReturnType<Stage['process']>): SignalBlock[] {
    const expected = this.nextOutput.get(stage);
    // outputs already written (as NaN, over a dark span) are not written twice
    const skip = expected !== undefined && result.firstIndex < expected ? Math.min(result.count, expected - result.firstIndex) : 0;
    const firstIndex = result.firstIndex + skip;
    const written = result.count - skip;
    if (written === 0) return [];
    const hole = expected !== undefined && firstIndex > expected ? firstIndex - expected : 0;
    const first = firstIndex - hole;
    const count = written + hole;
    // one array per channel (the block's consumers keep them), all of a block's arrays views of one range of a
    // shared slab that is never written again (an ArrayBuffer costs more than the block's copy: one per ~70 blocks
    // instead of one per block); the stage's own arrays are reused by the next block
    const channels = stage.channels.length;
    const at = this.carve((result.phase ? 2 : 1) * channels * count);
    const buffer = this.slab;
    const values = deinterleave(result.interleaved, channels, skip, written, hole, buffer, at);
    const phaseRad = result.phase ? deinterleave(result.phase, channels, skip, written, hole, buffer, at + channels * count) : undefined;
    this.nextOutput.set(stage, firstIndex + written);
    const block: SignalBlock = { stream: stage.stream, rateHz: stage.rateHz, firstIndex: first, count, channels: stage.channels, values };
    if (phaseRad) block.phaseRad = phaseRad;
    return [block];
  }

  /** Element index in `slab` of `elements` fresh float64s, carved from the slab (a new slab when it is full). */
  private carve(elements: number): number {
    if (this.slabUsed + elements > this.slab.byteLength / Float64Array.BYTES_PER_ELEMENT) {
      this.slab = new ArrayBuffer(Math.max(OUTPUT_SLAB_BYTES, elements * Float64Array.BYTES_PER_ELEMENT));
      this.slabUsed = 0;
    }
    const at = this.slabUsed;
    this.slabUsed += elements;
    return at;
  }

  /**
   * Index the stage's DSP sees for a block. Within a segment it is the session index. A new segment
   * (after a reconnect or a device reset) restarts the device's counter, and with it the modulation
   * schedule, at 0: a stage whose output depends on the schedule (time division: which LED a slot
   * holds) is fed the device index plus the session offset rounded to a whole schedule period, so its
   * slots stay right; its outputs then sit on the session's output grid within half a period of
   * their true time (README, "Time division across a reconnect"). Never before what was fed already.
   */
  private dspIndex(stage: Stage, block: RigBlock): number {
    const offset = block.sessionIndex - block.deviceIndex;
    let seg = this.segments.get(stage);
    if (!seg || seg.segment !== block.segment) {
      const period = stage.schedulePeriodSamples;
      let base = Math.round(offset / period) * period;
      const floor = seg?.nextIndex ?? 0;
      if (base + block.deviceIndex < floor) base = Math.ceil((floor - block.deviceIndex) / period) * period;
      if (seg) stage.reset();
      seg = { segment: block.segment, base, nextIndex: 0 };
      this.segments.set(stage, seg);
    }
    seg.nextIndex = block.deviceIndex + seg.base + block.sampleCount;
    return block.deviceIndex + seg.base;
  }
}

/**
 * Rows `skip .. skip + count` of `interleaved` (`channels` per row), one array per channel, after `hole` NaNs:
 * consecutive views of `buffer` from element `from` (each `hole + count` long).
 */
function deinterleave(interleaved: Float64Array, channels: number, skip: number, count: number, hole: number, buffer: ArrayBuffer, from: number): Float64Array[] {
  const out: Float64Array[] = new Array(channels);
  const length = hole + count;
  for (let c = 0; c < channels; c++) {
    const v = new Float64Array(buffer, (from + c * length) * Float64Array.BYTES_PER_ELEMENT, length);
    if (hole > 0) v.fill(Number.NaN, 0, hole);
    for (let k = 0, at = skip * channels + c; k < count; k++, at += channels) v[hole + k] = interleaved[at]!;
    out[c] = v;
  }
  return out;
}

/**
 * RxJS operator: acquisition items in, signal blocks out (one emission per completed block). Every subscription
 * gets its own SignalDemodulator (built when it subscribes), so two subscribers to the same piped observable see
 * the same output; to feed several consumers from ONE demodulation, share() the result. A setting the demodulator
 * refuses surfaces as an error on subscription: build a SignalDemodulator first to check it up front. An error
 * while demodulating (a block it cannot take) is the output's error, and unsubscribes from the items.
 * RxJS only composes here: one synchronous call per item, no inner observable per item.
 */
export function demodulate(config: AcquisitionConfigInit, info: DeviceInfo, options: DemodOptions = {}): OperatorFunction<AcquisitionItem, SignalBlock> {
  return (source: Observable<AcquisitionItem>) => new Observable<SignalBlock>((subscriber) => {
    const demod = new SignalDemodulator(config, info, options);
    return source.subscribe({
      next: (item) => {
        let blocks: SignalBlock[];
        try {
          blocks = demod.push(item);
        } catch (error) {
          subscriber.error(error);
          return;
        }
        for (const block of blocks) subscriber.next(block);
      },
      error: (error) => subscriber.error(error),
      complete: () => subscriber.complete(),
    });
  });
}
