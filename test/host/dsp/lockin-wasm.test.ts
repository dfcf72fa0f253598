// The lock-in's WebAssembly SIMD mixing kernel (host/dsp/lockin-wasm.ts) against the JS mixCic:
// LockinDemodulator outputs (magnitude, phase, I, Q) must be bit-identical on random configs,
// sample types and block splits, including a fallback (float32) carrier and a long tabulated period.
import assert from 'node:assert/strict';
import { LockinDemodulator, type LockinConfig } from '../../../host/dsp/lockin.ts';
import { lockinMixWasm, setLockinWasm, setLockinWasmTableCap } from '../../../host/dsp/lockin-wasm.ts';

type Ctor = Float64ArrayConstructor | Float32ArrayConstructor | Int32ArrayConstructor | Int16ArrayConstructor | Uint16ArrayConstructor;

function makeRandom(seed0: number): () => number {
  let seed = seed0;
  return () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
}

/** Runs one demodulator with the kernel switched as `wasm` for every block. */
function processWith(wasm: boolean, d: LockinDemodulator, x: Parameters<LockinDemodulator['process']>[0], n: number, out: ReturnType<LockinDemodulator['createOutput']>, len: number): number {
  setLockinWasm(wasm);
  try {
    return d.process(x, n, out, len).count;
  } finally {
    setLockinWasm(true);
  }
}

describe('lock-in WebAssembly kernel', () => {
  it('is available here (else the identity test below compares JS with JS)', () => {
    assert.notEqual(lockinMixWasm(), null);
  });

  it('gives bit-identical outputs to the JS kernel (60 random configs, block splits and sample types)', () => {
    const rnd = makeRandom(7);
    const types: Ctor[] = [Uint16Array, Int16Array, Float64Array, Float32Array, Int32Array];
    let compared = 0;
    let differing = 0;
    for (let trial = 0; trial < 60; trial++) {
      const fs = [10000, 8000, 12000, 20000][trial % 4]!;
      const carriers = [211, 331, 531.25, 1234.5, 211.3].slice(0, 1 + (trial % 4));
      if (trial % 5 === 4) carriers[0] = Math.fround(211.3); // fallback reference (period > 2^17)
      if (trial % 7 === 3) carriers[carriers.length - 1] = 2011.125; // tabulated, period up to 160000 / 2^k
      const dc = 1 + (trial % 3);
      const cfg: LockinConfig = { sampleRateHz: fs, carriersHz: carriers, detectorCount: dc, outputRateHz: [100, 200, 50][trial % 3]!, cutoffHz: 10 };
      const js = new LockinDemodulator(cfg);
      const wa = new LockinDemodulator(cfg);
      const T = types[trial % types.length]!;
      const maxLen = trial % 6 === 5 ? 30000 : 3000; // some blocks span several internal chunks
      const oj = js.createOutput(maxLen, true);
      const ow = wa.createOutput(maxLen, true);
      let n = Math.floor(rnd() * 1e6);
      for (let blk = 0; blk < 40; blk++) {
        const len = 1 + Math.floor(rnd() * maxLen);
        const x = new T(len * dc);
        const float = T === Float64Array || T === Float32Array;
        for (let i = 0; i < x.length; i++) x[i] = float ? (rnd() - 0.5) * 1e4 : Math.floor(rnd() * 30000);
        const cj = processWith(false, js, x, n, oj, len);
        const cw = processWith(true, wa, x, n, ow, len);
        assert.equal(cw, cj);
        for (const k of ['magnitude', 'phaseRad', 'inPhase', 'quadrature'] as const) {
          for (let i = 0; i < cj * js.channelCount; i++) {
            compared++;
            if (!Object.is(ow[k]![i], oj[k]![i])) differing++;
          }
        }
        n += len;
        if (rnd() < 0.05) {
          js.reset();
          wa.reset();
          n += Math.floor(rnd() * 1000);
        }
      }
    }
    assert.ok(compared > 100000, `compared only ${compared} values`);
    assert.equal(differing, 0, `${differing} of ${compared} outputs differ between the WebAssembly and JS kernels`);
  });

  it('stays identical when its tables are dropped and copied again, and its memory grows, between blocks', () => {
    const rnd = makeRandom(11);
    // two demodulators taking turns, 4 detectors (a larger sample area), a long period and a fallback carrier
    const cfg: LockinConfig = { sampleRateHz: 8000, carriersHz: [2011.125, Math.fround(211.3), 331], detectorCount: 4 };
    const js = [new LockinDemodulator(cfg), new LockinDemodulator(cfg)];
    const wa = [new LockinDemodulator(cfg), new LockinDemodulator(cfg)];
    const oj = js[0]!.createOutput(20000, true);
    const ow = wa[0]!.createOutput(20000, true);
    const n = [0, 12345];
    setLockinWasmTableCap(1); // every table use past the first copies it again
    try {
      for (let blk = 0; blk < 12; blk++) {
        const which = blk % 2;
        const len = 1 + Math.floor(rnd() * 20000);
        const x = new Int32Array(len * 4);
        for (let i = 0; i < x.length; i++) x[i] = Math.floor((rnd() - 0.5) * 2e6);
        const cj = processWith(false, js[which]!, x, n[which]!, oj, len);
        const cw = processWith(true, wa[which]!, x, n[which]!, ow, len);
        n[which]! += len;
        assert.equal(cw, cj);
        assert.deepEqual(ow.inPhase!.subarray(0, cw * 12), oj.inPhase!.subarray(0, cj * 12));
        assert.deepEqual(ow.phaseRad.subarray(0, cw * 12), oj.phaseRad.subarray(0, cj * 12));
      }
    } finally {
      setLockinWasmTableCap();
    }
  });

  it('takes plain number arrays through the JS kernel with the same outputs', () => {
    const cfg: LockinConfig = { sampleRateHz: 10000, carriersHz: [211, 331], detectorCount: 2 };
    const a = new LockinDemodulator(cfg);
    const b = new LockinDemodulator(cfg);
    const rnd = makeRandom(3);
    const len = 5000;
    const x = Array.from({ length: 2 * len }, () => Math.floor(rnd() * 30000));
    const oa = a.createOutput(len, true);
    const ob = b.createOutput(len, true);
    const ca = processWith(true, a, x, 0, oa, len);
    const cb = processWith(true, b, Float64Array.from(x), 0, ob, len);
    assert.equal(ca, cb);
    assert.deepEqual(oa.quadrature!.subarray(0, ca * 4), ob.quadrature!.subarray(0, cb * 4));
  });
});
