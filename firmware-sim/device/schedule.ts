// THE modulation schedule: each configured LED's instantaneous current as a
// pure function of the configuration and the detector sample index n (the
// device's clock). The simulated firmware drives its LEDs with it; the host
// and the tests may regenerate references from it.
//
//   CONTINUOUS     i_k(n) = peak_k
//   TIME_DIVISION  one slot of slot_samples per LED in configuration order, plus
//                  an optional dark slot at the end of the cycle;
//                  i_k(n) = peak_k when k*slot <= (n mod cycle) < k*slot + on_samples, else 0
//   LOCK_IN        i_k(n) = peak_k * (1 + sin(2*pi*u_k(n))) / 2,  u_k(n) = frac(f_k * n / fs)
//
// The lock-in phase is exact for any n < 2^53 (protocol/src/carrier.ts, the
// one implementation the host shares): u(n) = r / P with r = (step * n) mod P,
// computed with BigInt at a block start and then advanced by r += step mod P
// (wrapping at P), which is exact in doubles whenever P < 2^52. The phase is
// then the double r / P - the same double however the stream is split into
// blocks, so the block form below is bit-identical to the point form (both
// round through Float32Array in the block form). When P <= 2^17 the waveform
// over one period is tabulated once (a table entry is computed from the same
// r / P), as is a time-division cycle; a block is then native copies of that
// table scaled by the drive level in force (rescaled when the level changes).
import { CarrierPhase, ModulationMode } from '../../protocol/index.ts';

export interface ScheduleLed {
  channel: number;
  /** CONTINUOUS level, TDM pulse or LOCK_IN peak, mA. */
  peakMa: number;
  /** LOCK_IN carrier, Hz (ignored in other modes). */
  carrierHz: number;
}

export interface ScheduleConfig {
  mode: number;
  sampleRateHz: number;
  /** Configured LEDs, in configuration order. */
  leds: readonly ScheduleLed[];
  /** TIME_DIVISION only. */
  timeDivision?: { slotSamples: number; onSamples: number; darkSlot: boolean } | null;
}

/** Longest period (samples) whose waveform is tabulated. */
export const MAX_TABLE_PERIOD = 1 << 17;
const EXACT_RESIDUE_LIMIT = 2 ** 52;

function lockInWave(u: number): number {
  return (1 + Math.sin(2 * Math.PI * u)) / 2;
}

function tdmOn(config: ScheduleConfig, k: number, n: number): boolean {
  const td = config.timeDivision!;
  const slots = config.leds.length + (td.darkSlot ? 1 : 0);
  const cycle = slots * td.slotSamples;
  const pos = n % cycle;
  const start = k * td.slotSamples;
  return pos >= start && pos < start + td.onSamples;
}

/** Current (mA) of configured LED `k` (configuration order) at sample `n`, with peak `peakMa` (default: the configured one). */
export function ledCurrentAt(config: ScheduleConfig, k: number, n: number, peakMa = config.leds[k]!.peakMa): number {
  switch (config.mode) {
    case ModulationMode.MODULATION_MODE_CONTINUOUS:
      return peakMa;
    case ModulationMode.MODULATION_MODE_TIME_DIVISION:
      return tdmOn(config, k, n) ? peakMa : 0;
    case ModulationMode.MODULATION_MODE_LOCK_IN:
      return peakMa * lockInWave(new CarrierPhase(config.leds[k]!.carrierHz, config.sampleRateHz).cyclesAt(n));
    default:
      return 0;
  }
}

/** Every configured LED's current (mA) at sample `n`, in configuration order. */
export function ledCurrentsAt(config: ScheduleConfig, n: number, out: Float64Array = new Float64Array(config.leds.length)): Float64Array {
  for (let k = 0; k < config.leds.length; k++) out[k] = ledCurrentAt(config, k, n);
  return out;
}

interface LockInTrack {
  carrier: CarrierPhase;
  /** The residue recursion is exact (period < 2^52). */
  exact: boolean;
  step: number;
  period: number;
  /** Approximate phase step for the (absurd) case period >= 2^52. */
  approxStep: number;
}

/**
 * One LED's periodic waveform, tabulated (a lock-in carrier whose period is at
 * most MAX_TABLE_PERIOD samples, or a time-division cycle): `unit` holds one
 * period at peak 1; `scaled` holds the currents at `scaledPeak` as the LED
 * buffers store them (float32), repeated to at least MIN_SCALED_SAMPLES so that
 * a block is a few native copies. Rescaled when the drive level changes.
 */
interface PeriodicWave {
  period: number;
  unit: Float64Array;
  /** True for time division: the current is the peak or 0 (not peak * 0, which is -0 for a negative peak). */
  onOff: boolean;
  scaled: Float32Array;
  scaledPeak: number;
}

/** A scaled table holds whole periods and at least this many samples. */
const MIN_SCALED_SAMPLES = 4096;

function periodicWave(unit: Float64Array, onOff: boolean): PeriodicWave {
  return { period: unit.length, unit, onOff, scaled: new Float32Array(0), scaledPeak: Number.NaN };
}

