import assert from 'node:assert/strict';
import fc from 'fast-check';
import { packAscii, putFixed6, putPrecision9 } from '../../../host/record/number-text.ts';

const scratch = new Uint8Array(64);
/** What a put* function writes, as text (after a few bytes of something else, as in a row). */
function written(put: (v: number, out: Uint8Array, at: number) => number, v: number): string {
  scratch.fill(120);
  const end = put(v, scratch, 3);
  return String.fromCharCode(...scratch.subarray(3, end));
}
const precision9 = (v: number): string => written(putPrecision9, v);
const fixed6 = (v: number): string => written(putFixed6, v);
const builtin = (text: string) => (v: number): string => (Number.isNaN(v) ? 'NaN' : text === 'p' ? v.toPrecision(9) : v.toFixed(6));

/** Values that stress rounding: ties and near-ties at the last digit kept, round decimals, both signs. */
function hardValues(decimalsOf: (a: number) => number, count: number, seed: number): number[] {
  let s = seed;
  const rnd = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    let a = 10 ** Math.floor(rnd() * 12 - 2) * (1 + 9 * rnd());
    const k = decimalsOf(a);
    if (i % 3 === 0) {
      // a tie at the last kept digit, and neighbours a few ulps away
      a = (Math.floor(a * 10 ** k) + 0.5) / 10 ** k;
      a += ((i % 9) - 4) * Number.EPSILON * a;
    } else if (i % 3 === 1) a = Math.round(a * 10 ** k) / 10 ** k;
    out.push(rnd() < 0.5 ? -a : a);
  }
  return out;
}

describe('record/number-text: CSV numbers as bytes, without toPrecision/toFixed per value', () => {
  it('putPrecision9 writes Number.prototype.toPrecision(9) (NaN as "NaN"): random doubles, ties, near-ties, edges', () => {
    const expected = builtin('p');
    const edges = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, 1, 1 - 2 ** -53, 9.999999995, 99999999.95, 999999999.4, 999999999.5,
      1e9, 1e-7, 5e-324, Number.MAX_VALUE, 123456789.5, 0.5, 2.5, 3000.000005, 1e21, 12345.67895, 100000000, 10];
    for (const v of [...edges, ...edges.map((x) => -x)]) assert.equal(precision9(v), expected(v), String(v));
    for (const v of hardValues((a) => 8 - Math.floor(Math.log10(a)), 300_000, 7)) assert.equal(precision9(v), expected(v), String(v));
    fc.assert(fc.property(fc.double(), (v) => precision9(v) === expected(v)), { numRuns: 20_000 });
  });

  it('putFixed6 writes Number.prototype.toFixed(6): session times up to days, negative times, ties, near-ties', () => {
    const expected = builtin('f');
    const edges = [0, -0, Number.NaN, -1e-7, 5e-7, 0.0000015, 2 ** 31 / 1e6, 86400.0000005, 4e9, 3.9999e9, 1e21, 0.1 + 0.2, 36.0425475, 1, 10, 0.999999];
    for (const v of [...edges, ...edges.map((x) => -x)]) assert.equal(fixed6(v), expected(v), String(v));
    for (const v of hardValues(() => 6, 300_000, 11)) assert.equal(fixed6(v), expected(v), String(v));
    // times as the CSVs make them: index / rate - group delay, over a day at 100 Hz (every 61st)
    for (let i = 0; i < 8_640_000; i += 61) {
      const t = i / 100 - 0.04247550766845975;
      assert.equal(fixed6(t), t.toFixed(6), String(t));
    }
    fc.assert(fc.property(fc.double({ min: -1e10, max: 1e10 }), (v) => fixed6(v) === expected(v)), { numRuns: 20_000 });
  });

  it('packAscii: the words, stored little-endian, give back the text, and zero past it (a packed slot reused for a shorter text too)', () => {
    const words = new Uint32Array(8).fill(0xffffffff);
    for (const text of ['-6.188507e-5', '1', '', '12345678901234', '.001000', 'NaN']) {
      assert.equal(packAscii(text, words, 2, 4), text.length);
      const bytes = new Uint8Array(16);
      const view = new DataView(bytes.buffer);
      for (let w = 0; w < 4; w++) view.setUint32(4 * w, words[2 + w]!, true);
      assert.equal(String.fromCharCode(...bytes.subarray(0, text.length)), text);
      assert.deepEqual([...bytes.subarray(text.length)], new Array(16 - text.length).fill(0));
      assert.deepEqual([words[0], words[1], words[6], words[7]], [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
    }
  });
});
