// Typed errors of sleep scoring and hypnogram import. Every error says what to do.

/** Stable codes thrown by host/analysis/sleep. */
export type SleepErrorCode =
  | 'E_SLEEP_BAD_INPUT' // EEG/EMG arrays missing, of different length, too short, or not finite
  | 'E_SLEEP_BAD_OPTION' // an option is out of range
  | 'E_HYPNOGRAM_FORMAT'; // a hypnogram CSV line cannot be read (the message names the line)

export class SleepError extends Error {
  readonly code: SleepErrorCode;
  /** 1-based line of the hypnogram file at fault (E_HYPNOGRAM_FORMAT only). */
  readonly line?: number;
  constructor(code: SleepErrorCode, message: string, line?: number) {
    super(message);
    this.name = 'SleepError';
    this.code = code;
    if (line !== undefined) this.line = line;
  }
}
