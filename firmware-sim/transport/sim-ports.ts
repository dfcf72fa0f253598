// The simulated devices behind sim:// paths, held by an explicit object (as
// serialport's MockBinding holds its mock ports), not a hidden module map:
//
//   const ports = new SimPorts();                  // or SimBinding.ports, the one host opens
//   const handle = ports.createPort('sim://linear?seed=1&speed=max');
//   ... open the path (SerialPortStream, Rig.connect) ... handle.device.inject(…), handle.device.truth
//   ports.release(path) / ports.reset();           // forget one device / every device (tests: after each test)
//
// createPort() powers up a device before anything opens its path; the next
// open attaches to it. An open of a path with no waiting device powers up a
// fresh one (what `fiberrig acquire --device sim://…` does), as does a reopen
// after a close, unless the path says persist=1 or the device's cable was
// pulled by a disconnect fault (then the reopen finds the same device,
// running). lookup() finds the device behind a path, also after its port closed.
import type { BoardDefinition } from '../device/board.ts';
import { createSimDevice, type WorldFactory } from '../device/create.ts';
import type { SimDevice } from '../device/device.ts';
import { SimError } from '../device/errors.ts';
import { SYNC_BUSES } from '../device/sync-bus.ts';
import type { SimPortBinding } from './binding.ts';
import { Pacer } from './pacer.ts';
import { parseSimUrl, type SimUrl } from './sim-url.ts';

export interface SimPortHandle {
  readonly path: string;
  readonly options: SimUrl;
  readonly device: SimDevice;
  readonly pacer: Pacer;
  /** The open port, or null while closed. */
  port: SimPortBinding | null;
  /** Opens so far. */
  opens: number;
}

export interface SimPortsOptions {
  /** World factory for scenarios other than "linear" (default: the registered one). */
  worldFactory?: WorldFactory;
  board?: BoardDefinition;
}

export class SimPorts {
  private readonly ports = new Map<string, SimPortHandle>();
  /** Devices whose cable was pulled by a disconnect fault (a reopen finds the same device). */
  private readonly pulled = new WeakSet<SimPortHandle>();
  private readonly openListeners = new Set<(handle: SimPortHandle) => void>();

  constructor(private readonly defaults: SimPortsOptions = {}) {}

  /**
   * Powers up a simulated device for `path` (a sim:// URL, which sets its
   * scenario, seed, speed, faults): the next open of the path attaches to it.
   * Replaces a closed port's device; a path that is open is refused (E_SIM_LOCKED).
   */
  createPort(path: string): SimPortHandle {
    const parsed = parseSimUrl(path);
    const old = this.ports.get(path);
    if (old?.port) throw new SimError('E_SIM_LOCKED', `${path} is open: cannot create a new device there`, 'close the port first');
    old?.pacer.stop();
    old?.device.leaveSyncBus();
    const device = createSimDevice({
      scenario: parsed.scenario, seed: parsed.seed, driftPpm: parsed.driftPpm, faults: parsed.faults,
      ...(parsed.scenarioFile?.board ? { board: parsed.scenarioFile.board } : this.defaults.board ? { board: this.defaults.board } : {}),
      ...(parsed.scenarioFile ? { scenarioSpec: parsed.scenarioFile.spec } : {}),
      ...(this.defaults.worldFactory ? { worldFactory: this.defaults.worldFactory } : {}),
      ...(parsed.linkBytesPerSecond ? { linkBytesPerSecond: parsed.linkBytesPerSecond } : {}),
      ...(parsed.loopbackLine !== undefined ? { loopbackWire: { toLine: parsed.loopbackLine } } : {}),
      ...(parsed.ledAging ? { ledAging: parsed.ledAging } : {}),
      ...(parsed.hardwareFaults ? { hardwareFaults: parsed.hardwareFaults } : {}),
      ...(parsed.syncBus ? { syncBus: SYNC_BUSES.joinNow(parsed.syncBus.name, parsed.speed, parsed.syncBus.inputLine) } : {}),
    });
    const pacer = new Pacer(device, { speed: parsed.speed });
    const handle: SimPortHandle = { path, options: parsed, device, pacer, port: null, opens: 0 };
    device.events.on('disconnect', () => this.pulled.add(handle));
    this.ports.set(path, handle);
    return handle;
  }

  /** The device behind `path` (created, or powered up by the last open; also after its port closed), or undefined. */
  lookup(path: string): SimPortHandle | undefined {
    return this.ports.get(path);
  }

  /** Every port held, in creation order. */
  list(): SimPortHandle[] {
    return [...this.ports.values()];
  }

  /** Whether `handle` is still held (not replaced, not reset). */
  holds(handle: SimPortHandle): boolean {
    return this.ports.get(handle.path) === handle;
  }

  /**
   * Forgets every port: the next open of any path powers up a new device.
   * Devices of closed ports stop now; a port still open keeps its device
   * until its owner closes it.
   */
  reset(): void {
    for (const h of this.ports.values()) {
      if (!h.port) h.pacer.stop();
      h.device.leaveSyncBus();
    }
    this.ports.clear();
  }

  /**
   * Forgets the device behind `path` alone, as reset() forgets every one: it stops now if its
   * port is closed, else when its owner closes it. The next open of the path powers up a new device.
   */
  release(path: string): void {
    const h = this.ports.get(path);
    if (!h) return;
    if (!h.port) h.pacer.stop();
    h.device.leaveSyncBus();
    this.ports.delete(path);
  }

  /** Whether someone listens for opens (onOpen): they want the device's handle. */
  get listening(): boolean {
    return this.openListeners.size > 0;
  }

  /** Calls `listener` on every successful open of a path; returns an unsubscribe function. */
  onOpen(listener: (handle: SimPortHandle) => void): () => void {
    this.openListeners.add(listener);
    return () => this.openListeners.delete(listener);
  }

  /**
   * For the binding: the handle an open of `path` attaches to (a created
   * device waiting for its first open, a persist=1 or unplugged one, or a
   * fresh one). Refuses a path that is open or whose cable is pulled.
   */
  forOpen(path: string): SimPortHandle {
    const handle = this.ports.get(path);
    if (handle?.port) throw new SimError('E_SIM_LOCKED', `${path} is already open`, 'close the other port first');
    if (handle && this.pulled.has(handle) && handle.device.disconnected) {
      throw new SimError('E_SIM_UNPLUGGED', `${path}: no such device (simulated cable pulled)`, 'wait for the simulated outage to end, then reopen');
    }
    if (handle && (handle.opens === 0 || handle.options.persist || this.pulled.has(handle))) return handle;
    return this.createPort(path);
  }

  /** For the binding: `handle` was opened. */
  opened(handle: SimPortHandle): void {
    handle.opens++;
    this.pulled.delete(handle);
    for (const l of this.openListeners) l(handle);
  }
}
