// A slow or vanished browser must not slow the acquisition: one page's socket
// is stalled (its client never reads), another disconnects abruptly, a third
// reads normally; the acquisition has no gaps, the device never buffers up,
// and the stalled page simply gets no frames until it drains.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { startLiveServer, type LiveServer } from '../../../host/live/server.ts';
import type { Rig } from '../../../host/rig/rig.ts';
import type { Status } from '../../../protocol/index.ts';
import { DEFAULT_LOCKIN_CONFIG } from '../../../host/config/acquisition.ts';
import { simRig, until } from './helpers.ts';

const socketOf = (ws: WebSocket): Socket => (ws as unknown as { _socket: Socket })._socket;

function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('live view: a slow or closed browser', function () {
  this.timeout(120_000);
  let rig: Rig | undefined;
  let server: LiveServer | undefined;
  const sockets: WebSocket[] = [];

  after(async () => {
    for (const ws of sockets) ws.terminate();
    await server?.close().catch(() => undefined);
    await rig?.close().catch(() => undefined);
  });

  it('does not slow the acquisition: no gaps, no device backlog, frames dropped only for the stalled page', async () => {
    const sim = await simRig('sim://sleep?seed=5&speed=4');
    rig = sim.rig;
    const maxBufferedBytes = 256 * 1024;
    // large raw views (~200 kB frames) fill the stalled socket's kernel buffers within seconds
    server = await startLiveServer({ rig, config: DEFAULT_LOCKIN_CONFIG, wire: sim.wire, port: 0, maxBufferedBytes, feed: { scopeSamples: 20_000 } });
    const wsUrl = `${server.url.replace(/^http/, 'ws').replace(/\/(\?|$)/, '/ws$1')}`;

    let received = 0;
    let gaps = 0;
    let worstLagSamples = 0;
    let worstFill = 0;
    rig.acquisition$.subscribe((item) => {
      if (item.kind === 'gap') gaps++;
      else if (item.kind === 'block' && item.source === 'detector') received = item.sessionIndex + item.sampleCount;
    });
    // the device's own sample counter against what reached the host, at each Status
    rig.status$.subscribe((s: Status) => {
      if (!s.running) return;
      worstLagSamples = Math.max(worstLagSamples, Number(s.sampleIndex) - received);
      worstFill = Math.max(worstFill, s.bufferFill);
    });

    const reader = await open(wsUrl);
    sockets.push(reader);
    let readerFrames = 0;
    reader.on('message', () => { readerFrames++; });

    const stalled = await open(wsUrl);
    sockets.push(stalled);
    socketOf(stalled).pause(); // never reads again (until resumed below)

    const vanishing = await open(wsUrl);
    sockets.push(vanishing);

    await rig.start();
    await until('the vanishing page has had frames', () => server!.totals.framesSent > 10);
    socketOf(vanishing).destroy(); // the browser tab is killed

    // wait until the stalled page has missed 3 s of frames (30 at 10 frames/s)
    const stalledStats = await until('frames dropped for the stalled page', () => server!.clientStats().find((c) => c.framesDropped >= 30));
    const readerFramesDuringStall = readerFrames;
    await until('the reading page still gets frames', () => readerFrames > readerFramesDuringStall + 10);

    assert.equal(server.clients, 2, 'the vanished page was dropped');
    assert.ok(stalledStats.bufferedAmount < maxBufferedBytes + 2 * 1024 * 1024, `the stalled page's queue stays bounded (${stalledStats.bufferedAmount} bytes)`);
    const health = rig.linkHealth();
    assert.equal(gaps, 0, 'no gaps in the acquisition');
    assert.equal(health.hostDetectedMissingSamples, 0);
    assert.equal(health.deviceReportedDroppedSamples, 0);
    const blockSamples = sim.wire.blockSamples ?? 250;
    const bufferSamples = rig.info.bufferBlocks * blockSamples;
    assert.ok(worstLagSamples < bufferSamples / 2, `the host keeps pace with the device (worst lag ${worstLagSamples} samples, device buffer ${bufferSamples})`);
    assert.ok(worstFill < 0.5, `device buffer never half full (worst ${worstFill})`);

    // the stalled page catches up once it reads again
    const sentBefore = server.clientStats().map((c) => c.framesSent);
    socketOf(stalled).resume();
    await until('the stalled page gets frames again', () => server!.clientStats().some((c, i) => c.framesSent > (sentBefore[i] ?? 0) + 5 && c.framesDropped > 0));
    assert.equal(rig.linkHealth().hostDetectedMissingSamples, 0);
  });
});
