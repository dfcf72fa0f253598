// `fiberrig cohort`: record (or take) every animal, analyse each in worker threads, compare the
// groups, and write the cohort's directory atomically: everything goes to a temporary sibling
// directory that is renamed to --out only once complete, so a cohort directory is never half
// written. Progress is reported through a callback; nothing is printed.
import { availableParallelism } from 'node:os';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { tsxEsmApiUrl } from '../../record/rawlog-io.ts';
import { resolveRecording } from '../../record/session.ts';
import type { AnalyzeOptions } from '../analyze/types.ts';
import { type AnimalFailure, type AnimalResult, type CohortComparison, compareGroups, type Pairing } from './compare.ts';
import { CohortError } from './errors.ts';
import { writeCohortFiles } from './report.ts';
import { checkMixedAlignment, type MixedAlignmentPolicy, type SharedAxis, sharedAxisOf } from '../../align/shared-axis.ts';

/** The simulated conditions a cohort can record: the sleep scenarios (EEG/EMG, NE oscillation). */
export const COHORT_SCENARIOS = ['sleep', 'zolpidem'] as const;

interface JobBase {
  group: string;
  id: string;
  /** where the recording is (simulate: where it is written) */
  recording: string;
  analyze?: AnalyzeOptions;
}
export type AnimalJob =
  | (JobBase & { kind: 'simulate'; scenario: string; seed: number; durationS: number; signalTables?: boolean })
  | (JobBase & { kind: 'analyze' });

export type AnimalReply =
  | { kind: 'stage'; stage: 'recording' | 'analysing' }
  | ({ kind: 'done'; recording: string; seed: number | null } & Pick<AnimalResult, 'metrics' | 'details' | 'unavailable' | 'recordCpuS' | 'rawLogCpuS' | 'analyseCpuS'>)
  | { kind: 'failed'; code: string; message: string };

export interface CohortProgress {
  kind: 'stage' | 'done' | 'failed';
  id: string;
  group: string;
  stage?: 'recording' | 'analysing';
  /** for failures */
  message?: string;
  /** animals finished (done or failed) so far, and in all */
  finished: number;
  total: number;
  /** wall time since the cohort started, s */
  elapsedS: number;
}

export type CohortSpec =
  | { kind: 'simulate'; conditions: string[]; animals: number; durationS: number; seed: number }
  | { kind: 'groups'; groups: Array<{ name: string; recordings: string[] }> };

export interface CohortOptions {
  out: string;
  /** worker threads (default: the available cores) */
  workers?: number;
  pairing?: Pairing;
  level?: number;
  analyze?: AnalyzeOptions;
  /**
   * Simulated animals: also write each recording's signal tables, signals.csv and aux.csv (default false:
   * the analysis reads the raw log and its analysis input; `fiberrig demod --in REC` makes the tables later).
   */
  signalTables?: boolean;
  /** simulated conditions: each one's true NE oscillation amplitude scale (the simulator's), for the headline's truth */
  simulatedNeAmplitude?: Readonly<Record<string, number>>;
  onProgress?: (p: CohortProgress) => void;
  /** aborting stops the workers and removes what was written (CohortError E_COHORT_ABORTED) */
  signal?: AbortSignal;
  /**
   * --group whose recordings are partly aligned (`fiberrig align`: some with alignment.json, others not, or
   * several alignments): `warn` (default: in `warnings`), `refuse` (AlignError E_ALIGN_MIXED before anything
   * runs) or `ignore`.
   */
  mixedAlignment?: MixedAlignmentPolicy;
}

export interface CohortResult {
  format: 'fiberrig-cohort';
  formatVersion: 1;
  created: string;
  /** what was asked for */
  spec: CohortSpec;
  workers: number;
  wallS: number;
  animals: AnimalResult[];
  failures: AnimalFailure[];
  comparison: CohortComparison;
  /** per --group: whether its recordings share one time axis (their alignment.json); empty for simulated cohorts */
  timeAxes: Array<{ group: string } & SharedAxis>;
  /** what a reader must know (e.g. a group whose recordings are partly aligned) */
  warnings: string[];
  /** the headline: the NE cycle amplitude ratio of the second group to the first */
  headline: {
    metric: 'neCycleAmplitudePct';
    reference: string;
    group: string;
    design: 'paired' | 'unpaired';
    ratio: number;
    ciLow: number;
    ciHigh: number;
    method: string;
    /** the simulated truth, when both groups are simulated conditions with a known amplitude scale */
    simulatedTruth: number | null;
  } | null;
}

