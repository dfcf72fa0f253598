import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cobsDecodeInto, cobsEncodeInto, cobsMaxEncodedBytes } from '../../protocol/index.ts';

function encode(bytes: number[] | Uint8Array): number[] {
  const src = Uint8Array.from(bytes);
  const dst = new Uint8Array(cobsMaxEncodedBytes(src.length));
  return [...dst.subarray(0, cobsEncodeInto(src, dst))];
}

function decode(bytes: number[] | Uint8Array): number[] | null {
  const src = Uint8Array.from(bytes);
  const dst = new Uint8Array(src.length);
  const n = cobsDecodeInto(src, 0, src.length, dst);
  return n < 0 ? null : [...dst.subarray(0, n)];
}

describe('protocol/cobs', () => {
  // Reference vectors: the worked examples commonly published for COBS.
  const vectors: Array<[number[], number[]]> = [
    [[], [0x01]],
    [[0x00], [0x01, 0x01]],
    [[0x00, 0x00], [0x01, 0x01, 0x01]],
    [[0x11, 0x22, 0x00, 0x33], [0x03, 0x11, 0x22, 0x02, 0x33]],
    [[0x11, 0x22, 0x33, 0x44], [0x05, 0x11, 0x22, 0x33, 0x44]],
    [[0x11, 0x00, 0x00, 0x00], [0x02, 0x11, 0x01, 0x01, 0x01]],
  ];
  for (const [plain, coded] of vectors) {
    it(`encodes [${plain.join(',')}] as [${coded.join(',')}] and back`, () => {
      assert.deepEqual(encode(plain), coded);
      assert.deepEqual(decode(coded), plain);
    });
  }

  it('handles 254- and 255-byte runs without zeros (block boundary)', () => {
    const run254 = Array.from({ length: 254 }, (_, i) => (i % 255) + 1);
    assert.deepEqual(encode(run254), [0xff, ...run254]);
    assert.deepEqual(decode(encode(run254)), run254);
    assert.deepEqual(encode([0, ...run254]), [0x01, 0xff, ...run254]);
    assert.deepEqual(encode([...run254, 0]), [0xff, ...run254, 0x01, 0x01]);
    const run255 = Array.from({ length: 255 }, (_, i) => (i % 255) + 1);
    assert.deepEqual(encode(run255), [0xff, ...run255.slice(0, 254), 0x02, run255[254]!]);
    assert.deepEqual(decode(encode(run255)), run255);
  });

  it('round-trips arbitrary bytes, never emits 0x00, stays within the stated bound', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
      const coded = encode(bytes);
      assert.ok(!coded.includes(0));
      assert.ok(coded.length <= cobsMaxEncodedBytes(bytes.length));
      assert.deepEqual(decode(coded), [...bytes]);
    }));
  });

  it('rejects a zero byte and a code that runs past the end', () => {
    assert.equal(decode([0x03, 0x11, 0x00]), null);
    assert.equal(decode([0x05, 0x11, 0x22]), null);
  });
});
