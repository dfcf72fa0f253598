// --meter: choosing a registered power meter (host/calibration/meters.ts),
// and the simulator's meter registered through host/cli/devices.ts.
import assert from 'node:assert/strict';
import { CalibrationError } from '../../../host/calibration/errors.ts';
import { chooseMeter, type MeterDriver, meterUsages, type PowerMeter, registerMeter, SCPI_METER } from '../../../host/calibration/meters.ts';
import '../../../host/cli/devices.ts';
import { Rig } from '../../../host/rig/rig.ts';
import { useSimPorts } from '../../support/sim-ports.ts';

const meterError = (pattern: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof CalibrationError, String(e));
  assert.equal(e.code, 'E_METER');
  assert.match(e.message, pattern);
  assert.ok(e.hint.length > 0, 'a hint');
  return true;
};

describe('host calibration: choosing a power meter (--meter)', () => {
  const ports = useSimPorts();

  it('refuses a meter nobody registered with E_METER, the hint listing every registered form', () => {
    assert.throws(() => chooseMeter('usb-thing', 'sim://dark'), (e: unknown) => {
      meterError(/--meter usb-thing: no such power meter/)(e);
      const hint = (e as CalibrationError).hint;
      for (const form of ['manual', 'sim', 'scpi:PATH[?baud=N]']) assert.ok(hint.includes(form), `${form} in "${hint}"`);
      return true;
    });
    assert.deepEqual(meterUsages().slice(0, 1), ['manual']);
  });

  it('checks the spec with the chosen driver before anything is opened', () => {
    assert.throws(() => chooseMeter('scpi:/dev/ttyUSB9?baud=fast', 'sim://dark'), meterError(/bad baud rate "fast"/));
    assert.throws(() => chooseMeter('scpi', 'sim://dark'), meterError(/is not scpi:PATH/));
    assert.throws(() => chooseMeter('sim', '/dev/ttyACM0'), meterError(/--meter sim reads a simulated device, and \/dev\/ttyACM0 is not one/));
    assert.throws(() => chooseMeter('sim:fast', 'sim://dark'), meterError(/takes no options/));
    assert.equal(chooseMeter('SIM', 'sim://dark').kind, 'sim', 'the kind is case-insensitive');
  });

  it('opens a registered driver with the spec and the device URL', async () => {
    const seen: string[] = [];
    const fake: PowerMeter = { info: { kind: 'scpi', model: 'fake', serialNumber: '7' }, readUw: async () => 1.5, close: async () => undefined };
    const driver: MeterDriver = {
      kind: 'scpi', usage: 'scpi:PATH[?baud=N]',
      check: (spec, url) => { seen.push(`check ${spec} ${url}`); },
      open: async (spec, url) => { seen.push(`open ${spec} ${url}`); return fake; },
    };
    registerMeter(driver);
    try {
      const chosen = chooseMeter(' scpi:/dev/ttyUSB0 ', ' /dev/ttyACM0 ');
      assert.deepEqual(seen, ['check scpi:/dev/ttyUSB0 /dev/ttyACM0']);
      assert.equal(await chosen.open(), fake);
      assert.deepEqual(seen.at(-1), 'open scpi:/dev/ttyUSB0 /dev/ttyACM0');
    } finally {
      registerMeter(SCPI_METER); // the built-in driver back (registerMeter replaces by kind)
    }
  });

  it('the sim meter reads the simulated device behind the URL the command opened, and refuses when there is none', async () => {
    const url = 'sim://dark?seed=21&speed=10';
    await assert.rejects(chooseMeter('sim', url).open(), meterError(/there is none/));
    const { device } = ports.createPort(url);
    const rig = await Rig.connect(url);
    try {
      const meter = await chooseMeter('sim', url).open();
      assert.deepEqual({ kind: meter.info.kind, serial: meter.info.serialNumber }, { kind: 'sim', serial: `PM-${device.board.serialNumber}` });
      await meter.setWavelengthNm?.(470);
      assert.equal(meter.info.wavelengthNm, 470);
      assert.ok(Math.abs(await meter.readUw()) < 0.1, 'no LED lit: about dark');
    } finally {
      await rig.close();
    }
  });
});
