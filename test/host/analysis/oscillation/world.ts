// Test helper: the sleep world's own NE and blood-volume signals (ΔF/F %, from the ground-truth API),
// its true hypnogram, micro-arousals and EEG band power, on a 10 Hz time base from world time 0,
// plus white measurement noise.
import type { SimWorld } from '../../../../firmware-sim/world/index.ts';
import { Rng } from '../../../../firmware-sim/world/rng.ts';
import type { OscillationInput } from '../../../../host/analysis/oscillation/index.ts';
import { trueArousals, trueEpochStates } from '../sleep/sim.ts';
import { simWorld } from '../truth.ts';

export const RATE_HZ = 10;
export const EPOCH_S = 4;

export interface WorldSignals {
  world: SimWorld;
  input: OscillationInput;
  durationS: number;
}

/** A number from the scenario's documented parameters (e.g. bvLagS, maNeBoost). */
export function scenarioParam<T = number>(world: SimWorld, name: string): T {
  const v = world.truth.scenario.params[name];
  if (v === undefined) throw new Error(`scenario ${world.truth.scenario.name} has no parameter ${name}`);
  return v as T;
}

/** Renders `durationS` of a sleep-scenario world; `noisePct` white noise (rms, ΔF/F %) on NE and blood volume. */
export function worldSignals(scenario: 'sleep' | 'zolpidem', seed: number, durationS: number, noisePct = 0.2): WorldSignals {
  const world = simWorld(scenario, seed);
  const n = durationS * RATE_HZ;
  const dtS = 1 / RATE_HZ;
  const nePct = world.truth.signals('grabNe', 0, dtS, n);
  const bloodVolumePct = world.truth.signals('redDye', 0, dtS, n); // the red dye's signal is the blood volume
  const rng = Rng.derive(seed, 'oscillation-test-noise');
  for (let i = 0; i < n; i++) {
    nePct[i] = 100 * nePct[i]! + noisePct * rng.normal();
    bloodVolumePct[i] = 100 * bloodVolumePct[i]! + noisePct * rng.normal();
  }
  const band = { deltaV2: new Float64Array(durationS), thetaV2: new Float64Array(durationS), sigmaV2: new Float64Array(durationS), betaV2: new Float64Array(durationS) };
  for (let k = 0; k < durationS; k++) {
    const env = world.truth.auxEnvelope(k + 0.5);
    band.deltaV2[k] = (env.deltaUv * 1e-6) ** 2;
    band.thetaV2[k] = (env.thetaUv * 1e-6) ** 2;
    band.sigmaV2[k] = (env.sigmaUv * 1e-6) ** 2;
    band.betaV2[k] = (env.betaUv * 1e-6) ** 2;
  }
  const input: OscillationInput = {
    rateHz: RATE_HZ,
    startS: 0,
    nePct,
    bloodVolumePct,
    hypnogram: { epochS: EPOCH_S, startS: 0, states: trueEpochStates(world, durationS, EPOCH_S) },
    microArousals: trueArousals(world, durationS),
    eegBandPower: { stepS: 1, startS: 0.5, ...band },
  };
  return { world, input, durationS };
}
