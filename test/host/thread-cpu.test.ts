// host/thread-cpu.js against process.cpuUsage() over the same busy loop: the calling thread's figure is
// most of the process's (V8's helper threads may add a little) and never more than it, within the 10 ms
// tick; the main thread is listed under the process id with the same figure. Linux only: elsewhere the
// reader has no figure, and says so (null, an empty map).
import assert from 'node:assert/strict';
import { processThreadsCpuS, threadCpuS } from '../../host/thread-cpu.js';

const TICK_S = 0.01;

function busy(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  return x;
}

describe('host/thread-cpu: per-thread CPU time from /proc', () => {
  if (process.platform !== 'linux') {
    it('has no figure off Linux', () => {
      assert.equal(threadCpuS(), null);
      assert.equal(processThreadsCpuS().size, 0);
    });
    return;
  }

  it('the calling thread: at least half of the process CPU of a 300 ms busy loop, and no more than all of it', () => {
    const t0 = threadCpuS()!;
    const p0 = process.cpuUsage();
    busy(300);
    const p = process.cpuUsage(p0);
    const thread = threadCpuS()! - t0;
    const proc = (p.user + p.system) / 1e6;
    assert.ok(thread <= proc + 2 * TICK_S, `thread ${thread} s, process ${proc} s`);
    assert.ok(thread >= 0.5 * proc, `thread ${thread} s, process ${proc} s`);
  });

  it('every thread of the process: the main thread under process.pid, as threadCpuS reads it', () => {
    const all = processThreadsCpuS();
    const mine = threadCpuS()!;
    assert.ok(all.size >= 2, `${all.size} threads (node runs helper threads)`);
    assert.ok(Math.abs(all.get(process.pid)! - mine) <= 2 * TICK_S, `${all.get(process.pid)} vs ${mine}`);
  });
});
