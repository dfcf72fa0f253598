// The HTTP side of a page fiberrig serves to a browser (the live view, the lab dashboard): its
// files, read once, with strict headers behind the access checks (access.ts), and the WebSocket
// upgrade at /ws, refused for a foreign Host or Origin or without the token; and the server's life:
// listening, pinging the sockets, closing.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Access } from './access.ts';

export interface PageAsset {
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};
const require = createRequire(import.meta.url);

/**
 * A page's files by URL path: `files` from `publicDir` (index.html served at /), and uPlot from
 * node_modules at /vendor/. `missing` makes the typed error for a file that cannot be read.
 */
export function loadPageAssets(publicDir: string, files: readonly string[], missing: (path: string, cause: unknown) => Error): Map<string, PageAsset> {
  const read = (path: string): PageAsset => {
    try {
      return { body: readFileSync(path), type: TYPES[extname(path)] ?? 'application/octet-stream' };
    } catch (cause) {
      throw missing(path, cause);
    }
  };
  const assets = new Map<string, PageAsset>();
  for (const f of files) assets.set(f === 'index.html' ? '/' : `/${f}`, read(`${publicDir}${f}`));
  assets.set('/vendor/uPlot.esm.js', read(require.resolve('uplot/dist/uPlot.esm.js')));
  assets.set('/vendor/uPlot.min.css', read(require.resolve('uplot/dist/uPlot.min.css')));
  return assets;
}

/** Answers a GET/HEAD for one of the page's files; `tokenHint` says where the token is when it is missing. */
export function servePage(req: IncomingMessage, res: ServerResponse, access: Access, assets: ReadonlyMap<string, PageAsset>, tokenHint: string): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const send = (status: number, body: string | Buffer, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', 'Content-Type': 'text/plain; charset=utf-8', ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const asset = assets.get(url.pathname === '/index.html' ? '/' : url.pathname);
  if (!access.hostAllowed(req)) send(403, 'forbidden host\n');
  else if (!access.authorized(req, url)) send(401, `${tokenHint}\n`, { 'WWW-Authenticate': 'Bearer' });
  else if (req.method !== 'GET' && req.method !== 'HEAD') send(405, 'method not allowed\n', { Allow: 'GET, HEAD' });
  else if (!asset) send(404, 'not found\n');
  else {
    const headers: Record<string, string> = {
      'Content-Type': asset.type,
      'Content-Security-Policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
      'Referrer-Policy': 'no-referrer',
    };
    const cookie = access.cookieHeader();
    if (cookie !== undefined && url.pathname === '/') headers['Set-Cookie'] = cookie;
    send(200, asset.body, headers);
  }
}

/** Takes a WebSocket upgrade at /ws from the page (host, origin and token checked), or refuses it. */
export function upgradeToSocket(req: IncomingMessage, socket: Duplex, head: Buffer, access: Access, wss: WebSocketServer, onConnection: (ws: WebSocket) => void): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const refuse = (status: number, text: string): void => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  if (url.pathname !== '/ws') refuse(404, 'Not Found');
  else if (!access.hostAllowed(req) || !access.originAllowed(req)) refuse(403, 'Forbidden');
  else if (!access.authorized(req, url)) refuse(401, 'Unauthorized');
  else wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
}

/** A page's open socket: `alive` is cleared at each ping and set again by its pong. */
export interface PageClient {
  ws: WebSocket;
  alive: boolean;
}

const PING_INTERVAL_MS = 15_000;

/** Pings every page's socket every 15 s and drops one that did not answer the previous ping (unref'd). */
export function startPinger(clients: Iterable<PageClient>): ReturnType<typeof setInterval> {
  const pinger = setInterval(() => {
    for (const client of clients) {
      if (!client.alive) {
        client.ws.terminate();
        continue;
      }
      client.alive = false;
      client.ws.ping();
    }
  }, PING_INTERVAL_MS);
  pinger.unref();
  return pinger;
}

/**
 * Listens on `host:port` (0: any free port), tells `access` the port, and returns the address the page is
 * opened at (with its token). A listen error becomes `listenError(error)` (the caller's typed error).
 */
export async function listenPage(http: Server, host: string, port: number, access: Access, listenError: (error: NodeJS.ErrnoException) => Error): Promise<{ port: number; url: string }> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => reject(listenError(error));
    http.once('error', onError);
    http.listen(port, host, () => {
      http.off('error', onError);
      resolve();
    });
  });
  const bound = (http.address() as AddressInfo).port;
  access.setPort(bound);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return { port: bound, url: `http://${urlHost}:${bound}/${access.token !== undefined ? `?token=${encodeURIComponent(access.token)}` : ''}` };
}

/** Ends every page's socket, the WebSocket server and the HTTP server (open connections included). */
export async function closePage(http: Server, wss: WebSocketServer, clients: Set<PageClient>): Promise<void> {
  for (const client of clients) client.ws.terminate();
  clients.clear();
  wss.close();
  await new Promise<void>((r) => {
    http.close(() => r());
    http.closeAllConnections();
  });
}
