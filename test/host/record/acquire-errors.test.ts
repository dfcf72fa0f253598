// `fiberrig acquire` when nothing gets recorded, and its gap counts, in child
// processes on the simulator:
// - a bad URL, nothing listening at the port, a device that refuses the
//   configuration: nothing is left that looks like a recording (no raw.fjl,
//   no session.json; a directory acquire made is removed, one the user made is
//   kept with only the user's files);
// - summary.json, the --json summary and session.json count the same gaps
//   (those before the cutoff) when more gaps arrive while stopping.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readSession } from '../../../host/record/session.ts';
import { tempDir } from './helpers.ts';
import { BIN } from './sim-process.ts';

const run = promisify(execFile);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    return { code: 0, ...(await run(process.execPath, [BIN, ...args], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 })) };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('host/record: acquire errors before Start, and gap counts', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  before(() => { tmp = tempDir('fiberrig-acq-err-'); });
  after(() => tmp.cleanup());

  it('a bad URL, nothing at the port, or a refused configuration leaves no raw.fjl/session.json; a directory acquire made is removed, a user\'s is kept', async () => {
    const refused = join(tmp.dir, 'refused.json');
    // above the simulator's 20 kHz: refused against the device's limits (the host checks its DeviceInfo first, the device at Configure)
    writeFileSync(refused, JSON.stringify({ mode: 'lock-in', sampleRateHz: 50000, detectors: [0, 1], leds: [{ channel: 0, currentMa: 20, carrierHz: 648 }], blockSamples: 250, outputRateHz: 100 }));
    const cases: Array<{ name: string; args: string[]; code: RegExp }> = [
      { name: 'bad URL', args: ['--device', 'bogus://device'], code: /E_DEVICE_URL/ },
      { name: 'nothing at the port', args: ['--device', 'tcp://127.0.0.1:1'], code: /E_OPEN/ },
      { name: 'configuration refused', args: ['--device', 'sim://steps?speed=max', '--config', refused], code: /E_DEVICE_UNSUPPORTED|E_CONFIG_RANGE/ },
    ];
    for (const c of cases) {
      const made = join(tmp.dir, `${c.name.replace(/\W+/g, '-')}`, 'rec');
      const r = await cli(['acquire', ...c.args, '--duration', '1s', '--out', made, '--quiet']);
      assert.equal(r.code, 1, c.name);
      assert.match(r.stderr, c.code, c.name);
      assert.equal(existsSync(made), false, `${c.name}: the directory acquire made is gone`);

      const own = join(tmp.dir, `${c.name.replace(/\W+/g, '-')}-own`);
      mkdirSync(own);
      writeFileSync(join(own, 'notes.txt'), 'mine');
      const r2 = await cli(['acquire', ...c.args, '--duration', '1s', '--out', own, '--quiet']);
      assert.equal(r2.code, 1, c.name);
      assert.deepEqual(readdirSync(own), ['notes.txt'], `${c.name}: only the user's file is left`);
    }
  });

  it('summary.json, the --json summary and session.json count the same gaps (before the cutoff) when gaps keep coming while stopping', async () => {
    // byte corruption at full speed: gaps throughout, also in the blocks that arrive after the duration while Stop is on its way
    const rec = join(tmp.dir, 'gaps');
    const r = await cli(['acquire', '--device', 'sim://steps?speed=max&seed=2&faults=corrupt:rate=3e-4', '--duration', '2s', '--out', rec, '--quiet', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout) as { gaps: number };
    const summary = JSON.parse(readFileSync(join(rec, 'summary.json'), 'utf8')) as { gaps: number };
    const session = (await readSession(rec))!;
    assert.ok(session.gaps.length > 0, 'the fault made gaps');
    assert.ok(session.gaps.every((g) => g.startS < session.end!.cutoffS), 'session.json lists gaps before the cutoff');
    assert.equal(printed.gaps, session.gaps.length);
    assert.equal(summary.gaps, session.gaps.length);
    assert.equal(session.counters?.gaps, session.gaps.length);
  });
});
