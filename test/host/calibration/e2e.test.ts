// End to end against the simulator: fiberrig calibrate (sim meter) -> the
// table on the device and on disk -> reset -> a recording with power_uw
// settings -> --check on the same unit, undrifted and with its LED aged 15 %.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simPowerMeterOf, simulatorWorldFactory } from '../../../firmware-sim/simulator.ts';
import { type CalibrationTable, ModulationMode } from '../../../protocol/index.ts';
import { CalibrationError } from '../../../host/calibration/errors.ts';
import { CommandedPowerLog, ledDrivesInForce } from '../../../host/calibration/recording.ts';
import type { CalibrationFile } from '../../../host/calibration/store.ts';
import { HostCalibration, sameTable } from '../../../host/calibration/table.ts';
import { registeredWorldFactory, registerWorldFactory } from '../../../firmware-sim/device/create.ts';
import type { SimPorts } from '../../../firmware-sim/transport/sim-ports.ts';
import type { SimWorld } from '../../../firmware-sim/world/index.ts';
import '../../../host/cli/devices.ts';
import { acquireCommand } from '../../../host/cli/commands/acquire.ts';
import { calibrateCommand } from '../../../host/cli/commands/calibrate.ts';
import { DeviceError } from '../../../host/link/errors.ts';
import { Rig } from '../../../host/rig/rig.ts';
import { useSimPorts } from '../../support/sim-ports.ts';
import { captureIo } from './helpers.ts';

const URL = 'sim://dark?seed=11&speed=10&persist=1';
const AGED = 'sim://dark?seed=11&speed=10&persist=1&led_aging=1:0.85';
const SETTLE = { intervalMs: 50, stableReadings: 4 };

/** Resolves once `predicate` holds (checked every 10 ms; the mocha timeout bounds it). */
async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((r) => setTimeout(r, 10));
}

/** The suite's simulated ports (persist=1 devices shared by its tests, reset after it). */
let ports: SimPorts;

function simDevice(url: string) {
  const handle = ports.lookup(url);
  assert.ok(handle, `no simulated device behind ${url}`);
  return handle.device;
}

/** Largest |table / truth - 1| over the table's current range, truth at the world's temperature now. */
function tableErrorVsTruth(url: string, table: CalibrationTable, channel: number): number {
  const device = simDevice(url);
  const world = device.world as SimWorld;
  const k = device.board.leds.findIndex((l) => l.id === channel);
  const host = new HostCalibration(table);
  const { minMa, maxMa } = host.rangeMa(channel)!;
  const T = world.temperatureC(device.worldTimeS);
  let worst = 0;
  for (let i = 0; i <= 400; i++) {
    const ma = minMa + ((maxMa - minMa) * i) / 400;
    const truth = world.ledPowerUw(k, ma, T);
    worst = Math.max(worst, Math.abs(host.powerForCurrent(channel, ma) / truth - 1));
  }
  return worst;
}

