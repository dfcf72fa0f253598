// The mirror's persisted progress beside the raw log (mirror.json): how much of the log the
// broker has acknowledged, so a restarted agent resumes (re-sending what was in flight: the
// stream's duplicate window stores it once) and knows which sessions still need their end marker.
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { SessionMark } from './end-marker.ts';

export const MIRROR_CHECKPOINT_FILE = 'mirror.json';

export interface MirrorCheckpoint {
  rig: string;
  session: string;
  /** Bytes of the raw log the broker acknowledged (a record boundary). */
  ackedBytes: number;
  /** Records acknowledged (the next record's sequence number). */
  ackedRecords: number;
  /** The session-end marker was acknowledged: nothing is left to mirror. */
  ended: boolean;
  /** Events marked through the agent's `mark` command (kept here so a killed agent's successor still sends them). */
  marks: SessionMark[];
}

export async function readMirrorCheckpoint(path: string): Promise<MirrorCheckpoint | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as MirrorCheckpoint;
  } catch {
    return undefined;
  }
}

/** Atomic (write then rename): a crash leaves the old checkpoint or the new one. */
export async function writeMirrorCheckpoint(path: string, checkpoint: MirrorCheckpoint): Promise<void> {
  await writeFile(`${path}.tmp`, `${JSON.stringify(checkpoint)}\n`);
  await rename(`${path}.tmp`, path);
}
