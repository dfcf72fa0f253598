// Power meters the host reads by itself, chosen with `--meter KIND[:ARGS]`.
//
// A kind of meter registers a MeterDriver: scpi (a SCPI meter on a serial
// port) is built in; the simulator's meter registers through the one module
// where host meets the simulator (host/cli/devices.ts), as sim:// devices do,
// so calibration code never imports the simulator. chooseMeter() checks a
// --meter spec against the registered drivers before anything is opened.
// The manual meter (the technician typing readings) is not a PowerMeter: the
// calibrate command handles `--meter manual` itself.
import { CalibrationError } from './errors.ts';
import { parseScpiSpec, ScpiPowerMeter } from './scpi.ts';

export type MeterKind = 'manual' | 'sim' | 'scpi';

/** What a calibration file records about the meter. */
export interface MeterInfo {
  kind: MeterKind;
  model: string;
  serialNumber: string;
  /** Where it was read (a serial path for SCPI). */
  path?: string;
  /** Wavelength correction set on the meter, nm (0 = not set by fiberrig). */
  wavelengthNm?: number;
}

/** A meter the host reads by itself. */
export interface PowerMeter {
  readonly info: MeterInfo;
  /** Sets the meter's wavelength correction (before measuring). */
  setWavelengthNm?(nm: number): Promise<void>;
  /** One reading at the fiber tip, µW. */
  readUw(): Promise<number>;
  close(): Promise<void>;
}

/** A kind of power meter `--meter` can name. */
export interface MeterDriver {
  /** The word before the first ':' of a --meter spec (`scpi` for scpi:PATH). */
  readonly kind: Exclude<MeterKind, 'manual'>;
  /** How a spec for it is written, for hints (e.g. `scpi:PATH[?baud=N]`). */
  readonly usage: string;
  /** Refuses a spec (or a device it cannot read) with a typed error, before anything is opened. */
  check(spec: string, deviceUrl: string): void;
  /** Opens the meter for a calibration of the device at `deviceUrl` (already open). */
  open(spec: string, deviceUrl: string): Promise<PowerMeter>;
}

/** A checked --meter choice, opened once the device is. */
export interface ChosenMeter {
  readonly kind: MeterDriver['kind'];
  open(): Promise<PowerMeter>;
}

/** The built-in SCPI meter (`--meter scpi:PATH[?baud=N]`). */
export const SCPI_METER: MeterDriver = {
  kind: 'scpi',
  usage: 'scpi:PATH[?baud=N]',
  check: (spec) => {
    parseScpiSpec(spec);
  },
  open: (spec) => {
    const { path, baudRate } = parseScpiSpec(spec);
    return ScpiPowerMeter.open(path, { baudRate });
  },
};

const drivers = new Map<string, MeterDriver>([[SCPI_METER.kind, SCPI_METER]]);

/** Makes `--meter KIND[:…]` read through `driver` (replaces an earlier driver of that kind). */
export function registerMeter(driver: MeterDriver): void {
  drivers.set(driver.kind, driver);
}

/** Every --meter form, manual first (for hints and help). */
export function meterUsages(): string[] {
  return ['manual', ...[...drivers.values()].map((d) => d.usage)];
}

/**
 * The registered meter a --meter spec names, checked against the device URL
 * (E_METER with a hint when no registered meter matches or the driver refuses).
 */
export function chooseMeter(spec: string, deviceUrl: string): ChosenMeter {
  const kind = spec.trim().split(':', 1)[0]!.toLowerCase();
  const driver = drivers.get(kind);
  if (!driver) {
    throw new CalibrationError('E_METER', `--meter ${spec}: no such power meter`, `use one of: ${meterUsages().join(', ')}`);
  }
  driver.check(spec.trim(), deviceUrl.trim());
  return { kind: driver.kind, open: () => driver.open(spec.trim(), deviceUrl.trim()) };
}
