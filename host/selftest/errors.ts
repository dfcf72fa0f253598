import { FiberrigError } from '../../protocol/index.ts';

export class SelfTestError extends FiberrigError {
  constructor(code: string, message: string, hint: string, options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.name = 'SelfTestError';
  }
}
