// Faults, each against real processes, each scenario with its own broker(s) on its own ports
// and all of them at once (CI budget: the slowest scenario sets the time, not their sum):
// - the broker SIGKILLed mid-recording and restarted 10 s later: the agent keeps recording and
//   back-fills; nothing lost or duplicated (the stream holds every record once);
// - the archive SIGKILLed and restarted: it resumes, identical result;
// - an agent SIGKILLed: its fleet entry expires within the TTL, its raw log is intact, the archive
//   holds what was acknowledged; a new agent back-fills the rest;
// - a 3-node JetStream cluster, stream replicas 3 (`--replicas 3`), loses the stream's leader
//   mid-recording: nothing lost or duplicated.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import '../../../host/cli/devices.ts';
import { LabAgent } from '../../../host/lab/agent.ts';
import { LabArchive } from '../../../host/lab/archive.ts';
import { connectBroker, openRigsBucket } from '../../../host/lab/broker.ts';
import type { MirrorCheckpoint } from '../../../host/lab/checkpoint-file.ts';
import { RAW_STREAM } from '../../../host/lab/layout.ts';
import { RawLogReader } from '../../../host/record/rawlog-reader.ts';
import { NatsCluster, NatsServer, natsServerMissing } from '../../support/nats-server.ts';
import { requireTool } from '../../support/required-tool.ts';
import { CliProcess } from './cli-process.ts';
import { archived, command, expectArchivedIdentical, localSessions, readArchived, sleep, waitFor } from './lab-helpers.ts';

/** One scenario's own temporary directory, connections and processes, cleaned up after it. */
interface Scene {
  tmp: string;
  connect(url: string, name: string): Promise<NatsConnection>;
  cleanup(step: () => Promise<unknown>): void;
}

async function inScene(run: (scene: Scene) => Promise<void>): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'fiberrig-lab-'));
  const cleanups: Array<() => Promise<unknown>> = [];
  const scene: Scene = {
    tmp,
    connect: async (url, name) => {
      const nc = await connectBroker({ url, name });
      cleanups.push(() => nc.close());
      return nc;
    },
    cleanup: (step) => { cleanups.push(step); },
  };
  try {
    await run(scene);
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
  }
}

const storedMessages = async (nc: NatsConnection): Promise<number> => (await (await jetstreamManager(nc)).streams.info(RAW_STREAM)).state.messages;

/** The broker SIGKILLed 1.5 s into a 12 s recording and restarted 10 s later. */
async function brokerOutage({ tmp, connect, cleanup }: Scene): Promise<void> {
  const srv = await NatsServer.start();
  cleanup(() => srv.dispose());
  const archive = new LabArchive({ nc: await connect(srv.url, 'archive'), dir: join(tmp, 'archive'), demod: false });
  await archive.start();
  cleanup(() => archive.stop());
  const agent = await LabAgent.start({ nc: await connect(srv.url, 'rig-1'), rig: 'rig-1', device: 'sim://sleep?seed=4', dir: join(tmp, 'rig-1'), ttlMs: 5000 });
  cleanup(() => agent.stop());
  const operator = await connect(srv.url, 'operator');
  assert.equal((await command(operator, 'rig-1', { cmd: 'start', durationS: 12 })).ok, true);
  await sleep(1500);
  await srv.kill();
  await sleep(10_000); // the recording goes on with the broker gone
  assert.ok(agent.recording, 'still recording when the broker returns');
  await srv.restart();
  await agent.recording;
  await waitFor('the session archived', () => localSessions(join(tmp, 'rig-1')).every((s) => archived(join(tmp, 'archive'), 'rig-1', s)), 30_000);
  expectArchivedIdentical(join(tmp, 'rig-1'), join(tmp, 'archive'), 'rig-1');
  const [session] = localSessions(join(tmp, 'rig-1'));
  const marker = readArchived(join(tmp, 'archive'), 'rig-1', session!)!.marker;
  // the fault did hit the mirror, and the stream holds every record once (+ the end marker)
  const checkpoint = JSON.parse(readFileSync(join(tmp, 'rig-1', session!, 'mirror.json'), 'utf8')) as MirrorCheckpoint;
  assert.equal(checkpoint.ended, true);
  assert.ok(agent.state.mirror!.failures > 0, 'the mirror saw the broker go');
  assert.equal(await storedMessages(operator), marker.records + 1, 'every record stored once');
  assert.ok(marker.records > 200, `records: ${marker.records}`);
  assert.equal(marker.unmirroredBytes, 0);
}

