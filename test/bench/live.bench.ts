// Live view server overhead: the same simulated acquisition (default 3-wavelength
// lock-in, 2 detectors at 10 kS/s, EEG/EMG at 1 kS/s, sim://sleep in real time)
// with a demodulating sink, once alone and once with the live server and one
// WebSocket client that reads everything (in a child process, so its own CPU
// is not counted). process.cpuUsage() covers this process: the simulator, the
// Rig, the sink and, with the server, the server. A warm-up run (JIT) is
// discarded; then runs alternate base, live, live, base, and each kind's CPU
// is summed, so drift in the machine's load falls on both sides.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import '../../host/cli/devices.ts';
import { DEFAULT_LOCKIN_CONFIG, toWireConfig } from '../../host/config/acquisition.ts';
import { startLiveServer } from '../../host/live/server.ts';
import { demodulate } from '../../host/pipeline/demodulate.ts';
import { Rig } from '../../host/rig/rig.ts';
import type { Emit } from './run.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const DEVICE = 'sim://sleep?seed=1&speed=1';
const RUN_S = 6;
const WARMUP_S = 2;

// a page stand-in: reads every frame, exits when the server goes away
const CLIENT = `
import { WebSocket } from 'ws';
const ws = new WebSocket(process.argv[1]);
let bytes = 0, frames = 0;
ws.on('message', (d) => { bytes += d.length; frames++; });
ws.on('open', () => process.stdout.write('open\\n'));
ws.on('close', () => { process.stdout.write(JSON.stringify({ bytes, frames }) + '\\n'); process.exit(0); });
ws.on('error', () => process.exit(1));
`;

interface RunResult {
  cpuS: number;
  wallS: number;
  client?: { bytes: number; frames: number };
}

async function measure(withLive: boolean, runS = RUN_S): Promise<RunResult> {
  const file = DEFAULT_LOCKIN_CONFIG;
  const wire = toWireConfig(file);
  const rig = await Rig.connect(DEVICE);
  await rig.configure(wire);
  let signalRows = 0;
  let received = 0;
  const target = runS * file.sampleRateHz;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => { resolveDone = r; });
  rig.acquisition$.pipe(demodulate(wire, rig.info, { outputRateHz: file.outputRateHz })).subscribe((b) => { signalRows += b.count; });
  rig.acquisition$.subscribe((item) => {
    if (item.kind === 'block' && item.source === 'detector') {
      received = item.sessionIndex + item.sampleCount;
      if (received >= target) resolveDone();
    }
  });

  let client: ReturnType<typeof spawn> | undefined;
  let clientResult: Promise<{ bytes: number; frames: number }> | undefined;
  const server = withLive ? await startLiveServer({ rig, config: file, wire, port: 0 }) : undefined;
  if (server) {
    client = spawn(process.execPath, ['--input-type=module', '-e', CLIENT, `ws://127.0.0.1:${server.port}/ws`], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const opened = new Promise<void>((resolve, reject) => {
      client!.stdout!.setEncoding('utf8').on('data', (s: string) => {
        out += s;
        if (out.startsWith('open\n')) resolve();
      });
      client!.once('exit', (code) => reject(new Error(`bench client exited (${code})`)));
    });
    clientResult = new Promise((resolve, reject) => client!.once('exit', () => {
      try {
        resolve(JSON.parse(out.split('\n')[1] ?? '') as { bytes: number; frames: number });
      } catch (error) {
        reject(error);
      }
    }));
    await opened;
  }

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await rig.start();
  await done;
  const cpu = process.cpuUsage(cpu0);
  const wallS = (performance.now() - t0) / 1000;
  await rig.stop();
  await server?.close();
  const clientStats = await clientResult;
  await rig.close();
  if (signalRows === 0) throw new Error('no signals');
  return { cpuS: (cpu.user + cpu.system) / 1e6, wallS, ...(clientStats ? { client: clientStats } : {}) };
}

export async function run(emit: Emit): Promise<void> {
  await measure(true, WARMUP_S);
  const base: RunResult[] = [];
  const live: RunResult[] = [];
  for (const withLive of [false, true, true, false]) (withLive ? live : base).push(await measure(withLive));
  const sum = (runs: RunResult[], key: 'cpuS' | 'wallS'): number => runs.reduce((a, r) => a + r[key], 0);
  const baseCpuS = sum(base, 'cpuS');
  const liveCpuS = sum(live, 'cpuS');
  const overheadCore = (liveCpuS / sum(live, 'wallS') - baseCpuS / sum(base, 'wallS')) * 100;
  const bytes = live.reduce((a, r) => a + (r.client?.bytes ?? 0), 0);
  const frames = live.reduce((a, r) => a + (r.client?.frames ?? 0), 0);
  const common = { device: DEVICE, deviceSeconds: 2 * RUN_S, clients: 1, frameIntervalMs: 100 };
  emit({ name: 'live.server.cpu_ratio', value: liveCpuS / baseCpuS, unit: 'x', baseCpuS, liveCpuS, ...common, note: 'process CPU with the live server and one reading client / without (simulator, Rig and a demodulating sink in both)' });
  emit({ name: 'live.server.cpu_overhead', value: overheadCore, unit: '% of one core', ...common });
  emit({ name: 'live.server.bytes_per_s', value: bytes / sum(live, 'wallS'), unit: 'B/s', ...common });
  emit({ name: 'live.server.frames_per_s', value: frames / sum(live, 'wallS'), unit: 'frames/s', ...common });
}
