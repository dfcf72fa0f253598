// The oscillation analysis on synthetic traces with known answers: bridging, isolation, NaN gaps,
// PSD per state, degenerate input and typed errors.
import assert from 'node:assert/strict';
import { AnalysisError } from '../../../../host/analysis/errors.ts';
import { analyzeOscillation, type OscillationInput } from '../../../../host/analysis/oscillation/index.ts';
import { hypnogramRuns, nremBouts } from '../../../../host/analysis/oscillation/bouts.ts';
import { isolatedOnsets } from '../../../../host/analysis/oscillation/locked.ts';
import type { SleepState } from '../../../../host/analysis/sleep/index.ts';

const RATE_HZ = 10;
const EPOCH_S = 4;

/** States per 4 s epoch from [state, seconds] runs (seconds multiple of 4). */
function states(...runs: Array<[SleepState, number]>): SleepState[] {
  return runs.flatMap(([s, d]) => new Array<SleepState>(d / EPOCH_S).fill(s));
}

function sine(durationS: number, freqHz: number, amplitudePct: number, delayS = 0, phase = 0.3): Float64Array {
  return Float64Array.from({ length: durationS * RATE_HZ }, (_, i) => amplitudePct * Math.sin(2 * Math.PI * freqHz * (i / RATE_HZ - delayS) + phase));
}

function input(nePct: Float64Array, hyp: SleepState[], extra: Partial<OscillationInput> = {}): OscillationInput {
  return {
    rateHz: RATE_HZ, startS: 0, nePct, bloodVolumePct: null,
    hypnogram: { epochS: EPOCH_S, startS: 0, states: hyp }, microArousals: [], eegBandPower: null, ...extra,
  };
}

function isBadInput(re: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof AnalysisError, String(e));
    assert.equal(e.code, 'E_ANALYSIS_BAD_INPUT');
    assert.match(e.message, re);
    return true;
  };
}

