// Acceptance 1 (issue 4), faults: with bytes corrupted on the wire and the
// device's ring buffer overrunning, the host marks exactly the samples the
// simulator's ground truth says never arrived intact, and every sample it
// does deliver is the one the device measured.
import assert from 'node:assert/strict';
import { DEFAULT_LOCKIN_CONFIG, toWireConfig } from '../../../host/config/acquisition.ts';
import type { SimWorld } from '../../../firmware-sim/world/index.ts';
import { useSimPorts } from '../../support/sim-ports.ts';
import { acquire, recordCodes, type Recording, renderLogOf, type RenderLog, useTestWorlds, worldOf } from './helpers.ts';

const FS = 10_000;

describe('acceptance: faults injected, samples marked missing vs ground truth (steps, 8 s, corrupt:rate=3e-5 + overrun@2:blocks=3 + overrun before Stop)', () => {
  let restore: () => void;
  let rec: Recording;
  let log: RenderLog;
  let world: SimWorld;
  let stopIndex = 0;
  const ports = useSimPorts('suite');

  before(async () => {
    restore = useTestWorlds();
    recordCodes(true);
    try {
      // the default lock-in config with aux (EEG/EMG at 1 kS/s), so aux gaps are checked too
      const config = { ...toWireConfig(DEFAULT_LOCKIN_CONFIG), heartbeatTimeoutMs: 5000 };
      rec = await acquire('sim://steps?seed=5&speed=max&faults=corrupt:rate=3e-5,overrun@2:blocks=3', config, {
        ports,
        samples: FS * 8,
        // the last blocks before Stop are lost too (0.1 s of them, whenever Stop arrives): only
        // Stop's Ack (next sample index) can reveal them
        beforeStop: (h) => {
          h.device.inject({ type: 'overrun', blocks: 1_000_000 });
          h.device.advance(0.1);
        },
      });
    } finally {
      recordCodes(false);
    }
    log = renderLogOf(rec.handle);
    world = worldOf(rec.handle);
    const last = log.blocks[log.blocks.length - 1]!;
    stopIndex = last.first + last.count;
  });

  /** Position of a detector id on the board (the world renders by board position). */
  const boardIndex = (id: number): number => rec.rig.info.detectors.findIndex((d) => d.id === id);
  after(() => restore());

  it('the faults happened: frames rejected, blocks overrun, and the run ends with lost samples', () => {
    const truth = rec.handle.device.truth;
    const rejected = Object.values(rec.health.framesRejected).reduce((a, b) => a + b, 0);
    const lost = truth.lostRanges('detector');
    console.log(`      frames rejected ${JSON.stringify(rec.health.framesRejected)}, fault records ${truth.faults.length}, lost detector ranges ${lost.length}`);
    assert.ok(rejected >= 3, `frames rejected: ${rejected}`);
    assert.ok(truth.faultsOf('overrun').length >= 2);
    const tail = lost[lost.length - 1]!;
    assert.equal(tail.first + tail.count, stopIndex, 'the samples just before Stop were lost');
  });

  it('detector samples marked missing (gaps, linkHealth) == samples ground truth lost', () => {
    const truthLost = rec.handle.device.truth.lostSampleCount('detector');
    const gapSum = rec.gaps.filter((g) => g.source === 'detector').reduce((a, g) => a + g.count, 0);
    console.log(`      detector: missing ${rec.health.hostDetectedMissingSamples} (gaps ${gapSum}), truth lost ${truthLost}, device reported ${rec.health.deviceReportedDroppedSamples}`);
    assert.ok(truthLost > 0);
    assert.equal(rec.health.hostDetectedMissingSamples, truthLost);
    assert.equal(gapSum, truthLost);
    // and every sample is accounted for: delivered + missing = taken
    const delivered = rec.blocks.filter((b) => b.source === 'detector').reduce((a, b) => a + b.sampleCount, 0);
    assert.equal(delivered + gapSum, stopIndex);
  });

  it('the missing ranges are exactly the lost ranges of ground truth (detector and aux)', () => {
    for (const source of ['detector', 'aux'] as const) {
      const host = rec.gaps.filter((g) => g.source === source).map((g) => ({ first: g.sessionIndex, count: g.count }));
      const truth = rec.handle.device.truth.lostRanges(source).map((r) => ({ first: r.first, count: r.count }));
      assert.deepEqual(host, truth, source);
    }
  });

  it('every delivered detector sample is bit-identical to what the device measured', () => {
    const codes = log.codes!;
    let checked = 0;
    for (const b of rec.blocks) {
      if (b.source !== 'detector') continue;
      const nc = b.channelIds.length;
      for (let i = 0; i < b.sampleCount; i++) {
        for (let c = 0; c < nc; c++) {
          const expected = Math.min(65535, Math.max(0, codes[boardIndex(b.channelIds[c]!)]![b.deviceIndex + i]!));
          if (b.samples[i * nc + c] !== expected) assert.fail(`detector ${b.channelIds[c]} sample ${b.deviceIndex + i}: ${b.samples[i * nc + c]} != ${expected}`);
          checked++;
        }
      }
    }
    assert.ok(checked > FS * 8);
  });

  it('no delivered detector sample differs from the noise-free truth render by more than 6 sigma of the modelled noise + 0.5 code', () => {
    const currents = log.currents!;
    const offset = [0, 1].map((d) => world.truth.offsetCodes(d));
    let worstZ = 0;
    let checked = 0;
    for (const b of rec.blocks) {
      if (b.source !== 'detector') continue;
      const r = log.blocks.find((x) => x.first === b.deviceIndex);
      assert.ok(r && r.count === b.sampleCount, `block at ${b.deviceIndex} was rendered`);
      const out = [new Float64Array(r.count), new Float64Array(r.count)];
      world.truth.renderDetectors({
        t0S: r.t0S, dtS: r.dtS, count: r.count, out,
        ledCurrentMa: currents.map((c) => Float64Array.from(c.slice(r.first, r.first + r.count))),
      });
      const nc = b.channelIds.length;
      for (let i = 0; i < b.sampleCount; i++) {
        for (let c = 0; c < nc; c++) {
          const d = boardIndex(b.channelIds[c]!);
          const clean = out[d]![i]!;
          const sigma = world.truth.noiseSigmaCodes(d, clean - offset[d]!, 1);
          const z = (Math.abs(b.samples[i * nc + c]! - clean) - 0.5) / sigma;
          worstZ = Math.max(worstZ, z);
          checked++;
        }
      }
    }
    console.log(`      ${checked} samples, worst deviation from noise-free truth ${worstZ.toFixed(2)} sigma`);
    assert.ok(worstZ <= 6, `a sample deviates by ${worstZ.toFixed(2)} sigma`);
  });
});
