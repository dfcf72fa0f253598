import { FiberrigError } from '../../protocol/index.ts';

export class PipelineError extends FiberrigError {
  constructor(code: string, message: string, hint: string) {
    super(code, message, hint);
    this.name = 'PipelineError';
  }
}
