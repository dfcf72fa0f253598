import assert from 'node:assert/strict';
import fc from 'fast-check';
import { butterworthLowpass, Decimator, DspError, SosFilter } from '../../../host/dsp/index.ts';
import { dB, fitSine, rng } from './synth.ts';

const fsIn = 1000;

function tone(fHz: number, n0: number, count: number, channels = 1): Float64Array {
  const x = new Float64Array(count * channels);
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < channels; c++) x[i * channels + c] = (c + 1) * Math.sin((2 * Math.PI * fHz * (n0 + i)) / fsIn);
  }
  return x;
}

function decimateAll(dec: Decimator, x: Float64Array, n0: number, block = 100): { first: number; y: Float64Array } {
  const ch = dec.channelCount;
  const total = x.length / ch;
  const y = new Float64Array((dec.maxOutputSamples(total) + 1) * ch);
  const out = dec.createOutput(block);
  let first = -1;
  let k = 0;
  for (let i = 0; i < total; i += block) {
    const len = Math.min(block, total - i);
    const r = dec.process(x.subarray(i * ch, (i + len) * ch), n0 + i, out);
    if (r.count === 0) continue;
    if (first < 0) first = r.firstOutputIndex;
    y.set(out.subarray(0, r.count * ch), k * ch);
    k += r.count;
  }
  return { first, y: y.subarray(0, k * ch) };
}

describe('dsp/decimate', () => {
  it('passes a 10 Hz tone (1 kHz -> 100 Hz) within 0.01 dB', () => {
    const dec = Decimator.fromRates(fsIn, 100, 1);
    const { first, y } = decimateAll(dec, tone(10, 0, 5000), 0);
    const t = Float64Array.from(y, (_, j) => ((first + j) * 10) / fsIn);
    const amp = fitSine(t.subarray(50), y.subarray(50), 10).amplitude;
    assert.ok(Math.abs(dB(amp)) < 0.01, `${dB(amp)} dB`);
  });

  it('attenuates a 100 Hz tone (aliases to DC at 100 Hz out) by >= 60 dB and 70 Hz by >= 35 dB', () => {
    for (const [f, minDb] of [
      [100, 60],
      [70, 35],
    ] as const) {
      const dec = Decimator.fromRates(fsIn, 100, 1);
      const { y } = decimateAll(dec, tone(f, 0, 5000), 0);
      let peak = 0;
      for (let j = 100; j < y.length; j++) peak = Math.max(peak, Math.abs(y[j]!));
      assert.ok(dB(peak) <= -minDb, `${f} Hz: ${dB(peak)} dB`);
    }
  });

  it('anchors output j to input j*factor: equals the reference filter sampled at n = j*factor (1e-12)', () => {
    const n0 = 1_000_003;
    const x = tone(7, n0, 3000, 2);
    const dec = new Decimator({ inputRateHz: fsIn, factor: 10, channelCount: 2 });
    const { first, y } = decimateAll(dec, x, n0, 77);
    assert.equal(first, Math.ceil(n0 / 10));
    for (let c = 0; c < 2; c++) {
      const ref = new SosFilter(butterworthLowpass(8, 40, fsIn));
      ref.setSteadyState(x[c]!);
      const chan = Float64Array.from({ length: 3000 }, (_, i) => x[i * 2 + c]!);
      ref.processInPlace(chan);
      for (let j = 0; j < y.length / 2; j++) {
        const n = (first + j) * 10;
        assert.ok(Math.abs(y[j * 2 + c]! - chan[n - n0]!) < 1e-12);
      }
    }
  });

  it('gives identical outputs however the input is split (property)', () => {
    const r = rng(5);
    const x = Float64Array.from({ length: 2000 * 3 }, () => r.gauss() + 100);
    const whole = decimateAll(new Decimator({ inputRateHz: 512, factor: 4, channelCount: 3 }), x, 9, 2000);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 700 }), (block) => {
        const s = decimateAll(new Decimator({ inputRateHz: 512, factor: 4, channelCount: 3 }), x, 9, block);
        return s.first === whole.first && s.y.length === whole.y.length && s.y.every((v, i) => Object.is(v, whole.y[i]));
      }),
      { numRuns: 40 },
    );
  });

  it('starts without a transient on a large DC level (within 1e-9 relative)', () => {
    const x = new Float64Array(1000).fill(30000);
    const { y } = decimateAll(Decimator.fromRates(10000, 100, 1), x, 0);
    for (const v of y) assert.ok(Math.abs(v / 30000 - 1) < 1e-9);
  });

  it('factor 1 passes samples through unchanged', () => {
    const x = Float64Array.from([1, 2, 3, 4]);
    const dec = new Decimator({ inputRateHz: 100, factor: 1, channelCount: 2 });
    const out = dec.createOutput(2);
    assert.deepEqual(dec.process(x, 5, out), { count: 2, firstOutputIndex: 5 });
    assert.deepEqual([...out], [1, 2, 3, 4]);
    // the next block continues the stream; only its first sampleCount rows are read
    const more = Uint16Array.from([5, 6, 7, 8, 9, 10]);
    assert.deepEqual(dec.process(more, 7, out, 2), { count: 2, firstOutputIndex: 7 });
    assert.deepEqual([...out], [5, 6, 7, 8]);
    assert.throws(() => dec.process(more, 10, out, 1), (e: unknown) => e instanceof DspError && e.code === 'E_DSP_DISCONTINUITY');
  });

  it('refuses rates that do not divide (E_DSP_BAD_RATE) and a gap (E_DSP_DISCONTINUITY)', () => {
    assert.throws(() => Decimator.fromRates(1000, 300, 1), (e: unknown) => e instanceof DspError && e.code === 'E_DSP_BAD_RATE');
    const dec = Decimator.fromRates(1000, 100, 1);
    const out = dec.createOutput(100);
    dec.process(new Float64Array(100), 0, out);
    assert.throws(() => dec.process(new Float64Array(100), 101, out), (e: unknown) => e instanceof DspError && e.code === 'E_DSP_DISCONTINUITY');
  });
});
