import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportRecording } from '../../../host/export/index.ts';
import { ExportError } from '../../../host/export/common.ts';
import { demodRecording } from '../../../host/record/demod.ts';
import { RATE_HZ, tempDir, writeSynthRecording } from '../record/helpers.ts';

type Table = { header: string[]; rows: string[][] };

function readCsv(path: string): Table {
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  return { header: lines[0]!.split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

function column(t: Table, name: string): string[] {
  const i = t.header.indexOf(name);
  assert.ok(i >= 0, `no column ${name} in ${t.header.join(',')}`);
  return t.rows.map((r) => r[i]!);
}

const SECONDS = 12;
const ROWS = SECONDS * 100;
/** Rising edges every second at 123 µs after the sample; falling 300 samples (150 ms) later. */
const rising = Array.from({ length: SECONDS - 1 }, (_, i) => (((i + 1) * RATE_HZ) / RATE_HZ + 123e-6).toFixed(9));
const falling = Array.from({ length: SECONDS - 1 }, (_, i) => (((i + 1) * RATE_HZ + 300) / RATE_HZ).toFixed(9));

describe('host/export: CSV layouts (GuPPy, pMAT, wide CSV), column by column', () => {
  let tmp: ReturnType<typeof tempDir>;
  let signals: Table;
  before(async () => {
    tmp = tempDir('fiberrig-export-');
    await writeSynthRecording(tmp.dir, { seconds: SECONDS });
    await demodRecording(tmp.dir, join(tmp.dir, 'derived'));
    signals = readCsv(join(tmp.dir, 'derived', 'signals.csv'));
  });
  after(() => tmp.cleanup());

  it('guppy: one timestamps,data,sampling_rate CSV per channel and one timestamps CSV per event line', async () => {
    const out = join(tmp.dir, 'guppy');
    const r = await exportRecording(tmp.dir, 'guppy', out);
    assert.deepEqual(readdirSync(out).sort(), ['DI0.csv', 'EEG.csv', 'aux_units.json', 'det0_405nm.csv', 'det0_470nm.csv', 'det1_405nm.csv', 'det1_470nm.csv']); // EEG: aux-units.test.ts
    assert.equal(r.rows, ROWS);
    const time = column(signals, 'time_s');
    for (const [file, channel] of [['det0_405nm', '405nm@det0'], ['det0_470nm', '470nm@det0'], ['det1_405nm', '405nm@det1'], ['det1_470nm', '470nm@det1']] as const) {
      const t = readCsv(join(out, `${file}.csv`));
      assert.deepEqual(t.header, ['timestamps', 'data', 'sampling_rate']);
      assert.equal(t.rows.length, ROWS);
      assert.deepEqual(column(t, 'timestamps'), time, 'timestamps on the device clock');
      assert.deepEqual(column(t, 'data'), column(signals, channel), `${file} data equals the demodulated channel`);
      assert.ok(column(t, 'sampling_rate').every((v) => v === '100'));
      assert.ok(column(t, 'data').slice(100).every((v) => Number.isFinite(Number(v))), 'finite after the filter settled');
    }
    const events = readCsv(join(out, 'DI0.csv'));
    assert.deepEqual(events.header, ['timestamps']);
    assert.deepEqual(column(events, 'timestamps'), rising);
  });

  it('pmat: Time,Signal,Control per detector (470 nm signal, 405 nm control) and Event,Onset,Offset', async () => {
    const out = join(tmp.dir, 'pmat');
    await exportRecording(tmp.dir, 'pmat', out);
    assert.deepEqual(readdirSync(out).sort(), ['det0.csv', 'det1.csv', 'events.csv']);
    for (const d of [0, 1]) {
      const t = readCsv(join(out, `det${d}.csv`));
      assert.deepEqual(t.header, ['Time', 'Signal', 'Control']);
      assert.equal(t.rows.length, ROWS);
      assert.deepEqual(column(t, 'Time'), column(signals, 'time_s'));
      assert.deepEqual(column(t, 'Signal'), column(signals, `470nm@det${d}`));
      assert.deepEqual(column(t, 'Control'), column(signals, `405nm@det${d}`));
    }
    const ev = readCsv(join(out, 'events.csv'));
    assert.deepEqual(ev.header, ['Event', 'Onset', 'Offset']);
    assert.deepEqual(column(ev, 'Event'), rising.map(() => 'DI0'));
    assert.deepEqual(column(ev, 'Onset'), rising);
    assert.deepEqual(column(ev, 'Offset'), falling);
  });

  it('csv: one wide file with time, every channel and the digital line level', async () => {
    const out = join(tmp.dir, 'wide', 'all.csv');
    await exportRecording(tmp.dir, 'csv', out);
    const t = readCsv(out);
    assert.deepEqual(t.header, ['time_s', '405nm@det0', '470nm@det0', '405nm@det1', '470nm@det1', 'DI0']);
    assert.equal(t.rows.length, ROWS);
    for (const name of t.header.slice(0, 5)) assert.deepEqual(column(t, name), column(signals, name));
    const level = column(t, 'DI0').map(Number);
    const time = column(t, 'time_s').map(Number);
    // high from 123 µs after each whole second until 150 ms later
    time.forEach((s, i) => {
      const frac = s - Math.floor(s);
      const high = s >= 1 && frac > 0.0001 && frac < 0.1499;
      assert.equal(level[i], high ? 1 : 0, `DI0 at ${s} s`);
    });
  });

  it('pmat refuses a recording without a 405/470 nm pair, with a typed error', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const { RawLogWriter, RAW_LOG_FILE_NAME } = await import('../../../host/record/rawlog.ts');
      const { synthJournal } = await import('../record/helpers.ts');
      const w = await RawLogWriter.create(join(dir, RAW_LOG_FILE_NAME));
      for (const e of synthJournal({ seconds: 2 })) {
        if (e.type === 'device-info') w.write({ ...e, info: { ...e.info, leds: e.info.leds.map((l) => ({ ...l, wavelengthNm: 560 })) } as never });
        else w.write(e);
      }
      await w.close();
      await assert.rejects(exportRecording(dir, 'pmat', join(dir, 'pmat')), (e: unknown) => e instanceof ExportError && e.code === 'E_EXPORT_PMAT_CHANNELS' && /405/.test(e.hint));
    } finally {
      cleanup();
    }
  });
});
