// `fiberrig cohort` end to end (issue 16, acceptance 3, small): two simulated animals per
// condition (seeds 4101 and 4102, chosen before looking at any result; checked only that each
// world's first 540 s hold an NREM bout ≥ 200 s with micro-arousals bridged, which the NE analysis
// needs), recorded through the whole host path in worker threads, analysed and compared; then the
// same recordings compared with --group, and the errors.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ZOLPIDEM_NE_AMPLITUDE_SCALE } from '../../../../firmware-sim/world/scenarios/zolpidem.ts';
import { METRICS } from '../../../../host/analysis/cohort/compare.ts';
import { type CohortResult, runCohort } from '../../../../host/analysis/cohort/run.ts';
import { main } from '../../../../host/cli/main.ts';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = await main(args, { stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const readCohort = async (dir: string): Promise<CohortResult> => JSON.parse(await readFile(join(dir, 'cohort.json'), 'utf8')) as CohortResult;
/** cohort.json writes non-finite numbers as null */
const n = (v: number | null): number => (v === null ? Number.NaN : v);

const SEEDS = [4101, 4102];
const HOURS = 0.15;
/**
 * Tolerance on the point estimate of the zolpidem/sleep NE cycle amplitude ratio (truth 0.5) for a
 * 2-animal cohort. Measured with 6 animals × 1 h (seeds 1–6): analyze's default correction
 * (isosbestic) gives 0.548 (95 % CI 0.533–0.562), --method none 0.501 (0.499–0.502): the isosbestic
 * fit takes away a larger share of the larger NE oscillation, a bias of about +0.05 that this
 * tolerance admits and the 6-animal cohort resolves.
 */
const RATIO_TOLERANCE = 0.1;
/**
 * Allowance on the CI's ends: two simulated animals of one seed pair agree closely (per-animal ratios
 * within ~0.001 of each other), so their paired t interval can be a few thousandths wide and sit
 * beside the truth by the estimator's own bias (seen: [0.5008, 0.5026] on a loaded machine).
 */
const CI_BIAS_ALLOWANCE = 0.005;

describe(`fiberrig cohort: --simulate sleep,zolpidem --animals ${SEEDS.length} --hours ${HOURS} --seed ${SEEDS[0]} (worker threads), then --group over its recordings`, function () {
  this.timeout(600_000);
  let tmp: string;
  let out: string;
  let sim: CohortResult;
  let simRun: { code: number; stdout: string; stderr: string };

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-cohort-'));
    out = join(tmp, 'sim');
    simRun = await cli(['cohort', '--simulate', 'sleep,zolpidem', '--animals', String(SEEDS.length), '--hours', String(HOURS), '--seed', String(SEEDS[0]), '--workers', '2', '--out', out, '--json']);
    if (simRun.code === 0) sim = await readCohort(out);
  });
  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('records and analyses every animal, pairs them by seed, and writes the cohort whole (no temporary directory left)', async () => {
    assert.equal(simRun.code, 0, simRun.stderr);
    assert.deepEqual(sim.failures, []);
    assert.equal(sim.animals.length, 2 * SEEDS.length);
    assert.deepEqual(sim.animals.map((a) => `${a.group}:${a.seed}`).sort(), ['sleep', 'zolpidem'].flatMap((g) => SEEDS.map((s) => `${g}:${s}`)).sort());
    for (const a of sim.animals) {
      assert.ok(existsSync(join(out, a.recording, 'raw.fjl')), `${a.recording} is inside the cohort directory`);
      assert.ok(a.details.bouts >= 1, `${a.id}: at least one NREM bout analysed`);
      assert.ok(Math.abs(a.details.durationS - HOURS * 3600) < 2, `${a.id}: ${a.details.durationS} s recorded`);
    }
    assert.equal(sim.workers, 2);
    const c = sim.comparison.comparisons[0]!;
    assert.equal(c.design, 'paired');
    assert.deepEqual(c.pairs.map((p) => p.seed), SEEDS);
    assert.equal(c.metrics.find((m) => m.metric === 'neCycleAmplitudePct')!.test.test, 'paired t');
    assert.deepEqual((await readdir(tmp)).sort(), ['sim'], 'only the renamed cohort directory');
    const json = JSON.parse(simRun.stdout) as { headline: { ratio: number }; out: string };
    assert.equal(json.out, out);
    assert.equal(json.headline.ratio, sim.headline!.ratio);
    assert.match(simRun.stderr, /sleep-01: recording/);
  });

  it(`NE cycle amplitude zolpidem/sleep: the 95 % CI (ends widened by ±${CI_BIAS_ALLOWANCE}) contains the simulated truth ${ZOLPIDEM_NE_AMPLITUDE_SCALE}, and the point estimate is within ±${RATIO_TOLERANCE} of it`, () => {
    const h = sim.headline!;
    assert.equal(h.simulatedTruth, ZOLPIDEM_NE_AMPLITUDE_SCALE);
    assert.equal(h.design, 'paired');
    const lo = h.ciLow === null ? Number.NEGATIVE_INFINITY : h.ciLow;
    const hi = h.ciHigh === null ? Number.POSITIVE_INFINITY : h.ciHigh;
    assert.ok(lo - CI_BIAS_ALLOWANCE <= ZOLPIDEM_NE_AMPLITUDE_SCALE && ZOLPIDEM_NE_AMPLITUDE_SCALE <= hi + CI_BIAS_ALLOWANCE, `CI [${lo}, ${hi}]`);
    assert.ok(Math.abs(h.ratio - ZOLPIDEM_NE_AMPLITUDE_SCALE) <= RATIO_TOLERANCE, `ratio ${h.ratio}`);
    // each animal on its own, too
    for (const s of SEEDS) {
      const a = sim.animals.find((x) => x.group === 'sleep' && x.seed === s)!;
      const b = sim.animals.find((x) => x.group === 'zolpidem' && x.seed === s)!;
      const r = b.metrics.neCycleAmplitudePct / a.metrics.neCycleAmplitudePct;
      assert.ok(Math.abs(r - ZOLPIDEM_NE_AMPLITUDE_SCALE) <= RATIO_TOLERANCE, `seed ${s}: ratio ${r}`);
    }
  });

  it('writes the per-animal table (CSV and JSON agree), comparison.csv and a report page with every metric\'s dots and group means', async () => {
    const csv = (await readFile(join(out, 'animals.csv'), 'utf8')).trim().split('\n');
    const header = csv[0]!.split(',');
    assert.equal(csv.length, 1 + sim.animals.length);
    for (const row of csv.slice(1)) {
      const f = row.split(',');
      const a = sim.animals.find((x) => x.id === f[header.indexOf('animal')])!;
      for (const m of METRICS) {
        const v = Number(f[header.indexOf(m.key)]);
        assert.ok(Math.abs(v - n(a.metrics[m.key])) <= 1e-5 * Math.abs(v), `${a.id} ${m.key}: ${v} vs ${a.metrics[m.key]}`);
      }
    }
    const comparison = (await readFile(join(out, 'comparison.csv'), 'utf8')).trim().split('\n');
    assert.equal(comparison.length, 1 + METRICS.length);
    const html = await readFile(join(out, 'cohort.html'), 'utf8');
    for (const m of METRICS) {
      const figure = html.split(`data-plot="${m.key}"`)[1]!.split('</figure>')[0]!;
      const dots = figure.match(/<circle /g) ?? [];
      const finite = sim.animals.filter((a) => Number.isFinite(n(a.metrics[m.key]))).length;
      assert.equal(dots.length, finite, `${m.key}: one dot per animal`);
      assert.equal((figure.match(/<rect /g) ?? []).length, 2, `${m.key}: a mean per group`);
    }
    assert.doesNotMatch(html, /<script|src="http|href="http/, 'self-contained');
  });

  it('--group over the same recordings: paired by the seeds in session.json, the same numbers as the simulated cohort', async () => {
    const rec = (g: string): string => sim.animals.filter((a) => a.group === g).map((a) => join(out, a.recording)).join(',');
    const dir = join(tmp, 'groups');
    const r = await cli(['cohort', '--group', `sleep=${rec('sleep')}`, '--group', `zolpidem=${rec('zolpidem')}`, '--out', dir, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', '--quiet');
    const g = await readCohort(dir);
    assert.equal(g.comparison.comparisons[0]!.design, 'paired');
    assert.deepEqual(g.animals.map((a) => a.seed).sort(), [...SEEDS, ...SEEDS].sort());
    assert.equal(g.headline!.ratio, sim.headline!.ratio);
    assert.equal(g.headline!.simulatedTruth, null, 'recordings carry no truth');
    assert.match(r.stdout, /headline: NE cycle amplitude zolpidem\/sleep = /);
  });

  it('--group --unpaired with one broken recording: Welch t and Mann–Whitney, the others complete, the failure is listed and the exit code is 1', async () => {
    const broken = join(tmp, 'broken');
    await mkdir(broken);
    await writeFile(join(broken, 'raw.fjl'), Buffer.from('not a fiberrig raw log at all'));
    const rec = (g: string): string[] => sim.animals.filter((a) => a.group === g).map((a) => join(out, a.recording));
    const dir = join(tmp, 'unpaired');
    const r = await cli(['cohort', '--group', `sleep=${rec('sleep').join(',')}`, '--group', `zolpidem=${[...rec('zolpidem'), broken].join(',')}`, '--unpaired', '--out', dir, '--json']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_COHORT_ANIMAL_FAILED: 1 of 5 animals failed \(zolpidem-broken\)/);
    const u = await readCohort(dir);
    assert.equal(u.animals.length, 4);
    assert.equal(u.failures.length, 1);
    assert.equal(u.failures[0]!.recording, broken);
    const c = u.comparison.comparisons[0]!;
    assert.equal(c.design, 'unpaired');
    const amp = c.metrics.find((m) => m.metric === 'neCycleAmplitudePct')!;
    assert.equal(amp.test.test, 'Welch t');
    assert.equal(amp.rankTest?.test, 'Mann-Whitney U');
    assert.equal(u.comparison.groups[1]!.failed, 1);
    assert.match(await readFile(join(dir, 'animals.csv'), 'utf8'), /zolpidem,zolpidem-broken,,[^\n]*,failed,/);
    assert.equal((JSON.parse(r.stdout) as { failures: unknown[] }).failures.length, 1);
  });

  it('refuses a bad --group, a missing recording, an existing --out and a non-sleep condition before writing anything', async () => {
    const dir = join(tmp, 'never');
    const cases: Array<[string[], RegExp]> = [
      [['--group', 'sleep', '--group', 'z=x'], /E_COHORT_BAD_GROUP/],
      [['--group', `sleep=${join(out, 'recordings', 'sleep-01')}`], /E_COHORT_BAD_GROUP: a comparison needs at least two/],
      [['--group', `a=${join(tmp, 'nope')}`, '--group', `b=${join(out, 'recordings', 'sleep-01')}`], /E_COHORT_NO_RECORDING: --group a: .*nope/],
      [['--simulate', 'sleep,flat'], /E_COHORT_BAD_OPTION: cannot simulate a cohort under "flat"/],
      [['--simulate', 'sleep,zolpidem', '--animals', '0'], /E_COHORT_BAD_OPTION/],
      [[], /E_COHORT_BAD_OPTION: nothing to compare/],
      [['--simulate', 'sleep,zolpidem', '--method', 'ratio'], /E_COHORT_BAD_OPTION: --method ratio: not a correction method/],
    ];
    for (const [args, error] of cases) {
      const r = await cli(['cohort', ...args, '--out', dir]);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, error);
      assert.equal(existsSync(dir), false, `${args.join(' ')}: nothing written`);
    }
    const exists = await cli(['cohort', '--simulate', 'sleep,zolpidem', '--out', out]);
    assert.equal(exists.code, 1);
    assert.match(exists.stderr, /E_COHORT_OUT_EXISTS/);
  });

  it('stopped (AbortSignal, as Ctrl-C does) while recording: the workers end, E_COHORT_ABORTED, and neither the cohort nor its temporary directory remains', async () => {
    const dir = join(tmp, 'aborted');
    const abort = new AbortController();
    const before = new Set(await readdir(tmp));
    await assert.rejects(
      runCohort({ kind: 'simulate', conditions: ['sleep', 'zolpidem'], animals: 3, durationS: 3600, seed: 4201 }, {
        out: dir, workers: 2, signal: abort.signal,
        onProgress: (p) => { if (p.kind === 'stage') abort.abort(); },
      }),
      { code: 'E_COHORT_ABORTED' },
    );
    assert.deepEqual((await readdir(tmp)).filter((f) => !before.has(f)), [], 'nothing left behind');
  });
});
