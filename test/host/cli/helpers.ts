// Shared by the CLI tests: the CLI in-process (stdout/stderr captured) and
// node in a child process (exit code, stdout, stderr).
import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { main } from '../../../host/cli/main.ts';

export class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** `fiberrig ARGS` in this process. */
export async function cli(args: string[]): Promise<Ran> {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = await main(args, { stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const exec = promisify(execFile);

/** `node ARGS` in a child process (no inherited NODE_OPTIONS: no tsx unless asked for). */
export async function runNode(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  try {
    const r = await exec(process.execPath, args, { timeout: 60_000, ...(options.cwd ? { cwd: options.cwd } : {}), env: { ...(options.env ?? process.env), NODE_OPTIONS: '' } });
    return { code: 0, ...r };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
