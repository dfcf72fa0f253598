// The lab dashboard's server: one page (public/, uPlot from node_modules) and one WebSocket per
// page on node:http + ws, fed by a FleetSource. Access is the live view's (host/live/access.ts):
// no token on loopback unless given, a token required on any other address, foreign Origins
// and (token-less) foreign Host names refused.
//
// Lossy and never waiting, as the live view: every frame interval each page gets the fleet
// table and the live points it has not had; a page with more than maxBufferedBytes queued gets
// no frame (its live cursor stays, so it catches up from the buffer when it drains).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Subscription } from 'rxjs';
import { WebSocket, WebSocketServer } from 'ws';
import { createAccess } from '../../live/access.ts';
import { closePage, listenPage, loadPageAssets, type PageAsset, servePage, startPinger, upgradeToSocket } from '../../live/page-http.ts';
import { MAX_DURATION_S } from '../commands.ts';
import { LabError } from '../errors.ts';
import type { FleetCommand, FleetSource } from './fleet-source.ts';
import { FleetTable, type FleetTableOptions } from './fleet-table.ts';
import { sendGroup } from './group-command.ts';
import { LiveBuffer } from './live-buffer.ts';
import { type ClientMessage, clientMessageSchema, type FleetFrame, type HelloMessage, type ReplyMessage } from './messages.ts';

export interface LabServerOptions {
  source: FleetSource;
  /** Default 8090; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. Any other address needs a token. */
  host?: string;
  token?: string;
  /** Frame interval per page, ms (default 250). */
  frameIntervalMs?: number;
  /** Seconds of live trace per rig (default 60). */
  liveWindowS?: number;
  /** The live samples' rate, Hz (default 10, the agent's): sizes the live buffer. */
  liveRateHz?: number;
  /** A page with more than this queued on its socket gets no frame (default 1 MiB). */
  maxBufferedBytes?: number;
  /** offlineAfterMs: default the source's fleet TTL when it knows it, else 15 s. */
  table?: FleetTableOptions;
}

export interface LabServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  readonly clients: number;
  /** The fleet as the pages see it (tests). */
  readonly table: FleetTable;
  /** Frames sent to pages, and frames not sent to a page whose socket was backed up. */
  readonly totals: { framesSent: number; framesDropped: number };
  close(): Promise<void>;
}

export const labTokenCookieName = (port: number): string => `fiberrig_lab_token_${port}`;
const publicDir = fileURLToPath(new URL('./public/', import.meta.url));

function loadAssets(): Map<string, PageAsset> {
  return loadPageAssets(publicDir, ['index.html', 'app.js', 'style.css'],
    (path, cause) => new LabError('E_LAB_ASSET', `cannot read ${path}`, 'reinstall fiberrig (npm ci): the dashboard files are missing', { cause }));
}

