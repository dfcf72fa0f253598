// A full disk during `fiberrig acquire` (acceptance 4 of issue 14): a 3 MB
// tmpfs as the output directory, one simulated device in its own process
// (`fiberrig sim --tcp`) used by two acquires in turn. The first ends on
// ENOSPC: device stopped, non-zero exit with E_DISK_FULL, session.json says
// stoppedBy "error", the raw log readable. The second (to a normal directory)
// just works. Also: a read-only output directory is reported as such.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inspectRecording } from '../../../host/record/inspect.ts';
import { readSession } from '../../../host/record/session.ts';
import { Rig } from '../../../host/rig/rig.ts';
import { tempDir } from './helpers.ts';
import { BIN, startSimTcp, stopChild } from './sim-process.ts';
import { requireTool } from '../../support/required-tool.ts';

const run = promisify(execFile);

interface CliResult { code: number; stdout: string; stderr: string }

async function cli(args: string[]): Promise<CliResult> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, ...r };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Mounts a tmpfs of `options` on `dir`; the reason when this host does not allow it. */
function mountTmpfs(dir: string, options: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `cannot mount a tmpfs here (${((error as { stderr?: Buffer }).stderr?.toString() || (error as Error).message).trim()})`;
  }
}

function unmount(dir: string): void {
  try { execFileSync('umount', [dir], { stdio: 'pipe' }); } catch { /* not mounted */ }
}

function needMount(ctx: Mocha.Context, reason: string | undefined): void {
  requireTool(ctx, reason, 'run as root, or give the container CAP_SYS_ADMIN');
}

describe('host/record: acquire on a full or read-only disk', function () {
  this.timeout(180_000);
  let tmp: ReturnType<typeof tempDir>;
  let sim: ChildProcess | undefined;
  const mounts: string[] = [];
  before(() => { tmp = tempDir('fiberrig-disk-'); });
  after(async () => {
    await stopChild(sim);
    for (const m of mounts) unmount(m);
    tmp.cleanup();
  });

  it('ENOSPC on a 3 MB tmpfs: E_DISK_FULL, device stopped, session.json stoppedBy error, raw log readable; the next acquire on the same device works', async function () {
    const small = join(tmp.dir, 'small');
    mkdirSync(small);
    const reason = mountTmpfs(small, 'size=3m');
    if (!reason) mounts.push(small);
    needMount(this, reason);
    const started = await startSimTcp('sim://steps?speed=max');
    sim = started.child;

    const rec = join(small, 'rec');
    const full = await cli(['acquire', '--device', started.url, '--duration', '10m', '--out', rec, '--quiet', '--json']);
    assert.equal(full.code, 1, full.stderr);
    assert.match(full.stderr, /warning: .* needs about \d+ MB .* has \d+ MB free/, 'the pre-flight warning');
    assert.match(full.stderr, /E_DISK_FULL: the disk holding .* is full .*ENOSPC.*the device was stopped/);
    assert.doesNotMatch(full.stderr, /^\s+at /m, 'no stack trace');

    const session = await readSession(rec);
    assert.equal(session?.end?.stoppedBy, 'error');
    assert.match(session?.end?.error ?? '', /ENOSPC/);
    assert.equal((session?.diskSpace as { fits?: boolean } | undefined)?.fits, false);
    const summary = JSON.parse(readFileSync(join(rec, 'summary.json'), 'utf8')) as { stoppedBy: string; diskSpace: { fits: boolean } };
    assert.equal(summary.stoppedBy, 'error');
    assert.equal(existsSync(join(rec, '.fiberrig-space-reserve')), false, 'the space reserve is released');
    // the raw log is readable up to its last complete record
    const inspected = await inspectRecording(rec);
    assert.ok(inspected.detectorSamples > 0, 'samples recorded before the disk filled');
    assert.equal(inspected.rawLog.corruptSpans, 0);
    assert.equal(inspected.rawLog.tornTailBytes, 0, 'the log ends at a complete record');
    assert.equal(inspected.rawLog.closedCleanly, true, 'the end record (with the reason) made it into the reserved room');

    // the device is stopped (not running: its LEDs are off), and takes the next acquire
    const rig = await Rig.connect(started.url);
    try {
      const hb = await rig.command({ heartbeat: {} });
      assert.equal(hb.heartbeatAck?.running, false, 'the device still runs after the failed acquire');
    } finally {
      await rig.close();
    }
    const next = await cli(['acquire', '--device', started.url, '--duration', '2s', '--out', join(tmp.dir, 'next'), '--quiet', '--json']);
    assert.equal(next.code, 0, next.stderr);
    assert.equal((JSON.parse(next.stdout) as { stoppedBy: string }).stoppedBy, 'duration');
  });

  it('a read-only output directory: E_RECORDING_DIR_NOT_WRITABLE naming EROFS, not ENOENT; nothing opened', async function () {
    const ro = join(tmp.dir, 'ro');
    mkdirSync(ro);
    const reason = mountTmpfs(ro, 'size=1m,ro');
    if (!reason) mounts.push(ro);
    needMount(this, reason);
    for (const out of [join(ro, 'rec'), ro]) {
      const r = await cli(['acquire', '--device', 'sim://steps?speed=max', '--duration', '1s', '--out', out, '--quiet']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /E_RECORDING_DIR_NOT_WRITABLE: the output directory .* is on a read-only file system \(EROFS/, out);
      assert.doesNotMatch(r.stderr, /ENOENT/);
    }
  });
});
