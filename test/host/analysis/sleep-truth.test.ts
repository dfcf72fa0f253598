// Corrected NE dF/F of a simulated sleep recording against the world's ground
// truth: the residual blood-volume artefact per method, as a % of the NE
// oscillation's SD (issue 16, acceptance 2). The absorption table is the world's
// (haemoglobin spectra, firmware-sim/world/optics.ts): per channel, blood's
// coefficient at the LED plus at the fluorophore's emission peak, passed as
// relative coefficients whose scale is fitted from the recording — what a user
// does with published spectra. The patch cord's autofluorescence is measured as a
// rig measures it: a few seconds with the LEDs on and the fiber capped
// (sim://dark, same seed: the same LEDs and detectors), before the session.
// Figures go to test-output/analysis-artefact.json.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FLUOROPHORE_SPECS, haemoCoefficient } from '../../../firmware-sim/world/index.ts';
import {
  type AbsorptionTable, type CorrectionMethod, correctChannels, measureAutofluorescence, type RecordingChannels, readRecordingChannels, type RecordingCorrectionOptions,
} from '../../../host/analysis/index.ts';
import { cliAcquire } from '../acceptance/cli-io.ts';
import { type Artefact, bloodVolumeArtefact, oscillationBandArtefact, simWorld, type TruthSeries, truthSeries, worldTimeOfSessionStartS } from './truth.ts';

/** The test's seed; ANALYSIS_SEED=N measures another (the README's table). */
const SEED = Number(process.env.ANALYSIS_SEED ?? 23);
const DURATION_S = 1800;
/** Issue 16, acceptance 2: the default method's artefact in the NE oscillation band, % of the oscillation's SD. */
const BOUND_PCT = 5;
/**
 * The whole band (no high-pass) also counts the bleaching detrend's share of the slow state-level
 * changes: 2.6–2.8 % on seed 23 with every other world term switched off (host/analysis/README.md),
 * 8.6 % with all of them. Bounded, not the acceptance figure.
 */
const WHOLE_BAND_BOUND_PCT = 10;
/**
 * The world's effective blood coefficient per channel: light crosses blood on the way in (at the LED's
 * wavelength) and on the way out (at the emission peak: GRAB-NE for 405/470 nm, the red dye for 560 nm).
 */
const WORLD_ABSORPTION: AbsorptionTable = (() => {
  const emission = (label: RegExp): number => Object.values(FLUOROPHORE_SPECS).find((f) => label.test(f.label))!.emissionNm;
  const green = emission(/GRAB-NE/);
  const red = emission(/red dye/);
  return [[405, haemoCoefficient(405) + haemoCoefficient(green)], [470, haemoCoefficient(470) + haemoCoefficient(green)], [560, haemoCoefficient(560) + haemoCoefficient(red)]];
})();
const DEFAULT = 'haemodynamic (default: relative table, scale fitted)';
const outputDir = fileURLToPath(new URL('../../../test-output/', import.meta.url));

interface Figure { band: Artefact; whole: Artefact; coefficients?: unknown; scale?: number }

