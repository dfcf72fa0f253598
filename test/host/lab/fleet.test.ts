// Eight simulated rigs (real-time pacing) recording at once through one broker (issue 19,
// acceptance 1): every archived session is byte-identical to its local raw log; the fleet bucket lists the rigs;
// invalid commands are refused with typed errors; live signals arrive on the plain subject; the
// archive's bucket holds each session's progress (complete, verified, its byte count) and the
// dashboard's NATS source reports it.
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import '../../../host/cli/devices.ts';
import { LabAgent } from '../../../host/lab/agent.ts';
import { LabArchive } from '../../../host/lab/archive.ts';
import type { SessionArchiveProgress } from '../../../host/lab/archive-progress.ts';
import { connectBroker, openArchiveBucket, openRigsBucket } from '../../../host/lab/broker.ts';
import { NatsFleetSource } from '../../../host/lab/dashboard/nats-source.ts';
import { archiveProgressKey, liveSubject } from '../../../host/lab/layout.ts';
import { NatsServer, natsServerMissing } from '../../support/nats-server.ts';
import { requireTool } from '../../support/required-tool.ts';
import { archived, command, readArchived, expectArchivedIdentical, pick, waitFor } from './lab-helpers.ts';

/** Eight rigs, all recording at once. */
const RIGS = ['rig-a', 'rig-b', 'rig-c', 'rig-d', 'rig-e', 'rig-f', 'rig-g', 'rig-h'];

