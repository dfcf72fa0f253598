// The long soak: a whole recording day through the real `fiberrig acquire`
// path (in-process simulator at speed=max, faults on the wire and in the
// device), checked against the simulator's ground truth, with memory sampled
// along the way and every export format run on the full recording.
//
// Ground truth of placement: the world sees the device's blocks with their
// world times, so the session index where every run starts is known exactly
// (world time since the session's first sample x rate, at 0 ppm). The truth of
// what never reached the host is the device's fault log (lost ranges per run).
// Together they give the session ranges that must be gaps; the recording's
// gaps (session.json) must equal them — exactly, except where the host says a
// gap edge is uncertain (a device reset), and then within that uncertainty.
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import '../../host/cli/devices.ts';
import { acquireCommand } from '../../host/cli/commands/acquire.ts';
import { registeredWorldFactory, registerWorldFactory, type WorldFactory } from '../../firmware-sim/device/create.ts';
import { SimBinding } from '../../firmware-sim/transport/binding.ts';
import type { SimPorts } from '../../firmware-sim/transport/sim-ports.ts';
import type { DetectorRenderRequest } from '../../firmware-sim/world/world.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The day's faults, scaled to `hours`: bit flips on the wire all day, two cable pulls, a device
 * reset and a ring-buffer overrun (world-time seconds).
 */
export const DAY_FAULTS = (hours: number): string => {
  const s = (fraction: number): number => Math.round(hours * 3600 * fraction);
  return `corrupt:rate=1e-7,disconnect@${s(0.2)}:for=2,reset@${s(0.45)},overrun@${s(0.6)}:blocks=4,disconnect@${s(0.8)}:for=1`;
};

export interface DayOptions {
  /** Acquisition config file (JSON). */
  configFile: string;
  hours: number;
  /** sim:// fault list (world-time seconds). */
  faults: string;
  seed: number;
  scenario: string;
  /** Recording directory (must not exist). */
  outDir: string;
  /** Export formats to run on the full recording (each in its own process). */
  exports: Array<'guppy' | 'pmat' | 'nwb' | 'csv'>;
  /** Called with progress lines (the CLI's stderr). */
  onProgress?: (line: string) => void;
  /** Where the simulated device is created (default SimBinding.ports, the sim:// ports host opens). */
  ports?: SimPorts;
}

export interface Range {
  first: number;
  count: number;
  /** Samples either edge may be off by (from the host's gap records). */
  uncertainty?: number;
}

export interface DayReport {
  url: string;
  summary: Record<string, unknown>;
  exitCode: number;
  wallS: number;
  rateHz: number;
  runs: number;
  truthGaps: Range[];
  hostGaps: Range[];
  /** Largest edge difference between matched host and truth gaps, samples. */
  maxEdgeErrorSamples: number;
  /** Host gaps that match no truth gap (or differ beyond their uncertainty), and the reverse. */
  unmatched: { host: Range[]; truth: Range[] };
  rss: { warmMb: number; endMb: number; maxMb: number; growthMb: number; samples: number };
  exports: Array<{ format: string; exitCode: number; wallS: number; maxRssMb: number; stderrTail: string }>;
}

/** The device's runs as the world saw them: world time of each run's first sample and the samples rendered. */
class RunLog {
  readonly runs: Array<{ t0S: number; rendered: number }> = [];
  private nextT = Number.NaN;

  see(r: DetectorRenderRequest): void {
    // a block not contiguous with the previous one starts a new run
    if (!(Math.abs(r.t0S - this.nextT) <= r.dtS * 0.5)) this.runs.push({ t0S: r.t0S, rendered: 0 });
    this.runs[this.runs.length - 1]!.rendered += r.count;
    this.nextT = r.t0S + r.count * r.dtS;
  }
}

function mergeRanges(ranges: Range[]): Range[] {
  const sorted = [...ranges].filter((r) => r.count > 0).sort((a, b) => a.first - b.first);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.first <= last.first + last.count) {
      const end = Math.max(last.first + last.count, r.first + r.count);
      last.count = end - last.first;
      last.uncertainty = Math.max(last.uncertainty ?? 0, r.uncertainty ?? 0);
    } else {
      out.push({ ...r });
    }
  }
  return out;
}