/** The wave's currents at `peak` (cached until the peak changes). */
function scaledWave(w: PeriodicWave, peak: number): Float32Array {
  if (w.scaledPeak === peak && w.scaled.length > 0) return w.scaled;
  const p = w.period;
  const scaled = new Float32Array(p * Math.ceil(MIN_SCALED_SAMPLES / p));
  for (let j = 0; j < p; j++) scaled[j] = w.onOff ? (w.unit[j] !== 0 ? peak : 0) : peak * w.unit[j]!;
  for (let j = p; j < scaled.length; j += p) scaled.copyWithin(j, 0, p);
  w.scaled = scaled;
  w.scaledPeak = peak;
  return scaled;
}

/** dst[offset, end) = the periodic table `src` from sample `first` on (src holds whole periods of `period`). */
function copyPeriodic(src: Float32Array, period: number, first: number, dst: Float32Array, offset: number, end: number): void {
  let idx = first % period;
  for (let i = offset; i < end;) {
    const n = Math.min(src.length - idx, end - i);
    dst.set(src.subarray(idx, idx + n), i);
    i += n;
    idx = 0;
  }
}

/**
 * The schedule compiled for block generation: `fill` writes the currents of
 * samples [first, first + count) into preallocated arrays (native copies of a
 * tabulated period when the waveform has one).
 */
export class ModulationSchedule {
  readonly config: ScheduleConfig;
  private readonly tracks: LockInTrack[] = [];
  /** Per LED (configuration order): its tabulated waveform, or null (computed per sample). */
  private readonly waves: Array<PeriodicWave | null> = [];
  private readonly cycle: number;

  constructor(config: ScheduleConfig) {
    this.config = config;
    const td = config.timeDivision;
    this.cycle = td ? (config.leds.length + (td.darkSlot ? 1 : 0)) * td.slotSamples : 0;
    if (config.mode === ModulationMode.MODULATION_MODE_LOCK_IN) {
      for (const led of config.leds) {
        const carrier = new CarrierPhase(led.carrierHz, config.sampleRateHz);
        const { step, period } = carrier;
        const exact = period < BigInt(EXACT_RESIDUE_LIMIT);
        const p = Number(period);
        const s = exact ? Number(step % period) : 0;
        let wave: PeriodicWave | null = null;
        if (exact && p <= MAX_TABLE_PERIOD) {
          const table = new Float64Array(p);
          let r = 0;
          for (let j = 0; j < p; j++) {
            table[j] = lockInWave(r / p);
            r += s;
            if (r >= p) r -= p;
          }
          wave = periodicWave(table, false);
        }
        this.waves.push(wave);
        this.tracks.push({ carrier, exact, step: s, period: p, approxStep: led.carrierHz / config.sampleRateHz });
      }
    } else if (config.mode === ModulationMode.MODULATION_MODE_TIME_DIVISION && td && this.cycle <= MAX_TABLE_PERIOD) {
      for (let k = 0; k < config.leds.length; k++) {
        const on = new Float64Array(this.cycle);
        on.fill(1, Math.min(this.cycle, k * td.slotSamples), Math.min(this.cycle, k * td.slotSamples + td.onSamples));
        this.waves.push(periodicWave(on, true));
      }
    }
  }

  /**
   * Writes LED k's current for samples first..first+count-1 into
   * out[k][offset..offset+count). `peakMa[k]` overrides the configured peak
   * (the drive level in force, e.g. after SetLed or 0 when dark).
   */
  fill(first: number, count: number, out: readonly Float32Array[], peakMa?: ArrayLike<number>, offset = 0): void {
    const { config } = this;
    const nLeds = config.leds.length;
    for (let k = 0; k < nLeds; k++) {
      const dst = out[k]!;
      const peak = peakMa ? peakMa[k]! : config.leds[k]!.peakMa;
      const end = offset + count;
      if (peak === 0 || config.mode === ModulationMode.MODULATION_MODE_CONTINUOUS) {
        dst.fill(peak, offset, end);
        continue;
      }
      const wave = this.waves[k];
      if (wave) {
        copyPeriodic(scaledWave(wave, peak), wave.period, first, dst, offset, end);
        continue;
      }
      if (config.mode === ModulationMode.MODULATION_MODE_TIME_DIVISION) {
        const td = config.timeDivision!;
        const start = k * td.slotSamples;
        const stop = start + td.onSamples;
        let pos = first % this.cycle;
        for (let i = offset; i < end; i++) {
          dst[i] = pos >= start && pos < stop ? peak : 0;
          if (++pos === this.cycle) pos = 0;
        }
        continue;
      }
      if (config.mode === ModulationMode.MODULATION_MODE_LOCK_IN) {
        const t = this.tracks[k]!;
        if (t.exact) {
          const p = t.period;
          let r = Number(t.carrier.residueAt(first));
          for (let i = offset; i < end; i++) {
            dst[i] = peak * lockInWave(r / p);
            r += t.step;
            if (r >= p) r -= p;
          }
        } else {
          const u0 = t.carrier.cyclesAt(first);
          for (let i = offset; i < end; i++) {
            const u = u0 + (i - offset) * t.approxStep;
            dst[i] = peak * lockInWave(u - Math.floor(u));
          }
        }
        continue;
      }
      dst.fill(0, offset, end);
    }
  }
}
