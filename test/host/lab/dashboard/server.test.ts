// The dashboard's server on the in-memory fleet: what a page receives (the table, live points,
// alarms), what its commands send, and who may connect (the live view's access rules).
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { MemoryFleetSource, rigState } from '../../../../host/lab/dashboard/memory-source.ts';
import type { FleetFrame, ReplyMessage } from '../../../../host/lab/dashboard/messages.ts';
import { labTokenCookieName, type LabServer, startLabServer } from '../../../../host/lab/dashboard/server.ts';
import { until } from '../../live/helpers.ts';
import { get, pageSocket, tryWs } from './helpers.ts';

const socketOf = (ws: WebSocket): Socket => (ws as unknown as { _socket: Socket })._socket;

describe('lab dashboard server', function () {
  this.timeout(30_000);
  const servers: LabServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });
  const serve = async (source: MemoryFleetSource, options: { host?: string; token?: string } = {}): Promise<LabServer> => {
    const s = await startLabServer({ source, port: 0, frameIntervalMs: 50, ...options });
    servers.push(s);
    return s;
  };

  it('sends each page the fleet table and only the live points it has not had; an expired rig shows offline', async () => {
    const source = new MemoryFleetSource();
    source.setRig(rigState('r1'));
    source.setRig(rigState('r2', { recording: true, status: 'recording', session: 'S1', subject: 'm2' }));
    const server = await serve(source);
    const { ws, messages } = await pageSocket(server.port);
    try {
      await until('hello and a frame', () => messages.some((m) => m.type === 'hello') && messages.some((m) => m.type === 'fleet'));
      for (let i = 0; i < 20; i++) source.pushLive({ rig: 'r2', session: 'S1', timeS: i / 10, values: { a: i, b: null } });
      await until('20 live points', () => messages.filter((m): m is FleetFrame => m.type === 'fleet').flatMap((f) => f.live['r2'] ?? []).length >= 20);
      const points = messages.filter((m): m is FleetFrame => m.type === 'fleet').flatMap((f) => f.live['r2'] ?? []);
      assert.deepEqual(points.map((p) => p.values['a']), Array.from({ length: 20 }, (_, i) => i), 'each point once, in order');
      assert.equal(points[3]!.values['b'], null);
      const last = messages.filter((m): m is FleetFrame => m.type === 'fleet').at(-1)!;
      assert.deepEqual(last.rigs.map((r) => [r.rig, r.online, r.state.recording, r.state.subject]), [['r1', true, false, null], ['r2', true, true, 'm2']]);

      source.removeRig('r1', 'expired');
      const offline = await until('r1 offline', () => {
        const f = messages.filter((m): m is FleetFrame => m.type === 'fleet').at(-1)!;
        const r1 = f.rigs.find((r) => r.rig === 'r1')!;
        return !r1.online && r1;
      });
      assert.deepEqual(offline.alarms.map((a) => a.kind), ['offline']);
      assert.match(offline.alarms[0]!.message, /entry expired/);
    } finally {
      ws.terminate();
    }
  });

  it('a page\'s group start sends one start per selected rig and replies per rig, refusals included', async () => {
    const source = new MemoryFleetSource();
    for (const r of ['a', 'b', 'c']) source.setRig(rigState(r));
    source.patchRig('c', { recording: true, status: 'recording', session: 'BUSY' });
    const server = await serve(source);
    const { ws, messages } = await pageSocket(server.port);
    try {
      ws.send(JSON.stringify({ type: 'start', id: 7, durationS: 3600, rigs: [{ rig: 'a', subject: 'm1' }, { rig: 'b', subject: ' ' }, { rig: 'c', subject: 'm3' }] }));
      const reply = await until('the reply', () => messages.find((m): m is ReplyMessage => m.type === 'reply' && m.id === 7));
      assert.deepEqual(source.sent.map((s) => [s.rig, s.command]), [
        ['a', { cmd: 'start', subject: 'm1', durationS: 3600 }],
        ['b', { cmd: 'start', subject: null, durationS: 3600 }],
        ['c', { cmd: 'start', subject: 'm3', durationS: 3600 }],
      ]);
      assert.equal(reply.action, 'start');
      assert.deepEqual(reply.results.map((r) => [r.rig, r.ok, r.error?.code ?? null]), [['a', true, null], ['b', true, null], ['c', false, 'E_LAB_BUSY']]);
      // the table follows the agents' new states
      await until('a and b recording', () => {
        const f = messages.filter((m): m is FleetFrame => m.type === 'fleet').at(-1)!;
        return f.rigs.filter((r) => r.state.recording).length === 3;
      });
      // a bad message (a duration beyond the agent's limit) sends nothing
      ws.send(JSON.stringify({ type: 'start', id: 8, durationS: 1e9, rigs: [{ rig: 'a', subject: null }] }));
      ws.send(JSON.stringify({ type: 'stop', id: 9, rigs: ['a', 'b'] }));
      const stop = await until('the stop reply', () => messages.find((m): m is ReplyMessage => m.type === 'reply' && m.id === 9));
      assert.deepEqual(stop.results.map((r) => r.ok), [true, true]);
      assert.equal(messages.some((m) => m.type === 'reply' && m.id === 8), false);
      assert.deepEqual(source.sent.slice(3).map((s) => [s.rig, s.command.cmd]), [['a', 'stop'], ['b', 'stop']]);
    } finally {
      ws.terminate();
    }
  });

  it('forgets an offline rig on request, never an online one', async () => {
    const source = new MemoryFleetSource();
    source.setRig(rigState('up'));
    source.setRig(rigState('down'));
    const server = await serve(source);
    const { ws, messages } = await pageSocket(server.port);
    try {
      source.removeRig('down', 'deleted');
      await until('down offline', () => !server.table.isOnline('down', Date.now()));
      ws.send(JSON.stringify({ type: 'forget', id: 1, rig: 'up' }));
      ws.send(JSON.stringify({ type: 'forget', id: 2, rig: 'down' }));
      await until('both answered', () => messages.some((m) => m.type === 'reply' && m.id === 2));
      assert.deepEqual(server.table.rigNames, ['up']);
      await until('a frame without it', () => {
        const f = messages.filter((m): m is FleetFrame => m.type === 'fleet').at(-1)!;
        return f.rigs.length === 1 && f.rigs[0]!.rig === 'up';
      });
    } finally {
      ws.terminate();
    }
  });

  it('a page that stops reading gets no frames (the others still do) and, reading again, gets the live points it missed that are still held', async () => {
    const source = new MemoryFleetSource();
    const rigs = Array.from({ length: 40 }, (_, i) => `r${i}`);
    for (const r of rigs) source.setRig(rigState(r, { recording: true, status: 'recording', session: 'S' }));
    const server = await startLabServer({ source, port: 0, frameIntervalMs: 20, maxBufferedBytes: 16 * 1024, liveWindowS: 600 });
    servers.push(server);
    const stalled = await pageSocket(server.port);
    const reading = await pageSocket(server.port);
    let n = 0;
    const push = (): void => {
      n++;
      for (const rig of rigs) source.pushLive({ rig, session: 'S', timeS: n / 10, values: { a: n } });
    };
    try {
      socketOf(stalled.ws).pause();
      // until the kernel's socket buffers are full and the server's queue passes maxBufferedBytes (bounded: a broken test ends)
      for (let i = 0; i < 1500 && server.totals.framesDropped === 0; i++) {
        push();
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(server.totals.framesDropped > 0, 'frames withheld from the stalled page');
      const before = reading.messages.length;
      for (let i = 0; i < 10; i++) {
        push();
        await new Promise((r) => setTimeout(r, 20));
      }
      await until('the reading page keeps getting frames', () => reading.messages.length > before + 5);
      // the stalled page reads again: every point pushed reaches it, each once, in order
      socketOf(stalled.ws).resume();
      const points = (): number[] => stalled.messages.filter((m): m is FleetFrame => m.type === 'fleet').flatMap((f) => (f.live['r7'] ?? []).map((p) => p.values['a']!));
      await until('all points on the resumed page', () => points().length === n);
      assert.deepEqual(points(), Array.from({ length: n }, (_, i) => i + 1));
    } finally {
      stalled.ws.terminate();
      reading.ws.terminate();
    }
  });

  describe('access', () => {
    it('off loopback: a token is generated and required for the page, its files and its socket', async () => {
      const server = await serve(new MemoryFleetSource(), { host: '0.0.0.0' });
      assert.ok(server.token && server.token.length >= 16);
      assert.ok(server.url.endsWith(`/?token=${encodeURIComponent(server.token)}`));
      assert.equal((await get(server.port, '/')).status, 401);
      assert.equal((await get(server.port, '/app.js')).status, 401);
      assert.equal((await get(server.port, '/?token=wrong-token-value')).status, 401);
      const page = await get(server.port, `/?token=${encodeURIComponent(server.token!)}`);
      assert.equal(page.status, 200);
      assert.match(page.body, /fiberrig lab/);
      const cookie = String(page.headers['set-cookie']).split(';')[0]!;
      assert.ok(cookie.startsWith(`${labTokenCookieName(server.port)}=`));
      assert.equal((await get(server.port, '/app.js', { Cookie: cookie })).status, 200);
      assert.deepEqual(await tryWs(server.port, '/ws'), { open: false, status: 401 });
      const ws = await tryWs(server.port, `/ws?token=${encodeURIComponent(server.token!)}`);
      assert.ok(ws.open && JSON.parse(ws.first).type === 'hello');
    });

    it('on 127.0.0.1: no token needed, but a foreign Origin or Host is refused', async () => {
      const server = await serve(new MemoryFleetSource());
      assert.equal(server.token, undefined);
      assert.equal((await get(server.port, '/')).status, 200);
      assert.equal((await get(server.port, '/vendor/uPlot.esm.js')).status, 200);
      assert.ok((await tryWs(server.port, '/ws')).open);
      assert.deepEqual(await tryWs(server.port, '/ws', { Origin: 'http://evil.example' }), { open: false, status: 403 });
      assert.ok((await tryWs(server.port, '/ws', { Origin: `http://127.0.0.1:${server.port}` })).open);
      assert.equal((await get(server.port, '/', { Host: `evil.example:${server.port}` })).status, 403);
      assert.equal((await get(server.port, '/../package.json')).status, 404);
    });

    it('on 127.0.0.1 with a given token: the token is required', async () => {
      const server = await serve(new MemoryFleetSource(), { token: 'lab-given-token' });
      assert.equal((await get(server.port, '/')).status, 401);
      assert.equal((await get(server.port, '/?token=lab-given-token')).status, 200);
      assert.deepEqual(await tryWs(server.port, '/ws'), { open: false, status: 401 });
    });
  });
});
