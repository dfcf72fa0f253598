import { FiberrigError } from '../../protocol/index.ts';

/** Raw log, session file and recording directory errors (codes `E_RAWLOG_*`, `E_RECORDING_*`). */
export class RecordError extends FiberrigError {
  constructor(code: string, message: string, hint: string, options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.name = 'RecordError';
  }
}
