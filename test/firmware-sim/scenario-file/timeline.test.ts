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

describe('scenario files: events added during a run (SimWorld.addEvent)', () => {
  const render = (w: ReturnType<typeof world>, t0S: number, count: number): Int32Array[] => {
    const out = [new Int32Array(count), new Int32Array(count)];
    const cur = Array.from({ length: board.leds.length }, (_, k) => new Float32Array(count).fill(k === 1 ? 20 : 0));
    w.renderDetectors({ t0S, dtS: 1e-3, count, ledCurrentMa: cur, oversampling: 1, out });
    return out;
  };

  // The world's gains live on its time grid (steps: 2 ms) and are interpolated, so a declared
  // event shows one grid step before its atS; added during a run, it must come at least that far
  // ahead of what was rendered (SimControl.addEvent adds it from now on).
  it('a step added at 20 s after rendering up to 19.99 s gives the same codes as the document declaring it (0-40 s, noise on)', () => {
    const step = { kind: 'step', atS: 20, fluorophore: 'grabNe', level: 0.17 } as const;
    const declared = world({ ...BUILTIN_SCENARIOS['steps']!, name: 'declared', timeline: [step] });
    const added = world({ ...BUILTIN_SCENARIOS['steps']!, name: 'declared' });
    const a1 = render(declared, 0, 19_990);
    const b1 = render(added, 0, 19_990);
    added.addEvent(step);
    const a2 = render(declared, 19.99, 20_010);
    const b2 = render(added, 19.99, 20_010);
    for (let d = 0; d < 2; d++) {
      assert.deepEqual(b1[d], a1[d]);
      assert.deepEqual(b2[d], a2[d]);
    }
    assert.notDeepEqual(b2[0], render(world(BUILTIN_SCENARIOS['steps']!), 19.99, 20_010)[0], 'the step changed the codes');
    assert.deepEqual(added.truth.events(19, 21).filter((e) => e.kind === 'step' && e.level === 0.17).map((e) => e.tS), [20]);
  });

  it('a malformed event is refused naming the field; a drug needs an animal', () => {
    const w = world(BUILTIN_SCENARIOS['steps']!);
    assert.throws(() => w.addEvent({ kind: 'step', atS: -1, fluorophore: 'grabNe', level: 0.1 }), (e: Error & { code?: string }) => e.code === 'E_SIM_SCENARIO_FILE' && e.message.includes('atS'));
    assert.throws(() => w.addEvent({ kind: 'drug', atS: 10, neAmplitudeScale: 0.5 }), (e: Error & { code?: string }) => e.code === 'E_SIM_BAD_OPTION');
    const sleep = world(BUILTIN_SCENARIOS['sleep']!, 5);
    sleep.addEvent({ kind: 'drug', atS: 1800, neAmplitudeScale: 0.5 });
    const plain = world(BUILTIN_SCENARIOS['sleep']!, 5);
    const after = plain.truth.neCycles(1800, 3600);
    assert.ok(after.length > 10);
    for (const [i, c] of sleep.truth.neCycles(1800, 3600).entries()) assert.equal(c.amplitudeScale, after[i]!.amplitudeScale * (c.peakS >= 1800 ? 0.5 : 1));
  });
});

describe('scenario files: a micro-arousal at a chosen time (model sleep)', () => {
  it('wakes the animal for its duration, raises EMG and lowers delta like the model\'s own, and adds an NE peak that blood volume follows', () => {
    const plain = world(BUILTIN_SCENARIOS['sleep']!, 8);
    // a quiet NREM stretch: 20 s of NREM with no micro-arousal of the model's own nearby
    const own = plain.truth.events(0, 3600, ['microArousal']).map((e) => ({ tS: e.tS, durationS: 'durationS' in e ? e.durationS : 0 }));
    let t = 600;
    while (t < 3500 && !(Array.from({ length: 21 }, (_, i) => plain.truth.sleepStateAt(t + i)).every((s) => s === 'nrem') && own.every((e) => e.tS > t + 40 || e.tS + e.durationS < t - 20))) t += 5;
    assert.ok(t < 3500, 'found a quiet NREM stretch');
    const at = t + 5;
    const doc = { ...BUILTIN_SCENARIOS['sleep']!, name: 'ma', timeline: [{ kind: 'microArousal', atS: at, durationS: 8 }] } as ScenarioSpecInput;
    const w = world(doc, 8);
    assert.equal(plain.truth.sleepStateAt(at + 4), 'nrem');
    assert.equal(w.truth.sleepStateAt(at + 4), 'wake');
    assert.equal(w.truth.sleepStateAt(at + 9), 'nrem');
    assert.deepEqual(w.truth.events(at - 1, at + 1, ['microArousal']), [{ kind: 'microArousal', tS: at, endS: at + 8, durationS: 8, nePeakS: at + 3 }]);
    const p = plain.truth.auxEnvelope(at + 4);
    const q = w.truth.auxEnvelope(at + 4);
    const ma = (w.truth.scenario.params as { ma: { emgScale: number; deltaScale: number }; maNeBoost: number; bvGain: number; bvLagS: number }).ma;
    assert.ok(Math.abs(q.emgUv / p.emgUv - ma.emgScale) < 1e-9, `EMG x${q.emgUv / p.emgUv}`);
    assert.ok(Math.abs(q.deltaUv / p.deltaUv - ma.deltaScale) < 1e-9, `delta x${q.deltaUv / p.deltaUv}`);
    const params = w.truth.scenario.params as { maNeBoost: number; bvGain: number; bvLagS: number };
    const boost = w.truth.neOscillation!.peakToPeak * params.maNeBoost;
    assert.ok(Math.abs(w.truth.physiology(at + 3).ne - plain.truth.physiology(at + 3).ne - boost) < 1e-12, 'NE peak of maNeBoost x the amplitude at onset + 3 s');
    const bvDrop = plain.truth.physiology(at + 3 + params.bvLagS).bloodVolume - w.truth.physiology(at + 3 + params.bvLagS).bloodVolume;
    assert.ok(Math.abs(bvDrop - params.bvGain * boost) < 1e-12, 'blood volume follows the NE peak after bvLagS');
    assert.equal(w.truth.physiology(at - 30).ne, plain.truth.physiology(at - 30).ne, 'nothing changes well before');
  });
});
