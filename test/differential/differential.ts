// One differential run: generate sequences for a board pair, replay each on the
// simulator and on the C firmware (in batches, one firmware process), compare.
import { PAIRS, type PairName } from './boards.ts';
import { compareTranscripts, type Difference } from './compare.ts';
import { generateSequence, type Sequence } from './generate.ts';
import { LockstepFirmware } from './native.ts';
import { normalize } from './normalize.ts';
import { runOnSim } from './sim.ts';

export interface Divergence {
  readonly sequence: Sequence;
  readonly differences: Difference[];
}

export interface DifferentialResult {
  readonly pair: PairName;
  readonly executed: number;
  readonly divergences: Divergence[];
  /** Frames the host side could not decode, from either implementation (a conforming device sends none). */
  readonly badFrames: number;
}

export interface DifferentialOptions {
  readonly pair: PairName;
  readonly sequences: number;
  /** Sequence i uses seed (seed + i). */
  readonly seed: number;
  readonly batch?: number;
  /** Stop collecting after this many divergent sequences. */
  readonly maxDivergences?: number;
}

/** Seed of sequence i: consecutive, so a divergence names the one seed that replays it. */
export const sequenceSeed = (seed: number, i: number): number => (seed + i) >>> 0;

export async function runDifferential(o: DifferentialOptions): Promise<DifferentialResult> {
  const pair = PAIRS[o.pair];
  const firmware = LockstepFirmware.start(pair);
  const divergences: Divergence[] = [];
  let badFrames = 0;
  try {
    const batch = o.batch ?? 250;
    for (let from = 0; from < o.sequences; from += batch) {
      const seqs = Array.from({ length: Math.min(batch, o.sequences - from) }, (_, k) => generateSequence(sequenceSeed(o.seed, from + k), pair));
      const natives = await firmware.run(seqs);
      for (let k = 0; k < seqs.length; k++) {
        const sim = runOnSim(seqs[k]!, pair);
        badFrames += sim.badFrames + natives[k]!.badFrames;
        const differences = compareTranscripts(normalize(sim), normalize(natives[k]!));
        if (differences.length > 0 && divergences.length < (o.maxDivergences ?? 20)) divergences.push({ sequence: seqs[k]!, differences });
      }
    }
  } finally {
    await firmware.close();
  }
  return { pair: o.pair, executed: o.sequences, divergences, badFrames };
}

/** A divergence, readable: the seed, the script's steps and the first differences. */
export function describeDivergence(d: Divergence): string {
  const steps = d.sequence.steps.map((s) => (s.kind === 'send' ? s.label : `+${s.ms}ms`)).join(' ');
  const diffs = d.differences.map((x) => `  ${x.path}: sim ${JSON.stringify(x.sim)} / native ${JSON.stringify(x.native)}`).join('\n');
  return `${d.sequence.pair} seed ${d.sequence.seed}: ${steps}\n${diffs}`;
}
