// The simulated board's non-volatile memory: the calibration table (stored
// encoded, with a CRC as flash firmware would) and the reset counter. It
// outlives device resets; pass the same store to a new SimDevice to model a
// power cycle that keeps flash. Fault hooks make writes or reads fail
// (ERROR_CODE_STORAGE) or corrupt the stored table (self-test FAIL).
// calibrationMapOf() is what the firmware does at boot: read the table into RAM.
import { crc32c, pb, type CalibrationTable, type CalibrationTableInit } from '../../protocol/index.ts';
import { CalibrationMap } from './calibration.ts';

export class StorageFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageFailure';
  }
}

export class NonVolatileStore {
  /** Device resets since this store was created (Reset command, reset faults, bootloader exits). */
  resets = 0;
  /** Fault hooks: make the next writes / reads fail. */
  failWrites = false;
  failReads = false;
  /** Number of completed calibration writes (wear counter, for tests). */
  writes = 0;
  private calibrationBytes: Uint8Array | null = null;
  private calibrationCrc = 0;

  get hasCalibration(): boolean {
    return this.calibrationBytes !== null;
  }

  writeCalibration(table: CalibrationTableInit): void {
    if (this.failWrites) throw new StorageFailure('flash write failed');
    const bytes = pb.CalibrationTable.encode(table).finish();
    this.calibrationBytes = bytes.slice();
    this.calibrationCrc = crc32c(this.calibrationBytes);
    this.writes++;
  }

  /** The stored table (empty when none). Throws StorageFailure on a read fault or a CRC mismatch. */
  readCalibration(): CalibrationTable {
    if (this.failReads) throw new StorageFailure('flash read failed');
    if (!this.calibrationBytes) return pb.CalibrationTable.decode(new Uint8Array(0)) as unknown as CalibrationTable;
    if (!this.calibrationIntact()) throw new StorageFailure('calibration CRC mismatch');
    return pb.CalibrationTable.decode(this.calibrationBytes) as unknown as CalibrationTable;
  }

  /** True when no table is stored or the stored table matches its CRC. */
  calibrationIntact(): boolean {
    return this.calibrationBytes === null || crc32c(this.calibrationBytes) === this.calibrationCrc;
  }

  /** Fault hook: flips one bit of the stored table (its CRC no longer matches). */
  corruptCalibration(): void {
    if (this.calibrationBytes && this.calibrationBytes.length > 0) this.calibrationBytes[0]! ^= 0x01;
  }

  eraseCalibration(): void {
    if (this.failWrites) throw new StorageFailure('flash erase failed');
    this.calibrationBytes = null;
    this.calibrationCrc = 0;
  }
}

/** The calibration as the firmware loads it at boot: the stored table, or none when flash fails to read or fails its CRC. */
export function calibrationMapOf(nv: NonVolatileStore): CalibrationMap {
  try {
    return new CalibrationMap(nv.readCalibration());
  } catch {
    return new CalibrationMap(null);
  }
}
