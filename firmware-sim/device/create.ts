// createSimDevice: a simulated device measuring a world made by a world
// factory. The factory is injected (the world implementation lives in
// firmware-sim/world/ and is wired in by whoever assembles the simulator);
// the built-in scenario "linear" (LinearWorld) is always available.
import type { World, WorldBoard } from '../world/world.ts';
import { DEFAULT_BOARD, worldBoardOf } from './board.ts';
import { SimDevice, type SimDeviceOptions } from './device.ts';
import { SimError } from './errors.ts';
import { LinearWorld } from './linear-world.ts';

/** Makes the world of a scenario, deterministic for a seed. */
export type WorldFactory = (scenario: string, seed: number, board: WorldBoard) => World;

export const LINEAR_SCENARIO = 'linear';

let registeredFactory: WorldFactory | null = null;

/** Sets the world factory used when none is passed (sim:// URLs, serveSimOnPty/Tcp). Pass null to unset. */
export function registerWorldFactory(factory: WorldFactory | null): void {
  registeredFactory = factory;
}

export function registeredWorldFactory(): WorldFactory | null {
  return registeredFactory;
}

/** Resolves a scenario: "linear" is built in, anything else goes to `factory` (or the registered one). */
export function makeWorld(scenario: string, seed: number, board: WorldBoard, factory: WorldFactory | null = registeredFactory): World {
  if (scenario === LINEAR_SCENARIO) return new LinearWorld(board, seed);
  if (!factory) {
    throw new SimError(
      'E_SIM_SCENARIO', `no world for scenario "${scenario}"`,
      `use sim://${LINEAR_SCENARIO} or register the simulated world with registerWorldFactory() before opening the port`,
    );
  }
  return factory(scenario, seed, board);
}

export interface CreateSimDeviceOptions extends Omit<SimDeviceOptions, 'world'> {
  /** Scenario name passed to the world factory. Default "linear". */
  scenario?: string;
  /** World seed (also seeds the fault RNG unless faultSeed is given). Default 1. */
  seed?: number;
  faultSeed?: number;
  /** Default: the registered factory. */
  worldFactory?: WorldFactory | null;
  /** A ready world instead of a factory. */
  world?: World;
}

export function createSimDevice(options: CreateSimDeviceOptions = {}): SimDevice {
  const board = options.board ?? DEFAULT_BOARD;
  const seed = options.seed ?? 1;
  const world = options.world ?? makeWorld(options.scenario ?? LINEAR_SCENARIO, seed, worldBoardOf(board), options.worldFactory ?? registeredFactory);
  const { scenario: _s, seed: _seed, faultSeed, worldFactory: _f, world: _w, ...rest } = options;
  return new SimDevice({ ...rest, board, world, seed: faultSeed ?? seed });
}