/** The archive (a `fiberrig archive` process) SIGKILLed mid-recording and started again. */
async function archiveKilled({ tmp, connect, cleanup }: Scene): Promise<void> {
  const srv = await NatsServer.start();
  cleanup(() => srv.dispose());
  const args = ['archive', '--nats', srv.url, '--dir', join(tmp, 'archive'), '--no-demod'];
  let archive = await CliProcess.start(args, 'consuming into');
  cleanup(() => archive.signal('SIGKILL'));
  const agent = await LabAgent.start({ nc: await connect(srv.url, 'rig-2'), rig: 'rig-2', device: 'sim://sleep?seed=5', dir: join(tmp, 'rig-2'), ttlMs: 5000 });
  cleanup(() => agent.stop());
  const operator = await connect(srv.url, 'operator');
  assert.equal((await command(operator, 'rig-2', { cmd: 'start', durationS: 4 })).ok, true);
  await sleep(1500);
  await archive.signal('SIGKILL');
  await sleep(1000);
  archive = await CliProcess.start(args, 'consuming into');
  await agent.recording;
  await waitFor('the session archived', () => localSessions(join(tmp, 'rig-2')).every((s) => archived(join(tmp, 'archive'), 'rig-2', s)), 30_000);
  expectArchivedIdentical(join(tmp, 'rig-2'), join(tmp, 'archive'), 'rig-2');
  assert.equal(await archive.signal('SIGTERM'), 0, archive.stderr);
}

/** An agent (a `fiberrig agent` process) SIGKILLed mid-recording; a new one on the same DIR back-fills. */
async function agentKilled({ tmp, connect, cleanup }: Scene): Promise<void> {
  const srv = await NatsServer.start();
  cleanup(() => srv.dispose());
  const archive = new LabArchive({ nc: await connect(srv.url, 'archive'), dir: join(tmp, 'archive'), demod: false });
  await archive.start();
  cleanup(() => archive.stop());
  const ttlMs = 2000;
  const agentArgs = ['agent', '--nats', srv.url, '--rig', 'rig-3', '--device', 'sim://sleep?seed=6', '--dir', join(tmp, 'rig-3'), '--ttl', `${ttlMs}ms`];
  const agent = await CliProcess.start(agentArgs, 'ready on');
  cleanup(() => agent.signal('SIGKILL'));
  const operator = await connect(srv.url, 'operator');
  const kv = await openRigsBucket(operator, ttlMs);
  const started = await command(operator, 'rig-3', { cmd: 'start', durationS: 60 });
  assert.equal(started.ok, true);
  const session = started.session as string;
  assert.equal((await command(operator, 'rig-3', { cmd: 'mark', label: 'before the kill' })).ok, true);
  await sleep(2000);
  assert.ok(await kv.get('rig-3'), 'registered while alive');
  await agent.signal('SIGKILL');
  const killedAt = Date.now();
  // its fleet entry goes within the TTL (plus the server's expiry sweep)
  await waitFor('the fleet entry to expire', async () => (await kv.get('rig-3')) === null, ttlMs + 3000);
  assert.ok(Date.now() - killedAt <= ttlMs + 3000);
  // the local raw log is intact (a torn tail at most)
  const rawPath = join(tmp, 'rig-3', session, 'raw.fjl');
  const reader = await RawLogReader.open(rawPath);
  let records = 0;
  for await (const _ of reader.records()) records += 1;
  assert.equal(reader.stats.corruptSpans, 0);
  assert.ok(records > 20, `records: ${records}`);
  // the archive holds everything the broker acknowledged, as a prefix of the local log
  const acked = (JSON.parse(readFileSync(join(tmp, 'rig-3', session, 'mirror.json'), 'utf8')) as MirrorCheckpoint).ackedBytes;
  const copyPath = join(tmp, 'archive', 'rig-3', session, 'raw.fjl');
  await waitFor('the archive to hold what was acknowledged', () => existsSync(copyPath) && statSync(copyPath).size >= acked);
  await sleep(300);
  const local = readFileSync(rawPath);
  const copy = readFileSync(copyPath);
  assert.ok(copy.length >= acked && copy.length > 0);
  assert.ok(copy.equals(local.subarray(0, copy.length)), 'archive copy is a prefix of the local raw log');

  // a new agent on the same DIR back-fills the session and closes it
  const again = await CliProcess.start(agentArgs, 'ready on');
  cleanup(() => again.signal('SIGKILL'));
  await waitFor('the killed session archived', () => archived(join(tmp, 'archive'), 'rig-3', session));
  const marker = readArchived(join(tmp, 'archive'), 'rig-3', session)!.marker;
  const whole = readFileSync(copyPath);
  assert.equal(whole.length, marker.bytes);
  assert.ok(whole.equals(local.subarray(0, marker.bytes)));
  assert.equal(marker.unmirroredBytes, local.length - marker.bytes);
  assert.deepEqual(marker.marks.map((m) => m.label), ['before the kill'], 'the mark survived the kill (mirror.json)');
  assert.equal(await storedMessages(operator), marker.records + 1);
  assert.equal(await again.signal('SIGTERM'), 0, again.stderr);
}

