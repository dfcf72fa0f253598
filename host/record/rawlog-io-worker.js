// The raw log's disk I/O, in a worker thread (started by rawlog-io.ts): the
// main thread, which also sends the heartbeats that keep the device's LEDs
// on, never waits for the disk. Chunks arrive in order, each a run of
// complete records; they are written with writeSync (each chunk's buffer is
// given back by transfer when the main thread asks, so it reuses it instead of
// allocating), fsynced on request and closed on request. After a failure
// nothing more is written and the file is cut back to the end of the last
// chunk written whole, so it ends at a complete record; only the closing
// record (which says why) is still tried.
// Plain JavaScript, like host/cli/bin.js: node loads it without a TypeScript
// loader (tsx in a worker cost each recording ~0.2 CPU s: its loader thread and
// a transpile). The messages are typed in rawlog-io.ts (JSDoc below names them);
// test/host/record (rawlog, disk-stall, disk-full, cli kill -9) exercises them.
import { closeSync, fsyncSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { threadCpuS } from '../thread-cpu.js';

/** @type {import('./rawlog-io.ts').RawLogIoInit} */
const init = workerData;
const writtenCounter = new BigInt64Array(init.writtenCounter);
const port = parentPort;
let fd = -1;
/** Bytes of the chunks written whole (the file's length while nothing failed). */
let committedBytes = 0;
let dirty = false;
let failed = false;
let closed = false;
let stall = init.testOnlyStall;

/** @param {import('./rawlog-io.ts').RawLogIoReply} message */
const reply = (message) => port.postMessage(message);

/** @param {'write' | 'fsync' | 'close'} what @param {unknown} cause */
function failure(what, cause) {
  const e = /** @type {NodeJS.ErrnoException} */ (cause);
  if (!failed && what === 'write') {
    // a partial write leaves a torn record: cut the file back to the last complete one
    try { ftruncateSync(fd, committedBytes); } catch { /* the reader skips a torn tail anyway */ }
  }
  failed = true;
  reply({ op: 'error', what, message: e?.message ?? String(cause), ...(e?.code ? { code: e.code } : {}) });
}

/** @param {Uint8Array} chunk @param {boolean} giveBack */
function write(chunk, giveBack = false) {
  if (failed || closed) return;
  if (stall && committedBytes >= stall.afterBytes) {
    // test-only seam (RawLogWriterOptions.testOnlyStall): a disk that stops answering
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, stall.durationMs);
    stall = undefined;
  }
  try {
    let off = 0;
    while (off < chunk.byteLength) off += writeSync(fd, chunk, off, chunk.byteLength - off);
  } catch (cause) {
    failure('write', cause);
    return;
  }
  committedBytes += chunk.byteLength;
  dirty = true;
  Atomics.add(writtenCounter, 0, BigInt(chunk.byteLength));
  if (giveBack) port.postMessage({ op: 'written', bytes: chunk.byteLength, buffer: chunk.buffer }, [chunk.buffer]);
  else reply({ op: 'written', bytes: chunk.byteLength });
}

/** @returns {boolean} */
function fsync() {
  if (failed || closed || !dirty) return !failed;
  try {
    fsyncSync(fd);
  } catch (cause) {
    failure('fsync', cause);
    return false;
  }
  dirty = false;
  reply({ op: 'fsynced' });
  return true;
}

/** After a failure: the closing record, at the end of the complete ones (the file position may lie past it). */
/** @param {Uint8Array} tail */
function writeTail(tail) {
  try {
    let off = 0;
    while (off < tail.byteLength) off += writeSync(fd, tail, off, tail.byteLength - off, committedBytes + off);
    committedBytes += tail.byteLength;
    dirty = true;
    reply({ op: 'written', bytes: tail.byteLength });
    fsyncSync(fd);
  } catch {
    try { ftruncateSync(fd, committedBytes); } catch { /* the reader skips a torn tail anyway */ }
  }
}

/** @param {Uint8Array | undefined} tail */
function close(tail) {
  if (closed) return;
  if (tail) {
    if (failed) writeTail(tail);
    else write(tail);
  }
  fsync();
  closed = true;
  try {
    closeSync(fd);
  } catch (cause) {
    failure('close', cause);
  }
}

// the file is created (never overwritten) here, so only this thread ever touches its descriptor
try {
  fd = openSync(init.path, 'wx');
  reply({ op: 'opened' });
} catch (cause) {
  failed = true;
  closed = true;
  const e = /** @type {NodeJS.ErrnoException} */ (cause);
  reply({ op: 'error', what: 'open', message: e.message, ...(e.code ? { code: e.code } : {}) });
}

port.on('message', (/** @type {import('./rawlog-io.ts').RawLogIoRequest} */ m) => {
  switch (m.op) {
    case 'write':
      write(m.chunk, m.giveBack === true);
      break;
    case 'fsync':
      fsync();
      break;
    case 'sync':
      fsync();
      reply({ op: 'done', id: m.id });
      break;
    case 'close':
      close(m.tail);
      // this thread's whole CPU time (its writes' system time included): the raw log's share of a recording
      reply({ op: 'done', id: m.id, cpuS: threadCpuS() });
      break;
  }
});