describe(`analysis: corrected NE dF/F of a ${DURATION_S / 60}-minute sim://sleep recording against ground truth`, function () {
  this.timeout(240_000);
  let tmp: string;
  let rec: RecordingChannels;
  let truth: TruthSeries;
  let worldT0S = 0;
  let autofluorescence: Record<string, number> = {};
  const figures: Record<string, Figure> = {};

  const run = (name: string, options: RecordingCorrectionOptions): Figure => {
    if (figures[name]) return figures[name];
    const r = correctChannels(rec, options);
    assert.equal(r.corrected.length, 1, 'one sensor channel: 470 nm on the green detector');
    const c = r.corrected[0]!;
    assert.equal(c.sensor, '470nm@det0');
    const f: Figure = {
      band: oscillationBandArtefact(c.dffPercent, truth, rec.rateHz),
      whole: bloodVolumeArtefact(c.dffPercent, truth),
      ...(c.coefficients ? { coefficients: c.coefficients } : {}),
      ...(c.scale !== undefined ? { scale: c.scale } : {}),
    };
    figures[name] = f;
    return f;
  };
  const report = (name: string): string => `${name}: ${figures[name]!.band.artefactPct.toFixed(2)} % in the oscillation band, ${figures[name]!.whole.artefactPct.toFixed(2)} % whole band`;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-analysis-'));
    await cliAcquire(`sim://dark?seed=${SEED}&speed=max`, '5s', join(tmp, 'capped'));
    autofluorescence = measureAutofluorescence(await readRecordingChannels(join(tmp, 'capped')));
    await cliAcquire(`sim://sleep?seed=${SEED}&speed=max`, `${DURATION_S}s`, join(tmp, 'rec'));
    rec = await readRecordingChannels(join(tmp, 'rec'));
    const delayS = rec.channels.find((c) => c.name === '470nm@det0')!.groupDelayS;
    worldT0S = await worldTimeOfSessionStartS(join(tmp, 'rec'));
    truth = truthSeries(simWorld('sleep', SEED), worldT0S - delayS, rec.rateHz, rec.samples);
  });
  after(async () => {
    await mkdir(outputDir, { recursive: true });
    await writeFile(join(outputDir, 'analysis-artefact.json'), `${JSON.stringify({ seed: SEED, durationS: DURATION_S, worldT0S, autofluorescence, artefactPctOfNeSd: figures }, null, 2)}\n`);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('the blood-volume estimate follows the true blood volume (r ≥ 0.9), best aligned at the world time the heartbeats give (not ±1 s)', () => {
    const r = correctChannels(rec, { method: 'haemodynamic', absorption: WORLD_ABSORPTION });
    const bv = r.corrected[0]!.bloodVolumeChange!;
    const corr = (shift: number): number => {
      let n = 0; let sx = 0; let sy = 0; let sxx = 0; let syy = 0; let sxy = 0;
      for (let i = 200; i < bv.length - 200; i++) {
        const x = bv[i]!;
        const y = truth.bloodVolume[i + shift]!;
        if (!Number.isFinite(x)) continue;
        n++; sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
      }
      return (sxy - (sx * sy) / n) / Math.sqrt((sxx - (sx * sx) / n) * (syy - (sy * sy) / n));
    };
    const r0 = corr(0);
    assert.ok(r0 >= 0.9, `r = ${r0}`);
    assert.ok(r0 > corr(rec.rateHz) && r0 > corr(-rec.rateHz), `r(0) ${r0}, r(+1 s) ${corr(rec.rateHz)}, r(-1 s) ${corr(-rec.rateHz)}`);
  });

  it(`default method (haemodynamic, the default relative absorption from haemoglobin spectra, scale fitted, capped-fiber autofluorescence subtracted): residual blood-volume artefact ≤ ${BOUND_PCT} % of the NE oscillation's SD in its band (isosbestic-only reported beside it)`, () => {
    const r = correctChannels(rec, { autofluorescence });
    assert.equal(r.corrected[0]!.method, 'haemodynamic' satisfies CorrectionMethod);
    assert.equal(r.absorption?.source, 'haemoglobin spectra');
    assert.equal(r.corrected[0]!.coefficients!.fitted, true);
    const a = run(DEFAULT, { autofluorescence });
    run('isosbestic (autofluorescence subtracted)', { method: 'isosbestic', autofluorescence });
    console.log(`      seed ${SEED}: ${report(DEFAULT)}; ${report('isosbestic (autofluorescence subtracted)')}`);
    assert.ok(a.band.neGain > 0 && a.whole.neGain > 0, 'NE keeps its sign');
    assert.ok(a.band.artefactPct <= BOUND_PCT, report(DEFAULT));
    assert.ok(a.whole.artefactPct <= WHOLE_BAND_BOUND_PCT, report(DEFAULT));
  });

  it(`default method without the autofluorescence measurement: artefact ≤ ${BOUND_PCT} % in the oscillation band`, () => {
    const name = 'haemodynamic (relative table, scale fitted, no autofluorescence)';
    const a = run(name, {});
    console.log(`      seed ${SEED}: ${report(name)}`);
    assert.ok(a.band.artefactPct <= BOUND_PCT, report(name));
    assert.ok(a.whole.artefactPct <= WHOLE_BAND_BOUND_PCT, report(name));
  });

  it(`haemodynamic with the world's absolute coefficients: artefact ≤ ${BOUND_PCT} % in the oscillation band`, () => {
    const name = 'haemodynamic (absolute table, autofluorescence subtracted)';
    const a = run(name, { method: 'haemodynamic', absorption: WORLD_ABSORPTION, fitAbsorptionScale: false, autofluorescence });
    console.log(`      seed ${SEED}: ${report(name)}`);
    assert.ok(a.band.artefactPct <= BOUND_PCT, report(name));
  });

  it('isosbestic-only is measured beside it and leaves more artefact than the default in both bands (its fit absorbs NE, which co-varies with blood volume)', () => {
    const iso = run('isosbestic', { method: 'isosbestic' });
    const def = run(DEFAULT, { autofluorescence });
    console.log(`      seed ${SEED}: ${report('isosbestic')}`);
    assert.ok(iso.band.artefactPct > def.band.artefactPct, `${report('isosbestic')} vs ${report(DEFAULT)}`);
    assert.ok(iso.whole.artefactPct > def.whole.artefactPct, `${report('isosbestic')} vs ${report(DEFAULT)}`);
  });

  it('coefficients fitted by regression alone (no table) leave more artefact than the default; no correction is measured too', () => {
    const none = run('none', { method: 'none' });
    const fitted = run('haemodynamic (coefficients fitted by regression, no table)', { method: 'haemodynamic', absorption: 'fit' });
    const def = run(DEFAULT, { autofluorescence });
    console.log(`      seed ${SEED}: ${report('none')}; ${report('haemodynamic (coefficients fitted by regression, no table)')}`);
    assert.ok(Number.isFinite(none.band.artefactPct) && none.band.neGain > 0);
    assert.ok(fitted.band.artefactPct > def.band.artefactPct, report('haemodynamic (coefficients fitted by regression, no table)'));
  });
});
