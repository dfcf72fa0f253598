// A serialport binding (@serialport/bindings-interface) whose ports are
// recordings: the host opens `sim://replay?rec=DIR` or `replay://DIR` through
// the same SerialPortStream code path as a real port, and a ReplayDevice
// answers (host/cli/devices.ts registers it). Each open reads the recording's
// device afresh; closing the port stops the device and releases the raw log —
// except after a replayed cable pull: then the device waits (in `devices`, by
// path) for the reopen that finds it again, as a host finds real hardware
// after a reconnect.
import type { BindingInterface } from '../transport/open.ts';
import { ReplayDevice } from './device.ts';
import { ReplayError } from './errors.ts';
import { loadRecordedDevice } from './recording.ts';
import { parseReplayUrl } from './url.ts';

type BindingPortInterface = Awaited<ReturnType<BindingInterface['open']>>;
type OpenOptions = Parameters<BindingInterface['open']>[0];
type PortInfo = Awaited<ReturnType<BindingInterface['list']>>[number];
type PortStatus = Awaited<ReturnType<BindingPortInterface['get']>>;
type SetOptions = Parameters<BindingPortInterface['set']>[0];
type UpdateOptions = Parameters<BindingPortInterface['update']>[0];

/** The error a read or write gets once the port is closed: serialport ignores canceled reads. */
class CanceledError extends Error {
  readonly canceled = true;
  constructor(message: string) {
    super(message);
    this.name = 'CanceledError';
  }
}

const notOpen = (): ReplayError => new ReplayError('E_REPLAY_PORT_CLOSED', 'port is not open', 'open the port first');

export class ReplayPortBinding implements BindingPortInterface {
  readonly openOptions: Required<OpenOptions>;
  isOpen = true;
  private pendingRead: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private writing = false;
  private unpluggedError: Error | null = null;
  /** An open port keeps the process alive, as a real port's handle does (the device's own timers may all be idle). */
  private keepAlive: NodeJS.Timeout | null = setInterval(() => undefined, 60_000);

  constructor(
    readonly device: ReplayDevice,
    openOptions: OpenOptions,
    private readonly path: string,
  ) {
    this.openOptions = {
      dataBits: 8, lock: true, stopBits: 1, parity: 'none', rtscts: false, xon: false, xoff: false, xany: false, hupcl: true, ...openOptions,
    } as Required<OpenOptions>;
    device.onReadable = () => {
      const p = this.pendingRead;
      this.pendingRead = null;
      p?.resolve();
    };
    device.onUnplug = () => {
      // as an unplugged USB device: the pending read fails (not canceled), so SerialPortStream closes with a disconnect
      this.unpluggedError = Object.assign(new ReplayError('E_REPLAY_DISCONNECTED', 'replayed device disconnected (as the recording\'s did)', 'reopen the port'), { disconnected: true });
      device.onReadable = null;
      device.onUnplug = null;
      this.release();
      const p = this.pendingRead;
      this.pendingRead = null;
      p?.reject(this.unpluggedError);
    };
  }

  private release(): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = null;
  }

  async close(): Promise<void> {
    if (!this.isOpen) throw notOpen();
    this.isOpen = false;
    this.release();
    if (!this.unpluggedError) {
      // a port the device was not pulled from: the device goes with it (after a pull it waits for the reopen)
      this.device.onReadable = null;
      this.device.onUnplug = null;
      this.device.close();
      if (devices.get(this.path) === this.device) devices.delete(this.path);
    }
    const p = this.pendingRead;
    this.pendingRead = null;
    p?.reject(new CanceledError('port is closed'));
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    if (!this.isOpen) throw notOpen();
    if (!Number.isInteger(offset) || !Number.isInteger(length) || length <= 0 || buffer.length < offset + length) {
      throw new ReplayError('E_REPLAY_READ', 'bad read arguments', 'pass a buffer with room for length bytes at offset');
    }
    for (;;) {
      if (this.unpluggedError) throw this.unpluggedError;
      const n = this.device.readInto(buffer, offset, length);
      if (n > 0) return { buffer, bytesRead: n };
      await new Promise<void>((resolve, reject) => {
        this.pendingRead = { resolve, reject };
      });
      if (!this.isOpen) throw new CanceledError('read canceled');
    }
  }

  async write(buffer: Buffer): Promise<void> {
    if (!this.isOpen) throw notOpen();
    if (this.unpluggedError) throw this.unpluggedError;
    if (this.writing) throw new ReplayError('E_REPLAY_WRITE', 'overlapping writes', 'serialport queues writes: call write once at a time');
    this.writing = true;
    try {
      const copy = Uint8Array.from(buffer);
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!this.isOpen) throw new CanceledError('write canceled');
      this.device.receive(copy);
    } finally {
      this.writing = false;
    }
  }

  async update(options: UpdateOptions): Promise<void> {
    if (!this.isOpen) throw notOpen();
    if (!(typeof options?.baudRate === 'number' && options.baudRate > 0)) throw new ReplayError('E_REPLAY_BAUD', `bad baud rate ${options?.baudRate}`, 'give a positive baud rate');
    this.openOptions.baudRate = options.baudRate;
  }

  async set(_options: SetOptions): Promise<void> {
    if (!this.isOpen) throw notOpen();
  }

  async get(): Promise<PortStatus> {
    if (!this.isOpen) throw notOpen();
    return { cts: true, dsr: true, dcd: true };
  }

  async getBaudRate(): Promise<{ baudRate: number }> {
    if (!this.isOpen) throw notOpen();
    return { baudRate: this.openOptions.baudRate };
  }

  async flush(): Promise<void> {
    if (!this.isOpen) throw notOpen();
  }

  async drain(): Promise<void> {
    if (!this.isOpen) throw notOpen();
  }
}

/** Devices with a port open on them, or waiting for a reopen after a replayed cable pull, by path. */
const devices = new Map<string, ReplayDevice>();

export interface ReplayBindingInterface extends BindingInterface {
  open(options: OpenOptions): Promise<ReplayPortBinding>;
}

/** The binding of replay URLs (sim://replay?rec=DIR, replay://DIR). */
export const ReplayBinding: ReplayBindingInterface = {
  async list(): Promise<PortInfo[]> {
    return [];
  },

  async open(options: OpenOptions): Promise<ReplayPortBinding> {
    if (!options || typeof options !== 'object') throw new ReplayError('E_REPLAY_OPEN', 'open options missing', 'pass { path, baudRate }');
    if (!(typeof options.baudRate === 'number' && options.baudRate > 0)) throw new ReplayError('E_REPLAY_OPEN', `bad baud rate ${options.baudRate}`, 'give a positive baudRate');
    const path = String(options.path);
    const url = parseReplayUrl(path);
    const waiting = devices.get(path);
    if (waiting && !waiting.unplugged) throw new ReplayError('E_REPLAY_BUSY', `${path} is already open`, 'close the other port on it first');
    if (waiting) {
      const port = new ReplayPortBinding(waiting, options, path);
      waiting.reattach();
      return port;
    }
    const recording = await loadRecordedDevice(url.recording);
    if (devices.has(path)) throw new ReplayError('E_REPLAY_BUSY', `${path} is already open`, 'close the other port on it first');
    const device = new ReplayDevice(recording, { speed: url.speed });
    devices.set(path, device);
    return new ReplayPortBinding(device, options, path);
  },
};
