// Shared fixtures and small numeric helpers for the world tests.
import type { WorldBoard } from '../../../firmware-sim/world/index.ts';

/** The default simulated board's view: 405/470/560/630 nm LEDs, 2 x 16-bit detectors, EEG + EMG, 2 TTL inputs. */
export const BOARD: WorldBoard = {
  leds: [
    { id: 0, wavelengthNm: 405 },
    { id: 1, wavelengthNm: 470 },
    { id: 2, wavelengthNm: 560 },
    { id: 3, wavelengthNm: 630 },
  ],
  detectors: [
    { id: 0, adcBits: 16, fullScaleV: 3.3 },
    { id: 1, adcBits: 16, fullScaleV: 3.3 },
  ],
  aux: [
    { id: 0, label: 'EEG', adcBits: 16, fullScaleV: 3.3, gainVPerV: 1000 },
    { id: 1, label: 'EMG', adcBits: 16, fullScaleV: 3.3, gainVPerV: 1000 },
  ],
  digitalInputs: [{ id: 0 }, { id: 1 }],
};

export const LED405 = 0;
export const LED470 = 1;
export const LED560 = 2;

export function mean(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s / x.length;
}

export function std(x: ArrayLike<number>): number {
  const m = mean(x);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i]! - m) ** 2;
  return Math.sqrt(s / (x.length - 1));
}

export function corr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Amplitude of the sinusoid at `hz` in x (sampled at fsHz); exact for an integer number of cycles. */
export function toneAmplitude(x: ArrayLike<number>, fsHz: number, hz: number): number {
  let re = 0;
  let im = 0;
  const w = (2 * Math.PI * hz) / fsHz;
  for (let n = 0; n < x.length; n++) {
    re += x[n]! * Math.cos(w * n);
    im += x[n]! * Math.sin(w * n);
  }
  return (2 * Math.hypot(re, im)) / x.length;
}

/** Power (mean square) of x in [loHz, hiHz) from its DFT (mean removed). */
export function bandPower(x: ArrayLike<number>, fsHz: number, loHz: number, hiHz: number): number {
  const n = x.length;
  const m = mean(x);
  const df = fsHz / n;
  let p = 0;
  for (let k = Math.ceil(loHz / df); k * df < hiHz; k++) {
    let re = 0;
    let im = 0;
    const w = (2 * Math.PI * k) / n;
    for (let i = 0; i < n; i++) {
      const v = x[i]! - m;
      re += v * Math.cos(w * i);
      im += v * Math.sin(w * i);
    }
    p += (2 * (re * re + im * im)) / (n * n);
  }
  return p;
}

/** Constant LED currents for `count` samples (board order). */
export function constantCurrents(currentsMa: readonly number[], count: number): Float32Array[] {
  return currentsMa.map((c) => new Float32Array(count).fill(c));
}

export function int32Outs(n: number, count: number): Int32Array[] {
  return Array.from({ length: n }, () => new Int32Array(count));
}
