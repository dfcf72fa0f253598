// End to end through the CLI in child processes, on the simulator (sim://):
// acquire, then demod offline (byte-identical derived files), inspect, and
// export every format from a recording with an injected fault; and the
// acceptance test: kill -9 during acquire, then reopen and export.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { exportRecording, EXPORT_FORMATS } from '../../../host/export/index.ts';
import { demodRecording } from '../../../host/record/demod.ts';
import { inspectRecording, type RecordingInspection } from '../../../host/record/inspect.ts';
import { readSession } from '../../../host/record/session.ts';
import { tempDir } from './helpers.ts';

const run = promisify(execFile);
const BIN = resolve('host/cli/bin.js');

async function cli(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [BIN, ...args], { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
}

describe('host/record: CLI end to end on the simulator', function () {
  this.timeout(180_000);
  let tmp: ReturnType<typeof tempDir>;
  before(() => { tmp = tempDir('fiberrig-cli-'); });
  after(() => tmp.cleanup());

  it('acquire -> demod gives byte-identical derived files; inspect and every export work with an injected overrun', async () => {
    const rec = join(tmp.dir, 'rec');
    const acq = await cli(['acquire', '--device', 'sim://steps?speed=max&faults=overrun@2:blocks=4', '--duration', '5s', '--out', rec, '--quiet', '--json', '--subject', 'm42']);
    const summary = JSON.parse(acq.stdout) as { gaps: number; signalRows: number; stoppedBy: string };
    assert.equal(summary.stoppedBy, 'duration');
    assert.ok(summary.gaps >= 1, 'the overrun left a gap');

    const demod = await cli(['demod', '--in', rec, '--out', join(tmp.dir, 'offline'), '--quiet', '--json']);
    assert.equal((JSON.parse(demod.stdout) as { signalRows: number }).signalRows, summary.signalRows);
    for (const f of ['signals.csv', 'aux.csv', 'events.csv', 'gaps.csv']) {
      assert.ok(readFileSync(join(rec, f)).equals(readFileSync(join(tmp.dir, 'offline', f))), `${f}: live and offline differ`);
    }

    const inspected = JSON.parse((await cli(['inspect', '--in', rec, '--json'])).stdout) as RecordingInspection;
    assert.equal(inspected.subject, 'm42');
    assert.equal(inspected.rawLog.closedCleanly, true);
    assert.equal(inspected.config?.mode, 'lock-in');
    assert.ok(inspected.durationS >= 5);
    assert.equal(inspected.gaps.count, summary.gaps);
    assert.ok(inspected.channels.some((c) => c.name === '470nm@det0' && c.rateHz === 100));
    assert.match((await cli(['inspect', '--in', rec])).stdout, /gaps\s+\d+ \(\d+ detector samples/);

    const session = await readSession(rec);
    const gap = session!.gaps.find((g) => g.source === 'detector')!;
    for (const format of EXPORT_FORMATS) {
      const out = join(tmp.dir, 'export', format === 'nwb' ? 'rec.nwb' : format === 'csv' ? 'rec.csv' : format);
      if (format === 'nwb' || format === 'csv') {
        const r = await cli(['export', '--in', rec, '--format', format, '--out', out, '--json']);
        const report = JSON.parse(r.stdout) as { files: string[]; rows: number };
        assert.ok(report.files.length > 0 && report.files.every((f) => existsSync(f)), format);
        assert.match(r.stderr, /export .*: 100%/, `${format} shows progress on stderr`);
      } else {
        const e = await exportRecording(rec, format, out);
        assert.ok(e.rows > 0 && e.files.every((f) => existsSync(f)), format);
      }
    }
    // the demodulated rows inside the detector gap are NaN in the wide CSV
    const wide = readFileSync(join(tmp.dir, 'export', 'rec.csv'), 'utf8').trimEnd().split('\n').slice(1).map((l) => l.split(','));
    const inGap = wide.filter((r) => Number(r[0]) >= gap.startS && Number(r[0]) < gap.startS + gap.durationS);
    assert.ok(inGap.length > 0 && inGap.every((r) => r.slice(1, 7).every((v) => v === 'NaN')));
  });

  it('acceptance: kill -9 during acquire; the recording reopens with all data up to 1 s before the kill and exports cleanly', async () => {
    const rec = join(tmp.dir, 'killed');
    const child: ChildProcess = spawn(process.execPath, [BIN, 'acquire', '--device', 'sim://steps?speed=4', '--duration', '10m', '--out', rec], { stdio: ['ignore', 'ignore', 'pipe'] });
    const progress: Array<{ atMs: number; samples: number }> = [];
    let stderr = '';
    try {
      await new Promise<void>((resolveRun, reject) => {
        child.once('exit', (code) => reject(new Error(`acquire exited early (${code}): ${stderr}`)));
        child.stderr!.setEncoding('utf8');
        child.stderr!.on('data', (text: string) => {
          stderr += text;
          for (const m of text.matchAll(/ (\d+) samples /g)) progress.push({ atMs: performance.now(), samples: Number(m[1]) });
          if (progress.filter((p) => p.samples > 0).length >= 3) resolveRun();
        });
      });
    } finally {
      child.removeAllListeners('exit');
    }
    const killedAt = performance.now();
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const durable = progress.filter((p) => p.atMs <= killedAt - 1000).at(-1);
    assert.ok(durable && durable.samples > 0, `a progress line at least 1 s before the kill (${JSON.stringify(progress)})`);

    const session = await readSession(rec);
    assert.ok(session, 'session.json was written at the start');
    assert.equal(session.end, null, 'and never finished');
    const r = await inspectRecording(rec);
    assert.equal(r.rawLog.closedCleanly, false);
    assert.ok(r.detectorSamples >= durable.samples, `${r.detectorSamples} samples recovered, ${durable.samples} were received 1 s before the kill`);
    const demod = await demodRecording(rec, join(rec, 'demod'));
    assert.ok(demod.signalRows >= Math.floor((durable.samples / 10000) * 100) - 10);
    for (const format of EXPORT_FORMATS) {
      const out = join(tmp.dir, 'killed-export', format === 'nwb' ? 'rec.nwb' : format === 'csv' ? 'rec.csv' : format);
      const e = await exportRecording(rec, format, out);
      assert.ok(e.rows > 0 && e.files.every((f) => existsSync(f)), format);
    }
  });
});
