// The simulator's bounds walker on the same byte vectors as the C firmware's unit test
// (hardware/firmware/test/unit.c, test_field_bounds): both must name the same field and request id.
import assert from 'node:assert/strict';
import { scanEnvelope } from '../../../firmware-sim/device/bounds.ts';
import { TestHost } from './helpers.ts';
import { encodeFrame, ErrorCode } from '../../../protocol/index.ts';

function helloWithName(nameBytes: number, idFirst: boolean, id: number): Uint8Array {
  const body = [0x52, 2 + nameBytes, 0x12, nameBytes, ...new Array<number>(nameBytes).fill(0x78)];
  return Uint8Array.from(idFirst ? [0x08, id, ...body] : [...body, 0x08, id]);
}

describe('firmware-sim: the bounds walker (same vectors as the C unit test)', () => {
  it('a 48-byte host_name overflows (47 fit), named with the request id before or after the body', () => {
    assert.deepEqual(scanEnvelope(helloWithName(48, true, 7)), { requestId: 7, overflow: { field: 'host_name', message: 'host_name: 48 bytes, at most 47' } });
    assert.equal(scanEnvelope(helloWithName(48, false, 9)).requestId, 9);
    assert.deepEqual(scanEnvelope(helloWithName(47, true, 7)), { requestId: 7, overflow: null });
  });

  it('nine LedDrives and five packed detector ids overflow their counts', () => {
    const leds = Uint8Array.from([0x08, 3, 0x62, 20, 0x0a, 18, ...new Array<number>(9).fill(0).flatMap(() => [0x1a, 0])]);
    assert.deepEqual(scanEnvelope(leds), { requestId: 3, overflow: { field: 'config.leds', message: 'config.leds: more than 8 entries' } });
    const packed = Uint8Array.from([0x08, 4, 0x62, 9, 0x0a, 7, 0x22, 5, 0, 1, 0, 1, 0]);
    assert.equal(scanEnvelope(packed).overflow?.field, 'config.detector_ids');
    assert.equal(scanEnvelope(packed).requestId, 4);
  });

  it('junk reads no request id and no overflow; a request id read before the junk is kept', () => {
    assert.deepEqual(scanEnvelope(Uint8Array.of(0x0f, 0xff, 0xff, 0xff)), { requestId: 0, overflow: null });
    assert.deepEqual(scanEnvelope(Uint8Array.of(0x08, 0x2a, 0x0f, 0xff)), { requestId: 42, overflow: null });
  });

  it('the device answers Error(FIELD_TOO_LONG, "host_name") under the request id, and does not count a decode error', () => {
    const h = new TestHost();
    h.device.receive(encodeFrame(helloWithName(100, true, 7)));
    h.device.advance(0.01);
    const e = h.received.find((m) => m.error);
    assert.equal(e?.requestId, 7);
    assert.equal(e?.error?.code, ErrorCode.ERROR_CODE_FIELD_TOO_LONG);
    assert.equal(e?.error?.field, 'host_name');
    assert.equal(h.device.frameRejections.decode, 0);
  });
});