describe('fiberrig calibrate: end to end against the simulator', function () {
  this.timeout(120_000);
  let out = '';
  let stored: CalibrationTable | undefined;
  ports = useSimPorts('suite');
  let previousFactory: ReturnType<typeof registeredWorldFactory> = null;

  before(async () => {
    // the simulator's own factory (sim://file documents included), as host/cli/devices.ts registers it;
    // other suites unregister it after their tests, and this one gives back what it found
    previousFactory = registeredWorldFactory();
    registerWorldFactory(simulatorWorldFactory);
    ports.createPort(URL);
    ports.createPort(AGED);
    out = await mkdtemp(join(tmpdir(), 'fiberrig-cal-'));
  });

  after(async () => {
    registerWorldFactory(previousFactory);
    await rm(out, { recursive: true, force: true });
  });

  it('calibrates LED 1 with the sim meter: the stored curve is within 1 % of the simulated truth over the calibrated range', async () => {
    const c = captureIo();
    const code = await calibrateCommand(c.io, { device: URL, led: '1', meter: 'sim', out, operator: 'ann', label: 'led=M470F3,cube=FMC5,cord=P12' }, { settle: SETTLE });
    assert.equal(code, 0, c.err());
    assert.match(c.out(), /written to the device/);
    assert.match(c.err(), /µW \(o measured/, 'a terminal plot on stderr');

    const device = simDevice(URL);
    stored = device.nv.readCalibration();
    const entry = stored.leds.find((l) => l.channel === 1)!;
    assert.equal(entry.wavelengthNm, 470);
    assert.equal(entry.label, 'led=M470F3,cube=FMC5,cord=P12');
    assert.ok(entry.points.length >= 8);
    const err = tableErrorVsTruth(URL, stored, 1);
    assert.ok(err < 0.01, `stored curve off the truth by ${(err * 100).toFixed(3)} %`);

    // the calibration file, its plot and the unit's history
    const dir = join(out, 'SIM-0001', 'led1');
    const files = (await readdir(dir)).sort();
    assert.equal(files.filter((f) => f.endsWith('.json')).length, 1);
    assert.equal(files.filter((f) => f.endsWith('.svg')).length, 1);
    const file = JSON.parse(await readFile(join(dir, files.find((f) => f.endsWith('.json'))!), 'utf8')) as CalibrationFile;
    assert.equal(file.format, 'fiberrig-calibration');
    assert.equal(file.led.wavelengthNm, 470);
    assert.deepEqual(file.led.identifiers, { led: 'M470F3', cube: 'FMC5', cord: 'P12' });
    assert.deepEqual({ kind: file.meter.kind, serial: file.meter.serialNumber, nm: file.meter.wavelengthNm }, { kind: 'sim', serial: 'PM-SIM-0001', nm: 470 });
    assert.equal(file.operator, 'ann');
    assert.ok(!Number.isNaN(Date.parse(file.date)));
    assert.equal(file.fit.poor, false);
    assert.ok(file.fit.r2 > 0.9999);
    assert.equal(file.points.length, 11);
    assert.deepEqual(file.points.map((p) => p.sweep).slice(-1), ['repeat']);
    assert.ok(sameTable({ leds: [file.table] }, { leds: [entry] }), 'the file records exactly what the device stores');
    assert.equal(file.writtenToDevice, true);
    assert.match(await readFile(join(dir, file.plot), 'utf8'), /^<svg /);
    const history = (await readFile(join(dir, 'history.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(history.map((h) => h.type), ['calibration']);
  });

  it('keeps the calibration across a device reset (and drives power_uw from it afterwards)', async () => {
    const rig = await Rig.connect(URL);
    try {
      const before = await rig.readCalibration();
      assert.ok(sameTable(before, stored));
      const resets = simDevice(URL).nv.resets;
      await rig.reset();
      assert.equal(simDevice(URL).nv.resets, resets + 1);
      assert.ok(sameTable(await rig.readCalibration(), before));
      assert.equal(rig.info.leds.find((l) => l.id === 1)?.calibrated, true);
      assert.equal(rig.info.calibrationStored, true);
      await rig.configure({ mode: ModulationMode.MODULATION_MODE_CONTINUOUS, sampleRateHz: 1000, leds: [{ channel: 1, powerUw: 20 }], detectorIds: [0], oversampling: 1, blockSamples: 100 });
    } finally {
      await rig.close();
    }
  });

  it('refuses a power outside the calibrated range on the host and on the device (never extrapolated)', async () => {
    const rig = await Rig.connect(URL);
    try {
      const table = await rig.readCalibration();
      const { maxUw } = new HostCalibration(table).rangeUw(1)!;
      const config = { mode: ModulationMode.MODULATION_MODE_CONTINUOUS, sampleRateHz: 1000, leds: [{ channel: 1, powerUw: maxUw * 1.05 }], detectorIds: [0], oversampling: 1, blockSamples: 100 };
      assert.throws(() => ledDrivesInForce(config, table, rig.info), (e: unknown) => e instanceof CalibrationError && e.code === 'E_POWER_OUT_OF_RANGE');
      await assert.rejects(rig.configure(config), (e: unknown) => e instanceof DeviceError && e.deviceCode === 'NOT_CALIBRATED');
      const uncalibrated = { ...config, leds: [{ channel: 2, powerUw: 5 }] };
      assert.throws(() => ledDrivesInForce(uncalibrated, table, rig.info), (e: unknown) => e instanceof CalibrationError && e.code === 'E_NOT_CALIBRATED');
      await assert.rejects(rig.configure(uncalibrated), (e: unknown) => e instanceof DeviceError && e.deviceCode === 'NOT_CALIBRATED');
    } finally {
      await rig.close();
    }
  });

  it('a Rig run with power_uw: host and device convert alike, and Status reports the power commanded', async () => {
    const rig = await Rig.connect(URL);
    const log = new CommandedPowerLog();
    try {
      const table = await rig.readCalibration();
      const config = { mode: ModulationMode.MODULATION_MODE_CONTINUOUS, sampleRateHz: 1000, leds: [{ channel: 1, powerUw: 25 }], detectorIds: [0], oversampling: 1, blockSamples: 100, statusIntervalMs: 100 };
      const [drive] = ledDrivesInForce(config, table, rig.info);
      const sub = rig.status$.subscribe((s) => log.status(s));
      const events = rig.ledEvents$.subscribe((e) => log.ledEvent(e));
      await rig.configure(config);
      await rig.start();
      await until(() => log.toJSON().length > 0);
      await rig.setLed(1, { powerUw: 40 });
      await until(() => (log.toJSON()[0]?.changes.length ?? 0) > 1);
      sub.unsubscribe();
      events.unsubscribe();
      const [c] = log.toJSON();
      assert.equal(c?.channel, 1);
      assert.equal(c.minPowerUw, Math.fround(25));
      assert.deepEqual([c.changes[0]?.sampleIndex, c.changes[0]?.powerUw], [0, Math.fround(25)], 'Start announces the configured power at sample 0');
      assert.equal(c.changes[1]?.powerUw, Math.fround(40));
      assert.equal(c.changes[1]?.currentMa, Math.fround(new HostCalibration(table).currentForPower(1, 40)!), 'LedEvent current = host conversion');
      assert.equal(drive?.currentMa, new HostCalibration(table).currentForPower(1, 25));
      assert.equal(simDevice(URL).currentConfig!.leds[0]!.peakMa, drive!.currentMa, 'the device drives exactly the current the host computed');
    } finally {
      await rig.close();
    }
  });

  it('a recording made with a power_uw setting delivers that power within 2 % (sim meter and world truth)', async () => {
    const requestedUw = 30;
    const configPath = join(out, 'power.json');
    await writeFile(configPath, JSON.stringify({
      mode: 'continuous', sampleRateHz: 1000, detectors: [0], leds: [{ channel: 1, powerUw: requestedUw }], blockSamples: 100, outputRateHz: 10,
    }));
    const device = simDevice(URL);
    const meter = simPowerMeterOf(device);
    const truth: number[] = [];
    const readings: number[] = [];
    const poll = setInterval(() => {
      if (!device.running) return;
      truth.push(meter.truthUw(1));
      readings.push(meter.readUw());
    }, 10);
    const c = captureIo();
    try {
      const code = await acquireCommand(c.io, { device: URL, config: configPath, duration: '20s', out: join(out, 'rec'), quiet: true, json: true });
      assert.equal(code, 0, c.err());
    } finally {
      clearInterval(poll);
    }
    assert.ok(truth.length >= 10, `${truth.length} samples of the light during the recording`);
    for (const t of truth) assert.ok(Math.abs(t / requestedUw - 1) < 0.02, `delivered ${t} µW for ${requestedUw} µW`);
    const settled = readings.slice(5);
    const meanReading = settled.reduce((s, v) => s + v, 0) / settled.length;
    assert.ok(Math.abs(meanReading / requestedUw - 1) < 0.02, `meter read ${meanReading} µW`);
    const session = JSON.parse(await readFile(join(out, 'rec', 'session.json'), 'utf8')) as { calibration: { leds: Array<{ channel: number }> } | null };
    assert.ok(session.calibration?.leds.some((l) => l.channel === 1), 'the recording stores the calibration in force');
  });

  it('--check passes the undrifted unit and fails the same unit after its LED aged 15 %', async () => {
    const ok = captureIo();
    assert.equal(await calibrateCommand(ok.io, { device: URL, led: '1', meter: 'sim', check: true, out, json: true }, { settle: SETTLE }), 0, ok.err());
    const pass = JSON.parse(ok.out()) as { pass: boolean; maxAbsDriftRelative: number; points: unknown[] };
    assert.equal(pass.pass, true);
    assert.equal(pass.points.length, 3);
    assert.ok(pass.maxAbsDriftRelative < 0.01, `undrifted unit drifted ${pass.maxAbsDriftRelative}`);

    // the same unit (same seed, same serial) with its LED 15 % dimmer, carrying the calibration made before
    const rig = await Rig.connect(AGED);
    await rig.writeCalibration(stored!);
    await rig.close();
    const bad = captureIo();
    assert.equal(await calibrateCommand(bad.io, { device: AGED, led: '1', meter: 'sim', check: true, out }, { settle: SETTLE }), 1, bad.err());
    assert.match(bad.out(), /drift check FAIL: largest drift 1[45]\.\d+ %/);
    const history = (await readFile(join(out, 'SIM-0001', 'led1', 'history.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string; pass?: boolean; maxAbsDriftRelative?: number });
    assert.deepEqual(history.map((h) => [h.type, h.pass]), [['calibration', undefined], ['check', true], ['check', false]]);
    assert.ok(Math.abs(history[2]!.maxAbsDriftRelative! - 0.15) < 0.01, `aged drift ${history[2]!.maxAbsDriftRelative}`);
  });
});
