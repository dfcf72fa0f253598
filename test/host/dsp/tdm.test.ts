import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DspError, type TdmConfig, TdmDemodulator, tdmSchedule } from '../../../host/dsp/index.ts';
import { rng } from './synth.ts';

const cfg: TdmConfig = {
  ledCount: 3,
  detectorCount: 2,
  slotSamples: 20,
  onSamples: 15,
  settleSamples: 4,
  windowSamples: 8,
  darkSlot: true,
};

/** Detector value at n: ambient(n) + gain[d][led] while that LED is on, + noise. */
function tdmSignal(
  c: TdmConfig,
  gains: number[][],
  n0: number,
  count: number,
  ambient: (n: number, d: number) => number,
  noise = 0,
): Float64Array {
  const r = rng(3);
  const out = new Float64Array(count * c.detectorCount);
  for (let i = 0; i < count; i++) {
    const n = n0 + i;
    // independent of tdmSchedule: explicit arithmetic
    const pos = n % (c.slotSamples * (c.ledCount + (c.darkSlot ? 1 : 0)));
    const slot = Math.floor(pos / c.slotSamples);
    const on = slot < c.ledCount && pos % c.slotSamples < c.onSamples;
    for (let d = 0; d < c.detectorCount; d++) {
      out[i * c.detectorCount + d] = ambient(n, d) + (on ? gains[d]![slot]! : 0) + noise * r.gauss();
    }
  }
  return out;
}

const gains = [
  [1.5, 0.7, 2.2],
  [0.3, 1.1, 0.9],
];

function collect(demod: TdmDemodulator, x: Float64Array, n0: number, cuts: number[]): { first: number; values: number[] } {
  const dc = demod.config.detectorCount;
  const total = x.length / dc;
  const out = demod.createOutput(total);
  const values: number[] = [];
  let first = -1;
  let prev = 0;
  for (const cut of [...cuts, total]) {
    const r = demod.process(x.subarray(prev * dc, cut * dc), n0 + prev, out);
    if (r.count > 0) {
      if (first < 0) first = r.firstCycleIndex;
      assert.equal(r.firstCycleIndex, first + values.length / demod.channelCount, 'cycles are contiguous');
      values.push(...out.values.subarray(0, r.count * demod.channelCount));
    }
    prev = cut;
  }
  return { first, values };
}

describe('dsp/tdm: schedule', () => {
  it('maps sample indices to slot, LED (-1 = dark) and window per the protocol', () => {
    // cycle = 4 slots x 20 = 80 samples
    assert.deepEqual(tdmSchedule(cfg, 0), { cycleIndex: 0, slot: 0, ledIndex: 0, slotPosition: 0, ledOn: true, inWindow: false });
    assert.deepEqual(tdmSchedule(cfg, 4), { cycleIndex: 0, slot: 0, ledIndex: 0, slotPosition: 4, ledOn: true, inWindow: true });
    assert.deepEqual(tdmSchedule(cfg, 11), { cycleIndex: 0, slot: 0, ledIndex: 0, slotPosition: 11, ledOn: true, inWindow: true });
    assert.deepEqual(tdmSchedule(cfg, 12), { cycleIndex: 0, slot: 0, ledIndex: 0, slotPosition: 12, ledOn: true, inWindow: false });
    assert.deepEqual(tdmSchedule(cfg, 35), { cycleIndex: 0, slot: 1, ledIndex: 1, slotPosition: 15, ledOn: false, inWindow: false });
    assert.deepEqual(tdmSchedule(cfg, 65), { cycleIndex: 0, slot: 3, ledIndex: -1, slotPosition: 5, ledOn: false, inWindow: true });
    assert.deepEqual(tdmSchedule(cfg, 80 * 1e12 + 44), { cycleIndex: 1e12, slot: 2, ledIndex: 2, slotPosition: 4, ledOn: true, inWindow: true });
  });

  it('refuses a window that runs past the slot (E_DSP_BAD_CONFIG)', () => {
    assert.throws(
      () => tdmSchedule({ ...cfg, settleSamples: 15, windowSamples: 6 }, 0),
      (e: unknown) => e instanceof DspError && e.code === 'E_DSP_BAD_CONFIG',
    );
  });
});

