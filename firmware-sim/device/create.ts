// createSimDevice: a simulated device measuring a world made by a world
// factory. The factory is injected (the world implementation lives in
// firmware-sim/world/ and is wired in by whoever assembles the simulator);
// the built-in scenario "linear" (LinearWorld) is always available.
import type { ScenarioSpec } from '../world/scenario-file/spec.ts';
import type { World, WorldBoard, WorldFactoryOptions } from '../world/world.ts';
import { type BoardDefinition, DEFAULT_BOARD, worldBoardOf } from './board.ts';
import { SimDevice, type SimDeviceOptions } from './device.ts';
import { SimError } from './errors.ts';
import { type HardwareFault, worldFaultsOf } from './hardware-faults.ts';
import { LinearWorld } from './linear-world.ts';

/** Makes the world of a scenario, deterministic for a seed (and the per-unit options, when it honours them). */
export type WorldFactory = (scenario: string, seed: number, board: WorldBoard, options?: WorldFactoryOptions) => World;

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
export function makeWorld(
  scenario: string, seed: number, board: WorldBoard, factory: WorldFactory | null = registeredFactory, options: WorldFactoryOptions = {},
): World {
  if (scenario === LINEAR_SCENARIO) {
    if (options.ledAging?.some((f) => f !== undefined)) {
      throw new SimError('E_SIM_OPTIONS', 'the "linear" scenario has no LED optics to age', 'use a world scenario (e.g. sim://dark?led_aging=1:0.85)');
    }
    if (options.faults) {
      throw new SimError('E_SIM_OPTIONS', 'the "linear" scenario has no front end to break', 'use a world scenario (e.g. sim://steps?hw=dead_led:1)');
    }
    return new LinearWorld(board, seed);
  }
  if (!factory) {
    throw new SimError(
      'E_SIM_SCENARIO', `no world for scenario "${scenario}"`,
      `use sim://${LINEAR_SCENARIO} or register the simulated world with registerWorldFactory() before opening the port`,
    );
  }
  return factory(scenario, seed, board, options);
}

/** An aged LED: `channel` emits `factor` times the light of its seeded curve. */
export interface LedAging {
  channel: number;
  factor: number;
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
  /** Aged LEDs (by channel id), passed to the world factory. */
  ledAging?: readonly LedAging[];
  /** Hardware faults of the front end (by channel id), passed to the world factory. */
  hardwareFaults?: readonly HardwareFault[];
  /** A scenario document (sim://file), passed to the world factory. */
  scenarioSpec?: ScenarioSpec;
}

/** Board-order aging factors for the world factory; unknown channels are an error. */
export function ledAgingByIndex(board: BoardDefinition, aging: readonly LedAging[]): Array<number | undefined> {
  const out: Array<number | undefined> = board.leds.map(() => undefined);
  for (const a of aging) {
    const k = board.leds.findIndex((l) => l.id === a.channel);
    if (k < 0) throw new SimError('E_SIM_OPTIONS', `led_aging names LED ${a.channel}, which this board lacks`, `board LEDs: ${board.leds.map((l) => l.id).join(', ')}`);
    if (!(Number.isFinite(a.factor) && a.factor > 0 && a.factor <= 2)) throw new SimError('E_SIM_OPTIONS', `led_aging factor ${a.factor} for LED ${a.channel}`, 'give a factor in (0, 2], e.g. 0.85 for 15 % dimmer');
    out[k] = a.factor;
  }
  return out;
}

export function createSimDevice(options: CreateSimDeviceOptions = {}): SimDevice {
  const board = options.board ?? DEFAULT_BOARD;
  const seed = options.seed ?? 1;
  const worldOptions: WorldFactoryOptions = options.ledAging?.length ? { ledAging: ledAgingByIndex(board, options.ledAging) } : {};
  if (options.hardwareFaults?.length) worldOptions.faults = worldFaultsOf(board, options.hardwareFaults);
  if (options.scenarioSpec) worldOptions.scenarioSpec = options.scenarioSpec;
  const world = options.world ?? makeWorld(options.scenario ?? LINEAR_SCENARIO, seed, worldBoardOf(board), options.worldFactory ?? registeredFactory, worldOptions);
  const { scenario: _s, seed: _seed, faultSeed, worldFactory: _f, world: _w, ledAging: _a, hardwareFaults: _h, scenarioSpec: _spec, ...rest } = options;
  return new SimDevice({ ...rest, board, world, seed: faultSeed ?? seed });
}
