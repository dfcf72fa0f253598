// Issue 16, acceptance 6: `fiberrig analyze` on recordings without the needed channels says what
// it could not compute; a path that is not a recording, or bad input, is a typed error with a
// non-zero exit and no output; a failure while writing leaves nothing half-written.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyzeInput, AnalyzeError, type RecordingAnalysis, writeAnalysis } from '../../../../host/analysis/analyze/index.ts';
import { AnalysisError } from '../../../../host/analysis/errors.ts';
import { FIBERRIG_VERSION } from '../../../../host/record/version.ts';
import { readCsv } from '../../acceptance/cli-io.ts';
import { cli, noAuxRecording, scratch } from './fixture.ts';

interface Unavailable { part: string; code: string; reason: string }

/** A small analysis with only a trace (no sleep, no oscillation). */
function smallAnalysis(recording: string): RecordingAnalysis {
  return {
    recording, inputSource: 'raw log', fiberrigVersion: FIBERRIG_VERSION,
    settings: { analysisRateHz: 10, epochS: 4, methodRequested: null, absorption: null, hypnogram: null, microArousalMaxS: 15, sleep: {}, oscillation: {} },
    durationS: 10, analysisRateHz: 10,
    traces: { t0S: 0, rateHz: 10, dffPct: { '470nm@det0': Float64Array.from({ length: 100 }, (_, i) => Math.sin(i / 5)) }, bloodVolumePct: null },
    correction: { method: 'none', sensors: [{ sensor: '470nm@det0', control: null, bloodVolume: null, coefficients: null }], absorption: null },
    sleep: null, oscillation: null, unavailable: [],
  };
}

