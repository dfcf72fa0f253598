// Issue 19 acceptance 3 (without NATS): four simulated rigs share a sync line
// (sim://…?sync_bus=NAME), each with its own crystal error and its own start
// instant; one drives the line. Each is recorded by `fiberrig acquire` in this
// process (speed 1, so the rigs' clocks and the host's wall clock share a
// base), the group is aligned (`fiberrig align`), and every rig's CSV export
// carries group_time_s: for every exported row, the simulator's truth says
// which driver sample was being taken at that row's instant, and group_time_s
// must name it within one sample. A fifth rig, on another bus, is refused by
// alignment with an error naming it.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { main } from '../../../host/cli/main.ts';
import { SimBinding, type SimDevice } from '../../../host/cli/devices.ts';
import { exportRecording } from '../../../host/export/index.ts';
import { alignRecordings } from '../../../host/align/index.ts';
import { tempDir } from '../record/helpers.ts';

const RATE_HZ = 1000;
const PERIOD_SAMPLES = 500;

function sink(): PassThrough {
  const s = new PassThrough();
  s.resume();
  return s;
}

function config(driver: boolean): Record<string, unknown> {
  return {
    mode: 'continuous', sampleRateHz: RATE_HZ, detectors: [0], leds: [{ channel: 1, currentMa: 10 }], blockSamples: 100, outputRateHz: 100,
    digitalInputs: [0], ...(driver ? { syncOut: { line: 2, periodSamples: PERIOD_SAMPLES, pulseSamples: 10 } } : {}),
  };
}

interface Rig {
  name: string;
  url: string;
  driver: boolean;
  delayMs: number;
  duration: string;
}

function csv(path: string): { header: string[]; rows: number[][] } {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  return { header: lines[0]!.split(','), rows: lines.slice(1).map((l) => l.split(',').map(Number)) };
}

/** The (fractional) detector sample of `driver` taken at common time `t` (its drift is constant). */
function driverSampleAt(driver: SimDevice, t: number): number {
  const t0 = driver.commonTimeOfSample(0)!;
  const t1 = driver.commonTimeOfSample(1e6)!;
  return ((t - t0) / (t1 - t0)) * 1e6;
}

describe('rigs on one clock (issue 19 acceptance 3, without NATS)', function () {
  this.timeout(120_000);
  let tmp: { dir: string; cleanup: () => void };
  before(() => {
    tmp = tempDir('fiberrig-align-');
  });
  const opened: string[] = [];
  after(() => {
    tmp.cleanup();
    // the devices stay in the binding's ports after their ports closed: release them (they leave the bus)
    for (const url of opened) SimBinding.ports.release(url);
  });

  it('4 rigs on one sync line, different drifts and starts: every exported row\'s group_time_s within 1 driver sample of the simulator\'s truth', async () => {
    const bus = `align${process.pid}`;
    const rigs: Rig[] = [
      { name: 'r1', url: `sim://linear?seed=11&drift_ppm=150&sync_bus=${bus}`, driver: false, delayMs: 0, duration: '6s' },
      { name: 'r2', url: `sim://linear?seed=12&drift_ppm=-120&sync_bus=${bus}`, driver: false, delayMs: 350, duration: '5s' },
      { name: 'drv', url: `sim://linear?seed=13&drift_ppm=40&sync_bus=${bus}`, driver: true, delayMs: 600, duration: '4.5s' },
      { name: 'r3', url: `sim://linear?seed=14&drift_ppm=70&sync_bus=${bus}`, driver: false, delayMs: 900, duration: '4.5s' },
      { name: 'off-bus', url: `sim://linear?seed=15&sync_bus=${bus}other`, driver: false, delayMs: 100, duration: '3s' },
    ];
    const configs = { driver: join(tmp.dir, 'driver.json'), receiver: join(tmp.dir, 'receiver.json') };
    writeFileSync(configs.driver, JSON.stringify(config(true)));
    writeFileSync(configs.receiver, JSON.stringify(config(false)));
    const devices = new Map<string, SimDevice>();
    const stopListening = SimBinding.ports.onOpen((h) => {
      const rig = rigs.find((r) => r.url === h.path);
      if (rig) devices.set(rig.name, h.device);
      opened.push(h.path);
    });
    try {
      const codes = await Promise.all(rigs.map(async (r) => {
        await sleep(r.delayMs);
        const out = sink();
        return main(['acquire', '--device', r.url, '--config', r.driver ? configs.driver : configs.receiver, '--duration', r.duration, '--out', join(tmp.dir, r.name), '--quiet', '--json'], { stdout: out, stderr: out });
      }));
      assert.deepEqual(codes, rigs.map(() => 0));
    } finally {
      stopListening();
    }

    const group = rigs.filter((r) => r.name !== 'off-bus');
    const report = new PassThrough();
    const chunks: Buffer[] = [];
    report.on('data', (c: Buffer) => chunks.push(c));
    assert.equal(await main(['align', ...group.map((r) => join(tmp.dir, r.name)), '--json'], { stdout: report, stderr: report }), 0);
    const result = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { driver: string; files: string[]; recordings: Array<{ name: string; role: string; edges: number; residualMaxSamples: number }> };
    assert.equal(result.driver, 'drv');
    assert.equal(result.files.length, group.length);
    for (const a of result.recordings) {
      if (a.role === 'driver') continue;
      assert.ok(a.edges >= 5, `${a.name}: ${a.edges} edges`);
      assert.ok(a.residualMaxSamples < 0.01, `${a.name}: residual ${a.residualMaxSamples} samples`);
    }

    const driver = devices.get('drv')!;
    for (const r of group) {
      const out = join(tmp.dir, `${r.name}.csv`);
      await exportRecording(join(tmp.dir, r.name), 'csv', out);
      const { header, rows } = csv(out);
      const ti = header.indexOf('time_s');
      const gi = header.indexOf('group_time_s');
      assert.ok(ti >= 0 && gi === header.length - 1, `${r.name}: header ${header.join(',')}`);
      const device = devices.get(r.name)!;
      let worst = 0;
      let worstUnaligned = 0;
      for (const row of rows) {
        const truth = driverSampleAt(driver, device.commonTimeOfSample(row[ti]! * RATE_HZ)!);
        worst = Math.max(worst, Math.abs(row[gi]! * RATE_HZ - truth));
        worstUnaligned = Math.max(worstUnaligned, Math.abs(row[ti]! * RATE_HZ - truth));
      }
      assert.ok(rows.length > 300, `${r.name}: ${rows.length} rows`);
      assert.ok(worst < 1, `${r.name}: group_time_s off by up to ${worst.toFixed(4)} driver samples`);
      if (!r.driver) assert.ok(worstUnaligned > 50, `${r.name}: its own time_s is ${worstUnaligned.toFixed(1)} samples off (the test would not notice a missing alignment)`);
      const meta = JSON.parse(readFileSync(join(tmp.dir, `${r.name}.meta.json`), 'utf8')) as { groupTime?: { driver: string } };
      assert.equal(meta.groupTime?.driver, 'drv');
    }

    // a rig on another bus saw no pulse: alignment refuses it, naming it
    await assert.rejects(alignRecordings([join(tmp.dir, 'drv'), join(tmp.dir, 'off-bus')], { write: false }), (e: Error & { code: string }) => {
      assert.equal(e.code, 'E_ALIGN_NO_EDGES');
      assert.match(e.message, /off-bus: no sync edge on digital input 0/);
      return true;
    });
  });
});
