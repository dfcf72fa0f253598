// A recording aligned with its group (`fiberrig align`: alignment.json, host/align) gets its
// analysis times also on the group's shared axis: analysis.json's micro-arousals, NREM bouts, sleep
// grid and traces gain `group…S` fields beside their session times (summary.ts), and a `groupTime`
// entry says what the axis is. Session times stay as they are (0 = this recording's first sample).
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { type AlignmentFile, readAlignmentFile, toDriverS } from '../../align/index.ts';

/** The alignment of the recording at `path` (its directory or raw log), or null when it has none. */
export function recordingAlignment(path: string): AlignmentFile | null {
  let dir = path;
  try {
    if (!statSync(path).isDirectory()) dir = dirname(path);
  } catch {
    return null;
  }
  return readAlignmentFile(dir);
}

/** Session time (s) → group axis (s), or null when not aligned. */
export type GroupClock = ((sessionS: number) => number) | null;

export function groupClock(a: AlignmentFile | null | undefined): GroupClock {
  return a ? (t: number) => toDriverS(a, t) : null;
}

/** `{ groupStartS, groupEndS }` of a span when aligned, else nothing. */
export function groupSpan(clock: GroupClock, span: { startS: number; endS: number }): { groupStartS?: number; groupEndS?: number } {
  return clock ? { groupStartS: clock(span.startS), groupEndS: clock(span.endS) } : {};
}

/** The analysis.json entry that says what the group fields are. */
export function groupTimeEntry(a: AlignmentFile): Record<string, unknown> {
  return {
    fields: 'groupStartS, groupEndS, groupT0S: the same instants on the group\'s shared time axis; startS, endS, t0S stay session seconds of this recording',
    axis: a.timeAxis, role: a.role, driver: a.group.driver, recordings: a.group.recordings,
    fit: { offsetS: a.offsetS, scale: a.scale, residualMaxSamples: a.residualMaxSamples, edges: a.edges }, alignedAt: a.alignedAt,
  };
}