describe('fiberrig analyze: missing channels and errors', function () {
  this.timeout(180_000);

  it('a recording without EEG/EMG and without 560 nm: analysis written; sleep, oscillation, haemodynamic correction and cross-correlation unavailable with codes and reasons', async () => {
    const rec = await noAuxRecording();
    const run = await cli(['analyze', rec, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const json = JSON.parse(await readFile(join(rec, 'analysis', 'analysis.json'), 'utf8')) as { unavailable: Unavailable[]; sleep: unknown; oscillation: unknown; correction: { method: string } };
    const by = (part: string): Unavailable | undefined => json.unavailable.find((u) => u.part === part);
    assert.equal(by('sleep')?.code, 'E_NO_EEG_EMG');
    assert.match(by('sleep')!.reason, /EEG\/EMG/);
    assert.match(by('sleep')!.reason, /--hypnogram/, 'says what to do');
    assert.equal(by('oscillation')?.code, 'E_NO_HYPNOGRAM');
    assert.equal(by('haemodynamic')?.code, 'E_NO_BLOOD_VOLUME');
    assert.match(by('haemodynamic')!.reason, /560 nm.*isosbestic correction used/);
    assert.equal(by('cross-correlation')?.code, 'E_NO_BLOOD_VOLUME');
    assert.equal(json.sleep, null);
    assert.equal(json.oscillation, null);
    assert.equal(json.correction.method, 'isosbestic');
    // stderr names each part not computed; the tables exist with their headers
    for (const u of json.unavailable) assert.ok(run.stderr.includes(u.reason), `stderr says: ${u.reason}`);
    const epochs = await readCsv(join(rec, 'analysis'), 'epochs.csv');
    assert.equal(epochs.rowCount, 0);
    assert.equal(epochs.header[0], 'start_s');
    const traces = await readCsv(join(rec, 'analysis'), 'traces.csv');
    assert.deepEqual(traces.header, ['time_s', '470nm_det0_dff_pct']);
    assert.ok(Math.abs(traces.rowCount - 600) <= 2, `${traces.rowCount} rows`);
  });

  it('a directory that is not a recording: typed error, non-zero exit, no output directory created', async () => {
    const dir = join(scratch(), 'not-a-recording');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'hello\n');
    const run = await cli(['analyze', dir]);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /fiberrig: E_RECORDING_\w+: /);
    assert.equal(run.stdout, '');
    assert.deepEqual(readdirSync(dir), ['notes.txt'], 'nothing written into it');
    const out = join(scratch(), 'never-written');
    const explicit = await cli(['analyze', dir, '--out', out]);
    assert.notEqual(explicit.code, 0);
    assert.ok(!existsSync(out), '--out not created');
    assert.deepEqual(readdirSync(scratch()).filter((f) => f.includes('partial')), []);
  });

  it('bad input: a malformed --hypnogram, an unknown --method, a malformed --absorption, a missing path: typed errors, non-zero exit, nothing written', async () => {
    const rec = await noAuxRecording();
    const bad = join(scratch(), 'bad-hypnogram.csv');
    writeFileSync(bad, 'start_s,state\n0,nrem\n4,sleepy\n');
    const out = join(scratch(), 'bad-out');
    const h = await cli(['analyze', rec, '--hypnogram', bad, '--out', out]);
    assert.notEqual(h.code, 0);
    assert.match(h.stderr, /E_HYPNOGRAM_FORMAT.*line 3/);
    const m = await cli(['analyze', rec, '--method', 'magic', '--out', out]);
    assert.notEqual(m.code, 0);
    assert.match(m.stderr, /E_USAGE.*isosbestic, haemodynamic, none/);
    const table = join(scratch(), 'bad-absorption.json');
    writeFileSync(table, '{"405": 1.5}');
    const t = await cli(['analyze', rec, '--absorption', table, '--out', out]);
    assert.notEqual(t.code, 0);
    assert.match(t.stderr, /E_USAGE.*\[wavelengthNm, coefficient\]/);
    const p = await cli(['analyze', join(scratch(), 'no-such-recording'), '--out', out]);
    assert.notEqual(p.code, 0);
    assert.match(p.stderr, /E_RECORDING_NOT_FOUND/);
    assert.ok(!existsSync(out));
  });

  it('no photometry at all: analyzeInput throws AnalysisError E_ANALYSIS_NO_CHANNEL', () => {
    const input = {
      path: '/rec', source: 'raw log' as const, durationS: 60, sleep: null, missing: [],
      photometry: { rateHz: 10, t0S: 0, samples: 0, channels: [], data: {} },
    };
    assert.throws(() => analyzeInput(input), (e: unknown) => e instanceof AnalysisError && e.code === 'E_ANALYSIS_NO_CHANNEL' && /record with at least one LED/.test(e.message));
  });

  it('a failure while writing leaves no output directory and no temporary one', async () => {
    const parent = join(scratch(), 'write-failure');
    mkdirSync(parent);
    const a = smallAnalysis('/rec');
    // the tables before traces.csv are written, then reading the traces fails
    Object.defineProperty(a, 'traces', { get: () => { throw new Error('disk full (simulated)'); } });
    await assert.rejects(writeAnalysis(a, join(parent, 'analysis')), /disk full/);
    assert.deepEqual(readdirSync(parent), []);
  });

  it('--out: an earlier analysis is replaced whole; any other existing directory is refused and left untouched', async () => {
    const parent = join(scratch(), 'replace');
    const dir = join(parent, 'analysis');
    await writeAnalysis(smallAnalysis('/rec'), dir);
    writeFileSync(join(dir, 'stale.txt'), 'from before');
    const second = await writeAnalysis(smallAnalysis('/rec'), dir, { traces: false });
    assert.deepEqual(readdirSync(dir).sort(), second.files);
    assert.ok(!second.files.includes('traces.csv') && !second.files.includes('stale.txt'));
    assert.deepEqual(readdirSync(parent), ['analysis'], 'no temporary or old directory left');
    const other = join(parent, 'data');
    mkdirSync(other);
    writeFileSync(join(other, 'keep.txt'), 'mine');
    await assert.rejects(writeAnalysis(smallAnalysis('/rec'), other), (e: unknown) => e instanceof AnalyzeError && e.code === 'E_ANALYZE_OUT_EXISTS');
    assert.deepEqual(readdirSync(other), ['keep.txt']);
  });
});
