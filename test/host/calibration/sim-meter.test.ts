// The simulator's side of calibration: the power meter at the fiber tip and
// the led_aging option.
import assert from 'node:assert/strict';
import { DEFAULT_BOARD, worldBoardOf } from '../../../firmware-sim/device/board.ts';
import { createSimDevice } from '../../../firmware-sim/device/create.ts';
import { SimError } from '../../../firmware-sim/device/errors.ts';
import { SimPowerMeter, simPowerMeterOf } from '../../../firmware-sim/device/power-meter.ts';
import { serveSimOnPty } from '../../../firmware-sim/transport/pty.ts';
import { simServeOptionsFromUrl } from '../../../firmware-sim/transport/serve.ts';
import { parseLedAging, parseSimUrl } from '../../../firmware-sim/transport/sim-url.ts';
import { createWorld, type SimWorld } from '../../../firmware-sim/world/index.ts';
import { ModulationMode } from '../../../protocol/index.ts';

function running(scenario: string, currentMa: number, extra: Parameters<typeof createSimDevice>[0] = {}) {
  const device = createSimDevice({ scenario, seed: 3, worldFactory: createWorld, ...extra });
  device.handle({ requestId: 1, hello: { protocol: { major: 1, minor: 0 } } });
  device.handle({
    requestId: 2,
    configure: { config: { mode: ModulationMode.MODULATION_MODE_CONTINUOUS, sampleRateHz: 1000, leds: [{ channel: 1, currentMa }], detectorIds: [0], oversampling: 1, blockSamples: 100, heartbeatTimeoutMs: 60_000 } },
  });
  device.handle({ requestId: 3, start: {} });
  device.read();
  return device;
}

describe('firmware-sim: power meter at the fiber tip', () => {
  it('reads the world LED power at the driven current and temperature, with its own noise, settling with a lag', () => {
    const device = running('dark', 30);
    const world = device.world as SimWorld;
    const meter = new SimPowerMeter(device, { responseTauS: 0.3 });
    device.advance(0.5);
    const truth = world.ledPowerUw(1, 30, world.temperatureC(device.worldTimeS));
    assert.equal(meter.truthUw(1), truth);
    assert.equal(meter.truthUw(), truth, 'only LED 1 is lit');
    assert.equal(meter.truthUw(0), 0);
    const readings: number[] = [];
    for (let i = 0; i < 50; i++) {
      device.advance(0.1);
      readings.push(meter.readUw());
    }
    const mean = readings.reduce((s, v) => s + v, 0) / readings.length;
    const sd = Math.sqrt(readings.reduce((s, v) => s + (v - mean) ** 2, 0) / readings.length);
    assert.ok(Math.abs(mean / truth - 1) < 0.002, `mean ${mean} vs ${truth}`);
    assert.ok(sd > 0 && sd < 0.003 * truth, `noise ${sd}`);
    // a step to 10 mA: the first reading lags, later ones settle on the new level
    device.handle({ requestId: 4, setLed: { channel: 1, currentMa: 10 } });
    device.advance(0.2);
    const low = world.ledPowerUw(1, 10, world.temperatureC(device.worldTimeS));
    const first = meter.readUw();
    assert.ok(first > low * 1.3, `a reading right after the step has not settled (${first} vs ${low})`);
    device.advance(3);
    assert.ok(Math.abs(meter.readUw() / low - 1) < 0.01);
  });

  it('reads darkness when the device is stopped, and one meter per device', () => {
    const device = running('dark', 30);
    device.handle({ requestId: 9, stop: {} });
    device.advance(1);
    const meter = simPowerMeterOf(device, { noiseUw: 0, relativeNoise: 0 });
    assert.equal(meter.readUw(), 0);
    assert.equal(simPowerMeterOf(device), meter);
    assert.equal(meter.serialNumber, `PM-${DEFAULT_BOARD.serialNumber}`);
  });

  it('refuses a world without LED optics', () => {
    const device = createSimDevice({ scenario: 'linear' });
    assert.throws(() => new SimPowerMeter(device), (e: unknown) => e instanceof SimError && e.code === 'E_SIM_NO_OPTICS');
  });
});

describe('firmware-sim: led_aging', () => {
  it('parses led_aging from sim:// URLs and rejects nonsense', () => {
    assert.deepEqual(parseSimUrl('sim://dark?led_aging=1:0.85').ledAging, [{ channel: 1, factor: 0.85 }]);
    assert.deepEqual(parseLedAging('0:0.9, 2:1.1'), [{ channel: 0, factor: 0.9 }, { channel: 2, factor: 1.1 }]);
    assert.equal(parseSimUrl('sim://dark').ledAging, undefined);
    for (const bad of ['1', '1:0', '1:-0.5', '1:3', 'x:0.5', '1:0.8,1:0.9']) assert.throws(() => parseLedAging(bad), SimError, bad);
    assert.deepEqual(simServeOptionsFromUrl('sim://dark?led_aging=1:0.85').ledAging, [{ channel: 1, factor: 0.85 }]);
  });

  it('an aged LED emits the factor less light at every current (and the detectors see it too)', () => {
    const board = worldBoardOf(DEFAULT_BOARD);
    const fresh = createWorld('dark', 3, board);
    const aged = createWorld('dark', 3, board, { ledAging: [undefined, 0.85] });
    for (const ma of [3, 10, 25, 50]) {
      assert.ok(Math.abs(aged.ledPowerUw(1, ma, 25) - 0.85 * fresh.ledPowerUw(1, ma, 25)) < 1e-12);
      assert.equal(aged.ledPowerUw(0, ma, 25), fresh.ledPowerUw(0, ma, 25));
    }
    const codes = (w: SimWorld): number => w.truth.ledContributions([0, 30, 0, 0], 1)[1]![0]!;
    assert.ok(Math.abs(codes(aged) / codes(fresh) - 0.85) < 1e-9);
  });

  it('reaches the device through createSimDevice by channel id, and is refused for unknown channels and the linear world', () => {
    const device = running('dark', 30, { ledAging: [{ channel: 1, factor: 0.85 }] });
    const plain = running('dark', 30);
    device.advance(1);
    plain.advance(1);
    assert.ok(Math.abs(new SimPowerMeter(device).truthUw(1) / new SimPowerMeter(plain).truthUw(1) - 0.85) < 1e-9);
    assert.throws(() => createSimDevice({ scenario: 'dark', worldFactory: createWorld, ledAging: [{ channel: 7, factor: 0.9 }] }), SimError);
    assert.throws(() => createSimDevice({ scenario: 'linear', ledAging: [{ channel: 1, factor: 0.9 }] }), SimError);
  });

  it('is served on a pty too (the URL options reach the server)', async function () {
    this.timeout(20_000);
    const server = await serveSimOnPty(`/tmp/fiberrig-aging-${process.pid}`, { ...simServeOptionsFromUrl('sim://dark?seed=3&led_aging=1:0.5'), worldFactory: createWorld });
    try {
      const fresh = createWorld('dark', 3, worldBoardOf(DEFAULT_BOARD));
      assert.ok(Math.abs((server.device.world as SimWorld).ledPowerUw(1, 20, 25) / fresh.ledPowerUw(1, 20, 25) - 0.5) < 1e-12);
    } finally {
      await server.close();
    }
  });
});
