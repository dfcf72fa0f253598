// Typed errors for host/analysis. Every error names what to do about it.
import { FiberrigError } from '../../protocol/index.ts';

/** Codes thrown by host/analysis. Stable: callers may switch on them. */
export type AnalysisErrorCode =
  | 'E_ANALYSIS_BAD_INPUT' // arrays of different lengths, too few finite samples, a bad option
  | 'E_ANALYSIS_NO_CHANNEL' // the recording lacks a channel the chosen method needs
  | 'E_ANALYSIS_TOO_LONG'; // the recording does not fit the whole-array analysis

/** A FiberrigError (code, message, hint), like every host module's; the messages here carry what to do. */
export class AnalysisError extends FiberrigError {
  declare readonly code: AnalysisErrorCode;
  constructor(code: AnalysisErrorCode, message: string, hint = '') {
    super(code, message, hint);
    this.name = 'AnalysisError';
  }
}
