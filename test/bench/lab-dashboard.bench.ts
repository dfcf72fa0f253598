// Lab dashboard figures.
// 1. Server cost: 100 in-memory rigs publishing live samples at 10 Hz (the agent's rate), the
//    dashboard server and one page (a WebSocket client in a child process, reading every frame, so
//    its own CPU is not counted); baseline in the same run: the same feed with no server. Runs
//    alternate base, dashboard, dashboard, base; process.cpuUsage() of this process per kind.
// 2. Group start spread: 4 LabAgents on sim rigs behind a real nats-server; a group start of all
//    4 as the dashboard sends it (all at once) against the same 4 starts sent one after the other
//    (each awaiting its reply) — the spread of the agents' start instants (their session ids, ms).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import '../../host/cli/devices.ts';
import { LabAgent } from '../../host/lab/agent.ts';
import { connectBroker } from '../../host/lab/broker.ts';
import { sendGroup } from '../../host/lab/dashboard/group-command.ts';
import { MemoryFleetSource, rigState } from '../../host/lab/dashboard/memory-source.ts';
import { NatsFleetSource } from '../../host/lab/dashboard/nats-source.ts';
import { startLabServer } from '../../host/lab/dashboard/server.ts';
import { NatsServer, natsServerMissing } from '../support/nats-server.ts';
import type { Emit } from './run.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const RIGS = 100;
const RUN_S = 5;

const CLIENT = `
import { WebSocket } from 'ws';
const ws = new WebSocket(process.argv[1]);
let bytes = 0, frames = 0;
ws.on('message', (d) => { bytes += d.length; frames++; });
ws.on('open', () => process.stdout.write('open\\n'));
ws.on('close', () => { process.stdout.write(JSON.stringify({ bytes, frames }) + '\\n'); process.exit(0); });
ws.on('error', () => process.exit(1));
`;

async function serverRun(withServer: boolean): Promise<{ cpuS: number; bytes: number; frames: number }> {
  const source = new MemoryFleetSource();
  const names = Array.from({ length: RIGS }, (_, i) => `rig-${String(i).padStart(3, '0')}`);
  for (const r of names) source.setRig(rigState(r, { recording: true, status: 'recording', session: 'S1', mirror: { ackedBytes: 1, fileBytes: 2, failures: 0 } }));
  const server = withServer ? await startLabServer({ source, port: 0 }) : undefined;
  let client: ReturnType<typeof spawn> | undefined;
  let result: Promise<{ bytes: number; frames: number }> = Promise.resolve({ bytes: 0, frames: 0 });
  if (server) {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CLIENT, `ws://127.0.0.1:${server.port}/ws`], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    client = child;
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    await new Promise<void>((resolve) => { const check = (): void => { if (out.includes('open')) resolve(); else setTimeout(check, 10); }; check(); });
    result = new Promise((resolve) => child.once('exit', () => resolve(JSON.parse(out.split('\n').filter((l) => l.startsWith('{')).at(-1) ?? '{"bytes":0,"frames":0}'))));
  }
  const start = process.cpuUsage();
  let n = 0;
  const timer = setInterval(() => {
    n++;
    for (const [i, rig] of names.entries()) source.pushLive({ rig, session: 'S1', timeS: n / 10, values: { '405nm@det0': 80 + i, '470nm@det0': 100 + Math.sin(n / 10), '560nm@det1': 60 } });
    if (n % 50 === 0) for (const rig of names) source.patchRig(rig, {});
  }, 100);
  await new Promise((r) => setTimeout(r, RUN_S * 1000));
  clearInterval(timer);
  const cpu = process.cpuUsage(start);
  await server?.close();
  const got = await result;
  client?.kill();
  await source.close();
  return { cpuS: (cpu.user + cpu.system) / 1e6, ...got };
}

/** ms since the epoch of a session id (newSessionId: 20261206T224559-772Z). */
function sessionMs(id: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})-(\d{3})Z$/.exec(id);
  if (!m) throw new Error(`not a session id: ${id}`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!);
}

