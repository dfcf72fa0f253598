// A scenario file as a simulated device reads it (sim://file?path=F, `fiberrig sim --scenario F`):
// the world part validated by the world (scenario-file/parse.ts), then the device part — board
// overrides and the fault timeline in the sim:// fault syntax — checked here, each error naming
// its field. Nothing is created from a file that fails.
import { readScenarioFile } from '../world/scenario-file/parse.ts';
import type { ScenarioSpec } from '../world/scenario-file/spec.ts';
import { type BoardDefinition, defineBoard } from './board.ts';
import { SimError } from './errors.ts';
import { type FaultSpec, parseFaults } from './faults.ts';
import { type HardwareFault, parseHardwareFaults } from './hardware-faults.ts';

export interface ScenarioFile {
  path: string;
  spec: ScenarioSpec;
  /** The board the file defines (default board with its overrides), or undefined for the default. */
  board: BoardDefinition | undefined;
  faults: FaultSpec[];
  hardwareFaults: HardwareFault[];
}

function fieldError(path: string, field: string, error: unknown): SimError {
  const e = error as { message?: string; hint?: string };
  return new SimError('E_SIM_SCENARIO_FILE', `${path}: ${field}: ${e.message ?? String(error)}`, e.hint ?? 'fix the field named above', { cause: error });
}

export function loadScenarioFile(path: string): ScenarioFile {
  const spec = readScenarioFile(path);
  const device = spec.device;
  const faults: FaultSpec[] = [];
  device?.faults.forEach((text, i) => {
    try {
      faults.push(...parseFaults(text));
    } catch (error) {
      throw fieldError(path, `device.faults[${i}]`, error);
    }
  });
  const hardwareFaults: HardwareFault[] = [];
  device?.hardwareFaults.forEach((text, i) => {
    try {
      hardwareFaults.push(...parseHardwareFaults(text));
    } catch (error) {
      throw fieldError(path, `device.hardwareFaults[${i}]`, error);
    }
  });
  let board: BoardDefinition | undefined;
  if (device?.board) {
    try {
      board = defineBoard(device.board as Partial<BoardDefinition>);
    } catch (error) {
      throw fieldError(path, 'device.board', error);
    }
  }
  return { path, spec, board, faults, hardwareFaults };
}
