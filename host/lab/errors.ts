import { FiberrigError } from '../../protocol/index.ts';

/** Lab (NATS) errors: codes `E_LAB_*`; each says what to do. */
export class LabError extends FiberrigError {
  constructor(code: string, message: string, hint: string, options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.name = 'LabError';
  }
}

/** What a refused command's reply carries. */
export interface LabErrorReply {
  ok: false;
  error: { code: string; message: string; hint: string };
}

export function errorReply(error: unknown): LabErrorReply {
  if (error instanceof FiberrigError) return { ok: false, error: { code: error.code, message: error.message, hint: error.hint } };
  return { ok: false, error: { code: 'E_LAB_INTERNAL', message: (error as Error)?.message ?? String(error), hint: 'see the agent\'s stderr' } };
}
