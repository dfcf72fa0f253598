// Issue 20: `fiberrig export --format nwb` must stay under 300 MB peak RSS for
// any recording length. The writer streams (bounded batches; h5wasm's heap
// stays ~19 MB); what made the peak was tsx rewriting h5wasm's 4 MB glue when
// the command module loaded it, so the CLI loads h5wasm natively before tsx
// (host/cli/native-preloads.js, imported by bin.js). Here: what is preloaded, and
// the CLI's own peak RSS on a short recording (the length does not matter: the
// figures for 30 min and 2 h are in test/bench/nwb.bench.ts).
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { nativePreloads } from '../../../host/cli/native-preloads.js';
import { runNode } from '../cli/helpers.ts';
import { tempDir, writeSynthRecording } from '../record/helpers.ts';
import { PEAK_RSS_IMPORT, peakRssKb } from '../../support/peak-rss.ts';

const REPO = resolve('.');
const BIN = join(REPO, 'host', 'cli', 'bin.js');
const LIMIT_MB = 300;

describe('export nwb: memory (issue 20)', function () {
  this.timeout(120_000);

  it('bin.js loads h5wasm natively for export --format nwb (both spellings), and nothing for other formats and commands', () => {
    assert.deepEqual(nativePreloads(['export', '--in', 'rec', '--format', 'nwb', '--out', 'x.nwb']), ['h5wasm/node']);
    assert.deepEqual(nativePreloads(['export', '--format=nwb', '--in', 'rec']), ['h5wasm/node']);
    assert.deepEqual(nativePreloads(['export', '--format', 'csv', '--in', 'rec']), []);
    assert.deepEqual(nativePreloads(['export', '--in', 'rec']), []);
    assert.deepEqual(nativePreloads(['acquire', '--format', 'nwb']), []);
    assert.deepEqual(nativePreloads(['--help']), []);
  });

  /** `bin ARGS` exports the recording to NWB in its own process: its peak RSS in MB. */
  async function exportPeakMB(bin: string, rec: string): Promise<number> {
    const out = join(rec, 'rec.nwb');
    rmSync(out, { force: true });
    const r = await runNode(['--import', PEAK_RSS_IMPORT, bin, 'export', '--in', rec, '--format', 'nwb', '--out', out, '--json', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { files: string[] }).files, [out]);
    return peakRssKb(r.stderr) / 1024;
  }

  let tmp: ReturnType<typeof tempDir>;
  let rec: string;
  before(async () => {
    tmp = tempDir('fiberrig-nwb-rss-');
    rec = join(tmp.dir, 'rec');
    mkdirSync(rec);
    await writeSynthRecording(rec, { seconds: 20 });
  });
  after(() => tmp.cleanup());

  it(`fiberrig export --format nwb (node host/cli/bin.js, its own process) peaks under ${LIMIT_MB} MB RSS`, async () => {
    const mb = await exportPeakMB(BIN, rec);
    assert.ok(mb < LIMIT_MB, `peak RSS ${mb.toFixed(0)} MB`);
  });

  it(`and so when bin.js runs main.ts through tsx (it cannot build .cache/, as in an install without typescript)`, async () => {
    // a copy of the package whose host/cli/.cache is a file; everything else linked to this checkout
    const root = join(tmp.dir, 'pkg');
    const cli = join(root, 'host', 'cli');
    mkdirSync(cli, { recursive: true });
    for (const e of readdirSync(REPO)) if (!['host', '.git'].includes(e)) symlinkSync(join(REPO, e), join(root, e));
    for (const e of readdirSync(join(REPO, 'host'))) if (e !== 'cli') symlinkSync(join(REPO, 'host', e), join(root, 'host', e));
    for (const e of readdirSync(join(REPO, 'host', 'cli'))) {
      if (e === '.cache') continue;
      if (['bin.js', 'main.ts', 'native-preloads.js'].includes(e)) copyFileSync(join(REPO, 'host', 'cli', e), join(cli, e));
      else symlinkSync(join(REPO, 'host', 'cli', e), join(cli, e));
    }
    writeFileSync(join(cli, '.cache'), 'a file where the cache folder would go');
    const mb = await exportPeakMB(join(cli, 'bin.js'), rec);
    assert.ok(!existsSync(join(cli, '.cache', 'main.js')), 'main.ts ran through tsx');
    assert.ok(mb < LIMIT_MB, `peak RSS ${mb.toFixed(0)} MB`);
  });
});
