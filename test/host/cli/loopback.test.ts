import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { formatVersion, PROTOCOL_VERSION } from '../../../protocol/index.ts';

const bin = fileURLToPath(new URL('../../../host/cli/bin.js', import.meta.url));

describe('cli: fiberrig loopback', () => {
  it('handshakes through the real framing and prints JSON on stdout', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'loopback', '--json']);
    const summary = JSON.parse(stdout) as { protocol: string; requestId: number; framesRejected: Record<string, number> };
    assert.equal(summary.protocol, formatVersion(PROTOCOL_VERSION));
    assert.equal(summary.requestId, 1);
    assert.deepEqual(summary.framesRejected, { crc: 0, oversize: 0, cobs: 0 });
  });

  it('exits non-zero with usage on stderr for an unknown command', async () => {
    await assert.rejects(promisify(execFile)(process.execPath, [bin, 'no-such-command']), (e: { code: number; stderr: string }) => {
      assert.notEqual(e.code, 0);
      assert.match(e.stderr, /unknown command/);
      return true;
    });
  });
});
