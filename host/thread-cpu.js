// CPU time per thread, from Linux's /proc: a thread's utime + stime (fields 14 and 15 of its stat line,
// counted after the "(comm)" that may hold spaces) in clock ticks of USER_HZ, 100 on every Linux ABI
// Node runs on. Elsewhere there is no per-thread figure: null, or an empty map.
// Plain JavaScript (types in thread-cpu.d.ts): the raw log's I/O worker, which runs without a
// TypeScript loader, reads its own CPU time with it too.
import { readdirSync, readFileSync } from 'node:fs';

const USER_HZ = 100;

/**
 * CPU seconds (user + system) of the stat file at `path`; null when it cannot be read.
 * @param {string} path
 * @returns {number | null}
 */
function statCpuS(path) {
  try {
    const stat = readFileSync(path, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    return Number.isFinite(ticks) ? ticks / USER_HZ : null;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) of the calling thread; null off Linux. @returns {number | null} */
export function threadCpuS() {
  return statCpuS('/proc/thread-self/stat');
}

/** CPU seconds (user + system) of every live thread of this process by thread id (the main thread's is process.pid); empty off Linux. @returns {Map<number, number>} */
export function processThreadsCpuS() {
  /** @type {Map<number, number>} */
  const out = new Map();
  /** @type {string[]} */
  let tids;
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    const s = statCpuS(`/proc/self/task/${tid}/stat`); // null: the thread ended meanwhile
    if (s !== null) out.set(Number(tid), s);
  }
  return out;
}
