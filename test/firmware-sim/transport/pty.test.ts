import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { SimError } from '../../../firmware-sim/device/errors.ts';
import { serveSimOnPty, type SimPtyServer } from '../../../firmware-sim/transport/pty.ts';
import { LOCK_IN } from '../device/helpers.ts';
import { StreamClient } from './client.ts';

function openSerial(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    port.open((error) => (error ? reject(error) : resolve(port)));
  });
}

describe('firmware-sim transport: pty (socat)', () => {
  let server: SimPtyServer | null = null;
  let port: SerialPort | null = null;
  const path = join(tmpdir(), `fiberrig-sim-test-${process.pid}`);

  after(async () => {
    if (port?.isOpen) await new Promise<void>((resolve) => port!.close(() => resolve()));
    await server?.close();
  });

  it('a real SerialPort on the pty path completes Hello, Configure, Start, 10 s of continuous samples, Stop', async function () {
    this.timeout(60_000);
    server = await serveSimOnPty(path, { speed: 'max', seed: 4 });
    assert.ok(existsSync(path));
    port = await openSerial(path);
    const c = new StreamClient(port);
    const info = await c.hello();
    assert.equal(info.deviceInfo?.boardModel, 'fiberrig-sim-4x2');
    assert.equal((await c.request({ configure: { config: LOCK_IN } })).body, 'ack');
    assert.equal((await c.request({ start: {} })).ack?.sampleIndex, 0);
    await c.waitFor(() => c.continuousDetectorSamples() >= 100_000, 45_000, '10 s of device time');
    const stop = await c.request({ stop: {} }, 30_000); // generous: the Ack queues behind the run's blocks, and CI machines are busy
    await c.waitFor(() => c.continuousDetectorSamples() === stop.ack!.sampleIndex, 10_000, 'every block before the Stop index');
    assert.ok(stop.ack!.sampleIndex >= 100_000);
    assert.equal(c.decoder.counters.rejected.crc + c.decoder.counters.rejected.cobs + c.decoder.counters.rejected.oversize, 0);
    await new Promise<void>((resolve) => port!.close(() => resolve()));
    await server.close();
    assert.equal(existsSync(path), false, 'socat removed its link on exit');
    await server.exited;
    server = null;
  });

  it('reports a missing socat as a typed error', async () => {
    await assert.rejects(serveSimOnPty(`${path}-x`, { socatPath: '/nonexistent/socat' }), (e: unknown) => e instanceof SimError && e.code === 'E_SIM_PTY' && /socat/.test(e.hint));
  });
});
