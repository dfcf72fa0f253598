// A serialport binding for sim:// paths: the host opens a simulated device
// through the same SerialPortStream code path as a real port:
//
//   new SerialPortStream({ binding: SimBinding, path: 'sim://linear?seed=1&speed=max', baudRate: 115200 })
//
// Each open of a path powers up a fresh simulated device, unless the path
// says persist=1 or the device is still there after a simulated cable pull
// (a `disconnect` fault): then the reopen finds the same device, running.
// During a disconnect fault the open port fails like an unplugged USB device
// (a pending read rejects, the stream closes with a disconnect error) and
// opening the path fails until the outage is over.
//
// Tests reach the device behind a path with getSimPort(path) or
// onSimPortOpen(listener): SimPortHandle.device has the fault triggers
// (inject) and the ground truth (truth).
import type { BoardDefinition } from '../device/board.ts';
import { createSimDevice, type WorldFactory } from '../device/create.ts';
import type { SimDevice } from '../device/device.ts';
import { SimError } from '../device/errors.ts';
import { Pacer } from './pacer.ts';
import type { BindingInterface, BindingPortInterface, OpenOptions, PortInfo, PortStatus, SetOptions, UpdateOptions } from './serialport-types.ts';
import { parseSimUrl, type SimUrl } from './sim-url.ts';

/** Unread bytes below which speed=max generates more. */
const LOW_WATER_BYTES = 16 * 1024;

class CanceledError extends Error {
  readonly canceled = true;
  constructor(message: string) {
    super(message);
    this.name = 'CanceledError';
  }
}

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

const ports = new Map<string, SimPortHandle>();
/** Devices whose cable was pulled by a disconnect fault (a reopen finds the same device). */
const pulled = new WeakSet<SimPortHandle>();
const openListeners = new Set<(handle: SimPortHandle) => void>();

/** The simulated device behind a sim:// path (also after the port closed), or undefined. */
export function getSimPort(path: string): SimPortHandle | undefined {
  return ports.get(path);
}

/** Calls `listener` on every successful open of a sim:// path; returns an unsubscribe function. */
export function onSimPortOpen(listener: (handle: SimPortHandle) => void): () => void {
  openListeners.add(listener);
  return () => openListeners.delete(listener);
}

/** Forgets a path's device (the next open powers up a new one). Closes nothing. */
export function forgetSimPort(path: string): void {
  const h = ports.get(path);
  if (h && !h.port) h.pacer.stop();
  ports.delete(path);
}

export class SimPortBinding implements BindingPortInterface {
  readonly openOptions: Required<OpenOptions>;
  isOpen = true;
  private pendingRead: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private writing = false;
  private unpluggedError: Error | null = null;
  private readonly onReadable = (): void => this.wake();
  private readonly onDisconnect = (): void => this.unplugged();

  constructor(
    readonly handle: SimPortHandle,
    openOptions: OpenOptions,
  ) {
    this.openOptions = {
      dataBits: 8, lock: true, stopBits: 1, parity: 'none', rtscts: false, xon: false, xoff: false, xany: false, hupcl: true, ...openOptions,
    } as Required<OpenOptions>;
    const { device } = handle;
    device.outbox.onReadable = this.onReadable;
    device.events.on('disconnect', this.onDisconnect);
  }

  private get device(): SimDevice {
    return this.handle.device;
  }

  private wake(): void {
    const p = this.pendingRead;
    if (!p) return;
    this.pendingRead = null;
    p.resolve();
  }

  private detach(): void {
    const { device, pacer } = this.handle;
    this.isOpen = false;
    device.outbox.onReadable = null;
    device.events.off('disconnect', this.onDisconnect);
    this.handle.port = null;
    pacer.keepAlive = false;
  }

