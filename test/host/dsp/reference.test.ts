import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CarrierReference, carrierPhaseCycles } from '../../../host/dsp/index.ts';

describe('dsp/reference: carrier phase from the sample index', () => {
  it('carrierPhaseCycles equals the BigInt residue (f n mod fs)/fs exactly for n up to 2^53 (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4999 }), fc.maxSafeNat(), (f, n) => {
        const exact = Number((BigInt(f) * BigInt(n)) % 10000n) / 10000;
        return carrierPhaseCycles(f, 10000, n) === exact;
      }),
    );
  });

  it('tabulates integer carriers with period fs/gcd(f, fs) (211 Hz -> 10000, 250 Hz -> 40 samples)', () => {
    assert.equal(new CarrierReference(211, 10000, 64).periodSamples, 10000);
    assert.equal(new CarrierReference(250, 10000, 64).periodSamples, 40);
    assert.equal(new CarrierReference(211.5, 10000, 64).periodSamples, 20000);
  });

  it('falls back to per-chunk phases for 211.3 Hz and matches sin(2 pi frac(f n/fs)) within 1e-9 at n ~ 1e12', () => {
    const ref = new CarrierReference(211.3, 10000, 64);
    assert.equal(ref.periodSamples, null);
    const n0 = 1e12 + 17;
    const idx = ref.prepare(n0, 64);
    for (let i = 0; i < 64; i++) {
      // exact reference: 211.3 as a double is F / 2^k
      const u = carrierPhaseCycles(211.3, 10000, n0 + i);
      assert.ok(Math.abs(ref.sin[idx + i]! - Math.sin(2 * Math.PI * u)) < 1e-9);
      assert.ok(Math.abs(ref.cos[idx + i]! - Math.cos(2 * Math.PI * u)) < 1e-9);
    }
  });

  it('table entries at n = 2^53 - 1 equal sin of the exact residue within 1e-12', () => {
    const ref = new CarrierReference(531, 10000, 64);
    const n = Number.MAX_SAFE_INTEGER;
    const idx = ref.prepare(n, 1);
    const u = Number((531n * BigInt(n)) % 10000n) / 10000;
    assert.ok(Math.abs(ref.sin[idx]! - Math.sin(2 * Math.PI * u)) < 1e-12);
  });
});
