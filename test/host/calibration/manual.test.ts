// The manual meter through its real prompts: a child process runs
// `node host/cli/bin.js calibrate --meter manual` against a simulated device
// served on a pty (so this process can look into the device's non-volatile
// memory), and the test types at its stdin what a technician would: readings
// of the simulated meter truth, a mistyped value, undo, redo, a 10x typo, and
// an abort.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { simPowerMeterOf } from '../../../firmware-sim/device/power-meter.ts';
import { serveSimOnPty, type SimPtyServer } from '../../../firmware-sim/transport/pty.ts';
import { createWorld, type SimWorld } from '../../../firmware-sim/world/index.ts';
import type { CalibrationFile } from '../../../host/calibration/store.ts';
import { HostCalibration } from '../../../host/calibration/table.ts';

const BIN = fileURLToPath(new URL('../../../host/cli/bin.js', import.meta.url));
const PROMPT = /at ([\d.]+) mA, point (\d+)\/(\d+) \((\w+)\): meter reading in µW \(u undo, r redo, q abort\)> /g;

interface Prompt {
  currentMa: number;
  point: number;
  of: number;
  sweep: string;
}

class Technician {
  readonly child: ChildProcess;
  out = '';
  err = '';
  private seen = 0;
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => { this.out += d; });
    this.child.stderr!.on('data', (d: Buffer) => { this.err += d; });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** The next prompt the CLI shows (waits for it). */
  async prompt(): Promise<Prompt> {
    for (;;) {
      const all = [...this.err.matchAll(PROMPT)];
      if (all.length > this.seen) {
        const m = all[this.seen++]!;
        return { currentMa: Number(m[1]), point: Number(m[2]), of: Number(m[3]), sweep: m[4]! };
      }
      if (this.child.exitCode !== null) throw new Error(`calibrate exited (${this.child.exitCode}) while a prompt was expected:\n${this.err}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  type(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }
}

describe('fiberrig calibrate --meter manual: the real prompts, driven through stdin', function () {
  this.timeout(90_000);
  const servers: SimPtyServer[] = [];
  const children: Technician[] = [];
  let out = '';

  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'fiberrig-manual-'));
  });

  after(async () => {
    for (const t of children) if (t.child.exitCode === null) t.child.kill('SIGKILL');
    for (const s of servers) await s.close();
    await rm(out, { recursive: true, force: true });
  });

  async function serve(name: string): Promise<SimPtyServer> {
    const server = await serveSimOnPty(join(out, name), { scenario: 'dark', seed: 21, worldFactory: createWorld });
    servers.push(server);
    return server;
  }

  it('takes typed readings with a mistyped value, undo, redo and a 10x typo (left out as a bad point), and stores the table', async () => {
    const server = await serve('pty-a');
    const meter = simPowerMeterOf(server.device);
    const truth = (): string => meter.truthUw(1).toFixed(4);
    const cal = join(out, 'cal-a');
    const t = new Technician(['calibrate', '--device', join(out, 'pty-a'), '--led', '1', '--meter', 'manual', '--points', '6', '--out', cal, '--operator', 'bob', '--label', 'led=M470F3']);
    children.push(t);

    let p = await t.prompt();
    assert.deepEqual(p, { currentMa: 5, point: 1, of: 7, sweep: 'up' });
    t.type('12,5x');
    p = await t.prompt();
    assert.equal(p.point, 1, 'a mistyped value repeats the prompt');
    assert.match(t.err, /"12,5x" is not a number/);
    t.type(truth());
    p = await t.prompt();
    assert.deepEqual([p.point, p.currentMa], [2, 23]);
    t.type(truth());
    p = await t.prompt();
    assert.deepEqual([p.point, p.currentMa], [3, 41]);
    t.type('u');
    p = await t.prompt();
    assert.deepEqual([p.point, p.currentMa], [2, 23], 'undo goes back one point, and the LED with it');
    assert.match(t.err, /undone: back to 23\.00 mA/);
    t.type('r');
    p = await t.prompt();
    assert.deepEqual([p.point, p.currentMa], [3, 41], 'redo restores the undone value');
    t.type('u');
    p = await t.prompt();
    assert.equal(p.point, 2);
    t.type(truth()); // retyped: what could be redone is gone
    p = await t.prompt();
    assert.equal(p.point, 3);
    t.type(truth());
    for (;;) {
      p = await t.prompt();
      // point 5 (32 mA, coming down) is typed 10x too high
      t.type(p.point === 5 ? (meter.truthUw(1) * 10).toFixed(3) : truth());
      if (p.point === p.of) break;
    }
    const code = await t.exited;
    assert.equal(code, 0, t.err);
    assert.match(t.out, /written to the device/);
    assert.match(t.err, /bad point: 32\.00 mA/);

    const table = server.device.nv.readCalibration();
    const world = server.device.world as SimWorld;
    const host = new HostCalibration(table);
    const { minMa, maxMa } = host.rangeMa(1)!;
    for (let ma = minMa; ma <= maxMa; ma += 0.5) {
      const truthUw = world.ledPowerUw(1, ma, world.temperatureC(server.device.worldTimeS));
      assert.ok(Math.abs(host.powerForCurrent(1, ma) / truthUw - 1) < 0.01, `${ma} mA`);
    }
    const dir = join(cal, 'SIM-0001', 'led1');
    const json = (await readdir(dir)).find((f) => f.endsWith('.json'))!;
    const file = JSON.parse(await readFile(join(dir, json), 'utf8')) as CalibrationFile;
    assert.equal(file.meter.kind, 'manual');
    assert.equal(file.operator, 'bob');
    assert.equal(file.points.length, 7);
    assert.deepEqual(file.fit.outliers.map((o) => o.currentMa), [32]);
  });

  it('q aborts without writing anything (device or disk), and so does the end of input', async () => {
    const server = await serve('pty-b');
    const meter = simPowerMeterOf(server.device);
    const cal = join(out, 'cal-b');
    const args = ['calibrate', '--device', join(out, 'pty-b'), '--led', '1', '--meter', 'manual', '--points', '6', '--out', cal];

    const t = new Technician(args);
    children.push(t);
    await t.prompt();
    t.type(meter.truthUw(1).toFixed(4));
    await t.prompt();
    t.type('q');
    assert.equal(await t.exited, 2, t.err);
    assert.match(t.err, /aborted: nothing was written/);

    const eof = new Technician(args);
    children.push(eof);
    await eof.prompt();
    eof.child.stdin!.end();
    assert.equal(await eof.exited, 2, eof.err);

    assert.equal(server.device.nv.writes, 0, 'no WriteCalibration reached the device');
    assert.equal(server.device.nv.hasCalibration, false);
    assert.equal(existsSync(cal), false, 'no calibration file or history');
  });
});