  /**
   * A disconnect fault: the port fails as an unplugged USB device does. The
   * pending (or next) read rejects with a non-canceled error while the port
   * still counts as open, so SerialPortStream closes with a DisconnectedError.
   */
  private unplugged(): void {
    if (!this.isOpen || this.unpluggedError) return;
    this.unpluggedError = Object.assign(
      new SimError('E_SIM_DISCONNECTED', 'simulated device disconnected', 'reopen the port when it is back'), { disconnected: true },
    );
    this.device.outbox.onReadable = null;
    this.device.setHostAttached(false);
    this.handle.pacer.keepAlive = false;
    const p = this.pendingRead;
    this.pendingRead = null;
    p?.reject(this.unpluggedError);
  }

  async close(): Promise<void> {
    if (!this.isOpen) throw new SimError('E_SIM_PORT_CLOSED', 'port is not open', 'open the port first');
    const wasUnplugged = this.unpluggedError !== null;
    this.detach();
    const { device, pacer } = this.handle;
    device.setHostAttached(false);
    // after a cable pull the device keeps running (unref'd clock) until the path is reopened
    if (!this.handle.options.persist && !wasUnplugged) pacer.stop();
    const p = this.pendingRead;
    this.pendingRead = null;
    p?.reject(new CanceledError('port is closed'));
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    if (!this.isOpen) throw new SimError('E_SIM_PORT_CLOSED', 'port is not open', 'open the port first');
    if (!Number.isInteger(offset) || !Number.isInteger(length) || length <= 0 || buffer.length < offset + length) {
      throw new SimError('E_SIM_READ', 'bad read arguments', 'pass a buffer with room for length bytes at offset');
    }
    for (;;) {
      if (this.unpluggedError) throw this.unpluggedError;
      const n = this.device.readInto(buffer, offset, length);
      if (n > 0) return { buffer, bytesRead: n };
      await new Promise<void>((resolve, reject) => {
        this.pendingRead = { resolve, reject };
        this.handle.pacer.demand();
      });
      if (!this.isOpen) throw new CanceledError('read canceled');
      if (this.unpluggedError) throw this.unpluggedError;
    }
  }

  async write(buffer: Buffer): Promise<void> {
    if (!this.isOpen) throw new SimError('E_SIM_PORT_CLOSED', 'port is not open', 'open the port first');
    if (this.unpluggedError) throw this.unpluggedError;
    if (this.writing) throw new SimError('E_SIM_WRITE', 'overlapping writes', 'serialport queues writes: call write once at a time');
    this.writing = true;
    try {
      const copy = Uint8Array.from(buffer);
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!this.isOpen) throw new CanceledError('write canceled');
      this.handle.pacer.catchUp();
      this.device.receive(copy);
    } finally {
      this.writing = false;
    }
  }

  async update(options: UpdateOptions): Promise<void> {
    if (!this.isOpen) throw new SimError('E_SIM_PORT_CLOSED', 'port is not open', 'open the port first');
    if (!(typeof options?.baudRate === 'number' && options.baudRate > 0)) throw new SimError('E_SIM_BAUD', `bad baud rate ${options?.baudRate}`, 'give a positive baud rate');
    this.openOptions.baudRate = options.baudRate;
  }

  async set(_options: SetOptions): Promise<void> {
    if (!this.isOpen) throw new SimError('E_SIM_PORT_CLOSED', 'port is not open', 'open the port first');
  }

  async get(): Promise<PortStatus> {
    if (!this.isOpen) throw new SimError('E_SIM_PORT_CLOSED', 'port is not open', 'open the port first');
    return { cts: true, dsr: true, dcd: true };
  }

  async getBaudRate(): Promise<{ baudRate: number }> {
    if (!this.isOpen) throw new SimError('E_SIM_PORT_CLOSED', 'port is not open', 'open the port first');
    return { baudRate: this.openOptions.baudRate };
  }

  async flush(): Promise<void> {
    if (!this.isOpen) throw new SimError('E_SIM_PORT_CLOSED', 'port is not open', 'open the port first');
    this.device.setHostAttached(false);
    this.device.setHostAttached(true);
  }

  async drain(): Promise<void> {
    if (!this.isOpen) throw new SimError('E_SIM_PORT_CLOSED', 'port is not open', 'open the port first');
  }
}

