// Child processes behind the targets that are programs (the native firmware, QEMU):
// start them, wait until they are ready, end them (by their own pid) and wait.
import { type ChildProcess, spawnSync } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { decodeEnvelope, FrameDecoder } from '../../protocol/index.ts';
import { TestingError } from './errors.ts';

export function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

/** A TCP port nothing listens on now (on 127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Ends a child process we started (SIGTERM, SIGKILL after 3 s) and waits for it. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Resolves with the first match of `pattern` in the child's stderr; rejects when it exits or times out first. */
export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number, what: string): Promise<RegExpMatchArray> {
  return new Promise((resolveMatch, reject) => {
    let text = '';
    const fail = (message: string): void => reject(new TestingError('E_TARGET_START', message, 'run the program by hand to see why'));
    const timer = setTimeout(() => fail(`${what} did not start within ${timeoutMs} ms: ${text.trim().slice(-300)}`), timeoutMs);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      text += chunk;
      const m = pattern.exec(text);
      if (m) {
        clearTimeout(timer);
        resolveMatch(m);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(`${what} exited (code ${code}) before it was ready: ${text.trim().slice(-300)}`);
    });
  });
}

/** Connects to QEMU's serial port as soon as it listens and reads up to the firmware's boot Log. */
export async function takeBootAnnouncement(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  const startFailed = (message: string): TestingError => new TestingError('E_TARGET_START', message, 'check the image with `npm run firmware:build` and run QEMU by hand');
  let socket: Socket | null = null;
  while (!socket) {
    if (child.exitCode !== null) throw startFailed(`qemu-system-arm exited (code ${child.exitCode}): ${log().trim().slice(-300)}`);
    if (Date.now() > deadline) throw startFailed(`qemu-system-arm did not listen on ${port}: ${log().trim().slice(-300)}`);
    socket = await new Promise<Socket | null>((done) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => done(s));
      s.once('error', () => done(null));
    });
    if (!socket) await new Promise((r) => setTimeout(r, 50));
  }
  const s = socket;
  try {
    await new Promise<void>((done, reject) => {
      const timer = setTimeout(() => reject(startFailed(`the firmware under QEMU did not announce itself within 15 s: ${log().trim().slice(-300)}`)), 15_000);
      const decoder = new FrameDecoder((payload) => {
        try {
          if (decodeEnvelope(payload).body === 'log') {
            clearTimeout(timer);
            done();
          }
        } catch {
          // not an Envelope: keep waiting
        }
      });
      s.on('data', (chunk: Buffer) => decoder.push(chunk));
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  } finally {
    s.destroy();
  }
}
