import assert from 'node:assert/strict';
import { fitLedCurve, type LedModel, modelPowerUw, tableFromModel } from '../../../host/calibration/fit.ts';
import { CalibrationError } from '../../../host/calibration/errors.ts';
import { parseManualAnswer, settledReading } from '../../../host/calibration/meter.ts';
import type { PowerMeter } from '../../../host/calibration/meters.ts';
import { calibrationCurrents, calibrationPlan, checkPlan } from '../../../host/calibration/plan.ts';
import { svgPlot, terminalPlot } from '../../../host/calibration/plot.ts';
import { parseLabel } from '../../../host/calibration/store.ts';

const TRUE: LedModel = { thresholdMa: 1.7, slopeUwPerMa: 1.45, droopPerMa: 0.0009 };

/** Deterministic pseudo-noise in [-1, 1]. */
const jitter = (i: number): number => Math.sin(i * 12.9898 + 78.233) * 0.9;

function measure(model: LedModel, currents: number[], rel = 0): Array<{ currentMa: number; powerUw: number }> {
  return currents.map((currentMa, i) => ({ currentMa, powerUw: modelPowerUw(model, currentMa) * (1 + rel * jitter(i)) }));
}

describe('host calibration: plan', () => {
  it('visits N currents from 10 % to 100 %: every other one going up, the rest coming down, then the middle again', () => {
    assert.deepEqual(calibrationCurrents(50, 10), [5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
    const plan = calibrationPlan(50, 10);
    assert.deepEqual(plan.map((s) => s.currentMa), [5, 15, 25, 35, 45, 50, 40, 30, 20, 10, 25]);
    assert.deepEqual(plan.map((s) => s.sweep), ['up', 'up', 'up', 'up', 'up', 'down', 'down', 'down', 'down', 'down', 'repeat']);
    assert.deepEqual(plan.map((s) => s.index), [...plan.keys()]);
    assert.throws(() => calibrationPlan(50, 3), CalibrationError);
    assert.throws(() => calibrationPlan(0, 10), CalibrationError);
  });

  it('checks inside the stored range', () => {
    const c = checkPlan({ minMa: 5, maxMa: 50 }, 3);
    assert.deepEqual(c.map((s) => s.currentMa), [14, 30.87, 47.75]);
    for (const s of c) assert.ok(s.currentMa >= 5 && s.currentMa <= 50);
  });
});

describe('host calibration: fit', () => {
  it('recovers threshold, slope and droop from exact data', () => {
    const fit = fitLedCurve(measure(TRUE, calibrationCurrents(50, 10)));
    assert.ok(Math.abs(fit.model.thresholdMa - TRUE.thresholdMa) < 1e-3, `threshold ${fit.model.thresholdMa}`);
    assert.ok(Math.abs(fit.model.slopeUwPerMa / TRUE.slopeUwPerMa - 1) < 1e-4);
    assert.ok(Math.abs(fit.model.droopPerMa - TRUE.droopPerMa) < 1e-5);
    assert.equal(fit.poor, false);
    assert.deepEqual(fit.outliers, []);
    assert.ok(fit.r2 > 0.999999);
  });

  it('stays within 0.5 % of the truth with 0.3 % reading noise, and the stored table follows it', () => {
    const fit = fitLedCurve(measure(TRUE, calibrationCurrents(50, 10), 0.003));
    assert.equal(fit.poor, false);
    const table = tableFromModel(fit.model, fit.rangeMa, 16);
    assert.equal(table.length, 16);
    for (let k = 1; k < table.length; k++) {
      assert.ok(table[k]!.currentMa > table[k - 1]!.currentMa);
      assert.ok(table[k]!.powerUw >= table[k - 1]!.powerUw);
    }
    for (let ma = 5; ma <= 50; ma += 0.5) {
      const f = modelPowerUw(fit.model, ma);
      const t = modelPowerUw(TRUE, ma);
      assert.ok(Math.abs(f / t - 1) < 0.005, `${ma} mA: fit ${f} vs ${t}`);
    }
  });

  it('flags a mistyped point as bad, leaves it out, and still fits well', () => {
    const pts = measure(TRUE, calibrationCurrents(50, 10));
    pts[4] = { ...pts[4]!, powerUw: pts[4]!.powerUw * 10 }; // 35.2 typed as 352
    const fit = fitLedCurve(pts);
    assert.deepEqual(fit.outliers, [4]);
    assert.equal(fit.residuals[4]!.outlier, true);
    assert.equal(fit.poor, false);
    assert.ok(Math.abs(fit.model.slopeUwPerMa / TRUE.slopeUwPerMa - 1) < 1e-3);
  });

  it('calls a fit poor when the data do not follow an LED curve', () => {
    const pts = calibrationCurrents(50, 10).map((currentMa, i) => ({ currentMa, powerUw: 20 + 15 * jitter(i * 7) }));
    const fit = fitLedCurve(pts);
    assert.equal(fit.poor, true);
    assert.ok(fit.reasons.length > 0);
  });

  it('refuses too few points and no light', () => {
    assert.throws(() => fitLedCurve(measure(TRUE, [5, 10, 15])), (e: unknown) => e instanceof CalibrationError && e.code === 'E_CALIBRATION_POINTS');
    assert.throws(() => fitLedCurve([5, 10, 15, 20].map((currentMa) => ({ currentMa, powerUw: 0 }))), (e: unknown) => e instanceof CalibrationError && e.code === 'E_NO_LIGHT');
  });

  it('draws a terminal plot and an SVG with every point and the bad point marked', () => {
    const pts = measure(TRUE, calibrationCurrents(50, 6));
    pts[2] = { ...pts[2]!, powerUw: pts[2]!.powerUw * 3 };
    const fit = fitLedCurve(pts);
    const text = terminalPlot({ title: 'LED 1', fit });
    assert.match(text, /bad point/);
    assert.ok(text.includes('x') && text.includes('o'));
    const svg = svgPlot({ title: 'LED 1 <470 nm>', fit, table: tableFromModel(fit.model, fit.rangeMa), sweeps: pts.map(() => 'up') });
    assert.match(svg, /^<svg /);
    assert.match(svg, /&lt;470 nm&gt;/);
    assert.equal((svg.match(/<circle /g) ?? []).length, 2 * 5);
    assert.equal((svg.match(/<path d="M/g) ?? []).length, 2);
  });
});

describe('host calibration: meters', () => {
  it('reads what a technician types', () => {
    assert.deepEqual(parseManualAnswer(' 12.5 '), { kind: 'value', powerUw: 12.5 });
    assert.deepEqual(parseManualAnswer('0.8 mW'), { kind: 'value', powerUw: 800 });
    assert.deepEqual(parseManualAnswer('350nW'), { kind: 'value', powerUw: 0.35 });
    assert.deepEqual(parseManualAnswer('7µW'), { kind: 'value', powerUw: 7 });
    assert.deepEqual(parseManualAnswer('1e1'), { kind: 'value', powerUw: 10 });
    assert.deepEqual(parseManualAnswer('u'), { kind: 'undo' });
    assert.deepEqual(parseManualAnswer('R'), { kind: 'redo' });
    assert.deepEqual(parseManualAnswer('q'), { kind: 'abort' });
    for (const bad of ['12,5', '-3', '', 'abc', '5 W', '1.2.3']) assert.equal(parseManualAnswer(bad).kind, 'invalid', bad);
  });

  it('waits for an instrument to settle, and marks a point that never does', async () => {
    const fake = (values: number[]): PowerMeter => {
      let i = 0;
      return { info: { kind: 'sim', model: 'fake', serialNumber: '1' }, readUw: async () => values[Math.min(i++, values.length - 1)]!, close: async () => undefined };
    };
    let t = 0;
    const clock = { sleep: async (ms: number) => { t += ms; }, now: () => t };
    const r = await settledReading(fake([0, 8, 9.5, 9.9, 10, 10.01, 10, 9.99, 10]), { ...clock, stableReadings: 4, toleranceRelative: 0.005 });
    assert.equal(r.settled, true);
    assert.equal(r.readings.length, 8);
    assert.ok(Math.abs(r.powerUw - 10) < 0.01);
    t = 0;
    const drifting = Array.from({ length: 400 }, (_, i) => 10 + i);
    const u = await settledReading(fake(drifting), { ...clock, intervalMs: 200, timeoutMs: 2000 });
    assert.equal(u.settled, false);
    assert.equal(u.readings.length, 11);
  });

  it('reads LED / cube / cord identifiers from a label', () => {
    assert.deepEqual(parseLabel('led=M470F3, cube=FMC5; cord=P12'), { led: 'M470F3', cube: 'FMC5', cord: 'P12' });
    assert.deepEqual(parseLabel('rig 3 blue'), {});
  });
});
