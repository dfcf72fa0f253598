import assert from 'node:assert/strict';
import {
  type DetectorDesc, frameLine, headroomLine, ledLine, loopbackLine, noiseLine, offsetLine, sampleRateLine, watchdogLine,
} from '../../../host/selftest/checks.ts';
import { DEFAULT_LIMITS } from '../../../host/selftest/limits.ts';
import type { WindowStats } from '../../../host/selftest/stats.ts';
import { overallOutcome } from '../../../host/selftest/types.ts';

const L = DEFAULT_LIMITS;
const det: DetectorDesc = { id: 0, label: 'PD0', adcBits: 16, fullScaleV: 3.3 };
const win = (mean: number, noiseRms = 1, extra: Partial<WindowStats> = {}): WindowStats => ({
  count: 100, missing: 0, mean, meanStdError: noiseRms / 10, noiseRms, flickerPeak: 0, min: mean - 3 * noiseRms, max: mean + 3 * noiseRms, atMax: 0, atZero: 0, ...extra,
});

describe('selftest judgements', () => {
  it('offset: PASS for a small dark level, WARN above 10 % FS, FAIL when clipped at 0, N/A when saturated', () => {
    assert.equal(offsetLine(det, win(1200), L).outcome, 'PASS');
    assert.equal(offsetLine(det, win(9000), L).outcome, 'WARN');
    assert.equal(offsetLine(det, win(0.2, 0.4, { atZero: 80 }), L).outcome, 'FAIL');
    assert.equal(offsetLine(det, win(65535, 0, { atMax: 100 }), L).outcome, 'N/A');
  });

  it('noise: limits in ppm of full scale', () => {
    assert.equal(noiseLine(det, win(1200, 3), 1000, L).outcome, 'PASS');
    assert.equal(noiseLine(det, win(1200, 9), 1000, L).outcome, 'WARN');
    assert.equal(noiseLine(det, win(1200, 20), 1000, L).outcome, 'FAIL');
    assert.equal(noiseLine(det, win(1200, 0), 1000, L).outcome, 'WARN', 'a constant code is suspicious');
    assert.equal(noiseLine(det, win(1200, 0), 1000, L, true).outcome, 'N/A', 'unless the target says its front end is modelled');
  });

  it('headroom: FAIL when saturated dark, WARN when a step clips, PASS with room', () => {
    assert.equal(headroomLine(det, win(65535, 0, { atMax: 100 }), [], L).outcome, 'FAIL');
    assert.equal(headroomLine(det, win(1200), [{ ledId: 1, currentMa: 25, max: 65535, clipped: 3 }], L).outcome, 'WARN');
    assert.equal(headroomLine(det, win(1200), [{ ledId: 1, currentMa: 25, max: 62000, clipped: 0 }], L).outcome, 'WARN');
    assert.equal(headroomLine(det, win(1200), [{ ledId: 1, currentMa: 25, max: 20000, clipped: 0 }], L).outcome, 'PASS');
  });

  describe('LED ladder', () => {
    const ladder = (means: number[], se = 0.2) => ({
      led: { id: 1, wavelengthNm: 470 },
      currentsMa: [0, 6.25, 12.5, 25],
      detectors: [{ detector: det, windows: means.map((m) => win(m, se * 10)) }],
    });
    it('PASS when the level rises at every step', () => {
      assert.equal(ledLine(ladder([1200, 3400, 5600, 10000]), L).outcome, 'PASS');
    });
    it('FAIL when the level does not move (dead LED)', () => {
      assert.equal(ledLine(ladder([1200, 1200.1, 1199.9, 1200]), L).outcome, 'FAIL');
    });
    it('FAIL when it falls back (not monotonic)', () => {
      assert.equal(ledLine(ladder([1200, 3400, 2000, 10000]), L).outcome, 'FAIL');
    });
    it('WARN when it rises but only a little (no reference target)', () => {
      assert.equal(ledLine(ladder([404, 405, 406, 407], 0.01), L).outcome, 'WARN');
    });
    it('ignores levels after clipping', () => {
      const l = ladder([1200, 30000, 60000, 65535]);
      const windows = l.detectors[0]!.windows.map((w, k) => (k === 3 ? { ...w, atMax: 50 } : w));
      assert.equal(ledLine({ ...l, detectors: [{ detector: det, windows }] }, L).outcome, 'PASS');
    });
    it('N/A without a usable detector', () => {
      assert.equal(ledLine({ ...ladder([1, 2, 3, 4]), detectors: [] }, L).outcome, 'N/A');
    });
  });

  it('sample rate: PASS, WARN, FAIL by ppm, N/A when implausible (not real time)', () => {
    const rateFit = (tps: number, sigma = 0.01) => ({ ticksPerSecond: tps, ticksPerSecondSigma: sigma, points: 150, spanS: 3 });
    assert.equal(sampleRateLine(rateFit(1000.05), 1000, L).outcome, 'PASS');
    assert.equal(sampleRateLine(rateFit(1000.5), 1000, L).outcome, 'WARN');
    assert.equal(sampleRateLine(rateFit(1002), 1000, L).outcome, 'FAIL');
    assert.equal(sampleRateLine(rateFit(998), 1000, L).outcome, 'FAIL');
    assert.equal(sampleRateLine(rateFit(10000), 1000, L).outcome, 'N/A');
    assert.equal(sampleRateLine(rateFit(1000.05, 0.6), 1000, L).outcome, 'WARN', 'too uncertain to vouch for');
    assert.equal(sampleRateLine(null, 1000, L).outcome, 'N/A');
  });

  it('frames: PASS without errors, WARN for a few, FAIL above the limit', () => {
    const none = { crc: 0, oversize: 0, cobs: 0, decode: 0 };
    assert.equal(frameLine({ received: 10000, hostRejected: none, deviceRejected: 0, timeouts: 0 }, L).outcome, 'PASS');
    assert.equal(frameLine({ received: 10000, hostRejected: { ...none, crc: 1 }, deviceRejected: 0, timeouts: 0 }, L).outcome, 'WARN');
    assert.equal(frameLine({ received: 10000, hostRejected: { ...none, crc: 50 }, deviceRejected: 0, timeouts: 0 }, L).outcome, 'FAIL');
    assert.equal(frameLine({ received: 10000, hostRejected: none, deviceRejected: 30, timeouts: 0 }, L).outcome, 'FAIL');
  });

  describe('loopback', () => {
    const expected = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000];
    const base = { output: { id: 2, label: 'SYNC' }, expectedRises: expected };
    it('PASS when some input follows the sync output', () => {
      const l = loopbackLine({ ...base, inputs: [{ id: 0, label: 'TTL0', rises: [1000] }, { id: 1, label: 'TTL1', rises: expected }], requiredLine: undefined }, L);
      assert.equal(l.outcome, 'PASS');
      assert.match(l.detail, /TTL1/);
    });
    it('N/A when nothing is wired and nothing is required', () => {
      assert.equal(loopbackLine({ ...base, inputs: [{ id: 0, label: 'TTL0', rises: [1000] }], requiredLine: undefined }, L).outcome, 'N/A');
    });
    it('FAIL when the required line misses the pulses', () => {
      assert.equal(loopbackLine({ ...base, inputs: [{ id: 1, label: 'TTL1', rises: [100, 200] }], requiredLine: 1 }, L).outcome, 'FAIL');
    });
    it('N/A without a sync output', () => {
      assert.equal(loopbackLine({ ...base, output: undefined, inputs: [], requiredLine: undefined }, L).outcome, 'N/A');
    });
  });

  it('watchdog: FAIL when the LEDs stay on, or when the detector stays lit; PASS on time', () => {
    const base = { timeoutMs: 500, waitedMs: 3000, darkFromSample: 1234, spuriousTrips: 0 };
    assert.equal(watchdogLine({ ...base, darkAfterMs: undefined }, L).outcome, 'FAIL');
    assert.equal(watchdogLine({ ...base, darkAfterMs: 480, level: { detector: det, litMean: 5000, afterMean: 4990, darkMean: 1200 } }, L).outcome, 'FAIL');
    assert.equal(watchdogLine({ ...base, darkAfterMs: 480, level: { detector: det, litMean: 5000, afterMean: 1201, darkMean: 1200 } }, L).outcome, 'PASS');
    assert.equal(watchdogLine({ ...base, darkAfterMs: 2500 }, L).outcome, 'WARN');
  });

  it('overall: the worst line, N/A counting as PASS', () => {
    const line = (outcome: 'PASS' | 'WARN' | 'FAIL' | 'N/A') => ({ id: outcome, title: outcome, outcome, detail: '' });
    assert.equal(overallOutcome([line('PASS'), line('N/A')]), 'PASS');
    assert.equal(overallOutcome([line('PASS'), line('WARN')]), 'WARN');
    assert.equal(overallOutcome([line('FAIL'), line('WARN')]), 'FAIL');
  });
});
