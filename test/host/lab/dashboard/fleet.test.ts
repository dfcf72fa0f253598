// The dashboard's fleet table and alarms, group commands and the live buffer, on the in-memory source.
import assert from 'node:assert/strict';
import { parseSessionArchiveProgress, type SessionArchiveProgress } from '../../../../host/lab/archive-progress.ts';
import { FleetTable } from '../../../../host/lab/dashboard/fleet-table.ts';
import { sendGroup } from '../../../../host/lab/dashboard/group-command.ts';
import { LiveBuffer } from '../../../../host/lab/dashboard/live-buffer.ts';
import { MemoryFleetSource, rigState } from '../../../../host/lab/dashboard/memory-source.ts';

const kinds = (table: FleetTable, rig: string, nowMs: number): string[] => table.rows(nowMs).find((r) => r.rig === rig)!.alarms.map((a) => a.kind);

describe('lab dashboard: fleet table', () => {
  it('holds every rig\'s latest state, sorted by name, from the source\'s events (current states first)', () => {
    const source = new MemoryFleetSource();
    source.setRig(rigState('rig-b'));
    source.setRig(rigState('rig-a'));
    const table = new FleetTable();
    source.rigs$.subscribe((e) => table.apply(e, 1000));
    source.patchRig('rig-a', { status: 'recording', recording: true, session: 'S1', subject: 'm7' });
    const rows = table.rows(1000);
    assert.deepEqual(rows.map((r) => r.rig), ['rig-a', 'rig-b']);
    assert.equal(rows[0]!.state.session, 'S1');
    assert.equal(rows[0]!.state.subject, 'm7');
    assert.ok(rows.every((r) => r.online && r.alarms.length === 0), JSON.stringify(rows.map((r) => r.alarms)));
  });

  it('marks a rig offline when its entry goes, or when it is not refreshed within the TTL; a fresh state brings it back', () => {
    const table = new FleetTable({ offlineAfterMs: 15_000 });
    table.apply({ type: 'state', rig: 'r1', state: rigState('r1') }, 0);
    table.apply({ type: 'state', rig: 'r2', state: rigState('r2', { recording: true, session: 'S9', status: 'recording' }) }, 0);
    table.apply({ type: 'gone', rig: 'r1', reason: 'deleted' }, 1000);
    assert.deepEqual(kinds(table, 'r1', 1000), ['offline']);
    assert.match(table.rows(1000)[0]!.alarms[0]!.message, /left the fleet/);
    assert.equal(table.isOnline('r1', 1000), false);
    // r2's agent died: no refresh
    assert.equal(table.isOnline('r2', 15_000), true);
    assert.equal(table.isOnline('r2', 15_001), false);
    const r2 = table.rows(16_000)[1]!;
    assert.equal(r2.online, false);
    assert.match(r2.alarms[0]!.message, /no update for 16 s \(was recording S9\)/);
    table.apply({ type: 'state', rig: 'r2', state: rigState('r2') }, 17_000);
    assert.deepEqual(kinds(table, 'r2', 17_000), []);
    // a state stored 14 s before the dashboard read it (its agent may have died since): offline 1 s later
    table.apply({ type: 'state', rig: 'r3', state: rigState('r3'), ageMs: 14_000 }, 20_000);
    assert.equal(table.isOnline('r3', 21_000), true);
    assert.equal(table.isOnline('r3', 21_001), false);
    // an offline rig can be forgotten
    assert.ok(table.forget('r1'));
    assert.deepEqual(table.rigNames, ['r2', 'r3']);
  });

  it('raises the gaps alarm while missing or dropped samples rise, and clears it once they stop rising for the window', () => {
    const table = new FleetTable({ gapWindowMs: 60_000, offlineAfterMs: 1e9 });
    const link = (missing: number, dropped = 0) => ({ connected: true, reconnects: 0, missingSamples: missing, droppedSamples: dropped, heartbeatRoundTripMs: 1 });
    // a rig already counting 500 missing samples when first seen: old news, no alarm
    table.apply({ type: 'state', rig: 'r', state: rigState('r', { link: link(500) }) }, 0);
    table.apply({ type: 'state', rig: 'r', state: rigState('r', { link: link(500) }) }, 5_000);
    assert.deepEqual(kinds(table, 'r', 5_000), []);
    table.apply({ type: 'state', rig: 'r', state: rigState('r', { link: link(540, 2) }) }, 10_000);
    const row = table.rows(10_000)[0]!;
    assert.deepEqual(row.alarms.map((a) => a.kind), ['gaps']);
    assert.equal(row.newMissingSamples, 42);
    // no new losses for a whole window
    for (let t = 15_000; t <= 75_000; t += 5_000) table.apply({ type: 'state', rig: 'r', state: rigState('r', { link: link(540, 2) }) }, t);
    assert.deepEqual(kinds(table, 'r', 75_000), []);
  });

  it('alarms on a link down, live samples stalled while recording, LEDs dark, a filling disk and a mirror behind', () => {
    const table = new FleetTable({ liveStalledAfterMs: 5_000, offlineAfterMs: 1e9 });
    table.apply({ type: 'state', rig: 'down', state: rigState('down', { link: { connected: false, reconnects: 3, missingSamples: 0, droppedSamples: 0, heartbeatRoundTripMs: null } }) }, 0);
    assert.deepEqual(kinds(table, 'down', 0), ['link-down']);

    table.apply({ type: 'state', rig: 'rec', state: rigState('rec', { recording: true, status: 'recording', session: 'S1' }) }, 0);
    table.applyLive({ rig: 'rec', session: 'S1', timeS: 1, values: { a: 1 } }, 4_000);
    assert.deepEqual(kinds(table, 'rec', 8_000), []);
    assert.deepEqual(kinds(table, 'rec', 9_500), ['live-stalled']);

    table.apply({ type: 'state', rig: 'dark', state: rigState('dark', { leds: { dark: true, sinceIso: '2026-01-01T00:00:00Z' } }) }, 0);
    assert.deepEqual(kinds(table, 'dark', 0), ['leds-dark']);

    const disk = (freeBytes: number) => rigState('disk', { disk: { freeBytes, totalBytes: 1000e9 } });
    table.apply({ type: 'state', rig: 'disk', state: disk(200e9) }, 0);
    assert.deepEqual(kinds(table, 'disk', 0), []);
    table.apply({ type: 'state', rig: 'disk', state: disk(80e9) }, 0);
    assert.deepEqual(table.rows(0).find((r) => r.rig === 'disk')!.alarms.map((a) => [a.kind, a.severity]), [['disk', 'warn']]);
    table.apply({ type: 'state', rig: 'disk', state: disk(20e9) }, 0);
    assert.deepEqual(table.rows(0).find((r) => r.rig === 'disk')!.alarms.map((a) => [a.kind, a.severity]), [['disk', 'error']]);

    const MB = 1024 * 1024;
    table.apply({ type: 'state', rig: 'mirror', state: rigState('mirror', { mirror: { ackedBytes: 10 * MB, fileBytes: 11 * MB, failures: 0 } }) }, 0);
    assert.deepEqual(kinds(table, 'mirror', 0), []);
    table.apply({ type: 'state', rig: 'mirror', state: rigState('mirror', { mirror: { ackedBytes: 10 * MB, fileBytes: 11 * MB, failures: 2 } }) }, 0);
    assert.deepEqual(kinds(table, 'mirror', 0), ['mirror']);
    assert.match(table.rows(0).find((r) => r.rig === 'mirror')!.alarms[0]!.message, /1\.0 MB waiting/);
  });
});

