// `fiberrig analyze` on a day-long recording (issue 16, acceptance 5: <= 30 s on one core, memory
// bounded). A raw log of the default lock-in configuration (2 detectors at 10 kS/s, 3 carriers,
// EEG/EMG at 1 kS/s, 250-sample blocks; record.bench.ts's synthesizer) with sleep-like EEG/EMG
// (wake / NREM / REM stretches) is written once and cached in the temp dir (BENCH_ANALYZE_HOURS,
// default 24; about 170 MB per hour). Beside it, once, the analysis input an acquisition reduces
// while it records (analysis-input.bin, host/analysis/input-file.ts; `derive`: one replay through
// AnalysisInputOutput, what acquire does live alongside its CSV files). Then, in one process:
//   analyze   readAnalysisInput (from analysis-input.bin) + analyzeInput (correction, scoring,
//             oscillation): what `fiberrig analyze` computes on a recording acquire made
//   replay    readAnalysisInput with derived: false (decode + demodulate + reduce): the fallback for
//             a recording without the file, and the baseline of the ratio
// with peak RSS and the memory retained after forced GCs (`npm run bench` exposes gc).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { analyzeInput } from '../../host/analysis/analyze/analyze.ts';
import { ANALYSIS_INPUT_FILE_NAME, AnalysisInputOutput } from '../../host/analysis/input-file.ts';
import { analysisStreamsOf } from '../../host/analysis/input-reduce.ts';
import { readAnalysisInput } from '../../host/analysis/input-read.ts';
import { RAW_LOG_FILE_NAME } from '../../host/record/rawlog.ts';
import { replayRecording } from '../../host/record/replay.ts';
import { packSamples, SampleFormat } from '../../protocol/index.ts';
import { SYNTH_AUX_BLOCK, synthesize } from './record.bench.ts';
import type { Emit } from './run.ts';

const HOURS = Number(process.env.BENCH_ANALYZE_HOURS ?? 24);
const AUX_RATE_HZ = 1000;
/** aux blocks per 10 s stretch of one state */
const STRETCH_BLOCKS = (10 * AUX_RATE_HZ) / SYNTH_AUX_BLOCK;
const VARIANTS = 6;
/** one 8-min cycle of 10 s stretches: 1 min wake, 5 min NREM, 1 min REM, 1 min wake */
const CYCLE: ReadonlyArray<0 | 1 | 2> = [...Array<0>(6).fill(0), ...Array<1>(30).fill(1), ...Array<2>(6).fill(2), ...Array<0>(6).fill(0)];

/**
 * Packed aux blocks per state (0 wake, 1 NREM, 2 REM) and variant: EEG codes = δ (2 Hz), θ (7 Hz),
 * β (20 Hz) tones plus noise, EMG = noise, with the levels of each state scaled per variant.
 */
function auxPayloads(): Uint8Array[][][] {
  let s = 12345;
  const noise = (): number => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32 - 0.5; };
  const levels = [
    { delta: 400, theta: 300, beta: 250, eegNoise: 500, emg: 3000 },
    { delta: 2500, theta: 300, beta: 100, eegNoise: 400, emg: 400 },
    { delta: 300, theta: 1500, beta: 100, eegNoise: 300, emg: 120 },
  ];
  return levels.map((l) => Array.from({ length: VARIANTS }, (_, v) => {
    const g = 0.8 + (0.4 * v) / (VARIANTS - 1);
    return Array.from({ length: STRETCH_BLOCKS }, (_, b) => {
      const codes = new Int16Array(SYNTH_AUX_BLOCK * 2);
      for (let i = 0; i < SYNTH_AUX_BLOCK; i++) {
        const t = (b * SYNTH_AUX_BLOCK + i) / AUX_RATE_HZ;
        const eeg = g * (l.delta * Math.sin(2 * Math.PI * 2 * t + v) + l.theta * Math.sin(2 * Math.PI * 7 * t) + l.beta * Math.sin(2 * Math.PI * 20 * t) + l.eegNoise * noise());
        codes[i * 2] = Math.round(eeg);
        codes[i * 2 + 1] = Math.round(g * l.emg * noise() * 2);
      }
      return packSamples(SampleFormat.SAMPLE_FORMAT_INT16_LE, codes);
    });
  }));
}

const RECORDING_DIR = join(tmpdir(), `fiberrig-bench-analyze-v1-${HOURS}h`);
/** The argument that makes this file, run as a script, write the recording (in a child process: see recording()). */
const WRITE_RECORDING_ARG = '--write-recording';

/** Writes the day-long raw log into RECORDING_DIR; prints `{ bytes, seconds }` on stdout. */
async function writeRecording(): Promise<void> {
  rmSync(RECORDING_DIR, { recursive: true, force: true });
  mkdirSync(RECORDING_DIR, { recursive: true });
  const payloads = auxPayloads();
  const written = await synthesize(join(RECORDING_DIR, RAW_LOG_FILE_NAME), HOURS * 3600, (k) => {
    const stretch = Math.floor(k / STRETCH_BLOCKS);
    const state = CYCLE[stretch % CYCLE.length]!;
    const variant = (Math.imul(stretch, 2654435761) >>> 0) % VARIANTS;
    return payloads[state]![variant]![k % STRETCH_BLOCKS]!;
  });
  writeFileSync(join(RECORDING_DIR, 'complete'), '');
  process.stdout.write(`${JSON.stringify({ bytes: written.bytes, seconds: written.seconds })}\n`);
}

/**
 * The cached day-long recording, written on first use by a child process: the writer's memory (gigabytes
 * of RSS while it runs ahead of the disk) would otherwise stay in this process's RSS, which the peak
 * figures below read.
 */
