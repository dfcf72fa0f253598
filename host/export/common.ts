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

/** What to write for samples that never arrived. */
export type GapPolicy = 'nan' | 'omit';

/** How exported times relate to the demodulator's output. */
export interface TimeOptions {
  /**
   * true (default): a signal sample's time is when its light was measured — the output time minus
   * the channel's `groupDelayS`. false: raw filter-output times, and the delay is recorded in the
   * file's metadata so a reader can correct it.
   */
  delayCompensation?: boolean;
}

/** Isosbestic control excitation (≈405 nm). */
export function isControlWavelength(nm: number | undefined): boolean {
  return nm !== undefined && nm >= 395 && nm <= 420;
}

/** Green sensor excitation (465/470 nm, e.g. GRAB-NE, GCaMP). */
export function isGreenWavelength(nm: number | undefined): boolean {
  return nm !== undefined && nm >= 455 && nm <= 495;
}

/** A file-name-safe channel name: "470nm@det0" -> "det0_470nm", "EEG" -> "EEG". */
export function fileSafeName(channel: SignalChannel): string {
  if (channel.source === 'detector' && channel.wavelengthNm !== undefined) return `det${channel.inputId}_${channel.wavelengthNm}nm`;
  return channel.name.replace(/[^A-Za-z0-9_-]+/g, '_');
}

/** Per detector: the indices of its control (405) and signal (465/470) channels among `channels`. */
export function pairsByDetector(channels: readonly SignalChannel[]): Array<{ detector: number; signal: number; control: number }> {
  const detectors = [...new Set(channels.filter((c) => c.source === 'detector').map((c) => c.inputId))];
  const pairs: Array<{ detector: number; signal: number; control: number }> = [];
  for (const d of detectors) {
    const signal = channels.findIndex((c) => c.inputId === d && c.source === 'detector' && isGreenWavelength(c.wavelengthNm));
    const control = channels.findIndex((c) => c.inputId === d && c.source === 'detector' && isControlWavelength(c.wavelengthNm));
    if (signal >= 0 && control >= 0) pairs.push({ detector: d, signal, control });
  }
  return pairs;
}

/** Progress of a streaming pass, for a CLI to show. */
export type ProgressCallback = (position: number, total: number) => void;
