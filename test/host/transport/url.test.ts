import assert from 'node:assert/strict';
import { TransportError } from '../../../host/transport/errors.ts';
import { openTransport } from '../../../host/transport/open.ts';
import { parseDeviceUrl } from '../../../host/transport/url.ts';

describe('host/transport: device URLs', () => {
  it('reads serial paths with an optional baud rate', () => {
    assert.deepEqual(parseDeviceUrl('/dev/ttyACM0'), { kind: 'serial', url: '/dev/ttyACM0', path: '/dev/ttyACM0', baudRate: 115200 });
    assert.deepEqual(parseDeviceUrl('COM3?baud=921600'), { kind: 'serial', url: 'COM3?baud=921600', path: 'COM3', baudRate: 921600 });
    assert.throws(() => parseDeviceUrl('/dev/ttyUSB0?baud=fast'), (e: unknown) => e instanceof TransportError && /bad baud/.test(e.message));
    assert.throws(() => parseDeviceUrl('/dev/ttyUSB0?parity=odd'), /unknown option "parity"/);
  });

  it('reads tcp://host:port and binding schemes', () => {
    assert.deepEqual(parseDeviceUrl('tcp://127.0.0.1:7000'), { kind: 'tcp', url: 'tcp://127.0.0.1:7000', host: '127.0.0.1', port: 7000 });
    assert.throws(() => parseDeviceUrl('tcp://localhost'), /no valid host and port/);
    assert.deepEqual(parseDeviceUrl('sim://sleep?seed=3'), { kind: 'binding', url: 'sim://sleep?seed=3', scheme: 'sim' });
    assert.throws(() => parseDeviceUrl('  '), /no device given/);
  });

  it('fails clearly for an unknown scheme, a missing port file and a closed TCP port', async () => {
    await assert.rejects(openTransport('nope://x'), /no device driver for nope:\/\//);
    await assert.rejects(openTransport('/dev/fiberrig-does-not-exist'), (e: unknown) => e instanceof TransportError && e.code === 'E_OPEN');
    await assert.rejects(openTransport('tcp://127.0.0.1:1'), (e: unknown) => e instanceof TransportError && e.code === 'E_OPEN');
  });
});