describe('lab dashboard: archive progress per session', () => {
  const progress = (rig: string, session: string, patch: Partial<SessionArchiveProgress> = {}): SessionArchiveProgress => ({
    rig, session, records: 10, bytes: 1000, complete: false, sha256Ok: false, demod: 'pending', updatedIso: '2026-12-06T00:00:00.000Z', ...patch,
  });

  it('shows each rig its latest sessions newest first, archived bytes against the mirror\'s file bytes of the same session; complete, verified, demod', () => {
    const source = new MemoryFleetSource();
    source.setRig(rigState('rig-a', { recording: true, status: 'recording', session: 'S0003', mirror: { session: 'S0003', ackedBytes: 3000, fileBytes: 4000, failures: 0 } }));
    source.setRig(rigState('rig-b'));
    // set before the table subscribes: the source replays what it holds
    source.setSessionProgress(progress('rig-a', 'S0001', { complete: true, sha256Ok: true, demod: 'done', records: 50, bytes: 5000 }));
    const table = new FleetTable({ archiveSessionsPerRig: 2 });
    source.rigs$.subscribe((e) => table.apply(e, 0));
    source.archiveSessions$.subscribe((p) => table.applySession(p));
    source.setSessionProgress(progress('rig-a', 'S0002', { complete: true, sha256Ok: true, demod: 'failed', records: 20, bytes: 2000 }));
    source.setSessionProgress(progress('rig-a', 'S0003', { records: 25, bytes: 2500 }));
    source.setSessionProgress(progress('rig-a', 'S0003', { records: 30, bytes: 3000 }));
    const [a, b] = table.rows(0);
    // two kept (the option), newest first; the running session's file bytes from the agent's mirror
    assert.deepEqual(a!.archive.map((s) => [s.session, s.records, s.bytes, s.fileBytes, s.complete, s.sha256Ok, s.demod]), [
      ['S0003', 30, 3000, 4000, false, false, 'pending'],
      ['S0002', 20, 2000, null, true, true, 'failed'],
    ]);
    assert.deepEqual(b!.archive, []);
    // forgetting a rig forgets its sessions
    table.forget('rig-a');
    table.apply({ type: 'state', rig: 'rig-a', state: rigState('rig-a') }, 0);
    assert.deepEqual(table.rows(0)[0]!.archive, []);
  });

  it('validates a bucket value before it is shown', () => {
    assert.ok(parseSessionArchiveProgress(progress('r', 's')));
    assert.equal(parseSessionArchiveProgress({ ...progress('r', 's'), demod: 'maybe' }), undefined);
    assert.equal(parseSessionArchiveProgress({ rig: 'r', session: 's' }), undefined);
    assert.equal(parseSessionArchiveProgress(null), undefined);
  });
});

