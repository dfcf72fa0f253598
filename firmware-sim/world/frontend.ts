// Analog front end: photodetector + ADC for the detectors, amplifier + ADC for
// the aux (EEG/EMG) inputs, ambient light, and EEG synthesis.
//
// ADC conventions (matching the simulated device's sample formats):
// - detectors: unipolar, unsigned codes 0 .. 2^adcBits - 1 for 0 .. fullScaleV
//   (code = V / fullScaleV * 2^adcBits, rounded, clipped);
// - aux (EEG/EMG): bipolar, signed two's-complement codes
//   -2^(adcBits-1) .. 2^(adcBits-1) - 1 for -fullScaleV/2 .. +fullScaleV/2
//   (code = V_adc / fullScaleV * 2^adcBits, V_adc = gainVPerV * electrode volts; 0 µV -> code 0;
//   gainVPerV is the board's, the one the device reports as AuxInputInfo.electrode_volts_per_code).
//
// Noise and oversampling: a sample is the average of N conversions; the world
// draws the average directly, a Gaussian with sigma = sqrt(read^2 + shot * light) / sqrt(N),
// then rounds and clips (saturation is applied to the average).
import type { Rng } from './rng.ts';
import type { AuxFrontendParams, AuxKind, DetectorBand, DetectorFrontendParams } from './types.ts';

export function codesPerVolt(adcBits: number, fullScaleV: number): number {
  return 2 ** adcBits / fullScaleV;
}

export function maxCode(adcBits: number): number {
  return 2 ** adcBits - 1;
}

/** Fractional part (x - floor x): keeps phases accurate for large t. */
export function frac(x: number): number {
  return x - Math.floor(x);
}

/** Default detector front end for a band, before scenario scaling. */
export function defaultDetectorParams(band: DetectorBand, mainsHz: 50 | 60, flickerPhasesRad: readonly [number, number]): DetectorFrontendParams {
  const green = band === 'green';
  return {
    band,
    gainVPerUw: 10,
    offsetV: 0.01,
    readNoiseV: 0.15e-3,
    shotNoiseV2PerV: 1.6e-7,
    ambientDcV: green ? 0.05 : 0.03,
    flicker: [
      { hz: 2 * mainsHz, amplitudeV: green ? 0.012 : 0.008, phaseRad: flickerPhasesRad[0] },
      { hz: 4 * mainsHz, amplitudeV: green ? 0.003 : 0.002, phaseRad: flickerPhasesRad[1] },
    ],
  };
}

/** Per-unit spread of a detector: gain ±5 %, offset ±20 %. */
export function unitDetectorParams(p: DetectorFrontendParams, rng: Rng): DetectorFrontendParams {
  return { ...p, gainVPerUw: p.gainVPerUw * rng.uniform(0.95, 1.05), offsetV: p.offsetV * rng.uniform(0.8, 1.2) };
}

/** Scale ambient light and noise (scenario defaults). */
export function scaleDetectorParams(p: DetectorFrontendParams, ambientScale: number, noiseScale: number): DetectorFrontendParams {
  return {
    ...p,
    readNoiseV: p.readNoiseV * noiseScale,
    shotNoiseV2PerV: p.shotNoiseV2PerV * noiseScale * noiseScale,
    ambientDcV: p.ambientDcV * ambientScale,
    flicker: p.flicker.map((f) => ({ ...f, amplitudeV: f.amplitudeV * ambientScale })),
  };
}

export function auxKindFromLabel(label: string): AuxKind {
  return /emg/i.test(label) ? 'emg' : 'eeg';
}

export function defaultAuxParams(kind: AuxKind): AuxFrontendParams {
  return { kind, noiseUv: 0.5, mainsPickupUv: 2 };
}

/** Codes per µV at the electrode for an aux input whose amplifier has gain `gainVPerV` (the board's). */
export function auxCodesPerUv(gainVPerV: number, adcBits: number, fullScaleV: number): number {
  return 1e-6 * gainVPerV * codesPerVolt(adcBits, fullScaleV);
}

