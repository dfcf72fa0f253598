// Issue 14, point 6: a recording with a reconnect and a device reset, through
// `fiberrig acquire` at speed 1 with a 50 ppm fast crystal: `inspect` reports
// the drift of each segment on its own (no artefact from mixing two runs in
// one fit: the same situation gave −768 ppm at 0 ppm before), and every gap
// record carries its uncertainty.
//
// Tolerance: heartbeats every 100 ms (heartbeatTimeoutMs 400) over ~7 s per
// segment with ~90 µs rms round-trip jitter fit the slope to ~5 ppm (1 sigma).
// The scatter follows the machine's load (a CI run saw −73 ppm on a busy
// machine), so each segment's estimate must lie within ±20 ppm or within 4 of the
// standard errors inspect states for it, whichever is wider, and the stated
// error must stay under 40 ppm (the mixed-runs artefact was −768 ppm). Expected: the simulator's +50 ppm (fast) is −49.9975
// ppm in the host's sign convention (see clock.realtime.test.ts).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LOCKIN_CONFIG } from '../../../host/config/acquisition.ts';
import { inspectRecording, type RecordingInspection } from '../../../host/record/inspect.ts';
import { cliAcquire, readCsv } from './cli-io.ts';

const EXPECTED_PPM = (1 / (1 + 50e-6) - 1) * 1e6;
const TOLERANCE_PPM = 20;
const MAX_STDERR_PPM = 40;

describe('acceptance: per-segment clock drift through `fiberrig acquire` + `inspect` (linear, speed 1, drift 50 ppm, disconnect@7 + reset@14, 21 s)', function () {
  this.timeout(120_000);
  let tmp: string;
  let dir: string;
  let r: RecordingInspection;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-segments-'));
    dir = join(tmp, 'rec');
    const config = join(tmp, 'config.json');
    await writeFile(config, JSON.stringify({ ...DEFAULT_LOCKIN_CONFIG, heartbeatTimeoutMs: 400 }));
    await cliAcquire('sim://linear?seed=7&speed=1&drift_ppm=50&faults=disconnect@7:for=1,reset@14', '21s', dir, ['--config', config]);
    r = await inspectRecording(dir);
  });

  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it(`inspect: three segments, each with its own drift within max(±${TOLERANCE_PPM} ppm, ±4 stated sigma) of ${EXPECTED_PPM.toFixed(2)} ppm, stated sigma < ${MAX_STDERR_PPM} ppm`, () => {
    console.log(`      per-segment drift ${r.clock?.segments.map((s) => `${s.driftPpm.toFixed(2)} ± ${s.driftStdErrPpm.toFixed(2)} ppm (${s.observations} heartbeats, ${s.rmsResidualUs.toFixed(0)} µs rms)`).join(', ')}`);
    assert.equal(r.segments, 3);
    assert.deepEqual(r.clock?.segments.map((s) => s.segment), [0, 1, 2]);
    for (const s of r.clock!.segments) {
      assert.ok(s.observations >= 30, `segment ${s.segment}: ${s.observations} heartbeats`);
      assert.ok(s.driftStdErrPpm < MAX_STDERR_PPM, `segment ${s.segment}: stated ± ${s.driftStdErrPpm.toFixed(2)} ppm`);
      const bound = Math.max(TOLERANCE_PPM, 4 * s.driftStdErrPpm);
      assert.ok(Math.abs(s.driftPpm - EXPECTED_PPM) <= bound, `segment ${s.segment}: ${s.driftPpm.toFixed(2)} ± ${s.driftStdErrPpm.toFixed(2)} ppm`);
    }
    const first = r.clock!.segments[0]!;
    assert.ok(Math.abs(r.clock!.driftPpm - EXPECTED_PPM) <= Math.max(TOLERANCE_PPM, 4 * first.driftStdErrPpm));
  });

  it('gaps: the reconnect is device-timed (±1 sample), the reset measured (a stated uncertainty of 1..100 samples, i.e. under 10 ms; its true error against ground truth is in resume.realtime.test.ts); session.json and gaps.csv carry the uncertainty', async () => {
    const session = JSON.parse(await readFile(join(dir, 'session.json'), 'utf8')) as { gaps: Array<{ source: string; reason: string; uncertaintySamples: number }> };
    const det = session.gaps.filter((g) => g.source === 'detector' && g.reason !== 'missing-blocks');
    assert.deepEqual(det.map((g) => g.reason), ['reconnect', 'device-reset']);
    assert.equal(det[0]!.uncertaintySamples, 1);
    // the bound follows the heartbeat round trips' scatter, so it widens on a loaded machine (±26 seen
    // with other jobs running); a guess, as before issue 14, was off by 317 samples
    console.log(`      reset gap stated uncertainty ±${det[1]!.uncertaintySamples} samples`);
    assert.ok(det[1]!.uncertaintySamples >= 1 && det[1]!.uncertaintySamples <= 100, `reset gap ±${det[1]!.uncertaintySamples}`);
    const csv = await readCsv(dir, 'gaps.csv', true);
    assert.equal(csv.header.at(-1), 'uncertainty_samples');
    const rows = csv.rows.filter((row) => row[0] === 'detector' && row[4] !== 'missing-blocks');
    assert.deepEqual(rows.map((row) => Number(row[6])), det.map((g) => g.uncertaintySamples));
  });
});