export interface SimBindingOptions {
  /** World factory for scenarios other than "linear" (default: the registered one). */
  worldFactory?: WorldFactory;
  board?: BoardDefinition;
}

export interface SimBindingInterface extends BindingInterface {
  open(options: OpenOptions): Promise<SimPortBinding>;
}

/** A binding with its own defaults (world factory, board). SimBinding uses the registered factory. */
export function createSimBinding(defaults: SimBindingOptions = {}): SimBindingInterface {
  return {
    async list(): Promise<PortInfo[]> {
      return [...ports.keys()].map((path) => ({
        path, manufacturer: 'fiberrig simulator', serialNumber: ports.get(path)!.device.board.serialNumber,
        pnpId: undefined, locationId: undefined, productId: undefined, vendorId: undefined,
      }));
    },

    async open(options: OpenOptions): Promise<SimPortBinding> {
      if (!options || typeof options !== 'object') throw new SimError('E_SIM_OPEN', 'open options missing', 'pass { path, baudRate }');
      if (!(typeof options.baudRate === 'number' && options.baudRate > 0)) throw new SimError('E_SIM_OPEN', `bad baud rate ${options.baudRate}`, 'give a positive baudRate');
      const parsed = parseSimUrl(String(options.path));
      await new Promise<void>((resolve) => setImmediate(resolve));
      let handle = ports.get(options.path);
      if (handle?.port) throw new SimError('E_SIM_LOCKED', `${options.path} is already open`, 'close the other port first');
      if (handle && pulled.has(handle) && handle.device.disconnected) {
        throw new SimError('E_SIM_UNPLUGGED', `${options.path}: no such device (simulated cable pulled)`, 'wait for the simulated outage to end, then reopen');
      }
      if (!handle || !(handle.options.persist || pulled.has(handle))) {
        handle?.pacer.stop();
        const device = createSimDevice({
          scenario: parsed.scenario, seed: parsed.seed, driftPpm: parsed.driftPpm, faults: parsed.faults,
          ...(parsed.scenarioFile?.board ? { board: parsed.scenarioFile.board } : defaults.board ? { board: defaults.board } : {}),
          ...(parsed.scenarioFile ? { scenarioSpec: parsed.scenarioFile.spec } : {}),
          ...(defaults.worldFactory ? { worldFactory: defaults.worldFactory } : {}),
          ...(parsed.linkBytesPerSecond ? { linkBytesPerSecond: parsed.linkBytesPerSecond } : {}),
          ...(parsed.loopbackLine !== undefined ? { loopbackWire: { toLine: parsed.loopbackLine } } : {}),
          ...(parsed.ledAging ? { ledAging: parsed.ledAging } : {}),
          ...(parsed.hardwareFaults ? { hardwareFaults: parsed.hardwareFaults } : {}),
        });
        const pacer = new Pacer(device, { speed: parsed.speed });
        const created: SimPortHandle = { path: options.path, options: parsed, device, pacer, port: null, opens: 0 };
        device.events.on('disconnect', () => pulled.add(created));
        ports.set(options.path, created);
        handle = created;
      }
      const h = handle;
      const port = new SimPortBinding(h, options);
      h.port = port;
      h.opens++;
      pulled.delete(h);
      h.device.setHostAttached(true);
      h.pacer.setWants(() => port.isOpen && h.device.outbox.length < LOW_WATER_BYTES);
      h.pacer.keepAlive = true;
      h.pacer.start();
      for (const l of openListeners) l(h);
      return port;
    },
  };
}

/** The sim:// binding, using the registered world factory. */
export const SimBinding: SimBindingInterface = createSimBinding();
