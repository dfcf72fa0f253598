// Issue 17, point 7: every argument is read before the device is touched; a
// mistyped sim:// scenario gets the list of scenarios (linear included), not
// "check that the device is plugged in"; `--device` and `--in` are the flags
// of every command (the old positional forms still work, with a note).
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { registerWorldFactory } from '../../../firmware-sim/device/create.ts';
import { SIM_SCENARIO_NAMES, simulatorWorldFactory } from '../../../firmware-sim/simulator.ts';
import { FiberrigError } from '../../../protocol/index.ts';
import { registerSimBindings } from '../../../host/cli/devices.ts';
import { type BindingInterface, openTransport, registerBinding } from '../../../host/transport/open.ts';
import { tempDir } from '../record/helpers.ts';
import { cli } from './helpers.ts';

// a device driver that counts every attempt to open its port (and then refuses it)
let opens = 0;
const spyBinding = {
  list: async () => [],
  open: async () => {
    opens++;
    throw new FiberrigError('E_SPY_OPENED', 'the spy device was opened', 'nothing to do: the test counts opens');
  },
} as unknown as BindingInterface;

describe('cli: arguments are read before the device is touched; --device and --in everywhere', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir('fiberrig-cli-args-');
    registerBinding('spy', spyBinding);
    // as the CLI registers it (host/cli/devices.ts); other suites in this process (conformance) register
    // the simulator's binding without the URL check
    registerSimBindings();
    registerWorldFactory(simulatorWorldFactory); // likewise the world factory (some suites register a bare one)
  });
  after(() => tmp.cleanup());

  it('the spy device counts opens (a valid command reaches it)', async () => {
    opens = 0;
    const r = await cli(['info', '--device', 'spy://unit']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_OPEN: cannot open spy:\/\/unit: the spy device was opened/);
    assert.equal(opens, 1);
  });

  it('a bad argument of acquire, view, calibrate or selftest fails with E_USAGE-like errors and the device is never opened', async () => {
    const out = join(tmp.dir, 'never');
    const cases: Array<[string[], RegExp]> = [
      [['acquire', '--device', 'spy://unit', '--out', out, '--live', '--port', 'abc'], /E_USAGE: --port abc is not a port number/],
      [['acquire', '--device', 'spy://unit', '--out', out, '--port', '8081'], /E_USAGE: --port 8081 is the live view's port, and --live is not given/],
      [['acquire', '--device', 'spy://unit', '--out', out, '--duration', '0'], /E_DURATION/],
      [['acquire', '--device', 'spy://unit', '--out', out, '--config', join(tmp.dir, 'missing.json')], /E_CONFIG|ENOENT/],
      [['acquire', '--device', 'nodriver://unit', '--out', out], /E_DEVICE_URL: no device driver for nodriver:\/\//],
      [['view', '--device', 'spy://unit', '--port', 'abc'], /E_USAGE: --port abc/],
      [['calibrate', '--device', 'spy://unit', '--led', 'x'], /E_USAGE: --led "x"/],
      [['calibrate', '--device', 'spy://unit', '--led', '1', '--points', '0'], /E_USAGE: --points "0"/],
      [['calibrate', '--device', 'spy://unit', '--led', '1', '--meter', 'scpi:/dev/ttyUSB9?baud=fast'], /E_METER: bad baud rate "fast"/],
      [['calibrate', '--device', 'spy://unit', '--led', '1', '--meter', 'sim'], /E_METER: --meter sim reads a simulated device, and spy:\/\/unit is not one/],
      [['selftest', '--device', 'spy://unit', '--loopback', '999'], /E_USAGE: --loopback 999/],
      [['selftest', '--device', 'spy://unit', '--rate-seconds', '0'], /E_USAGE: --rate-seconds 0/],
      [['sim', '--device', 'sim://sleep', '--tcp', '127.0.0.1:70000'], /E_USAGE: --tcp 127.0.0.1:70000: 70000 is not a port number/],
    ];
    for (const [args, pattern] of cases) {
      opens = 0;
      const r = await cli(args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern, args.join(' '));
      assert.equal(opens, 0, `${args.join(' ')}: the device was opened`);
      assert.equal(existsSync(out), false, `${args.join(' ')}: ${out} was created`);
    }
  });

  it('acquire --live on a port already in use fails before Start and leaves nothing', async () => {
    const busy = createServer();
    await new Promise<void>((done) => busy.listen(0, '127.0.0.1', done));
    try {
      const port = String((busy.address() as AddressInfo).port);
      const out = join(tmp.dir, 'busy');
      const r = await cli(['acquire', '--device', 'sim://linear?speed=max', '--duration', '1s', '--out', out, '--live', '--port', port, '--quiet']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /EADDRINUSE/);
      assert.equal(existsSync(out), false);
    } finally {
      busy.close();
    }
  });

  it('a mistyped sim:// scenario lists every scenario, linear included, and never says "plugged in" (acquire, info, sim, and opening the port directly)', async () => {
    assert.ok(SIM_SCENARIO_NAMES.includes('linear') && SIM_SCENARIO_NAMES.includes('sleep'));
    const list = new RegExp(`choose one of: ${SIM_SCENARIO_NAMES.join(', ')}`);
    const out = join(tmp.dir, 'slep');
    for (const args of [
      ['acquire', '--device', 'sim://slep?speed=max', '--duration', '1s', '--out', out],
      ['info', '--device', 'sim://slep'],
      ['sim', '--device', 'sim://slep', '--tcp', '127.0.0.1:0'],
    ]) {
      const r = await cli(args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /E_SIM_UNKNOWN_SCENARIO: there is no simulator scenario "slep"/, args.join(' '));
      assert.match(r.stderr, list, args.join(' '));
      assert.doesNotMatch(r.stderr, /plugged in/, args.join(' '));
    }
    assert.equal(existsSync(out), false);
    // past the CLI's check too: the binding's own error keeps its hint
    await assert.rejects(openTransport('sim://slep'), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'E_OPEN');
      assert.match(e.message, list);
      assert.doesNotMatch(e.message, /plugged in/);
      return true;
    });
  });

  it('inspect takes --in like demod and export; the positional form gives the same output with a deprecation note; both at odds, or neither, is E_USAGE', async () => {
    const rec = join(tmp.dir, 'rec');
    const acquired = await cli(['acquire', '--device', 'sim://linear?seed=2&speed=max', '--duration', '1s', '--out', rec, '--quiet']);
    assert.equal(acquired.code, 0, acquired.stderr);
    const flag = await cli(['inspect', '--in', rec, '--json']);
    assert.equal(flag.code, 0, flag.stderr);
    assert.equal(flag.stderr, '');
    const positional = await cli(['inspect', rec, '--json']);
    assert.equal(positional.code, 0, positional.stderr);
    assert.deepEqual(JSON.parse(positional.stdout), JSON.parse(flag.stdout));
    assert.match(positional.stderr, /note: `fiberrig inspect .*` is deprecated; write `fiberrig inspect --in /);
    const both = await cli(['inspect', '--in', rec, join(tmp.dir, 'other')]);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /E_USAGE: fiberrig inspect got --in .* and also /);
    const neither = await cli(['inspect']);
    assert.equal(neither.code, 1);
    assert.match(neither.stderr, /E_USAGE: fiberrig inspect needs --in/);
  });

  it('sim takes --device; its positional device still works with a deprecation note', async () => {
    const flag = await cli(['sim', '--device', 'sim://nope', '--tcp', '127.0.0.1:0']);
    assert.equal(flag.code, 1);
    assert.doesNotMatch(flag.stderr, /deprecated/);
    assert.match(flag.stderr, /scenario "nope"/);
    const positional = await cli(['sim', 'sim://nope', '--tcp', '127.0.0.1:0']);
    assert.equal(positional.code, 1);
    assert.match(positional.stderr, /note: `fiberrig sim sim:\/\/nope` is deprecated; write `fiberrig sim --device sim:\/\/nope`/);
    assert.match(positional.stderr, /scenario "nope"/);
    assert.deepEqual(readdirSync(tmp.dir).filter((f) => f === 'nope'), []);
  });
});
