// The output directory of a recording: made (with its missing parents) one
// level at a time, so a read-only or forbidden parent is reported as what it
// is (Node's recursive mkdir says ENOENT for EROFS); checked writable; and
// what the recorder made can be taken away again when nothing was recorded.
import { constants } from 'node:fs';
import { access, mkdir, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { RecordError } from './errors.ts';

function notWritable(dir: string, cause: NodeJS.ErrnoException): RecordError {
  const why = cause.code === 'EROFS' ? 'is on a read-only file system' : cause.code === 'EACCES' || cause.code === 'EPERM' ? 'is not writable for this user' : `cannot be written (${cause.code ?? cause.message})`;
  return new RecordError(
    'E_RECORDING_DIR_NOT_WRITABLE', `the output directory ${dir} ${why} (${cause.code ?? 'error'}: ${cause.message})`,
    'choose a writable directory with --out (or fix its permissions / remount it read-write)', { cause },
  );
}

/** A recording directory, and what the recorder created in it. */
export class OutputDir {
  private readonly files = new Set<string>();

  private constructor(readonly dir: string, private readonly createdDirs: string[]) {}

  /** Makes `dir` (parents too) if needed and checks that it is a writable directory. */
  static async prepare(dir: string): Promise<OutputDir> {
    const created: string[] = [];
    const make = async (d: string): Promise<void> => {
      try {
        await mkdir(d);
        created.push(d);
      } catch (cause) {
        const e = cause as NodeJS.ErrnoException;
        if (e.code === 'EEXIST') return;
        if (e.code === 'ENOENT' && dirname(d) !== d) {
          await make(dirname(d));
          return make(d);
        }
        throw notWritable(d, e);
      }
    };
    await make(dir);
    const s = await stat(dir);
    if (!s.isDirectory()) {
      throw new RecordError('E_RECORDING_NOT_A_DIR', `${dir} exists and is not a directory`, 'choose a new recording directory with --out');
    }
    try {
      await access(dir, constants.W_OK);
    } catch (cause) {
      throw notWritable(dir, cause as NodeJS.ErrnoException);
    }
    return new OutputDir(dir, created);
  }

  /** Notes a file the recorder creates in the directory (removed by `removeCreated`). */
  created(name: string): string {
    const path = join(this.dir, name);
    this.files.add(path);
    return path;
  }

  /**
   * Removes the files noted with `created` and the directories `prepare`
   * made, when they are empty; nothing else. Returns what was removed.
   */
  async removeCreated(): Promise<string[]> {
    const removed: string[] = [];
    for (const f of this.files) {
      try {
        await unlink(f);
        removed.push(f);
      } catch { /* never created, or gone */ }
    }
    for (const d of [...this.createdDirs].reverse()) {
      try {
        await rmdir(d); // fails when not empty: then it stays
        removed.push(d);
      } catch {
        break;
      }
    }
    return removed;
  }
}
