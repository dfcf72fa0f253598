import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  designLockin,
  DspError,
  type LockinConfig,
  LockinDemodulator,
  lockinEnvelopeGain,
  lockinRejectionDb,
} from '../../../host/dsp/index.ts';
import { dB, fitSine, type LockinScene, lockinSignal } from './synth.ts';

const fs = 10000;
const CARRIERS = [211, 331, 531];
const SPACED = [250, 2250, 4250]; // 2 kHz apart

interface Run {
  firstOutputIndex: number;
  count: number;
  channels: number;
  magnitude: Float64Array;
  phaseRad: Float64Array;
}

/** Feeds `x` (interleaved) through `demod` in blocks; collects all outputs. */
function run(demod: LockinDemodulator, x: Float64Array, n0: number, block = 256): Run {
  const dets = demod.detectorCount;
  const total = x.length / dets;
  const ch = demod.channelCount;
  const cap = demod.maxOutputSamples(total) + 1;
  const magnitude = new Float64Array(cap * ch);
  const phaseRad = new Float64Array(cap * ch);
  const out = demod.createOutput(block);
  let first = -1;
  let count = 0;
  for (let i = 0; i < total; i += block) {
    const len = Math.min(block, total - i);
    const r = demod.process(x.subarray(i * dets, (i + len) * dets), n0 + i, out);
    if (r.count === 0) continue;
    if (first < 0) first = r.firstOutputIndex;
    assert.equal(r.firstOutputIndex, first + count, 'outputs are contiguous');
    assert.equal(r.firstSampleIndex, r.firstOutputIndex * demod.design.decimation);
    magnitude.set(out.magnitude.subarray(0, r.count * ch), count * ch);
    phaseRad.set(out.phaseRad.subarray(0, r.count * ch), count * ch);
    count += r.count;
  }
  return { firstOutputIndex: first, count, channels: ch, magnitude, phaseRad };
}

/** Channel series from output `from` (relative) to the end. */
function series(r: Run, channel: number, from = 0): Float64Array {
  const s = new Float64Array(r.count - from);
  for (let j = from; j < r.count; j++) s[j - from] = r.magnitude[j * r.channels + channel]!;
  return s;
}

function maxAbs(a: Float64Array, ref = 0): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v - ref));
  return m;
}

const constant = (v: number) => (): number => v;

function scene(carriers: number[], peaks: number[], gains: number[][], extra: Partial<LockinScene> = {}): LockinScene {
  return {
    sampleRateHz: fs,
    leds: carriers.map((carrierHz, k) => ({ carrierHz, peak: constant(peaks[k]!) })),
    gains,
    ...extra,
  };
}

