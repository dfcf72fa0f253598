import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SerialPortStream } from '@serialport/stream';
import { ErrorCode } from '../../../protocol/index.ts';
import { registeredWorldFactory, registerWorldFactory } from '../../../firmware-sim/device/create.ts';
import { SimError } from '../../../firmware-sim/device/errors.ts';
import { LinearWorld } from '../../../firmware-sim/device/linear-world.ts';
import { createSimBinding, SimBinding } from '../../../firmware-sim/transport/binding.ts';
import { type SimPortHandle, SimPorts } from '../../../firmware-sim/transport/sim-ports.ts';
import { parseSimUrl } from '../../../firmware-sim/transport/sim-url.ts';
import { useSimPorts } from '../../support/sim-ports.ts';
import { CONTINUOUS, LOCK_IN } from '../device/helpers.ts';
import { runUntilUnplugged, StreamClient } from './client.ts';

function open(path: string, binding = SimBinding): Promise<SerialPortStream> {
  return new Promise((resolve, reject) => {
    const port = new SerialPortStream({ binding, path, baudRate: 115200, autoOpen: false });
    port.open((error) => (error ? reject(error) : resolve(port)));
  });
}

function close(port: SerialPortStream): Promise<void> {
  return new Promise((resolve) => {
    if (!port.isOpen) resolve();
    else port.close(() => resolve());
  });
}

