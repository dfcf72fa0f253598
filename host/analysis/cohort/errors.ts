// Typed errors of `fiberrig cohort` (host/analysis/cohort). Every message says what to do.
import { FiberrigError } from '../../../protocol/index.ts';

/** Codes thrown by host/analysis/cohort. Stable: callers may switch on them. */
export type CohortErrorCode =
  | 'E_COHORT_BAD_OPTION' // an option out of range or missing (no groups, --animals 0, ...)
  | 'E_COHORT_BAD_GROUP' // a --group that is not NAME=REC[,REC...], or a name used twice
  | 'E_COHORT_NO_RECORDING' // a --group names a directory that is not a fiberrig recording
  | 'E_COHORT_OUT_EXISTS' // the output directory exists already
  | 'E_COHORT_ANIMAL_FAILED' // one or more animals could not be recorded or analysed (the others are in the output)
  | 'E_COHORT_ABORTED'; // stopped (Ctrl-C, or the caller's AbortSignal) before every animal was done: nothing written

export class CohortError extends FiberrigError {
  declare readonly code: CohortErrorCode;
  constructor(code: CohortErrorCode, message: string, hint = '') {
    super(code, message, hint);
    this.name = 'CohortError';
  }
}
