// johnny-five's own Led, Sensor, Button and Pin classes on FiberrigIO against
// the simulator. Each scenario runs as a child process (johnny-five keeps a
// board registry and timers alive), with stdin closed: johnny-five's REPL,
// were it on, would exit 0 there. The process must exit 0 when its
// assertions hold and non-zero when one fails (`--expect-wrong`).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');

function run(script: string, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import=tsx', script, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.once('error', fail);
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

const fixture = (name: string): string => join(here, 'fixtures', `${name}.ts`);

describe('johnny-five classes on FiberrigIO (simulator)', function () {
  this.timeout(60_000);

  it('Led and Sensor: the LED raises the detector level, brightness scales it, off restores it', async () => {
    const r = await run(fixture('led-sensor'));
    assert.equal(r.code, 0, r.stderr);
    const levels = JSON.parse(r.stdout.trim().split('\n').pop()!) as { dark: number; quarter: number; full: number; off: number };
    assert.ok(levels.dark < levels.quarter && levels.quarter < levels.full, JSON.stringify(levels));
  });

  it('Button and Pin: the sync output, looped back to an input, presses the button per pulse', async () => {
    const r = await run(fixture('button'));
    assert.equal(r.code, 0, r.stderr);
    const counts = JSON.parse(r.stdout.trim().split('\n').pop()!) as { presses: number };
    assert.ok(counts.presses >= 3, JSON.stringify(counts));
  });

  it('a failed assertion ends the process with a non-zero code (no REPL swallowing it)', async () => {
    const [a, b] = await Promise.all([run(fixture('led-sensor'), ['--expect-wrong']), run(fixture('button'), ['--expect-wrong'])]);
    assert.equal(a.code, 1, a.stderr);
    assert.match(a.stderr, /deliberately wrong/);
    assert.equal(b.code, 1, b.stderr);
  });

  it('the example blinks every LED and prints detector levels', async () => {
    const r = await run(join(root, 'hardware/examples/blink-levels.ts'), ['sim://steps', '--on-ms', '150', '--blinks', '1']);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.split('\n').filter((l) => /^LED\d/.test(l));
    assert.equal(rows.length, 4, r.stdout);
    for (const row of rows) {
      const m = /off: PD0 +(\d+) +PD1 +(\d+) +on: PD0 +(\d+) +PD1 +(\d+)/.exec(row);
      assert.ok(m, row);
      const [off0, off1, on0, on1] = m.slice(1).map(Number) as [number, number, number, number];
      assert.ok(on0 + on1 > off0 + off1 + 100, `the LED raises the detectors: ${row}`);
    }
  });
});
