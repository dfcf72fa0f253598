import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { designLockin } from '../../../host/dsp/lockin.ts';
import { exportRecording } from '../../../host/export/index.ts';
import { h5Ready } from '../../../host/export/nwb.ts';
import { AUX_RATE_HZ, BLOCK, CARRIERS_HZ, RATE_HZ, tempDir, writeSynthRecording } from '../record/helpers.ts';
import { checkNoNanCells, column, firstSettledOutput, pmatRateHz, readMeta, readTable, segmentDirs } from './csv-helpers.ts';

// Detector blocks 80..84 never arrive: samples 8000..8499 = 4.00 s .. 4.25 s (aux 800..849).
const GAP_START_S = 4.0;
const GAP_END_S = 4.25;
const DROPPED = [80, 81, 82, 83, 84];
const GAP_END_INDEX = (DROPPED.at(-1)! + 1) * BLOCK;
const DESIGN = designLockin({ sampleRateHz: RATE_HZ, carriersHz: CARRIERS_HZ, detectorCount: 2, outputRateHz: 100 });
const RAW_TIMES = { delayCompensation: false } as const;

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

  it('guppy (default): two session folders split at the gap, no NaN cell, equal lengths; the first sample after the gap is exactly the first settled output after the gap record\'s end', async () => {
    const out = join(tmp.dir, 'guppy');
    await exportRecording(tmp.dir, 'guppy', out, RAW_TIMES);
    const tables = checkNoNanCells(out);
    assert.deepEqual(segmentDirs(out), ['segment_001', 'segment_002']);
    const m = readMeta(join(out, 'export.json'));
    assert.deepEqual(m.gaps.filter((g) => g.source === 'detector').map((g) => [g.startS, g.stopS]), [[GAP_START_S, GAP_END_S]]);
    const after = firstSettledOutput(DESIGN, GAP_END_S * RATE_HZ);
    assert.deepEqual(m.segments.map((x) => [x.firstOutputIndex, x.endOutputIndex]), [[firstSettledOutput(DESIGN, 0), GAP_START_S * 100], [after, 800]]);
    assert.deepEqual(m.omitted.map((o) => o.causes), [['filter settling'], ['gap (missing-blocks)', 'filter settling']]);
    for (const seg of m.segments) {
      const times = ['det0_405nm', 'det0_470nm', 'det1_405nm', 'det1_470nm'].map((f) => {
        const t = tables.get(join(seg.name, `${f}.csv`))!;
        assert.equal(t.rows.length, seg.rows, `${seg.name}/${f}: rows`);
        return column(t, 'timestamps');
      });
      for (const t of times.slice(1)) assert.deepEqual(t, times[0], `${seg.name}: the same timestamps in every channel file`);
      times[0]!.forEach((v, i) => {
        assert.equal(v, ((seg.firstOutputIndex + i) / 100).toFixed(6), `${seg.name} row ${i}: one output period apart`);
      });
    }
    assert.equal(column(tables.get(join('segment_002', 'det0_470nm.csv'))!, 'timestamps')[0], (after / 100).toFixed(6));
    assert.ok(after * 100 >= GAP_END_INDEX, 'after the gap');
  });

  it('pmat (default): one file set per side of the gap, no NaN rows, pMAT\'s rate (1 / mean diff of Time) = 100 Hz ± 1e-6 in each', async () => {
    const out = join(tmp.dir, 'pmat');
    await exportRecording(tmp.dir, 'pmat', out, RAW_TIMES);
    const tables = checkNoNanCells(out);
    assert.deepEqual(segmentDirs(out), ['segment_001', 'segment_002']);
    for (const seg of ['segment_001', 'segment_002']) {
      for (const d of [0, 1]) {
        const t = tables.get(join(seg, `det${d}_470nm_405nm.csv`))!;
        assert.ok(Math.abs(pmatRateHz(t) - 100) < 1e-6, `${seg} det${d}: pMAT rate ${pmatRateHz(t)}`);
      }
    }
    assert.equal(column(tables.get(join('segment_002', 'det0_470nm_405nm.csv'))!, 'Time')[0], (firstSettledOutput(DESIGN, GAP_END_INDEX) / 100).toFixed(6));
  });

  it('csv', async () => {
    await exportRecording(tmp.dir, 'csv', join(tmp.dir, 'wide.csv'));
    const rows = rowsOf(join(tmp.dir, 'wide.csv'));
    for (let c = 1; c <= 4; c++) checkGapColumn(rows, 0, c, `csv column ${c}`);
  });

  it('--gaps omit leaves rows without a value out without shifting later times (guppy, pmat: one folder; csv); pMAT then computes a wrong rate, as the README says', async () => {
    // filter-output times, so the output grid is visible as it is (the delay is tested in timebase.test.ts)
    await exportRecording(tmp.dir, 'guppy', join(tmp.dir, 'guppy-omit'), { gaps: 'omit', delayCompensation: false });
    checkNoNanCells(join(tmp.dir, 'guppy-omit'));
    const rows = rowsOf(join(tmp.dir, 'guppy-omit', 'gaps_omitted', 'det0_470nm.csv'));
    const times = rows.map((r) => Number(r[0]));
    assert.ok(!times.some((t) => t >= GAP_START_S && t < GAP_END_S));
    assert.ok(times.includes(7.99), 'the last row keeps its true device time');
    assert.equal(readMeta(join(tmp.dir, 'guppy-omit', 'export.json')).gapPolicy.policy, 'omit');
    await exportRecording(tmp.dir, 'pmat', join(tmp.dir, 'pmat-omit'), { gaps: 'omit' });
    const p = readTable(join(tmp.dir, 'pmat-omit', 'gaps_omitted', 'det0_470nm_405nm.csv'));
    assert.ok(pmatRateHz(p) < 99, `pMAT rate over an omitted gap: ${pmatRateHz(p)}`);
    await exportRecording(tmp.dir, 'csv', join(tmp.dir, 'wide-omit.csv'), { gaps: 'omit' });
    assert.ok(rowsOf(join(tmp.dir, 'wide-omit.csv')).every((r) => !r.includes('NaN')));
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
