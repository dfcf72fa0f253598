// Test helper: the sleep world's own NE and blood-volume signals (ΔF/F %), its true hypnogram,
// micro-arousals and EEG band power, on a 10 Hz time base from world time 0, plus measurement noise.
import { Rng } from '../../../../firmware-sim/world/rng.ts';
import type { SleepPhysiology } from '../../../../firmware-sim/world/physiology.ts';
import { createSleepScenario } from '../../../../firmware-sim/world/scenarios/sleep.ts';
import { createZolpidemScenario } from '../../../../firmware-sim/world/scenarios/zolpidem.ts';
import type { AuxEnvelope } from '../../../../firmware-sim/world/types.ts';
import type { OscillationInput } from '../../../../host/analysis/oscillation/index.ts';
import type { SleepState } from '../../../../host/analysis/sleep/index.ts';

export const RATE_HZ = 10;
export const EPOCH_S = 4;

export interface WorldSignals {
  physiology: SleepPhysiology;
  input: OscillationInput;
  durationS: number;
}

/** True state per epoch: the state filling most of it (micro-arousals count as wake). */
function trueStates(ph: SleepPhysiology, durationS: number): SleepState[] {
  const count = Math.floor(durationS / EPOCH_S);
  const time = Array.from({ length: count }, () => ({ wake: 0, nrem: 0, rem: 0 }));
  for (const b of ph.bouts(0, durationS)) {
    for (let e = Math.max(0, Math.floor(b.startS / EPOCH_S)); e < count && e * EPOCH_S < b.endS; e++) {
      const ov = Math.min(b.endS, (e + 1) * EPOCH_S) - Math.max(b.startS, e * EPOCH_S);
      if (ov > 0) time[e]![b.state] += ov;
    }
  }
  return time.map((t) => (t.wake >= t.nrem && t.wake >= t.rem ? 'wake' : t.nrem >= t.rem ? 'nrem' : 'rem'));
}

/** Renders `durationS` of a sleep-scenario world; `noisePct` white noise (rms, ΔF/F %) on NE and blood volume. */
export function worldSignals(scenario: 'sleep' | 'zolpidem', seed: number, durationS: number, noisePct = 0.2): WorldSignals {
  const ph = (scenario === 'sleep' ? createSleepScenario(seed) : createZolpidemScenario(seed)).physiology;
  const n = durationS * RATE_HZ;
  const nePct = new Float64Array(n);
  const bloodVolumePct = new Float64Array(n);
  const rng = Rng.derive(seed, 'oscillation-test-noise');
  for (let i = 0; i < n; i++) {
    const t = i / RATE_HZ;
    nePct[i] = 100 * ph.ne(t) + noisePct * rng.normal();
    bloodVolumePct[i] = 100 * ph.bloodVolume(t) + noisePct * rng.normal();
  }
  const steps = durationS;
  const band = { deltaV2: new Float64Array(steps), thetaV2: new Float64Array(steps), sigmaV2: new Float64Array(steps), betaV2: new Float64Array(steps) };
  const env: AuxEnvelope = { deltaUv: 0, thetaUv: 0, sigmaUv: 0, betaUv: 0, emgUv: 0 };
  for (let k = 0; k < steps; k++) {
    ph.auxEnvelope(k + 0.5, env);
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
    hypnogram: { epochS: EPOCH_S, startS: 0, states: trueStates(ph, durationS) },
    microArousals: ph.microArousals(0, durationS).filter((m) => m.endS <= durationS).map((m) => ({ startS: m.startS, endS: m.endS })),
    eegBandPower: { stepS: 1, startS: 0.5, ...band },
  };
  return { physiology: ph, input, durationS };
}
