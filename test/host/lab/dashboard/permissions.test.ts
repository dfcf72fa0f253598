// The dashboard as a broker user with only the permissions host/lab/dashboard/README.md lists:
// it watches the fleet bucket, gets live samples, starts and stops a rig, reads the archive's
// backlog and each session's archive progress — and a dashboard user can do nothing else on the raw stream.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import '../../../../host/cli/devices.ts';
import { LabAgent } from '../../../../host/lab/agent.ts';
import { LabArchive } from '../../../../host/lab/archive.ts';
import { connectBroker } from '../../../../host/lab/broker.ts';
import type { ArchiveProgress, FleetEvent, LiveSample, SessionArchiveProgress } from '../../../../host/lab/dashboard/fleet-source.ts';
import { NatsFleetSource } from '../../../../host/lab/dashboard/nats-source.ts';
import { RAW_STREAM } from '../../../../host/lab/layout.ts';
import { NatsServer, natsServerMissing } from '../../../support/nats-server.ts';
import { requireTool } from '../../../support/required-tool.ts';
import { until } from '../../live/helpers.ts';

/** host/lab/README.md's agent and archive permissions, and the dashboard's of host/lab/dashboard/README.md. */
const AUTHORIZATION = `
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
  DASHBOARD = {
    publish = ["fiberrig.rig.*.cmd", "$JS.API.INFO",
               "$JS.API.STREAM.INFO.KV_fiberrig_rigs", "$JS.API.CONSUMER.CREATE.KV_fiberrig_rigs", "$JS.API.CONSUMER.CREATE.KV_fiberrig_rigs.>",
               "$JS.API.CONSUMER.DELETE.KV_fiberrig_rigs.>", "$JS.FC.KV_fiberrig_rigs.>",
               "$JS.API.STREAM.INFO.FIBERRIG_RAW", "$JS.API.CONSUMER.INFO.FIBERRIG_RAW.fiberrig-archive",
               "$JS.API.STREAM.INFO.KV_fiberrig_archive", "$JS.API.CONSUMER.CREATE.KV_fiberrig_archive", "$JS.API.CONSUMER.CREATE.KV_fiberrig_archive.>",
               "$JS.API.CONSUMER.DELETE.KV_fiberrig_archive.>", "$JS.FC.KV_fiberrig_archive.>"]
    subscribe = ["_INBOX.>", "fiberrig.live.>"]
  }
  users = [
    { user: agent, password: "agent-secret", permissions: $AGENT }
    { user: archive, password: "archive-secret", permissions: $ARCHIVE }
    { user: dashboard, password: "dashboard-secret", permissions: $DASHBOARD }
  ]
}
`;

describe('lab dashboard within its broker permissions', function () {
  this.timeout(90_000);
  let server: NatsServer | undefined;
  let tmp = '';
  const ncs: NatsConnection[] = [];
  let agent: LabAgent | undefined;
  let archive: LabArchive | undefined;
  let source: NatsFleetSource | undefined;

  after(async () => {
    await source?.close().catch(() => undefined);
    await agent?.stop().catch(() => undefined);
    await archive?.stop().catch(() => undefined);
    for (const nc of ncs) await nc.close().catch(() => undefined);
    await server?.dispose();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('watches the fleet, gets live samples, starts and stops a rig, reads the archive backlog and its sessions\' progress; may not touch the raw stream', async function () {
    requireTool(this, natsServerMissing(), 'add "nats-server" to the Debian packages in .ci/run');
    server = await NatsServer.start({ config: AUTHORIZATION });
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-lab-perm-'));
    const connect = async (user: string): Promise<NatsConnection> => {
      const nc = await connectBroker({ url: server!.url, user, password: `${user}-secret`, name: user });
      ncs.push(nc);
      return nc;
    };
    archive = new LabArchive({ nc: await connect('archive'), dir: join(tmp, 'archive'), demod: false });
    await archive.start();
    agent = await LabAgent.start({ nc: await connect('agent'), rig: 'perm-1', device: 'sim://sleep?seed=2', dir: join(tmp, 'perm-1'), ttlMs: 6000 });
    const dashboardNc = await connect('dashboard');
    source = new NatsFleetSource({ nc: dashboardNc, archivePollMs: 300, bucketRetryMs: 200 });
    const events: FleetEvent[] = [];
    const samples: LiveSample[] = [];
    let progress: ArchiveProgress | undefined;
    source.rigs$.subscribe((e) => events.push(e));
    source.live$.subscribe((s) => samples.push(s));
    source.archive$.subscribe((p) => { progress = p; });
    const sessions: SessionArchiveProgress[] = [];
    source.archiveSessions$.subscribe((p) => sessions.push(p));

    await until('the rig in the fleet', () => events.some((e) => e.type === 'state' && e.rig === 'perm-1'));
    const started = await source.send('perm-1', { cmd: 'start', subject: 'm1', durationS: 60 });
    assert.ok(started.ok, JSON.stringify(started));
    await until('live samples', () => samples.filter((s) => s.rig === 'perm-1').length >= 5);
    await until('the state says recording', () => events.some((e) => e.type === 'state' && e.state.recording && e.state.subject === 'm1'));
    await until('the archive catching up', () => progress?.consumer === true && progress.ackFloorSeq > 0 && progress);
    const stopped = await source.send('perm-1', { cmd: 'stop' });
    assert.ok(stopped.ok, JSON.stringify(stopped));
    // the archive (within its permissions) publishes the session's progress, the dashboard (within its own) sees it complete
    const done = await until('the session archived, per the archive bucket', () => sessions.find((p) => p.rig === 'perm-1' && p.session === stopped['session'] && p.complete));
    assert.deepEqual([done.sha256Ok, done.demod], [true, 'off']);
    assert.ok(done.bytes > 0 && done.records > 0, JSON.stringify(done));

    // nothing else: the raw stream cannot be purged or deleted with the dashboard's user
    const jsm = await jetstreamManager(dashboardNc);
    await assert.rejects(jsm.streams.purge(RAW_STREAM), /permission|timeout/i);
  });
});
