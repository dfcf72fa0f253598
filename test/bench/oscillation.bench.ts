// NE oscillation analysis of 24 h at the analysis rate (10 Hz): the sleep world's own NE and
// blood volume with its true hypnogram, micro-arousals and EEG band power (rendering not timed),
// on one core. Figures: seconds per 24 h and the multiple of real time.
import { performance } from 'node:perf_hooks';
import { analyzeOscillation } from '../../host/analysis/oscillation/index.ts';
import { worldSignals } from '../host/analysis/oscillation/world.ts';
import type { Emit } from './run.ts';

const HOURS = 24;

export async function run(emit: Emit): Promise<void> {
  const world = worldSignals('sleep', 1, HOURS * 3600);
  analyzeOscillation(world.input); // warm-up (JIT)
  const t0 = performance.now();
  const r = analyzeOscillation(world.input);
  const elapsedS = (performance.now() - t0) / 1000;
  emit({ name: 'analysis.oscillation.24h_10Hz.seconds', value: elapsedS, unit: 's', bouts: r.summary.bouts, analysedS: r.summary.analysedS });
  emit({ name: 'analysis.oscillation.realtime_factor', value: (HOURS * 3600) / elapsedS, unit: 'x' });
}
