// `fiberrig agent` and `fiberrig archive` read every argument before they connect or create
// anything; no broker at the URL is a typed error that says what to do.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../record/helpers.ts';
import { cli } from './helpers.ts';

describe('cli: fiberrig agent / archive arguments', function () {
  this.timeout(30_000);
  let tmp: ReturnType<typeof tempDir>;
  before(() => { tmp = tempDir('fiberrig-cli-lab-'); });
  after(() => tmp.cleanup());

  it('refuses bad arguments before connecting or creating the directory', async () => {
    const dir = join(tmp.dir, 'never');
    const agent = ['agent', '--rig', 'rig-1', '--device', 'sim://sleep', '--dir', dir];
    const cases: Array<[string[], RegExp]> = [
      [[...agent, '--nats', 'http://127.0.0.1:4222'], /E_USAGE: --nats http:\/\/127\.0\.0\.1:4222 is not a NATS server URL/],
      [[...agent, '--nats', 'nats://u:p@127.0.0.1:4222'], /E_USAGE: .*credentials go in --user\/--password or --creds/],
      [[...agent, '--nats', ','], /E_USAGE: --nats names no server/],
      [['agent', '--nats', 'nats://127.0.0.1:1', '--rig', 'rig.1', '--device', 'sim://sleep', '--dir', dir], /E_LAB_NAME: rig name "rig\.1"/],
      [['agent', '--nats', 'nats://127.0.0.1:1', '--rig', 'rig-1', '--device', 'nodriver://x', '--dir', dir], /E_DEVICE_URL/],
      [[...agent, '--nats', 'nats://127.0.0.1:1', '--ttl', '500ms'], /E_USAGE: --ttl 500ms is shorter than 1 s/],
      [[...agent, '--nats', 'nats://127.0.0.1:1', '--ttl', 'soon'], /E_DURATION/],
      [[...agent, '--nats', 'nats://127.0.0.1:1', '--password', 'x'], /E_USAGE: a password is given without --user/],
      [[...agent, '--nats', 'nats://127.0.0.1:1', '--user', 'a', '--creds', 'f.creds'], /E_USAGE: --creds and --user both given/],
      [['archive', '--nats', 'nats:/127.0.0.1', '--dir', dir], /E_USAGE: --nats nats:\/127\.0\.0\.1 is not a NATS server URL/],
      [[...agent, '--nats', 'nats://127.0.0.1:1', '--replicas', '0'], /E_USAGE: --replicas 0 is not 1 to 5.*3 for a 3-node JetStream cluster/],
      [['archive', '--nats', 'nats://127.0.0.1:1', '--dir', dir, '--replicas', 'three'], /E_USAGE: --replicas three is not 1 to 5/],
    ];
    for (const [args, pattern] of cases) {
      const r = await cli(args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern, args.join(' '));
      assert.equal(r.stdout, '');
      assert.equal(existsSync(dir), false, `${args.join(' ')}: ${dir} was created`);
    }
  });

  it('no broker at the URL: E_LAB_CONNECT, saying to start nats-server with JetStream', async () => {
    const r = await cli(['archive', '--nats', 'nats://127.0.0.1:1', '--dir', join(tmp.dir, 'archive')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_LAB_CONNECT: cannot reach the NATS server at nats:\/\/127\.0\.0\.1:1.*start nats-server with JetStream/);
  });
});
