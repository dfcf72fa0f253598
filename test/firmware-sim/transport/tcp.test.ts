import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { DarkReason } from '../../../protocol/index.ts';
import { serveSimOnTcp, type SimTcpServer } from '../../../firmware-sim/transport/tcp.ts';
import { CONTINUOUS, LOCK_IN } from '../device/helpers.ts';
import { StreamClient } from './client.ts';

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const t = setInterval(() => {
      if (predicate()) {
        clearInterval(t);
        resolve();
      } else if (Date.now() - start > timeoutMs) {
        clearInterval(t);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 5);
  });
}

describe('firmware-sim transport: TCP', () => {
  let server: SimTcpServer | null = null;
  const sockets: Socket[] = [];

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await server?.close();
    server = null;
  });

  it('serves one client: Hello, Configure, Start, contiguous samples, Stop', async () => {
    server = await serveSimOnTcp('127.0.0.1', 0, { speed: 'max', seed: 2 });
    assert.match(server.url, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    const socket = await dial(server.port);
    sockets.push(socket);
    const c = new StreamClient(socket);
    assert.equal((await c.hello()).body, 'deviceInfo');
    assert.equal((await c.request({ configure: { config: LOCK_IN } })).body, 'ack');
    await c.request({ start: {} });
    await c.waitFor(() => c.continuousDetectorSamples() >= 30_000, 20_000, '3 s of samples');
    const stop = await c.request({ stop: {} });
    await c.waitFor(() => c.continuousDetectorSamples() === stop.ack!.sampleIndex, 10_000, 'all blocks up to the Stop index');
    assert.equal(server.accepted, 1);
  });

  it('refuses a second client; a client disconnect stops nothing, and the watchdog darkens the LEDs', async () => {
    server = await serveSimOnTcp('127.0.0.1', 0, { speed: 20 });
    const first = await dial(server.port);
    sockets.push(first);
    const c = new StreamClient(first);
    await c.hello();
    await c.request({ configure: { config: { ...CONTINUOUS, heartbeatTimeoutMs: 1000 } } });
    await c.request({ start: {} });
    const second = await dial(server.port);
    sockets.push(second);
    await new Promise<void>((resolve) => second.once('close', () => resolve()));
    assert.equal(server.refused, 1);
    first.destroy();
    await until(() => server!.device.darkReason === DarkReason.DARK_REASON_HEARTBEAT_TIMEOUT, 10_000, 'the watchdog');
    assert.equal(server.device.running, true);
    const again = await dial(server.port);
    sockets.push(again);
    const c2 = new StreamClient(again);
    const hb = await c2.request({ heartbeat: {} });
    assert.equal(hb.heartbeatAck!.running, true);
    assert.ok((await c2.request({ stop: {} })).ack!.sampleIndex > 1000);
    assert.equal(server.accepted, 2);
  });

  it('a disconnect fault drops the client and refuses connections until the outage ends', async () => {
    server = await serveSimOnTcp('127.0.0.1', 0, { speed: 10, faults: [{ type: 'disconnect', atS: 0.5, durationS: 2 }] });
    const s = await dial(server.port);
    sockets.push(s);
    const c = new StreamClient(s);
    await c.hello();
    await new Promise<void>((resolve) => s.once('close', () => resolve()));
    assert.equal(server.device.disconnected, true);
    const refused = await dial(server.port);
    sockets.push(refused);
    await new Promise<void>((resolve) => refused.once('close', () => resolve()));
    await until(() => !server!.device.disconnected, 10_000, 'the end of the outage');
    const back = await dial(server.port);
    sockets.push(back);
    assert.equal((await new StreamClient(back).request({ getInfo: {} })).body, 'deviceInfo');
    assert.equal(server.device.truth.faultsOf('disconnect').length, 1);
  });
});
