import { FiberrigError } from '../../protocol/index.ts';

/** Aligning a group of recordings by their sync edges failed (codes `E_ALIGN_*`): the message names the recording. */
export class AlignError extends FiberrigError {
  constructor(code: string, message: string, hint: string, options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.name = 'AlignError';
  }
}
