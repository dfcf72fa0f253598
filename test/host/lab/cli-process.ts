// `fiberrig agent` / `fiberrig archive` as child processes (for the tests that kill them).
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

export class CliProcess {
  stderr = '';
  stdout = '';
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    child.stdout!.on('data', (d: Buffer) => { this.stdout += d.toString(); });
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
  }

  /** Starts `fiberrig ARGS` and waits for `ready` on its stderr. */
  static async start(args: string[], ready: string, timeoutMs = 20_000): Promise<CliProcess> {
    const p = new CliProcess(spawn(process.execPath, [resolve('host/cli/bin.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
    const until = Date.now() + timeoutMs;
    while (!p.stderr.includes(ready)) {
      if (p.child.exitCode !== null || Date.now() > until) {
        p.child.kill('SIGKILL');
        throw new Error(`fiberrig ${args[0]} did not get ready:\n${p.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return p;
  }

  async signal(signal: NodeJS.Signals): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill(signal);
    return this.exited;
  }
}
