// Corrected signals on synthetic channels built from the model README.md states:
// ln F_λ = ln B_λ(t) + m(t) − h_λ·v(t) (+ ln(1 + s(t)) for the sensor), with
// bleaching B, shared motion m, blood-volume change v and the sensor's own change s.
import assert from 'node:assert/strict';
import { AnalysisError, correctChannels, correctSignal, measureAutofluorescence, type RecordingChannels, robustRegression, zScore } from '../../../host/analysis/index.ts';
import { bloodExtinctionPerCmPerM } from '../../../protocol/src/haemoglobin.ts';
import type { SignalChannel } from '../../../host/pipeline/demodulate.ts';
import { rng } from '../dsp/synth.ts';

const rateHz = 10;
const seconds = 3600;
const H = { sensor: 0.35, control: 1.2, bloodVolume: 0.45 };

interface Synth { tS: Float64Array; sensor: Float64Array; control: Float64Array; bloodVolume: Float64Array; s: Float64Array; v: Float64Array }

/** NE-like 0.02 Hz oscillation s, blood volume v following it in anti-phase 3 s later, motion dips, bleaching. */
function synth(seed: number, noise = 0, h: { sensor: number; control: number; bloodVolume: number } = H): Synth {
  const r = rng(seed);
  const n = seconds * rateHz;
  const out: Synth = { tS: new Float64Array(n), sensor: new Float64Array(n), control: new Float64Array(n), bloodVolume: new Float64Array(n), s: new Float64Array(n), v: new Float64Array(n) };
  const osc = (t: number): number => 0.04 * Math.sin(2 * Math.PI * 0.02 * t) + 0.01 * Math.sin(2 * Math.PI * 0.053 * t);
  for (let i = 0; i < n; i++) {
    const t = i / rateHz;
    const s = osc(t);
    const v = -0.4 * osc(t - 3) + 0.01 * Math.sin(2 * Math.PI * 0.011 * t);
    const m = Math.floor(t / 300) % 2 === 1 && t % 300 < 2 ? -0.2 : 0; // 2 s dips every 10 min
    const bleach = (a: number): number => a * (1 + 0.2 * Math.exp(-t / 200) + 0.1 * Math.exp(-t / 3000));
    out.tS[i] = t;
    out.s[i] = s;
    out.v[i] = v;
    out.sensor[i] = bleach(1000) * Math.exp(m - h.sensor * v) * (1 + s) * (1 + noise * r.gauss());
    out.control[i] = bleach(600) * Math.exp(m - h.control * v) * (1 + noise * r.gauss());
    out.bloodVolume[i] = bleach(800) * Math.exp(m - h.bloodVolume * v) * (1 + v) * (1 + noise * r.gauss());
  }
  out.sensor[5] = Number.NaN; // a missing sample stays NaN and does not spoil the fits
  return out;
}

/**
 * Largest |dff/100 − s| after the first 10 minutes (where the bleaching fit's fast
 * exponential is least certain: ~0.008 dF/F at t = 0 on a clean 1 h trace), after
 * removing the mean offset (the median baseline).
 */
const SKIP = 600 * rateHz;
function maxError(dffPercent: Float64Array, s: Float64Array): number {
  let off = 0;
  let n = 0;
  for (let i = SKIP; i < s.length; i++) if (Number.isFinite(dffPercent[i]!)) { off += dffPercent[i]! / 100 - s[i]!; n++; }
  off /= n;
  let e = 0;
  for (let i = SKIP; i < s.length; i++) if (Number.isFinite(dffPercent[i]!)) e = Math.max(e, Math.abs(dffPercent[i]! / 100 - s[i]! - off));
  return e;
}

