// Optics: crosstalk matrix, isosbestic 405, bleaching, blood absorption, motion, LED curves.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  codesPerVolt, createWorld, FLUOROPHORE_SPECS, FLUOROPHORES, HAEMO_TISSUE, haemoCoefficient, ledPowerUw, linearLedParams, nominalLedParams,
} from '../../../firmware-sim/world/index.ts';
import { bloodExtinctionPerCmPerM, relativeBloodAbsorption } from '../../../protocol/index.ts';
import { BOARD, LED405, LED470, LED560 } from './helpers.ts';

function close(a: number, b: number, rel: number, msg = ''): void {
  assert.ok(Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-12), `${a} vs ${b} (rel ${rel}) ${msg}`);
}

describe('firmware-sim/world optics', () => {
  it('codesPerMa = slope x detector gain x sum_f E[k][f] C[f][d] B_f (1 + R[k][f] s_f(t)) (steps, at grid points, rel 1e-9)', () => {
    const w = createWorld('steps', 3, BOARD, { noise: false, ambient: false });
    const x = w.truth.crosstalk();
    const cpv = codesPerVolt(16, 3.3);
    for (const g of [0, 1234, 7777, 15001]) {
      const t = g * w.params.gridS;
      for (let k = 0; k < BOARD.leds.length; k++) {
        for (let d = 0; d < BOARD.detectors.length; d++) {
          let sum = 0;
          FLUOROPHORES.forEach((f, fi) => {
            sum += x.excitation[k]![fi]! * x.collection[fi]![d]! * x.brightness[fi]! * (1 + x.response[k]![fi]! * w.truth.signal(f, t));
          });
          const expected = w.params.leds[k]!.slopeUwPerMa * w.params.detectors[d]!.gainVPerUw * cpv * sum;
          close(w.truth.codesPerMa(k, d, t), expected, 1e-9, `led ${k} det ${d} t ${t}`);
        }
      }
    }
  });

  it('detector signal is a linear combination of LED currents (linear LEDs, noise and ambient off, within 1e-9 of the signal)', () => {
    const w = createWorld('steps', 4, BOARD, { noise: false, ambient: false });
    fc.assert(fc.property(
      fc.array(fc.double({ min: 0, max: 50, noNaN: true }), { minLength: 4, maxLength: 4 }),
      fc.array(fc.double({ min: 0, max: 50, noNaN: true }), { minLength: 4, maxLength: 4 }),
      fc.double({ min: 0, max: 3000, noNaN: true }),
      (i1, i2, t) => {
        const off = [w.truth.offsetCodes(0), w.truth.offsetCodes(1)];
        const a = w.truth.detectorCodes(i1, t);
        const b = w.truth.detectorCodes(i2, t);
        const ab = w.truth.detectorCodes(i1.map((v, k) => v + i2[k]!), t);
        for (let d = 0; d < 2; d++) {
          // absolute tolerance 1e-9 of the signal size (differences of offsets cancel digits)
          const tol = 1e-9 * Math.max(ab[d]!, off[d]!);
          assert.ok(Math.abs(ab[d]! - off[d]! - (a[d]! - off[d]! + (b[d]! - off[d]!))) <= tol);
          let lin = off[d]!;
          for (let k = 0; k < 4; k++) lin += i1[k]! * w.truth.codesPerMa(k, d, t);
          assert.ok(Math.abs(a[d]! - lin) <= tol);
        }
      },
    ), { numRuns: 200 });
  });

  it('per-fluorophore slopes sum to codesPerMa (rel 1e-12) and crosstalk has the documented structure', () => {
    const w = createWorld('sleep', 5, BOARD);
    const x = w.truth.crosstalk();
    for (const t of [10, 333.3, 1800]) {
      for (let k = 0; k < 4; k++) {
        for (let d = 0; d < 2; d++) {
          const sum = FLUOROPHORES.reduce((s, f) => s + w.truth.fluorophoreCodesPerMa(k, f, d, t), 0);
          close(sum, w.truth.codesPerMa(k, d, t), 1e-12);
        }
      }
    }
    // GRAB-NE: best excited by 470, isosbestic (no response) at 405; red dye best excited by 560
    assert.ok(x.excitation[LED470]![0]! > x.excitation[LED405]![0]! && x.excitation[LED470]![0]! > x.excitation[LED560]![0]!);
    assert.equal(x.response[LED405]![0], 0);
    assert.equal(x.response[LED470]![0], 1);
    assert.ok(x.excitation[LED560]![1]! > 10 * x.excitation[LED470]![1]!);
    // detector 0 green, detector 1 red, with bleed-through
    assert.ok(x.collection[0]![0]! > x.collection[0]![1]! && x.collection[0]![1]! > 0);
    assert.ok(x.collection[1]![1]! > x.collection[1]![0]! && x.collection[1]![0]! > 0);
  });

  it('405 nm is isosbestic for GRAB-NE: its GRAB contribution does not follow the steps (rel 1e-12) while 470 steps by the known level', () => {
    const w = createWorld('steps', 6, BOARD, { noise: false, ambient: false });
    // t = 5 s: staircase level 0; t = 15 s: level 0.10; plus the 0.02 Hz (0.05) and 1 Hz (0.02) sines
    const s5 = w.truth.signal('grabNe', 5);
    const s15 = w.truth.signal('grabNe', 15);
    const g405 = [5, 15].map((t) => w.truth.fluorophoreCodesPerMa(LED405, 'grabNe', 0, t));
    close(g405[0]!, g405[1]!, 1e-12);
    const g470 = [5, 15].map((t) => w.truth.fluorophoreCodesPerMa(LED470, 'grabNe', 0, t));
    close(g470[1]! / g470[0]!, (1 + s15) / (1 + s5), 1e-9);
    const sines = (t: number): number => 0.05 * Math.sin(2 * Math.PI * 0.02 * t) + 0.02 * Math.sin(2 * Math.PI * t);
    assert.ok(Math.abs(s15 - s5 - (0.1 + sines(15) - sines(5))) < 1e-12, 'the staircase stepped by 0.10');
  });

  it('bleaching: monotone non-increasing over 10 h for every fluorophore, time constants in pyPhotometry bounds (fast 60-600 s, slow 600-36000 s)', () => {
    const w = createWorld('sleep', 7, BOARD);
    for (const spec of FLUOROPHORE_SPECS) {
      const b = spec.bleach;
      assert.ok(b.fastTauS >= 60 && b.fastTauS <= 600, `${spec.id} fast ${b.fastTauS}`);
      assert.ok(b.slowTauS >= 600 && b.slowTauS <= 36_000, `${spec.id} slow ${b.slowTauS}`);
      let prev = w.truth.bleachFactor(spec.id, 0);
      assert.equal(prev, 1);
      for (let t = 10; t <= 36_000; t += 10) {
        const v = w.truth.bleachFactor(spec.id, t);
        assert.ok(v <= prev && v > 0);
        prev = v;
      }
      const tf = b.fastTauS;
      close(w.truth.bleachFactor(spec.id, tf), 1 - b.fastFraction - b.slowFraction + b.fastFraction * Math.exp(-1) + b.slowFraction * Math.exp(-tf / b.slowTauS), 1e-12);
    }
    const off = createWorld('sleep', 7, BOARD, { bleaching: false });
    assert.equal(off.truth.bleachFactor('grabNe', 5000), 1);
  });

  it('bleaching lowers the 405 nm slope by > 10 % over an hour; without bleaching (motion, haemodynamics off, temperature fixed) it moves < 1e-6 (405 is isosbestic)', () => {
    const on = createWorld('sleep', 8, BOARD, { motion: false, haemodynamics: false, temperatureC: 25 });
    assert.ok(on.truth.codesPerMa(LED405, 0, 3600) < 0.9 * on.truth.codesPerMa(LED405, 0, 0));
    const off = createWorld('sleep', 8, BOARD, { motion: false, haemodynamics: false, temperatureC: 25, bleaching: false });
    close(off.truth.codesPerMa(LED405, 0, 3600), off.truth.codesPerMa(LED405, 0, 0), 1e-6);
  });

  // The world once had blood absorbing *more* at 470/560 than at 405 nm; haemoglobin's Soret band
  // makes 405 nm absorb ~10-16x more than 470 nm, so the expectation now follows the spectra.
  it('blood absorption follows haemoglobin extinction: h(λ) = ln10 · ε_blood(λ, S) · c_HbT · L; h(405)/h(470) = ε ratio (10-16), h(405) > h(560) > h(470) > h(630); haemoFactor = exp(-h * bloodVolume) (rel 1e-12)', () => {
    for (const nm of [405, 470, 560, 630]) {
      close(haemoCoefficient(nm), Math.LN10 * bloodExtinctionPerCmPerM(nm, HAEMO_TISSUE.saturation) * HAEMO_TISSUE.totalHbM * HAEMO_TISSUE.effectivePathCm, 1e-12);
    }
    const ratio = haemoCoefficient(405) / haemoCoefficient(470);
    close(ratio, relativeBloodAbsorption(405, 470, HAEMO_TISSUE.saturation), 1e-12);
    assert.ok(ratio > 10 && ratio < 16.5, `h(405)/h(470) = ${ratio}`);
    assert.ok(haemoCoefficient(405) > haemoCoefficient(560) && haemoCoefficient(560) > haemoCoefficient(470) && haemoCoefficient(470) > haemoCoefficient(630));
    // beyond the 350-700 nm table the nearest end is used
    assert.equal(haemoCoefficient(850), haemoCoefficient(700));
    const w = createWorld('sleep', 9, BOARD);
    for (const t of [200, 400, 900]) {
      const bv = w.truth.physiology(t).bloodVolume;
      for (let k = 0; k < 4; k++) close(w.truth.haemoFactor(k, t), Math.exp(-haemoCoefficient(BOARD.leds[k]!.wavelengthNm) * bv), 1e-12);
    }
    assert.equal(createWorld('sleep', 9, BOARD, { haemodynamics: false }).truth.haemoFactor(LED470, 400), 1);
  });

  it('blood absorbs both ways: a tissue fluorophore\'s slope with haemodynamics on / off = haemoFactor(LED) x emissionHaemoFactor(fluorophore) (rel 1e-9); the patch cord is not absorbed', () => {
    const on = createWorld('sleep', 11, BOARD, { motion: false });
    const off = createWorld('sleep', 11, BOARD, { motion: false, haemodynamics: false });
    // a REM grid point: blood volume well above wake
    const rem = on.truth.bouts(0, 7200).find((b) => b.state === 'rem')!;
    assert.ok(rem, 'a REM bout');
    const t = Math.round((rem.endS - 1) / on.params.gridS) * on.params.gridS;
    const bv = on.truth.physiology(t).bloodVolume;
    assert.ok(bv > 0.02, `blood volume ${bv}`);
    close(on.truth.emissionHaemoFactor('grabNe', t), Math.exp(-haemoCoefficient(515) * bv), 1e-12);
    assert.equal(on.truth.emissionHaemoFactor('fiberAf', t), 1);
    assert.equal(off.truth.emissionHaemoFactor('redDye', t), 1);
    for (let k = 0; k < BOARD.leds.length; k++) {
      for (const f of ['grabNe', 'redDye', 'tissueAf', 'fiberAf'] as const) {
        const ratio = on.truth.fluorophoreCodesPerMa(k, f, 0, t) / off.truth.fluorophoreCodesPerMa(k, f, 0, t);
        const expected = f === 'fiberAf' ? 1 : on.truth.haemoFactor(k, t) * on.truth.emissionHaemoFactor(f, t);
        close(ratio, expected, 1e-9, `LED ${k} ${f}`);
      }
    }
    // the 405 nm excitation path loses more than the 470 nm one (Soret band)
    assert.ok(on.truth.haemoFactor(LED405, t) < on.truth.haemoFactor(LED470, t));
  });

  it('motion is a shared multiplicative artefact: tissue slopes of every LED and detector scale by the same factor (rel 1e-9)', () => {
    const on = createWorld('sleep', 10, BOARD, { haemodynamics: false });
    const off = createWorld('sleep', 10, BOARD, { haemodynamics: false, motion: false });
    const ev = on.truth.motionEvents(0, 3600).find((e) => e.depth > 0.01)!;
    assert.ok(ev, 'a motion event');
    // a grid point in the middle of the event
    const t = Math.round((ev.startS + ev.durationS / 2) / on.params.gridS) * on.params.gridS;
    const m = on.truth.motionFactor(t);
    assert.ok(m < 1 - 0.5 * ev.depth);
    for (let k = 0; k < 3; k++) {
      for (let d = 0; d < 2; d++) {
        for (const f of ['grabNe', 'redDye', 'tissueAf'] as const) {
          const a = off.truth.fluorophoreCodesPerMa(k, f, d, t);
          if (a > 1e-6) close(on.truth.fluorophoreCodesPerMa(k, f, d, t) / a, m, 1e-9);
        }
        close(on.truth.fluorophoreCodesPerMa(k, 'fiberAf', d, t), off.truth.fluorophoreCodesPerMa(k, 'fiberAf', d, t), 1e-12);
      }
    }
  });

  it('unit LED: no light below threshold, monotone non-decreasing, sub-linear above threshold (droop), less light when hotter', () => {
    for (const nm of [405, 470, 560, 630]) {
      const p = nominalLedParams(nm);
      assert.equal(ledPowerUw(p, p.thresholdMa * 0.99, 25), 0);
      fc.assert(fc.property(fc.double({ min: 0, max: 400, noNaN: true }), fc.double({ min: 0, max: 400, noNaN: true }), (a, b) => {
        const [lo, hi] = a < b ? [a, b] : [b, a];
        assert.ok(ledPowerUw(p, lo, 25) <= ledPowerUw(p, hi, 25));
      }));
      const x = 20;
      assert.ok(ledPowerUw(p, p.thresholdMa + 2 * x, 25) < 2 * ledPowerUw(p, p.thresholdMa + x, 25));
      const p25 = ledPowerUw(p, 30, 25);
      close(ledPowerUw(p, 30, 35), p25 * (1 + 10 * p.tempCoeffPerC), 1e-12);
      assert.ok(ledPowerUw(p, 30, 35) < p25);
    }
  });

  it('linear LED (steps): P = slope * I exactly, independent of temperature', () => {
    const w = createWorld('steps', 11, BOARD);
    for (let k = 0; k < 4; k++) {
      const lin = linearLedParams(BOARD.leds[k]!.wavelengthNm);
      for (const i of [0.5, 7, 33.3]) {
        assert.equal(w.ledPowerUw(k, i), lin.slopeUwPerMa * i);
        assert.equal(w.ledPowerUw(k, i, 60), lin.slopeUwPerMa * i);
      }
    }
  });

  it('per-unit LED parameters differ between seeds within ±10 % of the nominal slope', () => {
    const slopes = [1, 2, 3, 4, 5].map((seed) => createWorld('sleep', seed, BOARD).params.leds[LED470]!.slopeUwPerMa);
    const nominal = nominalLedParams(470).slopeUwPerMa;
    assert.ok(new Set(slopes).size === slopes.length);
    for (const s of slopes) assert.ok(Math.abs(s / nominal - 1) <= 0.1);
  });

  it('world LED power drifts with the warm-up temperature (25 -> 30 °C, tau 1200 s) unless temperature is fixed', () => {
    const w = createWorld('sleep', 12, BOARD);
    assert.equal(w.temperatureC(0), 25);
    close(w.temperatureC(1200), 25 + 5 * (1 - Math.exp(-1)), 1e-12);
    assert.ok(w.ledPowerUw(LED470, 30, w.temperatureC(7200)) < w.ledPowerUw(LED470, 30, w.temperatureC(0)));
    assert.equal(createWorld('sleep', 12, BOARD, { temperatureC: 31 }).temperatureC(5000), 31);
  });
});
