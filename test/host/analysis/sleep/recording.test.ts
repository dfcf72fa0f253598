// Sleep scoring of a real fiberrig recording: `fiberrig acquire` of the simulated `sleep` world (a
// child process, speed=max), replayed by the host (demodulated aux stream, electrode volts), scored,
// and compared with the world's truth on the world's clock (session time + the offset read from the
// scenario's sync pulses). 15 min, seed 61 (not used in development).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_BOARD, worldBoardOf } from '../../../../firmware-sim/device/board.ts';
import { createWorld } from '../../../../firmware-sim/world/index.ts';
import { cohenKappa, matchEvents, scoreSleep, type SleepScoring } from '../../../../host/analysis/sleep/index.ts';
import { cliAcquire } from '../../acceptance/cli-io.ts';
import { recordedEegEmg } from './recording.ts';
import { trueArousals, trueEpochStates } from './sim.ts';

const SEED = 61;
const DURATION_S = 900;

describe(`sleep scoring of a recording: \`fiberrig acquire\` sim://sleep seed ${SEED}, ${DURATION_S / 60} min, replayed aux`, function () {
  this.timeout(240_000);
  let tmp: string;
  let scored: SleepScoring;
  const world = createWorld('sleep', SEED, worldBoardOf(DEFAULT_BOARD));

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-sleepscore-'));
    const rec = join(tmp, 'rec');
    await cliAcquire(`sim://sleep?seed=${SEED}&speed=max`, `${DURATION_S}s`, rec);
    const aux = await recordedEegEmg(rec);
    assert.equal(aux.eegV.length, DURATION_S * aux.rateHz);
    assert.ok(aux.eegV.every(Number.isFinite) && aux.emgV.every(Number.isFinite), 'no gaps in the aux stream');
    assert.ok(aux.worldOffsetS >= 0 && aux.worldOffsetS < 5, `session starts ${aux.worldOffsetS} s into the world`);
    scored = scoreSleep(aux);
  });
  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('epoch agreement with the true hypnogram: Cohen\'s κ ≥ 0.85', () => {
    // truth epochs on the scoring's epoch grid (which starts at the world time of the first sample)
    const truth = trueEpochStates(world, DURATION_S + 10, 4, scored.startS).slice(0, scored.states.length);
    assert.equal(truth.length, scored.states.length);
    const kappa = cohenKappa(truth, scored.states);
    assert.ok(kappa >= 0.85, `κ ${kappa.toFixed(3)}`);
  });

  it('micro-arousals: F1 ≥ 0.9 (onsets within 2 s) and every matched onset within 1 s of truth', () => {
    const truth = trueArousals(world, DURATION_S).filter((a) => a.endS <= DURATION_S - 20);
    assert.ok(truth.length >= 3, `only ${truth.length} true micro-arousals`);
    const m = matchEvents(truth, scored.microArousals.filter((a) => a.endS <= DURATION_S - 20), 2);
    assert.ok(m.f1 >= 0.9, `F1 ${m.f1}`);
    for (const e of m.onsetErrorsS) assert.ok(Math.abs(e) <= 1, `onset error ${e} s`);
  });
});