describe('analysis: corrected signals (synthetic, model-exact)', () => {
  const d = synth(3);

  it('haemodynamic with the true coefficients recovers the sensor change within 0.002 dF/F after 10 min (bleaching, motion dips and blood volume removed)', () => {
    const r = correctSignal(d, { method: 'haemodynamic', coefficients: H });
    assert.equal(r.method, 'haemodynamic');
    assert.ok(Number.isNaN(r.dffPercent[5]!));
    const e = maxError(r.dffPercent, d.s);
    assert.ok(e < 0.002, `max error ${e}`);
    // and the blood-volume estimate follows v within 0.002
    assert.ok(maxError(Float64Array.from(r.bloodVolumeChange!, (x) => x * 100), d.v) < 0.002);
  });

  it('haemodynamic with coefficients known only up to scale (x2.5) and fitScale recovers the scale within 2 % and the sensor within 0.003 dF/F after 10 min', () => {
    const rel = { sensor: H.sensor * 2.5, control: H.control * 2.5, bloodVolume: H.bloodVolume * 2.5 };
    const r = correctSignal(d, { method: 'haemodynamic', coefficients: rel, fitScale: true });
    assert.ok(Math.abs(r.scale! * 2.5 - 1) < 0.02, `scale ${r.scale}`);
    const e = maxError(r.dffPercent, d.s);
    assert.ok(e < 0.003, `max error ${e}`);
  });

  it('without correction, and with the isosbestic fit, the blood-volume artefact stays (error > 0.005 dF/F): the confound the haemodynamic method exists for', () => {
    const none = correctSignal(d, { method: 'none' });
    const iso = correctSignal(d, { method: 'isosbestic' });
    assert.ok(maxError(none.dffPercent, d.s) > 0.005, `none ${maxError(none.dffPercent, d.s)}`);
    assert.ok(maxError(iso.dffPercent, d.s) > 0.005, `isosbestic ${maxError(iso.dffPercent, d.s)}`);
  });

  it('isosbestic removes motion and bleaching when there is no blood-volume change (error < 0.006 dF/F after 10 min; the slope is set by six 2 s dips, so it is ~2 % off)', () => {
    const n = d.tS.length;
    const control = new Float64Array(n);
    const sensor = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      control[i] = d.control[i]! * Math.exp(H.control * d.v[i]!); // undo the blood terms
      sensor[i] = d.sensor[i]! * Math.exp(H.sensor * d.v[i]!);
    }
    const r = correctSignal({ tS: d.tS, sensor, control }, { method: 'isosbestic' });
    const e = maxError(r.dffPercent, d.s);
    assert.ok(e < 0.006, `max error ${e}`);
    assert.ok(Math.abs(r.isosbesticFit!.slope - 1) < 0.05, `slope ${r.isosbesticFit!.slope}`);
  });

  it('the default method is haemodynamic with a blood-volume channel and coefficients, isosbestic with only a control, none with neither', () => {
    assert.equal(correctSignal(d, { coefficients: H }).method, 'haemodynamic');
    assert.equal(correctSignal(d).method, 'isosbestic');
    assert.equal(correctSignal({ tS: d.tS, sensor: d.sensor, control: d.control }).method, 'isosbestic');
    assert.equal(correctSignal({ tS: d.tS, sensor: d.sensor }).method, 'none');
  });

  it('a method without its channel throws E_ANALYSIS_NO_CHANNEL; mismatched lengths E_ANALYSIS_BAD_INPUT', () => {
    const code = (f: () => unknown): string => {
      try { f(); } catch (e) { assert.ok(e instanceof AnalysisError); return e.code; }
      return 'none';
    };
    assert.equal(code(() => correctSignal({ tS: d.tS, sensor: d.sensor }, { method: 'haemodynamic' })), 'E_ANALYSIS_NO_CHANNEL');
    assert.equal(code(() => correctSignal({ tS: d.tS, sensor: d.sensor }, { method: 'isosbestic' })), 'E_ANALYSIS_NO_CHANNEL');
    assert.equal(code(() => correctSignal({ tS: d.tS, sensor: d.sensor.subarray(1) })), 'E_ANALYSIS_BAD_INPUT');
    assert.equal(code(() => correctSignal(d, { method: 'haemodynamic' })), 'E_ANALYSIS_BAD_INPUT'); // no coefficients
    assert.equal(code(() => correctSignal({ tS: d.tS, sensor: d.sensor, bloodVolume: d.bloodVolume }, { coefficients: H, fitScale: true })), 'E_ANALYSIS_NO_CHANNEL');
  });
});

