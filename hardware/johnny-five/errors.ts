import { FiberrigError } from '../../protocol/index.ts';

/** Errors of the johnny-five IO plugin: a pin or mode the board lacks, or an IO feature it cannot provide. */
export class FiberrigIOError extends FiberrigError {
  constructor(code: string, message: string, hint: string, options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.name = 'FiberrigIOError';
  }
}
