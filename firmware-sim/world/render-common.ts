// Small pieces the world's detector and aux renderers share: the grid cache size, the noise
// counter of a sample time, argument checks and the typed errors they throw.
import { WorldError } from './errors.ts';

/** Grid points (biology on the world's time grid) kept per cache. */
export const GRID_CACHE = 512;
/** Noise counter ticks per second of sample time (noiseCounterOf). */
export const NOISE_TICKS_PER_S = 1e7;

/** The fractional part of x (in [0, 1)). */
export function fracOf(x: number): number {
  return x - Math.floor(x);
}

/** The noise counter of a sample at tS: round(tS · 1e7), zig-zag mapped to a non-negative integer. */
export function noiseCounterOf(tS: number): number {
  // in doubles from the start (+ 0.5 - 0.5 and / 0.5, exact): never compiled for small integers, which c
  // outgrows after 107 s
  const c = Math.round(tS * NOISE_TICKS_PER_S) + 0.5 - 0.5;
  return c > -0.5 ? c / 0.5 : -c / 0.5 - 1;
}

export function isIntIn(x: number, lo: number, hi: number): boolean {
  return Number.isInteger(x) && x >= lo && x <= hi;
}

export function badOption(msg: string): never {
  throw new WorldError('E_SIM_BAD_OPTION', msg, 'fix the options passed to createWorld (see WorldOptions in firmware-sim/world/types.ts)');
}

export function badRequest(msg: string): never {
  throw new WorldError('E_SIM_BAD_REQUEST', msg, 'the device must pass one array per board channel, at least `count` long, with dtS > 0 and oversampling >= 1');
}
