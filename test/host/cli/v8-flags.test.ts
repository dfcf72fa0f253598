// The fiberrig process runs with V8's allocation-site pretenuring off (host/cli/v8-flags.js): with it on,
// a long recording could end up allocating its short-lived per-block objects in old space and spend a
// quarter more CPU on full mark-compacts (issue 20). V8 prints a "pretenuring:" statistics line per
// allocation site it weighs after a GC (--trace-pretenuring-statistics); with pretenuring off it weighs none.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../record/helpers.ts';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const trace = '--trace-pretenuring-statistics';

function pretenuringLines(output: string): number {
  return output.split('\n').filter((line) => line.includes('pretenuring:')).length;
}

describe('cli: V8 settings of the fiberrig process', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  before(() => { tmp = tempDir('fiberrig-cli-v8-'); });
  after(() => tmp.cleanup());

  it('a plain node process weighs allocation sites for pretenuring (the trace this test reads works)', () => {
    // objects that survive a few scavenges, from one site: V8 weighs that site
    const script = 'const keep = []; for (let i = 0; i < 3e6; i++) { keep.push({ i }); if (keep.length > 2e5) keep.length = 0; }';
    const r = spawnSync(process.execPath, [trace, '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(pretenuringLines(r.stdout + r.stderr) > 0, 'no pretenuring statistics from plain node');
  });

  it('`fiberrig acquire` (2 simulated minutes at max speed) weighs none: pretenuring is off', () => {
    const r = spawnSync(process.execPath, [trace, join(repo, 'host/cli/bin.js'), 'acquire', '--device', 'sim://sleep?seed=1&speed=max', '--duration', '2m', '--out', join(tmp.dir, 'rec'), '--json', '--quiet'], {
      encoding: 'utf8', maxBuffer: 1 << 24,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(pretenuringLines(r.stdout + r.stderr), 0);
  });
});
