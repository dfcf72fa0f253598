// Shared by the exporters: typed errors, channel roles, names.
import { FiberrigError } from '../../protocol/index.ts';
import type { SignalChannel } from '../pipeline/demodulate.ts';

export class ExportError extends FiberrigError {
  constructor(code: string, message: string, hint: string, options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.name = 'ExportError';
  }
}

export const EXPORT_FORMATS = ['guppy', 'pmat', 'nwb', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * What to write for output rows without a value (samples never arrived, filters settling, LEDs dark):
 * `nan` NaN rows on a regular grid; `omit` leave those rows out (times stay true device times);
 * `segments` one file set per gap-free span (guppy, pmat).
 */
export type GapPolicy = 'nan' | 'omit' | 'segments';
export const GAP_POLICIES: readonly GapPolicy[] = ['nan', 'omit', 'segments'];

export type { TimeOptions } from '../pipeline/time.ts';

export { isControlWavelength, isGreenWavelength } from '../pipeline/wavelength-roles.ts';

/** A file-name-safe channel name: "470nm@det0" -> "det0_470nm", "EEG" -> "EEG". */
export function fileSafeName(channel: SignalChannel): string {
  if (channel.source === 'detector' && channel.wavelengthNm !== undefined) return `det${channel.inputId}_${channel.wavelengthNm}nm`;
  return channel.name.replace(/[^A-Za-z0-9_-]+/g, '_');
}

/** Progress of a streaming pass, for a CLI to show. */
export type ProgressCallback = (position: number, total: number) => void;
