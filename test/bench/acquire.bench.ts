// Simulated recording end to end, exactly as `fiberrig acquire` runs it:
//   fiberrig acquire --device 'sim://sleep?seed=1&speed=max' --duration 1h --out DIR --json --quiet
// world (sleep scenario) -> simulated device (schedule, front end, packing,
// protobuf, framing) -> serialport binding -> host (deframing, CRC, decode,
// assembly, demodulation, derived CSVs) -> raw log (I/O worker), with the
// default configuration: 3 LEDs lock-in, 2 detectors at 10 kS/s, EEG + EMG at
// 1 kS/s, one TTL line.
//
// Figures: simulated seconds per CPU second of the whole process (all threads:
// "x real time per core") and per wall second, with everything in the host's
// thread (the CLI's default) and, in the same run, with the world and device in
// a worker thread (thread=worker); then, from a CPU profile of the
// main thread over a shorter in-thread run, where that time goes (world render,
// device/encoding, host decode/assemble, host demodulation + derived files,
// raw-log write, GC, other), and the CPU of the other threads (raw-log I/O
// worker, libuv). Baseline measured in the same run: the simulated device with
// the same world and configuration alone (bytes produced, no host), so
// `acquire.sim.host_share` says what the host adds.
//
// The same command is also run as a child process (start-up and module loading included: what
// `fiberrig acquire --duration 1h` costs a user), and for 1 s (the start-up alone).
//
// `FIBERRIG_BENCH_ACQUIRE_S` overrides the simulated seconds of the speed run (default 3600);
// `FIBERRIG_BENCH_PROFILE=FILE.cpuprofile` saves the main-thread profile (open it in Chrome DevTools).
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DEFAULT_BOARD, worldBoardOf } from '../../firmware-sim/device/board.ts';
import { SimDevice } from '../../firmware-sim/device/device.ts';
import { createWorld } from '../../firmware-sim/world/index.ts';
import { main } from '../../host/cli/main.ts';
import { DEFAULT_LOCKIN_CONFIG, toWireConfig } from '../../host/config/acquisition.ts';
import { canonicalConfig } from '../../host/record/rawlog.ts';
import { PROTOCOL_VERSION } from '../../protocol/index.ts';
import { processThreadsCpuS } from '../../host/thread-cpu.js';
import type { Emit } from './run.ts';

const URL = 'sim://sleep?seed=1&speed=max';
/** The same device in the host's thread, said explicitly: what the main-thread profile splits. */
const URL_IN_THREAD = `${URL}&thread=main`;
const URL_WORKER = `${URL}&thread=worker`;
const NOTE = "fiberrig acquire --device 'sim://sleep?seed=1&speed=max' (default config: 3 LEDs lock-in, 2 det @ 10 kS/s, EEG+EMG @ 1 kS/s)";

const sink = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });

interface Run { simulatedS: number; wallS: number; cpuS: number; mainCpuS: number; otherCpuS: number }

/** One `fiberrig acquire` run of `seconds` of device time into a temporary folder. */
async function acquire(seconds: number, url = URL): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'fiberrig-bench-acquire-'));
  try {
    const threads0 = processThreadsCpuS();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const code = await main(['acquire', '--device', url, '--duration', `${seconds}s`, '--out', join(dir, 'rec'), '--json', '--quiet'], { stdout: sink(), stderr: sink() });
    const wallS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const threads1 = processThreadsCpuS();
    if (code !== 0) throw new Error(`acquire exited with ${code}`);
    const summary = JSON.parse(readFileSync(join(dir, 'rec', 'summary.json'), 'utf8')) as { durationS: number; gaps: number; missingSamples: number };
    if (Math.abs(summary.durationS - seconds) > 1e-6 || summary.gaps !== 0 || summary.missingSamples !== 0) {
      throw new Error(`incomplete recording: ${JSON.stringify(summary)}`);
    }
    const mainCpuS = (threads1.get(process.pid) ?? Number.NaN) - (threads0.get(process.pid) ?? Number.NaN);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    return { simulatedS: seconds, wallS, cpuS, mainCpuS, otherCpuS: cpuS - mainCpuS };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The simulated device with the same world and configuration, bytes produced and dropped: no host. */
function deviceOnly(seconds: number): { wallS: number; cpuS: number } {
  const board = DEFAULT_BOARD;
  const device = new SimDevice({ world: createWorld('sleep', 1, worldBoardOf(board)), board });
  device.outbox.sink = () => undefined;
  let id = 1;
  device.handle({ requestId: id++, hello: { protocol: { ...PROTOCOL_VERSION } } });
  device.handle({ requestId: id++, configure: { config: canonicalConfig(toWireConfig(DEFAULT_LOCKIN_CONFIG)) } });
  device.handle({ requestId: id++, start: {} });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let s = 0; s < seconds; s++) {
    if (s % 10 === 0) device.handle({ requestId: 0, heartbeat: {} });
    for (let k = 0; k < 20; k++) device.advance(0.05); // the pacer's step at speed=max
  }
  const cpu = process.cpuUsage(cpu0);
  return { wallS: (performance.now() - t0) / 1000, cpuS: (cpu.user + cpu.system) / 1e6 };
}