async function groupStartSpread(emit: Emit): Promise<void> {
  const missing = natsServerMissing();
  if (missing) {
    for (const name of ['lab.group_start.spread.simultaneous', 'lab.group_start.spread.sequential']) emit({ name, value: null, unit: 'ms', reason: missing });
    return;
  }
  const server = await NatsServer.start();
  const tmp = await mkdtemp(join(tmpdir(), 'fiberrig-bench-lab-'));
  const ncs: NatsConnection[] = [];
  const agents: LabAgent[] = [];
  const rigs = ['g1', 'g2', 'g3', 'g4'];
  try {
    const connect = async (name: string): Promise<NatsConnection> => {
      const nc = await connectBroker({ url: server.url, name });
      ncs.push(nc);
      return nc;
    };
    for (const [i, rig] of rigs.entries()) agents.push(await LabAgent.start({ nc: await connect(rig), rig, device: `sim://sleep?seed=${i + 1}`, dir: join(tmp, rig), ttlMs: 6000 }));
    const source = new NatsFleetSource({ nc: await connect('dashboard'), archivePollMs: 0 });
    const start = { cmd: 'start' as const, subject: null, durationS: 60 };
    const stopAll = async (): Promise<void> => { await sendGroup(source, rigs.map((rig) => ({ rig, command: { cmd: 'stop' as const } })), () => true); };
    const spread = (sessions: (string | null | undefined)[]): number => {
      const t = sessions.map((s) => sessionMs(s!));
      return Math.max(...t) - Math.min(...t);
    };
    const simultaneous: number[] = [];
    const sequential: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const group = await sendGroup(source, rigs.map((rig) => ({ rig, command: start })), () => true);
      if (!group.results.every((r) => r.ok)) throw new Error(`group start refused: ${JSON.stringify(group.results)}`);
      simultaneous.push(spread(group.results.map((r) => r.session)));
      await stopAll();
      const one: (string | null | undefined)[] = [];
      for (const rig of rigs) {
        const r = await sendGroup(source, [{ rig, command: start }], () => true);
        one.push(r.results[0]!.session);
      }
      sequential.push(spread(one));
      await stopAll();
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    emit({ name: 'lab.group_start.spread.simultaneous', value: median(simultaneous), unit: 'ms', runs: simultaneous, rigs: rigs.length, note: 'max - min of the 4 agents\' start instants (session ids), median of 3' });
    emit({ name: 'lab.group_start.spread.sequential', value: median(sequential), unit: 'ms', runs: sequential, rigs: rigs.length, note: 'baseline: each start awaits its reply before the next is sent' });
    await source.close();
  } finally {
    for (const a of agents) await a.stop().catch(() => undefined);
    for (const nc of ncs) await nc.close().catch(() => undefined);
    await server.dispose();
    await rm(tmp, { recursive: true, force: true });
  }
}

export async function run(emit: Emit): Promise<void> {
  await serverRun(true); // warm-up (JIT), discarded
  const base: number[] = [];
  const dash: { cpuS: number; bytes: number; frames: number }[] = [];
  for (const withServer of [false, true, true, false]) {
    const r = await serverRun(withServer);
    if (withServer) dash.push(r);
    else base.push(r.cpuS);
  }
  const baseS = base.reduce((a, b) => a + b, 0);
  const dashS = dash.reduce((a, b) => a + b.cpuS, 0);
  const wallS = 2 * RUN_S;
  emit({ name: 'lab.dashboard.cpu.base', value: (100 * baseS) / wallS, unit: '% of a core', rigs: RIGS, note: 'in-memory source fed 10 Hz live samples per rig, no server' });
  emit({ name: 'lab.dashboard.cpu.with_server', value: (100 * dashS) / wallS, unit: '% of a core', rigs: RIGS, note: 'the same with the dashboard server and one page' });
  emit({ name: 'lab.dashboard.cpu.per_rig', value: (100 * (dashS - baseS)) / wallS / RIGS, unit: '% of a core per rig', rigs: RIGS });
  emit({ name: 'lab.dashboard.page.bytes_per_s', value: dash.reduce((a, b) => a + b.bytes, 0) / wallS, unit: 'B/s', rigs: RIGS });
  emit({ name: 'lab.dashboard.page.frames_per_s', value: dash.reduce((a, b) => a + b.frames, 0) / wallS, unit: 'frames/s', rigs: RIGS });
  await groupStartSpread(emit);
}
