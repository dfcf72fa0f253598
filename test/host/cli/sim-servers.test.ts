// `fiberrig sim --count N` (several simulated devices on consecutive TCP ports, independent
// seeds) and `fiberrig sim --scenario FILE` (a scenario document, as sim://file?path=FILE).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import '../../../host/cli/devices.ts';
import { scenarioDeviceUrl, startSimServers, withSeedOffset } from '../../../host/cli/commands/sim.ts';
import { Rig } from '../../../host/rig/rig.ts';
import type { SimWorld } from '../../../firmware-sim/world/index.ts';
import { cli } from './helpers.ts';

const DOC = resolve('firmware-sim/world/scenario-file/examples/drug-at-30-min.json');
const truthOf = (w: unknown): SimWorld['truth'] => (w as SimWorld).truth;

/** A port P such that P and P+1 are free now. */
async function twoFreePorts(): Promise<number> {
  const listen = (port: number) => new Promise<import('node:net').Server | null>((done) => {
    const s = createServer();
    s.once('error', () => done(null));
    s.listen(port, '127.0.0.1', () => done(s));
  });
  for (;;) {
    const a = await listen(0);
    const port = (a!.address() as { port: number }).port;
    const b = port < 65535 ? await listen(port + 1) : null;
    await new Promise((r) => a!.close(r));
    if (b) {
      await new Promise((r) => b.close(r));
      return port;
    }
  }
}

describe('fiberrig sim: several devices, scenario documents', () => {
  it('--count 3 serves three devices with seeds seed, seed+1, seed+2, each its own world, all at once', async () => {
    const servers = await startSimServers({ tcp: '127.0.0.1:0', count: 3, device: 'sim://sleep?seed=5&speed=max' });
    try {
      assert.deepEqual(servers.map((s) => new URLSearchParams(s.device.split('?')[1]).get('seed')), ['5', '6', '7']);
      assert.equal(new Set(servers.map((s) => s.server.url)).size, 3);
      const ne = servers.map((s) => truthOf(s.server.device.world).signal('grabNe', 300));
      assert.equal(new Set(ne).size, 3, `independent worlds: ${ne.join(', ')}`);
      const rigs = await Promise.all(servers.map((s) => Rig.connect(s.server.url)));
      try {
        for (const r of rigs) assert.equal(r.info.firmwareName, 'fiberrig-sim');
      } finally {
        await Promise.all(rigs.map((r) => r.close()));
      }
    } finally {
      await Promise.all(servers.map((s) => s.server.close()));
    }
  });

  it('--tcp PORT --count 2 listens on PORT and PORT+1 (127.0.0.1 when no host is given)', async () => {
    const port = await twoFreePorts();
    const servers = await startSimServers({ tcp: String(port), count: 2, device: 'sim://linear' });
    try {
      assert.deepEqual(servers.map((s) => s.server.url), [`tcp://127.0.0.1:${port}`, `tcp://127.0.0.1:${port + 1}`]);
      assert.deepEqual(servers.map((s) => s.device), ['sim://linear', 'sim://linear?seed=2']);
    } finally {
      await Promise.all(servers.map((s) => s.server.close()));
    }
  });

  it('--scenario FILE serves the document, as --device sim://file?path=FILE does, with --device\'s options', async () => {
    assert.equal(scenarioDeviceUrl(DOC, undefined), `sim://file?path=${encodeURIComponent(DOC)}`);
    const [a] = await startSimServers({ tcp: '0', scenario: DOC, device: 'sim://file?seed=4&speed=max' });
    const [b] = await startSimServers({ tcp: '0', device: `sim://file?path=${encodeURIComponent(DOC)}&seed=4&speed=max` });
    try {
      assert.equal(new URLSearchParams(a!.device.split('?')[1]).get('seed'), '4');
      assert.equal(a!.server.device.world.scenario, 'drug-at-30-min');
      const drugs = (d: typeof a) => truthOf(d!.server.device.world).events(0, 3600).filter((e) => e.kind === 'drug').map((e) => e.tS);
      assert.deepEqual(drugs(a), [1800], 'the document\'s timeline is served');
      assert.deepEqual(drugs(a), drugs(b));
      assert.equal(truthOf(a!.server.device.world).signal('grabNe', 100), truthOf(b!.server.device.world).signal('grabNe', 100), 'same document, same seed: same world');
    } finally {
      await a!.server.close();
      await b!.server.close();
    }
  });

  it('seeds move on from the URL\'s (1 when it names none), keeping its other options', () => {
    assert.equal(withSeedOffset('sim://sleep?speed=10', 2), 'sim://sleep?speed=10&seed=3');
    assert.equal(withSeedOffset('sim://sleep?seed=9&speed=10', 1), 'sim://sleep?seed=10&speed=10');
    assert.equal(withSeedOffset('sim://sleep', 0), 'sim://sleep');
  });

  it('refuses what it cannot serve, before starting anything', async () => {
    for (const [args, message] of [
      [['sim', '--tcp', '0', '--count', '0'], /E_USAGE: --count 0: not a number of devices/],
      [['sim', '--tcp', '0', '--count', 'two'], /E_USAGE: --count two: not a number of devices/],
      [['sim', '--pty', '/tmp/fiberrig-never', '--count', '2'], /E_USAGE: --count serves several devices on consecutive TCP ports/],
      [['sim', '--tcp', '65535', '--count', '2'], /E_USAGE: --tcp 65535 --count 2: the ports run past 65535/],
      [['sim', '--tcp', '0', '--scenario', DOC, '--device', 'sim://sleep'], /E_USAGE: --scenario .* names the device, and --device sim:\/\/sleep names another/],
      [['sim', '--tcp', '0', '--scenario', '/nonexistent/scenario.json'], /E_SIM_SCENARIO_FILE|cannot read/],
      [['sim', '--tcp', '0', '--device', 'replay:///tmp/rec1'], /E_USAGE: fiberrig sim serves simulated devices, and replay:\/\/\/tmp\/rec1 is a recording.*acquire\|view --device replay:\/\/DIR/],
      [['sim', '--pty', '/tmp/fiberrig-never', '--device', 'sim://replay?rec=/tmp/rec1'], /E_USAGE: .* is a recording/],
    ] as const) {
      const r = await cli([...args]);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, message, `${args.join(' ')}: ${r.stderr}`);
    }
  });

  it('the command prints where each device is, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [resolve('host/cli/bin.js'), 'sim', '--tcp', '127.0.0.1:0', '--count', '2', '--device', 'sim://linear?seed=3'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let text = '';
    child.stderr.setEncoding('utf8');
    const lines = await new Promise<string[]>((done, reject) => {
      child.stderr.on('data', (chunk: string) => {
        text += chunk;
        const found = [...text.matchAll(/fiberrig sim: (\S+) on (tcp:\/\/127\.0\.0\.1:\d+)/g)];
        if (found.length === 2) done(found.map((m) => `${m[1]} ${m[2]}`));
      });
      child.once('exit', (code) => reject(new Error(`exited (${code}) early: ${text}`)));
    });
    assert.match(lines[0]!, /^sim:\/\/linear\?seed=3 tcp:/);
    assert.match(lines[1]!, /^sim:\/\/linear\?seed=4 tcp:/);
    const exited = new Promise<number | string | null>((done) => child.once('exit', (code, signal) => done(code ?? signal)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, text);
  });
});
