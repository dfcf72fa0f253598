import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  assertCompatibleVersion, packSamples, PROTOCOL_VERSION, ProtocolError, SampleFormat, samplesView,
} from '../../protocol/index.ts';

describe('protocol/version', () => {
  it('accepts the same major with any minor', () => {
    assertCompatibleVersion({ major: PROTOCOL_VERSION.major, minor: PROTOCOL_VERSION.minor + 7 });
  });

  it('refuses a different major with an error naming both versions', () => {
    assert.throws(() => assertCompatibleVersion({ major: 2, minor: 3 }, { major: 1, minor: 0 }), (e: unknown) => {
      assert.ok(e instanceof ProtocolError);
      assert.equal(e.code, 'E_VERSION_MISMATCH');
      assert.match(e.message, /2\.3/);
      assert.match(e.message, /1\.0/);
      return true;
    });
    assert.throws(() => assertCompatibleVersion(undefined), /none/);
  });
});

describe('protocol/samples', () => {
  const formats = [
    [SampleFormat.SAMPLE_FORMAT_INT16_LE, fc.integer({ min: -32768, max: 32767 })],
    [SampleFormat.SAMPLE_FORMAT_UINT16_LE, fc.integer({ min: 0, max: 65535 })],
    [SampleFormat.SAMPLE_FORMAT_INT32_LE, fc.integer()],
    [SampleFormat.SAMPLE_FORMAT_FLOAT32_LE, fc.float({ noNaN: true }).map(Math.fround)],
  ] as const;
  for (const [format, value] of formats) {
    it(`packs and views format ${SampleFormat[format]} at any byte offset (odd offsets are copied)`, () => {
      fc.assert(fc.property(fc.array(value, { maxLength: 64 }), fc.integer({ min: 0, max: 7 }), (values, offset) => {
        const packed = packSamples(format, values);
        const host = new Uint8Array(packed.length + offset);
        host.set(packed, offset);
        const view = samplesView(format, host.subarray(offset), 1, values.length);
        const float = format === SampleFormat.SAMPLE_FORMAT_FLOAT32_LE;
        assert.deepEqual([...view], values.map((v) => (!float && Object.is(v, -0) ? 0 : v)));
      }));
    });
  }

  it('checks little-endian layout byte by byte', () => {
    const packed = packSamples(SampleFormat.SAMPLE_FORMAT_INT16_LE, [0x1234, -2]);
    assert.deepEqual([...packed], [0x34, 0x12, 0xfe, 0xff]);
  });

  it('refuses a byte count that does not match samples x channels', () => {
    assert.throws(() => samplesView(SampleFormat.SAMPLE_FORMAT_INT16_LE, new Uint8Array(6), 2, 2), (e: unknown) => e instanceof ProtocolError && e.code === 'E_SAMPLE_LENGTH');
  });
});
