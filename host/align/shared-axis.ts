// Do a set of recordings share one time axis? Read from their alignment.json files: they do when
// every one was aligned by the same `fiberrig align` run (same driver, same group, same time).
// Commands that take several recordings (`fiberrig cohort --group`) state it, and refuse or warn
// when some are aligned and others not (`MixedAlignmentPolicy`).
import { basename } from 'node:path';
import { type AlignmentFile, readAlignmentFile } from './alignment-file.ts';
import { AlignError } from './errors.ts';

export interface SharedAxis {
  /** every recording aligned, all in one alignment group: their group-axis times are comparable */
  shared: boolean;
  /** the driver of the shared axis, or null when not shared */
  driver: string | null;
  aligned: string[];
  unaligned: string[];
  /** the alignment groups among the aligned recordings: driver, when aligned, and which of these recordings */
  groups: Array<{ driver: string; alignedAt: string; recordings: string[] }>;
  /** in words */
  text: string;
}

export const MIXED_ALIGNMENT_POLICIES = ['warn', 'refuse', 'ignore'] as const;
export type MixedAlignmentPolicy = (typeof MIXED_ALIGNMENT_POLICIES)[number];

/** The alignment groups of `recordings` (directories), from their alignment.json (AlignError E_ALIGN_FILE for an unreadable one). */
export function sharedAxisOf(recordings: readonly string[]): SharedAxis {
  const aligned: string[] = [];
  const unaligned: string[] = [];
  const groups = new Map<string, SharedAxis['groups'][number]>();
  for (const dir of recordings) {
    const a: AlignmentFile | null = readAlignmentFile(dir);
    if (!a) {
      unaligned.push(dir);
      continue;
    }
    aligned.push(dir);
    const key = JSON.stringify([a.group.driver, a.group.recordings, a.alignedAt]);
    const g = groups.get(key) ?? { driver: a.group.driver, alignedAt: a.alignedAt, recordings: [] };
    g.recordings.push(dir);
    groups.set(key, g);
  }
  const list = [...groups.values()];
  const shared = recordings.length > 0 && unaligned.length === 0 && list.length === 1;
  const names = (xs: readonly string[]): string => xs.map((x) => basename(x)).join(', ');
  const text = shared
    ? `the ${recordings.length} recordings share one time axis: ${list[0]!.driver}'s (aligned ${list[0]!.alignedAt})`
    : aligned.length === 0
      ? 'no recording is aligned (no alignment.json): each has its own clock'
      : [
        unaligned.length > 0 ? `${names(unaligned)} ${unaligned.length === 1 ? 'is' : 'are'} not aligned (no alignment.json)` : '',
        list.length > 1 ? `the aligned ones belong to ${list.length} different alignments (${list.map((g) => `${g.driver}: ${names(g.recordings)}`).join('; ')})` : `${names(aligned)} share ${list[0]!.driver}'s axis`,
      ].filter((t) => t !== '').join('; ') + ': their times are not on one axis';
  return { shared, driver: shared ? list[0]!.driver : null, aligned, unaligned, groups: list, text };
}

/**
 * Applies a policy to a set whose recordings are partly aligned (some aligned and others not, or
 * several alignments): `refuse` throws AlignError E_ALIGN_MIXED, `warn` returns the warning, `ignore`
 * returns null. A set with no alignment at all, or one shared axis, is never mixed.
 */
export function checkMixedAlignment(what: string, axis: SharedAxis, policy: MixedAlignmentPolicy): string | null {
  if (axis.shared || axis.aligned.length === 0 || policy === 'ignore') return null;
  const message = `${what}: ${axis.text}`;
  if (policy === 'refuse') {
    throw new AlignError('E_ALIGN_MIXED', message, 'align the whole group in one run (fiberrig align REC…), or pass --mixed-alignment warn|ignore to go on with each recording on its own clock');
  }
  return message;
}
