import assert from 'node:assert/strict';
import { LogLevel, SampleSource } from '../../../protocol/index.ts';
import { SimError } from '../../../firmware-sim/device/errors.ts';
import { type FaultRecord, parseFaults, Rng } from '../../../firmware-sim/device/faults.ts';
import { CONTINUOUS, LOCK_IN, TestHost } from './helpers.ts';

const DET = SampleSource.SAMPLE_SOURCE_DETECTOR;
const AUX = SampleSource.SAMPLE_SOURCE_AUX;

/**
 * The ground truth is exact: the blocks the host decoded and the ranges the
 * truth says were lost tile [0, end) of the run with no gap and no overlap.
 */
function assertTiles(h: TestHost, source: number, end: number): { received: number; lost: number } {
  const name = source === DET ? 'detector' : 'aux';
  const run = h.device.run;
  const received = h.blocks(source).map((b) => ({ first: b.firstSampleIndex, count: b.sampleCount, from: 'host' }));
  const lost = h.device.truth.lostRanges(name, run).map((r) => ({ first: r.first, count: r.count, from: 'truth' }));
  const tiles = [...received, ...lost].sort((a, b) => a.first - b.first);
  let next = 0;
  for (const t of tiles) {
    assert.equal(t.first, next, `${name}: ${t.from} range at ${t.first}, expected ${next} (overlap or gap)`);
    next += t.count;
  }
  assert.equal(next, end, `${name}: tiles end at ${next}, run ended at ${end}`);
  return { received: received.length, lost: lost.length };
}

/** Runs LOCK_IN for `seconds` with the given faults, stops after they are over, returns the Stop index. */
function runWith(h: TestHost, seconds: number): number {
  h.startRun(LOCK_IN);
  h.device.advance(seconds);
  const id = h.send({ stop: {} });
  h.device.advance(1);
  const ack = h.received.find((m) => m.requestId === id);
  assert.ok(ack?.ack, 'Stop acked');
  return ack.ack.sampleIndex;
}

function frameRejects(h: TestHost): number {
  const r = h.decoder.counters.rejected;
  return r.crc + r.cobs + r.oversize + h.decodeErrors;
}

