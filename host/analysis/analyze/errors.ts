// Typed errors of `fiberrig analyze`'s output step. Analysis errors proper are AnalysisError (../errors.ts).
import { FiberrigError } from '../../../protocol/index.ts';

export type AnalyzeErrorCode =
  | 'E_ANALYZE_OUT_EXISTS' // --out names an existing directory that is not an earlier analysis
  | 'E_ANALYZE_OUT_INSIDE'; // --out would be written somewhere it must not (e.g. it is the recording itself)

export class AnalyzeError extends FiberrigError {
  declare readonly code: AnalyzeErrorCode;
  constructor(code: AnalyzeErrorCode, message: string, hint = '') {
    super(code, message, hint);
    this.name = 'AnalyzeError';
  }
}
