// Differential testing: random command sequences (generate.ts) replayed on the
// simulator and on the C firmware built for the host (its --lockstep mode),
// every reply, block, LedEvent and Status compared field by field (what is set
// aside, and why: normalize.ts). 10 000 sequences in all; longer runs:
//   npm run differential -- --sequences 200000 --seed 7
// Needs the host builds (`npm run firmware:build`): pending without them
// locally, a failure under CI=true.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { PAIRS, type PairName } from './boards.ts';
import { describeDivergence, runDifferential } from './differential.ts';
import { IN_CI } from '../conformance/target.ts';

const SEED = Number(process.env['DIFFERENTIAL_SEED'] ?? 1);
const RUNS: ReadonlyArray<[PairName, number]> = [['native', 6000], ['native-pyboard', 4000]];

/** What a run must have exercised for its agreement to mean something (command:reply, as DifferentialResult.coverage counts). */
const MUST_COVER = [
  'configure:ack', 'configure:ERROR_CODE_INVALID_CONFIG', 'configure:ERROR_CODE_UNSUPPORTED', 'configure:ERROR_CODE_UNKNOWN_CHANNEL',
  'configure:ERROR_CODE_LIMIT_EXCEEDED', 'configure:ERROR_CODE_NOT_CALIBRATED', 'configure:ERROR_CODE_BUSY', 'configure:ERROR_CODE_NOT_CONFIGURED',
  'start:ack', 'start:ERROR_CODE_BUSY', 'stop:ack', 'setLed:ack', 'setLed:ERROR_CODE_LIMIT_EXCEEDED', 'setLed:ERROR_CODE_NOT_CALIBRATED',
  'heartbeat:heartbeatAck', 'writeCalibration:ack', 'writeCalibration:ERROR_CODE_INVALID_CONFIG', 'writeCalibration:ERROR_CODE_FIELD_TOO_LONG',
  'readCalibration:calibrationTable', 'reset:ack', 'selfTest:selfTestReport', 'hello:ERROR_CODE_FIELD_TOO_LONG', 'hello:ERROR_CODE_VERSION_MISMATCH',
  'none:ERROR_CODE_UNKNOWN_COMMAND', 'unsolicited:ERROR_CODE_FRAME_ERROR', 'blocks', 'ledEvents', 'status', 'watchdogTrips', 'overruns',
] as const;

describe('differential: simulator vs C firmware', function () {
  this.timeout(180_000);

  for (const [pair, sequences] of RUNS) {
    it(`${pair}: ${sequences} random sequences from seed ${SEED} give the same replies, blocks, LedEvents and Status`, async function () {
      const binary = PAIRS[pair].binary;
      if (!existsSync(binary)) {
        const why = `${binary} is not built: run \`npm run firmware:build\``;
        if (IN_CI) throw new Error(why);
        this.test!.title += ` (pending: ${why})`;
        this.skip();
      }
      const r = await runDifferential({ pair, sequences, seed: SEED, maxDivergences: 3 });
      assert.equal(r.executed, sequences);
      const missed = MUST_COVER.filter((k) => !(r.coverage[k]! > 0));
      assert.deepEqual(missed, [], 'the generator reached every rule and command it is meant to');
      assert.equal(r.badFrames, 0, 'every frame either side sent decodes');
      assert.deepEqual(r.divergences.map(describeDivergence), [], `replay one with: npm run differential -- --pair ${pair} --sequences 1 --seed SEED`);
    });
  }
});
