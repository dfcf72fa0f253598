// The dashboard on a real lab: nats-server (JetStream, temporary store), an archive, and 4
// LabAgents on simulated rigs. The NATS source lists the rigs, relays an agent's refusal, says
// when no agent answers and sees an agent leave; in Chromium the dashboard's group start starts
// all 4 rigs (each agent records), their live traces advance, and a group stop ends them.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import { type Browser, chromium } from 'playwright-core';
import '../../../../host/cli/devices.ts';
import { PassThrough } from 'node:stream';
import { labCommand } from '../../../../host/cli/commands/lab.ts';
import { LabAgent } from '../../../../host/lab/agent.ts';
import { LabArchive } from '../../../../host/lab/archive.ts';
import { connectBroker } from '../../../../host/lab/broker.ts';
import type { FleetEvent } from '../../../../host/lab/dashboard/fleet-source.ts';
import { NatsFleetSource } from '../../../../host/lab/dashboard/nats-source.ts';
import { type LabServer, startLabServer } from '../../../../host/lab/dashboard/server.ts';
import { NatsServer, natsServerMissing } from '../../../support/nats-server.ts';
import { requireTool } from '../../../support/required-tool.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, needChromium, until } from '../../live/helpers.ts';
import { get } from './helpers.ts';

const outputDir = fileURLToPath(new URL('../../../../test-output/', import.meta.url));
const RIGS = ['lab-1', 'lab-2', 'lab-3', 'lab-4'];

interface LabCounters {
  points: Record<string, number>;
  rigs: { rig: string; online: boolean; recording: boolean; session: string | null }[];
}

