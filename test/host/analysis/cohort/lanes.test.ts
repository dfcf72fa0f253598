// Cohort lanes (issue 16): one worker thread per lane for all the animals it runs, and an animal's
// figures do not depend on what its worker ran before (the same as a fresh worker's on the same recording).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnimalFailure, AnimalResult } from '../../../../host/analysis/cohort/compare.ts';
import { type AnimalJob, type RunCounters, runAnimals } from '../../../../host/analysis/cohort/run.ts';

const DURATION_S = 120;
const isFailure = (r: AnimalResult | AnimalFailure): r is AnimalFailure => 'code' in r;

describe('cohort lanes: one worker per lane, reused across animals', function () {
  this.timeout(600_000);
  let tmp: string;
  before(async () => { tmp = await mkdtemp(join(tmpdir(), 'fiberrig-lanes-')); });
  after(async () => { if (tmp) await rm(tmp, { recursive: true, force: true }); });

  const jobsIn = (dir: string): AnimalJob[] => [
    { kind: 'simulate', group: 'sleep', id: 'sleep-01', recording: join(dir, 'sleep-01'), scenario: 'sleep', seed: 11, durationS: DURATION_S },
    { kind: 'simulate', group: 'zolpidem', id: 'zolpidem-01', recording: join(dir, 'zolpidem-01'), scenario: 'zolpidem', seed: 11, durationS: DURATION_S },
    { kind: 'simulate', group: 'sleep', id: 'sleep-02', recording: join(dir, 'sleep-02'), scenario: 'sleep', seed: 12, durationS: DURATION_S },
  ];

  it('3 animals with workers=1 start one worker, and each animal\'s figures equal those of its recording analysed in a fresh worker', async () => {
    const counters: RunCounters = { workersStarted: 0 };
    const reused = await runAnimals(jobsIn(join(tmp, 'reused')), 1, undefined, undefined, counters);
    assert.equal(counters.workersStarted, 1);
    // A recording is not reproducible byte for byte from its seed (the simulated world runs from the
    // device's opening, and the session starts at a world time that depends on the host's pace), so the
    // fresh workers analyse the very recordings the reused worker made and analysed after other animals.
    for (const a of reused) {
      assert.ok(!isFailure(a), JSON.stringify(a));
      const c: RunCounters = { workersStarted: 0 };
      const [b] = await runAnimals([{ kind: 'analyze', group: a.group, id: a.id, recording: a.recording }], 1, undefined, undefined, c);
      assert.equal(c.workersStarted, 1);
      assert.ok(b && !isFailure(b), JSON.stringify(b));
      assert.equal(b.seed, a.seed, 'the seed from session.json');
      assert.deepEqual(a.metrics, b.metrics, `${a.id}: metrics`);
      assert.deepEqual(a.details, b.details, `${a.id}: details`);
      assert.deepEqual(a.unavailable, b.unavailable, `${a.id}: unavailable`);
      assert.ok(Math.abs(a.details.durationS - DURATION_S) < 2, `${a.id}: ${a.details.durationS} s recorded`);
      if (process.platform === 'linux') {
        assert.ok(a.recordCpuS! > 0, `${a.id}: recordCpuS ${a.recordCpuS}`);
        assert.equal(typeof a.rawLogCpuS, 'number', `${a.id}: rawLogCpuS ${a.rawLogCpuS}`);
        assert.ok(a.analyseCpuS! > 0 && b.analyseCpuS! > 0, `${a.id}: analyseCpuS ${a.analyseCpuS}, ${b.analyseCpuS}`);
      }
      assert.equal(b.recordCpuS, null, 'nothing recorded');
      assert.equal(b.rawLogCpuS, null, 'no raw log written');
      // a cohort's animal is recorded without the signal tables (fiberrig demod makes them from the raw log)
      for (const name of ['signals.csv', 'aux.csv']) assert.ok(!existsSync(join(a.recording, name)), `${a.id}: no ${name}`);
      assert.ok(existsSync(join(a.recording, 'raw.fjl')), `${a.id}: raw.fjl`);
    }
    // the three animals are three different recordings (their signals' means differ), so the equalities above
    // compared each animal with itself and not one recording three times; their headline figures may
    // coincide by chance over 120 s (two sleep seeds both gave 20 s of NREM and NaN elsewhere)
    const means = await Promise.all((reused as AnimalResult[]).map(async (a) => {
      const summary = JSON.parse(await readFile(join(a.recording, 'summary.json'), 'utf8')) as { channels: Array<{ mean: number }> };
      return summary.channels.map((c) => c.mean);
    }));
    assert.notDeepEqual(means[0], means[1]);
    assert.notDeepEqual(means[0], means[2]);
    assert.notDeepEqual(means[1], means[2]);
  });

  it('after a failed animal the lane goes on in a fresh worker', async () => {
    const counters: RunCounters = { workersStarted: 0 };
    const missing = (id: string): AnimalJob => ({ kind: 'analyze', group: 'g', id, recording: join(tmp, `no-such-${id}`) });
    const results = await runAnimals([missing('a'), missing('b')], 1, undefined, undefined, counters);
    assert.equal(counters.workersStarted, 2);
    assert.ok(results.every(isFailure));
    assert.deepEqual(results.map((r) => r.id), ['a', 'b']);
  });
});
