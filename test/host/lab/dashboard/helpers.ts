// Shared by the dashboard tests: plain HTTP/WebSocket clients and simulated advancing rigs.
import { request } from 'node:http';
import { WebSocket } from 'ws';
import type { MemoryFleetSource } from '../../../../host/lab/dashboard/memory-source.ts';
import type { ServerMessage } from '../../../../host/lab/dashboard/messages.ts';

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function get(port: number, path: string, headers: Record<string, string> = {}): Promise<HttpReply> {
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
export function tryWs(port: number, path: string, headers: Record<string, string> = {}): Promise<{ open: true; first: string } | { open: false; status: number }> {
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

/** A page's socket collecting every message. */
export async function pageSocket(port: number): Promise<{ ws: WebSocket; messages: ServerMessage[] }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  const messages: ServerMessage[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data)) as ServerMessage));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return { ws, messages };
}

/** Pushes a live sample to every rig every `periodMs` (values advance: a slow sine per channel); returns a stop function. */
export function advanceLive(source: MemoryFleetSource, rigs: readonly string[], periodMs = 100): () => void {
  let n = 0;
  const timer = setInterval(() => {
    n++;
    for (const [i, rig] of rigs.entries()) {
      const session = source.state(rig)?.session ?? 'idle';
      const t = n * periodMs / 1000;
      source.pushLive({ rig, session, timeS: t, values: { '470nm@det0': 100 + 10 * Math.sin(t + i), '405nm@det0': 80 + 5 * Math.cos(t + i), '560nm@det1': 60 + i } });
    }
  }, periodMs);
  return () => clearInterval(timer);
}
