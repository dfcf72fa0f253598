// The worker thread of a sim:// port opened with thread=worker (started by
// worker-port.ts): it runs the world and the simulated device of one path
// behind the in-thread binding itself (its own SimPorts: fresh device per
// open, persist=1, reopen after a cable pull, typed errors, all as in-thread),
// reads the device's bytes ahead in large chunks while it has credit, and
// hands them over by transfer. Host writes arrive as messages and go to the
// device as the in-thread binding's writes do.
import { parentPort } from 'node:worker_threads';
import { SimError } from '../device/errors.ts';
import '../simulator.ts'; // registers the world factory, as importing the simulator does in the opening thread
import { createSimBinding, SimPortBinding } from './binding.ts';
import { CHUNK_BYTES, type FromWorker, leadBytesAfter, MAX_LEAD_BYTES, type ToWorker, type WireError } from './worker-messages.ts';

const channel = parentPort!;
/** Bytes sent since the open: the lead grows with them (worker-messages.ts). */
let deliveredBytes = 0;
/** The open's shared count of bytes the other side consumed. */
let consumed = new BigInt64Array(new SharedArrayBuffer(8));
/** Bytes sent and not yet consumed by the other side. */
const unreadBytes = (): number => deliveredBytes - Number(Atomics.load(consumed, 0));
// the pacer counts what is in flight as unread too: the device leads the host by the lead, not more
const binding = createSimBinding({ inWorker: true, unreadElsewhere: unreadBytes, leadBytes: () => leadBytesAfter(deliveredBytes) });

let port: SimPortBinding | null = null;
/** Numbers the opens: data of an earlier open is dropped by the other side. */
let gen = 0;
let creditWaiter: (() => void) | null = null;

const post = (m: FromWorker, transfer?: ArrayBuffer[]): void => channel.postMessage(m, transfer ?? []);

function wireError(e: unknown): WireError {
  if (e instanceof SimError) {
    // the message carries its hint (FiberrigError): send them apart, the other side joins them again
    const suffix = ` — ${e.hint}`;
    const message = e.hint && e.message.endsWith(suffix) ? e.message.slice(0, -suffix.length) : e.message;
    return { code: e.code, message, hint: e.hint, ...((e as { disconnected?: boolean }).disconnected ? { disconnected: true } : {}) };
  }
  return { code: 'E_SIM_WORKER', message: `simulated device failed: ${(e as Error)?.message ?? String(e)}`, hint: 'report this as a simulator bug; open the path again' };
}

function wakePump(): void {
  const w = creditWaiter;
  creditWaiter = null;
  w?.();
}

/**
 * Reads the open port's device ahead while there is credit, one transferred
 * chunk per read, until the port closes or is replaced. Chunks carry the
 * current `gen` (a flush starts another: what was read before it is dropped).
 */
async function pump(p: SimPortBinding): Promise<void> {
  const device = p.handle.device;
  while (p.isOpen && port === p) {
    if (unreadBytes() >= MAX_LEAD_BYTES) {
      await new Promise<void>((resolve) => {
        creditWaiter = resolve;
      });
      continue;
    }
    const chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    let n: number;
    try {
      n = (await p.read(chunk, 0, CHUNK_BYTES)).bytesRead;
    } catch (e) {
      if (p.isOpen && port === p) post({ op: 'unplugged', gen, error: wireError(e) });
      return;
    }
    if (port !== p) return;
    n += device.readInto(chunk, n, CHUNK_BYTES - n);
    deliveredBytes += n;
    post({ op: 'data', gen, bytes: new Uint8Array(chunk.buffer, 0, n) }, [chunk.buffer as ArrayBuffer]);
  }
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.op) {
    case 'starved':
      if (m.gen === gen) {
        wakePump();
        port?.handle.pacer.demand(); // generate now, not at the next tick
      }
      return;
    case 'open': {
      const p = await binding.open({ path: m.path, baudRate: m.baudRate });
      if (!(p instanceof SimPortBinding)) throw new SimError('E_SIM_WORKER', 'a worker opened its path in another worker', 'report this as a simulator bug');
      port = p;
      gen++;
      consumed = new BigInt64Array(m.consumed);
      deliveredBytes = 0;
      post({ op: 'reply', id: m.id, gen });
      void pump(p);
      return;
    }
    case 'write':
      await requirePort().write(Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength));
      post({ op: 'reply', id: m.id });
      return;
    case 'flush':
      await requirePort().flush();
      gen++; // the other side counts what it drops as consumed
      wakePump();
      post({ op: 'reply', id: m.id, gen });
      return;
    case 'close': {
      const p = requirePort();
      const { handle: h } = p;
      await p.close();
      port = null;
      wakePump();
      // the device outlives its port as in-thread (persist=1, after a cable pull: a reopen finds it) while its pacer runs
      const keep = binding.ports.holds(h) && h.pacer.started;
      post({ op: 'reply', id: m.id, keep });
      return;
    }
  }
}

function requirePort(): SimPortBinding {
  if (!port) throw new SimError('E_SIM_PORT_CLOSED', 'port is not open', 'open the port first');
  return port;
}

// requests are handled one after the other, in order (a write never overtakes a close)
let queue: Promise<void> = Promise.resolve();
channel.on('message', (m: ToWorker) => {
  if (m.op === 'starved') {
    void handle(m);
    return;
  }
  queue = queue.then(() => handle(m)).catch((e: unknown) => post({ op: 'reply', id: m.id, error: wireError(e) }));
});
