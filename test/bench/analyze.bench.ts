// `fiberrig analyze`'s reading on a day-long recording (issue 16, acceptance 5: <= 30 s on one
// core, memory bounded). A raw log of the default lock-in configuration (2 detectors at 10 kS/s,
// 3 carriers, EEG/EMG at 1 kS/s, 250-sample blocks; record.bench.ts's synthesizer) with sleep-like
// EEG/EMG (wake / NREM / REM stretches) is written once and cached in the temp dir
// (BENCH_ANALYZE_HOURS, default 24; about 330 MB per hour), then timed in one process:
//   baseline  replayRecording with an empty sink (decoding + demodulation: the floor of any reader)
//   read      readAnalysisInput (one replay, photometry block means, sleep features while streaming)
//   score     scoreSleepFeatures on the streamed features
// with peak RSS and the memory retained after forced GCs (`npm run bench` exposes gc).
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readAnalysisInput } from '../../host/analysis/input-read.ts';
import { scoreSleepFeatures } from '../../host/analysis/sleep/score.ts';
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

/** The cached day-long recording (written on first use). */
async function recording(): Promise<{ dir: string; bytes: number; writeS: number | null }> {
  const dir = join(tmpdir(), `fiberrig-bench-analyze-v1-${HOURS}h`);
  const done = join(dir, 'complete');
  const rawLog = join(dir, RAW_LOG_FILE_NAME);
  if (existsSync(done)) return { dir, bytes: statSync(rawLog).size, writeS: null };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const payloads = auxPayloads();
  const written = await synthesize(rawLog, HOURS * 3600, (k) => {
    const stretch = Math.floor(k / STRETCH_BLOCKS);
    const state = CYCLE[stretch % CYCLE.length]!;
    const variant = (Math.imul(stretch, 2654435761) >>> 0) % VARIANTS;
    return payloads[state]![variant]![k % STRETCH_BLOCKS]!;
  });
  writeFileSync(done, '');
  return { dir, bytes: written.bytes, writeS: written.seconds };
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
  const rec = await recording();
  const tag = `${HOURS}h`;
  emit({ name: `analyze.rawlog.size_${tag}`, value: rec.bytes / 1e6, unit: 'MB', writeSeconds: rec.writeS, cached: rec.writeS === null, note: 'default lock-in: 2 det x 10 kS/s + EEG/EMG x 1 kS/s, 250-sample blocks' });
  const baseline = await measure(() => replayRecording(rec.dir, [{}]));
  emit({ name: `analyze.baseline_replay_${tag}`, value: baseline.seconds, unit: 's', cpuSeconds: baseline.cpuSeconds, realtime: (HOURS * 3600) / baseline.seconds, peakRssMB: baseline.peakRssMB, note: 'replayRecording, empty sink (decode + demodulate)' });
  const read = await measure(() => readAnalysisInput(rec.dir));
  const input = read.value;
  const sleep = input.sleep;
  if (!sleep) throw new Error(`the bench recording should have EEG/EMG: ${input.missing.join('; ')}`);
  const score = await measure(() => scoreSleepFeatures(sleep));
  const outputsMB = (Object.values(input.photometry.data).reduce((n, a) => n + a.byteLength, 0)
    + Object.values(sleep.features).reduce((n, a: Float64Array) => n + a.byteLength, 0) + sleep.envelope.emgRmsV.byteLength
    + [sleep.bandPower.deltaV2, sleep.bandPower.thetaV2, sleep.bandPower.sigmaV2, sleep.bandPower.betaV2].reduce((n, a) => n + a.byteLength, 0)) / 1e6;
  emit({ name: `analyze.read_${tag}`, value: read.seconds, unit: 's', cpuSeconds: read.cpuSeconds, durationS: input.durationS, epochs: sleep.features.emgRmsV.length, photometrySamples: input.photometry.samples });
  emit({ name: `analyze.score_${tag}`, value: score.seconds, unit: 's', cpuSeconds: score.cpuSeconds, microArousals: score.value.microArousals.length });
  emit({ name: `analyze.total_${tag}`, value: read.seconds + score.seconds, unit: 's', cpuSeconds: read.cpuSeconds + score.cpuSeconds, goal: '<= 30 s on one core (issue 16)', note: 'read + score, wall clock (cpuSeconds: the one-core figure on a busy machine); the rest of analyze (correction, oscillation, report) not included' });
  emit({ name: `analyze.read_over_replay_${tag}`, value: read.seconds / baseline.seconds, unit: 'x baseline', cpuRatio: read.cpuSeconds / baseline.cpuSeconds, note: 'readAnalysisInput / empty-sink replay, same run: wall-clock ratio, and CPU-time ratio' });
  emit({ name: `analyze.read.peak_rss_${tag}`, value: read.peakRssMB, unit: 'MB', baselinePeakRssMB: baseline.peakRssMB });
  emit({ name: `analyze.read.retained_growth_${tag}`, value: read.retainedGrowthMB, unit: 'MB', outputsMB, gcExposed: typeof globalThis.gc === 'function', note: 'heapUsed + arrayBuffers after forced GCs (max over the read) minus before: the outputs (with growth slack) plus what streaming holds' });
}
