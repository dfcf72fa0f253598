// The end of a recording that failed: session.json written as far as the disk
// allows, and the failure told in one typed error that says what happened to
// the device and the files, and what to do.
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDiskFull } from './disk-space.ts';
import { RecordError } from './errors.ts';
import { SESSION_FILE_NAME, type SessionFile, writeSession } from './session.ts';

/**
 * Writes session.json atomically; when that fails (no room for the temporary
 * copy), overwrites it in place, which needs no more room than the old one
 * freed. Returns the error when neither worked.
 */
export async function writeSessionAtEnd(dir: string, session: SessionFile): Promise<Error | undefined> {
  try {
    await writeSession(dir, session);
    return undefined;
  } catch (error) {
    const path = join(dir, SESSION_FILE_NAME);
    await unlink(`${path}.tmp`).catch(() => undefined);
    try {
      await writeFile(path, `${JSON.stringify(session, null, 2)}\n`);
      return undefined;
    } catch {
      return new RecordError('E_RECORDING_SESSION_WRITE', `cannot write ${path}: ${(error as Error).message}`, 'the raw log alone holds the recording (fiberrig inspect / demod read it); free disk space', { cause: error });
    }
  }
}

/** The marker a failed recording's directory holds: what failed, and that the data before it is kept. */
export const FAILED_FILE_NAME = 'FAILED';

/** Marks `dir` as a failed recording (session.json's status says "failed" too). Never throws: a full disk may refuse even this. */
export async function markRecordingFailed(dir: string, failure: Error): Promise<boolean> {
  const text = [
    'This recording FAILED; it did not end as asked.',
    `error: ${failure.message}`,
    'What was recorded before the failure is kept in the raw log; `fiberrig inspect --in DIR` says how much.',
    '',
  ].join('\n');
  try {
    await writeFile(join(dir, FAILED_FILE_NAME), text);
    return true;
  } catch {
    return false;
  }
}

/** The error acquire ends with: a full disk becomes E_DISK_FULL (what was done, what to do); others stay as they are. */
export function recordingFailure(failure: Error, dir: string, rawLogBytes: number): Error {
  if (!isDiskFull(failure) || (failure as { code?: unknown }).code === 'E_DISK_FULL') return failure;
  return new RecordError(
    'E_DISK_FULL',
    `the disk holding ${dir} is full (${failure.message}): the device was stopped (LEDs off), the raw log ends at its last complete record (${rawLogBytes} bytes) and session.json says stoppedBy "error"`,
    `free disk space or record to another disk (--out); what was recorded is readable (fiberrig inspect ${dir})`,
    { cause: failure },
  );
}
