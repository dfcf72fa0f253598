// Typed errors of the simulated world. Codes are stable (E_SIM_*), each with a hint.
import { FiberrigError } from '../../protocol/src/errors.ts';

export type WorldErrorCode =
  | 'E_SIM_UNKNOWN_SCENARIO'
  | 'E_SIM_BAD_BOARD'
  | 'E_SIM_BAD_REQUEST'
  | 'E_SIM_BAD_INDEX'
  | 'E_SIM_BAD_OPTION'
  | 'E_SIM_SCENARIO_FILE';

export class WorldError extends FiberrigError {
  declare readonly code: WorldErrorCode;

  constructor(code: WorldErrorCode, message: string, hint: string, options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.name = 'WorldError';
  }
}
