// The streaming reader behind `fiberrig analyze` (host/analysis/input-read.ts) against the
// whole-array reads of the same recordings: photometry block means against readRecordingChannels,
// the sleep features streamed across replay blocks against epochFeatures / emgEnvelope on
// readAuxVolts's arrays, scoring from them against scoreSleep, and what a recording lacks.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnalysisError, readAnalysisInput, readRecordingChannels } from '../../../host/analysis/index.ts';
import type { AnalysisInput } from '../../../host/analysis/input.ts';
import { ANALYSIS_INPUT_FILE_NAME } from '../../../host/analysis/input-file.ts';
import { readAuxVolts, SleepFeatureStream } from '../../../host/analysis/input-read.ts';
import { EEG_BANDS_HZ, emgEnvelope, epochFeatures, scoreSleep, scoreSleepFeatures, SleepError, Welch } from '../../../host/analysis/sleep/index.ts';
import { signalTimeS } from '../../../host/pipeline/time.ts';
import { readSession, SESSION_FILE_NAME } from '../../../host/record/session.ts';
import { cliAcquire } from '../acceptance/cli-io.ts';

/** |a − b| ≤ tol·max(|b|, floor), NaN only where NaN. */
function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string, floor = 0): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < b.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(y)) { assert.ok(Number.isNaN(x), `${what}[${i}] is ${x}, expected NaN`); continue; }
    assert.ok(Math.abs(x - y) <= tol * Math.max(Math.abs(y), floor), `${what}[${i}] = ${x}, expected ${y}`);
  }
}

/** A deterministic noise-plus-tones test signal. */
function signal(n: number, seed: number, rateHz: number): Float64Array {
  let s = seed >>> 0;
  const rand = (): number => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32 - 0.5; };
  return Float64Array.from({ length: n }, (_, i) => 1e-4 * (Math.sin(2 * Math.PI * 2.5 * i / rateHz) + 0.4 * Math.sin(2 * Math.PI * 6 * i / rateHz) + rand()) + 3e-5 * Math.floor(i / (7 * rateHz)));
}


/** a and b hold the same numbers (NaN where NaN, bit for bit otherwise) and the same descriptions. */
function assertSameInput(a: AnalysisInput, b: AnalysisInput, what: string): void {
  const arrays: Array<[string, Float64Array, Float64Array]> = [];
  for (const c of b.photometry.channels) arrays.push([`photometry.${c.name}`, a.photometry.data[c.name]!, b.photometry.data[c.name]!]);
  assert.equal(a.sleep === null, b.sleep === null, `${what}: sleep present`);
  if (a.sleep && b.sleep) {
    for (const k of ['deltaV2', 'thetaV2', 'sigmaV2', 'betaV2', 'emgRmsV'] as const) arrays.push([`features.${k}`, a.sleep.features[k], b.sleep.features[k]]);
    for (const k of ['deltaV2', 'thetaV2', 'sigmaV2', 'betaV2'] as const) arrays.push([`bandPower.${k}`, a.sleep.bandPower[k], b.sleep.bandPower[k]]);
    arrays.push(['envelope', a.sleep.envelope.emgRmsV, b.sleep.envelope.emgRmsV]);
  }
  for (const [name, x, y] of arrays) {
    assert.ok(y.length > 0, `${what}: ${name} is empty`);
    assert.equal(x.length, y.length, `${what}: ${name} length`);
    for (let i = 0; i < y.length; i++) assert.ok(Object.is(x[i], y[i]), `${what}: ${name}[${i}] = ${x[i]}, replay ${y[i]}`);
  }
  const describe = (r: AnalysisInput): unknown => {
    const { data: _d, ...photometry } = r.photometry;
    const sleep = r.sleep && { epochS: r.sleep.epochS, startS: r.sleep.startS, envelope: { ...r.sleep.envelope, emgRmsV: null }, bandPower: { stepS: r.sleep.bandPower.stepS, startS: r.sleep.bandPower.startS } };
    return { durationS: r.durationS, photometry, sleep, missing: r.missing };
  };
  assert.deepEqual(describe(a), describe(b), `${what}: scalars, channels and missing`);
}

