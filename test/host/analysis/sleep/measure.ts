// Measures sleep scoring against the simulator's truth and prints the figures (a script, not a test):
//   npx tsx test/host/analysis/sleep/measure.ts SCENARIO SEED DURATION_S [world|recorded]
// world (default): EEG/EMG rendered by the world's aux front end; recorded: `fiberrig acquire`
// sim://SCENARIO?seed=SEED&speed=max into a temporary folder, replayed by the host.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_BOARD, worldBoardOf } from '../../../../firmware-sim/device/board.ts';
import { createWorld } from '../../../../firmware-sim/world/index.ts';
import { cohenKappa, matchEvents, SLEEP_STATES, scoreSleep } from '../../../../host/analysis/sleep/index.ts';
import { recordedEegEmg } from './recording.ts';
import { simulateSleep, trueArousals, trueEpochStates } from './sim.ts';

async function main(): Promise<void> {
  const [scenario, seedText, durationText, mode = 'world'] = process.argv.slice(2);
  if ((scenario !== 'sleep' && scenario !== 'zolpidem') || !seedText || !durationText) {
    throw new Error('usage: measure.ts sleep|zolpidem SEED DURATION_S [world|recorded]');
  }
  const seed = Number(seedText);
  const durationS = Number(durationText);
  let input: { eegV: ArrayLike<number>; emgV: ArrayLike<number>; rateHz: number; startS: number };
  let tmp: string | undefined;
  if (mode === 'recorded') {
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-sleep-measure-'));
    const bin = fileURLToPath(new URL('../../../../host/cli/bin.js', import.meta.url));
    execFileSync(process.execPath, [bin, 'acquire', '--device', `sim://${scenario}?seed=${seed}&speed=max`, '--duration', `${durationS}s`, '--out', join(tmp, 'rec'), '--json', '--quiet']);
    const r = await recordedEegEmg(join(tmp, 'rec'));
    console.log(`recorded: session starts ${r.worldOffsetS.toFixed(4)} s into the world (sync pulses)`);
    input = r;
  } else {
    const s = simulateSleep(scenario, seed, durationS);
    input = { eegV: s.eegV, emgV: s.emgV, rateHz: s.rateHz, startS: 0 };
  }
  const scored = scoreSleep(input);
  const world = createWorld(scenario, seed, worldBoardOf(DEFAULT_BOARD));
  const truth = trueEpochStates(world, durationS + 10, scored.epochS, scored.startS).slice(0, scored.states.length);
  const confusion = SLEEP_STATES.map((t) => SLEEP_STATES.map((s) => truth.filter((x, e) => x === t && scored.states[e] === s).length));
  console.log(`${scenario} seed ${seed}, ${durationS} s, ${mode}: ${scored.states.length} epochs of ${scored.epochS} s`);
  console.log(`confusion (rows truth, columns scored; wake, nrem, rem): ${JSON.stringify(confusion)}`);
  console.log(`Cohen's kappa ${cohenKappa(truth, scored.states).toFixed(4)}`);
  const endS = scored.startS + durationS - 20;
  const ta = trueArousals(world, durationS + scored.startS).filter((a) => a.endS <= endS && a.startS >= scored.startS);
  const m = matchEvents(ta, scored.microArousals.filter((a) => a.endS <= endS), 2);
  const abs = m.onsetErrorsS.map(Math.abs).sort((a, b) => a - b);
  console.log(`micro-arousals: ${ta.length} true, ${scored.microArousals.length} detected, F1 ${m.f1.toFixed(4)} (precision ${m.precision.toFixed(4)}, recall ${m.recall.toFixed(4)})`);
  console.log(`onset error |s|: median ${abs[Math.floor(abs.length / 2)]?.toFixed(3)}, max ${abs[abs.length - 1]?.toFixed(3)}`);
  if (tmp) await rm(tmp, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
