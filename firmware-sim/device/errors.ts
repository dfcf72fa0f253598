// Typed errors of the simulator itself (bad options, bad sim:// URLs, misuse
// of the test hooks). Errors the simulated firmware reports to a host travel
// as protocol Error messages, never as exceptions.
import { FiberrigError } from '../../protocol/index.ts';

export class SimError extends FiberrigError {
  constructor(code: string, message: string, hint: string, options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.name = 'SimError';
  }
}