const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Parses one `--group NAME=REC[,REC...]` value. */
export function parseGroupOption(value: string): { name: string; recordings: string[] } {
  const eq = value.indexOf('=');
  const name = eq > 0 ? value.slice(0, eq) : '';
  const recordings = eq > 0 ? value.slice(eq + 1).split(',').filter((r) => r !== '') : [];
  if (!GROUP_NAME.test(name) || recordings.length === 0) {
    throw new CohortError('E_COHORT_BAD_GROUP', `--group ${JSON.stringify(value)} is not NAME=REC[,REC...]`, 'write e.g. --group sleep=rec/a,rec/b --group zolpidem=rec/c,rec/d (names: letters, digits, . _ -)');
  }
  return { name, recordings };
}

function checkSpec(spec: CohortSpec): void {
  if (spec.kind === 'simulate') {
    if (spec.conditions.length < 2) throw new CohortError('E_COHORT_BAD_OPTION', `--simulate needs at least two conditions; got ${spec.conditions.join(',') || 'none'}`, `e.g. --simulate ${COHORT_SCENARIOS.join(',')}`);
    for (const c of spec.conditions) {
      if (!(COHORT_SCENARIOS as readonly string[]).includes(c)) throw new CohortError('E_COHORT_BAD_OPTION', `cannot simulate a cohort under "${c}"`, `the simulated conditions with EEG/EMG and an NE oscillation are: ${COHORT_SCENARIOS.join(', ')}`);
    }
    if (new Set(spec.conditions).size !== spec.conditions.length) throw new CohortError('E_COHORT_BAD_OPTION', `--simulate names a condition twice: ${spec.conditions.join(',')}`);
    if (!(Number.isInteger(spec.animals) && spec.animals >= 1)) throw new CohortError('E_COHORT_BAD_OPTION', `--animals must be a whole number ≥ 1; got ${spec.animals}`);
    if (!(spec.durationS >= 60)) throw new CohortError('E_COHORT_BAD_OPTION', `each animal must be recorded for at least 60 s; got ${spec.durationS} s`, 'NE oscillation bouts are ≥ 200 s: use --hours 0.25 or more');
    if (!(Number.isInteger(spec.seed) && spec.seed >= 0)) throw new CohortError('E_COHORT_BAD_OPTION', `--seed must be a whole number ≥ 0; got ${spec.seed}`);
  } else {
    if (spec.groups.length < 2) throw new CohortError('E_COHORT_BAD_GROUP', `a comparison needs at least two --group options; got ${spec.groups.length}`);
    const names = spec.groups.map((g) => g.name);
    if (new Set(names).size !== names.length) throw new CohortError('E_COHORT_BAD_GROUP', `a group name is used twice: ${names.join(', ')}`);
  }
}

/** The jobs of a cohort; simulated recordings go under `dir`/recordings. */
async function jobsOf(spec: CohortSpec, dir: string, analyze: AnalyzeOptions | undefined, signalTables: boolean): Promise<AnimalJob[]> {
  const base = analyze ? { analyze } : {};
  if (spec.kind === 'simulate') {
    const width = Math.max(2, String(spec.animals).length);
    return spec.conditions.flatMap((scenario) => Array.from({ length: spec.animals }, (_, k): AnimalJob => {
      const id = `${scenario}-${String(k + 1).padStart(width, '0')}`;
      return { kind: 'simulate', group: scenario, id, recording: join(dir, 'recordings', id), scenario, seed: spec.seed + k, durationS: spec.durationS, ...(signalTables ? { signalTables } : {}), ...base };
    }));
  }
  const jobs: AnimalJob[] = [];
  for (const g of spec.groups) {
    for (const rec of g.recordings) {
      let recording: string;
      try {
        recording = (await resolveRecording(resolve(rec))).dir;
      } catch (cause) {
        throw new CohortError('E_COHORT_NO_RECORDING', `--group ${g.name}: ${rec} is not a fiberrig recording (${(cause as Error).message})`, 'name recording directories written by fiberrig acquire');
      }
      jobs.push({ kind: 'analyze', group: g.name, id: `${g.name}-${basename(recording)}`, recording, ...base });
    }
  }
  const ids = new Map<string, number>();
  for (const j of jobs) ids.set(j.id, (ids.get(j.id) ?? 0) + 1);
  const seen = new Map<string, number>();
  for (const j of jobs) {
    if (ids.get(j.id)! > 1) {
      const k = (seen.get(j.id) ?? 0) + 1;
      seen.set(j.id, k);
      j.id = `${j.id}-${k}`;
    }
  }
  return jobs;
}

