// Issue 20: `fiberrig export --format nwb` must stay under 300 MB peak RSS for
// any recording length. The writer streams (bounded batches; h5wasm's heap
// stays ~19 MB); what made the peak was tsx rewriting h5wasm's 4 MB glue when
// the command module loaded it, so the CLI loads h5wasm natively before tsx
// (host/cli/main.ts `nativePreloads`). Here: which commands preload what, and
// the CLI's own peak RSS on a short recording (the length does not matter: the
// figures for 30 min and 2 h are in test/bench/nwb.bench.ts).
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { nativePreloads } from '../../../host/cli/main.ts';
import { runNode } from '../cli/helpers.ts';
import { tempDir, writeSynthRecording } from '../record/helpers.ts';
import { PEAK_RSS_IMPORT, peakRssKb } from '../../support/peak-rss.ts';

const BIN = resolve('host', 'cli', 'bin.js');
const LIMIT_MB = 300;

describe('export nwb: memory (issue 20)', function () {
  this.timeout(120_000);

  it('the CLI loads h5wasm natively for export --format nwb (both spellings), and nothing for other formats and commands', () => {
    assert.deepEqual(nativePreloads('export', ['export', '--in', 'rec', '--format', 'nwb', '--out', 'x.nwb']), ['h5wasm/node']);
    assert.deepEqual(nativePreloads('export', ['export', '--format=nwb', '--in', 'rec']), ['h5wasm/node']);
    assert.deepEqual(nativePreloads('export', ['export', '--format', 'csv', '--in', 'rec']), []);
    assert.deepEqual(nativePreloads('export', ['export', '--in', 'rec']), []);
    assert.deepEqual(nativePreloads('acquire', ['acquire', '--format', 'nwb']), []);
  });

  it(`fiberrig export --format nwb (node host/cli/bin.js, its own process) peaks under ${LIMIT_MB} MB RSS`, async () => {
    const tmp = tempDir('fiberrig-nwb-rss-');
    try {
      await writeSynthRecording(tmp.dir, { seconds: 20 });
      const out = join(tmp.dir, 'rec.nwb');
      const r = await runNode(['--import', PEAK_RSS_IMPORT, BIN, 'export', '--in', tmp.dir, '--format', 'nwb', '--out', out, '--json', '--quiet']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual((JSON.parse(r.stdout) as { files: string[] }).files, [out]);
      const kb = peakRssKb(r.stderr);
      assert.ok(kb / 1024 < LIMIT_MB, `peak RSS ${(kb / 1024).toFixed(0)} MB`);
    } finally {
      tmp.cleanup();
    }
  });
});
