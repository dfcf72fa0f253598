// Acceptance 2 (issue 15), and pMAT's part of 6: a `sleep` recording through
// `fiberrig acquire` with a cable pull (disconnect@10:for=4, during which the
// device watchdog also darkens the LEDs, and long enough to overflow the ring
// buffer: 32 blocks of 0.1 s detector and 0.25 s aux blocks hold ~2.3 s) and a ring-buffer overrun
// (overrun@20:blocks=4), exported for GuPPy and pMAT with their defaults.
// Every CSV has no NaN cell and rows as long as its header; in every GuPPy
// segment all channel files hold the same timestamps, one output period apart;
// each segment starts exactly at the first output the lock-in gives after the
// gap record's end (its design's settling bound) and ends at the last output
// before the next gap. pMAT gets one Time,Signal,Control file per pair —
// 470 nm and 560 nm, each with its detector's 405 nm control — and computes
// the true rate from each (1 / mean(diff(Time))).
//
// Times are checked as raw filter-output times (delay compensation off, the
// group delay recorded in export.json), so they sit exactly on the output grid.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LOCKIN_CONFIG } from '../../../host/config/acquisition.ts';
import { designLockin } from '../../../host/dsp/lockin.ts';
import { exportRecording } from '../../../host/export/index.ts';
import type { SessionFile } from '../../../host/record/session.ts';
import { checkNoNanCells, column, type ExportMeta, firstSettledOutput, pmatRateHz, readMeta, segmentDirs, type Table } from '../export/csv-helpers.ts';
import { cliAcquire } from './cli-io.ts';

const DURATION_S = 30;
const URL = 'sim://sleep?seed=3&speed=max&faults=disconnect@10:for=4,overrun@20:blocks=4';
const FS = DEFAULT_LOCKIN_CONFIG.sampleRateHz!;
const OUTPUT_HZ = 100;
const DESIGN = designLockin({ sampleRateHz: FS, carriersHz: DEFAULT_LOCKIN_CONFIG.leds.map((l) => l.carrierHz!), detectorCount: 2, outputRateHz: OUTPUT_HZ });
const RAW_TIMES = { delayCompensation: false } as const;
const CHANNEL_FILES = ['det0_405nm', 'det0_470nm', 'det0_560nm', 'det1_405nm', 'det1_470nm', 'det1_560nm'];

