// Who may see and drive the rig: the token on non-loopback addresses (HTTP
// and WebSocket), the loopback defaults, and the checks against other web
// pages (cross-origin sockets, DNS rebinding).
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { WebSocket } from 'ws';
import { DEFAULT_LOCKIN_CONFIG } from '../../../host/config/acquisition.ts';
import { isLoopbackHost, startLiveServer, type LiveServer, tokenCookieName } from '../../../host/live/server.ts';
import type { Rig } from '../../../host/rig/rig.ts';
import { simRig } from './helpers.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a socket: 'open' with the first message, or the HTTP status it was refused with. */
function tryWs(port: number, path: string, headers: Record<string, string> = {}): Promise<{ open: true; first: string } | { open: false; status: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    ws.once('message', (data) => {
      ws.terminate();
      resolve({ open: true, first: String(data) });
    });
    ws.once('unexpected-response', (_req, res) => {
      ws.terminate();
      resolve({ open: false, status: res.statusCode ?? 0 });
    });
    ws.once('error', (e) => reject(e));
  });
}

describe('live view access', function () {
  this.timeout(60_000);
  let rig: Rig | undefined;
  const servers: LiveServer[] = [];

  before(async () => {
    rig = (await simRig('sim://steps')).rig;
  });
  after(async () => {
    for (const s of servers) await s.close();
    await rig?.close();
  });

  const serve = async (options: { host?: string; token?: string }): Promise<LiveServer> => {
    const s = await startLiveServer({ rig: rig!, config: DEFAULT_LOCKIN_CONFIG, port: 0, ...options });
    servers.push(s);
    return s;
  };

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assert.ok(isLoopbackHost(h), h);
    for (const h of ['0.0.0.0', '::', '192.168.1.5', '10.0.0.1', 'example.org']) assert.ok(!isLoopbackHost(h), h);
  });

  describe('on a non-loopback address', () => {
    let server: LiveServer;
    before(async () => {
      server = await serve({ host: '0.0.0.0' });
    });

    it('generates a token and puts it in the page address', () => {
      assert.ok(server.token && server.token.length >= 16);
      assert.ok(server.url.endsWith(`/?token=${encodeURIComponent(server.token)}`));
    });

    it('refuses the page and its files without the token (401), serves them with it', async () => {
      assert.equal((await get(server.port, '/')).status, 401);
      assert.equal((await get(server.port, '/app.js')).status, 401);
      assert.equal((await get(server.port, '/vendor/uPlot.esm.js')).status, 401);
      assert.equal((await get(server.port, '/?token=wrong-token-value')).status, 401);
      assert.equal((await get(server.port, `/?token=${server.token}x`)).status, 401);

      const page = await get(server.port, `/?token=${encodeURIComponent(server.token!)}`);
      assert.equal(page.status, 200);
      assert.match(page.body, /<script type="module" src="\/app.js">/);
      const cookie = String(page.headers['set-cookie']).split(';')[0]!;
      assert.ok(cookie.startsWith(`${tokenCookieName(server.port)}=`));
      assert.match(String(page.headers['set-cookie']), /HttpOnly; SameSite=Strict/);
      // the page's own requests carry the cookie
      assert.equal((await get(server.port, '/app.js', { Cookie: cookie })).status, 200);
      assert.equal((await get(server.port, '/vendor/uPlot.esm.js', { Cookie: cookie })).status, 200);
      assert.equal((await get(server.port, '/style.css', { Authorization: `Bearer ${server.token}` })).status, 200);
    });

    it('refuses the WebSocket without the token (401), accepts it with it', async () => {
      assert.deepEqual(await tryWs(server.port, '/ws'), { open: false, status: 401 });
      assert.deepEqual(await tryWs(server.port, '/ws?token=nope-nope-nope'), { open: false, status: 401 });
      const byQuery = await tryWs(server.port, `/ws?token=${encodeURIComponent(server.token!)}`);
      assert.ok(byQuery.open && JSON.parse(byQuery.first).type === 'hello');
      const byCookie = await tryWs(server.port, '/ws', { Cookie: `${tokenCookieName(server.port)}=${encodeURIComponent(server.token!)}` });
      assert.ok(byCookie.open && JSON.parse(byCookie.first).type === 'hello');
    });
  });

  describe('on 127.0.0.1', () => {
    it('needs no token', async () => {
      const server = await serve({});
      assert.equal(server.token, undefined);
      assert.ok(!server.url.includes('token'));
      assert.equal((await get(server.port, '/')).status, 200);
      const ws = await tryWs(server.port, '/ws');
      assert.ok(ws.open);
    });

    it('requires a token that was given explicitly', async () => {
      const server = await serve({ token: 'a-given-token' });
      assert.equal((await get(server.port, '/')).status, 401);
      assert.equal((await get(server.port, '/?token=a-given-token')).status, 200);
      assert.deepEqual(await tryWs(server.port, '/ws'), { open: false, status: 401 });
      assert.ok((await tryWs(server.port, '/ws?token=a-given-token')).open);
    });

    it('refuses sockets from other web sites and foreign host names (DNS rebinding)', async () => {
      const server = await serve({});
      assert.deepEqual(await tryWs(server.port, '/ws', { Origin: 'http://evil.example' }), { open: false, status: 403 });
      assert.ok((await tryWs(server.port, '/ws', { Origin: `http://127.0.0.1:${server.port}` })).open);
      assert.equal((await get(server.port, '/', { Host: `evil.example:${server.port}` })).status, 403);
      assert.equal((await get(server.port, '/', { Host: `localhost:${server.port}` })).status, 200);
    });

    it('serves only its own files', async () => {
      const server = await serve({});
      assert.equal((await get(server.port, '/../package.json')).status, 404);
      assert.equal((await get(server.port, '/vendor/../../package.json')).status, 404);
      assert.equal((await get(server.port, '/server.ts')).status, 404);
    });
  });
});
