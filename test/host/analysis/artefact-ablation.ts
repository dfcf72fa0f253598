// Which world term leaves blood-volume artefact in the corrected NE dF/F (host/analysis/README.md,
// "What the error is made of"). Renders the world's noise-free lock-in amplitudes (truth.codesPerMa,
// per fluorophore) at 100 Hz, leaves out the named terms, corrects with each method and measures the
// artefact against the exactly placed truth. Not a test: a measurement to re-run by hand.
//
//   npx tsx test/host/analysis/artefact-ablation.ts SEED [TERM,...] [--subtract-af] [--no-detrend]
//
// TERM: fiberAf, tissueAf (that fluorophore's light left out of every channel), dyeOnGreen (the red dye
// left out of the green detector), neOnRed (GRAB-NE left out of the red detector), bleaching, motion,
// warmup (world options). --subtract-af subtracts the patch cord's level at t = 0 (what a capped fiber
// measures) through the correction's autofluorescence option.
import { FLUOROPHORE_SPECS, type FluorophoreId, haemoCoefficient } from '../../../firmware-sim/world/index.ts';
import { type CorrectionOptions, correctSignal } from '../../../host/analysis/index.ts';
import { bloodVolumeArtefact, oscillationBandArtefact, truthSeries } from './truth.ts';
import { createWorld } from '../../../firmware-sim/world/index.ts';
import { DEFAULT_BOARD, worldBoardOf } from '../../../firmware-sim/device/board.ts';

const args = process.argv.slice(2);
const seed = Number(args[0] ?? 23);
const terms = (args.find((a, i) => i > 0 && !a.startsWith('--')) ?? '').split(',').filter(Boolean);
const subtractAf = args.includes('--subtract-af');
const detrend = !args.includes('--no-detrend');
const DURATION_S = 1800;
const RATE_HZ = 100;
const T0_S = 0.3;

const world = createWorld('sleep', seed, worldBoardOf(DEFAULT_BOARD), {
  noise: false, ambient: false,
  ...(terms.includes('bleaching') ? { bleaching: false } : {}),
  ...(terms.includes('motion') ? { motion: false } : {}),
  ...(terms.includes('warmup') ? { temperatureC: 25 } : {}),
});
const GREEN = 0;
const RED = 1;
const kept = (f: FluorophoreId, detector: number): boolean =>
  !terms.includes(f) && !(f === 'redDye' && detector === GREEN && terms.includes('dyeOnGreen')) && !(f === 'grabNe' && detector === RED && terms.includes('neOnRed'));
const channel = (led: number, detector: number): Float64Array => Float64Array.from({ length: DURATION_S * RATE_HZ }, (_, i) => {
  let v = 0;
  for (const f of world.truth.fluorophores) if (kept(f, detector)) v += world.truth.fluorophoreCodesPerMa(led, f, detector, T0_S + i / RATE_HZ);
  return v;
});
const n = DURATION_S * RATE_HZ;
const tS = Float64Array.from({ length: n }, (_, i) => i / RATE_HZ);
const input = { tS, control: channel(0, GREEN), sensor: channel(1, GREEN), bloodVolume: channel(2, RED) };
const fiberAfAt0 = (led: number, detector: number): number => (terms.includes('fiberAf') ? 0 : world.truth.fluorophoreCodesPerMa(led, 'fiberAf', detector, 0));
const autofluorescence = subtractAf ? { autofluorescence: { control: fiberAfAt0(0, GREEN), sensor: fiberAfAt0(1, GREEN), bloodVolume: fiberAfAt0(2, RED) } } : {};
const emission = (label: RegExp): number => FLUOROPHORE_SPECS.find((f) => label.test(f.label))!.emissionNm;
const coefficients = {
  control: haemoCoefficient(405) + haemoCoefficient(emission(/GRAB-NE/)),
  sensor: haemoCoefficient(470) + haemoCoefficient(emission(/GRAB-NE/)),
  bloodVolume: haemoCoefficient(560) + haemoCoefficient(emission(/red dye/)),
};
const truth = truthSeries(world, T0_S, RATE_HZ, n);
const methods: Record<string, CorrectionOptions> = {
  'default (relative table, scale fitted)': { method: 'haemodynamic', coefficients, fitScale: true },
  'absolute table': { method: 'haemodynamic', coefficients },
  none: { method: 'none' },
  isosbestic: { method: 'isosbestic' },
};
console.log(`seed ${seed}, world without: ${terms.join(', ') || 'nothing'}${subtractAf ? ', patch-cord level subtracted' : ''}${detrend ? '' : ', not detrended'} — oscillation band / whole band, % of the NE oscillation's SD`);
for (const [name, options] of Object.entries(methods)) {
  const dff = correctSignal(input, { ...options, ...autofluorescence, detrend: detrend || options.method === 'isosbestic' }).dffPercent;
  console.log(`  ${name}: ${oscillationBandArtefact(dff, truth, RATE_HZ).artefactPct.toFixed(2)} / ${bloodVolumeArtefact(dff, truth).artefactPct.toFixed(2)}`);
}
