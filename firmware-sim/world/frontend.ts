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
/** Sines per EEG band (a multiple of 4: EegSynth runs them four at a time). */
const COMPONENTS_PER_BAND = 12;

/** Samples between exact re-anchorings of an EEG oscillator's recurrence (its rounding error stays < 1e-10 of its amplitude). */
const EEG_ANCHOR = 4096;

/**
 * EEG as a sum of sines per band (random frequencies and phases drawn from the
 * seed), each band scaled by its time-varying rms amplitude. Each sine runs the
 * recurrence s[i+1] = 2 cos(w) s[i] - s[i-1] (one multiply per sample), started
 * from two exact values from absolute time at each call and every EEG_ANCHOR samples.
 */
export class EegSynth {
  private readonly freqHz: Float64Array;
  private readonly phase0: Float64Array;
  /** 2 cos(2 pi f dt) per component, for lastDt. */
  private readonly k2: Float64Array;
  private lastDt = Number.NaN;
  private readonly norm = Math.sqrt(2 / COMPONENTS_PER_BAND);
  /** Per band: the sum of its unit sines at the call's samples. */
  private bands: Float64Array[] = [];

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
    this.k2 = new Float64Array(n);
  }

  /** sin(2 pi (f_j t + phase_j)) from absolute time (the recurrence's anchors). */
  private sineAt(j: number, tS: number): number {
    const cycles = this.freqHz[j]! * tS + this.phase0[j]!;
    return Math.sin(2 * Math.PI * (cycles - Math.floor(cycles)));
  }

  /** Adds EEG (µV) to out[0..count) given per-sample band rms amplitudes (µV). */
  addTo(
    t0S: number, dtS: number, count: number,
    delta: Float64Array, theta: Float64Array, sigma: Float64Array, beta: Float64Array, out: Float64Array,
  ): void {
    const n = this.freqHz.length;
    if (dtS !== this.lastDt) {
      for (let j = 0; j < n; j++) this.k2[j] = 2 * Math.cos(2 * Math.PI * this.freqHz[j]! * dtS);
      this.lastDt = dtS;
    }
    if (this.bands.length === 0 || this.bands[0]!.length < count) {
      this.bands = EEG_BANDS_HZ.map(() => new Float64Array(Math.max(count, 256)));
    }
    const m = COMPONENTS_PER_BAND;
    for (let b = 0; b < EEG_BANDS_HZ.length; b++) {
      const acc = this.bands[b]!;
      acc.fill(0, 0, count);
      // four components per pass: four independent recurrences keep the multiplier busy (one alone
      // waits on its own latency every sample)
      for (let j = b * m; j < b * m + m; j += 4) {
        const ka = this.k2[j]!;
        const kb = this.k2[j + 1]!;
        const kc = this.k2[j + 2]!;
        const kd = this.k2[j + 3]!;
        for (let i0 = 0; i0 < count; i0 += EEG_ANCHOR) {
          const end = Math.min(count, i0 + EEG_ANCHOR);
          const tA = t0S + i0 * dtS;
          const tB = t0S + (i0 + 1) * dtS;
          let a0 = this.sineAt(j, tA);
          let a1 = this.sineAt(j, tB);
          let b0 = this.sineAt(j + 1, tA);
          let b1 = this.sineAt(j + 1, tB);
          let c0 = this.sineAt(j + 2, tA);
          let c1 = this.sineAt(j + 2, tB);
          let d0 = this.sineAt(j + 3, tA);
          let d1 = this.sineAt(j + 3, tB);
          for (let i = i0; i < end; i++) {
            acc[i] = acc[i]! + ((a0 + b0) + (c0 + d0));
            const a2 = ka * a1 - a0;
            const b2 = kb * b1 - b0;
            const c2 = kc * c1 - c0;
            const d2 = kd * d1 - d0;
            a0 = a1;
            a1 = a2;
            b0 = b1;
            b1 = b2;
            c0 = c1;
            c1 = c2;
            d0 = d1;
            d1 = d2;
          }
        }
      }
    }
    const b0 = this.bands[0]!;
    const b1 = this.bands[1]!;
    const b2 = this.bands[2]!;
    const b3 = this.bands[3]!;
    const norm = this.norm;
    for (let i = 0; i < count; i++) {
      out[i] = out[i]! + (delta[i]! * b0[i]! + theta[i]! * b1[i]! + sigma[i]! * b2[i]! + beta[i]! * b3[i]!) * norm;
    }
  }
}
