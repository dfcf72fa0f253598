// host/align/fit.ts: numbering sync edges by pulse, the line fit, the knots, and the refusals.
import assert from 'node:assert/strict';
import { type AlignRecording, alignGroup, DriverTimeMap, thinKnots, toDriverS } from '../../../host/align/fit.ts';

const FS = 1000;
const PERIOD = 500;

/** A driver starting at host time 1e15 µs, and the host clock drift of none. */
const driver: AlignRecording = {
  name: 'drv', sampleRateHz: FS, syncOut: { periodSamples: PERIOD, pulseSamples: 5 }, risingEdges: [], syncLine: null,
  hostClock: { offsetUs: 1e15, driftPpm: 0 }, segments: 1,
};

/**
 * A receiver whose session sample 0 is at driver time `startS`, its clock `ppm` fast: pulse p (driver time
 * p × 0.5 s) is at its session time (p × 0.5 - startS) × (1 + ppm 1e-6).
 */
function receiver(name: string, startS: number, ppm: number, pulses: number[], wanderS: (p: number) => number = () => 0): AlignRecording {
  const rate = 1 + ppm * 1e-6;
  return {
    name, sampleRateHz: FS, syncOut: null, syncLine: 0, segments: 1,
    risingEdges: pulses.map((p) => ((p * PERIOD) / FS - startS + wanderS(p)) * rate * FS),
    hostClock: { offsetUs: 1e15 + startS * 1e6, driftPpm: -ppm },
  };
}

describe('align: sync edges onto the driver\'s axis', () => {
  it('numbers edges by pulse despite missing ones, and maps a drifting receiver within 1e-6 s (line and knots agree)', () => {
    const pulses = [3, 4, 5, 7, 8, 12, 13, 14, 15, 40, 41];
    const g = alignGroup([driver, receiver('r1', 1.234, 150, pulses)]);
    assert.equal(g.driver, 'drv');
    const a = g.recordings[1]!;
    assert.equal(a.role, 'receiver');
    assert.equal(a.firstPulse, 3);
    assert.equal(a.lastPulse, 41);
    assert.equal(a.edges, pulses.length);
    assert.ok(Math.abs(a.scale - 1 / (1 + 150e-6)) < 1e-9, `scale ${a.scale}`);
    assert.ok(a.residualMaxSamples < 1e-6);
    // a session time maps to the driver time it was at
    for (const t of [0, 3.3, 10, 25]) {
      const expected = t / (1 + 150e-6) + 1.234;
      assert.ok(Math.abs(toDriverS(a, t) - expected) < 1e-6, `${t}: ${toDriverS(a, t)} vs ${expected}`);
    }
    assert.deepEqual(g.recordings[0], { name: 'drv', role: 'driver', offsetS: 0, scale: 1, edges: 0, firstPulse: 0, lastPulse: 0, residualRmsSamples: 0, residualMaxSamples: 0, knots: [] });
  });

  it('a wandering crystal: the line leaves residuals, the knots follow the edges within 0.1 sample', () => {
    const pulses = Array.from({ length: 400 }, (_, i) => i + 2);
    // 3 ms of slow wander over 200 s
    const wander = (p: number): number => 0.003 * Math.sin((2 * Math.PI * p) / 400);
    const a = alignGroup([driver, receiver('r', 0.5, 20, pulses, wander)]).recordings[1]!;
    assert.ok(a.residualMaxSamples > 1, `the line misses by ${a.residualMaxSamples} samples`);
    assert.ok(a.knots.length > 2 && a.knots.length < 200, `${a.knots.length} knots`);
    const map = new DriverTimeMap(a);
    for (const p of pulses) {
      const t = (p * PERIOD) / FS - 0.5 + wander(p);
      const sessionS = t * (1 + 20e-6);
      assert.ok(Math.abs(map.map(sessionS) - (p * PERIOD) / FS) * FS < 0.1, `pulse ${p}`);
    }
  });

  it('thinKnots keeps first and last and the corners of a polyline', () => {
    const x = [0, 1, 2, 3, 4, 5, 6];
    const y = [0, 1, 2, 3, 2, 1, 0];
    assert.deepEqual(thinKnots(x, y, 0.01), [[0, 0], [3, 3], [6, 0]]);
  });

  it('refuses, with the recording named: no edges, spurious edges, an unknowable first pulse, no driver or two', () => {
    assert.throws(() => alignGroup([driver, { ...receiver('deaf', 1, 0, []), syncLine: 0 }]), (e: Error & { code: string }) => {
      assert.equal(e.code, 'E_ALIGN_NO_EDGES');
      assert.match(e.message, /deaf: no sync edge on digital input 0/);
      return true;
    });
    const spurious = receiver('noisy', 1, 0, [4, 5, 6]);
    spurious.risingEdges = [...spurious.risingEdges, spurious.risingEdges[1]! + 0.4 * PERIOD];
    assert.throws(() => alignGroup([driver, spurious]), { code: 'E_ALIGN_EDGES' });
    const lost = receiver('lost', 1, 0, [4, 5, 6]);
    lost.hostClock = { offsetUs: 1e15 + 1.25e6, driftPpm: 0 };
    assert.throws(() => alignGroup([driver, lost]), { code: 'E_ALIGN_AMBIGUOUS' });
    // host clocks that do not follow the rigs (a simulation at speed=max): the edges say 0 ppm, the host fits 50 %
    const paced = receiver('paced', 1, 0, [4, 5, 6]);
    paced.hostClock = { offsetUs: 1e15 + 1e6, driftPpm: -500_000 };
    assert.throws(() => alignGroup([driver, paced]), { code: 'E_ALIGN_AMBIGUOUS' });
    assert.throws(() => alignGroup([receiver('a', 1, 0, [3, 4]), receiver('b', 1, 0, [3, 4])]), { code: 'E_ALIGN_GROUP' });
    assert.throws(() => alignGroup([driver, { ...driver, name: 'drv2' }]), { code: 'E_ALIGN_GROUP' });
    assert.throws(() => alignGroup([{ ...driver, segments: 2 }, receiver('r', 1, 0, [3, 4])]), { code: 'E_ALIGN_DRIVER_RESUMED' });
  });
});
