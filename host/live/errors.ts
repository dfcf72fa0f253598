import { FiberrigError } from '../../protocol/index.ts';

/** Live view errors (codes `E_LIVE_*`). */
export class LiveError extends FiberrigError {
  constructor(code: string, message: string, hint: string, options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.name = 'LiveError';
  }
}
