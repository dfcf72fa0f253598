// fiberrig/testing (host/testing/): targets by name with setup and teardown, world control during
// a run, and the ground-truth assertions, used as a user's mocha test would use them.
import assert from 'node:assert/strict';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import { DEFAULT_LOCKIN_CONFIG, toWireConfig } from '../../../host/config/acquisition.ts';
import { demodulate, type SignalBlock } from '../../../host/pipeline/demodulate.ts';
import type { ScenarioSpecInput } from '../../../host/cli/devices.ts';
import { type AcquisitionItem, Rig } from '../../../host/rig/rig.ts';
import {
  assertSim, expectGaps, expectTracks, gapsOf, MissingTool, openSimTargets, openTarget, type SignalTrace, signalOf, type Target, TestingError, useTarget,
} from '../../../host/testing/index.ts';

/** A 0.5 Hz sine on the green sensor, linear LEDs, no bleaching: a truth the lock-in can follow closely. */
const SINE_SCENARIO: ScenarioSpecInput = {
  format: 'fiberrig-scenario', version: 1, name: 'sine', model: 'signals',
  signals: { grabNe: { sines: [{ hz: 0.5, amplitude: 0.2 }] } },
  optics: {
    ledModel: 'linear', bleaching: false, motion: false, haemodynamics: false, temperatureDrift: false,
    brightness: { grabNe: 3e-3, redDye: 2e-3, tissueAf: 6e-4, fiberAf: 3e-4 }, ambientScale: 1, noiseScale: 0.3, gridS: 0.002,
  },
  aux: { content: 'none' },
  timeline: [{ kind: 'ttl', atS: 1, line: 0, widthS: 0.01 }],
};

const code = (e: unknown): string => (e instanceof TestingError ? e.code : `not a TestingError: ${String(e)}`);

