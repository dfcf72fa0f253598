// Faults, each against real processes: the broker killed mid-recording and restarted (the
// agent keeps recording and back-fills; nothing lost or duplicated), the archive SIGKILLed
// and restarted (resumes, identical result), an agent SIGKILLed (its fleet entry expires within
// the TTL, its raw log is intact, the archive holds what was acknowledged; a new agent back-fills
// the rest).
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
import { type MirrorCheckpoint } from '../../../host/lab/checkpoint-file.ts';
import { RAW_STREAM } from '../../../host/lab/layout.ts';
import { RawLogReader } from '../../../host/record/rawlog-reader.ts';
import { NatsServer, natsServerMissing } from '../../support/nats-server.ts';
import { requireTool } from '../../support/required-tool.ts';
import { CliProcess } from './cli-process.ts';
import { archived, command, expectArchivedIdentical, localSessions, readArchived, sleep, waitFor } from './lab-helpers.ts';

describe('lab: faults', function () {
  this.timeout(60_000);
  const cases = ['broker killed mid-recording and restarted', 'archive SIGKILLed and restarted', 'agent SIGKILLed'];
  let server: NatsServer | undefined;
  let tmp = '';
  const cleanups: Array<() => Promise<unknown>> = [];
  const connect = async (name: string): Promise<NatsConnection> => {
    const nc = await connectBroker({ url: server!.url, name });
    cleanups.push(() => nc.close());
    return nc;
  };
  const storedMessages = async (nc: NatsConnection): Promise<number> => (await (await jetstreamManager(nc)).streams.info(RAW_STREAM)).state.messages;

  const setUp = async (ctx: Mocha.Context): Promise<void> => {
    requireTool(ctx, natsServerMissing(), 'add "nats-server" to DEB_PACKAGES in .ci/run');
    server = await NatsServer.start();
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-lab-'));
  };

  afterEach(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
    await server?.dispose();
    if (tmp) await rm(tmp, { recursive: true, force: true });
    server = undefined;
    tmp = '';
  });

  it(cases[0]!, async function () {
    await setUp(this);
    const srv = server!;
    const archive = new LabArchive({ nc: await connect('archive'), dir: join(tmp, 'archive') });
    await archive.start();
    cleanups.push(() => archive.stop());
    const agent = await LabAgent.start({ nc: await connect('rig-1'), rig: 'rig-1', device: 'sim://sleep?seed=4', dir: join(tmp, 'rig-1'), ttlMs: 5000 });
    cleanups.push(() => agent.stop());
    const operator = await connect('operator');
    assert.equal((await command(operator, 'rig-1', { cmd: 'start', durationS: 5 })).ok, true);
    await sleep(1500);
    await srv.kill();
    await sleep(2500); // recording goes on with the broker gone
    await srv.restart();
    await agent.recording;
    await waitFor('the session archived', () => localSessions(join(tmp, 'rig-1')).every((s) => archived(join(tmp, 'archive'), 'rig-1', s)));
    expectArchivedIdentical(join(tmp, 'rig-1'), join(tmp, 'archive'), 'rig-1');
    const [session] = localSessions(join(tmp, 'rig-1'));
    const marker = readArchived(join(tmp, 'archive'), 'rig-1', session!)!.marker;
    // the fault did hit the mirror, and the stream holds every record once (+ the end marker)
    const checkpoint = JSON.parse(readFileSync(join(tmp, 'rig-1', session!, 'mirror.json'), 'utf8')) as MirrorCheckpoint;
    assert.equal(checkpoint.ended, true);
    assert.ok(agent.state.mirror!.failures > 0, 'the mirror saw the broker go');
    assert.equal(await storedMessages(operator), marker.records + 1);
    assert.ok(marker.records > 50, `records: ${marker.records}`);
    assert.equal(marker.unmirroredBytes, 0);
  });

  it(cases[1]!, async function () {
    await setUp(this);
    const srv = server!;
    const args = ['archive', '--nats', srv.url, '--dir', join(tmp, 'archive'), '--no-demod'];
    let archive = await CliProcess.start(args, 'consuming into');
    cleanups.push(() => archive.signal('SIGKILL'));
    const agent = await LabAgent.start({ nc: await connect('rig-2'), rig: 'rig-2', device: 'sim://sleep?seed=5', dir: join(tmp, 'rig-2'), ttlMs: 5000 });
    cleanups.push(() => agent.stop());
    const operator = await connect('operator');
    assert.equal((await command(operator, 'rig-2', { cmd: 'start', durationS: 4 })).ok, true);
    await sleep(1500);
    await archive.signal('SIGKILL');
    await sleep(1000);
    archive = await CliProcess.start(args, 'consuming into');
    await agent.recording;
    await waitFor('the session archived', () => localSessions(join(tmp, 'rig-2')).every((s) => archived(join(tmp, 'archive'), 'rig-2', s)));
    expectArchivedIdentical(join(tmp, 'rig-2'), join(tmp, 'archive'), 'rig-2');
    assert.equal(await archive.signal('SIGTERM'), 0, archive.stderr);
  });

  it(cases[2]!, async function () {
    await setUp(this);
    const srv = server!;
    const archive = new LabArchive({ nc: await connect('archive'), dir: join(tmp, 'archive'), demod: false });
    await archive.start();
    cleanups.push(() => archive.stop());
    const ttlMs = 2000;
    const agentArgs = ['agent', '--nats', srv.url, '--rig', 'rig-3', '--device', 'sim://sleep?seed=6', '--dir', join(tmp, 'rig-3'), '--ttl', `${ttlMs}ms`];
    const agent = await CliProcess.start(agentArgs, 'ready on');
    cleanups.push(() => agent.signal('SIGKILL'));
    const operator = await connect('operator');
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
    cleanups.push(() => again.signal('SIGKILL'));
    await waitFor('the killed session archived', () => archived(join(tmp, 'archive'), 'rig-3', session));
    const marker = readArchived(join(tmp, 'archive'), 'rig-3', session)!.marker;
    const whole = readFileSync(copyPath);
    assert.equal(whole.length, marker.bytes);
    assert.ok(whole.equals(local.subarray(0, marker.bytes)));
    assert.equal(marker.unmirroredBytes, local.length - marker.bytes);
    assert.deepEqual(marker.marks.map((m) => m.label), ['before the kill'], 'the mark survived the kill (mirror.json)');
    assert.equal(await storedMessages(operator), marker.records + 1);
    assert.equal(await again.signal('SIGTERM'), 0, again.stderr);
  });
});
