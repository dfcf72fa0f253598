// `fiberrig view` as a user runs it: prints the address on stderr, serves the
// page, prints a generated token for a non-loopback address, stops on SIGTERM.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import type { FrameMessage, HelloMessage, ServerMessage } from '../../../host/live/messages.ts';
import { until } from './helpers.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function startCli(args: string[]): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['host/cli/bin.js', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

describe('fiberrig view and acquire --live', function () {
  this.timeout(60_000);
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it('serves the live view on 127.0.0.1 without a token and stops on SIGTERM', async () => {
    const view = startCli(['view', '--device', 'sim://steps?speed=2', '--port', '0']);
    children.push(view.child);
    const url = await until('the address on stderr', () => /live view at (http:\/\/127\.0\.0\.1:\d+\/)\s/.exec(view.stderr())?.[1], 30_000);
    assert.match(view.stderr(), /not recording/);
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /fiberrig live/);
    view.child.kill('SIGTERM');
    assert.equal(await view.exited, 0, view.stderr());
  });

  it('requires and prints a generated token on a non-loopback address', async () => {
    const view = startCli(['view', '--device', 'sim://steps?speed=2', '--port', '0', '--host', '0.0.0.0']);
    children.push(view.child);
    const url = await until('the address on stderr', () => /live view at (http:\/\/0\.0\.0\.0:\d+\/\?token=\S+)\s/.exec(view.stderr())?.[1], 30_000);
    assert.match(view.stderr(), /generated an access token/);
    const local = url.replace('0.0.0.0', '127.0.0.1');
    assert.equal((await fetch(local.replace(/\?token=.*/, ''))).status, 401);
    assert.equal((await fetch(local)).status, 200);
    view.child.kill('SIGTERM');
    assert.equal(await view.exited, 0, view.stderr());
  });

  it('acquire --live shows the recording it makes, with start/stop locked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fiberrig-live-'));
    try {
      const out = join(dir, 'rec');
      const cli = startCli(['acquire', '--device', 'sim://steps?speed=4', '--duration', '20s', '--out', out, '--subject', 'm42', '--live', '--port', '0', '--quiet']);
      children.push(cli.child);
      const url = await until('the live view address', () => /live view at (http:\/\/127\.0\.0\.1:\d+\/)\s/.exec(cli.stderr())?.[1], 30_000);
      const messages: ServerMessage[] = [];
      const ws = new WebSocket(`${url.replace('http', 'ws')}ws`);
      ws.on('message', (d) => messages.push(JSON.parse(String(d)) as ServerMessage));
      ws.on('error', () => undefined);
      const hello = await until('hello', () => messages.find((m): m is HelloMessage => m.type === 'hello'));
      assert.equal(hello.controls.acquisition.enabled, false);
      assert.match(hello.controls.acquisition.reason!, /acquire/);
      assert.equal(hello.controls.recording.enabled, false);
      const frame = await until('a frame with signals', () => messages.find((m): m is FrameMessage => m.type === 'frame' && m.signals !== undefined));
      assert.deepEqual(frame.recording, { recording: true, subject: 'm42', target: out });
      // the server goes away with the acquisition
      const closed = new Promise((resolve) => ws.once('close', resolve));
      assert.equal(await cli.exited, 0, cli.stderr());
      await closed;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
