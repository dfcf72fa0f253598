// The haemodynamic confound the sleep world presents to analysis: blood absorbs
// ~11x more at 405 than at 470 nm (haemoglobin's Soret band), so in NREM the
// 405 nm "isosbestic" control oscillates with blood volume, and isosbestic-only
// correction (fit 470 to 405, dF/F) writes a blood-volume artefact into NE.
// Noise-free truth (codesPerMa), motion off, so only NE, bleaching and blood act.
import assert from 'node:assert/strict';
import { createWorld, type SimWorld } from '../../../firmware-sim/world/index.ts';
import { applyFit, dffPercent, fitIsosbestic } from '../../../host/dsp/isosbestic.ts';
import { BOARD, LED405, LED470 } from './helpers.ts';

const SEED = 21;
const HOURS = 2;

/** NREM bouts (micro-arousals bridged) of at least minS, trimmed by 10 s each end. */
function nremBouts(w: SimWorld, t1S: number, minS = 200): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const b of w.truth.bouts(0, t1S)) {
    if (!(b.state === 'nrem' || (b.state === 'wake' && b.microArousal))) continue;
    const last = out[out.length - 1];
    if (last && b.startS - last[1] < 1e-6) last[1] = Math.min(b.endS, t1S);
    else out.push([b.startS, Math.min(b.endS, t1S)]);
  }
  return out.filter(([a, b]) => b - a >= minS).map(([a, b]) => [a + 10, b - 10]);
}

function det3(m: number[][]): number {
  return (
    m[0]![0]! * (m[1]![1]! * m[2]![2]! - m[1]![2]! * m[2]![1]!) -
    m[0]![1]! * (m[1]![0]! * m[2]![2]! - m[1]![2]! * m[2]![0]!) +
    m[0]![2]! * (m[1]![0]! * m[2]![1]! - m[1]![1]! * m[2]![0]!)
  );
}

/** Least squares y ~ a·x1 + b·x2 + c (Cramer's rule on the normal equations). */
function fit2(y: number[], x1: number[], x2: number[]): [number, number, number] {
  const rows = y.map((_, i) => [x1[i]!, x2[i]!, 1]);
  const ata = [0, 1, 2].map((p) => [0, 1, 2].map((q) => rows.reduce((s, r) => s + r[p]! * r[q]!, 0)));
  const aty = [0, 1, 2].map((p) => rows.reduce((s, r, i) => s + r[p]! * y[i]!, 0));
  const d = det3(ata);
  const coef = [0, 1, 2].map((c) => det3(ata.map((row, i) => row.map((v, j) => (j === c ? aty[i]! : v)))) / d);
  return [coef[0]!, coef[1]!, coef[2]!];
}

function sd(x: number[]): number {
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  return Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length);
}

describe('firmware-sim/world haemodynamic confound (sleep, noise-free truth)', () => {
  it(`isosbestic-only correction leaves a blood-volume artefact in NREM: dF/F(470 vs fitted 405) = α·NE + β·bloodVolume with β > 0 and β·sd(BV) ≥ 20 % of α·sd(NE) (seed ${SEED}, ${HOURS} h)`, () => {
    const w = createWorld('sleep', SEED, BOARD, { motion: false });
    const bouts = nremBouts(w, HOURS * 3600);
    assert.ok(bouts.length >= 2, `${bouts.length} NREM bouts >= 200 s`);
    const dff: number[] = [];
    const ne: number[] = [];
    const bv: number[] = [];
    for (const [a, b] of bouts) {
      const t = Array.from({ length: Math.floor(b - a) }, (_, i) => a + i);
      const s470 = t.map((x) => w.truth.codesPerMa(LED470, 0, x));
      const s405 = t.map((x) => w.truth.codesPerMa(LED405, 0, x));
      const fitted = applyFit(s405, fitIsosbestic(s470, s405));
      dff.push(...dffPercent(s470, fitted));
      ne.push(...t.map((x) => w.truth.signal('grabNe', x)));
      bv.push(...t.map((x) => w.truth.physiology(x).bloodVolume));
    }
    const [alpha, beta] = fit2(dff, ne, bv);
    const artefact = (Math.abs(beta) * sd(bv)) / (Math.abs(alpha) * sd(ne));
    console.log(`      ${bouts.length} NREM bouts, ${dff.length} s: dF/F % = ${alpha.toFixed(1)}·NE + ${beta.toFixed(1)}·BV; blood-volume artefact ${(artefact * 100).toFixed(0)} % of the NE oscillation (sd)`);
    assert.ok(alpha > 0, `NE coefficient ${alpha}`);
    // blood up -> 405 control dims far more than 470 -> the fitted baseline falls -> dF/F rises
    assert.ok(beta > 0, `blood-volume coefficient ${beta}`);
    assert.ok(artefact >= 0.2, `artefact ${artefact}`);
  });
});
