// A simulated device in its own process (`fiberrig sim --tcp`): one device
// that outlives the host processes and Rigs that use it.
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const BIN = resolve('host/cli/bin.js');

/** Starts `fiberrig sim --tcp` on a free port; resolves with the child and its tcp:// URL. */
export async function startSimTcp(device: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'sim', '--tcp', '127.0.0.1:0', '--device', device], { stdio: ['ignore', 'ignore', 'pipe'] });
  const url = await new Promise<string>((resolveUrl, reject) => {
    let text = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      text += chunk;
      const m = /on (tcp:\/\/127\.0\.0\.1:\d+)/.exec(text);
      if (m) resolveUrl(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`fiberrig sim exited (${code}): ${text}`)));
  });
  return { child, url };
}

export async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await exited;
}
