// The host's view of a device calibration table: the same piecewise-linear
// mA <-> µW conversion the device does (firmware-sim/device/calibration.ts and
// the C firmware), so the host can check a power_uw drive before sending it,
// say which current it will become, and record it. The rule (fiberrig.proto,
// LedCalibration): points sorted by strictly increasing current, power
// non-decreasing, the last power above the first; between points linear;
// outside the first and last point nothing (never extrapolated).
//
// Exactness: the wire carries every table value and every requested power as
// float32. HostCalibration rounds the table and the requested power to float32
// (Math.fround) and then computes in float64 exactly as the device does, so
// the host and the device get bit-identical currents for the same request
// (test/host/calibration/table.test.ts checks this against the simulator).
import { CalibrationCurves, type CalibrationTable, type CalibrationTableInit, type DeviceInfo } from '../../protocol/index.ts';
import { CalibrationError } from './errors.ts';

/** The C firmware's bound (nanopb max_count), also enforced by the simulator. */
export const MAX_CALIBRATION_POINTS = 24;

export type LedCalibrationInit = NonNullable<CalibrationTableInit['leds']>[number];
export type LedCalibrationEntry = CalibrationTable['leds'][number];

export class HostCalibration extends CalibrationCurves {
  constructor(readonly table: CalibrationTableInit | null | undefined) {
    super(table);
  }

  get channels(): number[] {
    return this.channelIds();
  }

  /** The table entry of a channel, or undefined. */
  entry(channel: number): LedCalibrationInit | undefined {
    return (this.table?.leds ?? []).find((l) => (l.channel ?? 0) === channel);
  }

  /** Like currentForPower, but a power the table cannot give is a CalibrationError naming the range. */
  requireCurrentForPower(channel: number, powerUw: number): number {
    const range = this.rangeUw(channel);
    if (!range) {
      throw new CalibrationError('E_NOT_CALIBRATED', `LED ${channel} has no calibration on this device`, `calibrate it first (fiberrig calibrate --led ${channel}) or drive it with currentMa`);
    }
    const ma = this.currentForPower(channel, powerUw);
    if (ma === undefined) {
      throw new CalibrationError(
        'E_POWER_OUT_OF_RANGE', `${powerUw} µW is outside LED ${channel}'s calibrated range ${fmt(range.minUw)}..${fmt(range.maxUw)} µW`,
        'request a power inside the calibrated range (never extrapolated), or recalibrate over a wider current range',
      );
    }
    return ma;
  }
}

const fmt = (v: number): string => Number(v.toPrecision(4)).toString();

/**
 * Checks an entry against the rules the device enforces (so a bad table is
 * caught before WriteCalibration): the channel exists, wavelength matches,
 * 2..24 points, currents finite, >= 0, strictly increasing and within the
 * pulsed limit, powers finite, >= 0, non-decreasing, the last above the first.
 * Values are checked as float32, as the device will see them.
 */
export function checkLedCalibration(entry: LedCalibrationInit, info: Pick<DeviceInfo, 'leds'>): void {
  const channel = entry.channel ?? 0;
  const bad = (message: string): never => {
    throw new CalibrationError('E_CALIBRATION_TABLE', `LED ${channel} calibration: ${message}`, 'this is a bug in the fit or the table builder; report it with the calibration file');
  };
  const led = info.leds.find((l) => l.id === channel);
  if (!led) bad('no such LED on this device');
  const wl = entry.wavelengthNm ?? 0;
  if (wl !== 0 && wl !== led!.wavelengthNm) bad(`wavelength ${wl} nm but the LED is ${led!.wavelengthNm} nm`);
  const points = entry.points ?? [];
  if (points.length < 2 || points.length > MAX_CALIBRATION_POINTS) bad(`${points.length} points (needs 2..${MAX_CALIBRATION_POINTS})`);
  let prevMa = Number.NEGATIVE_INFINITY;
  let prevUw = Number.NEGATIVE_INFINITY;
  for (const p of points) {
    const ma = Math.fround(p.currentMa ?? 0);
    const uw = Math.fround(p.powerUw ?? 0);
    if (!(Number.isFinite(ma) && ma >= 0)) bad(`current ${ma} mA`);
    if (ma > led!.maxCurrentPulsedMa) bad(`current ${ma} mA above the ${led!.maxCurrentPulsedMa} mA limit`);
    if (!(Number.isFinite(uw) && uw >= 0)) bad(`power ${uw} µW`);
    if (ma <= prevMa) bad('currents not strictly increasing');
    if (uw < prevUw) bad('power decreases with current');
    prevMa = ma;
    prevUw = uw;
  }
  if (Math.fround(points[points.length - 1]!.powerUw ?? 0) <= Math.fround(points[0]!.powerUw ?? 0)) bad('power never increases');
}

/** A copy of `table` with `entry` replacing its channel's entry (others kept), sorted by channel. */
export function withLedCalibration(table: CalibrationTableInit | null | undefined, entry: LedCalibrationInit): CalibrationTableInit {
  const channel = entry.channel ?? 0;
  const leds = (table?.leds ?? []).filter((l) => (l.channel ?? 0) !== channel).map((l) => structuredClone(l));
  leds.push(structuredClone(entry));
  leds.sort((a, b) => (a.channel ?? 0) - (b.channel ?? 0));
  return { leds };
}

/** True when two tables hold the same entries (float32 comparison, as stored). */
export function sameTable(a: CalibrationTableInit | null | undefined, b: CalibrationTableInit | null | undefined): boolean {
  const la = [...(a?.leds ?? [])].sort((x, y) => (x.channel ?? 0) - (y.channel ?? 0));
  const lb = [...(b?.leds ?? [])].sort((x, y) => (x.channel ?? 0) - (y.channel ?? 0));
  if (la.length !== lb.length) return false;
  return la.every((x, i) => {
    const y = lb[i]!;
    const px = x.points ?? [];
    const py = y.points ?? [];
    return (x.channel ?? 0) === (y.channel ?? 0) && (x.wavelengthNm ?? 0) === (y.wavelengthNm ?? 0) && (x.label ?? '') === (y.label ?? '')
      && Number(x.calibratedUnixS ?? 0) === Number(y.calibratedUnixS ?? 0) && px.length === py.length
      && px.every((p, j) => Math.fround(p.currentMa ?? 0) === Math.fround(py[j]!.currentMa ?? 0) && Math.fround(p.powerUw ?? 0) === Math.fround(py[j]!.powerUw ?? 0));
  });
}
