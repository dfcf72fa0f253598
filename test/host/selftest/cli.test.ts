import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { selftestCommand } from '../../../host/cli/commands/selftest.ts';
import { main } from '../../../host/cli/main.ts';
import type { SelfTestReport } from '../../../host/selftest/types.ts';

function capture(): { io: { stdout: PassThrough; stderr: PassThrough }; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  stdout.on('data', (b: Buffer) => o.push(b));
  stderr.on('data', (b: Buffer) => e.push(b));
  return { io: { stdout, stderr }, out: () => Buffer.concat(o).toString('utf8'), err: () => Buffer.concat(e).toString('utf8') };
}

describe('fiberrig selftest (CLI)', function () {
  this.timeout(60_000);

  it('prints a JSON report and exits 1 when a line fails', async () => {
    const c = capture();
    const code = await main(['selftest', '--device', 'sim://steps?speed=max&hw=dead_led:0', '--json', '--rate-seconds', '1', '--quiet'], c.io);
    assert.equal(code, 1);
    const report = JSON.parse(c.out()) as SelfTestReport;
    assert.equal(report.outcome, 'FAIL');
    assert.deepEqual(report.lines.filter((l) => l.outcome === 'FAIL').map((l) => l.id), ['led.0']);
    assert.equal(c.err(), '', '--quiet prints no progress');
  });

  it('prints one text line per check and exits 0 on a healthy rig, progress on stderr', async () => {
    const c = capture();
    const code = await selftestCommand(c.io, { device: 'sim://steps?speed=max&loopback=1', loopback: '1', rateSeconds: '1' });
    assert.equal(code, 0, c.out());
    const text = c.out();
    assert.match(text, /^PASS +handshake and firmware version/m);
    assert.match(text, /^PASS +digital I\/O loopback/m);
    assert.match(text, /^N\/A +sample-rate accuracy/m);
    assert.match(text, /^(PASS|WARN): \d+ PASS/m);
    assert.match(c.err(), /selftest: watchdog/);
  });

  it('skips the analog checks with --no-analog', async () => {
    const c = capture();
    const code = await main(['selftest', '--device', 'sim://steps?speed=max', '--no-analog', '--rate-seconds', '1', '--quiet'], c.io);
    assert.equal(code, 0);
    assert.match(c.out(), /^N\/A +LEDs and detectors +skipped/m);
    assert.doesNotMatch(c.out(), /LED 0 \(405 nm\)/);
  });

  it('refuses a bad --loopback with a usage error', async () => {
    const c = capture();
    const code = await main(['selftest', '--device', 'sim://steps', '--loopback', 'x'], c.io);
    assert.equal(code, 1);
    assert.match(c.err(), /E_USAGE/);
  });
});
