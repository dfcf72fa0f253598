// sim:// ports whose world and device run in a worker thread (thread=worker;
// the worker: sim-worker.ts). The port here is the serialport binding the host
// reads and writes, as the in-thread SimPortBinding is: device bytes arrive in
// large transferred chunks and wait in a queue until read, credit goes back
// as they are read (worker-messages.ts), writes go to the worker and resolve
// once the device has them. A cable pull (disconnect fault) is reported after
// the bytes the device sent before it, then reads and writes fail as
// in-thread (E_SIM_DISCONNECTED, `disconnected`), and the path reopens to the
// same running device once the outage is over.
//
// One worker per path (SimWorkers): it lives while its port is open and, as
// an in-thread device does, after a close while its device keeps running
// (persist=1, a cable pull), then without keeping the process alive.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SimError } from '../device/errors.ts';
import type { BindingPortInterface, OpenOptions, PortStatus, SetOptions, UpdateOptions } from './serialport-types.ts';
import { simWorkerBundleUrl } from './worker-bundle.ts';
import type { FromWorker, ToWorker, WireError } from './worker-messages.ts';

class CanceledError extends Error {
  readonly canceled = true;
  constructor(message: string) {
    super(message);
    this.name = 'CanceledError';
  }
}

function simError(w: WireError): SimError {
  const e = new SimError(w.code, w.message, w.hint);
  return w.disconnected ? Object.assign(e, { disconnected: true }) : e;
}

/** Bytes read from the queue without waiting, after which a read yields to the event loop (the in-thread binding yields every ~16 KiB). */
const YIELD_BYTES = 64 * 1024;

const closedError = (): SimError => new SimError('E_SIM_PORT_CLOSED', 'port is not open', 'open the port first');

/** tsx's ESM API module, found from this module (not the cwd): the worker registers it before loading TypeScript. */
function tsxEsmApiUrl(): string {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return new URL(pkg.exports['./esm/api']!.import.default, pathToFileURL(manifest)).href;
}

/**
 * Starts a worker on sim-worker.ts: its plain-JS bundle where there is one (worker-bundle.ts: no tsx in the worker),
 * else the TypeScript, registering tsx first, so it loads alike under the CLI, mocha and `node --import tsx`.
 */
function startWorker(): Worker {
  const bundle = simWorkerBundleUrl();
  if (bundle) return new Worker(new URL(bundle));
  const target = new URL('./sim-worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsxEsmApiUrl())}).then((m) => { m.register(); return import(${JSON.stringify(target)}); })`;
  return new Worker(boot, { eval: true });
}

type Reply = Extract<FromWorker, { op: 'reply' }>;

/** The worker thread of one path and its requests in flight. */
class SimWorker {
  private readonly worker = startWorker();
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  /** The open port here, or null. */
  port: WorkerPortBinding | null = null;
  /** Whether a port opened in it: then it may hold a device that outlives its port. */
  opened = false;
  /** Set once the worker failed or exited: a next open starts another. */
  dead: Error | null = null;

  constructor(private readonly onExit: (w: SimWorker) => void) {
    this.worker.on('message', (m: FromWorker) => this.onMessage(m));
    this.worker.on('error', (e) => this.fail(new SimError('E_SIM_WORKER', `the simulated device's worker thread failed: ${e.message}`, 'report this as a simulator bug; open the path again', { cause: e })));
    this.worker.on('exit', (code) => this.fail(new SimError('E_SIM_WORKER', `the simulated device's worker thread exited (code ${code})`, 'open the path again')));
  }

  request(m: ToWorker & { id: number }, transfer?: ArrayBuffer[]): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.pending.set(m.id, { resolve, reject });
      this.worker.postMessage(m, transfer ?? []);
    });
  }

  id(): number {
    return this.nextId++;
  }

  starved(gen: number): void {
    if (!this.dead) this.worker.postMessage({ op: 'starved', gen } satisfies ToWorker);
  }

  /** While false, the worker does not keep the process alive. */
  set keepAlive(value: boolean) {
    if (value) this.worker.ref();
    else this.worker.unref();
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }

  private onMessage(m: FromWorker): void {
    if (m.op === 'reply') {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error) p?.reject(simError(m.error));
      else p?.resolve(m);
    } else if (this.port?.gen === m.gen) {
      if (m.op === 'data') this.port.arrived(m.bytes);
      else this.port.unplugged(simError(m.error));
    }
  }

  private fail(error: SimError): void {
    if (this.dead) return;
    this.dead = error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    this.port?.unplugged(Object.assign(error, { disconnected: true }));
    this.onExit(this);
  }
}

