// `fiberrig analyze` end to end (issue 16, point 5): a 15-minute sim://sleep recording (seed 4,
// `fiberrig acquire` at speed=max), analysed by the CLI as a child process; analysis.json and the
// CSV tables checked against the simulated world's ground truth (loosely: the measurements of
// acceptance 1 are the sleep and oscillation tests'), and an imported hypnogram used instead of scoring.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cohenKappa, matchEvents, type SleepState } from '../../../../host/analysis/sleep/index.ts';
import { FIBERRIG_VERSION } from '../../../../host/record/version.ts';
import { FLUOROPHORE_SPECS, haemoCoefficient } from '../../../../firmware-sim/world/optics.ts';
import { readCsv } from '../../acceptance/cli-io.ts';
import { scenarioParam } from '../oscillation/world.ts';
import { trueArousals, trueEpochStates } from '../sleep/sim.ts';
import { simWorld, worldTimeOfSessionStartS } from '../truth.ts';
import { cli, scratch, SLEEP_DURATION_S, SLEEP_SEED, sleepRecording } from './fixture.ts';

interface AnalysisJson {
  format: string;
  inputSource: string;
  fiberrigVersion: string;
  settings: { analysisRateHz: number; epochS: number; hypnogram: string; oscillation: { minBoutS: number; psdMaxHz: number } };
  durationS: number;
  correction: { method: string; sensors: Array<{ sensor: string; coefficients: { fitted: boolean } | null }>; absorption: { source: string } | null };
  sleep: { source: string; epochS: number; startS: number; epochs: number; timeS: Record<SleepState, number>; microArousals: number };
  microArousals: Array<{ startS: number; endS: number }>;
  oscillation: { summary: { bouts: number; peakFrequencyHz: number; cycleAmplitudePct: number; neBloodVolumeR: number; neBloodVolumeLagS: number; analysedS: number } };
  unavailable: Array<{ part: string; code: string; reason: string }>;
  files: string[];
}

