import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  butterworthLowpass,
  DspError,
  SosFilter,
  sosFrequencyResponse,
  sosGroupDelayS,
  sosSectionCount,
} from '../../../host/dsp/index.ts';

const fs = 1000;

describe('dsp/biquad: Butterworth design', () => {
  for (const order of [1, 2, 3, 4, 5, 8]) {
    it(`order ${order}: |H| matches 1/sqrt(1+(tan(pi f/fs)/tan(pi fc/fs))^(2N)) within 1e-9 at 12 frequencies`, () => {
      const fcHz = 37;
      const sos = butterworthLowpass(order, fcHz, fs);
      assert.equal(sosSectionCount(sos), Math.ceil(order / 2));
      for (const f of [0, 1, 5, 10, 20, 30, 37, 50, 100, 200, 300, 450]) {
        const ratio = Math.tan((Math.PI * f) / fs) / Math.tan((Math.PI * fcHz) / fs);
        const expected = 1 / Math.sqrt(1 + ratio ** (2 * order));
        const got = sosFrequencyResponse(sos, f, fs).magnitude;
        assert.ok(Math.abs(got - expected) < 1e-9, `f=${f}: ${got} vs ${expected}`);
      }
    });
  }

  it('is -3.01 dB (within 0.001 dB) at the cutoff for any order and cutoff (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.double({ min: 0.001, max: 0.45, noNaN: true }), (order, rel) => {
        const sos = butterworthLowpass(order, rel * fs, fs);
        const db = sosFrequencyResponse(sos, rel * fs, fs).magnitudeDb;
        return Math.abs(db + 3.0103) < 0.001;
      }),
    );
  });

  it('has a DC group delay of 2.6131/(2 pi fc) s within 1 % for order 4 (analog Butterworth value)', () => {
    const sos = butterworthLowpass(4, 10, fs);
    const expected = 2.6131 / (2 * Math.PI * 10);
    assert.ok(Math.abs(sosGroupDelayS(sos, 0, fs) / expected - 1) < 0.01);
  });

  it('rejects a cutoff at or above Nyquist and a bad order with typed errors', () => {
    assert.throws(() => butterworthLowpass(4, 500, fs), (e: unknown) => e instanceof DspError && e.code === 'E_DSP_BAD_CUTOFF');
    assert.throws(() => butterworthLowpass(0, 10, fs), (e: unknown) => e instanceof DspError && e.code === 'E_DSP_BAD_ORDER');
    assert.throws(() => butterworthLowpass(2, 10, -1), (e: unknown) => e instanceof DspError && e.code === 'E_DSP_BAD_RATE');
  });
});

describe('dsp/biquad: streaming SosFilter', () => {
  it('passes a 5 Hz sine at the response magnitude (within 1e-6) and stops a 200 Hz one by >= 40 dB (order 4, fc 20 Hz)', () => {
    const sos = butterworthLowpass(4, 20, fs);
    for (const [f, expectMax] of [
      [5, sosFrequencyResponse(sos, 5, fs).magnitude],
      [200, 0.01],
    ] as const) {
      const filt = new SosFilter(sos);
      const x = new Float64Array(4000);
      for (let i = 0; i < x.length; i++) x[i] = Math.sin((2 * Math.PI * f * i) / fs);
      filt.processInPlace(x);
      let peak = 0;
      for (let i = 2000; i < x.length; i++) peak = Math.max(peak, Math.abs(x[i]!));
      if (f === 5) assert.ok(Math.abs(peak - expectMax) < 1e-4, `${peak} vs ${expectMax}`);
      else assert.ok(peak < expectMax, `200 Hz leaked ${peak}`);
    }
  });

  it('gives the same output however the input is split into blocks (bit-exact, property)', () => {
    const sos = butterworthLowpass(5, 30, fs);
    fc.assert(
      fc.property(
        fc.float64Array({ minLength: 1, maxLength: 300, noNaN: true, noDefaultInfinity: true, min: -1e3, max: 1e3 }),
        fc.array(fc.nat(300), { maxLength: 6 }),
        (x, cutsRaw) => {
          const whole = new SosFilter(sos).process(x, new Float64Array(x.length));
          const cuts = [...new Set(cutsRaw.map((c) => c % (x.length + 1)))].sort((a, b) => a - b);
          const parts = new SosFilter(sos);
          const out = Float64Array.from(x);
          let prev = 0;
          for (const c of [...cuts, x.length]) {
            parts.processInPlace(out, prev, c - prev);
            prev = c;
          }
          return out.every((v, i) => Object.is(v, whole[i]));
        },
      ),
    );
  });

  it('setSteadyState(x) makes a constant input pass with no transient (within 1e-10 relative)', () => {
    const f = new SosFilter(butterworthLowpass(6, 3, fs));
    f.setSteadyState(42);
    const x = new Float64Array(500).fill(42);
    f.processInPlace(x);
    for (const v of x) assert.ok(Math.abs(v - 42) < 42e-10, String(v));
    // without it, the first output would be ~0
    const g = new SosFilter(butterworthLowpass(6, 3, fs));
    assert.ok(g.process([42], new Float64Array(1))[0]! < 1);
  });

  it('process() into a too-short output throws E_DSP_OUTPUT_TOO_SMALL', () => {
    const f = new SosFilter(butterworthLowpass(2, 3, fs));
    assert.throws(() => f.process(new Float64Array(10), new Float64Array(9)), (e: unknown) => e instanceof DspError && e.code === 'E_DSP_OUTPUT_TOO_SMALL');
  });
});
