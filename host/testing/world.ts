// Control of a simulated target's world during a run: the device behind it, the world's
// ground truth, faults injected now, front-end faults switched on and off, and world events
// added now (steps, ramps, drugs, motion, blood volume, TTLs: the timeline events of a scenario
// document, which can also declare them ahead in TargetOptions.scenario); all land in the
// same ground truth.
import {
  type DeviceTruth, type FaultSpec, type GroundTruth, type HardwareFault, parseFaults, parseHardwareFaults, type SimDevice,
  type SimWorld, type TimelineEventInput, type WorldFaults, worldFaultsOf,
} from '../cli/devices.ts';
import { TestingError } from './errors.ts';

/** A timeline event whose `atS` may be left out (then: now). */
export type WorldEventInput = TimelineEventInput extends infer E ? (E extends { atS: number } ? Omit<E, 'atS'> & { atS?: number } : never) : never;

export interface SimControl {
  /** The simulated device now behind the target (in-process: the one the last open attached to). */
  readonly device: SimDevice;
  /** The world's ground truth: underlying signals, states, events, noise-free renders (not for the `linear` scenario). */
  readonly truth: GroundTruth;
  /** What the device did: faults applied, samples lost (lostRanges), LED drives. */
  readonly deviceTruth: DeviceTruth;
  /** World time now, seconds. */
  readonly worldTimeS: number;
  /**
   * World time of sample 0 of the current (or last) run: session time t of a run's signals is
   * world time runStartWorldS + t (one segment, no drift). Null before the first Start.
   */
  readonly runStartWorldS: number | null;
  /**
   * The truth of `fluorophore` on the session timeline of the current run, for expectTracks:
   * `expectTracks(signalOf(blocks, '470nm@det0'), sim.truthOf('grabNe'))`.
   */
  truthOf(fluorophore: Parameters<GroundTruth['signal']>[0]): (sessionS: number) => number;
  /**
   * Applies link and device faults now (or at their `@atS`), in the sim:// `faults=` syntax or as
   * specs: e.g. `'overrun:blocks=4'`, `'disconnect:for=2'`, `'reset'`, `'drift:ppm=50'`, `'corrupt:rate=1e-4,for=1'`.
   */
  inject(faults: string | FaultSpec | readonly FaultSpec[]): void;
  /**
   * Replaces the front end's faults (the sim:// `hw=` syntax, ids as the board names them): e.g.
   * `'dead_led:1'`, `'noisy_det:0'`; `''` or `[]` clears them. Needs a world scenario (not `linear`).
   */
  setHardwareFaults(faults: string | readonly HardwareFault[]): void;
  /**
   * Adds a world event at world time `atS` (default: now, `worldTimeS`), e.g.
   * `sim.addEvent({ kind: 'step', fluorophore: 'grabNe', level: 0.1 })` or a drug
   * `{ kind: 'drug', neAmplitudeScale: 0.5, washInS: 60 }` (model sleep); validated like a
   * scenario file's timeline. Samples the device already rendered do not change.
   */
  addEvent(event: WorldEventInput): void;
}

function simWorldOf(device: SimDevice): SimWorld {
  const w = device.world as Partial<SimWorld>;
  if (!w.truth || !w.setFaults) {
    throw new TestingError('E_TARGET_NOT_SIM', `the "${device.world.scenario}" world has no ground truth or front-end faults`, 'open the target with a world scenario, e.g. { scenario: \'steps\' } or a scenario document');
  }
  return device.world as SimWorld;
}

/** World control over whatever device `current()` returns now. */
export function simControl(current: () => SimDevice): SimControl {
  return {
    get device() {
      return current();
    },
    get truth() {
      return simWorldOf(current()).truth;
    },
    get deviceTruth() {
      return current().truth;
    },
    get worldTimeS() {
      return current().worldTimeS;
    },
    get runStartWorldS() {
      return current().runStartWorldS;
    },
    truthOf(fluorophore) {
      const device = current();
      const truth = simWorldOf(device).truth;
      const t0 = device.runStartWorldS;
      if (t0 === null) throw new TestingError('E_TARGET_NOT_SIM', 'the simulated device has not started a run yet', 'call truthOf() after rig.start()');
      return (sessionS) => truth.signal(fluorophore, t0 + sessionS);
    },
    inject(faults) {
      const specs = typeof faults === 'string' ? parseFaults(faults) : Array.isArray(faults) ? faults : [faults as FaultSpec];
      const device = current();
      for (const spec of specs) device.inject(spec);
    },
    addEvent(event) {
      const device = current();
      simWorldOf(device).addEvent({ ...event, atS: event.atS ?? device.worldTimeS } as TimelineEventInput);
    },
    setHardwareFaults(faults) {
      const device = current();
      const list = typeof faults === 'string' ? (faults.trim() ? parseHardwareFaults(faults) : []) : faults;
      const worldFaults: WorldFaults = worldFaultsOf(device.board, list);
      simWorldOf(device).setFaults(worldFaults);
    },
  };
}