describe(`fiberrig analyze: sim://sleep seed ${SLEEP_SEED}, ${SLEEP_DURATION_S / 60} min, end to end`, function () {
  this.timeout(240_000);
  let rec: string;
  let out: string;
  let json: AnalysisJson;
  let worldT0S: number;
  let summary: Record<string, unknown>;
  const world = simWorld('sleep', SLEEP_SEED);

  before(async () => {
    rec = await sleepRecording();
    worldT0S = await worldTimeOfSessionStartS(rec);
    const run = await cli(['analyze', rec, '--json', '--quiet']);
    assert.equal(run.code, 0, run.stderr);
    summary = JSON.parse(run.stdout) as Record<string, unknown>;
    out = join(rec, 'analysis');
    json = JSON.parse(await readFile(join(out, 'analysis.json'), 'utf8')) as AnalysisJson;
  });

  it('writes every file into REC/analysis (the default) and nothing beside it', () => {
    const files = ['analysis.json', 'bouts.csv', 'epochs.csv', 'events.csv', 'locked.csv', 'psd.csv', 'report.html', 'traces.csv'];
    assert.equal(summary['out'], out);
    assert.deepEqual([...readdirSync(out)].sort(), files);
    assert.deepEqual(json.files, files);
    assert.deepEqual(readdirSync(rec).filter((f) => f.includes('partial') || f.includes('.old-')), [], 'no temporary directory left');
  });

  it('analysis.json carries the format, fiberrig version, settings and the recording\'s duration (within 1 s); the default correction is haemodynamic (spectral table), every part computed, NE→blood-volume lag within 0.5 s of the world\'s', () => {
    assert.equal(json.format, 'fiberrig-analysis');
    assert.equal(json.inputSource, 'derived file', 'read from the analysis-input.bin acquire wrote');
    assert.equal(json.fiberrigVersion, FIBERRIG_VERSION);
    assert.equal(json.settings.analysisRateHz, 10);
    assert.equal(json.settings.epochS, 4);
    assert.equal(json.settings.hypnogram, 'scored');
    assert.equal(json.settings.oscillation.minBoutS, 200, 'the oscillation settings used are written out');
    assert.ok(Math.abs(json.durationS - SLEEP_DURATION_S) <= 1, `durationS ${json.durationS}`);
    assert.equal(json.correction.sensors[0]!.sensor, '470nm@det0');
    // the default config has 560 nm and 405 nm: the default is haemodynamic with the spectral table, and every part is computed
    assert.equal(json.correction.method, 'haemodynamic');
    assert.equal(json.correction.absorption?.source, 'haemoglobin spectra', 'analysis.json records the table used');
    assert.equal(json.correction.sensors[0]!.coefficients?.fitted, true, 'and the coefficients after the scale fit');
    assert.deepEqual(json.unavailable, []);
    const truth = scenarioParam(world, 'bvLagS');
    assert.ok(Math.abs(json.oscillation.summary.neBloodVolumeLagS - truth) <= 0.5, `default: lag ${json.oscillation.summary.neBloodVolumeLagS} s, truth ${truth} s`);
  });

  it('epochs.csv: one row per epoch, its states agree with the true hypnogram (Cohen\'s κ ≥ 0.7)', async () => {
    const csv = await readCsv(out, 'epochs.csv', true);
    assert.deepEqual(csv.header, ['start_s', 'state', 'confidence', 'delta_v2', 'theta_v2', 'sigma_v2', 'beta_v2', 'emg_rms_v']);
    assert.equal(csv.rowCount, json.sleep.epochs);
    assert.ok(Math.abs(csv.rowCount * 4 - SLEEP_DURATION_S) <= 8, `${csv.rowCount} epochs`);
    const states = csv.rows.map((r) => r[1] as SleepState);
    for (const c of ['confidence', 'delta_v2', 'emg_rms_v']) assert.ok(csv.columns[c]!.every((v) => Number.isFinite(v) && v >= 0), `${c} finite and ≥ 0`);
    const truth = trueEpochStates(world, SLEEP_DURATION_S, 4, json.sleep.startS + worldT0S).slice(0, states.length);
    const kappa = cohenKappa(truth, states.slice(0, truth.length));
    assert.ok(kappa >= 0.7, `κ ${kappa.toFixed(3)}`);
    const nremS = states.filter((s) => s === 'nrem').length * 4;
    assert.equal(json.sleep.timeS.nrem, nremS);
  });

  it('events.csv: micro-arousals match the true ones (F1 ≥ 0.8, onsets within 2 s), NE peaks lie above NE troughs on average', async () => {
    const csv = await readCsv(out, 'events.csv', true);
    assert.deepEqual(csv.header, ['kind', 'start_s', 'end_s', 'duration_s', 'value_pct']);
    const kinds = new Set(csv.rows.map((r) => r[0]));
    for (const k of kinds) assert.ok(['micro-arousal', 'ne-peak', 'ne-trough'].includes(k!), `kind ${k}`);
    const mas = csv.rows.filter((r) => r[0] === 'micro-arousal').map((r) => ({ startS: Number(r[1]) + worldT0S, endS: Number(r[2]) + worldT0S }));
    assert.equal(mas.length, json.sleep.microArousals);
    const truth = trueArousals(world, SLEEP_DURATION_S).filter((a) => a.endS <= SLEEP_DURATION_S - 20);
    assert.ok(truth.length >= 3, `${truth.length} true micro-arousals`);
    const m = matchEvents(truth, mas.filter((a) => a.endS <= SLEEP_DURATION_S - 20), 2);
    assert.ok(m.f1 >= 0.8, `F1 ${m.f1}`);
    const peaks = csv.rows.filter((r) => r[0] === 'ne-peak');
    const troughs = csv.rows.filter((r) => r[0] === 'ne-trough');
    assert.ok(peaks.length >= 5 && troughs.length >= 5, `${peaks.length} peaks, ${troughs.length} troughs`);
    const meanOf = (rows: string[][]): number => rows.reduce((s, r) => s + Number(r[4]), 0) / rows.length;
    assert.ok(meanOf(peaks) > meanOf(troughs), 'peaks above troughs');
  });

  it('bouts.csv and the summary: NE peak frequency within 10 % of the true cycles\' in the analysed bouts; blood volume anti-phase (r < −0.5)', async () => {
    const csv = await readCsv(out, 'bouts.csv');
    const s = json.oscillation.summary;
    assert.equal(csv.rowCount, s.bouts);
    assert.ok(s.bouts >= 1, 'at least one NREM bout ≥ 200 s');
    assert.ok(csv.columns['duration_s']!.every((d) => d >= 200), 'bouts ≥ minBoutS');
    // truth: cycles whose peak lies in an analysed bout (world time), frequency = cycles / their total period
    let cycles = 0;
    let periodS = 0;
    for (let b = 0; b < csv.rowCount; b++) {
      const a = csv.columns['start_s']![b]! + worldT0S;
      const e = csv.columns['end_s']![b]! + worldT0S;
      for (const c of world.truth.neCycles(a, e)) if (c.peakS >= a && c.peakS < e) { cycles++; periodS += c.periodS; }
    }
    const trueHz = cycles / periodS;
    assert.ok(Math.abs(s.peakFrequencyHz - trueHz) <= 0.1 * trueHz, `peak ${s.peakFrequencyHz} Hz, truth ${trueHz} Hz`);
    assert.ok(s.cycleAmplitudePct > 0, `cycle amplitude ${s.cycleAmplitudePct} %`);
    assert.ok(s.neBloodVolumeR < -0.5, `r ${s.neBloodVolumeR}`);
    assert.equal(summary['peakFrequencyHz'], s.peakFrequencyHz, 'the CLI summary reports the same figure');
  });

  it('psd.csv: frequency 0–0.1 Hz at 0.001 Hz with NE per state and NE / blood volume over bouts, peaking near 0.02 Hz', async () => {
    const csv = await readCsv(out, 'psd.csv');
    const f = csv.columns['frequency_hz']!;
    assert.equal(f[0], 0);
    assert.ok(Math.abs(f[f.length - 1]! - json.settings.oscillation.psdMaxHz) < 1e-9);
    assert.ok(Math.abs(f[1]! - f[0]! - 0.001) < 1e-9);
    for (const c of ['ne_nrem_pct2_per_hz', 'ne_nrem_bouts_pct2_per_hz', 'blood_volume_nrem_bouts_pct2_per_hz']) {
      const p = csv.columns[c];
      assert.ok(p, `column ${c} in ${csv.header.join(',')}`);
      let best = 1;
      for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
      assert.ok(f[best]! >= 0.01 && f[best]! <= 0.03, `${c} peaks at ${f[best]} Hz`);
    }
  });

  it('traces.csv: the analysis rate (10 Hz) over the whole recording, ΔF/F and blood volume mostly finite, states from the hypnogram', async () => {
    const csv = await readCsv(out, 'traces.csv', true);
    assert.deepEqual(csv.header, ['time_s', '470nm_det0_dff_pct', 'blood_volume_pct', 'state']);
    assert.ok(Math.abs(csv.rowCount - SLEEP_DURATION_S * 10) <= 10, `${csv.rowCount} rows`);
    const t = csv.columns['time_s']!;
    assert.ok(Math.abs(t[1]! - t[0]! - 0.1) < 1e-6);
    const finite = (c: string): number => csv.columns[c]!.filter(Number.isFinite).length / csv.rowCount;
    assert.ok(finite('470nm_det0_dff_pct') > 0.95 && finite('blood_volume_pct') > 0.95);
    assert.ok(csv.rows.every((r) => ['wake', 'nrem', 'rem', ''].includes(r[3]!)));
  });

  it('locked.csv: micro-arousal-locked mean and SEM per trace over ±50 s', async () => {
    const csv = await readCsv(out, 'locked.csv');
    const lag = csv.columns['lag_s']!;
    assert.ok(Math.abs(lag[0]! + 50) < 1e-9 && Math.abs(lag[lag.length - 1]! - 50) < 1e-9, `lags ${lag[0]}..${lag[lag.length - 1]}`);
    for (const c of ['ne_mean', 'ne_sem', 'bloodvolume_mean', 'delta_mean']) assert.ok(csv.header.includes(c), `${c} in ${csv.header.join(',')}`);
    assert.ok(csv.columns['ne_mean']!.some(Number.isFinite));
  });

  it('--hypnogram: an imported hypnogram (the true one) replaces scoring; micro-arousals are its short wake runs inside NREM', async () => {
    const dir = join(scratch(), 'imported');
    const states = trueEpochStates(world, SLEEP_DURATION_S - 4, 4, worldT0S);
    const file = join(scratch(), 'truth-hypnogram.csv');
    await writeFile(file, `start_s,state\n${states.map((s, e) => `${e * 4},${s}`).join('\n')}\n`);
    const run = await cli(['analyze', rec, '--hypnogram', file, '--out', dir, '--json', '--quiet', '--no-traces']);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(!existsSync(join(dir, 'traces.csv')), '--no-traces');
    const j = JSON.parse(await readFile(join(dir, 'analysis.json'), 'utf8')) as AnalysisJson;
    assert.equal(j.sleep.source, 'imported');
    assert.equal(j.settings.hypnogram, 'imported');
    assert.equal(j.sleep.epochs, states.length);
    const epochs = await readCsv(dir, 'epochs.csv', true);
    assert.deepEqual(epochs.rows.map((r) => r[1]), states);
    assert.ok(epochs.columns['confidence']!.every(Number.isNaN), 'no confidence for an imported hypnogram');
    // every micro-arousal is a wake run of ≤ 15 s between NREM epochs of the imported hypnogram
    assert.ok(j.microArousals.length >= 1);
    for (const m of j.microArousals) {
      const e0 = Math.round(m.startS / 4);
      const e1 = Math.round(m.endS / 4);
      assert.ok(m.endS - m.startS <= 15);
      assert.equal(states[e0 - 1], 'nrem');
      assert.equal(states[e1], 'nrem');
      for (let e = e0; e < e1; e++) assert.equal(states[e], 'wake');
    }
    assert.ok(j.oscillation.summary.bouts >= 1, 'NREM bouts from the imported hypnogram');
  });

  it('--absorption overrides the default table (here with the world\'s own): haemodynamic correction; NE→blood-volume lag within 0.5 s of the world\'s bvLagS', async () => {
    // the table of sleep-truth.test.ts: blood absorption at each LED plus at the emission the detector sees
    const emission = (label: RegExp): number => FLUOROPHORE_SPECS.find((f) => label.test(f.label))!.emissionNm;
    const green = emission(/GRAB-NE/);
    const red = emission(/red dye/);
    const table = [[405, haemoCoefficient(405) + haemoCoefficient(green)], [470, haemoCoefficient(470) + haemoCoefficient(green)], [560, haemoCoefficient(560) + haemoCoefficient(red)]];
    const file = join(scratch(), 'absorption.json');
    await writeFile(file, JSON.stringify(table));
    const dir = join(scratch(), 'haemodynamic');
    const run = await cli(['analyze', rec, '--absorption', file, '--out', dir, '--json', '--quiet', '--no-traces']);
    assert.equal(run.code, 0, run.stderr);
    const j = JSON.parse(await readFile(join(dir, 'analysis.json'), 'utf8')) as AnalysisJson & { settings: { absorption: number[][] } };
    assert.equal(j.correction.method, 'haemodynamic');
    assert.deepEqual(j.settings.absorption, table);
    assert.deepEqual(j.unavailable, [], 'every part computed');
    const truth = scenarioParam(world, 'bvLagS');
    const s = j.oscillation.summary;
    assert.ok(Math.abs(s.neBloodVolumeLagS - truth) <= 0.5, `lag ${s.neBloodVolumeLagS} s, truth ${truth} s`);
    assert.ok(s.neBloodVolumeR < -0.8, `r ${s.neBloodVolumeR}`);
  });
});
