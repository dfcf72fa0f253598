// Commands go through the broker's own accounts and permissions: the minimal config of
// host/lab/README.md (users agent, archive, operator, viewer) — a client without valid
// credentials cannot connect, a user without publish permission on the command subject cannot
// start a recording, the operator can; agent and archive work within their permissions.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import '../../../host/cli/devices.ts';
import { LabAgent } from '../../../host/lab/agent.ts';
import { LabArchive } from '../../../host/lab/archive.ts';
import { connectBroker } from '../../../host/lab/broker.ts';
import { LabError } from '../../../host/lab/errors.ts';
import { NatsServer, natsServerMissing } from '../../support/nats-server.ts';
import { requireTool } from '../../support/required-tool.ts';
import { archived, command, expectArchivedIdentical, localSessions, waitFor } from './lab-helpers.ts';

/** The authorization block of host/lab/README.md, with test passwords. */
const LAB_AUTHORIZATION = `
authorization {
  AGENT = {
    publish = ["$JS.API.INFO", "$JS.API.STREAM.INFO.FIBERRIG_RAW", "$JS.API.STREAM.CREATE.FIBERRIG_RAW",
               "$JS.API.STREAM.INFO.KV_fiberrig_rigs", "$JS.API.STREAM.CREATE.KV_fiberrig_rigs",
               "$KV.fiberrig_rigs.>", "fiberrig.raw.>", "fiberrig.live.>", "_INBOX.>"]
    subscribe = ["fiberrig.rig.*.cmd", "_INBOX.>"]
  }
  ARCHIVE = {
    publish = ["$JS.API.INFO", "$JS.API.STREAM.INFO.FIBERRIG_RAW", "$JS.API.STREAM.CREATE.FIBERRIG_RAW",
               "$JS.API.CONSUMER.INFO.FIBERRIG_RAW.fiberrig-archive", "$JS.API.CONSUMER.CREATE.FIBERRIG_RAW.>",
               "$JS.API.CONSUMER.DURABLE.CREATE.FIBERRIG_RAW.fiberrig-archive",
               "$JS.API.CONSUMER.MSG.NEXT.FIBERRIG_RAW.fiberrig-archive", "$JS.ACK.FIBERRIG_RAW.fiberrig-archive.>",
               "$JS.API.STREAM.INFO.KV_fiberrig_archive", "$JS.API.STREAM.CREATE.KV_fiberrig_archive",
               "$JS.API.DIRECT.GET.KV_fiberrig_archive.>", "$KV.fiberrig_archive.>"]
    subscribe = ["_INBOX.>"]
  }
  OPERATOR = {
    publish = ["fiberrig.rig.*.cmd", "$JS.API.INFO", "$JS.API.STREAM.INFO.KV_fiberrig_rigs", "$JS.API.DIRECT.GET.KV_fiberrig_rigs.>"]
    subscribe = ["_INBOX.>", "fiberrig.live.>"]
  }
  VIEWER = {
    publish = ["$JS.API.INFO", "$JS.API.STREAM.INFO.KV_fiberrig_rigs", "$JS.API.DIRECT.GET.KV_fiberrig_rigs.>"]
    subscribe = ["_INBOX.>", "fiberrig.live.>"]
  }
  users = [
    { user: agent, password: "agent-secret", permissions: $AGENT }
    { user: archive, password: "archive-secret", permissions: $ARCHIVE }
    { user: operator, password: "operator-secret", permissions: $OPERATOR }
    { user: viewer, password: "viewer-secret", permissions: $VIEWER }
  ]
}
`;

describe('lab: security through the broker\'s permissions', function () {
  this.timeout(60_000);
  const title = 'no valid credentials, or no permission, cannot start a recording; the operator can';
  let server: NatsServer | undefined;
  let tmp = '';
  const ncs: NatsConnection[] = [];
  let agent: LabAgent | undefined;
  let archive: LabArchive | undefined;

  after(async () => {
    await agent?.stop().catch(() => undefined);
    await archive?.stop().catch(() => undefined);
    for (const nc of ncs) await nc.close().catch(() => undefined);
    await server?.dispose();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it(title, async function () {
    requireTool(this, natsServerMissing(), 'add "nats-server" to DEB_PACKAGES in .ci/run');
    server = await NatsServer.start({ config: LAB_AUTHORIZATION });
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-lab-'));
    const connect = async (user: string, password: string): Promise<NatsConnection> => {
      const nc = await connectBroker({ url: server!.url, user, password });
      ncs.push(nc);
      return nc;
    };
    archive = new LabArchive({ nc: await connect('archive', 'archive-secret'), dir: join(tmp, 'archive'), demod: false });
    await archive.start();
    agent = await LabAgent.start({ nc: await connect('agent', 'agent-secret'), rig: 'rig-s', device: 'sim://sleep?seed=7', dir: join(tmp, 'rig-s'), ttlMs: 5000 });

    // no credentials, a wrong password: not even connected
    await assert.rejects(connectBroker({ url: server.url }), (e: unknown) => e instanceof LabError && e.code === 'E_LAB_AUTH');
    await assert.rejects(connectBroker({ url: server.url, user: 'operator', password: 'guess' }), (e: unknown) => e instanceof LabError && e.code === 'E_LAB_AUTH');
    // a viewer may not publish commands: the request fails, nothing starts
    const viewer = await connect('viewer', 'viewer-secret');
    await assert.rejects(command(viewer, 'rig-s', { cmd: 'start', durationS: 1 }, 2000), /Permissions Violation for Publish to "fiberrig\.rig\.rig-s\.cmd"/);
    assert.equal(agent.state.recording, false);
    assert.deepEqual(localSessions(join(tmp, 'rig-s')), []);

    // the operator can; agent and archive do their work within their permissions
    const operator = await connect('operator', 'operator-secret');
    const started = await command(operator, 'rig-s', { cmd: 'start', durationS: 1.5 });
    assert.equal(started.ok, true, JSON.stringify(started));
    await agent.recording;
    await waitFor('the session archived', () => localSessions(join(tmp, 'rig-s')).every((s) => archived(join(tmp, 'archive'), 'rig-s', s)));
    expectArchivedIdentical(join(tmp, 'rig-s'), join(tmp, 'archive'), 'rig-s');
  });
});