function recording(): { dir: string; bytes: number; writeS: number | null } {
  const dir = RECORDING_DIR;
  if (existsSync(join(dir, 'complete'))) return { dir, bytes: statSync(join(dir, RAW_LOG_FILE_NAME)).size, writeS: null };
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), WRITE_RECORDING_ARG], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`writing the bench recording failed (status ${child.status}, ${child.error?.message ?? 'see stderr'})`);
  const written = JSON.parse(child.stdout) as { bytes: number; seconds: number };
  return { dir, bytes: written.bytes, writeS: written.seconds };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes(WRITE_RECORDING_ARG)) await writeRecording();

/** analysis-input.bin beside the cached raw log, reduced as an acquisition does while it records (once). */
async function derive(dir: string): Promise<Measured<null> | null> {
  if (existsSync(join(dir, ANALYSIS_INPUT_FILE_NAME))) return null;
  return measure(async () => {
    let output: AnalysisInputOutput | undefined;
    await replayRecording(dir, [{
      begin: (ctx) => { output = new AnalysisInputOutput(analysisStreamsOf(ctx), ctx.demodOptions ?? {}); },
      signals: (b) => output?.signals(b),
      end: async () => { await output?.close(dir); },
    }]);
    return null;
  });
}

interface Measured<T> {
  value: T;
  seconds: number;
  cpuSeconds: number;
  peakRssMB: number;
  /** heap plus ArrayBuffer memory (typed arrays live outside the JS heap) in use after a forced GC, max over the run, minus before it */
  retainedGrowthMB: number;
}

async function measure<T>(work: () => Promise<T> | T): Promise<Measured<T>> {
  globalThis.gc?.();
  const before = process.memoryUsage();
  const inUse = (m: NodeJS.MemoryUsage): number => m.heapUsed + m.arrayBuffers;
  let peakRss = before.rss;
  let retained = inUse(before);
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 50);
  const gcSampler = setInterval(() => {
    if (!globalThis.gc) return;
    globalThis.gc();
    retained = Math.max(retained, inUse(process.memoryUsage()));
  }, 2000);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    const value = await work();
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    globalThis.gc?.();
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    retained = Math.max(retained, inUse(process.memoryUsage()));
    return { value, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMB: peakRss / 1e6, retainedGrowthMB: (retained - inUse(before)) / 1e6 };
  } finally {
    clearInterval(sampler);
    clearInterval(gcSampler);
  }
}

export async function run(emit: Emit): Promise<void> {
  const rec = recording();
  const tag = `${HOURS}h`;
  emit({ name: `analyze.rawlog.size_${tag}`, value: rec.bytes / 1e6, unit: 'MB', writeSeconds: rec.writeS, cached: rec.writeS === null, note: 'default lock-in: 2 det x 10 kS/s + EEG/EMG x 1 kS/s, 250-sample blocks' });
  const derived = await derive(rec.dir);
  if (derived) emit({ name: `analyze.derive_${tag}`, value: derived.seconds, unit: 's', cpuSeconds: derived.cpuSeconds, peakRssMB: derived.peakRssMB, note: 'analysis-input.bin by one replay (acquire reduces it live, on blocks it demodulates anyway); cached with the recording' });
  const analyze = await measure(async () => {
    const input = await readAnalysisInput(rec.dir);
    return { input, analysis: analyzeInput(input) };
  });
  const { input, analysis } = analyze.value;
  if (input.source !== 'derived file') throw new Error(`the bench recording's ${ANALYSIS_INPUT_FILE_NAME} was not used`);
  if (!input.sleep) throw new Error(`the bench recording should have EEG/EMG: ${input.missing.join('; ')}`);
  emit({
    name: `analyze.total_${tag}`, value: analyze.seconds, unit: 's', cpuSeconds: analyze.cpuSeconds, goal: '<= 30 s on one core (issue 16)',
    durationS: input.durationS, epochs: input.sleep.features.emgRmsV.length, photometrySamples: input.photometry.samples,
    microArousals: analysis.sleep?.microArousals.length ?? null, unavailable: analysis.unavailable.map((u) => u.code),
    note: 'readAnalysisInput from analysis-input.bin + analyzeInput (correction, sleep scoring, oscillation): wall clock; cpuSeconds is the one-core figure',
  });
  emit({ name: `analyze.peak_rss_${tag}`, value: analyze.peakRssMB, unit: 'MB' });
  const replay = await measure(() => readAnalysisInput(rec.dir, {}, { derived: false }));
  emit({ name: `analyze.read_replay_${tag}`, value: replay.seconds, unit: 's', cpuSeconds: replay.cpuSeconds, realtime: (HOURS * 3600) / replay.seconds, note: 'readAnalysisInput replaying the raw log (decode + demodulate + reduce): a recording without analysis-input.bin' });
  emit({ name: `analyze.total_over_replay_${tag}`, value: analyze.seconds / replay.seconds, unit: 'x baseline', cpuRatio: analyze.cpuSeconds / replay.cpuSeconds, note: 'analyze from analysis-input.bin / replay read, same run' });
  emit({ name: `analyze.replay.peak_rss_${tag}`, value: replay.peakRssMB, unit: 'MB' });
  emit({ name: `analyze.replay.retained_growth_${tag}`, value: replay.retainedGrowthMB, unit: 'MB', gcExposed: typeof globalThis.gc === 'function', note: 'heapUsed + arrayBuffers after forced GCs (max over the read) minus before: the outputs (with growth slack) plus what streaming holds' });
}
