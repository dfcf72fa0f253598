// The main-thread end of the raw log's I/O worker (rawlog-io-worker.js):
// chunks are handed over by transfer (no copy, no wait), and the worker
// confirms each write, fsync and close, giving a chunk's buffer back (by
// transfer) when asked so the writer reuses it. Nothing here blocks on the disk.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** What the worker starts with. */
export interface RawLogIoInit {
  /** The file to create (it must not exist). */
  path: string;
  /** 8 bytes: the worker adds each chunk's bytes once written (BigInt64, Atomics), readable at any time. */
  writtenCounter: SharedArrayBuffer;
  /** Test-only: the worker blocks for `durationMs` before the first write once `afterBytes` are written. */
  testOnlyStall?: { afterBytes: number; durationMs: number };
}

export type RawLogIoRequest =
  /** `giveBack`: return the chunk's whole buffer with the `written` reply (for reuse). */
  | { op: 'write'; chunk: Uint8Array; giveBack?: boolean }
  | { op: 'fsync' }
  | { op: 'sync'; id: number }
  | { op: 'close'; id: number; tail?: Uint8Array };

export type RawLogIoReply =
  | { op: 'opened' }
  /** `buffer`: the chunk's buffer, given back (transferred) when the write asked for it. */
  | { op: 'written'; bytes: number; buffer?: ArrayBuffer }
  | { op: 'fsynced' }
  /** `cpuS`: on close, the worker thread's CPU seconds (user + system; null off Linux). */
  | { op: 'done'; id: number; cpuS?: number | null }
  | { op: 'error'; what: 'open' | 'write' | 'fsync' | 'close'; message: string; code?: string };

export interface RawLogIoEvents {
  /** `buffer`: the written chunk's buffer when it was handed over with `giveBack` (the receiver owns it again). */
  written(bytes: number, buffer?: ArrayBuffer): void;
  fsynced(): void;
  failed(what: string, error: Error): void;
}

/** tsx's ESM API module (its `import` export of `tsx/esm/api`), found from this module, not the cwd (the cohort's TypeScript workers register it; the raw log's worker needs none). */
export function tsxEsmApiUrl(): string {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return new URL(pkg.exports['./esm/api']!.import.default, pathToFileURL(manifest)).href;
}

/**
 * Starts the worker: plain JavaScript (node loads it without a TypeScript
 * loader, which would cost each recording a loader thread and a transpile),
 * with none of this process's `--import` flags.
 */
function startWorker(init: RawLogIoInit): Worker {
  return new Worker(new URL('./rawlog-io-worker.js', import.meta.url), { workerData: init, execArgv: [] });
}

export class RawLogIo {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, () => void>();
  private exited = false;
  private closing = false;
  private opening: { resolve: () => void; reject: (e: Error) => void } | undefined;

  private readonly written: BigInt64Array;
  /** The worker thread's CPU seconds (user + system), as it reported on close; null before, or off Linux. */
  ioThreadCpuS: number | null = null;

  private constructor(init: RawLogIoInit, private readonly events: RawLogIoEvents) {
    this.written = new BigInt64Array(init.writtenCounter);
    this.worker = startWorker(init);
    this.worker.on('message', (m: RawLogIoReply) => this.onReply(m));
    this.worker.on('error', (error) => {
      if (this.opening) this.opening.reject(error);
      else this.events.failed('worker', error);
    });
    this.worker.on('exit', (code) => {
      this.exited = true;
      const error = new Error(`the raw log's I/O worker exited (code ${code})`);
      if (this.opening) this.opening.reject(error);
      else if (!this.closing) this.events.failed('worker', error);
      this.settleAll();
    });
  }

  /** Starts a worker that creates `init.path`; rejects with the open error (its `code` kept, e.g. EEXIST). */
  static async open(init: Omit<RawLogIoInit, 'writtenCounter'>, events: RawLogIoEvents): Promise<RawLogIo> {
    const io = new RawLogIo({ ...init, writtenCounter: new SharedArrayBuffer(8) }, events);
    try {
      await new Promise<void>((resolve, reject) => { io.opening = { resolve, reject }; });
    } catch (error) {
      io.closing = true;
      await io.worker.terminate();
      throw error;
    }
    io.worker.unref();
    return io;
  }

  /** Bytes the worker has written so far: current even while this thread is busy (its messages wait). */
  get bytesWritten(): number {
    return Number(Atomics.load(this.written, 0));
  }

  /**
   * Hands `chunk` to the worker. Its buffer is transferred (no copy) when `chunk` spans all of it, or
   * when `giveBuffer` says the caller gives up the whole buffer behind `chunk`; the caller must not
   * reuse a transferred buffer. Otherwise `chunk` is copied first. With `giveBack` (and `giveBuffer`),
   * the worker transfers the buffer back once written: `events.written` receives it.
   */
  write(chunk: Uint8Array, giveBuffer = false, giveBack = false): void {
    const transferable = !(chunk.buffer instanceof SharedArrayBuffer);
    const whole = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;
    const given = transferable && (whole || giveBuffer);
    const owned = given ? chunk : Uint8Array.prototype.slice.call(chunk);
    const request: RawLogIoRequest = given && giveBack ? { op: 'write', chunk: owned, giveBack: true } : { op: 'write', chunk: owned };
    this.worker.postMessage(request, [owned.buffer as ArrayBuffer]);
  }

  /** Asks for an fsync (done after the chunks already handed over; skipped when nothing new was written). */
  fsync(): void {
    this.worker.postMessage({ op: 'fsync' } satisfies RawLogIoRequest);
  }

  /** Resolves when every chunk handed over so far is written and fsynced (or the worker failed). */
  sync(): Promise<void> {
    return this.request('sync');
  }

  /**
   * Writes what is handed over, then `tail` (the closing record: written
   * even after a failure, at the end of the complete records, when the disk
   * takes it), fsyncs, closes the file and ends the worker.
   */
  async close(tail?: Uint8Array): Promise<void> {
    await this.request('close', tail);
    this.closing = true;
    await this.worker.terminate();
  }

  private request(op: 'sync' | 'close', tail?: Uint8Array): Promise<void> {
    if (this.exited) return Promise.resolve();
    const id = this.nextId++;
    this.worker.ref();
    return new Promise<void>((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage(op === 'close' && tail ? { op, id, tail } : { op, id } satisfies RawLogIoRequest);
    });
  }

  private onReply(m: RawLogIoReply): void {
    switch (m.op) {
      case 'opened':
        this.opening?.resolve();
        this.opening = undefined;
        break;
      case 'written':
        this.events.written(m.bytes, m.buffer);
        break;
      case 'fsynced':
        this.events.fsynced();
        break;
      case 'done': {
        if (m.cpuS !== undefined) this.ioThreadCpuS = m.cpuS;
        const resolve = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (this.pending.size === 0) this.worker.unref();
        resolve?.();
        break;
      }
      case 'error': {
        const error = Object.assign(new Error(m.message), m.code ? { code: m.code } : {});
        if (m.what === 'open' && this.opening) this.opening.reject(error);
        else this.events.failed(m.what, error);
        break;
      }
    }
  }

  private settleAll(): void {
    for (const resolve of this.pending.values()) resolve();
    this.pending.clear();
  }
}
