import { FiberrigError } from '../../protocol/index.ts';

/** Replay device errors (codes `E_REPLAY_*`): a bad replay URL, a recording that cannot be served. */
export class ReplayError extends FiberrigError {
  constructor(code: string, message: string, hint: string, options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.name = 'ReplayError';
  }
}
