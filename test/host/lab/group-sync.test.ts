// Issue 19 acceptance 3 on the lab: 4 simulated rigs share a sync line (sim://…?sync_bus=NAME, each
// with its own crystal error), each run by its own LabAgent on one nats-server; the dashboard's
// group command (sendGroup through the NATS fleet source: every start sent at the same instant)
// starts them, the driver's start command carrying the sync output. The sessions they record are
// aligned (`fiberrig align`) and exported: every CSV row's group_time_s names, within one driver
// sample, the driver sample the simulator's truth says was being taken at that row's instant.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { NatsConnection } from '@nats-io/transport-node';
import { SimBinding, type SimDevice } from '../../../host/cli/devices.ts';
import { main } from '../../../host/cli/main.ts';
import { exportRecording } from '../../../host/export/index.ts';
import { LabAgent } from '../../../host/lab/agent.ts';
import { connectBroker } from '../../../host/lab/broker.ts';
import { sendGroup } from '../../../host/lab/dashboard/group-command.ts';
import { NatsFleetSource } from '../../../host/lab/dashboard/nats-source.ts';
import { NatsServer, natsServerMissing } from '../../support/nats-server.ts';
import { requireTool } from '../../support/required-tool.ts';

const RATE_HZ = 1000;
const PERIOD_SAMPLES = 500;
const DURATION_S = 4;

function config(driver: boolean): Record<string, unknown> {
  return {
    mode: 'lock-in', sampleRateHz: RATE_HZ, detectors: [0], leds: [{ channel: 0, currentMa: 10, carrierHz: 110 }, { channel: 1, currentMa: 10, carrierHz: 170 }],
    blockSamples: 100, outputRateHz: 100, digitalInputs: [0], ...(driver ? { syncOut: { line: 2, periodSamples: PERIOD_SAMPLES, pulseSamples: 10 } } : {}),
  };
}

function driverSampleAt(driver: SimDevice, t: number): number {
  const t0 = driver.commonTimeOfSample(0)!;
  const t1 = driver.commonTimeOfSample(1e6)!;
  return ((t - t0) / (t1 - t0)) * 1e6;
}

const RIGS = [
  { rig: 'sync-1', driftPpm: 150, driver: false },
  { rig: 'sync-2', driftPpm: -120, driver: false },
  { rig: 'sync-drv', driftPpm: 40, driver: true },
  { rig: 'sync-3', driftPpm: 70, driver: false },
];

describe('lab: a synchronized group start of 4 rigs on one sync line (issue 19 acceptance 3)', function () {
  this.timeout(120_000);
  let server: NatsServer | undefined;
  let tmp = '';
  const ncs: NatsConnection[] = [];
  const agents: LabAgent[] = [];
  let source: NatsFleetSource | undefined;
  const opened: string[] = [];

  after(async () => {
    await source?.close().catch(() => undefined);
    for (const a of agents) await a.stop().catch(() => undefined);
    for (const nc of ncs) await nc.close().catch(() => undefined);
    await server?.dispose();
    for (const url of opened) SimBinding.ports.release(url);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('started together from the dashboard\'s group command (sample 0 of every rig within 0.5 s), aligned and exported: every row\'s group_time_s within 1 driver sample of the simulator\'s truth', async function () {
    requireTool(this, natsServerMissing(), 'add "nats-server" to the Debian packages in .ci/run');
    server = await NatsServer.start();
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-lab-sync-'));
    const connect = async (name: string): Promise<NatsConnection> => {
      const nc = await connectBroker({ url: server!.url, name });
      ncs.push(nc);
      return nc;
    };
    const bus = `labsync${process.pid}`;
    const devices = new Map<string, SimDevice>();
    const stopListening = SimBinding.ports.onOpen((h) => {
      const r = RIGS.find((x) => h.path.includes(`drift_ppm=${x.driftPpm}&`));
      if (r) devices.set(r.rig, h.device);
      opened.push(h.path);
    });
    try {
      for (const [i, r] of RIGS.entries()) {
        agents.push(await LabAgent.start({ nc: await connect(r.rig), rig: r.rig, device: `sim://linear?seed=${21 + i}&drift_ppm=${r.driftPpm}&sync_bus=${bus}`, dir: join(tmp, r.rig), ttlMs: 6000 }));
      }
    } finally {
      stopListening();
    }
    assert.equal(devices.size, RIGS.length, 'every agent opened its simulated rig');

    source = new NatsFleetSource({ nc: await connect('dashboard'), archivePollMs: 500, bucketRetryMs: 200 });
    const group = await sendGroup(source, RIGS.map((r) => ({ rig: r.rig, command: { cmd: 'start', subject: `m-${r.rig}`, durationS: DURATION_S, config: config(r.driver) } })), () => true);
    for (const res of group.results) assert.ok(res.ok, JSON.stringify(res));
    await Promise.all(agents.map((a) => a.recording));
    const dirs = RIGS.map((r, i) => join(tmp, r.rig, group.results[i]!.session!));

    const report = new PassThrough();
    const chunks: Buffer[] = [];
    report.on('data', (c: Buffer) => chunks.push(c));
    assert.equal(await main(['align', ...dirs, '--json'], { stdout: report, stderr: report }), 0, Buffer.concat(chunks).toString('utf8'));

    const driver = devices.get('sync-drv')!;
    // one start for the group: every rig's sample 0 within 0.5 s of the others' (common time; loaded machines included)
    const starts = RIGS.map((r) => devices.get(r.rig)!.commonTimeOfSample(0)!);
    assert.ok(Math.max(...starts) - Math.min(...starts) < 0.5, `starts spread ${((Math.max(...starts) - Math.min(...starts)) * 1000).toFixed(1)} ms`);
    for (const [i, r] of RIGS.entries()) {
      const out = join(tmp, `${r.rig}.csv`);
      await exportRecording(dirs[i]!, 'csv', out);
      const lines = readFileSync(out, 'utf8').trim().split('\n');
      const header = lines[0]!.split(',');
      const rows = lines.slice(1).map((l) => l.split(',').map(Number));
      const ti = header.indexOf('time_s');
      const gi = header.indexOf('group_time_s');
      assert.ok(ti >= 0 && gi >= 0, `${r.rig}: header ${header.join(',')}`);
      assert.ok(rows.length > 300, `${r.rig}: ${rows.length} rows`);
      const device = devices.get(r.rig)!;
      let worst = 0;
      for (const row of rows) {
        const truth = driverSampleAt(driver, device.commonTimeOfSample(row[ti]! * RATE_HZ)!);
        worst = Math.max(worst, Math.abs(row[gi]! * RATE_HZ - truth));
      }
      assert.ok(worst < 1, `${r.rig}: group_time_s off by up to ${worst.toFixed(4)} driver samples`);
    }
  });
});
