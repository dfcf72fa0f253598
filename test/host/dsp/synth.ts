// Synthetic signals for the DSP tests, generated independently of host/dsp.

/** Seeded PRNG (mulberry32) with a Gaussian helper. */
export function rng(seed: number): { uniform: () => number; gauss: () => number } {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gauss = (): number => {
    const u = Math.max(uniform(), 1e-300);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
  return { uniform, gauss };
}

/** Exact carrier phase 2 pi frac(f n / fs) for integer f and fs, any safe n (BigInt). */
export function exactPhase(carrierHz: number, sampleRateHz: number, n: number): number {
  if (Number.isInteger(carrierHz) && carrierHz * n < 2 ** 53) {
    return (2 * Math.PI * ((carrierHz * n) % sampleRateHz)) / sampleRateHz;
  }
  if (!Number.isInteger(carrierHz)) {
    // fine for tests with modest n
    const u = (carrierHz * n) / sampleRateHz;
    return 2 * Math.PI * (u - Math.floor(u));
  }
  return (2 * Math.PI * Number((BigInt(carrierHz) * BigInt(n)) % BigInt(sampleRateHz))) / sampleRateHz;
}

export interface LedSpec {
  carrierHz: number;
  /** LED peak drive at raw index n (arbitrary units) */
  peak: (n: number) => number;
}

export interface LockinScene {
  sampleRateHz: number;
  leds: LedSpec[];
  /** gains[detector][led]: detector response to that LED */
  gains: number[][];
  /** optional phase lag of the detector response per detector, radians */
  phaseRad?: number[];
  /** ambient light at n per detector */
  ambient?: (n: number, detector: number) => number;
  noiseStd?: number;
  seed?: number;
}

/**
 * Interleaved detector samples for raw indices [n0, n0 + count): detector d sees
 * sum_k g[d][k] * peak_k(n) * (1 + sin(phase_k(n) + lag_d)) / 2 + ambient + noise.
 */
export function lockinSignal(scene: LockinScene, n0: number, count: number): Float64Array {
  const dets = scene.gains.length;
  const out = new Float64Array(count * dets);
  const r = rng(scene.seed ?? 1);
  const noise = scene.noiseStd ?? 0;
  const fs = scene.sampleRateHz;
  for (let i = 0; i < count; i++) {
    const n = n0 + i;
    for (let d = 0; d < dets; d++) {
      let v = 0;
      for (let k = 0; k < scene.leds.length; k++) {
        const led = scene.leds[k]!;
        const g = scene.gains[d]![k]!;
        if (g === 0) continue;
        const ph = exactPhase(led.carrierHz, fs, n) + (scene.phaseRad?.[d] ?? 0);
        v += (g * led.peak(n) * (1 + Math.sin(ph))) / 2;
      }
      if (scene.ambient) v += scene.ambient(n, d);
      if (noise > 0) v += noise * r.gauss();
      out[i * dets + d] = v;
    }
  }
  return out;
}

/** Least-squares fit y ~ a + b sin(w t) + c cos(w t); returns {mean, amplitude}. */
export function fitSine(t: ArrayLike<number>, y: ArrayLike<number>, freqHz: number): { mean: number; amplitude: number } {
  // normal equations 3x3
  const m = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  const v = [0, 0, 0];
  for (let i = 0; i < y.length; i++) {
    const yi = y[i]!;
    if (!Number.isFinite(yi)) continue;
    const w = 2 * Math.PI * freqHz * t[i]!;
    const row = [1, Math.sin(w), Math.cos(w)];
    for (let a = 0; a < 3; a++) {
      v[a]! += row[a]! * yi;
      for (let b = 0; b < 3; b++) m[a]![b]! += row[a]! * row[b]!;
    }
  }
  const x = solve3(m, v);
  return { mean: x[0]!, amplitude: Math.hypot(x[1]!, x[2]!) };
}

function solve3(m: number[][], v: number[]): number[] {
  const a = m.map((row, i) => [...row, v[i]!]);
  for (let c = 0; c < 3; c++) {
    let p = c;
    for (let r = c + 1; r < 3; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    for (let r = 0; r < 3; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = c; k < 4; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  return [a[0]![3]! / a[0]![0]!, a[1]![3]! / a[1]![1]!, a[2]![3]! / a[2]![2]!];
}

export const dB = (ratio: number): number => 20 * Math.log10(ratio);
