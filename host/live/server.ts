// One unit: one HTTP server and its WebSockets share the access token, page state and control lock.
// The live view's server: one page (host/live/public, uPlot from
// node_modules) and one WebSocket per page, on node:http + ws.
//
// Access (access.ts, shared with the lab dashboard): on a loopback address no token is needed (unless one is given);
// on any other address a token is required (generated when not given). The
// page takes it as ?token=… and gets it back as an HttpOnly cookie, so its
// scripts, styles and WebSocket carry it; requests without it get 401. The
// WebSocket also refuses cross-origin pages (a browser lets any web site open
// a socket to 127.0.0.1), and a loopback server only answers to loopback
// host names (DNS rebinding).
//
// Display is lossy and never waits: every frame interval each page gets at
// most one frame; a page whose socket has more than maxBufferedBytes queued
// gets none (it catches up from the history, within its window, when it
// drains). Nothing here awaits a socket, so acquisition and recording run at
// the device's pace whatever the browsers do.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { type AcquisitionFile, toWireConfig } from '../config/acquisition.ts';
import type { AcquisitionConfigInit } from '../../protocol/index.ts';
import type { DemodOptions } from '../pipeline/demodulate.ts';
import { closePage, listenPage, loadPageAssets, type PageAsset, servePage, startPinger, upgradeToSocket } from './page-http.ts';
import { createAccess, isLoopbackHost } from './access.ts';
import { LiveError } from './errors.ts';
import { type ClientView, type FeedOptions, LiveFeed, type LiveRig } from './feed.ts';
import {
  type ClientMessage, clientMessageSchema, type Control, DEFAULT_WINDOW_S, type HelloMessage, type RecordingView, type ReplyMessage, WINDOWS_S,
} from './messages.ts';

/** A recorder the page can switch on and off (view's LiveRecorder, host/live/recording.ts; acquire's cannot be switched). */
export interface LiveRecording {
  readonly isRecording: boolean;
  readonly subject?: string | null;
  /** Where the recording goes (shown on the page). */
  readonly target?: string | null;
  /** Absent: the page shows the record controls disabled, with `reason`. */
  start?(subject: string): Promise<void> | void;
  stop?(): Promise<void> | void;
  readonly reason?: string;
}

export interface LiveServerOptions {
  rig: LiveRig;
  /** The acquisition file in force (host-side processing settings come from it). */
  config: AcquisitionFile;
  /** The wire configuration exactly as sent to the device; default toWireConfig(config). */
  wire?: AcquisitionConfigInit;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. Any other address needs a token. */
  host?: string;
  token?: string;
  recording?: LiveRecording;
  /** When set, start/stop are disabled on the page, showing this reason (e.g. acquire owns the acquisition). */
  acquisitionLockedReason?: string;
  /** Display frame interval per page, ms (default 100: 10 frames/s). */
  frameIntervalMs?: number;
  /** A page with more than this queued on its socket gets no frame (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Seconds of history kept for the longest window (default 600). */
  historyS?: number;
  feed?: Omit<FeedOptions, 'historyS' | 'signals'>;
  /** Signals of a demodulation the caller already runs (shared, e.g. acquire's): the view then runs none of its own. */
  signals?: FeedOptions['signals'];
}

export interface LiveClientStats {
  framesSent: number;
  framesDropped: number;
  bytesSent: number;
  bufferedAmount: number;
}

export interface LiveServer {
  /** The page's address (with ?token=… when one is required). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  readonly clients: number;
  clientStats(): LiveClientStats[];
  readonly totals: { framesSent: number; framesDropped: number; bytesSent: number };
  /** Resolves when the server has closed (close() or the Rig closed). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
  /** Shows the signals of a demodulation another runs (a recording's), or — undefined — demodulates its own again (LiveFeed.useSignals). */
  useSignals(signals: FeedOptions['signals']): void;
}

/** Cookies are shared by every port of a host: the name carries the port. */
export const tokenCookieName = (port: number): string => `fiberrig_live_token_${port}`;

const publicDir = fileURLToPath(new URL('./public/', import.meta.url));

function loadAssets(): Map<string, PageAsset> {
  return loadPageAssets(publicDir, ['index.html', 'app.js', 'plots.js', 'style.css'],
    (path, cause) => new LiveError('E_LIVE_ASSET', `cannot read ${path}`, 'reinstall fiberrig (npm ci): the live view files are missing', { cause }));
}

export { isLoopbackHost };