describe('dsp/lockin: design', () => {
  const d = designLockin({ sampleRateHz: fs, carriersHz: CARRIERS, detectorCount: 2 });

  it('defaults to 100 Hz out via CIC2 /10 -> 1 kHz, Butterworth order 4 at 10 Hz, then /10', () => {
    assert.equal(d.decimation, 100);
    assert.equal(d.stage1Decimation, 10);
    assert.equal(d.stage2Decimation, 10);
    assert.equal(d.filterOrder, 4);
    assert.equal(d.cutoffHz, 10);
  });

  it('envelope response is flat within 0.1 dB from DC to 1 Hz (filter design)', () => {
    for (const f of [0, 0.02, 0.1, 0.5, 1]) {
      assert.ok(Math.abs(dB(lockinEnvelopeGain(d, f))) <= 0.1, `${f} Hz: ${dB(lockinEnvelopeGain(d, f))} dB`);
    }
  });

  it('predicts >= 60 dB rejection of DC and 100/120 Hz ambient and of the other carriers (filter design)', () => {
    for (const fc0 of CARRIERS) {
      for (const interferer of [0, 100, 120, ...CARRIERS.filter((c) => c !== fc0)]) {
        assert.ok(lockinRejectionDb(d, fc0, interferer) >= 60, `${fc0} vs ${interferer}: ${lockinRejectionDb(d, fc0, interferer)} dB`);
      }
    }
  });

  it('reports a DC group delay of 42.5 ms (within 0.5 ms) at the defaults', () => {
    assert.ok(Math.abs(d.groupDelayS - 0.0425) < 0.0005, String(d.groupDelayS));
  });

  it('refuses an output rate that does not divide the sample rate (E_DSP_BAD_RATE)', () => {
    assert.throws(
      () => designLockin({ sampleRateHz: fs, carriersHz: CARRIERS, detectorCount: 1, outputRateHz: 300 }),
      (e: unknown) => e instanceof DspError && e.code === 'E_DSP_BAD_RATE',
    );
    assert.throws(
      () => designLockin({ sampleRateHz: 10000.5, carriersHz: CARRIERS, detectorCount: 1 }),
      (e: unknown) => e instanceof DspError && e.code === 'E_DSP_BAD_RATE',
    );
  });

  it('refuses a cutoff >= outputRate/2 and bad carriers with typed errors', () => {
    assert.throws(
      () => designLockin({ sampleRateHz: fs, carriersHz: CARRIERS, detectorCount: 1, cutoffHz: 50 }),
      (e: unknown) => e instanceof DspError && e.code === 'E_DSP_BAD_CUTOFF',
    );
    for (const carriersHz of [[211, 211], [6000], [0], []]) {
      assert.throws(
        () => new LockinDemodulator({ sampleRateHz: fs, carriersHz, detectorCount: 1 }),
        (e: unknown) => e instanceof DspError && e.code === 'E_DSP_BAD_CARRIER',
      );
    }
  });
});

