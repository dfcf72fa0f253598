// What crosses between a sim:// port in this thread (worker-port.ts) and the
// worker thread that runs its world and device (sim-worker.ts).
//
// Device bytes travel as transferred ArrayBuffers of up to CHUNK_BYTES (as
// many frames as the device had ready, never one message per frame). Flow
// control is by credit: the worker reads the device ahead while fewer than
// HIGH_WATER_BYTES it sent are unread in this thread; this thread gives
// credit back (`consumed`) as the host reads them.

/** Largest chunk of device bytes in one message. */
export const CHUNK_BYTES = 64 * 1024;
/** Unread bytes (sent, not yet consumed) up to which the worker reads the device ahead. */
export const HIGH_WATER_BYTES = 512 * 1024;
/** Consumed bytes this thread gathers before it gives them back as credit (also when its queue empties). */
export const CREDIT_BYTES = 64 * 1024;
/** Unread device bytes below which the worker's pacer generates more at speed=max (the in-thread binding: 16 KiB). */
export const WORKER_LOW_WATER_BYTES = 64 * 1024;

/** A SimError as data (errors do not cross threads with their class). */
export interface WireError {
  code: string;
  message: string;
  hint: string;
  /** Set on a simulated cable pull: the stream closes as disconnected. */
  disconnected?: boolean;
}

export type ToWorker =
  | { op: 'open'; id: number; path: string; baudRate: number }
  | { op: 'write'; id: number; bytes: Uint8Array }
  | { op: 'flush'; id: number }
  | { op: 'close'; id: number }
  | { op: 'consumed'; gen: number; bytes: number };

export type FromWorker =
  /** The answer to a request: `gen` numbers an open (its data carries it), `keep` says the device outlives a close. */
  | { op: 'reply'; id: number; error?: WireError; gen?: number; keep?: boolean }
  | { op: 'data'; gen: number; bytes: Uint8Array }
  /** The port's device was unplugged (a disconnect fault), after the last data it sent. */
  | { op: 'unplugged'; gen: number; error: WireError };
