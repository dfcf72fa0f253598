// One differential run: generate sequences for a board pair, replay each on the
// simulator and on the C firmware (in batches, one firmware process), compare.
import { decodeEnvelope, DarkReason, ErrorCode, FrameDecoder } from '../../protocol/index.ts';
import { PAIRS, type PairName } from './boards.ts';
import { compareTranscripts, type Difference } from './compare.ts';
import { generateSequence, type Sequence } from './generate.ts';
import { LockstepFirmware } from './native.ts';
import { normalize } from './normalize.ts';
import { runOnSim, type Transcript } from './sim.ts';

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
  /**
   * What the firmware's side of the run exercised: "command:reply" for every reply (an Error by its code,
   * e.g. "configure:ERROR_CODE_LIMIT_EXCEEDED", "setLed:ack"), plus samples, blocks, ledEvents, status,
   * watchdogTrips (Status first reporting HEARTBEAT_TIMEOUT), overruns (Status first counting a dropped block).
   */
  readonly coverage: Record<string, number>;
}

/** The command each request id of a sequence named (the last one wins when an id repeats). */
function commandsOf(sequence: Sequence): Map<number, string> {
  const out = new Map<number, string>();
  const decoder = new FrameDecoder((payload) => {
    try {
      const m = decodeEnvelope(payload);
      out.set(m.requestId, m.body ?? 'none');
    } catch {
      // a deliberately undecodable frame
    }
  });
  for (const step of sequence.steps) if (step.kind === 'send') decoder.push(step.bytes);
  return out;
}

function tally(coverage: Record<string, number>, sequence: Sequence, t: Transcript): void {
  const add = (k: string, n = 1): void => {
    coverage[k] = (coverage[k] ?? 0) + n;
  };
  const commands = commandsOf(sequence);
  let dark = false;
  let overrun = false;
  for (const m of t.messages) {
    if (m.sampleBlock) {
      add('blocks');
      add('samples', m.sampleBlock.sampleCount);
    } else if (m.ledEvent) add('ledEvents');
    else if (m.status) {
      add('status');
      const trip = m.status.darkReason === DarkReason.DARK_REASON_HEARTBEAT_TIMEOUT;
      if (trip && !dark) add('watchdogTrips');
      dark = trip;
      if (Number(m.status.blocksDropped) > 0 && !overrun) add('overruns');
      overrun = Number(m.status.blocksDropped) > 0;
    } else if (m.body && m.body !== 'log' && m.body !== 'digitalEvent') {
      const command = commands.get(m.requestId) ?? 'unsolicited';
      add(`${command}:${m.error ? ErrorCode[m.error.code] : m.body}`);
    }
  }
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
  const coverage: Record<string, number> = {};
  let badFrames = 0;
  try {
    const batch = o.batch ?? 250;
    for (let from = 0; from < o.sequences; from += batch) {
      const seqs = Array.from({ length: Math.min(batch, o.sequences - from) }, (_, k) => generateSequence(sequenceSeed(o.seed, from + k), pair));
      const natives = await firmware.run(seqs);
      for (let k = 0; k < seqs.length; k++) {
        const sim = runOnSim(seqs[k]!, pair);
        badFrames += sim.badFrames + natives[k]!.badFrames;
        tally(coverage, seqs[k]!, natives[k]!);
        const differences = compareTranscripts(normalize(sim), normalize(natives[k]!));
        if (differences.length > 0 && divergences.length < (o.maxDivergences ?? 20)) divergences.push({ sequence: seqs[k]!, differences });
      }
    }
  } finally {
    await firmware.close();
  }
  return { pair: o.pair, executed: o.sequences, divergences, badFrames, coverage };
}

/** A divergence, readable: the seed, the script's steps and the first differences. */
export function describeDivergence(d: Divergence): string {
  const steps = d.sequence.steps.map((s) => (s.kind === 'send' ? s.label : s.kind === 'link' ? (s.up ? 'read' : 'stall') : `+${s.ms}ms`)).join(' ');
  const diffs = d.differences.map((x) => `  ${x.path}: sim ${JSON.stringify(x.sim)} / native ${JSON.stringify(x.native)}`).join('\n');
  return `${d.sequence.pair} seed ${d.sequence.seed}: ${steps}\n${diffs}`;
}