describe('dsp/lockin: synthetic signals', () => {
  const cfg: LockinConfig = { sampleRateHz: fs, carriersHz: CARRIERS, detectorCount: 2 };
  const settle = designLockin(cfg).settlingOutputs;

  it('recovers g*peak/2 within 0.1 % and the phase lag within 1 mrad, 2 detectors x 3 carriers', () => {
    const peaks = [1.0, 0.6, 0.3];
    const gains = [
      [0.8, 0.5, 0.2],
      [0.1, 1.2, 0.9],
    ];
    const lag = [0.4, -1.1];
    const x = lockinSignal(scene(CARRIERS, peaks, gains, { phaseRad: lag }), 0, 3 * fs);
    const r = run(new LockinDemodulator(cfg), x, 0);
    for (let d = 0; d < 2; d++) {
      for (let k = 0; k < 3; k++) {
        const c = d * 3 + k;
        const expected = (gains[d]![k]! * peaks[k]!) / 2;
        const m = series(r, c, settle);
        assert.ok(maxAbs(m, expected) <= 1e-3 * expected, `det ${d} carrier ${k}: ${maxAbs(m, expected) / expected}`);
        for (let j = settle; j < r.count; j++) {
          assert.ok(Math.abs(r.phaseRad[j * 6 + c]! - lag[d]!) < 1e-3, `phase ${r.phaseRad[j * 6 + c]}`);
        }
      }
    }
  });

  for (const fm of [0.02, 1]) {
    it(`passes a ${fm} Hz amplitude modulation of the carrier within 0.1 dB`, () => {
      const depth = 0.2;
      const seconds = fm < 0.1 ? 120 : 6;
      const c1: LockinConfig = { sampleRateHz: fs, carriersHz: [331], detectorCount: 1 };
      const sc: LockinScene = {
        sampleRateHz: fs,
        leds: [{ carrierHz: 331, peak: (n) => 1 + depth * Math.sin((2 * Math.PI * fm * n) / fs) }],
        gains: [[1]],
      };
      const x = lockinSignal(sc, 0, seconds * fs);
      const r = run(new LockinDemodulator(c1), x, 0);
      const m = series(r, 0, settle);
      const t = Float64Array.from(m, (_, i) => (r.firstOutputIndex + settle + i) / 100);
      const fit = fitSine(t, m, fm);
      const err = dB(fit.amplitude / fit.mean / depth);
      assert.ok(Math.abs(err) <= 0.1, `${fm} Hz AM depth error ${err} dB`);
      assert.ok(Math.abs(fit.mean - 0.5) < 1e-3 * 0.5);
    });
  }

  function crosstalkDb(carriers: number[]): number {
    let worst = Number.NEGATIVE_INFINITY;
    const c1: LockinConfig = { sampleRateHz: fs, carriersHz: carriers, detectorCount: 1 };
    for (let on = 0; on < carriers.length; on++) {
      const peaks = carriers.map((_, k) => (k === on ? 1 : 0));
      const x = lockinSignal(scene(carriers, peaks, [[1, 1, 1]]), 0, 3 * fs);
      const r = run(new LockinDemodulator(c1), x, 0);
      for (let k = 0; k < carriers.length; k++) {
        if (k === on) continue;
        worst = Math.max(worst, dB(maxAbs(series(r, k, settle)) / 0.5));
      }
    }
    return worst;
  }

  it('has crosstalk <= -60 dB between carriers 211/331/531 Hz', () => {
    const db = crosstalkDb(CARRIERS);
    assert.ok(db <= -60, `crosstalk ${db} dB`);
  });

  it('has crosstalk <= -60 dB between carriers 250/2250/4250 Hz (2 kHz spacing)', () => {
    const db = crosstalkDb(SPACED);
    assert.ok(db <= -60, `crosstalk ${db} dB`);
  });

  for (const [label, ambient] of [
    ['DC', (n: number) => (n >= 0 ? 1 : 0)],
    ['100 Hz flicker', (n: number) => Math.sin((2 * Math.PI * 100 * n) / fs)],
    ['120 Hz flicker', (n: number) => Math.sin((2 * Math.PI * 120 * n) / fs + 0.3)],
  ] as const) {
    it(`rejects ambient ${label} by >= 60 dB on every carrier (no LED on)`, () => {
      const x = lockinSignal(scene(CARRIERS, [0, 0, 0], [[0, 0, 0]], { ambient: (n) => ambient(n) }), 0, 3 * fs);
      const r = run(new LockinDemodulator({ ...cfg, detectorCount: 1 }), x, 0);
      for (let k = 0; k < 3; k++) {
        const leak = dB(maxAbs(series(r, k, settle)) / 1);
        assert.ok(leak <= -60, `carrier ${CARRIERS[k]}: ${leak} dB`);
      }
    });
  }

  it('measures amplitude within 0.5 % with ambient DC (20x) + 100/120 Hz flicker + white noise (sigma 0.002)', () => {
    const x = lockinSignal(
      scene(CARRIERS, [1, 1, 1], [[1, 0.7, 0.4]], {
        ambient: (n) => 10 + Math.sin((2 * Math.PI * 100 * n) / fs) + 0.5 * Math.sin((2 * Math.PI * 120 * n) / fs),
        noiseStd: 0.002,
      }),
      0,
      4 * fs,
    );
    const r = run(new LockinDemodulator({ ...cfg, detectorCount: 1 }), x, 0);
    [0.5, 0.35, 0.2].forEach((expected, k) => {
      const err = maxAbs(series(r, k, settle), expected) / expected;
      assert.ok(err <= 0.005, `carrier ${CARRIERS[k]}: ${err}`);
    });
  });

  it('settles to within 0.5 % of an amplitude step after design.settlingOutputs outputs', () => {
    const stepAt = 25_050; // not on an output boundary
    const sc: LockinScene = {
      sampleRateHz: fs,
      leds: [{ carrierHz: 211, peak: (n) => (n < stepAt ? 1 : 1.6) }],
      gains: [[1]],
    };
    const c1: LockinConfig = { sampleRateHz: fs, carriersHz: [211], detectorCount: 1 };
    const d = designLockin(c1);
    const x = lockinSignal(sc, 0, 5 * fs);
    const r = run(new LockinDemodulator(c1), x, 0);
    const jStep = Math.ceil(stepAt / d.decimation);
    for (let j = settle; j < r.count; j++) {
      if (j >= jStep && j < jStep + d.settlingOutputs) continue;
      const expected = j < jStep ? 0.5 : 0.8;
      const err = Math.abs(r.magnitude[j]! - expected) / expected;
      assert.ok(err <= 0.005, `output ${j}: ${r.magnitude[j]} vs ${expected}`);
    }
    // and it did move: mid-transition is neither level
    assert.ok(Math.abs(r.magnitude[jStep + 2]! - 0.8) > 0.01);
  });

  it('has output noise std = sigma*sqrt(4*ENBW/fs) within 10 % (ENBW 10.26 Hz for order 4 at 10 Hz)', () => {
    const sigma = 0.5;
    const c1: LockinConfig = { sampleRateHz: fs, carriersHz: [331], detectorCount: 1 };
    const x = lockinSignal({ ...scene([331], [0.2], [[1]]), noiseStd: sigma, seed: 7 }, 0, 60 * fs);
    const demod = new LockinDemodulator(c1);
    const out = demod.createOutput(x.length, true);
    const res = demod.process(x, 0, out);
    let s2 = 0;
    let n = 0;
    for (let j = settle; j < res.count; j++) {
      s2 += out.quadrature![j]! ** 2; // the signal is all in-phase; Q is noise only
      n++;
    }
    const measured = Math.sqrt(s2 / n);
    const enbw = (10 * (Math.PI / 8)) / Math.sin(Math.PI / 8);
    const predicted = sigma * Math.sqrt((4 * enbw) / fs);
    assert.ok(Math.abs(measured / predicted - 1) < 0.1, `${measured} vs ${predicted}`);
  });

  it('works at sample indices near 2^52 (phase within 1 mrad, amplitude within 0.1 %)', () => {
    const n0 = 2 ** 52 + 12_345;
    const c1: LockinConfig = { sampleRateHz: fs, carriersHz: [211, 531], detectorCount: 1 };
    const x = lockinSignal(scene([211, 531], [1, 0.5], [[1, 1]], { phaseRad: [0.25] }), n0, 2 * fs);
    const r = run(new LockinDemodulator(c1), x, n0);
    assert.equal(r.firstOutputIndex, Math.ceil(n0 / 100));
    for (let j = settle; j < r.count; j++) {
      assert.ok(Math.abs(r.magnitude[j * 2]! - 0.5) < 5e-4);
      assert.ok(Math.abs(r.magnitude[j * 2 + 1]! - 0.25) < 2.5e-4);
      assert.ok(Math.abs(r.phaseRad[j * 2]! - 0.25) < 1e-3);
    }
  });

  it('demodulates a non-tabulated carrier (211.3 Hz) within 0.1 %', () => {
    const c1: LockinConfig = { sampleRateHz: fs, carriersHz: [211.3], detectorCount: 1 };
    const x = lockinSignal(scene([211.3], [1], [[1]]), 1000, 2 * fs);
    const r = run(new LockinDemodulator(c1), x, 1000);
    assert.ok(maxAbs(series(r, 0, settle), 0.5) < 5e-4);
  });
});

