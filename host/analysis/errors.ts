// Typed errors for host/analysis. Every error names what to do about it.

/** Codes thrown by host/analysis. Stable: callers may switch on them. */
export type AnalysisErrorCode =
  | 'E_ANALYSIS_BAD_INPUT' // arrays of different lengths, too few finite samples, a bad option
  | 'E_ANALYSIS_NO_CHANNEL' // the recording lacks a channel the chosen method needs
  | 'E_ANALYSIS_TOO_LONG'; // the recording does not fit the whole-array analysis

export class AnalysisError extends Error {
  readonly code: AnalysisErrorCode;
  constructor(code: AnalysisErrorCode, message: string) {
    super(message);
    this.name = 'AnalysisError';
    this.code = code;
  }
}
