// Test helper: EEG/EMG of a simulated sleep world as the device digitises them (raw aux codes from
// the world's front end, 16-bit, amplifier gain 1000), turned into electrode volts with the scale the
// device reports (electrode_volts_per_code), plus the world's ground truth per epoch.
import { DEFAULT_BOARD, worldBoardOf } from '../../../../firmware-sim/device/board.ts';
import { createWorld, type SimWorld } from '../../../../firmware-sim/world/index.ts';
import type { SleepState } from '../../../../host/analysis/sleep/index.ts';

export const AUX_RATE_HZ = 1000;

export interface SimulatedSleep {
  world: SimWorld;
  rateHz: number;
  eegV: Float32Array;
  emgV: Float32Array;
  durationS: number;
}

export function simulateSleep(scenario: 'sleep' | 'zolpidem', seed: number, durationS: number): SimulatedSleep {
  const world = createWorld(scenario, seed, worldBoardOf(DEFAULT_BOARD));
  const n = durationS * AUX_RATE_HZ;
  const eegV = new Float32Array(n);
  const emgV = new Float32Array(n);
  const chunk = 10 * AUX_RATE_HZ;
  const out = [new Int32Array(chunk), new Int32Array(chunk)];
  const vpc = [0, 1].map((a) => 1e-6 / world.truth.auxCodesPerUv(a));
  for (let i = 0; i < n; i += chunk) {
    const count = Math.min(chunk, n - i);
    world.renderAux({ t0S: i / AUX_RATE_HZ, dtS: 1 / AUX_RATE_HZ, count, out: out.map((o) => o.subarray(0, count)) });
    for (let j = 0; j < count; j++) {
      eegV[i + j] = out[0]![j]! * vpc[0]!;
      emgV[i + j] = out[1]![j]! * vpc[1]!;
    }
  }
  return { world, rateHz: AUX_RATE_HZ, eegV, emgV, durationS };
}

/** True state per epoch [startS + e·epochS, +epochS): the state that fills most of it (micro-arousals count as wake). */
export function trueEpochStates(world: SimWorld, durationS: number, epochS: number, startS = 0): SleepState[] {
  const count = Math.floor(durationS / epochS);
  const time = new Array<Record<SleepState, number>>(count);
  for (let e = 0; e < count; e++) time[e] = { wake: 0, nrem: 0, rem: 0 };
  for (const b of world.truth.bouts(startS, startS + durationS)) {
    for (let e = Math.max(0, Math.floor((b.startS - startS) / epochS)); e < count && startS + e * epochS < b.endS; e++) {
      const ov = Math.min(b.endS, startS + (e + 1) * epochS) - Math.max(b.startS, startS + e * epochS);
      if (ov > 0) time[e]![b.state] += ov;
    }
  }
  return time.map((t) => (t.wake >= t.nrem && t.wake >= t.rem ? 'wake' : t.nrem >= t.rem ? 'nrem' : 'rem'));
}

/** True micro-arousals fully inside [0, durationS). */
export function trueArousals(world: SimWorld, durationS: number): Array<{ startS: number; endS: number }> {
  return world.truth.bouts(0, durationS).filter((b) => b.microArousal && b.endS <= durationS).map((b) => ({ startS: b.startS, endS: b.endS }));
}
