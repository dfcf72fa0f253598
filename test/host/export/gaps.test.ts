import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { exportRecording } from '../../../host/export/index.ts';
import { h5Ready } from '../../../host/export/nwb.ts';
import { AUX_RATE_HZ, BLOCK, RATE_HZ, tempDir, writeSynthRecording } from '../record/helpers.ts';

// Detector blocks 80..84 never arrive: samples 8000..8499 = 4.00 s .. 4.25 s (aux 800..849).
const GAP_START_S = 4.0;
const GAP_END_S = 4.25;
const DROPPED = [80, 81, 82, 83, 84];

function rowsOf(path: string): string[][] {
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(1).map((l) => l.split(','));
}

/** Checks a (time, value) column: NaN throughout the gap, finite well before and well after it. */
function checkGapColumn(rows: string[][], timeCol: number, valueCol: number, label: string): void {
  let inGap = 0;
  for (const r of rows) {
    const t = Number(r[timeCol]);
    const v = r[valueCol]!;
    if (t >= GAP_START_S && t < GAP_END_S) {
      assert.equal(v, 'NaN', `${label}: NaN at ${t} s`);
      inGap++;
    } else if ((t > 1 && t < GAP_START_S - 0.05) || t > GAP_END_S + 0.5) {
      assert.ok(Number.isFinite(Number(v)), `${label}: finite at ${t} s (got ${v})`);
    }
  }
  assert.equal(inGap, 25, `${label}: every row of the gap is present (not closed up)`);
}

describe('host/export: a recording with dropped blocks has NaN gaps in the right places in every format', () => {
  let tmp: ReturnType<typeof tempDir>;
  before(async () => {
    tmp = tempDir('fiberrig-gaps-');
    await writeSynthRecording(tmp.dir, { seconds: 8, dropBlocks: DROPPED });
  });
  after(() => tmp.cleanup());

  it('guppy', async () => {
    await exportRecording(tmp.dir, 'guppy', join(tmp.dir, 'guppy'));
    for (const f of ['det0_405nm', 'det0_470nm', 'det1_405nm', 'det1_470nm']) checkGapColumn(rowsOf(join(tmp.dir, 'guppy', `${f}.csv`)), 0, 1, `guppy ${f}`);
  });

  it('pmat', async () => {
    await exportRecording(tmp.dir, 'pmat', join(tmp.dir, 'pmat'));
    for (const d of [0, 1]) {
      const rows = rowsOf(join(tmp.dir, 'pmat', `det${d}.csv`));
      checkGapColumn(rows, 0, 1, `pmat det${d} signal`);
      checkGapColumn(rows, 0, 2, `pmat det${d} control`);
    }
  });

  it('csv', async () => {
    await exportRecording(tmp.dir, 'csv', join(tmp.dir, 'wide.csv'));
    const rows = rowsOf(join(tmp.dir, 'wide.csv'));
    for (let c = 1; c <= 4; c++) checkGapColumn(rows, 0, c, `csv column ${c}`);
  });

  it('csv formats with --gaps omit leave the gap rows out without shifting later times', async () => {
    // filter-output times, so the output grid is visible as it is (the delay is tested in timebase.test.ts)
    await exportRecording(tmp.dir, 'guppy', join(tmp.dir, 'guppy-omit'), { gaps: 'omit', delayCompensation: false });
    const rows = rowsOf(join(tmp.dir, 'guppy-omit', 'det0_470nm.csv'));
    assert.ok(rows.every((r) => r[1] !== 'NaN'));
    const times = rows.map((r) => Number(r[0]));
    assert.ok(!times.some((t) => t >= GAP_START_S && t < GAP_END_S));
    assert.ok(times.includes(7.99), 'the last row keeps its true device time');
  });

  it('nwb: raw series NaN exactly on the missing samples, demodulated NaN over the gap, gap in invalid_times', async () => {
    const path = join(tmp.dir, 'rec.nwb');
    await exportRecording(tmp.dir, 'nwb', path);
    await h5Ready();
    const f = new h5wasm.File(path, 'r');
    try {
      const raw = (f.get('acquisition/raw_photodetector_0/data') as InstanceType<typeof h5wasm.Dataset>).value as Float32Array;
      assert.equal(raw.length, 8 * RATE_HZ);
      for (let i = 0; i < raw.length; i++) {
        const missing = i >= DROPPED[0]! * BLOCK && i < (DROPPED.at(-1)! + 1) * BLOCK;
        assert.equal(Number.isNaN(raw[i]!), missing, `raw sample ${i}`);
      }
      const eeg = (f.get('acquisition/EEG/data') as InstanceType<typeof h5wasm.Dataset>).value as Float32Array;
      assert.equal(eeg.length, 8 * AUX_RATE_HZ);
      for (let i = 0; i < eeg.length; i++) assert.equal(Number.isNaN(eeg[i]!), i >= 800 && i < 850, `EEG sample ${i}`);
      const demod = f.get('processing/ophys/demodulated/data') as InstanceType<typeof h5wasm.Dataset>;
      const [n, ch] = demod.shape as [number, number];
      const values = demod.value as Float64Array;
      for (let k = 0; k < n; k++) {
        const t = k / 100;
        for (let c = 0; c < ch; c++) {
          const v = values[k * ch + c]!;
          if (t >= GAP_START_S && t < GAP_END_S) assert.ok(Number.isNaN(v), `demodulated NaN at ${t} s`);
          else if ((t > 1 && t < GAP_START_S - 0.05) || t > GAP_END_S + 0.5) assert.ok(Number.isFinite(v), `demodulated finite at ${t} s`);
        }
      }
      const start = (f.get('intervals/invalid_times/start_time') as InstanceType<typeof h5wasm.Dataset>).value as Float64Array;
      const stop = (f.get('intervals/invalid_times/stop_time') as InstanceType<typeof h5wasm.Dataset>).value as Float64Array;
      assert.deepEqual([...start], [GAP_START_S]);
      assert.deepEqual([...stop], [GAP_END_S]);
    } finally {
      f.close();
    }
  });
});
