import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { SerialPortStream } from '@serialport/stream';
import { simThreadFor } from '../../../firmware-sim/simulator.ts';
import { SimError } from '../../../firmware-sim/device/errors.ts';
import { createSimBinding, SimBinding, workerFits } from '../../../firmware-sim/transport/binding.ts';
import { parseSimUrl } from '../../../firmware-sim/transport/sim-url.ts';
import { WorkerPortBinding } from '../../../firmware-sim/transport/worker-port.ts';
import { SampleSource } from '../../../protocol/index.ts';
import { useSimPorts } from '../../support/sim-ports.ts';
import { CONTINUOUS, LOCK_IN } from '../device/helpers.ts';
import { runUntilUnplugged, StreamClient } from './client.ts';

function open(path: string): Promise<SerialPortStream> {
  return new Promise((resolve, reject) => {
    const port = new SerialPortStream({ binding: SimBinding, path, baudRate: 115200, autoOpen: false });
    port.open((error) => (error ? reject(error) : resolve(port)));
  });
}

function close(port: SerialPortStream): Promise<void> {
  return new Promise((resolve) => {
    if (!port.isOpen) resolve();
    else port.close(() => resolve());
  });
}

/**
 * Records `url` with the lock-in configuration up to `samples` detector samples (then stops): hashes of the
 * detector and of the aux blocks below `samples` (aux: the same time span), of their layout, and their counts.
 */
async function record(url: string, samples: number): Promise<{ detector: string; aux: string; layout: string; detectorSamples: number; auxSamples: number }> {
  const port = await open(url);
  try {
    const c = new StreamClient(port);
    await c.hello();
    assert.equal((await c.request({ configure: { config: LOCK_IN } })).body, 'ack');
    assert.equal((await c.request({ start: {} })).ack?.sampleIndex, 0);
    await c.waitFor(() => c.continuousDetectorSamples() >= samples, 30_000, `${samples} samples`);
    await c.request({ stop: {} });
    assert.equal(c.decoder.counters.rejected.crc + c.decoder.counters.rejected.cobs, 0);
    const detector = createHash('sha256');
    const aux = createHash('sha256');
    const layout = createHash('sha256');
    let detectorSamples = 0;
    let auxSamples = 0;
    for (const m of c.received) {
      if (m.body !== 'sampleBlock') continue;
      const b = m.sampleBlock!;
      const isDetector = b.source === SampleSource.SAMPLE_SOURCE_DETECTOR;
      if (b.firstSampleIndex + b.sampleCount > (isDetector ? samples : samples / 10)) continue;
      const header = `${b.source} ${b.firstSampleIndex} ${b.sampleCount} ${b.channelIds.join(',')} ${b.format} ${b.samples.length}\n`;
      layout.update(header);
      (isDetector ? detector : aux).update(header).update(b.samples);
      if (isDetector) detectorSamples += b.sampleCount;
      else auxSamples += b.sampleCount;
    }
    return { detector: detector.digest('hex'), aux: aux.digest('hex'), layout: layout.digest('hex'), detectorSamples, auxSamples };
  } finally {
    await close(port);
  }
}

