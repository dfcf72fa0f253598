// Scenario registry: the built-in scenario documents by name, and any validated document.
import { WorldError } from '../errors.ts';
import type { Scenario } from '../scenario.ts';
import { BUILTIN_SCENARIOS } from '../scenario-file/builtins.ts';
import { parseScenarioSpec } from '../scenario-file/parse.ts';
import type { ScenarioSpec } from '../scenario-file/spec.ts';
import { SignalsScenario } from './signals.ts';
import { SleepScenario } from './sleep.ts';
import { specPartsOf } from './spec-parts.ts';

export const SCENARIO_NAMES: readonly string[] = Object.keys(BUILTIN_SCENARIOS);

const builtinSpecs = new Map<string, ScenarioSpec>();

/** A built-in scenario's document, validated (defaults filled in). */
export function builtinScenarioSpec(name: string): ScenarioSpec {
  let spec = builtinSpecs.get(name);
  if (!spec) {
    const doc = Object.hasOwn(BUILTIN_SCENARIOS, name) ? BUILTIN_SCENARIOS[name] : undefined;
    if (!doc) {
      throw new WorldError('E_SIM_UNKNOWN_SCENARIO', `unknown world scenario "${name}"`, `choose one of: ${SCENARIO_NAMES.join(', ')}, or a scenario file`);
    }
    spec = parseScenarioSpec(doc, `built-in scenario ${name}`);
    builtinSpecs.set(name, spec);
  }
  return spec;
}

/** The scenario of a built-in name or a validated document, for a seed. */
export function createScenario(nameOrSpec: string | ScenarioSpec, seed: number): Scenario {
  const spec = typeof nameOrSpec === 'string' ? builtinScenarioSpec(nameOrSpec) : nameOrSpec;
  const parts = specPartsOf(spec);
  return spec.model === 'sleep' ? new SleepScenario(spec, parts, seed) : new SignalsScenario(spec, parts);
}
