import { FiberrigError } from '../../protocol/index.ts';

/** A device could not be reached, opened or kept. */
export class TransportError extends FiberrigError {
  constructor(code: string, message: string, hint: string, options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.name = 'TransportError';
  }
}
