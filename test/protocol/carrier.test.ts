import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CarrierError, CarrierPhase, carrierPeriodSamples, carrierPhaseCycles, ModulationMode } from '../../protocol/index.ts';
import { ledCurrentAt, ModulationSchedule } from '../../firmware-sim/device/schedule.ts';
import { CarrierReference } from '../../host/dsp/index.ts';

/** The dyadic form written out independently: f = F / 2^k, fs integer. */
function dyadic(f: number, fs: number): { num: bigint; den: bigint } {
  let k = 0;
  let scaled = f;
  while (!Number.isInteger(scaled)) {
    scaled *= 2;
    k++;
  }
  return { num: BigInt(scaled), den: BigInt(fs) << BigInt(k) };
}

/** What the host computed before it shared carrier.ts: ((F n) mod D) / D, unreduced. */
function hostBefore(f: number, fs: number, n: number): number {
  const { num, den } = dyadic(f, fs);
  return Number((num * BigInt(n)) % den) / Number(den);
}

/** What the simulator computed before: the same fraction reduced by gcd(F, D). */
function simBefore(f: number, fs: number, n: number): number {
  const { num, den } = dyadic(f, fs);
  let a = num;
  let b = den;
  while (b !== 0n) [a, b] = [b, a % b];
  return Number(((num / a) * BigInt(n)) % (den / a)) / Number(den / a);
}

const float32Carrier = fc.float({ min: 1, max: 4499, noNaN: true, noDefaultInfinity: true }).map(Math.fround);
const sampleRate = fc.constantFrom(1000, 2000, 4000, 6000, 8000, 10_000, 6104);

describe('protocol carrier phase', () => {
  it('gives frac(f n / fs) at known sample indices', () => {
    assert.equal(carrierPhaseCycles(211, 10_000, 0), 0);
    assert.equal(carrierPhaseCycles(211, 10_000, 1), 0.0211);
    assert.equal(carrierPhaseCycles(211, 10_000, 47), 0.9917); // 211 * 47 = 9917
    assert.equal(carrierPhaseCycles(211, 10_000, 10_000), 0);
    assert.equal(carrierPhaseCycles(250, 10_000, 41), 0.025);
    assert.equal(carrierPhaseCycles(211.5, 10_000, 20_001), 211.5 / 10_000);
    // n = 2^53 - 1 = 9007199254740991: 211 * 991 = 209101, so 211 n mod 10000 = 9101
    assert.equal(carrierPhaseCycles(211, 10_000, Number.MAX_SAFE_INTEGER), 0.9101);
  });

  it('knows each carrier\'s exact period in samples', () => {
    assert.equal(carrierPeriodSamples(211, 10_000), 10_000n);
    assert.equal(carrierPeriodSamples(250, 10_000), 40n);
    assert.equal(carrierPeriodSamples(211.5, 10_000), 20_000n);
    // float32(211.3) = 13847757 / 2^16: period 10000 * 2^16
    assert.equal(carrierPeriodSamples(Math.fround(211.3), 10_000), 655_360_000n);
    // a dyadic sample rate (TDT's 24414.0625 / 4): 211 / 6103.515625 = 13504 / 390625
    const tdt = new CarrierPhase(211, 6103.515625);
    assert.equal(tdt.period, 390_625n);
    assert.equal(tdt.cyclesAt(390_625), 0);
    assert.equal(tdt.cyclesAt(1), 13_504 / 390_625);
  });

  it('one sample in is f / fs, rounded once (property, float32 carriers)', () => {
    fc.assert(fc.property(float32Carrier, sampleRate, (f, fs) => f >= fs || carrierPhaseCycles(f, fs, 1) === f / fs));
  });

  it('agrees bit for bit with what the simulator and the host computed before (property, float32 carriers, n < 2^53)', () => {
    fc.assert(
      fc.property(float32Carrier, sampleRate, fc.maxSafeNat(), (f, fs, n) => {
        const c = new CarrierPhase(f, fs);
        const u = c.cyclesAt(n);
        return u === simBefore(f, fs, n) && u === hostBefore(f, fs, n) && Number(c.dyadicResidueAt(n)) / Number(c.den) === u;
      }),
    );
  });

  it('stepping the residue by `step` mod `period` gives the same phases as cyclesAt (any block split)', () => {
    for (const f of [211, 531.5, Math.fround(211.3), Math.fround(1470.7)]) {
      const c = new CarrierPhase(f, 10_000);
      const p = Number(c.period);
      const step = Number(c.step % c.period);
      const n0 = 123_456_789_012;
      let r = Number(c.residueAt(n0));
      for (let i = 0; i < 2000; i++) {
        assert.equal(r / p, c.cyclesAt(n0 + i), `${f} Hz at n0 + ${i}`);
        r += step;
        if (r >= p) r -= p;
      }
    }
  });

  it('the simulator drives and the host demodulates with this phase', () => {
    const fs = 10_000;
    for (const f of [211, 531, Math.fround(211.3)]) {
      const config = { mode: ModulationMode.MODULATION_MODE_LOCK_IN, sampleRateHz: fs, leds: [{ channel: 0, peakMa: 20, carrierHz: f }] };
      const schedule = new ModulationSchedule(config);
      const ref = new CarrierReference(f, fs, 64);
      const out = [new Float32Array(64)];
      for (const n0 of [0, 9_999, 1e12 + 17]) {
        schedule.fill(n0, 64, out);
        const idx = ref.prepare(n0, 64);
        for (let i = 0; i < 64; i++) {
          const u = carrierPhaseCycles(f, fs, n0 + i);
          assert.equal(ledCurrentAt(config, 0, n0 + i), 20 * (1 + Math.sin(2 * Math.PI * u)) / 2);
          assert.equal(out[0]![i], Math.fround(20 * (1 + Math.sin(2 * Math.PI * u)) / 2));
          const j = ref.periodSamples === null ? idx + i : (idx + i) % ref.periodSamples;
          assert.ok(Math.abs(ref.sin[j]! - Math.sin(2 * Math.PI * u)) < 1e-9, `${f} Hz sin at ${n0 + i}`);
          assert.ok(Math.abs(ref.cos[j]! - Math.cos(2 * Math.PI * u)) < 1e-9, `${f} Hz cos at ${n0 + i}`);
        }
      }
    }
  });

  it('refuses a carrier or sample rate it cannot make exact, with a typed error', () => {
    for (const f of [Number.NaN, Number.POSITIVE_INFINITY, -1]) {
      assert.throws(() => new CarrierPhase(f, 10_000), (e: unknown) => e instanceof CarrierError && e.code === 'E_CARRIER_VALUE');
    }
    for (const fs of [0, -10, Number.NaN]) {
      assert.throws(() => new CarrierPhase(211, fs), (e: unknown) => e instanceof CarrierError && e.code === 'E_CARRIER_RATE');
    }
  });
});
