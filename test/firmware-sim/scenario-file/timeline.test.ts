// Scenario files: the timeline's events in the world's ground truth and in what the device
// measures — sensor steps and ramps, a drug scaling the NE oscillation, motion, blood volume, TTLs.
import assert from 'node:assert/strict';
import { DEFAULT_BOARD, worldBoardOf } from '../../../firmware-sim/device/board.ts';
import { BUILTIN_SCENARIOS } from '../../../firmware-sim/world/scenario-file/builtins.ts';
import { parseScenarioSpec } from '../../../firmware-sim/world/scenario-file/parse.ts';
import type { ScenarioSpecInput } from '../../../firmware-sim/world/scenario-file/spec.ts';
import { createWorld } from '../../../firmware-sim/world/index.ts';

const board = worldBoardOf(DEFAULT_BOARD);

function world(doc: ScenarioSpecInput, seed = 3) {
  return createWorld(parseScenarioSpec(doc), seed, board);
}

describe('scenario files: timeline events', () => {
  it('steps and ramps add to a sensor signal (exact), and are truth events', () => {
    const doc: ScenarioSpecInput = {
      ...BUILTIN_SCENARIOS['dark']!, name: 'opto-step',
      timeline: [
        { kind: 'step', atS: 10, fluorophore: 'grabNe', level: 0.1 },
        { kind: 'ramp', atS: 20, durationS: 10, fluorophore: 'grabNe', to: 0.3 },
        { kind: 'step', atS: 50, fluorophore: 'redDye', level: -0.05 },
      ],
    };
    const w = world(doc);
    const ne = (t: number): number => w.truth.signal('grabNe', t);
    assert.equal(ne(5), 0);
    assert.equal(ne(15), 0.1);
    assert.ok(Math.abs(ne(25) - 0.2) < 1e-12, `half way up the ramp: ${ne(25)}`);
    assert.equal(ne(40), 0.3);
    assert.equal(w.truth.signal('redDye', 49), 0);
    assert.equal(w.truth.signal('redDye', 51), -0.05);
    assert.deepEqual(w.truth.events(0, 100).map((e) => [e.kind, e.tS]), [['step', 10], ['ramp', 20], ['step', 50]]);
  });

  it('motion dips tissue light by its depth at the middle; blood volume changes by its amount on the plateau; TTL pulses on their line', () => {
    const doc: ScenarioSpecInput = {
      ...BUILTIN_SCENARIOS['steps']!, name: 'events',
      optics: { ...BUILTIN_SCENARIOS['steps']!.optics, motion: true },
      timeline: [
        { kind: 'motion', atS: 100, durationS: 2, depth: 0.3 },
        { kind: 'bloodVolume', atS: 200, durationS: 60, riseS: 5, change: 0.04 },
        { kind: 'ttl', atS: 12.5, line: 1, widthS: 0.2 },
      ],
    };
    const w = world(doc);
    assert.equal(w.truth.motionFactor(99), 1);
    assert.ok(Math.abs(w.truth.motionFactor(101) - 0.7) < 1e-12);
    assert.deepEqual(w.truth.motionEvents(0, 1000), [{ startS: 100, durationS: 2, depth: 0.3 }]);
    assert.equal(w.truth.physiology(199).bloodVolume, 0);
    assert.ok(Math.abs(w.truth.physiology(230).bloodVolume - 0.04) < 1e-12);
    assert.ok(Math.abs(w.truth.physiology(202.5).bloodVolume - 0.02) < 1e-12, 'half way up the raised cosine');
    assert.equal(w.truth.physiology(261).bloodVolume, 0);
    const edges = w.digitalEdges(12, 13).filter((e) => e.lineId === DEFAULT_BOARD.digitalLines[1]!.id);
    assert.deepEqual(edges.map((e) => [e.rising, e.tS]), [[true, 12.5], [false, 12.7]]);
  });

  it('a drug at 1800 s (no wash-in) halves every NE cycle after it and none before, against the same seed without it', () => {
    const plain = world(BUILTIN_SCENARIOS['sleep']!, 5);
    const drugged = world({ ...BUILTIN_SCENARIOS['sleep']!, name: 'drug', timeline: [{ kind: 'drug', atS: 1800, neAmplitudeScale: 0.5 }] }, 5);
    const a = plain.truth.neCycles(0, 3600);
    const b = drugged.truth.neCycles(0, 3600);
    assert.equal(a.length, b.length);
    for (let i = 0; i < a.length; i++) {
      assert.equal(b[i]!.peakS, a[i]!.peakS, 'the same cycles');
      assert.equal(b[i]!.amplitudeScale, a[i]!.amplitudeScale * (a[i]!.peakS >= 1800 ? 0.5 : 1));
    }
    const nremAfter = Array.from({ length: 1800 }, (_, i) => 1800 + i).filter((t) => plain.truth.sleepStateAt(t) === 'nrem');
    assert.ok(nremAfter.length > 200, 'some NREM after the drug');
    const differs = nremAfter.filter((t) => drugged.truth.signal('grabNe', t) !== plain.truth.signal('grabNe', t));
    assert.ok(differs.length > nremAfter.length / 2, 'NE differs in NREM after the drug');
    for (let t = 0; t < 1800; t += 7) assert.equal(drugged.truth.signal('grabNe', t), plain.truth.signal('grabNe', t), `NE unchanged at ${t} s`);
    assert.deepEqual(drugged.truth.events(0, 3600).filter((e) => e.kind === 'drug'), [{ kind: 'drug', tS: 1800, name: 'drug', neAmplitudeScale: 0.5, washInS: 0 }]);
  });
});