describe('streaming analysis input (readAnalysisInput) against whole-array reads', function () {
  this.timeout(240_000);
  let tmp: string;
  let sleepRec: string;
  let gapRec: string;
  let plainRec: string;
  let darkRec: string;
  let input: AnalysisInput;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-input-read-'));
    sleepRec = join(tmp, 'sleep');
    gapRec = join(tmp, 'gap');
    plainRec = join(tmp, 'plain');
    await cliAcquire('sim://sleep?seed=29&speed=max', '180s', sleepRec);
    await cliAcquire('sim://sleep?seed=30&speed=max&faults=overrun@30:blocks=40', '140s', gapRec);
    // one detector, 470 nm only, no aux: no control, no blood volume, no EEG/EMG
    const config = join(tmp, 'plain.json');
    await writeFile(config, JSON.stringify({
      mode: 'lock-in', sampleRateHz: 10000, detectors: [0], leds: [{ channel: 1, currentMa: 20, carrierHz: 1150 }], outputRateHz: 100,
    }));
    await cliAcquire('sim://linear?seed=1&speed=max', '10s', plainRec, ['--config', config]);
    // a detector but no LED: no photometry channel at all
    darkRec = join(tmp, 'dark');
    const darkConfig = join(tmp, 'dark.json');
    await writeFile(darkConfig, JSON.stringify({ mode: 'continuous', sampleRateHz: 1000, detectors: [0], leds: [], aux: { inputs: [0, 1], rateHz: 1000 }, outputRateHz: 100 }));
    await cliAcquire('sim://linear?seed=1&speed=max', '2s', darkRec, ['--config', darkConfig]);
    input = await readAnalysisInput(sleepRec);
  });
  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('photometry at 10 Hz: each output is the mean of the finite full-rate samples of its 10-sample block (readRecordingChannels), within 1e-12 relative; t0S is the block centre\'s signalTimeS', async () => {
    const full = await readRecordingChannels(sleepRec);
    const p = input.photometry;
    const factor = full.rateHz / 10;
    assert.equal(p.rateHz, 10);
    assert.equal(p.samples, Math.ceil(full.samples / factor));
    assert.deepEqual(p.channels.map((c) => c.name), full.channels.map((c) => c.name));
    for (const c of full.channels) {
      const x = full.data[c.name]!;
      const expected = Float64Array.from({ length: p.samples }, (_, k) => {
        let s = 0;
        let n = 0;
        for (let i = k * factor; i < Math.min(x.length, (k + 1) * factor); i++) if (Number.isFinite(x[i]!)) { s += x[i]!; n++; }
        return n > 0 ? s / n : Number.NaN;
      });
      assertClose(p.data[c.name]!, expected, 1e-12, c.name);
    }
    const sensor = full.channels.find((c) => c.wavelengthNm === 470)!;
    assert.equal(p.t0S, signalTimeS((factor - 1) / 2, full.rateHz, sensor, {}));
    assert.equal(input.missing.length, 0, `a full sleep recording lacks nothing: ${input.missing.join('; ')}`);
  });

  it('sleep features streamed over replay blocks equal epochFeatures and emgEnvelope on the whole arrays (readAuxVolts) within 1e-12 relative, and the band-power series equals a Welch segment per step', async () => {
    const aux = await readAuxVolts(sleepRec, ['EEG', 'EMG']);
    const eegV = aux.data.EEG!;
    const emgV = aux.data.EMG!;
    const sleep = input.sleep!;
    assert.ok(sleep, 'sim://sleep has EEG and EMG');
    assert.equal(sleep.startS, aux.startS);
    const f = epochFeatures({ eegV, emgV, rateHz: aux.rateHz }, 4, 2);
    for (const k of ['deltaV2', 'thetaV2', 'sigmaV2', 'betaV2', 'emgRmsV'] as const) assertClose(sleep.features[k], f[k], 1e-12, k);
    assertClose(sleep.envelope.emgRmsV, emgEnvelope(emgV, aux.rateHz, 0.5, 0.1), 1e-12, 'envelope');
    const w = new Welch(aux.rateHz, 2 * aux.rateHz);
    const bp = sleep.bandPower;
    assert.equal(bp.deltaV2.length, Math.floor((eegV.length - 2 * aux.rateHz) / aux.rateHz) + 1);
    assert.equal(bp.startS, aux.startS + 1);
    for (const k of [0, 7, bp.deltaV2.length - 1]) {
      w.compute(eegV, k * aux.rateHz, 2 * aux.rateHz);
      assert.ok(Math.abs(bp.thetaV2[k]! - w.bandPower(...EEG_BANDS_HZ.theta)) <= 1e-12 * bp.thetaV2[k]!, `θ at ${k}`);
    }
  });

  it('scoreSleepFeatures on the streamed features gives scoreSleep\'s states, confidence and micro-arousals on the whole arrays', async () => {
    const aux = await readAuxVolts(sleepRec, ['EEG', 'EMG']);
    const whole = scoreSleep({ eegV: aux.data.EEG!, emgV: aux.data.EMG!, rateHz: aux.rateHz, startS: aux.startS });
    const streamed = scoreSleepFeatures(input.sleep!);
    assert.deepEqual(streamed.states, whole.states);
    assertClose(streamed.confidence, whole.confidence, 1e-9, 'confidence', 1e-6);
    assert.equal(streamed.microArousals.length, whole.microArousals.length);
    for (const [i, a] of streamed.microArousals.entries()) {
      assert.ok(Math.abs(a.startS - whole.microArousals[i]!.startS) < 1e-9 && Math.abs(a.endS - whole.microArousals[i]!.endS) < 1e-9, `arousal ${i}`);
    }
  });

  it('a recording with a gap (device ring-buffer overrun): aux NaN over the gap in readAuxVolts, streamed features equal the whole-array ones there too (NaN epochs where the gap falls)', async () => {
    const aux = await readAuxVolts(gapRec, ['EEG', 'EMG']);
    const emgV = aux.data.EMG!;
    assert.ok(emgV.some(Number.isNaN), 'the overrun left a gap');
    const r = await readAnalysisInput(gapRec);
    const f = epochFeatures({ eegV: aux.data.EEG!, emgV, rateHz: aux.rateHz });
    assert.ok(f.emgRmsV.some(Number.isNaN));
    for (const k of ['deltaV2', 'betaV2', 'emgRmsV'] as const) assertClose(r.sleep!.features[k], f[k], 1e-12, k);
    assertClose(r.sleep!.envelope.emgRmsV, emgEnvelope(emgV, aux.rateHz, 0.5, 0.1), 1e-12, 'envelope');
    const full = await readRecordingChannels(gapRec);
    const name = full.channels[0]!.name;
    const x = full.data[name]!;
    const k = r.photometry.data[name]!.findIndex(Number.isNaN);
    assert.ok(k >= 0 && x.subarray(k * 10, k * 10 + 10).every(Number.isNaN), 'a 10 Hz output is NaN exactly where its whole block is missing');
  });

  it('scoring a recording with a gap: refused by default naming the epoch; with missingEpochs \'nearest\' every epoch is scored, the gap\'s epochs with confidence 0 and the nearest scored epoch\'s mixture state', async () => {
    const r = await readAnalysisInput(gapRec);
    const sleep = r.sleep!;
    const bad = [...sleep.features.emgRmsV.keys()].filter((e) => !Number.isFinite(sleep.features.emgRmsV[e]!));
    assert.ok(bad.length > 0 && bad.length < 4, `epochs over the gap: ${bad.join(', ')}`);
    assert.throws(() => scoreSleepFeatures(sleep), (e: unknown) => e instanceof SleepError && e.code === 'E_SLEEP_BAD_INPUT' && e.message.includes(`epoch ${bad[0]} `));
    const scored = scoreSleepFeatures(sleep, { missingEpochs: 'nearest' });
    assert.equal(scored.states.length, sleep.features.emgRmsV.length);
    for (const e of bad) {
      assert.equal(scored.confidence[e], 0);
      // the nearest scored epoch, the earlier on a tie
      let d = 1;
      while (bad.includes(e - d) && bad.includes(e + d)) d++;
      const near = e - d >= 0 && !bad.includes(e - d) ? e - d : e + d;
      assert.equal(scored.mixtureStates[e], scored.mixtureStates[near], `epoch ${e} takes epoch ${near}'s mixture state`);
    }
    assert.ok(scored.confidence.every((c, e) => bad.includes(e) || c > 0));
  });

  it('SleepFeatureStream fed in chunks of 1 to 5000 samples with NaN runs equals epochFeatures and emgEnvelope on the joined array (1e-12 relative)', () => {
    const rateHz = 256;
    const n = 200 * rateHz + 77;
    const eeg = signal(n, 1, rateHz);
    const emg = signal(n, 2, rateHz);
    for (const [a, len] of [[3000, 10], [20_000, 700], [20_700, 1]] as const) { eeg.fill(Number.NaN, a, a + len); emg.fill(Number.NaN, a, a + len); }
    const s = new SleepFeatureStream({ rateHz, epochS: 4, welchSegmentS: 2, envelopeWindowS: 0.5, envelopeStepS: 0.1, bandPowerStepS: 1 });
    const sizes = [1, 5000, 13, 256, 999, 2, 4096];
    for (let i = 0, q = 0; i < n; q++) {
      const c = Math.min(n - i, sizes[q % sizes.length]!);
      s.add(eeg.slice(i, i + c), emg.slice(i, i + c), c);
      i += c;
    }
    const out = s.finish(0);
    const f = epochFeatures({ eegV: eeg, emgV: emg, rateHz });
    for (const k of ['deltaV2', 'thetaV2', 'sigmaV2', 'betaV2', 'emgRmsV'] as const) assertClose(out.features[k], f[k], 1e-12, k);
    assertClose(out.envelope.emgRmsV, emgEnvelope(emg, rateHz, 0.5, 0.1), 1e-12, 'envelope');
    assert.ok(out.features.emgRmsV.some(Number.isNaN) && out.features.emgRmsV.some(Number.isFinite));
  });

  it('SleepFeatureStream with a band step off the segment grid (0.7 s) and 5 s epochs: epochs equal epochFeatures, every band value a Welch segment at k·step (1e-12 relative)', () => {
    const rateHz = 200;
    const n = 120 * rateHz + 31;
    const eeg = signal(n, 3, rateHz);
    const emg = signal(n, 4, rateHz);
    const s = new SleepFeatureStream({ rateHz, epochS: 5, welchSegmentS: 2, envelopeWindowS: 0.5, envelopeStepS: 0.1, bandPowerStepS: 0.7 });
    for (let i = 0, q = 0; i < n; q++) {
      const c = Math.min(n - i, [333, 7, 1200][q % 3]!);
      s.add(eeg.slice(i, i + c), emg.slice(i, i + c), c);
      i += c;
    }
    const out = s.finish(0);
    const f = epochFeatures({ eegV: eeg, emgV: emg, rateHz }, 5, 2);
    for (const k of ['deltaV2', 'thetaV2', 'sigmaV2', 'betaV2', 'emgRmsV'] as const) assertClose(out.features[k], f[k], 1e-12, k);
    const hop = 0.7 * rateHz;
    const w = new Welch(rateHz, 2 * rateHz);
    assert.equal(out.bandPower.deltaV2.length, Math.floor((n - 2 * rateHz) / hop) + 1);
    for (let k = 0; k < out.bandPower.deltaV2.length; k++) {
      w.compute(eeg, k * hop, 2 * rateHz);
      for (const [key, band] of [['deltaV2', 'delta'], ['thetaV2', 'theta'], ['sigmaV2', 'sigma'], ['betaV2', 'beta']] as const) {
        const [lo, hi] = EEG_BANDS_HZ[band];
        const want = w.bandPower(lo, hi);
        assert.ok(Math.abs(out.bandPower[key][k]! - want) <= 1e-12 * want, `${key}[${k}] = ${out.bandPower[key][k]}, expected ${want}`);
      }
    }
  });

  it('a recording without aux, 405 or 560 nm channels: missing says in words no sleep scoring, no isosbestic correction, no haemodynamic correction; photometry still read', async () => {
    const r = await readAnalysisInput(plainRec);
    assert.equal(r.sleep, null);
    assert.ok(r.photometry.samples >= 99 && r.photometry.channels.length === 1, `${r.photometry.samples} samples of ${r.photometry.channels.map((c) => c.name).join(', ')}`);
    const text = r.missing.join('\n');
    assert.match(text, /no EEG\/EMG aux channels.*no sleep scoring/);
    assert.match(text, /no isosbestic control.*no isosbestic correction/);
    assert.match(text, /no blood-volume channel.*no haemodynamic correction/);
  });

  it('a recording without any photometry channel (no LED configured): AnalysisError E_ANALYSIS_NO_CHANNEL saying to record with an LED', async () => {
    await assert.rejects(readAnalysisInput(darkRec), (e: unknown) => e instanceof AnalysisError && e.code === 'E_ANALYSIS_NO_CHANNEL' && /no photometry channel.*record with at least one LED/.test(e.message));
  });

  it('a named aux channel the recording lacks, and an analysis rate that does not divide the signal rate: AnalysisError with what to do', async () => {
    await assert.rejects(readAnalysisInput(plainRec, { eeg: 'EEG2' }), (e: unknown) => e instanceof AnalysisError && e.code === 'E_ANALYSIS_NO_CHANNEL' && /no aux channel "EEG2"/.test(e.message));
    await assert.rejects(readAnalysisInput(plainRec, { analysisRateHz: 7 }), (e: unknown) => e instanceof AnalysisError && e.code === 'E_ANALYSIS_BAD_INPUT' && /divisor/.test(e.message));
  });
  it('the acquisition wrote analysis-input.bin and readAnalysisInput reads it: every array bit for bit and every scalar equal to a replay of the raw log (the sleep recording, and one with an overrun gap)', async () => {
    for (const rec of [sleepRec, gapRec]) {
      const session = await readSession(rec);
      assert.ok(session?.derivedFiles.includes(ANALYSIS_INPUT_FILE_NAME), `session.json lists ${ANALYSIS_INPUT_FILE_NAME}: ${session?.derivedFiles.join(', ')}`);
      const fromFile = await readAnalysisInput(rec);
      const replayed = await readAnalysisInput(rec, {}, { derived: false });
      assert.equal(fromFile.source, 'derived file');
      assert.equal(replayed.source, 'raw log');
      assertSameInput(fromFile, replayed, rec);
    }
  });

  it('the raw log is replayed instead when analysis-input.bin does not fit: other settings, a demod override, a bit flipped or a truncated file, a session that did not end, an acquisition without LEDs (no file)', async () => {
    assert.equal((await readAnalysisInput(sleepRec, { epochS: 8 })).source, 'raw log');
    assert.equal((await readAnalysisInput(sleepRec, { eeg: 'EEG' })).source, 'raw log', 'a channel named explicitly is another setting');
    assert.equal((await readAnalysisInput(sleepRec, {}, { demod: { lowpassHz: 5 } })).source, 'raw log');
    const copy = join(tmp, 'copy');
    await cp(sleepRec, copy, { recursive: true });
    const file = join(copy, ANALYSIS_INPUT_FILE_NAME);
    const good = await readFile(file);
    const flipped = Buffer.from(good);
    flipped.writeUInt8(flipped[flipped.length >> 1]! ^ 0x10, flipped.length >> 1);
    await writeFile(file, flipped);
    assert.equal((await readAnalysisInput(copy)).source, 'raw log', 'bit flipped');
    await writeFile(file, good.subarray(0, good.length - 9));
    assert.equal((await readAnalysisInput(copy)).source, 'raw log', 'truncated');
    await writeFile(file, good);
    assert.equal((await readAnalysisInput(copy)).source, 'derived file', 'restored');
    const session = JSON.parse(await readFile(join(copy, SESSION_FILE_NAME), 'utf8')) as Record<string, unknown>;
    delete session.end;
    await writeFile(join(copy, SESSION_FILE_NAME), JSON.stringify(session));
    assert.equal((await readAnalysisInput(copy)).source, 'raw log', 'session without end');
    const darkSession = await readSession(darkRec);
    assert.ok(darkSession && !darkSession.derivedFiles.includes(ANALYSIS_INPUT_FILE_NAME), `no analysis input without an LED: ${darkSession?.derivedFiles.join(', ')}`);
  });
});
