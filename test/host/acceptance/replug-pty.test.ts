// Issue 14, point 5: a pty replug (the port disappears and comes back at the
// same path) while recording. How long the restart takes is a benchmark
// (npm run bench -- reconnect); here: what happens, and the attempt schedule.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { replugRun } from '../../support/pty-replug.ts';
import { requireTool } from '../../support/required-tool.ts';

function hasSocat(): boolean {
  try {
    execFileSync('socat', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('acceptance: pty replug while recording (speed=1)', function () {
  this.timeout(90_000);

  it('reconnects after each of 2 replugs, polling every <= 200 ms while the port is gone; each new run is device-timed (±1 sample)', async function () {
    requireTool(this, hasSocat() ? undefined : 'socat is not installed', 'add "socat" to the Debian packages in .ci/run');
    const delays: number[] = [];
    const r = await replugRun({
      replugs: 2, awayMs: 700, seed: 11,
      rig: { sleep: (ms) => { delays.push(ms); return new Promise((res) => setTimeout(res, ms)); } },
    });
    console.log(`      restart after the port returned: ${r.latenciesMs.map((x) => x.toFixed(0)).join(', ')} ms; ${delays.length} waits of ${[...new Set(delays)].join('/')} ms`);
    assert.equal(r.reconnects, 2);
    assert.ok(delays.length >= 2 * 3, `the port was gone for several attempts (${delays.length} waits)`);
    assert.ok(delays.every((d) => d <= 200), `waits ${delays.join(', ')} ms`);
    assert.deepEqual(r.resumeGaps.map((g) => [g.reason, g.placement, g.uncertaintySamples]), [['reconnect', 'device-time', 1], ['reconnect', 'device-time', 1]]);
  });
});