/** The worker threads of the thread=worker ports a binding opened, one per path. */
export class SimWorkers {
  private readonly workers = new Map<string, SimWorker>();

  /** Opens `options.path` in its worker (started now, or the one still running its device). */
  async open(options: OpenOptions): Promise<WorkerPortBinding> {
    const path = String(options.path);
    let w = this.workers.get(path);
    if (!w || w.dead) {
      w = new SimWorker((dead) => {
        if (this.workers.get(path) === dead) this.workers.delete(path);
      });
      this.workers.set(path, w);
    }
    w.keepAlive = true;
    let reply: Reply;
    const consumed = new SharedArrayBuffer(8);
    try {
      reply = await w.request({ op: 'open', id: w.id(), path, baudRate: options.baudRate, consumed });
    } catch (e) {
      // a worker still running a device (cable pulled, persist=1) keeps it; a fresh one has nothing to keep
      if (!w.port && !w.opened) this.release(path, w);
      else if (!w.port) w.keepAlive = false;
      throw e;
    }
    w.opened = true;
    const port = new WorkerPortBinding(w, reply.gen!, consumed, options, (keep) => {
      if (keep) w.keepAlive = false;
      else this.release(path, w);
    });
    w.port = port;
    return port;
  }

  /** Paths with a worker (open, or running a device after its port closed). */
  paths(): string[] {
    return [...this.workers.keys()];
  }

  /** Stops every worker (their ports fail as unplugged). */
  async reset(): Promise<void> {
    const all = [...this.workers.values()];
    this.workers.clear();
    await Promise.all(all.map((w) => w.terminate()));
  }

  private release(path: string, w: SimWorker): void {
    if (this.workers.get(path) === w) this.workers.delete(path);
    void w.terminate();
  }
}

/** A sim:// port (serialport binding contract) whose device runs in a worker thread. */
export class WorkerPortBinding implements BindingPortInterface {
  readonly openOptions: Required<OpenOptions>;
  isOpen = true;
  private readonly queue: Uint8Array[] = [];
  /** Read position in queue[0]. */
  private head = 0;
  /** Bytes read by the host (or dropped by a flush), shared with the worker: its credit. */
  private readonly consumed: BigInt64Array;
  private sinceYieldBytes = 0;
  private pendingRead: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private writing = false;
  /** Set on a cable pull: writes fail at once, reads once the bytes before it are read. */
  private unpluggedError: Error | null = null;

  constructor(
    private readonly worker: SimWorker,
    /** The worker's number for this open (and flush): its data carries it. */
    public gen: number,
    consumed: SharedArrayBuffer,
    openOptions: OpenOptions,
    private readonly onClosed: (keep: boolean) => void,
  ) {
    this.consumed = new BigInt64Array(consumed);
    this.openOptions = {
      dataBits: 8, lock: true, stopBits: 1, parity: 'none', rtscts: false, xon: false, xoff: false, xany: false, hupcl: true, ...openOptions,
    } as Required<OpenOptions>;
  }

  /** For SimWorker: bytes from the device. */
  arrived(bytes: Uint8Array): void {
    if (!this.isOpen) return;
    this.queue.push(bytes);
    this.wake();
  }

  /** For SimWorker: the device's cable was pulled (or its worker died) after the bytes already queued. */
  unplugged(error: Error): void {
    if (!this.isOpen || this.unpluggedError) return;
    this.unpluggedError = error;
    this.wake();
  }

  private wake(): void {
    const p = this.pendingRead;
    this.pendingRead = null;
    p?.resolve();
  }

