import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../../host/cli/main.ts';
import { designLockin } from '../../../host/dsp/lockin.ts';
import { exportRecording } from '../../../host/export/index.ts';
import { ExportError } from '../../../host/export/common.ts';
import { demodRecording } from '../../../host/record/demod.ts';
import { FIBERRIG_VERSION } from '../../../host/record/version.ts';
import { CARRIERS_HZ, RATE_HZ, synthJournal, TEST_INFO, tempDir, writeSynthRecording } from '../record/helpers.ts';
import { checkNoNanCells, column, firstSettledOutput, pmatRateHz, readMeta, readTable, type Table } from './csv-helpers.ts';

const SECONDS = 12;
const ROWS = SECONDS * 100;
/** Rising edges every second at 123 µs after the sample; falling 300 samples (150 ms) later. */
const rising = Array.from({ length: SECONDS - 1 }, (_, i) => (((i + 1) * RATE_HZ) / RATE_HZ + 123e-6).toFixed(9));
const falling = Array.from({ length: SECONDS - 1 }, (_, i) => (((i + 1) * RATE_HZ + 300) / RATE_HZ).toFixed(9));
const DESIGN = designLockin({ sampleRateHz: RATE_HZ, carriersHz: CARRIERS_HZ, detectorCount: 2, outputRateHz: 100 });
/** The device reports full scale as a float32 (3.3 V) over 16 bits. */
const VOLTS_PER_CODE = Math.fround(3.3) / 2 ** 16;
/** Raw filter-output times (the delay is recorded, not applied): exact on the output grid. */

