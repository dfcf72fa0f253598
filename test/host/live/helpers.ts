// Shared by the live view tests: a simulated rig, a browser, and waiting for a condition.
import { existsSync } from 'node:fs';
import { firstValueFrom, filter, type Observable } from 'rxjs';
import '../../../host/cli/devices.ts';
import { type AcquisitionFile, DEFAULT_LOCKIN_CONFIG, parseAcquisitionConfig, toWireConfig } from '../../../host/config/acquisition.ts';
import { Rig } from '../../../host/rig/rig.ts';
import type { AcquisitionConfigInit } from '../../../protocol/index.ts';
import { WebSocket } from 'ws';
import type { FrameMessage, ServerMessage } from '../../../host/live/messages.ts';
import { type LiveServer, startLiveServer } from '../../../host/live/server.ts';
import { requireTool } from '../../support/required-tool.ts';

export const CHROMIUM_PATH = process.env['FIBERRIG_CHROMIUM'] ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** The default lock-in config plus a sync output looped back to TTL1 (a marker every 5 s of device time). */
export const LIVE_TEST_CONFIG: AcquisitionFile = parseAcquisitionConfig({
  ...DEFAULT_LOCKIN_CONFIG,
  digitalInputs: [0, 1],
  syncOut: { line: 2, periodSamples: 50_000, pulseSamples: 5_000 },
});

export async function simRig(url: string, file: AcquisitionFile = DEFAULT_LOCKIN_CONFIG): Promise<{ rig: Rig; wire: AcquisitionConfigInit }> {
  const rig = await Rig.connect(url);
  const wire = toWireConfig(file);
  await rig.configure(wire);
  return { rig, wire };
}

/**
 * Polls `check` until it returns a value other than undefined/false. The bound
 * only stops a broken test from polling forever; it asserts nothing about speed.
 */
export async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, giveUpMs = 30_000): Promise<T> {
  const giveUpAt = Date.now() + giveUpMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function firstMatch<T>(source: Observable<T>, predicate: (v: T) => boolean): Promise<T> {
  return firstValueFrom(source.pipe(filter(predicate)));
}

/** In a mocha test: pending with the reason when Debian's Chromium is missing, a failure under CI=true. */
export function needChromium(ctx: Mocha.Context): void {
  const missing = existsSync(CHROMIUM_PATH) ? undefined : `Chromium not found at ${CHROMIUM_PATH} (Debian package "chromium"; FIBERRIG_CHROMIUM overrides the path)`;
  requireTool(ctx, missing, 'add "chromium" to the Debian packages in .ci/run');
}

/** A simulated rig (configured, not started) with the live server on it and a WebSocket collecting every frame. */
export interface LiveSession {
  rig: Rig;
  server: LiveServer;
  ws: WebSocket;
  frames: FrameMessage[];
  close(): Promise<void>;
}

/** Opens `url`, serves the live view on a free port, connects, and asks for a `windowS` window. */
export async function liveSession(url: string, windowS: number): Promise<LiveSession> {
  const sim = await simRig(url);
  const server = await startLiveServer({ rig: sim.rig, config: DEFAULT_LOCKIN_CONFIG, wire: sim.wire, port: 0 });
  const frames: FrameMessage[] = [];
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as ServerMessage;
    if (m.type === 'frame') frames.push(m);
  });
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(JSON.stringify({ type: 'window', seconds: windowS }));
  return {
    rig: sim.rig, server, ws, frames,
    close: async () => {
      ws.terminate();
      await server.close();
      await sim.rig.close();
    },
  };
}