describe('NE oscillation analysis: synthetic traces', () => {
  it('a pure 0.02 Hz sine (1 h of NREM): peak 0.02 Hz ± 0.001 Hz (the PSD resolution), summary and bout; PSD grid 0..0.1 Hz step 0.001', () => {
    const r = analyzeOscillation(input(sine(3600, 0.02, 2), states(['nrem', 3600])));
    assert.equal(r.bouts.length, 1);
    assert.ok(Math.abs(r.summary.peakFrequencyHz - 0.02) <= 0.001, `summary ${r.summary.peakFrequencyHz}`);
    assert.ok(Math.abs(r.bouts[0]!.peakFrequencyHz - 0.02) <= 0.001, `bout ${r.bouts[0]!.peakFrequencyHz}`);
    const psd = r.nePsd!;
    assert.equal(psd.frequencyHz.length, 101);
    assert.ok(Math.abs(psd.frequencyHz[100]! - 0.1) < 1e-12 && psd.frequencyHz[1] === 0.001);
    let best = 0;
    for (let k = 0; k < 101; k++) if (psd.powerPct2PerHz[k]! > psd.powerPct2PerHz[best]!) best = k;
    assert.equal(best, 20);
    assert.equal(psd.durationS, 3600);
  });

  it('a 0.037 Hz sine off the grid: peak within 0.0005 Hz (parabolic refinement between bins)', () => {
    const r = analyzeOscillation(input(sine(3600, 0.037, 2), states(['nrem', 3600])));
    assert.ok(Math.abs(r.summary.peakFrequencyHz - 0.037) <= 0.0005, `${r.summary.peakFrequencyHz}`);
  });

  it('band power below 0.03 Hz of a sine of amplitude A = A²/2 within 5 %; a 0.05 Hz sine puts < 2 % of its power there', () => {
    const r = analyzeOscillation(input(sine(3600, 0.02, 2), states(['nrem', 3600])));
    assert.ok(Math.abs(r.summary.bandPowerPct2 / 2 - 1) <= 0.05, `${r.summary.bandPowerPct2} %²`);
    const fast = analyzeOscillation(input(sine(3600, 0.05, 2), states(['nrem', 3600])));
    assert.ok(fast.summary.bandPowerPct2 < 0.02 * 2, `${fast.summary.bandPowerPct2} %²`);
  });

  it('cycle amplitude of a sine of amplitude A = 2A within 2 %, one cycle per period; extrema alternate', () => {
    const r = analyzeOscillation(input(sine(1000, 0.02, 1.5), states(['nrem', 1000])));
    assert.ok(Math.abs(r.summary.cycleAmplitudePct / 3 - 1) <= 0.02, `${r.summary.cycleAmplitudePct} %`);
    assert.ok(Math.abs(r.bouts[0]!.cycles - 19) <= 1, `${r.bouts[0]!.cycles} cycles in 20 periods`);
    for (let i = 1; i < r.extrema.length; i++) assert.notEqual(r.extrema[i]!.kind, r.extrema[i - 1]!.kind);
    for (const e of r.extrema.filter((x) => x.kind === 'peak')) {
      // sin peaks where 2π·0.02·t + 0.3 = π/2 + 2πk
      const phase = (((2 * Math.PI * 0.02 * e.tS + 0.3 - Math.PI / 2) % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);
      assert.ok(Math.min(phase, 2 * Math.PI - phase) < 0.05, `peak at ${e.tS} s off by ${phase} rad`);
    }
  });

  it('blood volume = -NE delayed 3 s: lag +3 s ± 0.1 s and r < -0.99; delayed -4 s (leading NE): lag -4 s ± 0.1 s', () => {
    const ne = sine(1200, 0.02, 2);
    const noise = (i: number): number => 0.3 * Math.sin(i * 1.7) * Math.cos(i * 0.31); // de-correlated wiggle
    for (const delayS of [3, -4]) {
      const bv = sine(1200, 0.02, 2, delayS).map((v, i) => -0.4 * v + 0.01 * noise(i));
      const r = analyzeOscillation(input(ne, states(['nrem', 1200]), { bloodVolumePct: bv }));
      const cc = r.bouts[0]!.crossCorrelation!;
      assert.ok(Math.abs(cc.lagS - delayS) <= 0.1, `delay ${delayS}: lag ${cc.lagS} s`);
      assert.ok(cc.peakR < -0.99, `r ${cc.peakR}`);
      assert.ok(Math.abs(r.summary.neBloodVolumeLagS - delayS) <= 0.1);
      assert.ok(r.bloodVolumePsd && Math.abs(r.bloodVolumePsd.frequencyHz.length - 101) === 0);
    }
  });

  it('bridging: wake of 16 s inside NREM is bridged (one bout, 1 micro-arousal), 24 s is not (> bridgeMaxS 20 s), REM never; bouts < minBoutS dropped', () => {
    const hyp = states(['wake', 100], ['nrem', 300], ['wake', 16], ['nrem', 300], ['wake', 24], ['nrem', 240], ['rem', 8], ['nrem', 196], ['wake', 100]);
    const bouts = nremBouts(hypnogramRuns({ epochS: EPOCH_S, startS: 0, states: hyp }), 20);
    assert.deepEqual(bouts.map((b) => [b.startS, b.endS, b.bridged.length]), [[100, 716, 1], [740, 980, 0], [988, 1184, 0]]);
    const total = hyp.length * EPOCH_S;
    const r = analyzeOscillation(input(sine(total, 0.02, 1), hyp, {
      // one listed micro-arousal inside the first NREM run (scored NREM: shorter than an epoch's majority) and one on the bridged wake
      microArousals: [{ startS: 250, endS: 251.5 }, { startS: 401, endS: 414 }],
    }));
    assert.deepEqual(r.bouts.map((b) => [b.startS, b.endS, b.microArousals]), [[100, 716, 2], [740, 980, 0]]);
    const wider = analyzeOscillation(input(sine(total, 0.02, 1), hyp), { bridgeMaxS: 24, minBoutS: 150 });
    assert.deepEqual(wider.bouts.map((b) => [b.startS, b.endS, b.microArousals]), [[100, 980, 2], [988, 1184, 0]]);
  });

  it('session time: traces starting at 1000.3 s and a hypnogram starting at 1002 s give bouts on the session clock, clipped to the data', () => {
    const hyp = states(['wake', 100], ['nrem', 400], ['wake', 100], ['nrem', 800]);
    const r = analyzeOscillation({ ...input(sine(1300, 0.02, 1), hyp), startS: 1000.3, hypnogram: { epochS: EPOCH_S, startS: 1002, states: hyp } });
    // NREM runs 1102–1502 s and 1602–2402 s; the data (samples every 0.1 s from 1000.3 s) end at 2300.3 s
    assert.deepEqual(r.bouts.map((b) => [b.startS.toFixed(1), b.endS.toFixed(1)]), [['1102.0', '1502.0'], ['1602.0', '2300.3']]);
    for (const e of r.extrema) assert.ok(e.tS >= 1102 && e.tS <= 2300.3);
  });

  it('isolation: a micro-arousal counts only with no other onset within isolationS (50 s) before or after; exactly 50 s apart is isolated', () => {
    const mas = [1000, 1030, 1200, 1400, 1449, 1600, 1650].map((s) => ({ startS: s, endS: s + 5 }));
    assert.deepEqual(isolatedOnsets(mas, 50), [1200, 1600, 1650]);
    assert.deepEqual(isolatedOnsets(mas, 50.5), [1200]);
    assert.deepEqual(isolatedOnsets(mas, 10), [1000, 1030, 1200, 1400, 1449, 1600, 1650]);
  });

  it('locked averages: a step at every onset shows at lag 0 with SEM 0; EEG power on its own 1 s grid is interpolated at the lags; only isolated events', () => {
    const total = 3000;
    const onsets = [500, 900, 1300, 1330, 2000];
    const ne = Float64Array.from({ length: total * RATE_HZ }, (_, i) => (onsets.some((o) => i / RATE_HZ >= o && i / RATE_HZ < o + 10) ? 5 : 0));
    const ramp = Float64Array.from({ length: total }, (_, k) => k + 0.5); // value = time of its centre
    const r = analyzeOscillation(input(ne, states(['nrem', total]), {
      microArousals: onsets.map((s) => ({ startS: s, endS: s + 10 })),
      eegBandPower: { stepS: 1, startS: 0.5, deltaV2: ramp, thetaV2: ramp, sigmaV2: ramp, betaV2: ramp },
      others: { CSF: ne },
    }));
    const locked = r.locked!;
    assert.equal(locked.lagS.length, 1001);
    const at = (lag: number): number => locked.lagS.findIndex((l) => Math.abs(l - lag) < 1e-9);
    const neAvg = locked.traces.NE!;
    assert.equal(neAvg.events, 3); // 1300 and 1330 are not isolated
    assert.equal(neAvg.mean[at(-0.1)], 0);
    assert.equal(neAvg.mean[at(0)], 5);
    assert.equal(neAvg.mean[at(9.9)], 5);
    assert.equal(neAvg.sem[at(5)], 0);
    assert.equal(neAvg.unit, '%');
    assert.deepEqual(locked.traces.CSF!.mean, neAvg.mean);
    const delta = locked.traces.delta!;
    assert.equal(delta.unit, 'V²');
    // mean of (onset + lag) over 500, 900, 2000
    assert.ok(Math.abs(delta.mean[at(-12.3)]! - (3400 / 3 - 12.3)) < 1e-9, `${delta.mean[at(-12.3)]}`);
    assert.ok(delta.sem[at(0)]! > 0);
  });

  it('NaN gaps: a 3 s gap is interpolated, a 60 s gap splits the bout; no NaN reaches any PSD, figure or cross-correlation', () => {
    const ne = sine(1800, 0.02, 2);
    const bv = sine(1800, 0.02, 2, 3).map((v) => -0.4 * v);
    ne.fill(NaN, 400 * RATE_HZ, 403 * RATE_HZ);
    ne.fill(NaN, 900 * RATE_HZ, 960 * RATE_HZ);
    bv.fill(NaN, 600 * RATE_HZ, 602 * RATE_HZ);
    bv.fill(NaN, 1300 * RATE_HZ, 1340 * RATE_HZ);
    ne[0] = NaN;
    const r = analyzeOscillation(input(ne, states(['nrem', 1800]), { bloodVolumePct: bv }));
    assert.deepEqual(r.bouts.map((b) => [b.startS, b.endS]), [[0.1, 900], [960, 1800]]);
    for (const psd of [r.nePsd!, r.bloodVolumePsd!, r.psdByState.nrem!]) {
      assert.ok(psd.powerPct2PerHz.every(Number.isFinite), 'PSD has a non-finite bin');
    }
    for (const b of r.bouts) {
      assert.ok(Math.abs(b.peakFrequencyHz - 0.02) <= 0.001, `${b.peakFrequencyHz}`);
      assert.ok(Number.isFinite(b.cycleAmplitudePct) && Number.isFinite(b.bandPowerPct2));
      assert.ok(Math.abs(b.crossCorrelation!.lagS - 3) <= 0.1 && b.crossCorrelation!.peakR < -0.95, JSON.stringify(b.crossCorrelation));
    }
    for (const v of Object.values(r.summary)) assert.ok(Number.isFinite(v));
    assert.ok(r.extrema.every((e) => Number.isFinite(e.valuePct) && Number.isFinite(e.tS)));
  });

  it('PSD by state: 0.05 Hz in wake, 0.02 Hz in NREM (each within 0.001 Hz); REM shorter than one Welch segment has none', () => {
    const hyp = states(['wake', 600], ['nrem', 1200], ['rem', 100], ['wake', 400]);
    const total = 2300;
    const f = (t: number): number => (t < 600 || t >= 1900 ? 0.05 : 0.02);
    const ne = Float64Array.from({ length: total * RATE_HZ }, (_, i) => Math.sin(2 * Math.PI * f(i / RATE_HZ) * (i / RATE_HZ)));
    const r = analyzeOscillation(input(ne, hyp));
    const peak = (p: { frequencyHz: Float64Array; powerPct2PerHz: Float64Array }): number => {
      let best = 1;
      for (let k = 1; k < p.powerPct2PerHz.length; k++) if (p.powerPct2PerHz[k]! > p.powerPct2PerHz[best]!) best = k;
      return p.frequencyHz[best]!;
    };
    assert.ok(Math.abs(peak(r.psdByState.wake!) - 0.05) <= 0.001);
    assert.ok(Math.abs(peak(r.psdByState.nrem!) - 0.02) <= 0.001);
    assert.equal(r.psdByState.wake!.durationS, 1000);
    assert.equal(r.psdByState.rem, null);
  });
});

describe('NE oscillation analysis: degenerate input', () => {
  it('no NREM bout long enough: bouts [], summary NaN, PSDs null (no throw)', () => {
    for (const hyp of [states(['wake', 600]), states(['wake', 200], ['nrem', 196], ['wake', 204])]) {
      const r = analyzeOscillation(input(sine(600, 0.02, 1), hyp));
      assert.deepEqual(r.bouts, []);
      assert.equal(r.summary.bouts, 0);
      assert.equal(r.summary.analysedS, 0);
      for (const k of ['peakFrequencyHz', 'bandPowerPct2', 'cycleAmplitudePct', 'neBloodVolumeR', 'neBloodVolumeLagS'] as const) assert.ok(Number.isNaN(r.summary[k]), k);
      assert.equal(r.nePsd, null);
      assert.equal(r.bloodVolumePsd, null);
      assert.deepEqual(r.extrema, []);
      assert.equal(r.locked, null);
    }
  });

  it('an all-NaN trace and an empty hypnogram give empty results, not a throw', () => {
    const r = analyzeOscillation(input(new Float64Array(6000).fill(NaN), states(['nrem', 600])));
    assert.deepEqual(r.bouts, []);
    assert.equal(r.psdByState.nrem, null);
    assert.deepEqual(analyzeOscillation(input(sine(600, 0.02, 1), [])).bouts, []);
  });

  it('mismatched lengths and bad options are AnalysisError E_ANALYSIS_BAD_INPUT saying what to do', () => {
    const ne = sine(600, 0.02, 1);
    const hyp = states(['nrem', 600]);
    assert.throws(() => analyzeOscillation(input(ne, hyp, { bloodVolumePct: new Float64Array(10) })), isBadInput(/bloodVolumePct has 10 samples.*same time base/));
    assert.throws(() => analyzeOscillation(input(ne, hyp, { others: { CSF: new Float64Array(5) } })), isBadInput(/"CSF" has 5 samples/));
    const band = new Float64Array(600);
    assert.throws(
      () => analyzeOscillation(input(ne, hyp, { eegBandPower: { stepS: 1, startS: 0, deltaV2: band, thetaV2: band, sigmaV2: band, betaV2: new Float64Array(3) } })),
      isBadInput(/bands differ in length/),
    );
    assert.throws(() => analyzeOscillation(input(ne, hyp), { minBoutS: -1 }), isBadInput(/minBoutS must be a positive/));
    assert.throws(() => analyzeOscillation(input(ne, hyp), { psdMaxHz: 6 }), isBadInput(/below half the sample rate/));
    assert.throws(() => analyzeOscillation(input(ne, hyp), { bandMaxHz: 0.2 }), isBadInput(/bandMaxHz/));
    assert.throws(() => analyzeOscillation({ ...input(ne, hyp), rateHz: 0 }), isBadInput(/rateHz/));
    assert.throws(() => analyzeOscillation(input(ne, hyp, { others: { delta: ne } })), isBadInput(/"delta" is taken.*rename/));
    assert.throws(() => analyzeOscillation(input(ne, ['nrem', 'deep' as SleepState])), isBadInput(/"deep"/));
  });

  it('settings carry every option with its default, overridden ones as given', () => {
    const r = analyzeOscillation(input(sine(600, 0.02, 1), states(['nrem', 600])), { minBoutS: 300 });
    assert.equal(r.settings.minBoutS, 300);
    assert.equal(r.settings.bridgeMaxS, 20);
    assert.equal(r.settings.psdResolutionHz, 0.001);
    assert.equal(r.settings.welchSegmentS, 200);
    assert.deepEqual(Object.keys(analyzeOscillation(input(sine(600, 0.02, 1), states(['nrem', 600])), { extra: 1 } as never).settings).sort(), Object.keys(r.settings).sort());
  });
});
