// `zolpidem`: the sleep scenario with the NE oscillation amplitude halved
// (Hauglund et al. 2025: about -50 %). Blood volume and CSF oscillations follow
// NE, so they halve too. For a given seed the hypnogram, NE cycle timing and
// micro-arousals are those of `sleep` (paired comparison); zolpidem's faster
// sleep onset is not modelled.
import { DEFAULT_SLEEP_PARAMS } from '../physiology.ts';
import { SleepScenario } from './sleep.ts';

export const ZOLPIDEM_NE_AMPLITUDE_SCALE = 0.5;

export function createZolpidemScenario(seed: number): SleepScenario {
  return new SleepScenario(
    'zolpidem',
    'sleep under zolpidem: as `sleep` with the NE oscillation amplitude halved',
    seed,
    { ...DEFAULT_SLEEP_PARAMS, neAmplitudeScale: ZOLPIDEM_NE_AMPLITUDE_SCALE },
  );
}
