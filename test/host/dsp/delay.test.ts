// The delay each demodulator reports (host/dsp/delay.ts) against the delay measured
// from the filter itself: a ramp through the real streaming filter comes out shifted by
// exactly its DC group delay once the transient has died out, so the lag of the ramp at
// each output time is the delay. Signals are synthesised here, independently of host/dsp.
import assert from 'node:assert/strict';
import {
  butterworthLowpass, Decimator, decimatorDelayS, designLockin, LockinDemodulator, lockinDelayS, sosDcGroupDelaySamples,
  sosGroupDelayS, TdmDemodulator, tdmDelayS,
} from '../../../host/dsp/index.ts';

/** Runs a whole input through a streaming demodulator in blocks; returns outputs keyed by output index. */
function collect(
  total: number,
  block: number,
  run: (start: number, len: number) => { first: number; count: number; values: ArrayLike<number> },
  channels: number,
): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (let i = 0; i < total; i += block) {
    const len = Math.min(block, total - i);
    const r = run(i, len);
    for (let k = 0; k < r.count; k++) {
      const row: number[] = [];
      for (let c = 0; c < channels; c++) row.push(r.values[k * channels + c]!);
      out.set(r.first + k, row);
    }
  }
  return out;
}

describe('host/dsp/delay: exact delays from the filter design', () => {
  it('sosDcGroupDelaySamples agrees with the differenced phase response within 1e-6 samples (orders 1-8)', () => {
    for (const order of [1, 2, 3, 4, 8]) {
      const sos = butterworthLowpass(order, 10, 1000);
      const exact = sosDcGroupDelaySamples(sos);
      const numeric = sosGroupDelayS(sos, 0, 1000) * 1000;
      assert.ok(Math.abs(exact - numeric) < 1e-6, `order ${order}: ${exact} vs ${numeric}`);
      assert.ok(exact > 0);
    }
  });

  for (const plan of [
    // carriers at a multiple of the intermediate rate fs/R1: the offset (DC) and the 2f mixing product fall on
    // zeros of the CIC2, so what is left is the envelope ramp through the chain alone
    { label: 'defaults (10 kS/s -> 100 Hz, 10 Hz order 4), 1 kHz carrier', sampleRateHz: 10_000, outputRateHz: 100, carrierHz: 1000 },
    { label: '5 kS/s -> 50 Hz, 4 Hz order 2, 500 Hz carrier', sampleRateHz: 5000, outputRateHz: 50, carrierHz: 500, cutoffHz: 4, filterOrder: 2 },
    { label: '10 kS/s -> 200 Hz, 20 Hz order 6, 2 kHz carrier', sampleRateHz: 10_000, outputRateHz: 200, carrierHz: 2000, cutoffHz: 20, filterOrder: 6 },
  ]) {
    it(`lock-in ${plan.label}: an amplitude ramp's magnitude lags by design.groupDelayS within 1 ns`, () => {
      const config = {
        sampleRateHz: plan.sampleRateHz, carriersHz: [plan.carrierHz], detectorCount: 1, outputRateHz: plan.outputRateHz,
        ...(plan.cutoffHz !== undefined ? { cutoffHz: plan.cutoffHz } : {}), ...(plan.filterOrder !== undefined ? { filterOrder: plan.filterOrder } : {}),
      };
      const demod = new LockinDemodulator(config);
      const fs = plan.sampleRateHz;
      const seconds = 8;
      const total = fs * seconds;
      // amplitude 100 + 20 t (codes), a 2000-code offset the lock-in must ignore
      const amplitude = (tS: number): number => 100 + 20 * tS;
      const x = new Float64Array(total);
      for (let n = 0; n < total; n++) x[n] = 2000 + amplitude(n / fs) * Math.sin((2 * Math.PI * ((plan.carrierHz * n) % fs)) / fs);
      const out = demod.createOutput(1000);
      const got = collect(total, 1000, (start, len) => {
        const r = demod.process(x.subarray(start, start + len), start, out);
        return { first: r.firstOutputIndex, count: r.count, values: out.magnitude };
      }, 1);
      let checked = 0;
      for (const [j, [m]] of got) {
        const tS = j / plan.outputRateHz;
        if (tS < 3 || !Number.isFinite(m)) continue; // transient: 3 s is > 10 settling times
        const lagS = tS - (m! - 100) / 20;
        assert.ok(Math.abs(lagS - demod.design.groupDelayS) < 1e-9, `output ${j}: lag ${(lagS * 1e3).toFixed(6)} ms vs design ${(demod.design.groupDelayS * 1e3).toFixed(6)} ms`);
        checked++;
      }
      assert.ok(checked > 100, `${checked} outputs checked`);
      assert.equal(lockinDelayS(designLockin(config)), demod.design.groupDelayS);
    });
  }

  it('lock-in at the defaults: 42.5 ms (0.9 ms CIC2 + 41.6 ms Butterworth) within 0.05 ms', () => {
    const d = designLockin({ sampleRateHz: 10_000, carriersHz: [211], detectorCount: 1 });
    assert.ok(Math.abs(d.groupDelayS - 0.0425) < 5e-5, `${d.groupDelayS}`);
    assert.ok(Math.abs((d.stage1Decimation - 1) / d.sampleRateHz - 0.0009) < 1e-12);
  });

  for (const plan of [{ inputRateHz: 1000, factor: 10 }, { inputRateHz: 512, factor: 4 }, { inputRateHz: 10_000, factor: 100 }]) {
    it(`decimator ${plan.inputRateHz} Hz / ${plan.factor}: a ramp lags by groupDelayS within 1 ns (about 2 output samples)`, () => {
      const dec = new Decimator({ ...plan, channelCount: 2 });
      const fs = plan.inputRateHz;
      const total = fs * 6;
      const x = new Float64Array(total * 2);
      for (let n = 0; n < total; n++) {
        x[2 * n] = 3 + 0.5 * (n / fs);
        x[2 * n + 1] = -1000 + 7 * (n / fs);
      }
      const out = dec.createOutput(777);
      const got = collect(total, 777, (start, len) => {
        const r = dec.process(x.subarray(start * 2, (start + len) * 2), start, out);
        return { first: r.firstOutputIndex, count: r.count, values: out };
      }, 2);
      let checked = 0;
      for (const [j, [a, b]] of got) {
        const tS = j / dec.outputRateHz;
        if (tS < 2) continue;
        const lagA = tS - (a! - 3) / 0.5;
        const lagB = tS - (b! + 1000) / 7;
        assert.ok(Math.abs(lagA - dec.groupDelayS) < 1e-9, `output ${j}: ${lagA} vs ${dec.groupDelayS}`);
        assert.ok(Math.abs(lagB - dec.groupDelayS) < 1e-9, `output ${j}: ${lagB} vs ${dec.groupDelayS}`);
        checked++;
      }
      assert.ok(checked > 10);
      assert.ok(Math.abs(dec.groupDelayS * dec.outputRateHz - 2) < 0.1, `${dec.groupDelayS * dec.outputRateHz} output samples`);
      assert.equal(decimatorDelayS(dec.sos, fs), dec.groupDelayS);
    });
  }

  it('decimator pass-through (factor 1): no delay, samples unchanged', () => {
    const dec = new Decimator({ inputRateHz: 512, factor: 1, channelCount: 1 });
    assert.equal(dec.groupDelayS, 0);
    const out = dec.createOutput(4);
    dec.process([1, 2, 3, 4], 10, out);
    assert.deepEqual([...out], [1, 2, 3, 4]);
  });

  for (const darkSlot of [true, false]) {
    it(`TDM (3 LEDs, ${darkSlot ? 'with' : 'no'} dark slot): each LED's output measures a light ramp at the window centre, delay within 1 ns`, () => {
      const fs = 10_000;
      const config = { ledCount: 3, detectorCount: 1, slotSamples: 125, onSamples: 120, settleSamples: 15, windowSamples: 100, darkSlot };
      const tdm = new TdmDemodulator(config);
      const cs = tdm.cycleSamples;
      const gains = [1.5, 0.7, 2.2];
      const ambient = 400;
      const light = (tS: number): number => 50 + 30 * tS;
      const total = cs * 200 + 37;
      const x = new Float64Array(total);
      for (let n = 0; n < total; n++) {
        const pos = n % cs;
        const slot = Math.floor(pos / config.slotSamples);
        const on = slot < config.ledCount && pos % config.slotSamples < config.onSamples;
        x[n] = (darkSlot ? ambient : 0) + (on ? gains[slot]! * light(n / fs) : 0);
      }
      const out = tdm.createOutput(300);
      const got = collect(total, 300, (start, len) => {
        const r = tdm.process(x.subarray(start, start + len), start, out);
        return { first: r.firstCycleIndex, count: r.count, values: out.values };
      }, 3);
      const rateHz = fs / cs;
      const delays = gains.map((_, k) => tdm.delayS(k, fs));
      assert.deepEqual(delays, gains.map((_, k) => tdmDelayS(config, k, fs)));
      // the windows are a slot apart: channels of one stream differ
      assert.ok(Math.abs(delays[1]! - delays[0]! + 125 / fs) < 1e-15 && Math.abs(delays[2]! - delays[1]! + 125 / fs) < 1e-15);
      assert.ok(got.size > 150);
      for (const [c, row] of got) {
        for (let k = 0; k < 3; k++) {
          const measuredAtS = (row[k]! / gains[k]! - 50) / 30;
          const lagS = c / rateHz - measuredAtS;
          assert.ok(Math.abs(lagS - delays[k]!) < 1e-9, `cycle ${c} LED ${k}: lag ${lagS} vs ${delays[k]}`);
        }
      }
    });
  }
});