  async close(): Promise<void> {
    if (!this.isOpen) throw closedError();
    this.isOpen = false;
    this.queue.length = 0;
    const p = this.pendingRead;
    this.pendingRead = null;
    p?.reject(new CanceledError('port is closed'));
    this.worker.port = null;
    let keep = false;
    try {
      keep = (await this.worker.request({ op: 'close', id: this.worker.id() })).keep === true;
    } catch {
      // a dead worker has nothing left to close
    }
    this.onClosed(keep);
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    if (!this.isOpen) throw closedError();
    if (!Number.isInteger(offset) || !Number.isInteger(length) || length <= 0 || buffer.length < offset + length) {
      throw new SimError('E_SIM_READ', 'bad read arguments', 'pass a buffer with room for length bytes at offset');
    }
    for (;;) {
      if (this.sinceYieldBytes >= YIELD_BYTES) {
        // reads of queued bytes resolve at once: let timers (the host's heartbeats) and I/O run between runs of them
        this.sinceYieldBytes = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (!this.isOpen) throw new CanceledError('read canceled');
      }
      const n = this.take(buffer, offset, length);
      this.sinceYieldBytes += n;
      if (n > 0) return { buffer, bytesRead: n };
      if (this.unpluggedError) throw this.unpluggedError;
      this.sinceYieldBytes = 0;
      await new Promise<void>((resolve, reject) => {
        this.pendingRead = { resolve, reject };
      });
      if (!this.isOpen) throw new CanceledError('read canceled');
    }
  }

  /** Copies queued bytes into `target`, gives credit back, returns how many. */
  private take(target: Uint8Array, offset: number, length: number): number {
    let n = 0;
    while (n < length && this.queue.length > 0) {
      const chunk = this.queue[0]!;
      const k = Math.min(length - n, chunk.length - this.head);
      target.set(chunk.subarray(this.head, this.head + k), offset + n);
      n += k;
      this.head += k;
      if (this.head === chunk.length) {
        this.queue.shift();
        this.head = 0;
      }
    }
    if (n > 0) {
      Atomics.add(this.consumed, 0, BigInt(n));
      if (this.queue.length === 0) this.worker.starved(this.gen);
    }
    return n;
  }

  async write(buffer: Buffer): Promise<void> {
    if (!this.isOpen) throw closedError();
    if (this.unpluggedError) throw this.unpluggedError;
    if (this.writing) throw new SimError('E_SIM_WRITE', 'overlapping writes', 'serialport queues writes: call write once at a time');
    this.writing = true;
    try {
      const bytes = Uint8Array.from(buffer);
      await this.worker.request({ op: 'write', id: this.worker.id(), bytes }, [bytes.buffer]);
      if (!this.isOpen) throw new CanceledError('write canceled');
    } finally {
      this.writing = false;
    }
  }

  async update(options: UpdateOptions): Promise<void> {
    if (!this.isOpen) throw closedError();
    if (!(typeof options?.baudRate === 'number' && options.baudRate > 0)) throw new SimError('E_SIM_BAUD', `bad baud rate ${options?.baudRate}`, 'give a positive baud rate');
    this.openOptions.baudRate = options.baudRate;
  }

  async set(_options: SetOptions): Promise<void> {
    if (!this.isOpen) throw closedError();
  }

  async get(): Promise<PortStatus> {
    if (!this.isOpen) throw closedError();
    return { cts: true, dsr: true, dcd: true };
  }

  async getBaudRate(): Promise<{ baudRate: number }> {
    if (!this.isOpen) throw closedError();
    return { baudRate: this.openOptions.baudRate };
  }

  /** Drops what the device sent and nobody read (here and in the worker), as the in-thread flush does. */
  async flush(): Promise<void> {
    if (!this.isOpen) throw closedError();
    const reply = await this.worker.request({ op: 'flush', id: this.worker.id() });
    // everything that arrived before the reply was sent before the flush: dropped, and counted as consumed
    this.gen = reply.gen!;
    const dropped = this.queue.reduce((sum, c) => sum + c.length, 0) - this.head;
    this.queue.length = 0;
    this.head = 0;
    Atomics.add(this.consumed, 0, BigInt(dropped));
  }

  async drain(): Promise<void> {
    if (!this.isOpen) throw closedError();
  }
}