/** Matches host gaps to truth gaps edge by edge, within each host gap's stated uncertainty (+1 sample of rounding). */
export function compareGaps(host: Range[], truth: Range[]): { maxEdgeErrorSamples: number; unmatched: { host: Range[]; truth: Range[] } } {
  const unmatchedTruth = new Set(truth);
  const unmatchedHost: Range[] = [];
  let maxEdge = 0;
  // a gap placed with an uncertainty moves every later sample by its (bounded) error: later gaps are
  // compared after that shift, exactly
  let shift = 0;
  for (const h of host) {
    const tol = (h.uncertainty ?? 0) + (h.uncertainty ? 1 : 0);
    const first = h.first + shift;
    const end = h.first + h.count + shift;
    const match = truth.find((t) => unmatchedTruth.has(t) && Math.abs(t.first - first) <= tol && Math.abs(t.first + t.count - end) <= tol);
    if (!match) {
      unmatchedHost.push(h);
      continue;
    }
    unmatchedTruth.delete(match);
    maxEdge = Math.max(maxEdge, Math.abs(match.first - first), Math.abs(match.first + match.count - end));
    if (tol > 0) shift += match.first + match.count - end;
  }
  return { maxEdgeErrorSamples: maxEdge, unmatched: { host: unmatchedHost, truth: [...unmatchedTruth] } };
}

/**
 * The session ranges that must be gaps: within run k (device run k + 1: the device counts Starts
 * from 1), the ranges its fault log lost; between runs, every sample from the end of what run k took
 * (rendered, or lost after being taken) to the first sample of run k + 1. Runs are placed by world
 * time (0 ppm: world time is the device's time).
 */
export function truthGapsOf(
  runs: ReadonlyArray<{ t0S: number; rendered: number }>, lostOf: (deviceRun: number) => Array<{ first: number; count: number }>, rateHz: number, limit: number,
): Range[] {
  const t0 = runs[0]?.t0S ?? 0;
  const gaps: Range[] = [];
  runs.forEach((run, k) => {
    const start = Math.round((run.t0S - t0) * rateHz);
    let taken = run.rendered;
    for (const r of lostOf(k + 1)) {
      gaps.push({ first: start + r.first, count: r.count });
      taken = Math.max(taken, r.first + r.count);
    }
    const next = runs[k + 1];
    if (next) {
      const nextStart = Math.round((next.t0S - t0) * rateHz);
      if (nextStart > start + taken) gaps.push({ first: start + taken, count: nextStart - (start + taken) });
    }
  });
  return mergeRanges(gaps).map((r) => ({ ...r, count: Math.min(r.count, limit - r.first) })).filter((r) => r.count > 0);
}

async function runExport(format: string, recording: string, out: string): Promise<DayReport['exports'][number]> {
  // a fresh process per export, so its peak RSS is its own
  const script = `
    const { main } = await import(${JSON.stringify(join(repoRoot, 'host/cli/main.ts'))});
    const code = await main(['export', '--in', ${JSON.stringify(recording)}, '--format', ${JSON.stringify(format)}, '--out', ${JSON.stringify(out)}, '--quiet', '--json']);
    // VmHWM: this process's own high-water mark (getrusage's maxRSS carries the parent's across fork + exec)
    const hwm = /VmHWM:\\s+(\\d+) kB/.exec((await import('node:fs')).readFileSync('/proc/self/status', 'utf8'));
    process.stderr.write('\\nmaxRssKb=' + (hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS) + '\\n');
    process.exitCode = code;`;
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import=tsx', '--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    child.on('close', (code) => {
      const m = /maxRssKb=(\d+)/.exec(stderr);
      resolve({ format, exitCode: code ?? -1, wallS: (performance.now() - started) / 1000, maxRssMb: m ? Number(m[1]) / 1024 : Number.NaN, stderrTail: stderr.slice(-600) });
    });
  });
}

