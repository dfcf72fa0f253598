// The last minute or so of each rig's live samples, numbered so each page gets only what it
// has not had (a page that fell behind gets what is still held). Bounded per rig.
import type { LiveSample } from './fleet-source.ts';

export interface LivePoint {
  /** Per-rig sequence number (1, 2, …) of this buffer. */
  seq: number;
  session: string;
  /** Session time, s. */
  timeS: number;
  values: Record<string, number | null>;
}

export class LiveBuffer {
  private readonly rigs = new Map<string, { points: LivePoint[]; lastSeq: number }>();

  constructor(readonly maxPoints = 600) {}

  push(sample: LiveSample): void {
    let rig = this.rigs.get(sample.rig);
    if (!rig) this.rigs.set(sample.rig, (rig = { points: [], lastSeq: 0 }));
    rig.points.push({ seq: ++rig.lastSeq, session: sample.session, timeS: sample.timeS, values: { ...sample.values } });
    if (rig.points.length > this.maxPoints + 64) rig.points.splice(0, rig.points.length - this.maxPoints);
  }

  lastSeq(rig: string): number {
    return this.rigs.get(rig)?.lastSeq ?? 0;
  }

  /** Points after `afterSeq` still held (at most maxPoints). */
  since(rig: string, afterSeq: number): LivePoint[] {
    const points = this.rigs.get(rig)?.points ?? [];
    let i = points.length;
    while (i > 0 && points[i - 1]!.seq > afterSeq) i--;
    return points.slice(Math.max(i, points.length - this.maxPoints));
  }

  forget(rig: string): void {
    this.rigs.delete(rig);
  }
}
