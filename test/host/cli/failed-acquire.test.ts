// Issue 17, point 7: a failed acquisition leaves either nothing (it failed
// before Start) or a directory clearly marked failed: a FAILED file saying
// why, session.json status "failed", and `inspect` saying so. A recording
// that ends as asked is marked "complete" and has no FAILED file.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireCommand } from '../../../host/cli/commands/acquire.ts';
import { main } from '../../../host/cli/main.ts';
import type { RecordingInspection } from '../../../host/record/inspect.ts';
import { FAILED_FILE_NAME } from '../../../host/record/recording-end.ts';
import { readSession } from '../../../host/record/session.ts';
import { tempDir } from '../record/helpers.ts';
import { Sink } from './helpers.ts';

describe('cli: a failed acquisition is marked failed (FAILED, session.json status, inspect)', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  before(() => { tmp = tempDir('fiberrig-cli-failed-'); });
  after(() => tmp.cleanup());

  it('the device lost for good after Start: the recording so far is kept, marked FAILED with the error; inspect reports it', async () => {
    const out = join(tmp.dir, 'lost');
    const stdout = new Sink();
    const stderr = new Sink();
    // the link goes away 3 s after power-up (well after Start, at speed 1) for far longer than the rig waits to reconnect
    await assert.rejects(
      acquireCommand({ stdout, stderr }, { device: 'sim://linear?seed=3&speed=1&faults=disconnect@3:for=600', duration: '10s', out, quiet: true }, { reconnectGiveUpMs: 300 }),
      (e: Error & { code?: string }) => { assert.equal(e.code, 'E_RECONNECT_FAILED', e.message); return true; },
    );
    assert.match(stderr.text, /the acquisition failed; .* is marked FAILED/);
    const marker = readFileSync(join(out, FAILED_FILE_NAME), 'utf8');
    assert.match(marker, /FAILED/);
    assert.match(marker, /^error: could not reconnect to sim:\/\/linear/m);
    const session = await readSession(out);
    assert.equal(session?.status, 'failed');
    assert.equal(session?.end?.stoppedBy, 'error');
    assert.ok(existsSync(join(out, 'raw.fjl')));

    const json = new Sink();
    assert.equal(await main(['inspect', '--in', out, '--json'], { stdout: json, stderr: new Sink() }), 0);
    const inspected = JSON.parse(json.text) as RecordingInspection;
    assert.match(inspected.failed?.error ?? '', /could not reconnect/);
    assert.ok(inspected.detectorSamples > 0, 'what was recorded before the failure is kept');
    const text = new Sink();
    const err = new Sink();
    await main(['inspect', '--in', out], { stdout: text, stderr: err });
    assert.match(text.text, /^FAILED +this acquisition failed \(could not reconnect/m);
    assert.match(err.text, /is a FAILED acquisition/);
  });

  it('a recording that ends as asked is "complete", has no FAILED file, and inspect reports no failure', async () => {
    const out = join(tmp.dir, 'ok');
    const r = new Sink();
    assert.equal(await main(['acquire', '--device', 'sim://linear?seed=3&speed=max', '--duration', '1s', '--out', out, '--quiet'], { stdout: r, stderr: r }), 0, r.text);
    assert.equal((await readSession(out))?.status, 'complete');
    assert.equal(existsSync(join(out, FAILED_FILE_NAME)), false);
    const json = new Sink();
    assert.equal(await main(['inspect', '--in', out, '--json'], { stdout: json, stderr: new Sink() }), 0);
    assert.equal((JSON.parse(json.text) as RecordingInspection).failed, null);
  });
});
