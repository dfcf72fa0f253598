// --meter scpi:PATH against a small SCPI responder on a socat pty pair,
// answering MEAS:POW? with the simulated meter at the sim device's fiber tip.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simPowerMeterOf, simulatorWorldFactory } from '../../../firmware-sim/simulator.ts';
import { CalibrationError } from '../../../host/calibration/errors.ts';
import { parseScpiSpec, ScpiPowerMeter } from '../../../host/calibration/scpi.ts';
import type { CalibrationFile } from '../../../host/calibration/store.ts';
import { HostCalibration } from '../../../host/calibration/table.ts';
import { registerWorldFactory } from '../../../firmware-sim/device/create.ts';
import type { SimWorld } from '../../../firmware-sim/world/index.ts';
import '../../../host/cli/devices.ts';
import { calibrateCommand } from '../../../host/cli/commands/calibrate.ts';
import { useSimPorts } from '../../support/sim-ports.ts';
import { captureIo, type PtyPair, type ScpiResponder, scpiResponder, socatPair } from './helpers.ts';

const URL = 'sim://dark?seed=12&speed=10';

describe('fiberrig calibrate --meter scpi:PATH (SCPI power meter on a pty)', function () {
  this.timeout(90_000);
  let dir = '';
  let pair: PtyPair | undefined;
  let responder: ScpiResponder | undefined;
  const ports = useSimPorts();

  before(async () => {
    registerWorldFactory(simulatorWorldFactory); // other suites unregister it after their tests
    dir = await mkdtemp(join(tmpdir(), 'fiberrig-scpi-'));
    pair = await socatPair(join(dir, 'meter'), join(dir, 'meter-instrument'));
  });

  after(async () => {
    await responder?.close();
    await pair?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('parses scpi:PATH[?baud=N]', () => {
    assert.deepEqual(parseScpiSpec('scpi:/dev/ttyUSB0'), { path: '/dev/ttyUSB0', baudRate: 115200 });
    assert.deepEqual(parseScpiSpec('scpi:/dev/ttyACM1?baud=9600'), { path: '/dev/ttyACM1', baudRate: 9600 });
    for (const bad of ['scpi:', 'scpi:/dev/x?parity=odd', 'scpi:/dev/x?baud=-1', 'usb:/dev/x']) assert.throws(() => parseScpiSpec(bad), CalibrationError, bad);
  });

  it('times out with a typed error when nothing answers', async () => {
    await assert.rejects(ScpiPowerMeter.open(pair!.a, { timeoutMs: 300 }), (e: unknown) => e instanceof CalibrationError && e.code === 'E_METER_TIMEOUT');
  });

  it('calibrates through the SCPI meter: model and serial from *IDN?, wavelength set, fit within 1 % of the truth', async () => {
    const { device } = ports.createPort(URL);
    responder = await scpiResponder(pair!.b, () => simPowerMeterOf(device).readUw() * 1e-6);
    const out = join(dir, 'cal');
    const c = captureIo();
    const code = await calibrateCommand(c.io, { device: URL, led: '2', meter: `scpi:${pair!.a}`, points: '6', out }, { settle: { intervalMs: 50, stableReadings: 4 } });
    assert.equal(code, 0, c.err());
    assert.ok(responder.received.includes('*IDN?'));
    assert.ok(responder.received.includes('SENS:CORR:WAV 560'));
    assert.equal(responder.wavelengthNm, 560);
    assert.ok(responder.received.filter((l) => l === 'MEAS:POW?').length >= 8 * 4);

    const unitDir = join(out, 'SIM-0001', 'led2');
    const file = JSON.parse(await readFile(join(unitDir, (await readdir(unitDir)).find((f) => f.endsWith('.json'))!), 'utf8')) as CalibrationFile;
    assert.deepEqual(file.meter, { kind: 'scpi', model: 'FiberrigTest PM-SIM100', serialNumber: 'SN0042', path: pair!.a, wavelengthNm: 560 });

    const world = device.world as SimWorld;
    const host = new HostCalibration(device.nv.readCalibration());
    const { minMa, maxMa } = host.rangeMa(2)!;
    for (let ma = minMa; ma <= maxMa; ma += 0.25) {
      const truth = world.ledPowerUw(2, ma, world.temperatureC(device.worldTimeS));
      assert.ok(Math.abs(host.powerForCurrent(2, ma) / truth - 1) < 0.01, `${ma} mA: ${host.powerForCurrent(2, ma)} vs ${truth}`);
    }
  });
});
