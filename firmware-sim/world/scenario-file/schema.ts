// The JSON Schema of scenario documents (draft 2020-12), generated from the zod schema: what a
// document may contain as written (defaults may be omitted). Cross-field rules (a drug needs model
// "sleep", lines defined once) are the validator's alone.
import { z } from 'zod';
import { scenarioSpecSchema } from './spec.ts';

export function scenarioSchemaJson(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(scenarioSpecSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'fiberrig scenario',
    description: 'A simulated experiment for sim://file?path=FILE and `fiberrig sim --scenario FILE` (firmware-sim/world/scenario-file/README.md).',
  };
}