describe('analysis: patch-cord autofluorescence (an offset outside the multiplicative model)', () => {
  const d = synth(5);
  // constant light that never crosses tissue, ~15 % of the control and ~6 % of the sensor (the simulated rig's shares)
  const AF = { control: 110, sensor: 64, bloodVolume: 4 };
  const withAf = { ...d, control: d.control.map((x) => x + AF.control), sensor: d.sensor.map((x) => x + AF.sensor), bloodVolume: d.bloodVolume.map((x) => x + AF.bloodVolume) };

  it('left in, it dilutes each channel\'s blood response differently: the fitted-scale correction is off by > 0.004 dF/F; subtracted, back within 0.003 dF/F after 10 min', () => {
    const rel = { sensor: H.sensor * 2.5, control: H.control * 2.5, bloodVolume: H.bloodVolume * 2.5 };
    const left = maxError(correctSignal(withAf, { method: 'haemodynamic', coefficients: rel, fitScale: true }).dffPercent, d.s);
    const r = correctSignal(withAf, { method: 'haemodynamic', coefficients: rel, fitScale: true, autofluorescence: AF });
    const fixed = maxError(r.dffPercent, d.s);
    assert.ok(left > 0.004, `left in: max error ${left}`);
    assert.ok(fixed < 0.003, `subtracted: max error ${fixed}`);
    assert.deepEqual(r.autofluorescence, AF);
  });

  it('by channel name through correctChannels; a negative or non-finite offset throws E_ANALYSIS_BAD_INPUT', () => {
    const ch = (name: string, inputId: number, wavelengthNm: number): SignalChannel => ({ name, source: 'detector', inputId, wavelengthNm, voltsPerCode: 1, groupDelayS: 0 });
    const rec: RecordingChannels = {
      path: 'synthetic', rateHz, samples: d.tS.length,
      channels: [ch('405nm@det0', 0, 405), ch('470nm@det0', 0, 470), ch('560nm@det1', 1, 560)],
      data: { '405nm@det0': withAf.control, '470nm@det0': withAf.sensor, '560nm@det1': withAf.bloodVolume },
    };
    const table = [[405, H.control], [470, H.sensor], [560, H.bloodVolume]] as const;
    const r = correctChannels(rec, { absorption: table, autofluorescence: { '405nm@det0': AF.control, '470nm@det0': AF.sensor, '560nm@det1': AF.bloodVolume } });
    assert.deepEqual(r.corrected[0]!.autofluorescence, AF);
    assert.ok(maxError(r.corrected[0]!.dffPercent, d.s) < 0.003);
    for (const bad of [-1, Number.NaN]) {
      assert.throws(() => correctSignal(withAf, { method: 'none', autofluorescence: { sensor: bad } }), (e: unknown) => e instanceof AnalysisError && e.code === 'E_ANALYSIS_BAD_INPUT' && /capped/.test(e.message));
    }
  });

  it('measureAutofluorescence: the median of each channel of a capped-fiber recording after the settling second, by name', () => {
    const n = 50;
    const x = Float64Array.from({ length: n }, (_, i) => (i < rateHz ? 1000 : 40 + (i % 3)));
    x[20] = Number.NaN;
    const rec: RecordingChannels = {
      path: 'capped', rateHz, samples: n,
      channels: [{ name: '470nm@det0', source: 'detector', inputId: 0, wavelengthNm: 470, voltsPerCode: 1, groupDelayS: 0 }],
      data: { '470nm@det0': x },
    };
    assert.deepEqual(measureAutofluorescence(rec), { '470nm@det0': 41 });
  });
});

