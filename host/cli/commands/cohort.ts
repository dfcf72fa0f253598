// `fiberrig cohort`: compare groups of animals. --simulate records N simulated animals per
// condition (animal k of every condition is seed S+k: a paired design) in worker threads;
// --group takes existing recordings. Each animal is analysed with analyzeRecording; the groups
// are compared (cohort.json, animals.csv, comparison.csv, cohort.html in --out, written whole or
// not at all). Progress on stderr, the summary on stdout (--json). An animal that fails does not
// stop the others: the cohort is written with the failure listed, and the exit code is non-zero.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CohortError } from '../../analysis/cohort/errors.ts';
import { CORRECTION_METHODS, type CorrectionMethod } from '../../analysis/correct.ts';
import { type CohortResult, type CohortSpec, parseGroupOption, runCohort } from '../../analysis/cohort/run.ts';
import { SIMULATED_NE_AMPLITUDE } from '../devices.ts';
import { MIXED_ALIGNMENT_POLICIES, type MixedAlignmentPolicy } from '../../align/shared-axis.ts';
import type { CliIo, Runner } from '../main.ts';


export interface CohortCommandOptions {
  simulate?: string;
  animals?: string;
  hours?: string;
  seed?: string;
  group?: string[];
  out?: string;
  workers?: string;
  unpaired?: boolean;
  method?: string;
  json?: boolean;
  quiet?: boolean;
  mixedAlignment?: string;
  signalTables?: boolean;
}

function numberOption(name: string, text: string, check: (v: number) => boolean, what: string): number {
  const v = Number(text);
  if (text.trim() === '' || !check(v)) throw new CohortError('E_COHORT_BAD_OPTION', `--${name} ${text}: must be ${what}`);
  return v;
}

const wholeAtLeast = (min: number) => (v: number): boolean => Number.isInteger(v) && v >= min && v <= 1e6;

/** The cohort asked for by the options (throws CohortError for a bad or missing one). */
export function cohortSpecOf(opts: CohortCommandOptions): CohortSpec {
  const groups = opts.group ?? [];
  if (opts.simulate !== undefined && groups.length > 0) throw new CohortError('E_COHORT_BAD_OPTION', '--simulate and --group cannot be combined', 'simulate a cohort, or compare existing recordings');
  if (opts.simulate !== undefined) {
    return {
      kind: 'simulate',
      conditions: opts.simulate.split(',').map((c) => c.trim()).filter((c) => c !== ''),
      animals: numberOption('animals', opts.animals ?? '6', wholeAtLeast(1), 'a whole number ≥ 1'),
      durationS: numberOption('hours', opts.hours ?? '1', (v) => v > 0 && v <= 48, 'hours per animal, > 0 and ≤ 48') * 3600,
      seed: numberOption('seed', opts.seed ?? '1', (v) => Number.isInteger(v) && v >= 0 && v < 2 ** 31, 'a whole number ≥ 0'),
    };
  }
  if (groups.length > 0) return { kind: 'groups', groups: groups.map(parseGroupOption) };
  throw new CohortError('E_COHORT_BAD_OPTION', 'nothing to compare', 'give --simulate sleep,zolpidem (with --animals, --hours, --seed) or two --group NAME=REC[,REC...]');
}

const fmt = (v: number): string => (Number.isFinite(v) ? String(Number(v.toPrecision(3))) : Number.isNaN(v) ? 'n/a' : v > 0 ? '∞' : '−∞');

function summaryText(result: CohortResult, out: string): string {
  const lines = [`cohort: ${result.animals.length} animal(s) analysed, ${result.failures.length} failed, ${result.wallS.toFixed(1)} s wall, ${result.workers} worker(s) → ${out}`];
  for (const g of result.comparison.groups) {
    const m = g.metrics.neCycleAmplitudePct;
    lines.push(`  ${g.name}: n=${m.n} NE cycle amplitude ${fmt(m.mean)} % [${fmt(m.ciLow)}, ${fmt(m.ciHigh)}]`);
  }
  for (const t of result.timeAxes) if (t.aligned.length > 0) lines.push(`  ${t.group}: ${t.text}`);
  for (const c of result.comparison.comparisons) {
    lines.push(`  ${c.group} vs ${c.reference} (${c.design}: ${c.pairing})`);
    for (const m of c.metrics) {
      lines.push(`    ${m.label}: ratio ${fmt(m.ratio.ratio)} [${fmt(m.ratio.ciLow)}, ${fmt(m.ratio.ciHigh)}]; ${m.test.test} t(${fmt(m.test.df)}) = ${fmt(m.test.t)}, p = ${fmt(m.test.p)}, ${m.test.effectSize.name} ${fmt(m.test.effectSize.value)}${m.rankTest ? `; ${m.rankTest.test} p = ${fmt(m.rankTest.p)}` : ''}`);
    }
  }
  const h = result.headline;
  if (h) lines.push(`headline: NE cycle amplitude ${h.group}/${h.reference} = ${fmt(h.ratio)} (95 % CI ${fmt(h.ciLow)}–${fmt(h.ciHigh)}, ${h.method})${h.simulatedTruth !== null ? `; simulated truth ${fmt(h.simulatedTruth)}` : ''}`);
  for (const f of result.failures) lines.push(`FAILED ${f.id}: ${f.code}: ${f.message}`);
  return `${lines.join('\n')}\n`;
}

