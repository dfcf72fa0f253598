// Shared machinery of the acceptance tests: a simulated device opened through
// sim:// in-process, a Rig driving it, the demodulation pipeline on top, and
// the ground truth the simulator exposes (world truth, fault log, and a record
// of every detector block the device rendered).
import { solveLeastNorm } from '../../../host/dsp/linear.ts';
import { type AcquisitionConfigInit, ModulationMode } from '../../../protocol/index.ts';
import { DEFAULT_LOCKIN_CONFIG, toWireConfig } from '../../../host/config/acquisition.ts';
import { type DemodOptions, SignalDemodulator, type SignalBlock } from '../../../host/pipeline/demodulate.ts';
import { type AcquisitionItem, type LinkHealth, Rig, type RigBlock, type RigGap, type RigOptions } from '../../../host/rig/rig.ts';
import '../../../host/cli/devices.ts';
import { registeredWorldFactory, registerWorldFactory } from '../../../firmware-sim/device/create.ts';
import type { SimPortHandle, SimPorts } from '../../../firmware-sim/transport/sim-ports.ts';
import { createWorld, type SimWorld, type WorldBoard, type WorldOptions } from '../../../firmware-sim/world/index.ts';
import type { DetectorRenderRequest } from '../../../firmware-sim/world/world.ts';


/**
 * Test worlds: `sim://SCENARIO.VARIANT` opens the world of SCENARIO with the
 * variant's options (sim:// URLs carry no world options):
 *   noiseless           no detector noise (quantization stays): leaves what a demodulator lets through
 *   mains60             ambient flicker at 120 Hz (+ 240 Hz) instead of 100 Hz (+ 200 Hz)
 *   noiseless-mains60   both
 * Every world records the detector blocks it renders (see RenderLog).
 */
const VARIANTS: Record<string, WorldOptions> = {
  noiseless: { noise: false },
  mains60: { mainsHz: 60 },
  'noiseless-mains60': { noise: false, mainsHz: 60 },
};

/** What the device asked the world to render, block by block, in order (one run per device in these tests). */
export interface RenderLog {
  /** World time of each rendered block's first sample, and its sample period. */
  blocks: Array<{ t0S: number; dtS: number; count: number; first: number }>;
  /** Optional full copy of the codes (per board detector) and LED currents (per board LED), concatenated. */
  codes: number[][] | null;
  currents: number[][] | null;
}

const renderLogs = new WeakMap<SimWorld, RenderLog>();
let keepCodes = false;

/** Whether worlds created from now on keep a copy of every rendered code and LED current. */
export function recordCodes(on: boolean): void {
  keepCodes = on;
}

function testWorldFactory(scenario: string, seed: number, board: WorldBoard): SimWorld {
  const [base = '', variant] = scenario.split('.');
  const options = variant === undefined ? {} : VARIANTS[variant];
  if (!options) throw new Error(`unknown test world variant "${variant}"`);
  const world = createWorld(base, seed, board, options);
  const log: RenderLog = { blocks: [], codes: keepCodes ? board.detectors.map(() => []) : null, currents: keepCodes ? board.leds.map(() => []) : null };
  renderLogs.set(world, log);
  const render = world.renderDetectors.bind(world);
  let next = 0;
  world.renderDetectors = (r: DetectorRenderRequest): void => {
    render(r);
    log.blocks.push({ t0S: r.t0S, dtS: r.dtS, count: r.count, first: next });
    next += r.count;
    if (log.codes) r.out.forEach((o, d) => { for (let i = 0; i < r.count; i++) log.codes![d]!.push(o[i]!); });
    if (log.currents) r.ledCurrentMa.forEach((c, k) => { for (let i = 0; i < r.count; i++) log.currents![k]!.push(c[i]!); });
  };
  return world;
}

/** Installs the test world factory (call in before()); returns the function that restores the previous one. */
export function useTestWorlds(): () => void {
  const previous = registeredWorldFactory();
  registerWorldFactory(testWorldFactory);
  return () => registerWorldFactory(previous);
}

export function worldOf(handle: SimPortHandle): SimWorld {
  return handle.device.world as SimWorld;
}

export function renderLogOf(handle: SimPortHandle): RenderLog {
  const log = renderLogs.get(worldOf(handle));
  if (!log) throw new Error('this device was not created by the test world factory (call useTestWorlds() first)');
  return log;
}

/** World time of detector sample n of the (only) run; exact at 0 ppm drift. */
export function sampleTimeS(log: RenderLog, n: number): number {
  const b = log.blocks[0];
  if (!b) throw new Error('no block was rendered');
  return b.t0S + n * b.dtS;
}

/** The default 3-wavelength lock-in config (648/1150/1749 Hz, 2 detectors, 10 kS/s, 100 Hz out), without aux and digital inputs. */
export function lockinConfig(overrides: Partial<AcquisitionConfigInit> = {}): AcquisitionConfigInit {
  const wire = toWireConfig(DEFAULT_LOCKIN_CONFIG);
  const { aux: _aux, ...rest } = wire;
  return { ...rest, digitalInputIds: [], heartbeatTimeoutMs: 5000, ...overrides };
}

/**
 * Time division, 3 LEDs + dark slot, 125-sample slots at 10 kS/s (50 ms cycle, 20 Hz out).
 * The 100-sample (10 ms) window spans whole periods of 100 and 200 Hz flicker (50 Hz mains),
 * so flicker integrates out of both the LED and the dark windows.
 */
export function tdmConfig(): AcquisitionConfigInit {
  const base = lockinConfig();
  return {
    ...base,
    mode: ModulationMode.MODULATION_MODE_TIME_DIVISION,
    leds: (base.leds ?? []).map((l) => ({ channel: l.channel ?? 0, currentMa: l.currentMa ?? 20 })),
    timeDivision: { slotSamples: 125, onSamples: 120, settleSamples: 15, windowSamples: 100, darkSlot: true },
  };
}

