// Reading and validating a scenario document: every problem is reported at once, each line naming
// its field ("timeline[2].atS: ..."), in one WorldError E_SIM_SCENARIO_FILE. Nothing is created from
// a document that fails.
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { WorldError } from '../errors.ts';
import { type ScenarioSpec, scenarioSpecSchema } from './spec.ts';

const HINT = 'fix the fields named above; the format is firmware-sim/world/scenario-file/README.md, the JSON Schema scenario.schema.json beside it';

/** "timeline[2].atS" for the path ['timeline', 2, 'atS']. */
export function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(document)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('');
}

/** One line per problem, field first. */
export function issueLines(issues: readonly z.core.$ZodIssue[]): string[] {
  const lines: string[] = [];
  for (const i of issues) {
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) lines.push(`${fieldPath([...i.path, k])}: unknown field`);
    } else {
      lines.push(`${fieldPath(i.path)}: ${i.message}`);
    }
  }
  return [...new Set(lines)];
}

/** Validates a parsed document; `source` names it in the error (a file path). */
export function parseScenarioSpec(value: unknown, source = 'scenario'): ScenarioSpec {
  const r = scenarioSpecSchema.safeParse(value);
  if (r.success) return r.data;
  const lines = issueLines(r.error.issues);
  throw new WorldError('E_SIM_SCENARIO_FILE', `${source} is not a valid scenario (${lines.length} problem${lines.length === 1 ? '' : 's'}):\n  ${lines.join('\n  ')}`, HINT);
}

/** Reads and validates a scenario file. */
export function readScenarioFile(path: string): ScenarioSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new WorldError('E_SIM_SCENARIO_FILE', `cannot read scenario file ${path}: ${(error as Error).message}`, 'give the path of a scenario JSON file (relative paths are from the current directory)', { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new WorldError('E_SIM_SCENARIO_FILE', `${path} is not JSON: ${(error as Error).message}`, HINT, { cause: error });
  }
  return parseScenarioSpec(value, path);
}
