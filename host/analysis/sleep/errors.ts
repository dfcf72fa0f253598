// Typed errors of sleep scoring and hypnogram import. Every error says what to do.
import { FiberrigError } from '../../../protocol/index.ts';

/** Stable codes thrown by host/analysis/sleep. */
export type SleepErrorCode =
  | 'E_SLEEP_BAD_INPUT' // EEG/EMG arrays missing, of different length, too short, or not finite
  | 'E_SLEEP_BAD_OPTION' // an option is out of range
  | 'E_HYPNOGRAM_FORMAT'; // a hypnogram CSV line cannot be read (the message names the line)

/** A FiberrigError (code, message, hint), like every host module's; the messages here carry what to do. */
export class SleepError extends FiberrigError {
  declare readonly code: SleepErrorCode;
  /** 1-based line of the hypnogram file at fault (E_HYPNOGRAM_FORMAT only). */
  readonly line?: number;
  constructor(code: SleepErrorCode, message: string, line?: number) {
    super(code, message, '');
    this.name = 'SleepError';
    if (line !== undefined) this.line = line;
  }
}