/** Preloaded into the CLI child: prints the whole process's CPU time (all threads) on stderr at exit. */
const CPU_AT_EXIT = `data:text/javascript,${encodeURIComponent('import { writeSync } from "node:fs"; process.on("exit", () => { const c = process.cpuUsage(); writeSync(2, "\\ncpu-at-exit " + (c.user + c.system) / 1e6 + "\\n"); });')}`;

/** The exact command as a user runs it (a fresh process: module loading and start-up included). */
async function acquireCli(seconds: number): Promise<{ wallS: number; cpuS: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'fiberrig-bench-acquire-cli-'));
  try {
    const bin = join(dirname(fileURLToPath(import.meta.url)), '../../host/cli/bin.js');
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--import', CPU_AT_EXIT, bin, 'acquire', '--device', URL, '--duration', `${seconds}s`, '--out', join(dir, 'rec'), '--json', '--quiet'], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const wallS = (performance.now() - t0) / 1000;
    const m = /cpu-at-exit ([0-9.]+)/.exec(r.stderr);
    if (r.status !== 0 || !m) throw new Error(`fiberrig acquire failed (${r.status}): ${r.stderr.slice(-500)}`);
    return { wallS, cpuS: Number(m[1]) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

type Part = 'world' | 'device' | 'hostDecode' | 'hostDerived' | 'rawLog' | 'gc' | 'idle' | 'other';

/** The part a sampled stack belongs to: its innermost frame in a file of ours that is not shared protocol code. */
function partOf(urls: string[], leafName: string): Part {
  if (leafName === '(garbage collector)') return 'gc';
  if (leafName === '(idle)') return 'idle';
  for (const url of urls) {
    if (url.includes('/firmware-sim/world/')) return 'world';
    if (url.includes('/firmware-sim/')) return 'device';
    if (url.includes('/host/record/rawlog')) return 'rawLog';
    if (/\/host\/(pipeline|dsp|record|calibration)\//.test(url) || url.includes('/host/cli/')) return 'hostDerived';
    if (/\/host\/(link|rig|transport)\//.test(url)) return 'hostDecode';
  }
  return 'other';
}

/** Main-thread CPU profile of one acquisition, summed by part (ms). */
async function profileParts(seconds: number): Promise<{ parts: Record<Part, number>; run: Run }> {
  // the device in this thread (thread=main), so the profile splits world and device as well as the host
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  const run = await acquire(seconds, URL_IN_THREAD);
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  if (process.env.FIBERRIG_BENCH_PROFILE) writeFileSync(process.env.FIBERRIG_BENCH_PROFILE, JSON.stringify(profile));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const parts: Record<Part, number> = { world: 0, device: 0, hostDecode: 0, hostDerived: 0, rawLog: 0, gc: 0, idle: 0, other: 0 };
  const memo = new Map<number, Part>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const leaf = samples[i]!;
    let part = memo.get(leaf);
    if (part === undefined) {
      const urls: string[] = [];
      for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) urls.push(byId.get(id)!.callFrame.url);
      part = partOf(urls, byId.get(leaf)!.callFrame.functionName);
      memo.set(leaf, part);
    }
    parts[part] += (deltas[i] ?? 0) / 1000;
  }
  return { parts, run };
}

export async function run(emit: Emit): Promise<void> {
  const speedS = Number(process.env.FIBERRIG_BENCH_ACQUIRE_S ?? 3600);
  // warm-up of both paths (module loading, the host's JIT; the in-thread world and device), so neither
  // measured run pays this process's first-run costs; a worker's own JIT is cold in every recording (it is a
  // fresh isolate each time) and stays in its figure, as it does for a user's recording
  await acquire(30);
  await acquire(30, URL_WORKER);

  const r = await acquire(speedS);
  emit({ name: 'acquire.sim.sleep.realtime_per_core', value: r.simulatedS / r.cpuS, unit: 'x real time per CPU s', simulatedS: r.simulatedS, cpuS: r.cpuS, wallS: r.wallS, note: `${NOTE}: everything on the host's thread (the CLI's default)` });
  emit({ name: 'acquire.sim.sleep.realtime_wall', value: r.simulatedS / r.wallS, unit: 'x real time', simulatedS: r.simulatedS, wallS: r.wallS });
  // the other path in the same run: world + device in a worker thread (thread=worker)
  const w = await acquire(speedS, URL_WORKER);
  emit({ name: 'acquire.sim.sleep.worker.realtime_per_core', value: w.simulatedS / w.cpuS, unit: 'x real time per CPU s', simulatedS: w.simulatedS, cpuS: w.cpuS, wallS: w.wallS, workerToInThreadCpu: w.cpuS / r.cpuS, note: `${URL_WORKER}: world + device in a worker thread` });
  emit({ name: 'acquire.sim.sleep.worker.realtime_wall', value: w.simulatedS / w.wallS, unit: 'x real time', simulatedS: w.simulatedS, wallS: w.wallS, workerSpeedupWall: r.wallS / w.wallS });
  emit({ name: 'acquire.sim.sleep.main_thread_share', value: (100 * r.mainCpuS) / r.cpuS, unit: '% of process CPU', mainCpuS: r.mainCpuS, otherThreadsCpuS: r.otherCpuS });

  const cli = await acquireCli(speedS);
  emit({ name: 'acquire.cli.sleep.realtime_per_core', value: speedS / cli.cpuS, unit: 'x real time per CPU s', simulatedS: speedS, cpuS: cli.cpuS, wallS: cli.wallS, note: `${NOTE}, as a fresh process: start-up included` });
  const startup = await acquireCli(1);
  emit({ name: 'acquire.cli.startup_cpu', value: startup.cpuS, unit: 'CPU s', wallS: startup.wallS, note: 'the same command for 1 s of device time: module loading (tsx), raw-log worker start, connect, close' });

  const baseS = Math.min(600, speedS);
  const d = deviceOnly(baseS);
  emit({ name: 'acquire.sim.device_only.realtime_per_core', value: baseS / d.cpuS, unit: 'x real time per CPU s', simulatedS: baseS, cpuS: d.cpuS, wallS: d.wallS, note: 'baseline: the same world + device, frames dropped (no host, no raw log)' });
  emit({ name: 'acquire.sim.host_share', value: 100 * (1 - (d.cpuS / baseS) / (r.cpuS / r.simulatedS)), unit: '% of acquire CPU beyond the device alone' });

  const profiled = await profileParts(baseS); // in-thread: the main-thread profile sees world and device too
  const total = Object.values(profiled.parts).reduce((a, b) => a + b, 0);
  for (const [part, ms] of Object.entries(profiled.parts)) {
    emit({ name: `acquire.sim.split.${part}`, value: (100 * ms) / total, unit: '% of main-thread profile', ms: Math.round(ms), simulatedS: baseS, perSimulatedHourS: (ms / 1000) * (3600 / baseS) });
  }
  emit({ name: 'acquire.sim.split.other_threads', value: (100 * profiled.run.otherCpuS) / profiled.run.cpuS, unit: '% of process CPU', cpuS: profiled.run.otherCpuS, note: 'V8 platform threads (concurrent TurboFan compiles, mostly at start-up; GC helpers), the raw log\'s I/O worker (write + fsync), libuv: not in the main-thread profile; mostly a fixed cost per recording, see `npm run bench -- cpu-threads` for fixed vs per simulated hour' });
}