describe('host/export: CSV layouts (GuPPy, pMAT, wide CSV), column by column', () => {
  let tmp: ReturnType<typeof tempDir>;
  let signals: Table;
  /** First output row with every channel finite (the lock-in settled), from the derived signals.csv. */
  let firstValid: number;
  before(async () => {
    tmp = tempDir('fiberrig-export-');
    await writeSynthRecording(tmp.dir, { seconds: SECONDS });
    await demodRecording(tmp.dir, join(tmp.dir, 'derived'));
    signals = readTable(join(tmp.dir, 'derived', 'signals.csv'));
    firstValid = signals.rows.findIndex((r) => r.slice(1).every((v) => Number.isFinite(Number(v))));
  });
  after(() => tmp.cleanup());

  it('the lock-in settles where its design says (the first exported row of every format starts there)', () => {
    assert.equal(firstValid, firstSettledOutput(DESIGN, 0));
    assert.ok(signals.rows.slice(firstValid).every((r) => r.slice(1).every((v) => Number.isFinite(Number(v)))));
  });

  it('guppy (default --gaps segments): one session folder, one timestamps,data,sampling_rate CSV per channel (same rows, no NaN), one timestamps CSV per event line', async () => {
    const out = join(tmp.dir, 'guppy');
    const r = await exportRecording(tmp.dir, 'guppy', out); // default: delay-compensated, as signals.csv
    assert.deepEqual(readdirSync(out).sort(), ['aux', 'export.json', 'segment_001']); // aux: EEG in volts, aux-units.test.ts
    assert.deepEqual(readdirSync(join(out, 'segment_001')).sort(), ['DI0.csv', 'det0_405nm.csv', 'det0_470nm.csv', 'det1_405nm.csv', 'det1_470nm.csv']);
    assert.equal(r.rows, ROWS - firstValid);
    checkNoNanCells(out);
    for (const [file, channel] of [['det0_405nm', '405nm@det0'], ['det0_470nm', '470nm@det0'], ['det1_405nm', '405nm@det1'], ['det1_470nm', '470nm@det1']] as const) {
      const t = readTable(join(out, 'segment_001', `${file}.csv`));
      assert.deepEqual(t.header, ['timestamps', 'data', 'sampling_rate']);
      assert.equal(t.rows.length, ROWS - firstValid);
      assert.deepEqual(column(t, 'timestamps'), column(signals, 'time_s').slice(firstValid), 'timestamps on the device clock');
      assert.deepEqual(column(t, 'data'), column(signals, channel).slice(firstValid), `${file} data equals the demodulated channel`);
      assert.ok(column(t, 'sampling_rate').every((v) => v === '100'));
    }
    const events = readTable(join(out, 'segment_001', 'DI0.csv'));
    assert.deepEqual(events.header, ['timestamps']);
    assert.deepEqual(column(events, 'timestamps'), rising);
  });

  it('guppy export.json: units (ADC codes, volts per code), rates, group delay, delay compensation, gap policy, segments, omitted start, versions, source', async () => {
    for (const delayCompensation of [false, true]) {
      const out = join(tmp.dir, `guppy-meta-${delayCompensation}`);
      await exportRecording(tmp.dir, 'guppy', out, { delayCompensation });
      const m = readMeta(join(out, 'export.json'));
      assert.equal(m.format, 'fiberrig-export');
      assert.equal(m.exportFormat, 'guppy');
      assert.equal(m.exportedWith.fiberrig, FIBERRIG_VERSION);
      assert.equal(m.source.recording, basename(tmp.dir));
      assert.equal(m.source.rawLog, 'raw.fjl');
      assert.equal(m.timeBase.clock, 'device sample clock');
      assert.equal(m.timeBase.outputRateHz, 100);
      assert.equal(m.timeBase.detectorRateHz, RATE_HZ);
      assert.equal(m.timeBase.delayCompensation, delayCompensation);
      assert.ok(m.timeBase.sessionStartIso && !Number.isNaN(Date.parse(m.timeBase.sessionStartIso)));
      assert.deepEqual(m.columns.map((c) => c.column), ['det0_405nm.csv', 'det0_470nm.csv', 'det1_405nm.csv', 'det1_470nm.csv']);
      for (const c of m.columns) {
        assert.equal(c.unit, 'adc-code');
        assert.equal(c.voltsPerCode, VOLTS_PER_CODE);
        assert.equal(c.groupDelayS, DESIGN.groupDelayS);
        assert.equal(c.timesDelayCompensated, delayCompensation);
      }
      assert.equal(m.gapPolicy.policy, 'segments');
      assert.equal(m.gapPolicy.minSegmentS, 1);
      assert.deepEqual(m.segments.map((s) => [s.name, s.firstOutputIndex, s.endOutputIndex, s.rows]), [['segment_001', firstValid, ROWS, ROWS - firstValid]]);
      assert.deepEqual(m.omitted.map((s) => [s.firstOutputIndex, s.endOutputIndex, s.causes]), [[0, firstValid, ['filter settling']]]);
      assert.deepEqual(m.gaps, []);
      // the synthetic recording's aux input (EEG) is written by aux-csv.ts and listed too
      assert.deepEqual([...m.files].sort(), [...['DI0', 'det0_405nm', 'det0_470nm', 'det1_405nm', 'det1_470nm'].map((f) => join('segment_001', `${f}.csv`)), join('aux', 'EEG.csv'), join('aux', 'aux_units.json')].sort());
    }
  });

  it('pmat: Time,Signal,Control per signal/control pair (470 nm with 405 nm) per segment, no NaN, Event,Onset,Offset, pMAT\'s rate = 100 Hz ± 1e-6', async () => {
    const out = join(tmp.dir, 'pmat');
    await exportRecording(tmp.dir, 'pmat', out);
    assert.deepEqual(readdirSync(out).sort(), ['export.json', 'segment_001']);
    assert.deepEqual(readdirSync(join(out, 'segment_001')).sort(), ['det0_470nm_405nm.csv', 'det1_470nm_405nm.csv', 'events.csv']);
    checkNoNanCells(out);
    for (const d of [0, 1]) {
      const t = readTable(join(out, 'segment_001', `det${d}_470nm_405nm.csv`));
      assert.deepEqual(t.header, ['Time', 'Signal', 'Control']);
      assert.equal(t.rows.length, ROWS - firstValid);
      assert.deepEqual(column(t, 'Time'), column(signals, 'time_s').slice(firstValid));
      assert.deepEqual(column(t, 'Signal'), column(signals, `470nm@det${d}`).slice(firstValid));
      assert.deepEqual(column(t, 'Control'), column(signals, `405nm@det${d}`).slice(firstValid));
      assert.ok(Math.abs(pmatRateHz(t) - 100) < 1e-6, `pMAT rate ${pmatRateHz(t)}`);
    }
    const ev = readTable(join(out, 'segment_001', 'events.csv'));
    assert.deepEqual(ev.header, ['Event', 'Onset', 'Offset']);
    assert.deepEqual(column(ev, 'Event'), rising.map(() => 'DI0'));
    assert.deepEqual(column(ev, 'Onset'), rising);
    assert.deepEqual(column(ev, 'Offset'), falling);
    const m = readMeta(join(out, 'export.json'));
    assert.deepEqual(m.pairs, [
      { file: 'det0_470nm_405nm.csv', detector: 0, signal: '470nm@det0', control: '405nm@det0' },
      { file: 'det1_470nm_405nm.csv', detector: 1, signal: '470nm@det1', control: '405nm@det1' },
    ]);
    assert.deepEqual(m.unpaired, []);
    assert.deepEqual(m.columns.map((c) => c.column), ['det0_470nm_405nm.csv:Signal', 'det0_470nm_405nm.csv:Control', 'det1_470nm_405nm.csv:Signal', 'det1_470nm_405nm.csv:Control']);
    assert.ok(m.columns.every((c) => c.voltsPerCode === VOLTS_PER_CODE && c.groupDelayS === DESIGN.groupDelayS && c.timesDelayCompensated === true));
  });

  it('csv: one wide file with time, every channel and the digital line level; <name>.meta.json beside it', async () => {
    const out = join(tmp.dir, 'wide', 'all.csv');
    await exportRecording(tmp.dir, 'csv', out);
    const t = readTable(out);
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
    const m = readMeta(join(tmp.dir, 'wide', 'all.meta.json'));
    assert.equal(m.exportFormat, 'csv');
    assert.equal(m.gapPolicy.policy, 'nan');
    assert.deepEqual(m.columns.map((c) => c.column), ['405nm@det0', '470nm@det0', '405nm@det1', '470nm@det1']);
    assert.ok(m.columns.every((c) => c.unit === 'adc-code' && c.voltsPerCode === VOLTS_PER_CODE && c.groupDelayS === DESIGN.groupDelayS));
    assert.deepEqual(m.digitalColumns?.map((c) => c.column), ['DI0']);
    assert.deepEqual(m.files, ['all.csv', 'all.aux.csv']);
  });

  it('guppy and pmat refuse --gaps nan, the wide CSV refuses --gaps segments, with typed errors; nothing is written', async () => {
    for (const [format, gaps] of [['guppy', 'nan'], ['pmat', 'nan'], ['csv', 'segments']] as const) {
      const out = join(tmp.dir, `refused-${format}`);
      await assert.rejects(exportRecording(tmp.dir, format, out, { gaps }), (e: unknown) => e instanceof ExportError && e.code === 'E_EXPORT_GAPS' && /--gaps/.test(e.hint));
      assert.equal(existsSync(out), false);
    }
  });

  it('fiberrig export: guppy defaults to segments (recorded in export.json); --gaps nan for guppy exits 1 naming E_EXPORT_GAPS', async () => {
    const io = { stdout: new PassThrough(), stderr: new PassThrough() };
    const text = (s: PassThrough): string => String(s.read() ?? '');
    const out = join(tmp.dir, 'cli-guppy');
    assert.equal(await main(['export', '--in', tmp.dir, '--format', 'guppy', '--out', out, '--json', '--quiet'], io), 0);
    assert.equal(readMeta(join(out, 'export.json')).gapPolicy.policy, 'segments');
    text(io.stdout);
    assert.equal(await main(['export', '--in', tmp.dir, '--format', 'guppy', '--out', join(tmp.dir, 'cli-nan'), '--gaps', 'nan', '--quiet'], io), 1);
    assert.match(text(io.stderr), /E_EXPORT_GAPS: --gaps nan cannot be read by GuPPy/);
    assert.equal(await main(['export', '--in', tmp.dir, '--format', 'nwb', '--out', join(tmp.dir, 'cli.nwb'), '--gaps', 'omit', '--quiet'], io), 1);
    assert.match(text(io.stderr), /E_EXPORT_GAPS: NWB series are regular/);
  });

  /** A recording whose two LEDs report these wavelengths. */
  async function withWavelengths(nm: [number, number], fn: (dir: string) => Promise<void>): Promise<void> {
    const { dir, cleanup } = tempDir();
    try {
      const { RawLogWriter, RAW_LOG_FILE_NAME } = await import('../../../host/record/rawlog.ts');
      const w = await RawLogWriter.create(join(dir, RAW_LOG_FILE_NAME));
      for (const e of synthJournal({ seconds: 3 })) {
        if (e.type === 'device-info') w.write({ ...e, info: { ...e.info, leds: TEST_INFO.leds.map((l, i) => ({ ...l, wavelengthNm: nm[i]! })) } as never });
        else w.write(e);
      }
      await w.close();
      await fn(dir);
    } finally {
      cleanup();
    }
  }

  it('pmat pairs a 560 nm (red) channel with its detector\'s 405 nm control', async () => {
    await withWavelengths([405, 560], async (dir) => {
      await exportRecording(dir, 'pmat', join(dir, 'pmat'));
      assert.deepEqual(readdirSync(join(dir, 'pmat', 'segment_001')).sort(), ['det0_560nm_405nm.csv', 'det1_560nm_405nm.csv', 'events.csv']);
      const m = readMeta(join(dir, 'pmat', 'export.json'));
      assert.deepEqual(m.pairs?.map((p) => [p.signal, p.control]), [['560nm@det0', '405nm@det0'], ['560nm@det1', '405nm@det1']]);
    });
  });

  it('pmat refuses a recording without a 405 nm control, with a typed error', async () => {
    await withWavelengths([470, 560], async (dir) => {
      await assert.rejects(exportRecording(dir, 'pmat', join(dir, 'pmat')), (e: unknown) => e instanceof ExportError && e.code === 'E_EXPORT_PMAT_CHANNELS' && /405/.test(e.hint));
    });
  });
});