describe('analysis: channel roles of a recording', () => {
  const d = synth(4);
  const ch = (name: string, inputId: number, wavelengthNm: number): SignalChannel => ({ name, source: 'detector', inputId, wavelengthNm, voltsPerCode: 1, groupDelayS: 0.04 });
  const rec = (withRed: boolean): RecordingChannels => ({
    path: 'synthetic', rateHz, samples: d.tS.length,
    channels: [ch('405nm@det0', 0, 405), ch('470nm@det0', 0, 470), ...(withRed ? [ch('470nm@det1', 1, 470), ch('560nm@det1', 1, 560)] : [])],
    data: { '405nm@det0': d.control, '470nm@det0': d.sensor, '470nm@det1': d.bloodVolume.map((x) => x * 0.01), '560nm@det1': d.bloodVolume },
  });
  const table = [[405, H.control], [470, H.sensor], [560, H.bloodVolume]] as const;

  it('picks 470 nm on the green detector as the sensor, its 405 nm control and the red detector\'s 560 nm; corrects within 0.003 dF/F after 10 min', () => {
    const r = correctChannels(rec(true), { absorption: table });
    assert.deepEqual(r.corrected.map((c) => [c.sensor, c.control, c.bloodVolume, c.method]), [['470nm@det0', '405nm@det0', '560nm@det1', 'haemodynamic']]);
    assert.equal(r.t0S, -0.04);
    assert.ok(maxError(r.corrected[0]!.dffPercent, d.s) < 0.003);
  });

  it('without a table, the default is haemodynamic with the haemoglobin-spectra table (scale fitted): tissue whose coefficients follow the spectra (emission peaks 10–15 nm off the table defaults) at an unknown path length is corrected within 0.003 dF/F after 10 min; isosbestic-only is off by > 0.01', () => {
    // tissue: ln attenuation per unit ΔV/V = path · c · ε(LED) + path · c · ε(emission), path · c unknown to the host
    const pathConc = 0.02 * 100e-6 * Math.LN10;
    const coeff = (ledNm: number, emNm: number): number => pathConc * (bloodExtinctionPerCmPerM(ledNm) + bloodExtinctionPerCmPerM(emNm));
    // emission peaks a little off the table's defaults (515, 580 nm): a real sensor and dye are not exactly those
    const tissue = { sensor: coeff(470, 525), control: coeff(405, 525), bloodVolume: coeff(560, 595) };
    assert.ok(tissue.control > 5 * tissue.sensor, 'the Soret band: 405 nm absorbs several times 470 nm');
    const t = synth(6, 0, tissue);
    const spectral: RecordingChannels = {
      path: 'synthetic', rateHz, samples: t.tS.length,
      channels: [ch('405nm@det0', 0, 405), ch('470nm@det0', 0, 470), ch('560nm@det1', 1, 560)],
      data: { '405nm@det0': t.control, '470nm@det0': t.sensor, '560nm@det1': t.bloodVolume },
    };
    const r = correctChannels(spectral);
    assert.equal(r.corrected[0]!.method, 'haemodynamic');
    assert.equal(r.absorption?.source, 'haemoglobin spectra');
    assert.deepEqual(r.absorption?.table.map(([nm]) => nm), [405, 470, 560]);
    const err = maxError(r.corrected[0]!.dffPercent, t.s);
    console.log(`      default ${err.toFixed(5)} dF/F`);
    assert.ok(err < 0.003, `default: ${err}`);
    const iso = correctChannels(spectral, { method: 'isosbestic' });
    assert.equal(iso.absorption, null);
    assert.ok(maxError(iso.corrected[0]!.dffPercent, t.s) > 0.01, `isosbestic: ${maxError(iso.corrected[0]!.dffPercent, t.s)}`);
    // no control: the spectra's scale cannot be fitted, so no default table and no silent regression fit
    const noControl: RecordingChannels = { ...spectral, channels: spectral.channels.filter((c) => c.wavelengthNm !== 405) };
    const refused = (o: Parameters<typeof correctChannels>[1]): boolean => {
      try { correctChannels(noControl, o); return false; } catch (e) { return e instanceof AnalysisError && e.code === 'E_ANALYSIS_NO_CHANNEL' && /control/.test(e.message); }
    };
    assert.ok(refused({ method: 'haemodynamic' }), 'haemodynamic without a control and without absolute coefficients');
    assert.ok(refused({}), 'the default is then isosbestic, which needs the control too');
    assert.equal(correctChannels(noControl, { method: 'haemodynamic', absorption: 'fit' }).corrected[0]!.coefficients?.fitted, true, 'the regression fit only when asked for');
  });

  it('no 560 nm channel: haemodynamic refused with E_ANALYSIS_NO_CHANNEL, and the default falls back to isosbestic', () => {
    assert.throws(() => correctChannels(rec(false), { method: 'haemodynamic', absorption: table }), (e: unknown) => e instanceof AnalysisError && e.code === 'E_ANALYSIS_NO_CHANNEL' && /560|540/.test(e.message));
    assert.equal(correctChannels(rec(false), { absorption: table }).corrected[0]!.method, 'isosbestic');
  });
});

describe('analysis: statistics', () => {
  it('robustRegression recovers two coefficients within 1e-3 with 10 % gross outliers (OLS does not)', () => {
    const r = rng(9);
    const n = 5000;
    const x1 = Float64Array.from({ length: n }, () => r.gauss());
    const x2 = Float64Array.from({ length: n }, () => r.gauss());
    const y = Float64Array.from({ length: n }, (_, i) => 2 * x1[i]! - 0.5 * x2[i]! + 3 + 0.01 * r.gauss() + (i % 10 === 0 ? 20 : 0));
    const f = robustRegression(y, [x1, x2]);
    assert.ok(Math.abs(f.coefficients[0]! - 2) < 1e-3 && Math.abs(f.coefficients[1]! + 0.5) < 1e-3 && Math.abs(f.intercept - 3) < 1e-3, JSON.stringify(f));
    const ols = robustRegression(y, [x1, x2], { robust: false });
    assert.ok(Math.abs(ols.intercept - 3) > 1, 'OLS is pulled by the outliers');
  });

  it('zScore gives mean 0 and SD 1 (within 1e-12), NaN kept; a constant trace throws', () => {
    const x = Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i / 7) * 5 + 2);
    x[3] = Number.NaN;
    const z = zScore(x);
    let s = 0; let ss = 0; let n = 0;
    for (const v of z) if (Number.isFinite(v)) { s += v; ss += v * v; n++; }
    assert.ok(Math.abs(s / n) < 1e-12 && Math.abs(ss / n - 1) < 1e-12);
    assert.ok(Number.isNaN(z[3]!));
    assert.throws(() => zScore(new Float64Array(10).fill(1)), (e: unknown) => e instanceof AnalysisError && e.code === 'E_ANALYSIS_BAD_INPUT');
  });
});
