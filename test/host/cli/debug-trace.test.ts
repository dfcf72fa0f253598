// Issue 17, point 7: DEBUG=fiberrig:* (the `debug` package, as serialport
// uses it) traces the link on stderr: requests and replies with their ids,
// frames in and out, the rig's port events. Without DEBUG, nothing.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { type Ran, runNode } from './helpers.ts';

const BIN = resolve('host/cli/bin.js');

async function info(debug: string | undefined): Promise<Ran> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DEBUG;
  if (debug !== undefined) env.DEBUG = debug;
  const r = await runNode([BIN, 'info', '--device', 'sim://linear?seed=8'], { env });
  assert.equal(r.code, 0, r.stderr);
  return r;
}

describe('cli: DEBUG=fiberrig:* link traces', function () {
  this.timeout(120_000);

  it('DEBUG=fiberrig:* traces requests, replies, frames and port events on stderr; stdout is unchanged', async () => {
    const quiet = await info(undefined);
    const traced = await info('fiberrig:*');
    assert.equal(traced.stdout, quiet.stdout);
    assert.equal(quiet.stderr, '');
    assert.match(traced.stderr, /fiberrig:link -> hello #1\n/);
    assert.match(traced.stderr, /fiberrig:link <- deviceInfo #1 to hello\n/);
    assert.match(traced.stderr, /fiberrig:frames -> \d+ B\n/);
    assert.match(traced.stderr, /fiberrig:frames <- deviceInfo #1 \(\d+ B\)\n/);
    assert.match(traced.stderr, /fiberrig:rig sim:\/\/linear\?seed=8: port open\n/);
  });

  it('one namespace alone: DEBUG=fiberrig:link traces requests but not frames', async () => {
    const traced = await info('fiberrig:link');
    assert.match(traced.stderr, /fiberrig:link -> hello #1/);
    assert.doesNotMatch(traced.stderr, /fiberrig:frames|fiberrig:rig/);
  });
});