describe('dsp/lockin: blocks, anchoring, gaps', () => {
  const cfg: LockinConfig = { sampleRateHz: fs, carriersHz: CARRIERS, detectorCount: 2, blankSettling: false };
  const x = lockinSignal(
    scene(CARRIERS, [1, 0.5, 0.8], [
      [1, 0.5, 0.2],
      [0.3, 1, 0.6],
    ], { noiseStd: 0.1, ambient: (n) => 2 + Math.sin(n / 50) }),
    0,
    4000,
  );

  it('gives bit-identical outputs however the input is split into blocks (property, any start index)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4000 }), { maxLength: 12 }),
        fc.oneof(fc.nat(1000), fc.integer({ min: 2 ** 40, max: 2 ** 40 + 1000 })),
        fc.boolean(),
        (cutsRaw, n0, blank) => {
          const c = { ...cfg, blankSettling: blank };
          const whole = new LockinDemodulator(c);
          const outW = whole.createOutput(4000);
          const rw = whole.process(x, n0, outW);
          const split = new LockinDemodulator(c);
          const cuts = [...new Set(cutsRaw)].sort((a, b) => a - b);
          const out = split.createOutput(4000);
          let prev = 0;
          let got = 0;
          for (const cut of [...cuts, 4000]) {
            const r = split.process(x.subarray(prev * 2, cut * 2), n0 + prev, out);
            for (let j = 0; j < r.count * 6; j++) {
              const jw = (r.firstOutputIndex - rw.firstOutputIndex) * 6 + j;
              if (!Object.is(out.magnitude[j], outW.magnitude[jw]) || !Object.is(out.phaseRad[j], outW.phaseRad[jw])) {
                return false;
              }
            }
            got += r.count;
            prev = cut;
          }
          return got === rw.count;
        },
      ),
      { numRuns: 60 },
    );
  });

  it('anchors output j to raw index j*100: demodulators started at different samples agree within 1e-9 once settled', () => {
    const long = lockinSignal(scene(CARRIERS, [1, 0.5, 0.8], [[1, 0.5, 0.2]]), 0, 3 * fs);
    const c1 = { ...cfg, detectorCount: 1 };
    const a = run(new LockinDemodulator(c1), long, 0);
    const start = 4321;
    const b = run(new LockinDemodulator(c1), long.subarray(start), start);
    assert.equal(b.firstOutputIndex, Math.ceil(start / 100));
    for (let j = b.firstOutputIndex + 150; j < a.count; j++) {
      for (let k = 0; k < 3; k++) {
        const va = a.magnitude[j * 3 + k]!;
        const vb = b.magnitude[(j - b.firstOutputIndex) * 3 + k]!;
        assert.ok(Math.abs(va - vb) < 1e-9, `j=${j}: ${va} vs ${vb}`);
      }
    }
  });

  it('throws E_DSP_DISCONTINUITY on a gap, and after reset() blanks at most settlingOutputs outputs, then reads within 0.5 %', () => {
    const c1: LockinConfig = { sampleRateHz: fs, carriersHz: [211], detectorCount: 1 };
    const demod = new LockinDemodulator(c1);
    const sig = lockinSignal(scene([211], [1], [[1]]), 0, 2 * fs);
    const out = demod.createOutput(fs);
    demod.process(sig.subarray(0, 5000), 0, out);
    assert.equal(demod.nextSampleIndex, 5000);
    assert.throws(
      () => demod.process(sig.subarray(6000, 7000), 6000, out),
      (e: unknown) => e instanceof DspError && e.code === 'E_DSP_DISCONTINUITY',
    );
    demod.reset();
    const resume = 6037;
    const r = demod.process(sig.subarray(resume, resume + 10000), resume, out);
    let nan = 0;
    while (nan < r.count && Number.isNaN(out.magnitude[nan]!)) nan++;
    // the number blanked depends on the phase within the output period; never more than settlingOutputs
    assert.ok(nan >= demod.design.settlingOutputs - 2 && nan <= demod.design.settlingOutputs, `${nan} NaN`);
    for (let j = nan; j < r.count; j++) assert.ok(Math.abs(out.magnitude[j]! - 0.5) <= 0.0025, `${j}: ${out.magnitude[j]}`);
  });

  it('throws E_DSP_OUTPUT_TOO_SMALL and E_DSP_BAD_INPUT for wrong array sizes', () => {
    const demod = new LockinDemodulator(cfg);
    assert.throws(
      () => demod.process(x, 0, demod.createOutput(256)),
      (e: unknown) => e instanceof DspError && e.code === 'E_DSP_OUTPUT_TOO_SMALL',
    );
    assert.throws(
      () => demod.process(x.subarray(0, 7), 0, demod.createOutput(256)),
      (e: unknown) => e instanceof DspError && e.code === 'E_DSP_BAD_INPUT',
    );
    assert.throws(
      () => demod.process(x.subarray(0, 8), -1, demod.createOutput(256)),
      (e: unknown) => e instanceof DspError && e.code === 'E_DSP_BAD_INDEX',
    );
  });
});
