// The server life the live view and the lab dashboard share (host/live/page-http.ts).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { createAccess } from '../../../host/live/access.ts';
import { closePage, listenPage, type PageClient, upgradeToSocket } from '../../../host/live/page-http.ts';

describe('host/live/page-http: listening and closing a page server', () => {
  it('a busy port gives the caller\'s typed error; a free one the page\'s address, with the token off loopback', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const busyPort = (taken.address() as AddressInfo).port;
    try {
      const http = createServer();
      const access = createAccess({ host: '127.0.0.1', cookieName: (p) => `t_${p}` });
      await assert.rejects(listenPage(http, '127.0.0.1', busyPort, access, (e) => Object.assign(new Error(`cannot listen: ${e.code}`), { code: 'E_TEST_LISTEN' })),
        (e: Error & { code: string }) => e.code === 'E_TEST_LISTEN' && /EADDRINUSE/.test(e.message));
      const tokenAccess = createAccess({ host: '0.0.0.0', token: 'abcdefgh12', cookieName: (p) => `t_${p}` });
      const open = createServer();
      const { port, url } = await listenPage(open, '0.0.0.0', 0, tokenAccess, (e) => e);
      assert.ok(port > 0);
      assert.equal(url, `http://0.0.0.0:${port}/?token=abcdefgh12`);
      await closePage(open, new WebSocketServer({ noServer: true }), new Set());
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });

  it('closing ends every page socket and the server, open connections included', async () => {
    const clients = new Set<PageClient>();
    const wss = new WebSocketServer({ noServer: true });
    const access = createAccess({ host: '127.0.0.1', cookieName: (p) => `t_${p}` });
    const http = createServer();
    http.on('upgrade', (req, socket, head) => upgradeToSocket(req, socket, head, access, wss, (ws) => { clients.add({ ws, alive: true }); }));
    const { port } = await listenPage(http, '127.0.0.1', 0, access, (e) => e);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await new Promise<void>((r, j) => { ws.once('open', () => r()); ws.once('error', j); });
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    await closePage(http, wss, clients);
    assert.equal(clients.size, 0);
    assert.equal(await closed, 1006, 'terminated, not a clean close');
    assert.equal(http.listening, false);
  });
});