/** Starts the live view server for `rig`; it closes itself when the Rig closes. */
export async function startLiveServer(options: LiveServerOptions): Promise<LiveServer> {
  const host = options.host ?? '127.0.0.1';
  const listenPort = options.port ?? 8080;
  if (!Number.isInteger(listenPort) || listenPort < 0 || listenPort > 65535) {
    throw new LiveError('E_LIVE_PORT', `live view port ${options.port} is not a port number`, 'give --port 1..65535, or 0 for any free port');
  }
  const access = createAccess({ host, cookieName: tokenCookieName, ...(options.token !== undefined ? { token: options.token } : {}) });
  const token = access.token;
  const frameIntervalMs = options.frameIntervalMs ?? 100;
  const maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
  const rig = options.rig;
  const wire = options.wire ?? toWireConfig(options.config);
  const demodOptions: DemodOptions = {
    outputRateHz: options.config.outputRateHz,
    ...(options.config.lowpassHz !== undefined ? { lowpassHz: options.config.lowpassHz } : {}),
    ...(options.config.auxOutputRateHz !== undefined ? { auxOutputRateHz: options.config.auxOutputRateHz } : {}),
  };
  const assets = loadAssets();
  const feed = new LiveFeed(rig, wire, demodOptions, {
    ...options.feed, ...(options.historyS !== undefined ? { historyS: options.historyS } : {}), ...(options.signals ? { signals: options.signals } : {}),
  });
  const recording = options.recording;

  // the token, DNS rebinding and cross-origin checks: access.ts and page-http.ts, shared with the lab dashboard
  const http = createServer((req, res) => handleHttp(req, res));
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, perMessageDeflate: false });

  function handleHttp(req: IncomingMessage, res: ServerResponse): void {
    servePage(req, res, access, assets, 'this live view needs its token: open the address fiberrig printed (…?token=…)');
  }

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => upgradeToSocket(req, socket, head, access, wss, onConnection));

  // ------------------------------------------------------------ pages

  interface Client {
    ws: WebSocket;
    view: ClientView;
    stats: LiveClientStats;
    alive: boolean;
  }
  const clients = new Set<Client>();
  const totals = { framesSent: 0, framesDropped: 0, bytesSent: 0 };
  let seq = 0;

  const recordingControl = (): Control => {
    if (!recording) return { enabled: false, reason: 'fiberrig view does not record: use fiberrig acquire --live to record' };
    if (!recording.start || !recording.stop) return { enabled: false, reason: recording.reason ?? 'recording is controlled by the command that started it' };
    return { enabled: true };
  };
  const recordingView = (): RecordingView => ({
    recording: Boolean(recording?.isRecording), subject: recording?.subject ?? null, target: recording?.target ?? null,
  });

  const hello = (): HelloMessage => {
    const info = rig.info;
    const acquisitionControl: Control = options.acquisitionLockedReason ? { enabled: false, reason: options.acquisitionLockedReason } : { enabled: true };
    return {
      type: 'hello',
      device: { url: rig.url, firmware: `${info.firmwareName} ${info.firmwareVersion}`, board: info.boardModel, serialNumber: info.serialNumber },
      mode: feed.mode,
      sampleRateHz: feed.sampleRateHz,
      signals: { rateHz: feed.signalRateHz, unit: feed.mode === 'lock-in' ? 'mV (lock-in amplitude)' : 'mV', channels: feed.signalChannels },
      aux: feed.auxChannels.length > 0 ? { rateHz: feed.auxRateHz, unit: feed.auxUnit, channels: feed.auxChannels } : null,
      raw: { rateHz: feed.sampleRateHz, unit: '% of ADC full scale', channels: feed.rawChannels },
      leds: feed.leds,
      digitalLines: (wire.digitalInputIds ?? []).map((id) => ({ id, label: info.digitalLines.find((d) => d.id === id)?.label || `DI${id}` })),
      controls: { acquisition: acquisitionControl, leds: { enabled: true }, recording: recordingControl() },
      windowsS: WINDOWS_S,
      windowS: DEFAULT_WINDOW_S,
      frameIntervalMs,
      analysis: feed.analysis,
    };
  };

  const sendText = (client: Client, text: string): void => {
    client.ws.send(text);
    client.stats.bytesSent += text.length;
    totals.bytesSent += text.length;
  };

  function onConnection(ws: WebSocket): void {
    const client: Client = { ws, view: feed.newView(DEFAULT_WINDOW_S), stats: { framesSent: 0, framesDropped: 0, bytesSent: 0, bufferedAmount: 0 }, alive: true };
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
    sendText(client, JSON.stringify(hello()));
  }

  // LED changes are coalesced per channel: while one SetLed is in flight only the latest wish waits,
  // and the wishes it superseded are answered with its result
  const ledWishes = new Map<number, { currentMa: number; replies: { client: Client; id: number }[] }>();
  const ledBusy = new Set<number>();
  let acquisitionChain: Promise<unknown> = Promise.resolve();

  const reply = (client: Client, id: number, error?: unknown): void => {
    if (client.ws.readyState !== WebSocket.OPEN || client.ws.bufferedAmount > 4 * maxBufferedBytes) return;
    const message: ReplyMessage = error === undefined ? { type: 'reply', id, ok: true } : { type: 'reply', id, ok: false, error: (error as Error).message ?? String(error) };
    sendText(client, JSON.stringify(message));
  };

  async function driveLed(channel: number): Promise<void> {
    ledBusy.add(channel);
    try {
      for (let wish = ledWishes.get(channel); wish; wish = ledWishes.get(channel)) {
        ledWishes.delete(channel);
        let error: unknown;
        try {
          await rig.setLed(channel, { currentMa: wish.currentMa });
        } catch (e) {
          error = e;
        }
        for (const r of wish.replies) reply(r.client, r.id, error);
      }
    } finally {
      ledBusy.delete(channel);
    }
  }

  async function handle(client: Client, message: ClientMessage): Promise<void> {
    switch (message.type) {
      case 'window':
        feed.setWindow(client.view, message.seconds);
        return;
      case 'setLed': {
        const led = feed.leds.find((l) => l.channel === message.channel);
        if (!led) return reply(client, message.id, new LiveError('E_LIVE_LED', `LED ${message.channel} is not in the configuration`, 'use one of the LEDs the page shows'));
        if (message.currentMa > led.limitMa) return reply(client, message.id, new LiveError('E_LIVE_LED', `${message.currentMa} mA is above the ${led.limitMa} mA limit of LED ${led.channel}`, 'stay within the board limit'));
        const previous = ledWishes.get(message.channel);
        ledWishes.set(message.channel, { currentMa: message.currentMa, replies: [...(previous?.replies ?? []), { client, id: message.id }] });
        if (!ledBusy.has(message.channel)) await driveLed(message.channel);
        return;
      }
      case 'start':
      case 'stop': {
        if (options.acquisitionLockedReason) return reply(client, message.id, new LiveError('E_LIVE_LOCKED', options.acquisitionLockedReason, ''));
        if (recording?.isRecording) return reply(client, message.id, new LiveError('E_LIVE_LOCKED', 'a recording runs this acquisition', 'stop the recording first'));
        const run = acquisitionChain.then(async () => {
          if (message.type === 'start') {
            if (rig.running) return;
            if (!rig.configuration.config) await rig.configure(wire);
            await rig.start();
          } else if (rig.running) {
            await rig.stop();
          }
        });
        acquisitionChain = run.catch(() => undefined);
        try {
          await run;
          reply(client, message.id);
        } catch (error) {
          reply(client, message.id, error);
        }
        return;
      }
      case 'record': {
        const control = recordingControl();
        if (!control.enabled || !recording) return reply(client, message.id, new LiveError('E_LIVE_RECORDING', control.reason ?? 'no recorder', ''));
        try {
          if (message.on) {
            const subject = (message.subject ?? '').trim();
            if (!subject) throw new LiveError('E_LIVE_RECORDING', 'a recording needs a subject id', 'type the subject id, then press Record');
            if (!recording.isRecording) await recording.start!(subject);
          } else if (recording.isRecording) {
            await recording.stop!();
          }
          reply(client, message.id);
        } catch (error) {
          reply(client, message.id, error);
        }
        return;
      }
      default:
    }
  }

  // ------------------------------------------------------------ frames

  const tick = (): void => {
    feed.tick();
    seq++;
    const rec = recordingView();
    for (const client of clients) {
      const ws = client.ws;
      if (ws.readyState !== WebSocket.OPEN) continue;
      client.stats.bufferedAmount = ws.bufferedAmount;
      if (ws.bufferedAmount > maxBufferedBytes) {
        client.stats.framesDropped++;
        totals.framesDropped++;
        continue;
      }
      sendText(client, JSON.stringify(feed.frameFor(client.view, seq, rec)));
      client.stats.framesSent++;
      totals.framesSent++;
    }
  };
  const ticker = setInterval(tick, frameIntervalMs);
  ticker.unref();
  const pinger = startPinger(clients);

  let port: number;
  let url: string;
  try {
    ({ port, url } = await listenPage(http, host, listenPort, access, (error) => new LiveError('E_LIVE_LISTEN', `cannot listen on ${host}:${listenPort}: ${error.message}`, error.code === 'EADDRINUSE' ? 'choose another --port' : 'check --host')));
  } catch (error) {
    feed.close();
    clearInterval(ticker);
    clearInterval(pinger);
    throw error;
  }

  let closing: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => { resolveClosed = r; });
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(ticker);
      clearInterval(pinger);
      feed.close();
      await closePage(http, wss, clients);
      resolveClosed();
    })();
    return closing;
  };
  feed.onRigClosed(() => void close());

  return {
    url, host, port, token, closed, close,
    useSignals: (signals) => feed.useSignals(signals),
    get clients() { return clients.size; },
    clientStats: () => [...clients].map((c) => ({ ...c.stats, bufferedAmount: c.ws.bufferedAmount })),
    get totals() { return { ...totals }; },
  };
}