export interface Recording {
  rig: Rig;
  handle: SimPortHandle;
  config: AcquisitionConfigInit;
  items: AcquisitionItem[];
  blocks: RigBlock[];
  gaps: RigGap[];
  signals: Signals;
  health: LinkHealth;
}

/** Demodulated output assembled per channel on the output time base (NaN where nothing was delivered). */
export interface Signals {
  rateHz: number;
  names: string[];
  /** values[channel][outputIndex] */
  values: Float64Array[];
  phase: Float64Array[] | null;
}

function assemble(blocks: SignalBlock[]): Signals {
  const first = blocks[0];
  if (!first) return { rateHz: 0, names: [], values: [], phase: null };
  const end = Math.max(...blocks.map((b) => b.firstIndex + b.count));
  const values = first.channels.map(() => new Float64Array(end).fill(Number.NaN));
  const phase = first.phaseRad ? first.channels.map(() => new Float64Array(end).fill(Number.NaN)) : null;
  for (const b of blocks) {
    for (let c = 0; c < values.length; c++) {
      values[c]!.set(b.values[c]!, b.firstIndex);
      if (phase && b.phaseRad) phase[c]!.set(b.phaseRad[c]!, b.firstIndex);
    }
  }
  return { rateHz: first.rateHz, names: first.channels.map((c) => c.name), values, phase };
}

export interface AcquireOptions {
  /** The sim:// ports host opens (useSimPorts()): the device is created there. */
  ports: SimPorts;
  /** Stop once this many detector samples (session timeline) have arrived. */
  samples: number;
  demod?: DemodOptions;
  rig?: RigOptions;
  /** Called after configure, before start (e.g. to set world faults). */
  beforeStart?: (handle: SimPortHandle) => void;
  /** Called once `samples` have arrived, just before Stop is sent. */
  beforeStop?: (handle: SimPortHandle) => void;
}

/**
 * Creates the device at `url` in `options.ports`, opens it, configures, starts, collects everything until `samples`
 * detector samples have arrived, stops and closes. Stop's Ack follows every
 * block of the run, so nothing is in flight when this returns.
 */
export async function acquire(url: string, config: AcquisitionConfigInit, options: AcquireOptions): Promise<Recording> {
  const handle = options.ports.createPort(url);
  const rig = await Rig.connect(url, { heartbeatIntervalMs: 100, ...options.rig });
  const items: AcquisitionItem[] = [];
  const demod = new SignalDemodulator(config, rig.info, options.demod ?? {});
  const signalBlocks: SignalBlock[] = [];
  try {
    await rig.configure(config);
    options.beforeStart?.(handle);
    let reached: () => void = () => undefined;
    const done = new Promise<void>((r) => { reached = r; });
    let failure: Error | undefined;
    const sub = rig.acquisition$.subscribe({
      next: (item) => {
        items.push(item);
        for (const b of demod.push(item)) if (b.stream === 'signals') signalBlocks.push(b);
        if (item.kind === 'block' && item.source === 'detector' && item.sessionIndex + item.sampleCount >= options.samples) reached();
      },
      error: (e: Error) => { failure = e; reached(); },
    });
    await rig.start();
    await done;
    options.beforeStop?.(handle);
    await rig.stop();
    sub.unsubscribe();
    if (failure) throw failure;
    const health = rig.linkHealth();
    return {
      rig, handle, config, items,
      blocks: items.filter((i): i is RigBlock => i.kind === 'block'),
      gaps: items.filter((i): i is RigGap => i.kind === 'gap'),
      signals: assemble(signalBlocks), health,
    };
  } finally {
    await rig.close();
    handle.pacer.stop();
  }
}

// ---------------------------------------------------------------- numerics

export function mean(x: ArrayLike<number>, from = 0, to = x.length): number {
  let s = 0;
  let n = 0;
  for (let i = from; i < to; i++) {
    const v = x[i]!;
    if (Number.isFinite(v)) { s += v; n++; }
  }
  return n ? s / n : Number.NaN;
}

export function db(ratio: number): number {
  return 20 * Math.log10(ratio);
}

/** Least-squares fit of a·sin(2πft) + b·cos(2πft) + polynomial(t) of `degree`; returns the sine amplitude √(a²+b²). */
export function sineAmplitude(t: ArrayLike<number>, y: ArrayLike<number>, hz: number, degree = 1): number {
  const cols = 2 + degree + 1;
  const ata = Array.from({ length: cols }, () => new Float64Array(cols));
  const aty = new Float64Array(cols);
  const row = new Float64Array(cols);
  const t0 = t[0]!;
  const span = Math.max(1e-9, t[t.length - 1]! - t0);
  for (let i = 0; i < t.length; i++) {
    const v = y[i]!;
    if (!Number.isFinite(v)) continue;
    const ti = t[i]!;
    row[0] = Math.sin(2 * Math.PI * hz * ti);
    row[1] = Math.cos(2 * Math.PI * hz * ti);
    const u = (ti - t0) / span;
    for (let p = 0; p <= degree; p++) row[2 + p] = u ** p;
    for (let a = 0; a < cols; a++) {
      aty[a]! += row[a]! * v;
      for (let b = 0; b < cols; b++) ata[a]![b]! += row[a]! * row[b]!;
    }
  }
  const x = solve(ata, aty);
  return Math.hypot(x[0]!, x[1]!);
}


/** Normal equations given as rows (host/dsp/linear.ts solves them). */
export function solve(rows: Float64Array[], b: Float64Array): Float64Array {
  return solveLeastNorm(rows.flatMap((r) => Array.from(r)), b, b.length);
}
