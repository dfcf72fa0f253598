// Issue 18, acceptance 3: a scenario file with a drug onset at 30 min halves the NE oscillation
// after it — measured from the demodulated signal of a `fiberrig acquire` on sim://file, against
// the simulated world's ground truth (the same file, the same seed). Figures go to
// test-output/scenario-drug.json.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_BOARD, worldBoardOf } from '../../../firmware-sim/device/board.ts';
import { createWorld } from '../../../firmware-sim/world/index.ts';
import { readScenarioFile } from '../../../firmware-sim/world/scenario-file/parse.ts';
import { minusMovingMean, OSCILLATION_BAND_WINDOW_S, worldTimeOfSessionStartS } from '../analysis/truth.ts';
import { cliAcquire, readCsv } from './cli-io.ts';

const outputDir = fileURLToPath(new URL('../../../test-output/', import.meta.url));
const FILE = fileURLToPath(new URL('../../../firmware-sim/world/scenario-file/examples/drug-at-30-min.json', import.meta.url));
const SEED = 21;
const RATE_HZ = 100;
/** Session-time windows: before the drug, and after its 60 s wash-in has settled. */
const BEFORE: [number, number] = [300, 1800];
const AFTER: [number, number] = [2100, 2700];

function sd(x: Float64Array, rateHz: number, [a, b]: [number, number]): number {
  const v = Array.from(x.subarray(Math.round(a * rateHz), Math.round(b * rateHz))).filter(Number.isFinite);
  const m = v.reduce((p, q) => p + q, 0) / v.length;
  return Math.sqrt(v.reduce((p, q) => p + (q - m) ** 2, 0) / v.length);
}

describe('scenario file: a drug at 30 min (examples/drug-at-30-min.json), 45 min recorded', function () {
  this.timeout(240_000);
  let dir: string;
  let measured: number;
  let truth: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fiberrig-drug-'));
    const rec = join(dir, 'rec');
    await cliAcquire(`sim://file?path=${encodeURIComponent(FILE)}&seed=${SEED}&speed=max`, '45m', rec);
    const signals = await readCsv(rec, 'signals.csv');
    const ne = signals.columns['470nm@det0']!;
    assert.ok(ne.length >= 2700 * RATE_HZ, `${ne.length} rows`);
    measured = sd(minusMovingMean(ne, RATE_HZ, OSCILLATION_BAND_WINDOW_S), RATE_HZ, AFTER) / sd(minusMovingMean(ne, RATE_HZ, OSCILLATION_BAND_WINDOW_S), RATE_HZ, BEFORE);
    const world = createWorld(readScenarioFile(FILE), SEED, worldBoardOf(DEFAULT_BOARD));
    const t0S = await worldTimeOfSessionStartS(rec);
    const n = ne.length;
    const rateTruth = 10;
    const truthNe = Float64Array.from({ length: Math.floor((n / RATE_HZ) * rateTruth) }, (_, i) => world.truth.signal('grabNe', t0S + i / rateTruth));
    const hp = minusMovingMean(truthNe, rateTruth, OSCILLATION_BAND_WINDOW_S);
    truth = sd(hp, rateTruth, AFTER) / sd(hp, rateTruth, BEFORE);
    mkdirSync(outputDir, { recursive: true });
    writeFileSync(join(outputDir, 'scenario-drug.json'), `${JSON.stringify({ seed: SEED, beforeS: BEFORE, afterS: AFTER, measuredRatio: measured, truthRatio: truth }, null, 2)}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ground truth: the NE oscillation after the drug is half of before (0.5 ± 0.1)', () => {
    assert.ok(Math.abs(truth - 0.5) <= 0.1, `truth ratio ${truth}`);
  });

  it('measured from the demodulated 470 nm signal: the ratio within 10 % of the truth ratio', () => {
    assert.ok(Math.abs(measured - truth) <= 0.1 * truth, `measured ${measured} vs truth ${truth}`);
  });
});