export async function runDay(options: DayOptions): Promise<DayReport> {
  const config = JSON.parse(await readFile(options.configFile, 'utf8')) as { sampleRateHz: number };
  const rateHz = config.sampleRateHz;
  const url = `sim://${options.scenario}?seed=${options.seed}&speed=max${options.faults ? `&faults=${options.faults}` : ''}`;
  const runLog = new RunLog();
  const previous = registeredWorldFactory();
  if (!previous) throw new Error('no simulated world registered (host/cli/devices.ts should register it)');
  const factory: WorldFactory = (scenario, seed, board, worldOptions) => {
    const world = previous(scenario, seed, board, worldOptions);
    const render = world.renderDetectors.bind(world);
    world.renderDetectors = (r) => {
      render(r);
      runLog.see(r);
    };
    return world;
  };
  registerWorldFactory(factory);
  const handle = (options.ports ?? SimBinding.ports).createPort(url);

  const rssMb: number[] = [];
  const sampler = setInterval(() => {
    (globalThis as { gc?: () => void }).gc?.(); // retained memory, not garbage awaiting collection (npm run soak exposes gc)
    rssMb.push(process.memoryUsage().rss / 2 ** 20);
  }, 1000);
  const stdout: string[] = [];
  let pending = '';
  const io = {
    stdout: new Writable({ write(chunk, _e, cb) { stdout.push(String(chunk)); cb(); } }),
    stderr: new Writable({
      write(chunk, _e, cb) {
        pending += String(chunk);
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const l of lines) options.onProgress?.(l);
        cb();
      },
    }),
  };
  const started = performance.now();
  let exitCode = 0;
  try {
    exitCode = await acquireCommand(io, { device: url, config: options.configFile, duration: `${options.hours}h`, out: options.outDir, json: true });
  } finally {
    clearInterval(sampler);
    registerWorldFactory(previous);
  }
  const wallS = (performance.now() - started) / 1000;
  const summary = JSON.parse(stdout.join('')) as Record<string, unknown>;

  const truth = handle.device.truth;

  const session = JSON.parse(await readFile(join(options.outDir, 'session.json'), 'utf8')) as {
    gaps: Array<{ source: string; sessionIndex: number; count: number; uncertaintySamples?: number }>;
    end: { cutoffS: number } | null;
  };
  const limit = Math.round((session.end?.cutoffS ?? options.hours * 3600) * rateHz);
  const truthGaps = truthGapsOf(runLog.runs, (run) => truth.lostRanges('detector', run), rateHz, limit);
  const hostGaps = mergeRanges(session.gaps.filter((g) => g.source === 'detector').map((g) => ({ first: g.sessionIndex, count: g.count, uncertainty: g.uncertaintySamples ?? 0 })));
  const cmp = compareGaps(hostGaps, truthGaps);

  const warmAt = Math.min(rssMb.length - 1, Math.max(0, Math.floor(rssMb.length * 0.1)));
  const rss = {
    warmMb: rssMb[warmAt] ?? Number.NaN,
    endMb: rssMb[rssMb.length - 1] ?? Number.NaN,
    maxMb: Math.max(...rssMb),
    growthMb: (rssMb[rssMb.length - 1] ?? Number.NaN) - (rssMb[warmAt] ?? Number.NaN),
    samples: rssMb.length,
  };

  const exports: DayReport['exports'] = [];
  for (const format of options.exports) {
    const out = join(options.outDir, `export-${format}${format === 'nwb' ? '.nwb' : format === 'csv' ? '.csv' : ''}`);
    await rm(out, { recursive: true, force: true });
    exports.push(await runExport(format, options.outDir, out));
  }
  return {
    url, summary, exitCode, wallS, rateHz, runs: runLog.runs.length, truthGaps, hostGaps,
    maxEdgeErrorSamples: cmp.maxEdgeErrorSamples, unmatched: cmp.unmatched, rss, exports,
  };
}
