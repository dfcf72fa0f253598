// Field-by-field comparison of two normalized transcripts.
import type { Normalized, StreamName } from './normalize.ts';

export interface Difference {
  /** e.g. replies[3].error.field, blocks.length */
  readonly path: string;
  readonly sim: unknown;
  readonly native: unknown;
}

/** Sample codes may differ by one step (normalize.ts says why); every other value must be equal. */
const CODE_TOLERANCE = 1;
const isCode = (path: string): boolean => /\.codes\[\d+\]$/.test(path);

function diff(path: string, a: unknown, b: unknown, out: Difference[], max: number): void {
  if (out.length >= max) return;
  if (Object.is(a, b)) return;
  if (typeof a === 'number' && typeof b === 'number' && isCode(path) && Math.abs(a - b) <= CODE_TOLERANCE) return;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    if (Array.isArray(a) !== Array.isArray(b)) {
      out.push({ path, sim: a, native: b });
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      const n = Math.min(a.length, b.length);
      for (let i = 0; i < n; i++) diff(`${path}[${i}]`, a[i], b[i], out, max);
      if (a.length !== b.length) out.push({ path: `${path}.length`, sim: a.length, native: b.length });
      return;
    }
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) diff(path ? `${path}.${k}` : k, ao[k], bo[k], out, max);
    return;
  }
  out.push({ path, sim: a, native: b });
}

const STREAMS: readonly StreamName[] = ['replies', 'ledEvents', 'digitalEvents', 'blocks', 'status'];

/** The differences between the simulator's and the firmware's transcripts (at most `max`), streams in a fixed order. */
export function compareTranscripts(sim: Normalized, native: Normalized, max = 8): Difference[] {
  const out: Difference[] = [];
  for (const s of STREAMS) diff(s, sim[s], native[s], out, max);
  return out;
}
