// Rigs on one clock: aligning a group of recordings by their shared sync line.
//   alignGroup (fit.ts)          pure: edges + the driver's pulse schedule -> per recording a map onto the driver's axis
//   readAlignRecording (read.ts) what alignment needs of one recording (one raw-data pass)
//   alignRecordings (here)       reads a group, aligns it, writes alignment.json into each recording
//   alignment-file.ts            alignment.json, which exports read (CSV: a group_time_s column)
import { basename, resolve } from 'node:path';
import { FIBERRIG_VERSION } from '../record/version.ts';
import { type AlignmentFile, alignmentDocument, writeAlignmentFile } from './alignment-file.ts';
import { alignGroup, type AlignOptions, type GroupAlignment } from './fit.ts';
import { readAlignRecording } from './read.ts';

export { AlignError } from './errors.ts';
export { ALIGNMENT_FILE_NAME, type AlignmentFile, readAlignmentFile } from './alignment-file.ts';
export { type Alignment, alignGroup, type AlignOptions, type AlignRecording, DriverTimeMap, type GroupAlignment, toDriverS } from './fit.ts';
export { readAlignRecording } from './read.ts';

export interface AlignRecordingsOptions extends AlignOptions {
  /** The digital input line the sync line is wired to on the receivers (default: each receiver's only digital input). */
  syncLine?: number;
  /** Write alignment.json into each recording (default true). */
  write?: boolean;
  now?: Date;
}

export interface AlignRecordingsResult extends GroupAlignment {
  /** alignment.json written, per recording (same order as the group's recordings). */
  files: string[];
  documents: AlignmentFile[];
}

/** Names for a group's recordings: their directory names, or the paths given when two share a name. */
function namesOf(paths: readonly string[]): string[] {
  const base = paths.map((p) => basename(resolve(p)));
  return base.some((b, i) => base.indexOf(b) !== i) ? paths.map((p) => resolve(p)) : base;
}

export async function alignRecordings(paths: readonly string[], options: AlignRecordingsOptions = {}): Promise<AlignRecordingsResult> {
  const names = namesOf(paths);
  const recordings: Array<Awaited<ReturnType<typeof readAlignRecording>>> = [];
  for (const [i, p] of paths.entries()) {
    recordings.push(await readAlignRecording(p, { name: names[i]!, ...(options.syncLine !== undefined ? { syncLine: options.syncLine } : {}) }));
  }
  const group = alignGroup(recordings, options);
  const at = options.now ?? new Date();
  const documents = group.recordings.map((a) => alignmentDocument(group, a, FIBERRIG_VERSION, at));
  const files = options.write === false ? [] : documents.map((doc, i) => writeAlignmentFile(recordings[i]!.dir, doc));
  return { ...group, files, documents };
}