/** A lane's worker thread: boots worker.ts (a TypeScript module: tsx is registered first, as bin.js does). */
function startWorker(): Worker {
  const target = new URL('./worker.ts', import.meta.url).href;
  const tsx = tsxEsmApiUrl();
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); })`;
  return new Worker(boot, { eval: true });
}

/**
 * One lane: runs its jobs one after another in one worker thread, started on the first job. A worker
 * that dies (or answers a failure: its state is then unknown) is replaced by a fresh one for the next job.
 */
class Lane {
  private worker: Worker | undefined;
  private current: { worker: Worker; onStage: (stage: 'recording' | 'analysing') => void; resolve: (r: AnimalReply) => void } | undefined;

  constructor(private readonly onStart: () => void) {}

  run(job: AnimalJob, onStage: (stage: 'recording' | 'analysing') => void): Promise<AnimalReply> {
    const worker = this.worker ?? this.spawn();
    return new Promise((resolveReply) => {
      this.current = { worker, onStage, resolve: resolveReply };
      worker.postMessage(job);
    });
  }

  /** Ends the current job with `reply` (e.g. aborted) and stops the worker. */
  stop(reply: AnimalReply): void {
    this.finish(this.worker, reply);
    void this.close();
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }

  private spawn(): Worker {
    const w = startWorker();
    this.onStart();
    this.worker = w;
    w.on('message', (m: AnimalReply) => {
      if (m.kind === 'stage') {
        if (this.current?.worker === w) this.current.onStage(m.stage);
        return;
      }
      if (m.kind === 'failed') this.retire(w);
      this.finish(w, m);
    });
    w.on('error', (error) => {
      this.retire(w);
      this.finish(w, { kind: 'failed', code: 'E_COHORT_ANIMAL_FAILED', message: `worker error: ${error.message}` });
    });
    w.on('exit', (code) => {
      if (this.worker === w) this.worker = undefined;
      this.finish(w, { kind: 'failed', code: 'E_COHORT_ANIMAL_FAILED', message: `the worker exited (code ${code}) without a result` });
    });
    return w;
  }

  /** The next job goes to a fresh worker. */
  private retire(w: Worker): void {
    if (this.worker === w) this.worker = undefined;
    void w.terminate();
  }

  private finish(w: Worker | undefined, reply: AnimalReply): void {
    const c = this.current;
    if (!c || (w !== undefined && c.worker !== w)) return;
    this.current = undefined;
    c.resolve(reply);
  }
}

/** What `runAnimals` counts (tests, benches). */
export interface RunCounters {
  /** worker threads started */
  workersStarted: number;
}

/**
 * Runs the jobs, at most `workers` at a time, in job order. Each lane keeps one worker thread for all its
 * jobs (a fresh one after a worker died or an animal failed).
 */
export async function runAnimals(
  jobs: readonly AnimalJob[],
  workers: number,
  onProgress: (p: Omit<CohortProgress, 'elapsedS'>) => void = () => undefined,
  signal?: AbortSignal,
  counters: RunCounters = { workersStarted: 0 },
): Promise<Array<AnimalResult | AnimalFailure>> {
  const results = new Array<AnimalResult | AnimalFailure>(jobs.length);
  let next = 0;
  let finished = 0;
  const total = jobs.length;
  const lane = async (): Promise<void> => {
    const runner = new Lane(() => { counters.workersStarted++; });
    const stop = (): void => runner.stop({ kind: 'failed', code: 'E_COHORT_ABORTED', message: 'aborted' });
    signal?.addEventListener('abort', stop, { once: true });
    try {
      while (next < jobs.length && !signal?.aborted) {
        const i = next++;
        const job = jobs[i]!;
        const reply = await runner.run(job, (stage) => onProgress({ kind: 'stage', id: job.id, group: job.group, stage, finished, total }));
        if (signal?.aborted) return;
        finished++;
        if (reply.kind === 'done') {
          results[i] = { group: job.group, id: job.id, recording: reply.recording, seed: reply.seed, metrics: reply.metrics, details: reply.details, unavailable: reply.unavailable,
            recordCpuS: reply.recordCpuS, rawLogCpuS: reply.rawLogCpuS, analyseCpuS: reply.analyseCpuS,
          };
          onProgress({ kind: 'done', id: job.id, group: job.group, finished, total });
        } else if (reply.kind === 'failed') {
          results[i] = { group: job.group, id: job.id, recording: job.recording, seed: job.kind === 'simulate' ? job.seed : null, code: reply.code, message: reply.message };
          onProgress({ kind: 'failed', id: job.id, group: job.group, message: `${reply.code}: ${reply.message}`, finished, total });
        }
      }
    } finally {
      signal?.removeEventListener('abort', stop);
      await runner.close();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, jobs.length)) }, lane));
  return results;
}

const isFailure = (r: AnimalResult | AnimalFailure): r is AnimalFailure => 'code' in r;

/**
 * Records (or takes) and analyses every animal, compares the groups, and writes cohort.json,
 * animals.csv, comparison.csv and cohort.html (and, when simulating, recordings/) to `options.out`.
 * Animals that fail are listed in `failures`; the caller decides what that means for its exit.
 */
export async function runCohort(spec: CohortSpec, options: CohortOptions): Promise<CohortResult> {
  checkSpec(spec);
  const workers = options.workers ?? availableParallelism();
  if (!(Number.isInteger(workers) && workers >= 1)) throw new CohortError('E_COHORT_BAD_OPTION', `--workers must be a whole number ≥ 1; got ${workers}`);
  const out = resolve(options.out);
  if (await stat(out).then(() => true, () => false)) {
    throw new CohortError('E_COHORT_OUT_EXISTS', `${out} exists already`, 'choose a new --out directory (a cohort directory is written whole or not at all)');
  }
  const tmp = join(dirname(out), `.${basename(out)}.partial-${process.pid}`);
  // recordings named by --group are checked before anything is created
  const jobs = await jobsOf(spec, tmp, options.analyze, options.signalTables ?? false);
  const timeAxes = spec.kind === 'groups' ? spec.groups.map((g) => ({ group: g.name, ...sharedAxisOf(jobs.filter((j) => j.group === g.name).map((j) => j.recording)) })) : [];
  const warnings = timeAxes.map((t) => checkMixedAlignment(`--group ${t.group}`, t, options.mixedAlignment ?? 'warn')).filter((w): w is string => w !== null);
  const started = performance.now();
  await mkdir(tmp, { recursive: true });
  try {
    const results = await runAnimals(jobs, workers, (p) => options.onProgress?.({ ...p, elapsedS: (performance.now() - started) / 1000 }), options.signal);
    if (options.signal?.aborted) throw new CohortError('E_COHORT_ABORTED', 'the cohort was stopped before every animal was done; nothing was written', 'run it again (a smaller --animals or --hours finishes sooner)');
    // simulated recordings live inside the cohort directory: name them relative to it
    const place = (p: string): string => (p.startsWith(tmp) ? relative(tmp, p) : p);
    const animals = results.filter((r): r is AnimalResult => !isFailure(r)).map((a) => ({ ...a, recording: place(a.recording) }));
    const failures = results.filter(isFailure).map((f) => ({ ...f, recording: place(f.recording) }));
    const groupNames = spec.kind === 'simulate' ? spec.conditions : spec.groups.map((g) => g.name);
    const comparison = compareGroups(
      groupNames.map((name) => ({ name, animals: animals.filter((a) => a.group === name), failed: failures.filter((f) => f.group === name).length })),
      { ...(options.pairing ? { pairing: options.pairing } : {}), ...(options.level !== undefined ? { level: options.level } : {}) },
    );
    const first = comparison.comparisons[0];
    const amp = first?.metrics.find((m) => m.metric === 'neCycleAmplitudePct');
    const truthOf = (g: string): number | undefined => (spec.kind === 'simulate' ? options.simulatedNeAmplitude?.[g] : undefined);
    const tRef = first ? truthOf(first.reference) : undefined;
    const tGrp = first ? truthOf(first.group) : undefined;
    const result: CohortResult = {
      format: 'fiberrig-cohort', formatVersion: 1, created: new Date().toISOString(), spec, workers,
      wallS: (performance.now() - started) / 1000,
      animals, failures, comparison, timeAxes, warnings,
      headline: first && amp ? {
        metric: 'neCycleAmplitudePct', reference: first.reference, group: first.group, design: first.design,
        ratio: amp.ratio.ratio, ciLow: amp.ratio.ciLow, ciHigh: amp.ratio.ciHigh, method: amp.ratio.method,
        simulatedTruth: tRef !== undefined && tGrp !== undefined ? tGrp / tRef : null,
      } : null,
    };
    await writeCohortFiles(tmp, result);
    await rename(tmp, out);
    return result;
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}