describe('firmware-sim transport: sim:// devices in a worker thread (thread=worker)', function () {
  this.timeout(60_000);
  const simPorts = useSimPorts();
  afterEach(() => SimBinding.workers.reset());

  // While idle, a device's clock follows the wall clock (in-thread too), so when Start arrives on it varies from run to
  // run and so do the world's time-dependent values (sleep, the aux inputs); the linear world's detector data depends
  // on the sample index alone: the same bytes for the same commands, whichever thread runs the device. (At a fixed
  // speed the device paces itself: speed=10 keeps this test's reader ahead of it, as a real device needs.)
  for (const speed of ['max', '10']) {
    it(`gives the same detector sample data as the in-thread device for the same URL and commands (speed=${speed})`, async () => {
      const base = `sim://linear?seed=7&speed=${speed}`;
      const main = await record(`${base}&thread=main`, 40_000);
      assert.equal(simPorts.list().length, 1, 'thread=main: the device is in the ports');
      const worker = await record(`${base}&thread=worker`, 40_000);
      assert.equal(simPorts.list().length, 1, 'thread=worker: its device is not in this thread');
      assert.equal(main.detectorSamples, 39_936);
      assert.deepEqual(worker.detector, main.detector);
      assert.equal(worker.auxSamples, main.auxSamples);
      const again = await record(`${base}&thread=main`, 40_000);
      assert.deepEqual(again.detector, main.detector, 'control: the in-thread device gives these bytes every time');
    });
  }

  it('runs the world scenarios in the worker: the sleep world gives the same blocks (indexes, channels, counts)', async () => {
    const base = 'sim://sleep?seed=7&speed=max';
    const main = await record(`${base}&thread=main`, 40_000);
    const worker = await record(`${base}&thread=worker`, 40_000);
    assert.deepEqual(worker.layout, main.layout);
    assert.notEqual(worker.detector, (await record('sim://linear?seed=7&speed=max&thread=worker', 40_000)).detector, 'not the linear world');
  });

  it('opens through the same contract: the port is a worker port, the device streams contiguous blocks, close stops its worker', async () => {
    const path = 'sim://linear?seed=1&speed=max&thread=worker';
    const port = await open(path);
    assert.ok(port.port instanceof WorkerPortBinding);
    assert.deepEqual(SimBinding.workers.paths(), [path]);
    const c = new StreamClient(port);
    await c.hello();
    await c.request({ configure: { config: LOCK_IN } });
    await c.request({ start: {} });
    await c.waitFor(() => c.continuousDetectorSamples() >= 100_000, 20_000, '10 s of device time');
    await close(port);
    assert.deepEqual(SimBinding.workers.paths(), [], 'a closed port with nothing to keep ends its worker');
    const again = await open(path); // a fresh device
    const c2 = new StreamClient(again);
    assert.equal((await c2.request({ heartbeat: {} })).heartbeatAck?.running, false);
    await close(again);
  });

  it('a close mid-stream cancels the pending read and loses nothing before it; the path reopens', async () => {
    const path = 'sim://sleep?seed=2&speed=max&thread=worker';
    const port = await open(path);
    const c = new StreamClient(port);
    await c.hello();
    await c.request({ configure: { config: CONTINUOUS } });
    await c.request({ start: {} });
    await c.waitFor(() => c.continuousDetectorSamples() >= 20_000, 20_000, 'blocks');
    await close(port);
    assert.ok(c.continuousDetectorSamples() >= 20_000, 'contiguous up to the close');
    const again = await open(path);
    await close(again);
  });

  it('a disconnect fault fails the port as unplugged after the bytes sent before it; the path reopens to the same running device', async () => {
    const path = 'sim://linear?seed=1&speed=5&faults=disconnect@3:for=2&thread=worker';
    const port = await open(path);
    const { client: c, disconnected } = await runUntilUnplugged(port, CONTINUOUS);
    assert.ok(disconnected, 'the stream closes as disconnected');
    const samplesBefore = c.continuousDetectorSamples(); // contiguous: nothing lost before the pull
    assert.ok(samplesBefore > 0 && samplesBefore <= 3000, String(samplesBefore)); // 1 kS/s, pulled 3 s after the open
    assert.deepEqual(SimBinding.workers.paths(), [path], 'the pulled device keeps running in its worker');
    await assert.rejects(open(path), (e: unknown) => e instanceof SimError && e.code === 'E_SIM_UNPLUGGED');
    let again: SerialPortStream | null = null;
    for (let i = 0; i < 400 && !again; i++) {
      await new Promise((r) => setTimeout(r, 10));
      again = await open(path).catch((e: unknown) => {
        if (e instanceof SimError && e.code === 'E_SIM_UNPLUGGED') return null;
        throw e;
      });
    }
    assert.ok(again, 'reopened after the outage');
    try {
      const c2 = new StreamClient(again);
      const hb = await c2.request({ heartbeat: {} });
      assert.equal(hb.heartbeatAck?.running, true);
      assert.ok(hb.heartbeatAck!.sampleIndex > samplesBefore + 1500, String(hb.heartbeatAck!.sampleIndex)); // it kept sampling through the 2 s outage
      await c2.waitFor(() => c2.detectorBlocks().length > 0, 10_000, 'blocks after the reconnect');
    } finally {
      await close(again);
    }
  });

  it('refuses thread= values it does not know, and a worker for a binding with its own world factory', async () => {
    assert.throws(() => parseSimUrl('sim://linear?thread=gpu'), (e: unknown) => e instanceof SimError && e.code === 'E_SIM_URL');
    const own = createSimBinding({ worldFactory: () => { throw new Error('unused'); } });
    await assert.rejects(own.open({ path: 'sim://sleep?thread=worker', baudRate: 115200 }), (e: unknown) => e instanceof SimError && e.code === 'E_SIM_THREAD');
  });

  it('the CLI runs a device in this thread unless the URL asks for a worker, and refuses a worker where one does not fit', () => {
    assert.equal(simThreadFor('sim://sleep?seed=1&speed=max'), 'main');
    assert.equal(simThreadFor('sim://sleep?seed=1&speed=max&thread=main'), 'main');
    assert.equal(simThreadFor('sim://sleep?seed=1&speed=max&thread=worker'), 'worker');
    assert.throws(() => simThreadFor('sim://sleep?seed=1&speed=10&thread=worker'), (e: unknown) => e instanceof SimError && e.code === 'E_SIM_THREAD');
    assert.throws(() => simThreadFor('sim://sleep?speed=max&persist=1&thread=worker'), (e: unknown) => e instanceof SimError && e.code === 'E_SIM_THREAD');
  });

  it('a worker fits only where nobody needs the device in this thread', () => {
    const fits = (url: string): boolean => workerFits(parseSimUrl(url), simPorts);
    assert.equal(fits('sim://sleep?seed=1&speed=max'), true);
    assert.equal(fits('sim://sleep?seed=1&speed=10'), false);
    assert.equal(fits('sim://sleep?speed=max&persist=1'), false);
    assert.equal(fits('sim://sleep?speed=max&sync_bus=b1'), false);
    simPorts.createPort('sim://sleep?seed=2&speed=max');
    assert.equal(fits('sim://sleep?seed=2&speed=max'), false, 'created for a test: it holds the handle');
    const off = simPorts.onOpen(() => undefined);
    assert.equal(fits('sim://sleep?seed=1&speed=max'), false, 'someone listens for opens');
    off();
  });
});