/** A 3-node cluster, replicas 3: the raw stream's leader SIGKILLed 2 s into a 6 s recording, not restarted. */
async function clusterNodeLost({ tmp, connect, cleanup }: Scene): Promise<void> {
  const cluster = await NatsCluster.start(3);
  cleanup(() => cluster.dispose());
  const operator = await connect(cluster.url, 'operator');
  // JetStream answers once the cluster has elected its meta leader (seconds)
  const jsm = await jetstreamManager(operator, { checkAPI: false });
  await waitFor('the JetStream meta leader', () => jsm.getAccountInfo().then(() => true, () => false), 30_000);
  // `fiberrig archive --replicas 3` creates the stream R3 (and its consumer, R3 like the stream)
  const archive = await CliProcess.start(['archive', '--nats', cluster.url, '--dir', join(tmp, 'archive'), '--no-demod', '--replicas', '3'], 'consuming into', 30_000);
  cleanup(() => archive.signal('SIGKILL'));
  const info = await jsm.streams.info(RAW_STREAM);
  assert.equal(info.config.num_replicas, 3);
  assert.equal((info.cluster?.replicas ?? []).length, 2, 'a leader and two replicas');
  const agent = await LabAgent.start({ nc: await connect(cluster.url, 'rig-4'), rig: 'rig-4', device: 'sim://sleep?seed=7', dir: join(tmp, 'rig-4'), ttlMs: 5000, replicas: 3 });
  cleanup(() => agent.stop());
  // the operator and the agent may be on different nodes: the agent's subscription reaches the operator's
  // node over the cluster's routes a moment after it subscribed ("no responders" until then)
  await waitFor("the agent's command subject on the operator's node", () => command(operator, 'rig-4', { cmd: 'status' }, 2000).then(() => true, () => false), 10_000);
  assert.equal((await command(operator, 'rig-4', { cmd: 'start', durationS: 6 })).ok, true);
  await sleep(2000);
  const leader = (await jsm.streams.info(RAW_STREAM)).cluster?.leader;
  const lost = cluster.servers.find((s) => s.serverName === leader);
  assert.ok(lost, `the stream's leader (${leader}) is a node of the cluster`);
  await lost.kill();
  await agent.recording;
  try {
    await waitFor('the session archived', () => localSessions(join(tmp, 'rig-4')).every((s) => archived(join(tmp, 'archive'), 'rig-4', s)), 30_000);
  } catch (e) {
    // what to look at: the consumer's pulls waiting, its delivered/ack floor, the stream's leader
    const consumer = await jsm.consumers.info(RAW_STREAM, 'fiberrig-archive').catch((x: Error) => x.message);
    throw new Error(`${(e as Error).message}\nagent mirror: ${JSON.stringify(agent.state.mirror)}\narchive: ${archive.stderr}\nconsumer: ${JSON.stringify(consumer)}`);
  }
  expectArchivedIdentical(join(tmp, 'rig-4'), join(tmp, 'archive'), 'rig-4');
  const [session] = localSessions(join(tmp, 'rig-4'));
  const marker = readArchived(join(tmp, 'archive'), 'rig-4', session!)!.marker;
  const after = await jsm.streams.info(RAW_STREAM);
  assert.notEqual(after.cluster?.leader, leader, 'a new leader was elected');
  assert.equal(after.state.messages, marker.records + 1, 'every record stored once');
  assert.equal(marker.unmirroredBytes, 0);
  assert.ok(marker.records > 100, `records: ${marker.records}`);
  assert.equal(await archive.signal('SIGTERM'), 0, archive.stderr);
}

const SCENARIOS: Record<string, (scene: Scene) => Promise<void>> = {
  'broker killed mid-recording, restarted 10 s later': brokerOutage,
  'archive SIGKILLed and restarted': archiveKilled,
  'agent SIGKILLed': agentKilled,
  '3-node cluster (replicas 3) loses its stream leader': clusterNodeLost,
};

describe('lab: faults', function () {
  this.timeout(90_000);
  it(`each at once, on its own broker: ${Object.keys(SCENARIOS).join('; ')}`, async function () {
    requireTool(this, natsServerMissing(), 'add "nats-server" to DEB_PACKAGES in .ci/run');
    const names = Object.keys(SCENARIOS);
    const results = await Promise.allSettled(names.map((name) => inScene(SCENARIOS[name]!)));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${names[i]}: ${(r.reason as Error)?.stack ?? String(r.reason)}`] : []));
    assert.deepEqual(failed, [], failed.join('\n\n'));
  });
});