describe('fiberrig/testing', () => {
  describe('a run on the simulator, with a fault injected during it', () => {
    const ref = useTarget('sim', { scenario: SINE_SCENARIO, speed: 'max', seed: 3 });
    let blocks: SignalBlock[] = [];
    let items: AcquisitionItem[] = [];
    let target: Target;

    before(async () => {
      target = ref.target;
      const rig = await Rig.connect(target.url);
      try {
        const config = toWireConfig(DEFAULT_LOCKIN_CONFIG);
        await rig.configure(config);
        const raw = firstValueFrom(rig.acquisition$.pipe(take(160), toArray()));
        const signals = firstValueFrom(rig.acquisition$.pipe(demodulate(config, rig.info), filter((b) => b.stream === 'signals'), take(160), toArray()));
        await rig.start();
        // lose 4 blocks 2 s into the run (world time), while it goes on
        const sim = assertSim(target);
        sim.inject(`overrun@${sim.runStartWorldS! + 2}:blocks=4`);
        [blocks, items] = await Promise.all([signals, raw]);
        await rig.stop();
      } finally {
        await rig.close();
      }
    });

    it('the sensor channel tracks the world\'s signal; the isosbestic channel does not', () => {
      const sim = assertSim(target);
      const green = signalOf(blocks, '470nm@det0');
      const report = expectTracks(green, sim.truthOf('grabNe'), { tolerancePct: 2, fromS: 0.5 });
      assert.ok(report.samples > 300, `compared ${report.samples} samples`);
      assert.ok(report.missing > 0, 'the injected overrun shows as NaN outputs');
      assert.throws(() => expectTracks(signalOf(blocks, '405nm@det0'), sim.truthOf('grabNe'), { tolerancePct: 2, fromS: 0.5 }), (e) => code(e) === 'E_ASSERT_TRACKS');
    });

    it('the host\'s gaps are exactly the samples the device lost', () => {
      const sim = assertSim(target);
      const lost = sim.deviceTruth.lostRanges('detector');
      assert.equal(lost.length, 1, 'the overrun lost one span');
      // 4 blocks from the ring, detector and aux alike (aux blocks sized on their own)
      const detectorBlocks = lost[0]!.count / DEFAULT_LOCKIN_CONFIG.blockSamples;
      const auxSamples = sim.deviceTruth.lostRanges('aux').reduce((n, r) => n + r.count, 0);
      const auxBlocks = auxSamples / (DEFAULT_LOCKIN_CONFIG.aux?.blockSamples ?? DEFAULT_LOCKIN_CONFIG.blockSamples);
      assert.ok(Number.isInteger(detectorBlocks) && detectorBlocks >= 1, `${lost[0]!.count} detector samples: whole blocks`);
      assert.equal(detectorBlocks + auxBlocks, 4, `${detectorBlocks} detector + ${auxBlocks} aux blocks`);
      expectGaps(gapsOf(items), lost);
      assert.throws(() => expectGaps([], lost), (e) => code(e) === 'E_ASSERT_GAPS' && /host none/.test((e as Error).message));
      assert.throws(() => expectGaps(gapsOf(items), [{ first: lost[0]!.first + 1, count: lost[0]!.count }]), (e) => code(e) === 'E_ASSERT_GAPS');
    });

    it('the scenario document\'s timeline is in the ground truth', () => {
      const events = assertSim(target).truth.events(0, 2);
      assert.ok(events.some((e) => e.kind === 'ttl' && Math.abs(e.tS - 1) < 1e-9), JSON.stringify(events));
    });
  });

  describe('several simulated devices at once', () => {
    it('each has its own world and seed, and they acquire side by side', async () => {
      const targets = await openSimTargets(3, { scenario: 'sleep', speed: 'max', seed: 10 });
      try {
        assert.deepEqual(targets.map((t) => new URL(t.url.replace('sim://', 'http://x/')).searchParams.get('seed')), ['10', '11', '12']);
        const ne = targets.map((t) => assertSim(t).truth.signal('grabNe', 300));
        assert.equal(new Set(ne).size, 3, `independent worlds: ${ne.join(', ')}`);
        const rigs = await Promise.all(targets.map((t) => Rig.connect(t.url)));
        try {
          const config = toWireConfig(DEFAULT_LOCKIN_CONFIG);
          await Promise.all(rigs.map((r) => r.configure(config)));
          const firsts = rigs.map((r) => firstValueFrom(r.acquisition$.pipe(filter((x) => x.kind === 'block' && x.source === 'detector'), take(5), toArray())));
          await Promise.all(rigs.map((r) => r.start()));
          const got = await Promise.all(firsts);
          await Promise.all(rigs.map((r) => r.stop()));
          for (const [i, g] of got.entries()) assert.equal(g.length, 5, `device ${i} acquired`);
          assert.notEqual(targets[0]!.sim!.device, targets[1]!.sim!.device);
        } finally {
          await Promise.all(rigs.map((r) => r.close()));
        }
      } finally {
        await Promise.all(targets.map((t) => t.close()));
      }
    });
  });

  describe('targets and their errors', () => {
    it('an unknown target name is refused with the list', async () => {
      await assert.rejects(openTarget('simm'), (e) => code(e) === 'E_TARGET_UNKNOWN' && /sim, sim-pty, native/.test((e as Error).message));
    });

    it('a simulated target takes a scenario name, its options apart', async () => {
      await assert.rejects(openTarget('sim', { scenario: 'steps?speed=max' }), (e) => code(e) === 'E_TARGET_UNKNOWN' && /not a scenario name/.test((e as Error).message));
    });

    it('a firmware target that is not built is a MissingTool naming what to build', async () => {
      await assert.rejects(openTarget('native', { firmwareBuildDir: '/nonexistent-fiberrig-build' }), (e) => e instanceof MissingTool && /fiberrig-fw-host is not built/.test(e.message));
    });

    it('world control needs a simulated target, and a world scenario for front-end faults', async () => {
      const fake: Target = { name: 'native', url: 'tcp://127.0.0.1:1', analogUnmodelledReason: null, freshDevicePerConnection: false, sim: null, close: async () => undefined };
      assert.throws(() => assertSim(fake), (e) => code(e) === 'E_TARGET_NOT_SIM');
      const t = await openTarget('sim', { seed: 77 });
      try {
        assert.throws(() => t.sim!.setHardwareFaults('dead_led:1'), (e) => code(e) === 'E_TARGET_NOT_SIM');
        assert.throws(() => t.sim!.truthOf('grabNe'), (e) => code(e) === 'E_TARGET_NOT_SIM');
      } finally {
        await t.close();
        await t.close(); // idempotent
      }
    });
  });

  describe('expectTracks on made-up traces', () => {
    const trace = (f: (t: number) => number, n = 100): SignalTrace => {
      const timesS = Float64Array.from({ length: n }, (_, i) => i / 10);
      return { name: 'x', timesS, values: timesS.map(f) };
    };

    it('takes hours of output (no argument-count limits)', () => {
      const long = trace((t) => 3 + 2 * Math.sin(t / 100), 500_000);
      assert.equal(expectTracks(long, (t) => Math.sin(t / 100), { tolerancePct: 1e-6 }).samples, 500_000);
    });

    it('fits gain and offset by default, compares as is with scale exact', () => {
      const r = expectTracks(trace((t) => 1000 + 50 * Math.sin(t)), Math.sin, { tolerancePct: 0.1 });
      assert.ok(Math.abs(r.gain - 50) < 1e-9 && Math.abs(r.offset - 1000) < 1e-9, JSON.stringify(r));
      assert.throws(() => expectTracks(trace((t) => 1000 + 50 * Math.sin(t)), Math.sin, { scale: 'exact' }), (e) => code(e) === 'E_ASSERT_TRACKS');
      expectTracks(trace(Math.sin), Math.sin, { scale: 'exact', tolerancePct: 0 });
    });

    it('fails on a distortion beyond the tolerance and names when it was worst', () => {
      const bumped = trace((t) => Math.sin(t) + (Math.abs(t - 5) < 0.05 ? 0.2 : 0));
      assert.throws(() => expectTracks(bumped, Math.sin, { tolerancePct: 5 }), (e) => code(e) === 'E_ASSERT_TRACKS' && /t = 5\.000 s/.test((e as Error).message));
      expectTracks(bumped, Math.sin, { tolerancePct: 15 });
    });

    it('leaves NaN out and counts it; refuses a truth that never changes or runs against the signal', () => {
      const holes = trace((t) => (t > 2 && t < 3 ? Number.NaN : Math.sin(t)));
      assert.equal(expectTracks(holes, Math.sin).missing, 9);
      assert.throws(() => expectTracks(trace(Math.sin), () => 1), (e) => code(e) === 'E_ASSERT_TRACKS' && /does not change/.test((e as Error).message));
      assert.throws(() => expectTracks(trace((t) => -Math.sin(t)), Math.sin), (e) => code(e) === 'E_ASSERT_TRACKS' && /against the truth/.test((e as Error).message));
      assert.throws(() => expectTracks(trace(Math.sin), Math.sin, { fromS: 100 }), (e) => code(e) === 'E_ASSERT_TRACKS' && /only 0 finite samples/.test((e as Error).message));
    });
  });
});