describe('firmware-sim transport: sim:// serialport binding', () => {
  const ports: SerialPortStream[] = [];
  const simPorts = useSimPorts();
  let child: ChildProcess | null = null;

  // restore whatever world factory was registered before (other suites rely on the real world)
  let savedFactory: ReturnType<typeof registeredWorldFactory> = null;
  beforeEach(() => {
    savedFactory = registeredWorldFactory();
  });

  afterEach(async () => {
    for (const p of ports.splice(0)) await close(p);
    registerWorldFactory(savedFactory);
  });

  after(() => {
    child?.kill('SIGKILL');
  });

  it('opens sim://, handshakes, configures, starts, streams contiguous blocks, stops and closes', async () => {
    const path = 'sim://linear?seed=1&speed=max';
    const opened: SimPortHandle[] = [];
    const off = simPorts.onOpen((h) => opened.push(h));
    const port = await open(path);
    ports.push(port);
    off();
    const c = new StreamClient(port);
    assert.equal((await c.hello()).body, 'deviceInfo');
    assert.equal((await c.request({ configure: { config: LOCK_IN } })).body, 'ack');
    assert.equal((await c.request({ start: {} })).ack?.sampleIndex, 0);
    await c.waitFor(() => c.detectorBlocks().length >= 200, 20_000, '200 blocks'); // > 5 s of device time
    const stop = await c.request({ stop: {} });
    await c.waitFor(() => c.continuousDetectorSamples() === stop.ack!.sampleIndex, 10_000, 'every block before the Stop index');
    const handle = simPorts.lookup(path)!;
    assert.equal(opened[0], handle);
    assert.equal(handle.device.truth.faults.length, 0);
    assert.equal(c.decoder.counters.rejected.crc + c.decoder.counters.rejected.cobs, 0);
    await close(port);
    assert.equal(handle.port, null);
    assert.equal(handle.pacer.started, false, 'the pacer stops with the port');
  });

  it('leaves nothing that keeps the process alive after close (a child process exits by itself)', async function () {
    this.timeout(30_000);
    const fixture = fileURLToPath(new URL('./fixtures/binding-exit.ts', import.meta.url));
    child = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => { out += d; });
    child.stderr!.on('data', (d: Buffer) => { err += d; });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => resolve(-1), 25_000);
      child!.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    assert.equal(code, 0, `child did not exit cleanly (code ${code}): ${err.slice(-500)}`);
    assert.ok(Number(out.trim()) >= 2000, out);
    child = null;
  });

  it('rejects bad sim:// URLs with typed errors', async () => {
    registerWorldFactory(null); // no world model: scenarios other than "linear" are refused (afterEach restores it)
    for (const [url, code] of [
      ['sim://', 'E_SIM_URL'], ['sim://linear?speed=fast', 'E_SIM_URL'], ['sim://linear?seed=-1', 'E_SIM_URL'], ['sim://linear?colour=blue', 'E_SIM_URL'],
      ['sim://linear?faults=melt', 'E_SIM_FAULT'], ['serial:///dev/ttyACM0', 'E_SIM_URL'], ['sim://sleep?seed=1', 'E_SIM_SCENARIO'],
    ] as const) {
      await assert.rejects(open(url), (e: unknown) => e instanceof SimError && e.code === code && e.hint.length > 0, url);
    }
  });

  it('parses every sim:// option', () => {
    const u = parseSimUrl('sim://sleep/?seed=42&speed=2.5&drift_ppm=-20&faults=reset@3&link_bps=11520&loopback=0&persist=1');
    assert.deepEqual({ ...u, url: undefined }, {
      url: undefined, scenario: 'sleep', seed: 42, speed: 2.5, driftPpm: -20, faults: [{ type: 'reset', atS: 3 }], linkBytesPerSecond: 11520, loopbackLine: 0, persist: true,
    });
    assert.equal(parseSimUrl('sim://linear').speed, 1);
    assert.equal(parseSimUrl('sim://linear?speed=max').speed, 'max');
  });

  it('uses the registered (or injected) world factory for other scenarios', async () => {
    const seen: Array<[string, number]> = [];
    registerWorldFactory((scenario, seed, board) => {
      seen.push([scenario, seed]);
      return new LinearWorld(board, seed);
    });
    const path = 'sim://sleep?seed=9&speed=max';
    const port = await open(path);
    ports.push(port);
    assert.deepEqual(seen, [['sleep', 9]]);
    const own = createSimBinding({ worldFactory: (s, seed, board) => { seen.push([`own:${s}`, seed]); return new LinearWorld(board, seed); } });
    const path2 = 'sim://nrem?seed=2';
    ports.push(await open(path2, own));
    assert.deepEqual(seen.at(-1), ['own:nrem', 2]);
  });

  it('refuses a second open of the same path, and a reopen powers up a fresh device unless persist=1', async () => {
    const path = 'sim://linear?seed=5&speed=10';
    const a = await open(path);
    ports.push(a);
    await assert.rejects(open(path), (e: unknown) => e instanceof SimError && e.code === 'E_SIM_LOCKED');
    const first = simPorts.lookup(path)!.device;
    await close(a);
    ports.push(await open(path));
    assert.notEqual(simPorts.lookup(path)!.device, first);

    const persistent = 'sim://linear?seed=5&speed=10&persist=1';
    const p = await open(persistent);
    const c = new StreamClient(p);
    await c.hello();
    await c.request({ configure: { config: CONTINUOUS } });
    await c.request({ start: {} });
    const dev = simPorts.lookup(persistent)!.device;
    await close(p);
    const again = await open(persistent);
    ports.push(again);
    assert.equal(simPorts.lookup(persistent)!.device, dev);
    assert.equal(dev.running, true, 'the device kept its run across the reopen');
  });

  it('createPort powers up the device the next open attaches to; reset forgets every device, and one still open stops when it closes', async () => {
    const own = new SimPorts();
    const binding = createSimBinding({ ports: own });
    assert.equal(binding.ports, own);
    const path = 'sim://linear?seed=7&speed=10&persist=1';
    const created = own.createPort(path);
    assert.equal(created.opens, 0);
    assert.equal(created.pacer.started, false, 'a created device waits for its port');
    const port = await open(path, binding);
    ports.push(port);
    assert.equal(own.lookup(path), created);
    assert.equal(created.opens, 1);
    assert.equal(created.pacer.started, true);
    assert.equal(SimBinding.ports.lookup(path), undefined, 'ports belong to their binding');
    assert.throws(() => own.createPort(path), (e: unknown) => e instanceof SimError && e.code === 'E_SIM_LOCKED');
    own.reset();
    assert.equal(own.lookup(path), undefined);
    assert.deepEqual(own.list(), []);
    assert.equal(created.pacer.started, true, 'an open port keeps its device until its owner closes it');
    await close(port);
    assert.equal(created.pacer.started, false, 'a forgotten persist=1 device stops with its port');
    ports.push(await open(path, binding));
    assert.ok(own.lookup(path) && own.lookup(path) !== created, 'the next open powers up a new device');
  });

  it('release forgets one path: a closed one stops now, an open one when it closes; other paths stay', async () => {
    const own = new SimPorts();
    const binding = createSimBinding({ ports: own });
    const a = own.createPort('sim://linear?seed=1');
    const b = own.createPort('sim://linear?seed=2');
    const port = await open('sim://linear?seed=1', binding);
    ports.push(port);
    own.release('sim://linear?seed=1');
    own.release('sim://linear?seed=3'); // nothing there: nothing happens
    assert.deepEqual(own.list(), [b]);
    assert.equal(a.pacer.started, true, 'its open port keeps it running');
    await close(port);
    assert.equal(a.pacer.started, false, 'and it stops with its port');
    b.pacer.start();
    own.release('sim://linear?seed=2');
    assert.equal(b.pacer.started, false, 'a closed port\'s device stops at once');
  });

  it('a disconnect fault unplugs the port; the path reopens to the same running device after the outage', async function () {
    this.timeout(30_000);
    const path = 'sim://linear?seed=1&speed=20&faults=disconnect@1:for=2';
    const port = await open(path);
    const { client: c, disconnected } = await runUntilUnplugged(port, CONTINUOUS);
    assert.ok(disconnected, 'the stream closes as disconnected');
    const handle = simPorts.lookup(path)!;
    assert.equal(handle.device.running, true);
    await assert.rejects(open(path), (e: unknown) => e instanceof SimError && e.code === 'E_SIM_UNPLUGGED');
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (!handle.device.disconnected) {
          clearInterval(t);
          resolve();
        }
      }, 5);
    });
    const again = await open(path);
    ports.push(again);
    assert.equal(simPorts.lookup(path), handle);
    assert.equal(handle.opens, 2);
    const c2 = new StreamClient(again);
    const hb = await c2.request({ heartbeat: {} });
    assert.equal(hb.heartbeatAck?.running, true);
    assert.ok(hb.heartbeatAck!.sampleIndex > 2500, String(hb.heartbeatAck!.sampleIndex)); // it kept sampling through the 1 s..3 s outage
    await c2.waitFor(() => c2.detectorBlocks().length > 0, 10_000, 'blocks after the reconnect');
    const [record] = handle.device.truth.faultsOf('disconnect');
    assert.ok(record);
    const stop = await c2.request({ stop: {} });
    assert.ok(stop.ack!.sampleIndex > 0);
    assert.equal((await c2.request({ configure: { config: { ...CONTINUOUS, sampleRateHz: 0 } } })).error?.code, ErrorCode.ERROR_CODE_INVALID_CONFIG);
  });
});