/** EEG bands: component frequencies are drawn inside these ranges (inside the nominal δ 1-4, θ 4-8, σ 8-15, β 15-30 Hz). */
export const EEG_BANDS_HZ: ReadonlyArray<readonly [number, number]> = [
  [1.2, 3.8],
  [5, 7.8],
  [9, 14],
  [16, 29],
];
const COMPONENTS_PER_BAND = 12;

/**
 * EEG as a sum of sines per band (random frequencies and phases drawn from the
 * seed), each band scaled by its time-varying rms amplitude. Phases are
 * computed from absolute time at each block start and rotated within the block.
 */
export class EegSynth {
  private readonly freqHz: Float64Array;
  private readonly phase0: Float64Array;
  private readonly s: Float64Array;
  private readonly c: Float64Array;
  private readonly cd: Float64Array;
  private readonly sd: Float64Array;
  private lastDt = Number.NaN;
  private readonly norm = Math.sqrt(2 / COMPONENTS_PER_BAND);

  constructor(rng: Rng) {
    const n = EEG_BANDS_HZ.length * COMPONENTS_PER_BAND;
    this.freqHz = new Float64Array(n);
    this.phase0 = new Float64Array(n);
    for (let b = 0; b < EEG_BANDS_HZ.length; b++) {
      const [lo, hi] = EEG_BANDS_HZ[b]!;
      for (let j = 0; j < COMPONENTS_PER_BAND; j++) {
        this.freqHz[b * COMPONENTS_PER_BAND + j] = rng.uniform(lo, hi);
        this.phase0[b * COMPONENTS_PER_BAND + j] = rng.next();
      }
    }
    this.s = new Float64Array(n);
    this.c = new Float64Array(n);
    this.cd = new Float64Array(n);
    this.sd = new Float64Array(n);
  }

  /** Adds EEG (µV) to out[0..count) given per-sample band rms amplitudes (µV). */
  addTo(
    t0S: number, dtS: number, count: number,
    delta: Float64Array, theta: Float64Array, sigma: Float64Array, beta: Float64Array, out: Float64Array,
  ): void {
    const n = this.freqHz.length;
    if (dtS !== this.lastDt) {
      for (let j = 0; j < n; j++) {
        const w = 2 * Math.PI * this.freqHz[j]! * dtS;
        this.cd[j] = Math.cos(w);
        this.sd[j] = Math.sin(w);
      }
      this.lastDt = dtS;
    }
    const m = COMPONENTS_PER_BAND;
    const s = this.s;
    const c = this.c;
    const cd = this.cd;
    const sd = this.sd;
    for (let i = 0; i < count; i++) {
      if ((i & 4095) === 0) {
        // exact phases from absolute time every 4096 samples, rotated in between
        const t = t0S + i * dtS;
        for (let j = 0; j < n; j++) {
          const cycles = this.freqHz[j]! * t + this.phase0[j]!;
          const th = 2 * Math.PI * (cycles - Math.floor(cycles)); // frac(cycles), written out: no boxed result
          s[j] = Math.sin(th);
          c[j] = Math.cos(th);
        }
      }
      let acc = 0;
      for (let b = 0; b < 4; b++) {
        let bandSum = 0;
        const base = b * m;
        for (let j = base; j < base + m; j++) {
          const sj = s[j]!;
          const cj = c[j]!;
          bandSum += sj;
          s[j] = sj * cd[j]! + cj * sd[j]!;
          c[j] = cj * cd[j]! - sj * sd[j]!;
        }
        const w = b === 0 ? delta[i]! : b === 1 ? theta[i]! : b === 2 ? sigma[i]! : beta[i]!;
        acc += w * bandSum;
      }
      out[i] = out[i]! + acc * this.norm;
    }
  }
}
