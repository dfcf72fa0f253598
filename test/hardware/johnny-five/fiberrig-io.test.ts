// The IO-plugin contract of FiberrigIO, checked directly (johnny-five's own
// classes drive it in johnny-five.test.ts).
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, filter, take, toArray } from 'rxjs';
import { serveSimOnPty, serveSimOnTcp } from '../../../firmware-sim/simulator.ts';
import '../../../host/cli/devices.ts';
import { IN_CI, MissingTool, startTarget } from '../../conformance/target.ts';
import { FiberrigIO, FiberrigIOError, MODES } from '../../../hardware/johnny-five/index.ts';

function ready(io: FiberrigIO): Promise<void> {
  return new Promise((resolve, reject) => {
    io.once('ready', () => resolve());
    io.once('error', reject);
  });
}

describe('FiberrigIO (johnny-five IO plugin)', function () {
  this.timeout(30_000);
  let io: FiberrigIO;

  afterEach(async () => {
    await io?.close();
  });

  it('starts not ready, then emits connect and ready asynchronously, in that order', async () => {
    io = new FiberrigIO({ device: 'sim://steps?speed=max' });
    assert.equal(io.isReady, false);
    assert.deepEqual(io.pins, []);
    const events: string[] = [];
    io.on('connect', () => events.push('connect'));
    await new Promise<void>((resolve) => io.on('ready', () => {
      events.push(`ready:${io.isReady}`);
      resolve();
    }));
    assert.deepEqual(events, ['connect', 'ready:true']);
  });

  it('has frozen MODES, and pins and analogPins from the device', async () => {
    io = new FiberrigIO({ device: 'sim://steps?speed=max' });
    assert.ok(Object.isFrozen(io.MODES));
    assert.deepEqual({ ...io.MODES }, { INPUT: 0, OUTPUT: 1, ANALOG: 2, PWM: 3, SERVO: 4 });
    await ready(io);
    assert.deepEqual(io.pins.map((p) => p.name), ['PD0', 'PD1', 'EEG', 'EMG', 'LED0', 'LED1', 'LED2', 'LED3', 'TTL0', 'TTL1', 'SYNC']);
    assert.deepEqual(io.analogPins, [0, 1, 2, 3]);
    for (const [channel, address] of io.analogPins.entries()) assert.equal(io.pins[address]!.analogChannel, channel);
    const led = io.pins[io.normalize('LED1')]!;
    assert.deepEqual(led.supportedModes, [MODES.OUTPUT, MODES.PWM]);
    assert.equal(led.analogChannel, 127);
    assert.deepEqual(io.pins[io.normalize('TTL0')]!.supportedModes, [MODES.INPUT]);
    assert.deepEqual(io.pins[io.normalize('SYNC')]!.supportedModes, [MODES.OUTPUT]);
    assert.equal(io.defaultLed, io.normalize('LED0'));
    assert.equal(io.RESOLUTION.ADC, 65535);
  });

  it('normalizes A-names, pin names and numbers, and throws for unknown pins', async () => {
    io = new FiberrigIO({ device: 'sim://steps?speed=max' });
    await ready(io);
    assert.equal(io.normalize('A1'), 1);
    assert.equal(io.normalize('led2'), 6);
    assert.equal(io.normalize(9), 9);
    assert.equal(io.normalize('9'), 9);
    assert.throws(() => io.normalize('A9'), (e: unknown) => e instanceof FiberrigIOError && e.code === 'E_IO_PIN');
    assert.throws(() => io.normalize(42), { code: 'E_IO_PIN' });
  });

  it('pinMode stores ANALOG for INPUT on analog pins and refuses modes a pin lacks', async () => {
    io = new FiberrigIO({ device: 'sim://steps?speed=max' });
    await ready(io);
    io.pinMode('A0', MODES.INPUT);
    assert.equal(io.pins[0]!.mode, MODES.ANALOG);
    assert.throws(() => io.pinMode('LED0', MODES.ANALOG), { code: 'E_IO_MODE' });
    assert.throws(() => io.pinMode('TTL0', MODES.OUTPUT), { code: 'E_IO_MODE' });
  });

  it('analogWrite drives the LED as a fraction of its continuous limit', async () => {
    io = new FiberrigIO({ device: 'sim://steps?speed=max' });
    await ready(io);
    // changes while running (Start's announcement of the drives at sample 0 may still be on its way)
    const events = firstValueFrom(io.rig!.ledEvents$.pipe(filter((e) => e.channel === 1 && e.sampleIndex > 0), take(2), toArray()));
    io.analogWrite('LED1', 255);
    await io.flush();
    io.pwmWrite('LED1', 51);
    await io.flush();
    const [full, fifth] = await events;
    assert.equal(full!.currentMa, 50);
    assert.ok(Math.abs(fifth!.currentMa - 10) < 1e-3, `51/255 of 50 mA, got ${fifth!.currentMa}`);
    assert.equal(io.pins[io.normalize('LED1')]!.value, 51);
  });

  it('coalesces queued writes to one pin (the latest wins, order kept)', async () => {
    io = new FiberrigIO({ device: 'sim://steps?speed=max' });
    await ready(io);
    const seen: number[] = [];
    const sub = io.rig!.ledEvents$.pipe(filter((e) => e.channel === 0)).subscribe((e) => seen.push(e.currentMa));
    for (let v = 0; v <= 255; v += 5) io.analogWrite('LED0', v);
    io.digitalWrite('LED0', 0);
    await io.flush();
    await new Promise((r) => setTimeout(r, 100));
    sub.unsubscribe();
    assert.ok(seen.length < 52, `writes were coalesced (${seen.length} sent)`);
    assert.equal(seen[seen.length - 1], 0, 'the last write wins');
  });

  it('analogRead reports each block on the handler and on analog-read-N, at 100 reports per device second', async () => {
    io = new FiberrigIO({ device: 'sim://steps?speed=max' });
    await ready(io);
    const config = io.rig!.configuration.config!;
    assert.ok(config.sampleRateHz! / config.blockSamples! >= 50, 'one report per block, at least 50 per second of device time');
    const values: number[] = [];
    let events = 0;
    io.on('analog-read-1', () => events++);
    await new Promise<void>((resolve) => io.analogRead('A1', (v) => {
      values.push(v);
      if (values.length === 20) resolve();
    }));
    assert.ok(events >= 19);
    assert.ok(values.every((v) => Number.isInteger(v) && v > 0 && v < 65535), String(values));
    const eeg: number[] = [];
    await new Promise<void>((resolve) => io.analogRead('EEG', (v) => {
      eeg.push(v);
      if (eeg.length === 10) resolve();
    }));
    const mean = eeg.slice(0, 10).reduce((a, b) => a + b, 0) / 10;
    assert.ok(Math.abs(mean - 32768) < 1500, `aux is offset to mid-scale (0 µV), steps' 2 Hz EEG tone swings around it: mean ${mean}`);
  });

  it('digitalRead reports the level once, then only changes', async () => {
    io = new FiberrigIO({ device: 'sim://dark?speed=max' }); // TTL0: 10 ms pulses at 1 Hz
    await ready(io);
    const values: number[] = [];
    let events = 0;
    io.on(`digital-read-${io.normalize('TTL0')}`, () => events++);
    await new Promise<void>((resolve) => io.digitalRead('TTL0', (v) => {
      values.push(v);
      if (values.length === 7) resolve();
    }));
    assert.ok(values[0] === 0 || values[0] === 1, 'the level first');
    for (let i = 1; i < values.length; i++) assert.notEqual(values[i], values[i - 1], `change-only: ${values}`);
    assert.ok(events >= 7);
    const quiet = await new Promise<number>((resolve) => io.digitalRead('TTL1', resolve)); // no activity on TTL1 in dark
    assert.equal(quiet, 0, 'an idle input reports its level once');
  });

  it('throws for IO the board does not have, and rejects reads and writes on the wrong pins', async () => {
    io = new FiberrigIO({ device: 'sim://steps?speed=max' });
    await ready(io);
    for (const call of [() => io.servoWrite(), () => io.i2cConfig(), () => io.i2cRead(), () => io.serialWrite(), () => io.stepperStep(), () => io.sysexCommand(), () => io.pingRead()]) {
      assert.throws(call, { code: 'E_IO_UNSUPPORTED' });
    }
    assert.throws(() => io.analogRead('LED0'), { code: 'E_IO_MODE' });
    assert.throws(() => io.analogWrite('A0', 10), { code: 'E_IO_MODE' });
    assert.throws(() => io.digitalRead('SYNC'), { code: 'E_IO_MODE' });
  });

  it('accepts non-essential calls and calls back asynchronously', async () => {
    io = new FiberrigIO({ device: 'sim://steps?speed=max' });
    await ready(io);
    let called = false;
    io.queryPinState('LED0', () => {
      called = true;
    });
    assert.equal(called, false, 'not synchronously');
    await new Promise((r) => setImmediate(r));
    assert.equal(called, true);
    assert.equal(io.setSamplingInterval(10), io);
    assert.equal(io.digitalWrite('TTL0', 1), io, 'a pull-up request on an input is accepted');
  });

  it('works on a tcp:// device and on a serial path (a pty served by socat)', async () => {
    const tcp = await serveSimOnTcp('127.0.0.1', 0, { scenario: 'steps', speed: 'max' });
    const pty = await serveSimOnPty(join(tmpdir(), `fiberrig-j5-test-${process.pid}`), { scenario: 'steps', speed: 'max' });
    try {
      for (const device of [tcp.url, pty.path]) {
        io = new FiberrigIO({ device });
        await ready(io);
        const value = await new Promise<number>((resolve) => io.analogRead('A0', resolve));
        assert.ok(value > 0, `${device}: A0 reads ${value}`);
        await io.close();
      }
    } finally {
      await tcp.close();
      await pty.close();
    }
  });

  it('drives the native C firmware target (its modelled front end): LED on raises A0', async function () {
    let target: Awaited<ReturnType<typeof startTarget>>;
    try {
      target = await startTarget('native');
    } catch (error) {
      if (error instanceof MissingTool && !IN_CI) this.skip();
      throw error;
    }
    try {
      io = new FiberrigIO({ device: target.url });
      await ready(io);
      const read = (): Promise<number> => new Promise((resolve) => {
        const once = (v: number): void => {
          io.off('analog-read-0', once);
          resolve(v);
        };
        io.on('analog-read-0', once);
      });
      io.analogRead('A0');
      const dark = await read();
      io.analogWrite('LED0', 255);
      await io.flush();
      let lit = dark;
      for (let i = 0; i < 50 && lit <= dark; i++) lit = await read();
      assert.ok(lit > dark, `dark ${dark}, lit ${lit}`);
      await io.close();
    } finally {
      await target.close();
    }
  });

  it('needs a device URL', () => {
    assert.throws(() => new FiberrigIO({ device: '' }), { code: 'E_IO_OPTIONS' });
  });
});