describe('lab dashboard: group commands', () => {
  it('a group start sends one start to each selected rig at one instant, each with its own subject; refusals come back per rig', async () => {
    const source = new MemoryFleetSource();
    for (const r of ['r1', 'r2', 'r3', 'r4']) source.setRig(rigState(r));
    source.patchRig('r3', { recording: true, status: 'recording', session: 'OLD' });
    const online = new Set(['r1', 'r2', 'r3']); // r4 is offline by the table
    // how many commands had been sent when the first reply was made
    const model = source.handler;
    let sentAtFirstReply: number | undefined;
    source.handler = async (rig, command, state) => {
      await Promise.resolve();
      sentAtFirstReply ??= source.sent.length;
      return model(rig, command, state);
    };
    const { sentIso, results } = await sendGroup(source, ['r1', 'r2', 'r3', 'r4'].map((rig, i) => ({
      rig, command: { cmd: 'start' as const, subject: `m${i + 1}`, durationS: 600 },
    })), (rig) => online.has(rig));
    assert.ok(!Number.isNaN(Date.parse(sentIso)));
    assert.deepEqual(source.sent.map((s) => [s.rig, s.command]), [
      ['r1', { cmd: 'start', subject: 'm1', durationS: 600 }],
      ['r2', { cmd: 'start', subject: 'm2', durationS: 600 }],
      ['r3', { cmd: 'start', subject: 'm3', durationS: 600 }],
    ], 'one start per online rig, none to the offline one');
    // all sent before any reply was awaited
    assert.equal(sentAtFirstReply, 3);
    assert.deepEqual(results.map((r) => [r.rig, r.ok, r.error?.code ?? null]), [
      ['r1', true, null], ['r2', true, null], ['r3', false, 'E_LAB_BUSY'], ['r4', false, 'E_LAB_OFFLINE'],
    ]);
    assert.ok(results[0]!.session && results[1]!.session && results[0]!.session !== results[1]!.session);
    assert.equal(source.state('r1')!.subject, 'm1');
    assert.match(results[2]!.error!.message, /recording session OLD/);
  });

  it('a stop of an idle rig is refused with the agent\'s reason', async () => {
    const source = new MemoryFleetSource();
    source.setRig(rigState('r1'));
    const { results } = await sendGroup(source, [{ rig: 'r1', command: { cmd: 'stop' } }], () => true);
    assert.equal(results[0]!.ok, false);
    assert.equal(results[0]!.error!.code, 'E_LAB_NOT_RECORDING');
  });
});

describe('lab dashboard: live buffer', () => {
  it('gives each reader only the points after its cursor, at most maxPoints', () => {
    const buffer = new LiveBuffer(5);
    for (let i = 0; i < 3; i++) buffer.push({ rig: 'a', session: 'S', timeS: i, values: { x: i } });
    assert.deepEqual(buffer.since('a', 0).map((p) => p.timeS), [0, 1, 2]);
    assert.deepEqual(buffer.since('a', 2).map((p) => p.timeS), [2]);
    assert.deepEqual(buffer.since('a', 3), []);
    for (let i = 3; i < 100; i++) buffer.push({ rig: 'a', session: 'S', timeS: i, values: { x: i } });
    assert.deepEqual(buffer.since('a', 0).map((p) => p.timeS), [95, 96, 97, 98, 99]);
    assert.equal(buffer.lastSeq('a'), 100);
    assert.deepEqual(buffer.since('b', 0), []);
  });
});
