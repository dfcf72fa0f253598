import { ErrorCode, FiberrigError } from '../../protocol/index.ts';

/** The device answered a command with an Error reply. */
export class DeviceError extends FiberrigError {
  /** The wire error code, e.g. 'INVALID_CONFIG'. */
  readonly deviceCode: string;
  /** Dotted path of the offending field, when the device named one. */
  readonly field: string;

  constructor(code: number, message: string, field: string) {
    const name = (ErrorCode[code] ?? `ERROR_CODE_${code}`).replace(/^ERROR_CODE_/, '');
    super(`E_DEVICE_${name}`, `device refused: ${message}${field ? ` (field ${field})` : ''}`, hintFor(name, field));
    this.name = 'DeviceError';
    this.deviceCode = name;
    this.field = field;
  }
}

function hintFor(code: string, field: string): string {
  switch (code) {
    case 'INVALID_CONFIG': return `fix ${field || 'the configuration'} and configure again`;
    case 'LIMIT_EXCEEDED': return 'lower the LED drive to within the board limit `fiberrig info --device URL` shows';
    case 'BUSY': return 'stop the acquisition first';
    case 'NOT_CONFIGURED': return 'configure before starting';
    case 'UNSUPPORTED': return 'the device lacks this capability (its modes and limits: `fiberrig info --device URL`)';
    case 'VERSION_MISMATCH': return 'flash firmware that matches this fiberrig version';
    case 'UNKNOWN_CHANNEL': return `${field || 'a channel id'} does not exist on this board; \`fiberrig info --device URL\` lists its LEDs, detectors, aux inputs and digital lines`;
    case 'NOT_CALIBRATED': return 'calibrate the LED (fiberrig calibrate) or set current_ma instead of power_uw';
    case 'STORAGE': return 'the device could not write its non-volatile memory; retry, then report the board';
    default: return 'run again with DEBUG=fiberrig:* to see the link traffic on stderr, and check the device\'s log';
  }
}

/** A command got no reply in time, or the link went away while waiting. */
export class LinkError extends FiberrigError {
  constructor(code: string, message: string, hint: string, options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.name = 'LinkError';
  }
}
