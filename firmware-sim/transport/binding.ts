// A serialport binding for sim:// paths: the host opens a simulated device
// through the same SerialPortStream code path as a real port:
//
//   new SerialPortStream({ binding: SimBinding, path: 'sim://linear?seed=1&speed=max', baudRate: 115200 })
//
// The devices behind the paths are held by the binding's SimPorts
// (binding.ports, sim-ports.ts): each open of a path powers up a fresh
// simulated device unless one was created for it (ports.createPort), the
// path says persist=1, or the device is still there after a simulated cable
// pull (a `disconnect` fault): then the open finds that device. During a
// disconnect fault the open port fails like an unplugged USB device (a
// pending read rejects, the stream closes with a disconnect error) and
// opening the path fails until the outage is over.
//
// Tests reach the device behind a path through the ports: createPort(path)
// before opening, lookup(path), onOpen(listener); SimPortHandle.device has
// the fault triggers (inject) and the ground truth (truth).
//
// A path opened in a worker thread (thread=worker in the URL, or asked by the
// opener: open(options, { thread: 'worker' })) runs its world and device
// there, behind a port with the same contract (worker-port.ts, README.md);
// its device is not in `ports` (nothing here can reach it).
import type { BoardDefinition } from '../device/board.ts';
import type { WorldFactory } from '../device/create.ts';
import type { SimDevice } from '../device/device.ts';
import { SimError } from '../device/errors.ts';
import type { BindingInterface, BindingPortInterface, OpenOptions, PortInfo, PortStatus, SetOptions, UpdateOptions } from './serialport-types.ts';
import { parseSimUrl, type SimThread, type SimUrl } from './sim-url.ts';
import { type SimPortHandle, SimPorts } from './sim-ports.ts';
import { SimWorkers, type WorkerPortBinding } from './worker-port.ts';

/** Unread bytes below which speed=max generates more. */
const LOW_WATER_BYTES = 16 * 1024;

class CanceledError extends Error {
  readonly canceled = true;
  constructor(message: string) {
    super(message);
    this.name = 'CanceledError';
  }
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
    private readonly ports: SimPorts,
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
    // after a cable pull the device keeps running (unref'd clock) until the path is reopened;
    // a device its ports no longer hold (reset, replaced) stops with its last port
    if ((!this.handle.options.persist && !wasUnplugged) || !this.ports.holds(this.handle)) pacer.stop();
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
  /** The ports it opens (default: its own, made with worldFactory and board). */
  ports?: SimPorts;
  /** World factory for scenarios other than "linear" (default: the registered one). */
  worldFactory?: WorldFactory;
  board?: BoardDefinition;
  /** Bytes read from a device and not yet by its host (a worker's, in flight): counted as unread by the pacer. */
  unreadElsewhere?: () => number;
  /** Unread bytes (outbox + unreadElsewhere) below which speed=max generates more: how far the device may run ahead of its host (default 16 KiB, as the outbox alone). */
  leadBytes?: () => number;
  /** The binding of a worker thread's device (sim-worker.ts): it opens every path in its own thread. */
  inWorker?: boolean;
}

export interface SimOpenHow {
  /** Where the device runs when the URL does not say (thread=): default main. */
  thread?: SimThread;
}

export interface SimBindingInterface extends BindingInterface {
  /** The simulated devices behind its paths (those opened in this thread). */
  readonly ports: SimPorts;
  /** The worker threads of the paths it opened with thread=worker. */
  readonly workers: SimWorkers;
  open(options: OpenOptions, how?: SimOpenHow): Promise<SimPortBinding | WorkerPortBinding>;
}

/**
 * Whether nothing needs the device behind `url` in this thread, so it can run in a worker:
 * speed=max (at a fixed speed the host waits for the clock anyway), no persist=1 (a device
 * kept for a later open), no sync_bus (shared with this process's other rigs), no device
 * created for the path (createPort: someone holds its handle), nobody listening for opens.
 */
export function workerFits(url: SimUrl, ports: SimPorts): boolean {
  return url.speed === 'max' && !url.persist && !url.syncBus && !ports.lookup(url.url) && !ports.listening;
}

/** A binding over `options.ports` (or its own SimPorts with a world factory and board). SimBinding uses the registered factory. */
export function createSimBinding(options: SimBindingOptions = {}): SimBindingInterface {
  const ports = options.ports ?? new SimPorts({
    ...(options.worldFactory ? { worldFactory: options.worldFactory } : {}),
    ...(options.board ? { board: options.board } : {}),
  });
  const workers = new SimWorkers();
  const unreadElsewhere = options.unreadElsewhere ?? ((): number => 0);
  const leadBytes = options.leadBytes ?? ((): number => LOW_WATER_BYTES);
  const custom = options.worldFactory !== undefined || options.board !== undefined;
  const inWorker = options.inWorker === true;
  return {
    ports,
    workers,

    async list(): Promise<PortInfo[]> {
      return ports.list().map((h) => ({
        path: h.path, manufacturer: 'fiberrig simulator', serialNumber: h.device.board.serialNumber,
        pnpId: undefined, locationId: undefined, productId: undefined, vendorId: undefined,
      }));
    },

    async open(options: OpenOptions, how: SimOpenHow = {}): Promise<SimPortBinding | WorkerPortBinding> {
      if (!options || typeof options !== 'object') throw new SimError('E_SIM_OPEN', 'open options missing', 'pass { path, baudRate }');
      if (!(typeof options.baudRate === 'number' && options.baudRate > 0)) throw new SimError('E_SIM_OPEN', `bad baud rate ${options.baudRate}`, 'give a positive baudRate');
      const url = parseSimUrl(String(options.path));
      if (!inWorker && (url.thread ?? how.thread) === 'worker') {
        if (custom) throw new SimError('E_SIM_THREAD', `${options.path}: this binding's own world factory or board cannot run in a worker thread`, 'open it with thread=main, or through SimBinding (the registered simulator)');
        return workers.open(options);
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
      const h = ports.forOpen(options.path);
      const port = new SimPortBinding(h, options, ports);
      h.port = port;
      h.device.setHostAttached(true);
      // the outbox stays under the low-water mark (its capacity is 64 KiB: a fuller one stalls the link and the device drops),
      // and with what was read but not yet by the host, under the lead
      h.pacer.setWants(() => port.isOpen && h.device.outbox.length < LOW_WATER_BYTES && h.device.outbox.length + unreadElsewhere() < leadBytes());
      h.pacer.keepAlive = true;
      h.pacer.start();
      ports.opened(h);
      return port;
    },
  };
}

/** The sim:// binding host opens (host/cli/devices.ts registers it), using the registered world factory; its devices are SimBinding.ports. */
export const SimBinding: SimBindingInterface = createSimBinding();