describe('dsp/tdm: demodulation', () => {
  it('returns the LED gain with ambient DC removed by the dark slot (within 1e-12) and a slow 0.2 Hz ambient drift (within 0.005)', () => {
    // at 10 kHz a cycle is 8 ms; ambient that changes within a cycle is removed only
    // approximately (LED and dark windows are up to 6 ms apart).
    const dcOnly = tdmSignal(cfg, gains, 0, 800, (_n, d) => 5 + d);
    const a = collect(new TdmDemodulator(cfg), dcOnly, 0, []);
    assert.equal(a.first, 0);
    assert.equal(a.values.length, 10 * 6);
    for (let c = 0; c < 10; c++) {
      for (let d = 0; d < 2; d++) {
        for (let l = 0; l < 3; l++) assert.ok(Math.abs(a.values[c * 6 + d * 3 + l]! - gains[d]![l]!) < 1e-12);
      }
    }
    const slow = tdmSignal(cfg, gains, 0, 8000, (n) => 5 + 0.5 * Math.sin((2 * Math.PI * 0.2 * n) / 10000));
    const b = collect(new TdmDemodulator(cfg), slow, 0, []);
    for (let i = 0; i < b.values.length; i++) {
      const expected = gains[Math.floor((i % 6) / 3)]![i % 3]!;
      assert.ok(Math.abs(b.values[i]! - expected) < 0.005, `${b.values[i]} vs ${expected}`);
    }
  });

  it('does not subtract without a dark slot (value = mean of the LED window, within 1e-12)', () => {
    const c: TdmConfig = { ...cfg, darkSlot: false };
    const x = tdmSignal(c, gains, 0, 600, () => 5);
    const r = collect(new TdmDemodulator(c), x, 0, []);
    assert.equal(r.values.length, 10 * 6);
    for (let i = 0; i < r.values.length; i++) {
      assert.ok(Math.abs(r.values[i]! - 5 - gains[Math.floor((i % 6) / 3)]![i % 3]!) < 1e-12);
    }
  });

  it('discards a partial first cycle when the stream starts mid-cycle (never mis-assigns it)', () => {
    for (const start of [1, 4, 5, 23, 64, 66, 79]) {
      const n0 = 80 * 7 + start;
      const x = tdmSignal(cfg, gains, n0, 400, () => 3);
      const r = collect(new TdmDemodulator(cfg), x, n0, []);
      // windows of cycle 7 start at slot offset 4: a start at position <= 4 still sees every window
      const firstFull = start <= 4 ? 7 : 8;
      assert.equal(r.first, firstFull, `start ${start}`);
      for (let i = 0; i < r.values.length; i++) {
        assert.ok(Math.abs(r.values[i]! - gains[Math.floor((i % 6) / 3)]![i % 3]!) < 1e-12, `start ${start}`);
      }
    }
  });

  it('gives identical outputs however the input is split into blocks (property)', () => {
    const n0 = 12_345;
    const x = tdmSignal(cfg, gains, n0, 1000, (n) => 2 + Math.sin(n / 30), 0.1);
    const whole = collect(new TdmDemodulator(cfg), x, n0, []);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 15 }), (cutsRaw) => {
        const cuts = [...new Set(cutsRaw)].sort((a, b) => a - b);
        const split = collect(new TdmDemodulator(cfg), x, n0, cuts);
        return split.first === whole.first && split.values.every((v, i) => Object.is(v, whole.values[i]));
      }),
    );
  });

  it('throws E_DSP_DISCONTINUITY on a gap; after reset() the partial cycle is dropped', () => {
    const demod = new TdmDemodulator(cfg);
    const x = tdmSignal(cfg, gains, 0, 800, () => 1);
    const out = demod.createOutput(800);
    assert.equal(demod.process(x.subarray(0, 200), 0, out).count, 1); // cycle 0 complete, cycle 1 partial
    assert.throws(
      () => demod.process(x.subarray(300, 400), 150, out),
      (e: unknown) => e instanceof DspError && e.code === 'E_DSP_DISCONTINUITY',
    );
    demod.reset();
    const r = demod.process(x.subarray(2 * 130, 2 * 400), 130, out);
    assert.equal(r.firstCycleIndex, 2);
    assert.equal(r.count, 3);
  });
});