describe(`acceptance: GuPPy and pMAT exports of a recording with gaps (sleep, ${DURATION_S} s, disconnect@10:for=4 + overrun@20:blocks=4; first sample after each gap exact, pMAT rate 100 Hz ± 1e-6)`, function () {
  this.timeout(120_000);
  let tmp: string;
  let rec: string;
  let session: SessionFile;
  /** Per disruption (detector gap or LEDs-dark span) in order: raw sample index range [start, end). */
  let disruptions: Array<{ start: number; end: number; what: string }>;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-csv-gaps-'));
    rec = join(tmp, 'rec');
    await cliAcquire(URL, `${DURATION_S}s`, rec);
    session = JSON.parse(await readFile(join(rec, 'session.json'), 'utf8')) as SessionFile;
    disruptions = [
      ...session.gaps.filter((g) => g.source === 'detector').map((g) => ({ start: g.sessionIndex, end: g.sessionIndex + g.count, what: `gap (${g.reason})` })),
      ...(session.quality ?? []).map((q) => ({ start: q.sessionIndex, end: q.sessionIndex + q.count, what: q.label })),
    ].sort((a, b) => a.start - b.start);
  });

  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  /**
   * The segments the gap records imply: after each restart of the filters (the recording's start, the
   * end of a gap) from the first settled output to the last output before the next disruption, when
   * that is not empty. A restart is the end of a disruption that no later one overlaps.
   */
  function expectedSegments(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let restart = 0;
    let restartWhat = 'start';
    const totalOutputs = DURATION_S * OUTPUT_HZ;
    for (const d of [...disruptions, { start: totalOutputs * DESIGN.decimation, end: Number.POSITIVE_INFINITY, what: 'end' }]) {
      // an LEDs-dark span restarts the filters at a block boundary, not at a sample the records name: the
      // recording must end each dark span inside or before a gap for the check to be exact
      if (restartWhat.startsWith('LEDs dark') && d.start > restart) assert.fail(`a dark span ends outside a gap at ${restart}: no exact expectation`);
      const first = firstSettledOutput(DESIGN, restart);
      const end = Math.ceil(d.start / DESIGN.decimation);
      if (end > first) out.push([first, end]);
      if (d.end > restart) {
        restart = d.end;
        restartWhat = d.what;
      }
    }
    return out;
  }

  it('the faults happened: a reconnect, missing blocks before it and after the overrun, an LEDs-dark span', () => {
    console.log(`      disruptions (s): ${disruptions.map((d) => `${(d.start / FS).toFixed(4)}-${(d.end / FS).toFixed(4)} ${d.what}`).join(', ')}`);
    assert.ok(disruptions.some((d) => d.what === 'gap (reconnect)'));
    assert.ok(disruptions.filter((d) => d.what === 'gap (missing-blocks)').length >= 2);
    // world 20 s is a little earlier in session time: the reconnect gap is measured, the outage before it partly buffered
    assert.ok(disruptions.some((d) => d.start > 19 * FS && d.start < 21 * FS && d.what === 'gap (missing-blocks)'), 'the overrun at 20 s');
  });

  it('guppy, every gap-free span kept (minSegmentS 0): no NaN cell, equal lengths, the same timestamps in every channel file, each segment from the first settled output after a gap to the last before the next (exact)', async () => {
    const out = join(tmp, 'guppy-all');
    await exportRecording(rec, 'guppy', out, { ...RAW_TIMES, minSegmentS: 0 });
    const tables = checkNoNanCells(out);
    const meta = readMeta(join(out, 'export.json'));
    const expected = expectedSegments();
    console.log(`      segments (s): ${meta.segments.map((s) => `${s.firstTimeS.toFixed(2)}-${s.lastTimeS.toFixed(2)}`).join(', ')}`);
    // three long spans (before the disconnect, between it and the overrun, after); a short one may sit
    // between the blocks lost before the reconnect, depending on where the watchdog trip falls
    assert.ok(expected.length >= 3, JSON.stringify(expected));
    assert.deepEqual(meta.segments.map((s) => [s.firstOutputIndex, s.endOutputIndex]), expected);
    assert.deepEqual(segmentDirs(out), meta.segments.map((s) => s.name));
    for (const seg of meta.segments) {
      const times = CHANNEL_FILES.map((f) => {
        const t = tables.get(join(seg.name, `${f}.csv`));
        assert.ok(t, `${seg.name}/${f}.csv`);
        assert.deepEqual(t.header, ['timestamps', 'data', 'sampling_rate']);
        assert.equal(t.rows.length, seg.endOutputIndex - seg.firstOutputIndex, `${seg.name}/${f}: one row per output`);
        assert.ok(column(t, 'sampling_rate').every((v) => v === '100'));
        return column(t, 'timestamps');
      });
      for (const t of times.slice(1)) assert.deepEqual(t, times[0], `${seg.name}: same timestamps in every channel file`);
      assert.equal(times[0]![0], (seg.firstOutputIndex / OUTPUT_HZ).toFixed(6), `${seg.name}: its first sample after the gap`);
      times[0]!.forEach((v, i) => {
        if (v !== ((seg.firstOutputIndex + i) / OUTPUT_HZ).toFixed(6)) assert.fail(`${seg.name} row ${i}: ${v}`);
      });
    }
  });

  it('guppy: spans shorter than minSegmentS (8 s here: the ~7 s span between the reconnect and the overrun) are left out and listed with why; every omitted row is accounted for', async () => {
    const out = join(tmp, 'guppy');
    const minSegmentS = 8;
    await exportRecording(rec, 'guppy', out, { ...RAW_TIMES, minSegmentS });
    checkNoNanCells(out);
    const meta = readMeta(join(out, 'export.json'));
    assert.equal(meta.gapPolicy.policy, 'segments');
    const expected = expectedSegments().filter(([a, b]) => b - a >= minSegmentS * OUTPUT_HZ);
    assert.ok(expected.length < expectedSegments().length, 'this recording has a span shorter than 8 s');
    assert.deepEqual(meta.segments.map((s) => [s.firstOutputIndex, s.endOutputIndex]), expected);
    // segments and omitted spans tile the output timeline
    const spans = [...meta.segments.map((s) => [s.firstOutputIndex, s.endOutputIndex]), ...meta.omitted.map((o) => [o.firstOutputIndex, o.endOutputIndex])].sort((a, b) => a[0]! - b[0]!);
    let at = 0;
    for (const [a, b] of spans) {
      assert.equal(a, at, `tiles at ${at}`);
      at = b!;
    }
    assert.equal(at, DURATION_S * OUTPUT_HZ);
    assert.ok(meta.omitted.some((o) => o.causes.some((c) => /shorter than 8 s/.test(c))), JSON.stringify(meta.omitted));
    assert.ok(meta.omitted.some((o) => o.causes.includes('gap (reconnect)') && o.causes.includes('LEDs dark: watchdog')), JSON.stringify(meta.omitted));
    assert.ok(meta.omitted.every((o) => o.causes.length > 0));
  });

  it('pmat default: one Time,Signal,Control file per pair (470 and 560 nm with 405 nm) per segment, no NaN rows, pMAT\'s rate 100 Hz ± 1e-6 in each; units and delays in export.json', async () => {
    const out = join(tmp, 'pmat');
    await exportRecording(rec, 'pmat', out, RAW_TIMES);
    const tables = checkNoNanCells(out);
    const meta: ExportMeta = readMeta(join(out, 'export.json'));
    assert.deepEqual(meta.pairs?.map((p) => [p.file, p.signal, p.control]), [
      ['det0_470nm_405nm.csv', '470nm@det0', '405nm@det0'], ['det0_560nm_405nm.csv', '560nm@det0', '405nm@det0'],
      ['det1_470nm_405nm.csv', '470nm@det1', '405nm@det1'], ['det1_560nm_405nm.csv', '560nm@det1', '405nm@det1'],
    ]);
    assert.deepEqual(meta.unpaired, []);
    assert.ok(meta.segments.length >= 3);
    for (const seg of meta.segments) {
      for (const p of meta.pairs ?? []) {
        const t: Table | undefined = tables.get(join(seg.name, p.file));
        assert.ok(t, `${seg.name}/${p.file}`);
        assert.deepEqual(t.header, ['Time', 'Signal', 'Control']);
        assert.equal(t.rows.length, seg.rows);
        assert.ok(Math.abs(pmatRateHz(t) - OUTPUT_HZ) < 1e-6, `${seg.name}/${p.file}: pMAT rate ${pmatRateHz(t)}`);
      }
      assert.ok(tables.get(join(seg.name, 'events.csv')), `${seg.name}/events.csv`);
    }
    const info = session.device.info as { detectors: Array<{ id: number; adcBits: number; fullScaleV: number }> };
    for (const c of meta.columns) {
      const d = info.detectors.find((x) => x.id === c.detector)!;
      assert.equal(c.unit, 'adc-code');
      assert.equal(c.voltsPerCode, d.fullScaleV / 2 ** d.adcBits);
      assert.equal(c.groupDelayS, DESIGN.groupDelayS);
      assert.equal(c.timesDelayCompensated, false);
    }
    assert.equal(meta.timeBase.delayCompensation, false);
  });
});
