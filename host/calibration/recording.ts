// What a recording stores about LED power: the calibration in force, what
// each LED was asked for (power or current) and the current the table turns a
// power into (computed on the host with the device's rule: a power outside the
// calibrated range is an error here, before Configure, as it is on the
// device), and the power the device actually reported commanding (Status and
// LedEvent power_uw) during the run.
//
// For `fiberrig acquire` (host/cli/commands/acquire.ts):
//   const table = rig.info.calibrationStored ? await rig.readCalibration() : null;
//   const drives = ledDrivesInForce(wire, table, rig.info);   // before rig.configure(wire); throws CalibrationError
//   const powerLog = new CommandedPowerLog();
//   subscriptions.add(rig.status$.subscribe((s) => powerLog.status(s)));
//   subscriptions.add(rig.ledEvents$.subscribe((e) => powerLog.ledEvent(e)));
//   ... session / summary: { ledDrives: drives, commandedPower: powerLog.toJSON() }
import type { AcquisitionConfigInit, CalibrationTableInit, DeviceInfo, LedEvent, Status } from '../../protocol/index.ts';
import { HostCalibration } from './table.ts';

export interface LedDriveRecord {
  channel: number;
  wavelengthNm: number | null;
  /** The drive as configured. */
  requestedPowerUw: number | null;
  requestedCurrentMa: number | null;
  /** The current the device drives (for a power: the table's conversion, identical to the device's). */
  currentMa: number;
  /** The power that current gives by the table, µW; null when the LED is not calibrated. */
  powerUw: number | null;
  /** The LED's calibration in force, or null. */
  calibration: { label: string; calibratedUnixS: number; rangeUw: { minUw: number; maxUw: number }; rangeMa: { minMa: number; maxMa: number } } | null;
}

/**
 * The LED drives of `config` under the calibration `table` (as read from the
 * device). Throws CalibrationError (E_NOT_CALIBRATED, E_POWER_OUT_OF_RANGE)
 * for a power the table cannot give: never an extrapolation.
 */
export function ledDrivesInForce(config: AcquisitionConfigInit, table: CalibrationTableInit | null | undefined, info?: Pick<DeviceInfo, 'leds'>): LedDriveRecord[] {
  const cal = new HostCalibration(table);
  return (config.leds ?? []).map((l) => {
    const channel = l.channel ?? 0;
    const entry = cal.entry(channel);
    const calibration = entry
      ? { label: entry.label ?? '', calibratedUnixS: Number(entry.calibratedUnixS ?? 0), rangeUw: cal.rangeUw(channel)!, rangeMa: cal.rangeMa(channel)! }
      : null;
    const wavelengthNm = info?.leds.find((x) => x.id === channel)?.wavelengthNm ?? (entry?.wavelengthNm || null);
    if (l.powerUw !== undefined && l.powerUw !== null) {
      const currentMa = cal.requireCurrentForPower(channel, l.powerUw);
      return { channel, wavelengthNm, requestedPowerUw: l.powerUw, requestedCurrentMa: null, currentMa, powerUw: Math.fround(l.powerUw), calibration };
    }
    const currentMa = l.currentMa ?? 0;
    const p = cal.powerForCurrent(channel, Math.fround(currentMa));
    return { channel, wavelengthNm, requestedPowerUw: null, requestedCurrentMa: currentMa, currentMa, powerUw: entry && p > 0 ? p : null, calibration };
  });
}

export interface CommandedPower {
  channel: number;
  /** The drive the device reported last (Status while running, or LedEvent). */
  currentMa: number;
  powerUw: number;
  /** Range of non-zero powers reported while running. */
  minPowerUw: number | null;
  maxPowerUw: number | null;
  /** LedEvents: drive changes, by device sample index. */
  changes: Array<{ sampleIndex: number; sessionIndex?: number; currentMa: number; powerUw: number }>;
}

/** Collects the power the device reports commanding, per LED, from Status and LedEvent messages. */
export class CommandedPowerLog {
  private readonly byChannel = new Map<number, CommandedPower>();

  private of(channel: number): CommandedPower {
    let c = this.byChannel.get(channel);
    if (!c) {
      c = { channel, currentMa: 0, powerUw: 0, minPowerUw: null, maxPowerUw: null, changes: [] };
      this.byChannel.set(channel, c);
    }
    return c;
  }

  private note(c: CommandedPower, powerUw: number): void {
    if (!(powerUw > 0)) return;
    c.minPowerUw = c.minPowerUw === null ? powerUw : Math.min(c.minPowerUw, powerUw);
    c.maxPowerUw = c.maxPowerUw === null ? powerUw : Math.max(c.maxPowerUw, powerUw);
  }

  status(s: Pick<Status, 'running' | 'leds'>): void {
    if (!s.running) return;
    for (const l of s.leds) {
      if (!(l.currentMa > 0)) continue;
      const c = this.of(l.channel);
      c.currentMa = l.currentMa;
      c.powerUw = l.powerUw;
      this.note(c, l.powerUw);
    }
  }

  ledEvent(e: Pick<LedEvent, 'channel' | 'currentMa' | 'powerUw' | 'sampleIndex'> & { sessionIndex?: number }): void {
    const c = this.of(e.channel);
    c.currentMa = e.currentMa;
    c.powerUw = e.powerUw;
    this.note(c, e.powerUw);
    c.changes.push({ sampleIndex: e.sampleIndex, ...(e.sessionIndex !== undefined ? { sessionIndex: e.sessionIndex } : {}), currentMa: e.currentMa, powerUw: e.powerUw });
  }

  toJSON(): CommandedPower[] {
    return [...this.byChannel.values()].sort((a, b) => a.channel - b.channel).map((c) => structuredClone(c));
  }
}
