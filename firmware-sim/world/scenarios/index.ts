// Scenario registry: selectable by name with a seed.
import { WorldError } from '../errors.ts';
import type { Scenario } from '../scenario.ts';
import { DarkScenario } from './dark.ts';
import { createSleepScenario } from './sleep.ts';
import { StepsScenario } from './steps.ts';
import { createZolpidemScenario } from './zolpidem.ts';

const FACTORIES: Readonly<Record<string, (seed: number) => Scenario>> = {
  sleep: createSleepScenario,
  zolpidem: createZolpidemScenario,
  steps: () => new StepsScenario(),
  dark: () => new DarkScenario(),
};

export const SCENARIO_NAMES: readonly string[] = Object.keys(FACTORIES);

export function createScenario(name: string, seed: number): Scenario {
  const f = Object.hasOwn(FACTORIES, name) ? FACTORIES[name] : undefined;
  if (!f) {
    throw new WorldError('E_SIM_UNKNOWN_SCENARIO', `unknown world scenario "${name}"`, `choose one of: ${SCENARIO_NAMES.join(', ')}`);
  }
  return f(seed);
}
