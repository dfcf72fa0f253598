// A rejected command or configuration, as the device reports it in an Error
// message: the protocol ErrorCode, a short message and the dotted path of the
// offending field. Messages and fields are ASCII and kept inside the C
// firmware's bounds (fiberrig.options: Error.message 96, Error.field 48 bytes,
// a terminating NUL included).
export interface Issue {
  /** A protocol ErrorCode value. */
  code: number;
  message: string;
  field: string;
}

export const ERROR_MESSAGE_MAX_BYTES = 95;
export const ERROR_FIELD_MAX_BYTES = 47;

function clip(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max);
}

export function issue(code: number, field: string, message: string): Issue {
  return { code, field: clip(field, ERROR_FIELD_MAX_BYTES), message: clip(message, ERROR_MESSAGE_MAX_BYTES) };
}

/** Formats a number for a message without float noise (float32 fields decode as e.g. 50.29999923706055). */
export function num(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(6)));
}
