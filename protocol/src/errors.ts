// Typed errors shared by every fiberrig package: each carries a stable code
// and a hint that tells the user what to do about it.

export class FiberrigError extends Error {
  readonly code: string;
  readonly hint: string;

  constructor(code: string, message: string, hint: string, options?: { cause?: unknown }) {
    super(hint ? `${message} — ${hint}` : message, options);
    this.name = 'FiberrigError';
    this.code = code;
    this.hint = hint;
  }
}

/** Raised for malformed or out-of-contract wire data produced locally (never for bytes received: those are counted, not thrown). */
export class ProtocolError extends FiberrigError {
  constructor(code: string, message: string, hint: string, options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.name = 'ProtocolError';
  }
}
