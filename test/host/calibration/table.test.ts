// The host's calibration converter must give exactly what the device gives
// for the same table and request (the device here: the simulator's
// CalibrationMap, behind the real wire encoding).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CalibrationMap, validateCalibrationTable } from '../../../firmware-sim/device/calibration.ts';
import { DEFAULT_BOARD, deviceInfoOf } from '../../../firmware-sim/device/board.ts';
import { type CalibrationTableInit, type DeviceInfo, pb } from '../../../protocol/index.ts';
import { CalibrationError } from '../../../host/calibration/errors.ts';
import { checkLedCalibration, HostCalibration, sameTable, withLedCalibration } from '../../../host/calibration/table.ts';

/** A valid table for LED `channel`: sorted currents, non-decreasing powers (flat stretches included), last above first. */
const ledTable = (channel: number) =>
  fc.record({
    start: fc.double({ min: 0, max: 20, noNaN: true }),
    steps: fc.array(fc.record({ dMa: fc.double({ min: 0.05, max: 8, noNaN: true }), dUw: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 20, noNaN: true })) }), { minLength: 1, maxLength: 23 }),
    p0: fc.double({ min: 0, max: 5, noNaN: true }),
  }).map(({ start, steps, p0 }) => {
    let ma = Math.fround(start);
    let uw = Math.fround(p0);
    const points = [{ currentMa: ma, powerUw: uw }];
    for (const s of steps) {
      ma = Math.fround(ma + s.dMa);
      uw = Math.fround(uw + s.dUw);
      points.push({ currentMa: ma, powerUw: uw });
    }
    points[points.length - 1]!.powerUw = Math.fround(Math.max(uw, points[0]!.powerUw + 1));
    return { channel, wavelengthNm: 470, points, calibratedUnixS: 1_700_000_000, label: 'led=a' };
  }).filter((l) => l.points[l.points.length - 1]!.currentMa <= 100 && l.points.every((p, i) => i === 0 || p.currentMa > l.points[i - 1]!.currentMa));

/** The table as the device holds it: through the wire encoding (float32). */
function overTheWire(table: CalibrationTableInit): CalibrationTableInit {
  return pb.CalibrationTable.decode(pb.CalibrationTable.encode(table).finish()) as unknown as CalibrationTableInit;
}

describe('host calibration table: the same conversion as the device', () => {
  it('currentForPower and powerForCurrent agree bit for bit with the simulator for any valid table', () => {
    fc.assert(fc.property(ledTable(1), fc.array(fc.double({ min: -5, max: 250, noNaN: true }), { minLength: 1, maxLength: 20 }), (led, probes) => {
      const table = { leds: [led] };
      assert.equal(validateCalibrationTable(table, DEFAULT_BOARD), null);
      const device = new CalibrationMap(overTheWire(table));
      const host = new HostCalibration(table); // unrounded input: the host rounds as the wire does
      const pts = led.points;
      const powers = [...probes, ...pts.map((p) => p.powerUw), ...pts.map((p) => p.powerUw * 1.0000001)];
      for (const p of powers) {
        // the device sees the float32 of what the host sends
        assert.equal(host.currentForPower(1, p), device.currentForPower(1, Math.fround(p)), `power ${p}`);
      }
      const currents = [...probes.map((p) => p / 2), ...pts.map((p) => p.currentMa)];
      for (const ma of currents) assert.equal(host.powerForCurrent(1, ma), device.powerForCurrent(1, ma), `current ${ma}`);
      assert.deepEqual(host.rangeUw(1), device.rangeUw(1));
    }), { numRuns: 300 });
  });

  it('never extrapolates: a power outside the table is undefined on both sides and a typed error on the host', () => {
    const table = { leds: [{ channel: 2, wavelengthNm: 560, points: [{ currentMa: 5, powerUw: 2 }, { currentMa: 50, powerUw: 20 }] }] };
    const host = new HostCalibration(table);
    const device = new CalibrationMap(table);
    for (const p of [1.99, 20.01, Number.NaN]) {
      assert.equal(host.currentForPower(2, p), undefined);
      assert.equal(device.currentForPower(2, p), undefined);
    }
    assert.equal(host.currentForPower(2, 11), 27.5);
    assert.throws(() => host.requireCurrentForPower(2, 25), (e: unknown) => e instanceof CalibrationError && e.code === 'E_POWER_OUT_OF_RANGE' && /2\.\.20 µW/.test(e.message));
    assert.throws(() => host.requireCurrentForPower(0, 5), (e: unknown) => e instanceof CalibrationError && e.code === 'E_NOT_CALIBRATED');
    assert.equal(host.powerForCurrent(2, 4.9), 0);
    assert.deepEqual(host.rangeMa(2), { minMa: 5, maxMa: 50 });
  });

  it('checkLedCalibration accepts what the device accepts and rejects what it rejects', () => {
    const info = pb.DeviceInfo.decode(pb.DeviceInfo.encode(deviceInfoOf(DEFAULT_BOARD, new Set())).finish()) as unknown as DeviceInfo;
    const good = { channel: 1, wavelengthNm: 470, points: [{ currentMa: 5, powerUw: 1 }, { currentMa: 10, powerUw: 3 }] };
    checkLedCalibration(good, info);
    const bad = [
      { ...good, channel: 9 },
      { ...good, wavelengthNm: 405 },
      { ...good, points: [{ currentMa: 5, powerUw: 1 }] },
      { ...good, points: [{ currentMa: 5, powerUw: 3 }, { currentMa: 10, powerUw: 1 }] },
      { ...good, points: [{ currentMa: 10, powerUw: 1 }, { currentMa: 5, powerUw: 3 }] },
      { ...good, points: [{ currentMa: 5, powerUw: 1 }, { currentMa: 150, powerUw: 3 }] },
      { ...good, points: [{ currentMa: 5, powerUw: 1 }, { currentMa: 10, powerUw: 1 }] },
    ];
    for (const b of bad) {
      assert.notEqual(validateCalibrationTable({ leds: [b] }, DEFAULT_BOARD), null, JSON.stringify(b));
      assert.throws(() => checkLedCalibration(b, info), CalibrationError, JSON.stringify(b));
    }
  });

  it('withLedCalibration replaces one channel and keeps the others; sameTable compares as stored', () => {
    const a = { channel: 0, wavelengthNm: 405, points: [{ currentMa: 5, powerUw: 1 }, { currentMa: 10, powerUw: 3 }] };
    const b = { channel: 1, wavelengthNm: 470, points: [{ currentMa: 5, powerUw: 2 }, { currentMa: 10, powerUw: 4 }] };
    const b2 = { ...b, points: [{ currentMa: 5, powerUw: 2.5 }, { currentMa: 10, powerUw: 4.1 }] };
    const t = withLedCalibration(withLedCalibration({ leds: [b] }, a), b2);
    assert.deepEqual(t.leds?.map((l) => l.channel), [0, 1]);
    assert.equal(t.leds?.[1]?.points?.[0]?.powerUw, 2.5);
    assert.ok(sameTable(t, overTheWire(t)));
    assert.ok(!sameTable(t, { leds: [a, b] }));
  });
});
