// `fiberrig agent` ends cleanly on SIGTERM mid-recording: the recording stops (stoppedBy
// "signal", its summary a JSON line on stdout with --json), the mirror delivers it whole, the
// rig leaves the fleet at once, exit code 0; logs only on stderr.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { LabArchive } from '../../../host/lab/archive.ts';
import { connectBroker, openRigsBucket } from '../../../host/lab/broker.ts';
import { NatsServer, natsServerMissing } from '../../support/nats-server.ts';
import { requireTool } from '../../support/required-tool.ts';
import { CliProcess } from './cli-process.ts';
import { archived, command, expectArchivedIdentical, sleep, waitFor } from './lab-helpers.ts';

describe('lab: fiberrig agent on SIGTERM', function () {
  this.timeout(60_000);
  const title = 'stops the recording, delivers it whole, leaves the fleet, exits 0';
  let server: NatsServer | undefined;
  let tmp = '';
  let nc: NatsConnection | undefined;
  let archive: LabArchive | undefined;
  let agent: CliProcess | undefined;

  after(async () => {
    await agent?.signal('SIGKILL');
    await archive?.stop().catch(() => undefined);
    await nc?.close().catch(() => undefined);
    await server?.dispose();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it(title, async function () {
    requireTool(this, natsServerMissing(), 'add "nats-server" to DEB_PACKAGES in .ci/run');
    server = await NatsServer.start();
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-lab-'));
    nc = await connectBroker({ url: server.url });
    archive = new LabArchive({ nc, dir: join(tmp, 'archive'), demod: false });
    await archive.start();
    agent = await CliProcess.start(['agent', '--nats', server.url, '--rig', 'rig-t', '--device', 'sim://sleep?seed=8', '--dir', join(tmp, 'rig-t'), '--json'], 'ready on');
    const kv = await openRigsBucket(nc, 15_000);
    const started = await command(nc, 'rig-t', { cmd: 'start', subject: 'm9', durationS: 60 });
    assert.equal(started.ok, true, JSON.stringify(started));
    await sleep(1500);
    assert.equal(await agent.signal('SIGTERM'), 0, agent.stderr);
    const entry = await kv.get('rig-t');
    assert.ok(entry === null || entry.operation === 'DEL', 'left the fleet (a delete marker, for watchers)');
    const lines = agent.stdout.trim().split('\n');
    assert.equal(lines.length, 1, agent.stdout);
    const summary = JSON.parse(lines[0]!) as { session: string; summary: { stoppedBy: string; rawSamples: number } };
    assert.equal(summary.session, started.session);
    assert.equal(summary.summary.stoppedBy, 'signal');
    assert.ok(summary.summary.rawSamples > 0);
    assert.match(agent.stderr, /SIGTERM: stopping/);
    await waitFor('the session archived', () => archived(join(tmp, 'archive'), 'rig-t', started.session as string));
    expectArchivedIdentical(join(tmp, 'rig-t'), join(tmp, 'archive'), 'rig-t');
  });
});