describe('lab dashboard on nats-server with 4 agents', function () {
  this.timeout(180_000);
  let server: NatsServer | undefined;
  let tmp = '';
  const ncs: NatsConnection[] = [];
  const agents = new Map<string, LabAgent>();
  let archive: LabArchive | undefined;
  let source: NatsFleetSource | undefined;
  let dashboard: LabServer | undefined;
  let browser: Browser | undefined;

  const connect = async (name: string): Promise<NatsConnection> => {
    const nc = await connectBroker({ url: server!.url, name });
    ncs.push(nc);
    return nc;
  };

  before(async function () {
    requireTool(this, natsServerMissing(), 'add "nats-server" to the Debian packages in .ci/run');
    server = await NatsServer.start();
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-lab-dashboard-'));
    archive = new LabArchive({ nc: await connect('archive'), dir: join(tmp, 'archive'), demod: false });
    await archive.start();
    for (const [i, rig] of RIGS.entries()) {
      agents.set(rig, await LabAgent.start({ nc: await connect(rig), rig, device: `sim://sleep?seed=${i + 1}`, dir: join(tmp, rig), ttlMs: 6000 }));
    }
    source = new NatsFleetSource({ nc: await connect('dashboard'), archivePollMs: 500, bucketRetryMs: 200 });
    dashboard = await startLabServer({ source, port: 0 });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await dashboard?.close().catch(() => undefined);
    await source?.close().catch(() => undefined);
    for (const a of agents.values()) await a.stop().catch(() => undefined);
    await archive?.stop().catch(() => undefined);
    for (const nc of ncs) await nc.close().catch(() => undefined);
    await server?.dispose();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('the NATS source lists the 4 rigs, relays an agent\'s refusal, and says when no agent answers', async () => {
    const states = new Map<string, FleetEvent>();
    const sub = source!.rigs$.subscribe((e) => states.set(e.rig, e));
    try {
      await until('4 rigs in the fleet', () => RIGS.every((r) => states.get(r)?.type === 'state'));
      // the dashboard's offline limit is the bucket's TTL (the agents' ttlMs)
      await until('the bucket\'s TTL', () => dashboard!.table.offlineAfterMs === 6000);
      const e = states.get('lab-2')!;
      assert.ok(e.type === 'state' && e.state.status === 'idle' && e.state.link.connected && e.state.info.leds > 0);
      const refused = await source!.send('lab-2', { cmd: 'stop' });
      assert.ok(!refused.ok);
      assert.equal(refused.error.code, 'E_LAB_NOT_RECORDING');
      const invalid = await source!.send('lab-2', { cmd: 'start', subject: null, durationS: -1 });
      assert.ok(!invalid.ok && invalid.error.code === 'E_LAB_COMMAND', JSON.stringify(invalid));
      const nobody = await source!.send('no-such-rig', { cmd: 'status' });
      assert.ok(!nobody.ok && nobody.error.code === 'E_LAB_OFFLINE', JSON.stringify(nobody));
      const archiveSeen = await until('the archive backlog', () => {
        let last: unknown;
        source!.archive$.subscribe((p) => { last = p; }).unsubscribe();
        return last as { consumer: boolean } | undefined;
      });
      assert.equal(archiveSeen.consumer, true);
    } finally {
      sub.unsubscribe();
    }
  });

  it('in Chromium: a group start starts all 4 rigs, their traces advance, a group stop ends them; screenshot', async function () {
    needChromium(this);
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
    await page.goto(dashboard!.url);
    const counters = (): Promise<LabCounters> => page.evaluate(() => (globalThis as unknown as { fiberrigLab: LabCounters }).fiberrigLab);
    await until('4 rig cards', async () => (await page.locator('section.rig').count()) === 4);

    await page.locator('#select-all').click();
    for (const [i, rig] of RIGS.entries()) await page.locator(`[data-subject="${rig}"]`).fill(`mouse-${i + 1}`);
    await page.locator('#duration-min').fill('5');
    await page.locator('#group-start').click();
    await until('every agent recording', () => RIGS.every((r) => agents.get(r)!.state.recording), 60_000);
    assert.deepEqual(RIGS.map((r) => agents.get(r)!.state.subject), ['mouse-1', 'mouse-2', 'mouse-3', 'mouse-4']);
    await until('the page shows 4 recording', async () => (await counters()).rigs.filter((r) => r.recording).length === 4, 30_000);
    for (const rig of RIGS) {
      await until(`${rig}'s start reply on its card`, async () => /start: ok \(session /.test(String(await page.locator(`[data-result="${rig}"]`).textContent())), 30_000);
    }

    // live traces from the agents' live subjects advance on every card
    const first = await until('points on every plot', async () => { const c = await counters(); return RIGS.every((r) => (c.points[r] ?? 0) > 0) && c; }, 30_000);
    await until('every plot advances', async () => { const c = await counters(); return RIGS.every((r) => c.points[r]! >= first.points[r]! + 20); }, 30_000);
    mkdirSync(outputDir, { recursive: true });
    await page.screenshot({ path: join(outputDir, 'lab-dashboard-nats.png'), fullPage: true });

    await page.locator('#group-stop').click();
    await until('every agent idle', () => RIGS.every((r) => !agents.get(r)!.state.recording), 60_000);
    await until('the page shows none recording', async () => (await counters()).rigs.every((r) => !r.recording), 30_000);
    assert.deepEqual(pageErrors, []);
  });

  it('the broker restarted: the dashboard follows the fleet again (rigs back online, commands answered)', async () => {
    await server!.restart();
    // entries refreshed after the restart reach the table
    const restartedMs = Date.now();
    await until('fresh states after the restart', () => {
      const rows = dashboard!.table.rows(Date.now());
      // heard of since the restart
      return rows.length === 4 && rows.every((r) => r.online && r.lastHeardS * 1000 < Date.now() - restartedMs) ? rows : undefined;
    }, 30_000);
    const status = await until('a command answered', async () => { const r = await source!.send('lab-1', { cmd: 'status' }); return r.ok && r; }, 20_000);
    assert.ok(status.ok);
  });

  it('an agent that leaves shows offline on the dashboard', async () => {
    const agent = agents.get('lab-4')!;
    agents.delete('lab-4');
    await agent.stop();
    const offline = await until('lab-4 offline', () => dashboard!.table.rows(Date.now()).find((r) => r.rig === 'lab-4' && !r.online), 20_000);
    assert.match(offline.alarms[0]!.message, /its agent left the fleet/);
    assert.ok(dashboard!.table.rows(Date.now()).filter((r) => r.rig !== 'lab-4').every((r) => r.online));
  });

  it('fiberrig lab: 127.0.0.1 without a token by default; another --host generates and requires one', async () => {
    /** Runs the command until the page has been asked for without and with the query of its printed address. */
    const run = async (args: { host?: string }): Promise<{ url: string; stderr: string; bare: number; printed: number }> => {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let err = '';
      stderr.on('data', (d: Buffer) => { err += d.toString(); });
      let out = '';
      stdout.on('data', (d: Buffer) => { out += d.toString(); });
      const abort = new AbortController();
      let url = '';
      const done = labCommand({ stdout, stderr }, { nats: server!.url, port: 0, json: true, signal: abort.signal, onServing: (u) => { url = u; }, ...args });
      await until('the dashboard served', () => url !== '');
      const port = Number(new URL(url).port);
      const bare = (await get(port, '/')).status;
      const printed = (await get(port, `/${new URL(url).search}`)).status;
      abort.abort();
      assert.equal(await done, 0);
      assert.deepEqual(JSON.parse(out.trim()).url, url);
      return { url, stderr: err, bare, printed };
    };
    const local = await run({});
    assert.match(local.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal(local.bare, 200);
    const open = await run({ host: '0.0.0.0' });
    assert.match(open.url, /^http:\/\/0\.0\.0\.0:\d+\/\?token=/);
    assert.match(open.stderr, /not a loopback address: generated an access token/);
    assert.equal(open.bare, 401, 'without the token');
    assert.equal(open.printed, 200, 'with the printed token');
  });
});
