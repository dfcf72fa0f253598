// Numeric command-line values (issue 14, point 7): a 400-digit --duration used to
// parse as Infinity (never ends), 0.00001ms recorded 0 s and exited 0; every
// numeric option and sim:// parameter is refused outside its range, with a
// message saying what to give, before anything is written.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseSimUrl } from '../../../firmware-sim/transport/sim-url.ts';
import { checkDurationForRates, DURATION_RANGE_S, parseDuration } from '../../../host/cli/duration.ts';
import { parsePort } from '../../../host/cli/commands/view.ts';
import { main } from '../../../host/cli/main.ts';
import { parseDeviceUrl } from '../../../host/transport/url.ts';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const FOUR_HUNDRED_DIGITS = '9'.repeat(400);

describe('cli: numeric options are refused outside their range', () => {
  it('--duration: 1 ms .. 30 days; 400 digits (Infinity) and 0.00001ms are refused with the range', () => {
    assert.equal(parseDuration('1ms'), DURATION_RANGE_S.min);
    assert.equal(parseDuration('720h'), DURATION_RANGE_S.max);
    assert.throws(() => parseDuration(`${FOUR_HUNDRED_DIGITS}s`), { code: 'E_DURATION', message: /longer than 30 days.*at most 720h/ });
    assert.throws(() => parseDuration(FOUR_HUNDRED_DIGITS), { code: 'E_DURATION' });
    assert.throws(() => parseDuration('721h'), { code: 'E_DURATION' });
    assert.throws(() => parseDuration('0.00001ms'), { code: 'E_DURATION', message: /shorter than 1 ms.*at least 1ms/ });
    assert.throws(() => parseDuration('0.5ms'), { code: 'E_DURATION' });
    // at least one output row: at 100 Hz output that is 10 ms
    assert.throws(() => checkDurationForRates(0.005, '5ms', 100), { code: 'E_DURATION', message: /shorter than one output row \(10ms at outputRateHz 100\).*at least 10ms/ });
    assert.doesNotThrow(() => checkDurationForRates(0.01, '10ms', 100));
  });

  it('--port: 0..65535 written in digits', () => {
    assert.equal(parsePort('0'), 0);
    assert.equal(parsePort('65535'), 65535);
    assert.equal(parsePort(undefined), 8080);
    for (const bad of ['', ' ', '-1', '65536', '1e3', '0x50', '80.5', 'NaN', 'Infinity', FOUR_HUNDRED_DIGITS, String(2 ** 32 + 80)]) {
      assert.throws(() => parsePort(bad), { code: 'E_USAGE', message: /give 1\.\.65535, or 0/ }, JSON.stringify(bad));
    }
  });

  it('acquire refuses a bad --duration or --port before writing anything (in-process)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fiberrig-cli-numbers-'));
    try {
      const cases: Array<[string[], RegExp]> = [
        [['--duration', FOUR_HUNDRED_DIGITS], /E_DURATION: .*longer than 30 days/],
        [['--duration', '0.00001ms'], /E_DURATION: .*shorter than 1 ms/],
        [['--duration', '5ms'], /E_DURATION: .*shorter than one output row/],
        [['--duration', '1s', '--live', '--port', '70000'], /E_USAGE: --port 70000/],
        [['--duration', '1s', '--live', '--port', String(2 ** 32 + 8080)], /E_USAGE: --port/],
      ];
      for (const [args, pattern] of cases) {
        const out = join(root, 'rec');
        const stderr = new Sink();
        const stdout = new Sink();
        const code = await main(['acquire', '--device', 'sim://linear?seed=1', '--out', out, '--quiet', ...args], { stdout, stderr });
        assert.equal(code, 1, args.join(' '));
        assert.match(stderr.text, pattern, args.join(' '));
        assert.equal(existsSync(out), false, `${args.join(' ')}: nothing written`);
        assert.deepEqual(readdirSync(root), []);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('serial ?baud=: 1..100000000; tcp:// port 1..65535', () => {
    assert.equal((parseDeviceUrl('/dev/ttyACM0?baud=921600') as { baudRate: number }).baudRate, 921_600);
    for (const bad of ['/dev/ttyACM0?baud=4294967296', `/dev/ttyACM0?baud=${FOUR_HUNDRED_DIGITS}`, '/dev/ttyACM0?baud=-1', '/dev/ttyACM0?baud=NaN', '/dev/ttyACM0?baud=1.5', 'tcp://127.0.0.1:65536', 'tcp://127.0.0.1:0']) {
      assert.throws(() => parseDeviceUrl(bad), { code: 'E_DEVICE_URL' }, bad);
    }
  });

  it('selftest --loopback: a line id 0..255', async () => {
    const stderr = new Sink();
    const code = await main(['selftest', '--device', 'sim://linear?seed=1', '--loopback', String(2 ** 32 + 1)], { stdout: new Sink(), stderr });
    assert.equal(code, 1);
    assert.match(stderr.text, /E_USAGE: --loopback 4294967297 is not a line number \(0\.\.255\)/);
  });

  it('sim:// parameters: seed fits 32 bits, speed/drift/link bounded, ids 0..255, fault numbers finite', () => {
    assert.equal(parseSimUrl('sim://linear?seed=4294967295').seed, 2 ** 32 - 1);
    assert.equal(parseSimUrl('sim://linear?speed=0.001&drift_ppm=-2000&link_bps=11520').speed, 0.001);
    const refused: string[] = [
      'seed=4294967296', // would alias seed 0 in the 32-bit generators
      `seed=${FOUR_HUNDRED_DIGITS}`, 'seed=-1', 'seed=NaN',
      'speed=1e-9', 'speed=1e400', 'speed=NaN', 'speed=-1', 'speed=2000000',
      'drift_ppm=1e400', 'drift_ppm=NaN', 'drift_ppm=-1000000',
      'link_bps=0.001', 'link_bps=1e400', 'link_bps=-1',
      'loopback=256', 'loopback=4294967296', 'loopback=-1',
      'led_aging=4294967296:0.9', 'led_aging=0:NaN', 'led_aging=0:1e400',
      'hw=dead_led:4294967296', 'hw=noisy_det:0:1e400',
      'faults=disconnect@NaN:for=1', 'faults=disconnect@-1:for=1', 'faults=disconnect:for=1e400', 'faults=corrupt:rate=NaN',
      'faults=overrun:blocks=-1', 'faults=overrun:blocks=1.5', 'faults=corrupt_frames:count=0', 'faults=drift:ppm=1e400',
    ];
    for (const q of refused) {
      assert.throws(() => parseSimUrl(`sim://linear?${q}`), (e: unknown) => {
        const code = (e as { code?: string }).code;
        return code === 'E_SIM_URL' || code === 'E_SIM_FAULT';
      }, q);
    }
  });
});