export async function startLabServer(options: LabServerOptions): Promise<LabServer> {
  const host = options.host ?? '127.0.0.1';
  const listenPort = options.port ?? 8090;
  if (!Number.isInteger(listenPort) || listenPort < 0 || listenPort > 65535) {
    throw new LabError('E_LAB_PORT', `dashboard port ${options.port} is not a port number`, 'give --port 1..65535, or 0 for any free port');
  }
  const access = createAccess({ host, cookieName: labTokenCookieName, ...(options.token !== undefined ? { token: options.token } : {}) });
  const token = access.token;
  const frameIntervalMs = options.frameIntervalMs ?? 250;
  const maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
  const liveWindowS = options.liveWindowS ?? 60;
  const source = options.source;
  const assets = loadAssets();
  const table = new FleetTable(options.table);
  const live = new LiveBuffer(Math.ceil(liveWindowS * (options.liveRateHz ?? 10)));
  const subscriptions: Subscription[] = [
    source.rigs$.subscribe((event) => table.apply(event, Date.now())),
    source.live$.subscribe((sample) => {
      table.applyLive(sample, Date.now());
      live.push(sample);
    }),
  ];
  // the bucket's TTL decides when a silent rig is offline, unless the caller fixed it
  if (source.fleetTtlMs$ && options.table?.offlineAfterMs === undefined) subscriptions.push(source.fleetTtlMs$.subscribe((ms) => table.setOfflineAfterMs(ms)));
  if (source.archive$) subscriptions.push(source.archive$.subscribe((progress) => { table.archive = progress; }));
  if (source.archiveSessions$) subscriptions.push(source.archiveSessions$.subscribe((progress) => table.applySession(progress)));

  const http = createServer((req, res) => handleHttp(req, res));
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, perMessageDeflate: false });

  function handleHttp(req: IncomingMessage, res: ServerResponse): void {
    servePage(req, res, access, assets, 'this dashboard needs its token: open the address fiberrig lab printed (…?token=…)');
  }

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => upgradeToSocket(req, socket, head, access, wss, onConnection));

  interface Client {
    ws: WebSocket;
    /** Last live point sent, per rig. */
    cursors: Map<string, number>;
    alive: boolean;
  }
  const clients = new Set<Client>();
  const totals = { framesSent: 0, framesDropped: 0 };
  let seq = 0;

  const sendJson = (client: Client, message: HelloMessage | FleetFrame | ReplyMessage): void => {
    if (client.ws.readyState === WebSocket.OPEN) client.ws.send(JSON.stringify(message));
  };

  function onConnection(ws: WebSocket): void {
    // a new page starts with what the buffer holds
    const client: Client = { ws, cursors: new Map(), alive: true };
    clients.add(client);
    ws.on('error', () => ws.terminate());
    ws.on('close', () => clients.delete(client));
    ws.on('pong', () => { client.alive = true; });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let message: ClientMessage;
      try {
        message = clientMessageSchema.parse(JSON.parse(String(data)));
      } catch {
        return; // not ours: ignore
      }
      void handle(client, message);
    });
    sendJson(client, {
      type: 'hello', frameIntervalMs, liveWindowS, offlineAfterS: table.offlineAfterMs / 1000, groupStart: 'simultaneous', maxDurationS: MAX_DURATION_S,
    });
    sendFrame(client, Date.now());
  }

  async function handle(client: Client, message: ClientMessage): Promise<void> {
    const isOnline = (rig: string): boolean => table.isOnline(rig, Date.now());
    if (message.type === 'forget') {
      if (!isOnline(message.rig)) {
        table.forget(message.rig);
        live.forget(message.rig);
      }
      return sendJson(client, { type: 'reply', id: message.id, action: 'forget', sentIso: new Date().toISOString(), results: [] });
    }
    const commands: { rig: string; command: FleetCommand }[] = message.type === 'start'
      ? message.rigs.map(({ rig, subject }) => ({ rig, command: { cmd: 'start', subject: subject?.trim() || null, durationS: message.durationS } }))
      : message.rigs.map((rig) => ({ rig, command: { cmd: 'stop' } }));
    const { sentIso, results } = await sendGroup(source, commands, isOnline);
    sendJson(client, { type: 'reply', id: message.id, action: message.type, sentIso, results });
  }

  function sendFrame(client: Client, nowMs: number): void {
    const rows = table.rows(nowMs);
    const points: FleetFrame['live'] = {};
    for (const row of rows) {
      const after = client.cursors.get(row.rig) ?? 0;
      const fresh = live.since(row.rig, after);
      if (fresh.length > 0) {
        points[row.rig] = fresh;
        client.cursors.set(row.rig, fresh[fresh.length - 1]!.seq);
      }
    }
    sendJson(client, { type: 'fleet', seq, nowIso: new Date(nowMs).toISOString(), rigs: rows, live: points, archive: table.archive ?? null });
  }

  const ticker = setInterval(() => {
    seq++;
    const nowMs = Date.now();
    for (const client of clients) {
      if (client.ws.readyState !== WebSocket.OPEN) continue;
      if (client.ws.bufferedAmount > maxBufferedBytes) {
        totals.framesDropped++;
        continue;
      }
      sendFrame(client, nowMs);
      totals.framesSent++;
    }
  }, frameIntervalMs);
  ticker.unref();
  const pinger = startPinger(clients);

  const stopTimers = (): void => {
    clearInterval(ticker);
    clearInterval(pinger);
    for (const s of subscriptions) s.unsubscribe();
  };
  let port: number;
  let url: string;
  try {
    ({ port, url } = await listenPage(http, host, listenPort, access, (error) => new LabError('E_LAB_LISTEN', `cannot listen on ${host}:${listenPort}: ${error.message}`, error.code === 'EADDRINUSE' ? 'choose another --port' : 'check --host')));
  } catch (error) {
    stopTimers();
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    url, host, port, token, table,
    get clients() { return clients.size; },
    get totals() { return { ...totals }; },
    close: () => {
      closing ??= (async () => {
        stopTimers();
        await closePage(http, wss, clients);
      })();
      return closing;
    },
  };
}
