// RecorderOptions.signalTables false (a cohort's animals): no signals.csv or aux.csv, everything else
// alike; `fiberrig demod` makes the tables from the raw log (for a recording with them: the bytes written live).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import '../../../host/cli/devices.ts'; // the sim:// binding, as the CLI registers it
import { DEFAULT_LOCKIN_CONFIG } from '../../../host/config/acquisition.ts';
import { demodRecording } from '../../../host/record/demod.ts';
import { Recorder } from '../../../host/record/recorder.ts';
import { readSession } from '../../../host/record/session.ts';
import { tempDir } from './helpers.ts';

describe('host/record: recording without the signal tables', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => { tmp = tempDir(); });
  afterEach(() => tmp.cleanup());

  it('writes no signals.csv / aux.csv, the rest as with them; demod makes the tables from the raw log (byte for byte what a recording writes live)', async () => {
    const device = 'sim://sleep?seed=5&speed=max';
    const withTables = join(tmp.dir, 'with');
    const without = join(tmp.dir, 'without');
    const a = await new Recorder({ device, file: DEFAULT_LOCKIN_CONFIG, durationS: 20, outDir: withTables }).run();
    const b = await new Recorder({ device, file: DEFAULT_LOCKIN_CONFIG, durationS: 20, outDir: without, signalTables: false }).run();
    assert.equal(a.error, undefined);
    assert.equal(b.error, undefined);
    for (const name of ['signals.csv', 'aux.csv']) {
      assert.ok(existsSync(join(withTables, name)), `${name} with the tables`);
      assert.ok(!existsSync(join(without, name)), `no ${name} without them`);
    }
    for (const name of ['raw.fjl', 'session.json', 'events.csv', 'gaps.csv', 'quality.csv']) assert.ok(existsSync(join(without, name)), name);
    const session = await readSession(without);
    assert.ok(session);
    assert.deepStrictEqual(session.derivedFiles?.filter((f) => f.endsWith('.csv')).sort(), ['events.csv', 'gaps.csv', 'quality.csv']);
    for (const r of [a, b]) assert.ok(r.summary.rawSamples >= 20 * 10_000, `${r.summary.rawSamples} detector samples`);
    assert.deepStrictEqual(b.summary.channels.map((c) => c.name), a.summary.channels.map((c) => c.name));

    // demod makes the tables from a raw log: for the recording with them, the very bytes written live;
    // for the one without, tables of the same columns and length
    const again = join(tmp.dir, 'again');
    const made = join(tmp.dir, 'made');
    await demodRecording(withTables, again);
    await demodRecording(without, made);
    for (const name of ['signals.csv', 'aux.csv']) {
      const live = readFileSync(join(withTables, name), 'utf8');
      assert.ok(live.length > 100_000, `${name}: ${live.length} bytes`);
      assert.equal(readFileSync(join(again, name), 'utf8'), live, `${name} from demod equals the live one`);
      const lines = (text: string): string[] => text.trimEnd().split('\n');
      const fromRaw = lines(readFileSync(join(made, name), 'utf8'));
      assert.equal(fromRaw[0], lines(live)[0], `${name} header`);
      assert.equal(fromRaw.length, lines(live).length, `${name} rows`);
    }
  });
});