describe('lab: 8 rigs recording at once through one broker, two archives', function () {
  this.timeout(60_000);
  const title = 'archives every session byte-identical to its local raw log';
  let server: NatsServer | undefined;
  let tmp = '';
  const ncs: NatsConnection[] = [];
  const agents: LabAgent[] = [];
  const archives: LabArchive[] = [];
  let source: NatsFleetSource | undefined;

  after(async () => {
    await source?.close().catch(() => undefined);
    for (const a of agents) await a.stop().catch(() => undefined);
    for (const a of archives) await a.stop().catch(() => undefined);
    for (const nc of ncs) await nc.close().catch(() => undefined);
    await server?.dispose();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it(title, async function () {
    requireTool(this, natsServerMissing(), 'add "nats-server" to DEB_PACKAGES in .ci/run');
    server = await NatsServer.start();
    tmp = await mkdtemp(join(tmpdir(), 'fiberrig-lab-'));
    const connect = async (name: string): Promise<NatsConnection> => {
      const nc = await connectBroker({ url: server!.url, name });
      ncs.push(nc);
      return nc;
    };
    // two archive processes on one durable consumer and one DIR share the work
    for (const name of ['archive-1', 'archive-2']) {
      const archive = new LabArchive({ nc: await connect(name), dir: join(tmp, 'archive') });
      await archive.start();
      archives.push(archive);
    }
    for (const [i, rig] of RIGS.entries()) {
      agents.push(await LabAgent.start({ nc: await connect(rig), rig, device: `sim://sleep?seed=${i + 1}`, dir: join(tmp, rig), ttlMs: 5000 }));
    }
    const operator = await connect('operator');
    // the dashboard's view of the archive, per session: every put it saw
    source = new NatsFleetSource({ nc: await connect('dashboard'), archivePollMs: 0, bucketRetryMs: 200 });
    const seen: SessionArchiveProgress[] = [];
    source.archiveSessions$.subscribe((p) => seen.push(p));

    // the fleet
    const kv = await openRigsBucket(operator, 5000);
    const entry = await kv.get('rig-b');
    const idleEntry = JSON.parse(entry!.string());
    assert.deepEqual(pick(idleEntry, ['rig', 'status', 'recording']), { rig: 'rig-b', status: 'idle', recording: false });
    // the health the dashboard's alarms read: LEDs not darkened by the device, the recordings disk
    assert.deepEqual(idleEntry.leds, { dark: false, reason: null, sinceIso: null });
    assert.ok(idleEntry.disk.totalBytes > 0 && idleEntry.disk.freeBytes <= idleEntry.disk.totalBytes, JSON.stringify(idleEntry.disk));

    // refused: unknown command, bad duration, bad config, mark while idle
    assert.equal((await command(operator, 'rig-a', { cmd: 'explode' })).error.code, 'E_LAB_COMMAND');
    assert.equal((await command(operator, 'rig-a', { cmd: 'start', durationS: -1 })).error.code, 'E_LAB_COMMAND');
    assert.equal((await command(operator, 'rig-a', { cmd: 'start', durationS: 2, config: { mode: 'nonsense' } })).error.code, 'E_CONFIG');
    assert.equal((await command(operator, 'rig-a', { cmd: 'mark', label: 'x' })).error.code, 'E_LAB_NOT_RECORDING');

    const live: unknown[] = [];
    const liveSub = operator.subscribe(liveSubject('rig-a'), { callback: (_e, m) => { live.push(m.json()); } });

    // all eight at once: two sessions on rig-a (the second stopped early), one on each other rig
    const started = await Promise.all(RIGS.map((rig) => command(operator, rig, { cmd: 'start', subject: `mouse-${rig}`, durationS: 2.5 })));
    for (const r of started) assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal((await command(operator, 'rig-a', { cmd: 'start', durationS: 2 })).error.code, 'E_LAB_BUSY');
    assert.equal((await command(operator, 'rig-a', { cmd: 'mark', label: 'lights off' })).ok, true);
    // LED commands: a drive the device applies, and one it cannot have (refused with the device's own error code)
    const led = await command(operator, 'rig-b', { cmd: 'led', led: 0, currentMa: 5 });
    assert.equal(led.ok, true, JSON.stringify(led));
    const badLed = await command(operator, 'rig-b', { cmd: 'led', led: 200, currentMa: 5 });
    assert.equal(badLed.ok, false);
    assert.match(badLed.error.code, /^E_/);
    const status = await command(operator, 'rig-b', { cmd: 'status' });
    assert.deepEqual(pick(status.state, ['rig', 'recording', 'session']), { rig: 'rig-b', recording: true, session: started[1]!.session });
    const recordingEntry = JSON.parse((await kv.get('rig-c'))!.string());
    assert.deepEqual(pick(recordingEntry, ['recording', 'status']), { recording: true, status: 'recording' });
    await Promise.all(agents.map((a) => a.recording));
    const second = await command(operator, 'rig-a', { cmd: 'start', durationS: 30 });
    assert.equal(second.ok, true, JSON.stringify(second));
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(pick(await command(operator, 'rig-a', { cmd: 'stop' }), ['ok', 'stoppedBy']), { ok: true, stoppedBy: 'user' });

    await waitFor('every session archived', () => RIGS.every((rig) => {
      const sessions = readdirSync(join(tmp, rig));
      return sessions.length > 0 && sessions.every((s) => archived(join(tmp, 'archive'), rig, s));
    }));
    // demod ran on each archived session
    await waitFor('demod of every archived session', () => RIGS.every((rig) => readdirSync(join(tmp, rig)).every((s) => {
      const a = readArchived(join(tmp, 'archive'), rig, s);
      return a?.demod !== undefined;
    })));
    for (const rig of RIGS) {
      for (const s of readdirSync(join(tmp, rig))) {
        const a = readArchived(join(tmp, 'archive'), rig, s)!;
        assert.ok('signalRows' in a.demod! && a.demod.signalRows > 0, `${rig}/${s} demod: ${JSON.stringify(a.demod)}`);
      }
    }
    // per-session progress: the bucket holds each session complete and verified with its local raw log's byte count
    const latest = (rig: string, s: string): SessionArchiveProgress | undefined => seen.filter((p) => p.rig === rig && p.session === s).at(-1);
    await waitFor('the NATS source reports every session archived and demodulated', () => RIGS.every((rig) => readdirSync(join(tmp, rig)).every((s) => latest(rig, s)?.demod === 'done')));
    const bucket = await openArchiveBucket(operator);
    for (const rig of RIGS) {
      for (const s of readdirSync(join(tmp, rig))) {
        const want = { rig, session: s, records: readArchived(join(tmp, 'archive'), rig, s)!.marker.records, bytes: statSync(join(tmp, rig, s, 'raw.fjl')).size, complete: true, sha256Ok: true, demod: 'done' };
        const entry = (await bucket.get(archiveProgressKey(rig, s)))!.json<SessionArchiveProgress>();
        assert.deepEqual(pick(entry as unknown as Record<string, unknown>, Object.keys(want)), want, `${rig}/${s} in the bucket`);
        assert.deepEqual(pick(latest(rig, s) as unknown as Record<string, unknown>, Object.keys(want)), want, `${rig}/${s} from the NATS source`);
        // counts in progress never exceed the final ones (the two archives' counts are added, not overwritten or doubled)
        for (const p of seen.filter((q) => q.rig === rig && q.session === s && !q.complete)) assert.ok(p.records <= want.records && p.bytes <= want.bytes, `${rig}/${s}: ${JSON.stringify(p)}`);
      }
    }
    // progress came while the sessions were being archived, not only at their end (both archives' counts add up)
    assert.ok(seen.some((p) => !p.complete && p.bytes > 0), 'an entry in progress');
    // the mark travelled with the first session's end marker
    const first = readArchived(join(tmp, 'archive'), 'rig-a', readdirSync(join(tmp, 'rig-a')).sort()[0]!)!;
    assert.deepEqual(first.marker.marks.map((m) => m.label), ['lights off']);
    liveSub.unsubscribe();
    let sessions = 0;
    for (const rig of RIGS) sessions += expectArchivedIdentical(join(tmp, rig), join(tmp, 'archive'), rig);
    assert.equal(sessions, RIGS.length + 1);
    assert.ok(live.length > 3, `live samples: ${live.length}`);
    // shared without duplicates: each record written once, by one of them
    let records = 0;
    for (const rig of RIGS) for (const s of readdirSync(join(tmp, rig))) records += readArchived(join(tmp, 'archive'), rig, s)!.marker.records;
    const [a1, a2] = archives.map((a) => a.stats);
    assert.ok(a1!.recordsWritten > 0 && a2!.recordsWritten > 0, `both archives worked: ${a1!.recordsWritten}, ${a2!.recordsWritten}`);
    assert.equal(a1!.recordsWritten + a2!.recordsWritten, records);
    assert.equal(a1!.recordsSkipped + a2!.recordsSkipped, 0);
  });
});
