// What crosses between a sim:// port in this thread (worker-port.ts) and the
// worker thread that runs its world and device (sim-worker.ts).
//
// Device bytes travel as transferred ArrayBuffers of up to CHUNK_BYTES (as
// many frames as the device had ready, never one message per frame). Flow
// control is by credit without a message per chunk: this thread adds the
// bytes the host read to a shared counter (`consumed`, Atomics), and sends
// `starved` only when its queue ran dry (the worker may be waiting). The
// worker's pacer generates at speed=max while what is unread (its outbox,
// sent less consumed) is under the lead (leadBytes).
//
// The lead is device time the host has not seen when it sends a command (Stop
// at the duration: the raw log keeps what was already sent), and in-thread it
// is the binding's 16 KiB (~0.4 s of the default configuration). A lead that
// small keeps the two threads taking turns, each waiting for the other; so it
// starts there, as in-thread (short recordings, tests, the first minute of
// any run behave alike) and grows with the bytes delivered, 1/16 of them, up
// to MAX_LEAD_BYTES (~6 s of the default configuration) after ~1.5 minutes of
// device time: a long run gets both threads working.

/** Largest chunk of device bytes in one message. */
export const CHUNK_BYTES = 64 * 1024;
/** The lead of a fresh open: the in-thread binding's low-water mark. */
export const MIN_LEAD_BYTES = 16 * 1024;
/** The lead of a long run. */
export const MAX_LEAD_BYTES = 256 * 1024;

/** How far the device may run ahead of its host after `deliveredBytes` since the open. */
export function leadBytesAfter(deliveredBytes: number): number {
  return Math.min(MAX_LEAD_BYTES, Math.max(MIN_LEAD_BYTES, deliveredBytes / 16));
}

/** A SimError as data (errors do not cross threads with their class). */
export interface WireError {
  code: string;
  message: string;
  hint: string;
  /** Set on a simulated cable pull: the stream closes as disconnected. */
  disconnected?: boolean;
}

export type ToWorker =
  /** `consumed`: 8 bytes, BigInt64 — the bytes of this open the host read (or a flush dropped), added here, read there. */
  | { op: 'open'; id: number; path: string; baudRate: number; consumed: SharedArrayBuffer }
  | { op: 'write'; id: number; bytes: Uint8Array }
  | { op: 'flush'; id: number }
  | { op: 'close'; id: number }
  /** This thread's queue ran dry: generate now (not at the pacer's next tick). */
  | { op: 'starved'; gen: number };

export type FromWorker =
  /** The answer to a request: `gen` numbers an open (its data carries it), `keep` says the device outlives a close. */
  | { op: 'reply'; id: number; error?: WireError; gen?: number; keep?: boolean }
  | { op: 'data'; gen: number; bytes: Uint8Array }
  /** The port's device was unplugged (a disconnect fault), after the last data it sent. */
  | { op: 'unplugged'; gen: number; error: WireError };
