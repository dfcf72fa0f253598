// Simulator benchmarks: speed as a multiple of real time for a 3-LED lock-in
// run (2 detectors at 10 kS/s, EEG+EMG at 1 kS/s), including schedule, world
// rendering, packing, protobuf encoding and framing (bytes produced, not sent
// anywhere); and heap growth over a simulated hour.
//
// The world defaults to the noise-free LinearWorld; pass `worldFactory` (e.g.
// the real simulated world) to measure with it.
import { performance } from 'node:perf_hooks';
import { PROTOCOL_VERSION } from '../../protocol/index.ts';
import { DEFAULT_BOARD, worldBoardOf } from '../../firmware-sim/device/board.ts';
import type { WorldFactory } from '../../firmware-sim/device/create.ts';
import { SimDevice } from '../../firmware-sim/device/device.ts';
import { LinearWorld } from '../../firmware-sim/device/linear-world.ts';
import { LOCK_IN } from '../firmware-sim/device/helpers.ts';
import type { Emit } from './run.ts';

export interface SimBenchOptions {
  worldFactory?: WorldFactory;
  scenario?: string;
  /** Simulated seconds for the speed figure. Default 600. */
  speedSeconds?: number;
  /** Simulated seconds for the memory figure. Default 3600. */
  memorySeconds?: number;
}

// the simulator tests' 3-LED lock-in: 2 detectors at 10 kS/s, EEG+EMG at 1 kS/s
const CONFIG = LOCK_IN;

function makeDevice(options: SimBenchOptions): { device: SimDevice; bytes: { n: number; frames: number } } {
  const board = DEFAULT_BOARD;
  const world = options.worldFactory
    ? options.worldFactory(options.scenario ?? 'sleep', 1, worldBoardOf(board))
    : new LinearWorld(worldBoardOf(board), 1);
  const device = new SimDevice({ world, board });
  const bytes = { n: 0, frames: 0 };
  device.outbox.sink = (b) => {
    bytes.n += b.length;
    bytes.frames++;
  };
  let id = 1;
  device.handle({ requestId: id++, hello: { protocol: { ...PROTOCOL_VERSION } } });
  device.handle({ requestId: id++, configure: { config: CONFIG } });
  device.handle({ requestId: id++, start: {} });
  return { device, bytes };
}

/** Advances `seconds` of simulated time in 1 s steps, with a heartbeat every 10 s. */
function simulate(device: SimDevice, seconds: number): void {
  for (let s = 0; s < seconds; s++) {
    if (s % 10 === 0) device.handle({ requestId: 0, heartbeat: {} });
    device.advance(1);
  }
}

/**
 * The default run measures the full simulated world (the sleep scenario: the
 * figure the issue asks for), then the noise-free linear world as a baseline
 * for the device-side cost alone.
 */
export async function run(emit: Emit, options?: SimBenchOptions): Promise<void> {
  if (options) {
    await measure(emit, options, options.worldFactory ? options.scenario ?? 'sleep' : 'linear');
    return;
  }
  const { createWorld } = await import('../../firmware-sim/world/index.ts');
  await measure(emit, { worldFactory: createWorld, scenario: 'sleep' }, 'sleep');
  await measure(emit, { memorySeconds: 600 }, 'linear');
}

async function measure(emit: Emit, options: SimBenchOptions, label: string): Promise<void> {
  const world = label;

  // warm-up, then speed
  simulate(makeDevice(options).device, 20);
  const speedSeconds = options.speedSeconds ?? 600;
  const { device, bytes } = makeDevice(options);
  const t0 = performance.now();
  simulate(device, speedSeconds);
  const wallS = (performance.now() - t0) / 1000;
  if (device.truth.blocksProduced.detector < speedSeconds * 39) throw new Error(`only ${device.truth.blocksProduced.detector} blocks produced`);
  emit({ name: `sim.speed.lockin3x2.${label}`, value: speedSeconds / wallS, unit: 'x real time', world, simulatedS: speedSeconds, wallS, note: '3 LEDs lock-in, 2 detectors at 10 kS/s, 2 aux at 1 kS/s, encode + frame' });
  emit({ name: `sim.output.rate.${label}`, value: bytes.n / speedSeconds / 1e3, unit: 'kB/s simulated', frames: bytes.frames });
  emit({ name: `sim.throughput.samples.${label}`, value: (speedSeconds * (2 * 10_000 + 2 * 1000)) / wallS / 1e6, unit: 'M samples/s' });

  // memory over a simulated hour
  const memorySeconds = options.memorySeconds ?? 3600;
  const m = makeDevice(options);
  simulate(m.device, 60);
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const t1 = performance.now();
  simulate(m.device, memorySeconds);
  const hourWallS = (performance.now() - t1) / 1000;
  globalThis.gc?.();
  const after = process.memoryUsage().heapUsed;
  emit({
    name: `sim.memory.growth.${label}`, value: (after - before) / 1e6, unit: 'MB', world, simulatedS: memorySeconds, wallS: hourWallS,
    gcExposed: typeof globalThis.gc === 'function', faultRecords: m.device.truth.faults.length,
  });
}
