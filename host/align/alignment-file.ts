// alignment.json: a recording's place on its group's shared time axis, written
// into the recording's directory by `fiberrig align` and read by exports.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlignError } from './errors.ts';
import type { Alignment, GroupAlignment } from './fit.ts';

export const ALIGNMENT_FILE_NAME = 'alignment.json';

export interface AlignmentFile extends Alignment {
  format: 'fiberrig-alignment';
  formatVersion: 1;
  /** What the shared time axis is. */
  timeAxis: string;
  group: { driver: string; driverRateHz: number; periodSamples: number; recordings: string[] };
  alignedWith: string;
  alignedAt: string;
}

export function alignmentDocument(group: GroupAlignment, a: Alignment, version: string, at: Date): AlignmentFile {
  return {
    format: 'fiberrig-alignment', formatVersion: 1,
    timeAxis: `seconds from sample 0 of the driver's recording (${group.driver}): its sample index / ${group.driverRateHz} Hz; a session time t of this recording maps through the knots (piecewise linear), beyond them driverS = edge + scale x (t - edge)`,
    group: { driver: group.driver, driverRateHz: group.driverRateHz, periodSamples: group.periodSamples, recordings: group.recordings.map((r) => r.name) },
    ...a, alignedWith: version, alignedAt: at.toISOString(),
  };
}

export function writeAlignmentFile(dir: string, doc: AlignmentFile): string {
  const path = join(dir, ALIGNMENT_FILE_NAME);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`);
  renameSync(tmp, path);
  return path;
}

/** The recording's alignment.json, or null when it has none. */
export function readAlignmentFile(dir: string): AlignmentFile | null {
  const path = join(dir, ALIGNMENT_FILE_NAME);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  let doc: AlignmentFile;
  try {
    doc = JSON.parse(text) as AlignmentFile;
  } catch (cause) {
    throw new AlignError('E_ALIGN_FILE', `${path} is not JSON`, 'rewrite it with fiberrig align, or delete it', { cause });
  }
  if (doc.format !== 'fiberrig-alignment' || doc.formatVersion !== 1 || !Number.isFinite(doc.offsetS) || !Number.isFinite(doc.scale) || !Array.isArray(doc.knots)) {
    throw new AlignError('E_ALIGN_FILE', `${path} is not a fiberrig alignment (format 1)`, 'rewrite it with fiberrig align, or delete it');
  }
  return doc;
}