describe('firmware-sim faults', () => {
  for (const type of ['corrupt', 'drop_bytes', 'dup_bytes'] as const) {
    it(`${type}: damaged frames are rejected by the host and the ground truth names exactly the lost blocks`, () => {
      const h = new TestHost({ seed: 7, faults: [{ type, rate: 3e-4, durationS: 3, atS: 0.5 }] });
      const end = runWith(h, 4);
      const records = h.device.truth.faults.filter((f) => f.type === type);
      assert.ok(records.length > 3, `${records.length} ${type} records`);
      assert.ok(records.every((r) => r.bytesAffected >= 1 && r.worldTimeS >= 0.5 && r.worldTimeS < 3.5 + 1e-9));
      const det = assertTiles(h, DET, end);
      assertTiles(h, AUX, Math.ceil(end / 10));
      if (type === 'dup_bytes') assert.ok(frameRejects(h) >= 1);
      else assert.ok(det.lost >= 1 && frameRejects(h) >= det.lost, `${frameRejects(h)} rejects for ${det.lost} lost blocks`);
    });
  }

  for (const type of ['corrupt', 'drop_bytes', 'dup_bytes'] as const) {
    it(`${type} on frame delimiters: merged frames are both accounted for (small frames, high rate)`, () => {
      const h = new TestHost({ seed: 11, faults: [{ type, rate: 0.01, durationS: 2, atS: 0.2 }] });
      h.startRun({ ...CONTINUOUS, blockSamples: 8 }); // ~30-byte frames: many delimiters get hit
      h.device.advance(3);
      const id = h.send({ stop: {} });
      h.device.advance(0.5);
      const end = h.received.find((m) => m.requestId === id)!.ack!.sampleIndex;
      assert.ok(h.device.truth.faults.filter((f) => f.type === type).length > 20);
      assertTiles(h, DET, end); // fails if a merged neighbour frame is not in the truth
    });
  }

  it('corrupt_frames: exactly N sample blocks are lost, and named', () => {
    const h = new TestHost({ faults: [{ type: 'corrupt_frames', count: 3, atS: 1 }] });
    const end = runWith(h, 2);
    const [record] = h.device.truth.faultsOf('corrupt_frames');
    assert.equal(record!.lost.length, 3);
    assert.equal(record!.framesAffected, 3);
    assertTiles(h, DET, end);
    assertTiles(h, AUX, Math.ceil(end / 10));
    const truth = h.device.truth;
    assert.equal(truth.lostSampleCount('detector') + truth.lostSampleCount('aux'), 3 * 256, 'three whole blocks (adjacent ranges merge)');
    assert.ok(frameRejects(h) >= 3);
  });

  it('disconnect: bytes stop for the outage, the device keeps running and overruns, counted on both sides', () => {
    const h = new TestHost({ faults: [{ type: 'disconnect', atS: 1, durationS: 2 }] });
    const arrivals: number[] = [];
    const sink = h.device.outbox.sink!;
    h.device.outbox.sink = (bytes, meta) => {
      arrivals.push(h.device.worldTimeS);
      sink(bytes, meta);
    };
    const events: string[] = [];
    h.device.events.on('disconnect', () => events.push('disconnect'));
    h.device.events.on('reconnect', () => events.push('reconnect'));
    const end = runWith(h, 5);
    assert.deepEqual(events, ['disconnect', 'reconnect']);
    assert.ok(!arrivals.some((t) => t > 1 + 1e-6 && t < 3 - 1e-6), 'nothing arrives during the outage');
    const [record] = h.device.truth.faultsOf('disconnect');
    assert.equal(record!.detail, 'link down for 2 s');
    const overruns = h.device.truth.faultsOf('buffer_overrun');
    assert.ok(overruns.length >= 1);
    assert.match(overruns[0]!.detail, /link down/);
    const status = h.of('status').map((m) => m.status!).filter((s) => s.running).at(-1)!;
    assert.ok(status.blocksDropped > 0 && status.samplesDropped > 0);
    const d = assertTiles(h, DET, end);
    assertTiles(h, AUX, Math.ceil(end / 10));
    assert.ok(d.lost >= 1);
    assert.equal(status.samplesDropped, h.device.truth.faultsOf('buffer_overrun').flatMap((f) => f.lost).filter((r) => r.source === 'detector').reduce((s, r) => s + r.count, 0));
  });

  it('overrun: the next N blocks are dropped, reported in Status and in the ground truth', () => {
    const h = new TestHost();
    h.startRun(CONTINUOUS); // detector blocks only
    h.device.advance(0.55);
    h.device.inject({ type: 'overrun', blocks: 4 });
    h.device.advance(1);
    const [record] = h.device.truth.faultsOf('overrun');
    assert.deepEqual(record!.lost.map((r) => [r.first, r.count]), [[500, 100], [600, 100], [700, 100], [800, 100]]);
    const status = h.device.statusNow()!;
    assert.equal(status.blocksDropped, 4);
    assert.equal(status.samplesDropped, 400);
    const firsts = h.blocks(DET).map((b) => b.firstSampleIndex);
    assert.ok(firsts.includes(400) && firsts.includes(900) && !firsts.includes(500) && !firsts.includes(800));
  });

  it('drift: takes effect at the next block boundary, recorded with its sample index', () => {
    const h = new TestHost();
    const seen: Array<[number, number]> = [];
    const render = h.world.renderDetectors.bind(h.world);
    h.world.renderDetectors = (req) => {
      seen.push([req.t0S, req.dtS]);
      render(req);
    };
    h.startRun(CONTINUOUS);
    h.device.advance(0.25);
    h.device.inject({ type: 'drift', ppm: 200 });
    h.device.advance(0.5);
    const [record] = h.device.truth.faultsOf('drift');
    assert.match(record!.detail, /0 -> 200 ppm from detector sample 300/);
    assert.equal(seen[2]![1], 1 / 1000);
    assert.equal(seen[3]![1], 1 / (1000 * (1 + 200e-6)));
    assert.ok(Math.abs(seen[3]![0] - (seen[2]![0] + 100 / 1000)) < 1e-12, 'the boundary sample keeps its world time');
    assert.equal(h.device.driftPpm, 200);
  });

  it('reset mid-run: the stream stops, the device logs the reset, the truth names the samples never sent', () => {
    const h = new TestHost({ faults: [{ type: 'reset', atS: 1.234 }] });
    h.startRun(CONTINUOUS);
    h.device.advance(2);
    assert.equal(h.device.running, false);
    const [record] = h.device.truth.faultsOf('reset');
    const lost = record!.lost.filter((r) => r.source === 'detector');
    const last = h.blocks(DET).at(-1)!;
    assert.equal(lost[0]!.first, last.firstSampleIndex + last.sampleCount);
    assert.ok(lost[0]!.count > 0 && lost[0]!.count < 100);
    const log = h.of('log').map((m) => m.log!).find((l) => /reset/.test(l.message))!;
    assert.equal(log.level, LogLevel.LOG_LEVEL_INFO);
    assert.equal(h.request({ start: {} }).error?.field, 'hello');
    h.hello();
    h.device.advance(0.6);
    assert.equal(h.of('status').at(-1)!.status!.resets, 1);
  });

  it('is deterministic for a seed', () => {
    const records = (seed: number): FaultRecord[] => {
      const h = new TestHost({ seed, faults: [{ type: 'corrupt', rate: 1e-4 }] });
      runWith(h, 2);
      return h.device.truth.faults.filter((f) => f.type === 'corrupt');
    };
    assert.deepEqual(records(3), records(3));
    assert.notDeepEqual(records(3), records(4));
    const a = new Rng(5);
    const b = new Rng(5);
    for (let i = 0; i < 10; i++) assert.equal(a.next(), b.next());
  });

  describe('parseFaults', () => {
    it('parses the compact URL syntax', () => {
      assert.deepEqual(parseFaults('corrupt:rate=1e-5,disconnect@5:for=2,overrun@3:blocks=4,reset@10,drift:ppm=-50,corrupt_frames@1:count=3:kind=any,dup_bytes:rate=0.001:for=1.5'), [
        { type: 'corrupt', rate: 1e-5 },
        { type: 'disconnect', durationS: 2, atS: 5 },
        { type: 'overrun', blocks: 4, atS: 3 },
        { type: 'reset', atS: 10 },
        { type: 'drift', ppm: -50 },
        { type: 'corrupt_frames', count: 3, kind: 'any', atS: 1 },
        { type: 'dup_bytes', rate: 0.001, durationS: 1.5 },
      ]);
      assert.deepEqual(parseFaults(''), []);
    });

    for (const bad of ['melt', 'corrupt', 'corrupt:rate=2', 'corrupt:rate=x', 'disconnect@-1:for=1', 'overrun:blocks=0', 'reset:now=1', 'drift:ppm']) {
      it(`rejects "${bad}" with a typed error`, () => {
        assert.throws(() => parseFaults(bad), (e: unknown) => e instanceof SimError && e.code === 'E_SIM_FAULT' && e.hint.length > 0);
      });
    }
  });
});
