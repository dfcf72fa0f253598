// Haemoglobin extinction spectra (Prahl's tabulation) and the blood absorption derived from them.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  bloodExtinctionPerCmPerM, DEFAULT_HB_SATURATION, HB_EXTINCTION_TABLE, HB_TABLE_FIRST_NM, HB_TABLE_LAST_NM, HaemoglobinError,
  hbExtinction, hbIsosbesticPointsNm, relativeBloodAbsorption,
} from '../../protocol/index.ts';

describe('protocol haemoglobin spectra', () => {
  it('the table is a uniform 2 nm grid over 350-700 nm of positive extinctions', () => {
    assert.equal(HB_EXTINCTION_TABLE[0]![0], HB_TABLE_FIRST_NM);
    assert.equal(HB_EXTINCTION_TABLE[HB_EXTINCTION_TABLE.length - 1]![0], HB_TABLE_LAST_NM);
    HB_EXTINCTION_TABLE.forEach(([nm, oxy, deoxy], i) => {
      assert.equal(nm, HB_TABLE_FIRST_NM + 2 * i);
      assert.ok(oxy > 0 && deoxy > 0, `${nm} nm`);
    });
  });

  it('interpolation returns the table at its points and stays between neighbours in between', () => {
    for (const [nm, oxy, deoxy] of HB_EXTINCTION_TABLE) {
      const e = hbExtinction(nm);
      assert.equal(e.oxyPerCmPerM, oxy);
      assert.equal(e.deoxyPerCmPerM, deoxy);
    }
    fc.assert(fc.property(fc.double({ min: HB_TABLE_FIRST_NM, max: HB_TABLE_LAST_NM, noNaN: true }), (nm) => {
      const i = Math.min(Math.floor((nm - HB_TABLE_FIRST_NM) / 2), HB_EXTINCTION_TABLE.length - 2);
      const a = HB_EXTINCTION_TABLE[i]!;
      const b = HB_EXTINCTION_TABLE[i + 1]!;
      const e = hbExtinction(nm);
      assert.ok(e.oxyPerCmPerM >= Math.min(a[1], b[1]) - 1e-9 && e.oxyPerCmPerM <= Math.max(a[1], b[1]) + 1e-9);
      assert.ok(e.deoxyPerCmPerM >= Math.min(a[2], b[2]) - 1e-9 && e.deoxyPerCmPerM <= Math.max(a[2], b[2]) + 1e-9);
    }));
  });

  it('published values: HbO2 Soret peak at 414 nm (524 280), Hb at 432-434 nm (552 160); 470 nm 33 209 / 16 156; 560 nm 32 613 / 53 788 (cm⁻¹/M)', () => {
    let oxyPeak = HB_EXTINCTION_TABLE[0]!;
    let deoxyPeak = HB_EXTINCTION_TABLE[0]!;
    for (const row of HB_EXTINCTION_TABLE) {
      if (row[1] > oxyPeak[1]) oxyPeak = row;
      if (row[2] > deoxyPeak[2]) deoxyPeak = row;
    }
    assert.equal(oxyPeak[0], 414);
    assert.equal(oxyPeak[1], 524280);
    assert.ok(deoxyPeak[0] === 432 || deoxyPeak[0] === 434);
    assert.equal(deoxyPeak[2], 552160);
    assert.deepEqual(hbExtinction(470), { oxyPerCmPerM: 33209.2, deoxyPerCmPerM: 16156.4 });
    assert.deepEqual(hbExtinction(560), { oxyPerCmPerM: 32613.2, deoxyPerCmPerM: 53788 });
  });

  it('isosbestic points of HbO2/Hb within 1 nm of 390, 422, 452, 500, 529, 545, 570, 584 nm, and no others in 350-700 nm', () => {
    const found = hbIsosbesticPointsNm();
    const expected = [390, 422, 452, 500, 529, 545, 570, 584];
    assert.equal(found.length, expected.length, `found ${found.map((x) => x.toFixed(1)).join(', ')}`);
    found.forEach((nm, i) => {
      assert.ok(Math.abs(nm - expected[i]!) <= 1, `${nm} vs ${expected[i]}`);
    });
    // at an isosbestic point blood absorption does not depend on saturation
    for (const nm of found) {
      const a = bloodExtinctionPerCmPerM(nm, 0);
      const b = bloodExtinctionPerCmPerM(nm, 1);
      assert.ok(Math.abs(a - b) <= 1e-9 * a, `${nm} nm: ${a} vs ${b}`);
    }
  });

  it('blood absorbs 10-16x more at 405 than at 470 nm for any saturation (HbO2 alone ~10, Hb alone ~16), and 4.5-10.5x more than at 560 nm', () => {
    const oxyOnly = relativeBloodAbsorption(405, 470, 1);
    const deoxyOnly = relativeBloodAbsorption(405, 470, 0);
    assert.ok(oxyOnly > 9.5 && oxyOnly < 10.5, `HbO2 ${oxyOnly}`);
    assert.ok(deoxyOnly > 15.5 && deoxyOnly < 17, `Hb ${deoxyOnly}`);
    fc.assert(fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (s) => {
      const r = relativeBloodAbsorption(405, 470, s);
      assert.ok(r >= oxyOnly - 1e-9 && r <= deoxyOnly + 1e-9, `S ${s}: ${r}`);
      assert.ok(relativeBloodAbsorption(405, 560, s) > 4.5); // 4.9 (Hb) to 10.2 (HbO2)
    }));
    const r = relativeBloodAbsorption(405, 470);
    assert.ok(r > 11 && r < 12, `default saturation ${DEFAULT_HB_SATURATION}: ${r}`);
  });

  it('monotonic pieces: HbO2 rises 380→414 nm and falls 414→460 nm; Hb falls 434→480 nm; both fall 600→650 nm', () => {
    const check = (from: number, to: number, col: 1 | 2, dir: 1 | -1): void => {
      for (let nm = from; nm < to; nm += 2) {
        const d = hbExtinction(nm + 2)[col === 1 ? 'oxyPerCmPerM' : 'deoxyPerCmPerM'] - hbExtinction(nm)[col === 1 ? 'oxyPerCmPerM' : 'deoxyPerCmPerM'];
        assert.ok(dir * d > 0, `${col === 1 ? 'HbO2' : 'Hb'} ${nm}-${nm + 2} nm`);
      }
    };
    check(380, 414, 1, 1);
    check(414, 460, 1, -1);
    check(434, 480, 2, -1);
    check(600, 650, 1, -1);
    check(600, 650, 2, -1);
  });

  it('relative absorption is 1 at the reference and saturation-weighted in between', () => {
    assert.equal(relativeBloodAbsorption(560, 560), 1);
    const e = hbExtinction(470);
    assert.equal(bloodExtinctionPerCmPerM(470, 0.25), 0.25 * e.oxyPerCmPerM + 0.75 * e.deoxyPerCmPerM);
  });

  it('typed errors for wavelengths outside the table and saturations outside 0..1', () => {
    for (const nm of [349.9, 700.1, Number.NaN]) {
      assert.throws(() => hbExtinction(nm), (e: unknown) => e instanceof HaemoglobinError && e.code === 'E_HB_WAVELENGTH');
    }
    for (const s of [-0.1, 1.1, Number.NaN]) {
      assert.throws(() => bloodExtinctionPerCmPerM(470, s), (e: unknown) => e instanceof HaemoglobinError && e.code === 'E_HB_SATURATION');
    }
  });
});