export async function cohortCommand(io: CliIo, opts: CohortCommandOptions): Promise<number> {
  const spec = cohortSpecOf(opts);
  const workers = opts.workers !== undefined ? numberOption('workers', opts.workers, wholeAtLeast(1), 'a whole number ≥ 1') : undefined;
  const method = opts.method;
  if (method !== undefined && !(CORRECTION_METHODS as readonly string[]).includes(method)) {
    throw new CohortError('E_COHORT_BAD_OPTION', `--method ${method}: not a correction method`, `use one of ${CORRECTION_METHODS.join(', ')}`);
  }
  const mixed = opts.mixedAlignment ?? 'warn';
  if (!(MIXED_ALIGNMENT_POLICIES as readonly string[]).includes(mixed)) {
    throw new CohortError('E_COHORT_BAD_OPTION', `--mixed-alignment ${mixed}: not a policy`, `use one of ${MIXED_ALIGNMENT_POLICIES.join(', ')}`);
  }
  const out = resolve(opts.out ?? `cohorts/${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const log = (line: string): void => { if (!opts.quiet) io.stderr.write(`${line}\n`); };
  if (spec.kind === 'simulate') log(`cohort: ${spec.animals} animal(s) × ${spec.conditions.join(', ')}, ${fmt(spec.durationS / 3600)} h each, seeds ${spec.seed}..${spec.seed + spec.animals - 1}`);
  // Ctrl-C stops the workers and removes the partial cohort
  const abort = new AbortController();
  const onSignal = (): void => { io.stderr.write('cohort: stopping (signal); nothing will be written\n'); abort.abort(); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const result = await runCohort(spec, {
    out,
    signal: abort.signal,
    ...(workers !== undefined ? { workers } : {}),
    ...(opts.unpaired ? { pairing: 'unpaired' as const } : {}),
    ...(opts.signalTables ? { signalTables: true } : {}),
    ...(method !== undefined ? { analyze: { method: method as CorrectionMethod } } : {}),
    simulatedNeAmplitude: SIMULATED_NE_AMPLITUDE,
    mixedAlignment: mixed as MixedAlignmentPolicy,
    onProgress: (p) => {
      const at = `[${p.elapsedS.toFixed(0)} s ${p.finished}/${p.total}]`;
      if (p.kind === 'stage') log(`${at} ${p.id}: ${p.stage}`);
      else if (p.kind === 'done') log(`${at} ${p.id}: done`);
      else io.stderr.write(`${at} ${p.id}: FAILED ${p.message ?? ''}\n`);
    },
  }).finally(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  for (const w of result.warnings) io.stderr.write(`warning: ${w}\n`);
  if (opts.json) {
    io.stdout.write(`${JSON.stringify({
      out, animals: result.animals.length, timeAxes: result.timeAxes.map((t) => ({ group: t.group, shared: t.shared, driver: t.driver, text: t.text })), warnings: result.warnings, failures: result.failures, wallS: result.wallS, workers: result.workers,
      headline: result.headline, groups: result.comparison.groups, comparisons: result.comparison.comparisons,
    }, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))}\n`);
  } else io.stdout.write(summaryText(result, out));
  if (result.failures.length > 0) {
    throw new CohortError('E_COHORT_ANIMAL_FAILED', `${result.failures.length} of ${result.failures.length + result.animals.length} animals failed (${result.failures.map((f) => f.id).join(', ')}); the others are compared in ${out}`, 'see animals.csv / cohort.json for each failure\'s error');
  }
  return 0;
}

export function define(command: Command, io: CliIo, run: Runner): void {
  command
    .description('compare groups of animals: simulate a cohort (--simulate sleep,zolpidem) or take recordings (--group NAME=REC,...); per-animal table, group means with 95 % CIs, tests, report page')
    .option('--simulate <conditions>', 'simulated conditions, comma-separated (sleep, zolpidem); animal k of each is seed S+k (paired)')
    .option('--animals <n>', 'animals per condition (with --simulate)', '6')
    .option('--hours <h>', 'hours recorded per animal (with --simulate)', '1')
    .option('--seed <s>', 'seed of the first animal (with --simulate)', '1')
    .option('--group <NAME=REC,...>', 'a group of existing recordings (repeat; the first group is the reference)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--out <dir>', 'cohort directory, must not exist (default cohorts/<timestamp>)')
    .option('--workers <k>', 'worker threads (default: available cores)')
    .option('--method <method>', `photometry correction for every animal: ${CORRECTION_METHODS.join(' | ')} (default: fiberrig analyze's choice)`)
    .option('--mixed-alignment <policy>', `a --group whose recordings are partly aligned by fiberrig align (some not, or by different runs): ${MIXED_ALIGNMENT_POLICIES.join(' | ')} (default warn)`)
    .option('--signal-tables', 'with --simulate: also write each animal\'s signals.csv and aux.csv (left out by default; `fiberrig demod --in REC` makes them later)')
    .option('--unpaired', 'compare groups as independent even when the animals pair by seed')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--quiet', 'no progress on stderr')
    .action((opts: CohortCommandOptions) => run(() => cohortCommand(io, opts))());
}
