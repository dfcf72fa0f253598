import { FiberrigError } from '../../protocol/index.ts';

/** Calibration could not be done, used or checked (bad table, power outside the calibrated range, meter failure, …). */
export class CalibrationError extends FiberrigError {
  constructor(code: string, message: string, hint: string, options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.name = 'CalibrationError';
  }
}

/** The technician aborted a calibration (nothing was written). */
export class CalibrationAborted extends CalibrationError {
  constructor(message = 'calibration aborted by the technician') {
    super('E_CALIBRATION_ABORTED', message, 'nothing was written to the device or to disk; run fiberrig calibrate again');
    this.name = 'CalibrationAborted';
  }
}
