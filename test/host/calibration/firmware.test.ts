// Calibration against the C firmware built for the host (hardware/firmware,
// `make host`): the manual calibration flow writes its table through the real
// firmware's WriteCalibration; the table survives a Reset and a power cycle
// (process restart with the same --nv file); and the firmware converts
// power_uw exactly as the host converter does. Skipped when the binary is not
// built (FIBERRIG_FW_HOST names another build). The firmware has no LED optics,
// so the "meter" readings here come from a synthetic LED curve.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { type LedModel, modelPowerUw } from '../../../host/calibration/fit.ts';
import type { CalibrationFile } from '../../../host/calibration/store.ts';
import { HostCalibration, sameTable } from '../../../host/calibration/table.ts';
import { calibrateCommand } from '../../../host/cli/commands/calibrate.ts';
import { Rig } from '../../../host/rig/rig.ts';
import { ModulationMode, type Status } from '../../../protocol/index.ts';
import { captureIo } from './helpers.ts';

const BUILT = fileURLToPath(new URL('../../../hardware/firmware/build/host/fiberrig-fw-host', import.meta.url));
const BINARY = process.env.FIBERRIG_FW_HOST ?? BUILT;
const LED: LedModel = { thresholdMa: 1.6, slopeUwPerMa: 1.38, droopPerMa: 0.0009 };

interface Firmware {
  url: string;
  stop(): Promise<void>;
}

function startFirmware(binary: string, nvFile: string): Promise<Firmware> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(binary, ['--tcp', '0', '--nv', nvFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    let log = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`firmware did not start: ${log}`));
    }, 10_000);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      log += text;
      const m = /link (tcp:\/\/\S+)/.exec(log);
      if (m && timer) {
        clearTimeout(timer);
        resolve({
          url: m[1]!,
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

describe('calibration on the C firmware (native build)', function () {
  this.timeout(90_000);
  let dir = '';
  let binary = '';
  let fw: Firmware | undefined;

  before(async function () {
    if (!existsSync(BINARY)) {
      this.skip();
      return;
    }
    dir = await mkdtemp(join(tmpdir(), 'fiberrig-fwcal-'));
    binary = join(dir, 'fiberrig-fw-host'); // a private copy: a rebuild meanwhile does not disturb the run
    await copyFile(BINARY, binary);
  });

  after(async () => {
    await fw?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('calibrates through the manual prompts, and the table survives Reset and a power cycle; power_uw converts as on the host', async () => {
    const nv = join(dir, 'nv.bin');
    fw = await startFirmware(binary, nv);
    const stdin = new PassThrough();
    const c = captureIo();
    const out = join(dir, 'cal');
    const run = calibrateCommand({ ...c.io, stdin }, { device: fw.url, led: '1', meter: 'manual', points: '5', out, operator: 'fw' });
    let answered = 0;
    const typing = setInterval(() => {
      const prompts = [...c.err().matchAll(/at ([\d.]+) mA, point \d+\/\d+ \(\w+\): meter reading in µW/g)];
      while (answered < prompts.length) {
        const ma = Number(prompts[answered]![1]);
        stdin.write(`${modelPowerUw(LED, ma).toFixed(4)}\n`);
        answered++;
      }
    }, 10);
    let code: number;
    try {
      code = await run;
    } finally {
      clearInterval(typing);
    }
    assert.equal(code, 0, c.err());
    assert.equal(answered, 6);
    const unitDir = join(out, 'HOST-0001', 'led1');
    const file = JSON.parse(await readFile(join(unitDir, (await readdir(unitDir)).find((f) => f.endsWith('.json'))!), 'utf8')) as CalibrationFile;

    let rig = await Rig.connect(fw.url);
    try {
      const table = await rig.readCalibration();
      assert.ok(sameTable(table, { leds: [file.table] }), 'the firmware stores what the file records');
      await rig.reset();
      assert.ok(sameTable(await rig.readCalibration(), table), 'kept across Reset');
    } finally {
      await rig.close();
    }
    await fw.stop();
    fw = await startFirmware(binary, nv);
    rig = await Rig.connect(fw.url);
    try {
      const table = await rig.readCalibration();
      assert.ok(sameTable(table, { leds: [file.table] }), 'kept across a power cycle (same NV file)');
      assert.equal(rig.info.leds.find((l) => l.id === 1)?.calibrated, true);
      const host = new HostCalibration(table);
      // the firmware's conversion, seen in Status while running, is the host's to the last bit (float32 on the wire)
      const statuses: Status[] = [];
      const sub = rig.status$.subscribe((s) => statuses.push(s));
      await rig.configure({ mode: ModulationMode.MODULATION_MODE_CONTINUOUS, sampleRateHz: 1000, leds: [{ channel: 1, powerUw: 33.3 }], detectorIds: [0], oversampling: 1, blockSamples: 100, statusIntervalMs: 50 });
      await rig.start();
      while (!statuses.some((s) => s.running && (s.leds.find((l) => l.channel === 1)?.currentMa ?? 0) > 0)) await new Promise((r) => setTimeout(r, 10));
      sub.unsubscribe();
      const led = statuses.filter((s) => s.running).map((s) => s.leds.find((l) => l.channel === 1)!).find((l) => l.currentMa > 0)!;
      assert.equal(led.currentMa, Math.fround(host.currentForPower(1, 33.3)!));
      assert.equal(led.powerUw, Math.fround(host.powerForCurrent(1, host.currentForPower(1, 33.3)!)));
      await rig.stop();
      await assert.rejects(rig.configure({ mode: ModulationMode.MODULATION_MODE_CONTINUOUS, sampleRateHz: 1000, leds: [{ channel: 1, powerUw: host.rangeUw(1)!.maxUw * 1.1 }], detectorIds: [0], oversampling: 1, blockSamples: 100 }), /NOT_CALIBRATED|outside/);
    } finally {
      await rig.close();
    }
  });
});
