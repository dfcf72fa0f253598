// A sync line shared by simulated rigs (firmware-sim/device/sync-bus.ts): the
// edges each receiver timestamps are the driver's pulses at their true
// instants, on the receiver's own clock, whatever order the rigs advance in.
import assert from 'node:assert/strict';
import { Edge } from '../../../protocol/index.ts';
import { DEFAULT_BOARD } from '../../../firmware-sim/device/board.ts';
import { SyncBus, SyncBusRegistry } from '../../../firmware-sim/device/sync-bus.ts';
import { servedDevice, simServeOptionsFromUrl } from '../../../firmware-sim/transport/serve.ts';
import { SimPorts } from '../../../firmware-sim/transport/sim-ports.ts';
import { parseSimUrl } from '../../../firmware-sim/transport/sim-url.ts';
import { CONTINUOUS, TestHost } from './helpers.ts';

const TICK_S = 1 / DEFAULT_BOARD.timerClockHz;
const PERIOD = 250;
const PULSE = 5;
const DRIVER_CONFIG = { ...CONTINUOUS, syncOut: { enabled: true, line: 2, periodSamples: PERIOD, pulseSamples: PULSE } };
const RECEIVER_CONFIG = { ...CONTINUOUS, digitalInputIds: [0] };

interface Rig {
  host: TestHost;
  originS: number;
}

function rig(bus: SyncBus, originS: number, driftPpm: number): Rig {
  return { host: new TestHost({ driftPpm, syncBus: { bus, originS, inputLine: 0 } }), originS };
}

/** Advances a rig until its true (bus) time is `trueS`. */
function advanceTo(r: Rig, trueS: number): void {
  const dt = trueS - r.originS - r.host.device.worldTimeS;
  if (dt > 0) r.host.device.advance(dt);
}

function edges(r: Rig): Array<{ rising: boolean; n: number; ticks: number }> {
  return r.host.of('digitalEvent').map((m) => m.digitalEvent!).map((e) => ({ rising: e.edge === Edge.EDGE_RISING, n: e.sampleIndex, ticks: e.subsampleTicks }));
}

/** Every edge of `r` is a driver pulse edge at its true instant (within 1 tick); returns the rising edges' pulse numbers. */
function checkEdges(r: Rig, driver: Rig): number[] {
  const ticksPerSample = DEFAULT_BOARD.timerClockHz / CONTINUOUS.sampleRateHz!;
  const pulses: number[] = [];
  for (const e of edges(r)) {
    const t = r.host.device.commonTimeOfSample(e.n + e.ticks / ticksPerSample)!;
    // the driver sample index at that true instant
    const t0 = driver.host.device.commonTimeOfSample(0)!;
    const t1 = driver.host.device.commonTimeOfSample(1)!;
    const k = (t - t0) / (t1 - t0);
    const p = Math.round((e.rising ? k : k - PULSE) / PERIOD);
    const expected = driver.host.device.commonTimeOfSample(p * PERIOD + (e.rising ? 0 : PULSE))!;
    assert.ok(Math.abs(t - expected) <= 1.01 * TICK_S * 1.001, `edge ${JSON.stringify(e)} at ${t}, pulse ${p} at ${expected}`);
    if (e.rising) pulses.push(p);
  }
  return pulses;
}

describe('sim sync bus: rigs on one clock', () => {
  it('receivers with other drifts and origins timestamp every pulse at its true instant, within 1 timer tick, advancing in any order', () => {
    const bus = new SyncBus('lab');
    const driver = rig(bus, 0.3, 0);
    const receivers = [rig(bus, 0, 80), rig(bus, 0.7, -50), rig(bus, 1.1, 20)];
    for (const r of receivers) {
      advanceTo(r, 1.2);
      r.host.startRun(RECEIVER_CONFIG);
    }
    advanceTo(driver, 1.5);
    driver.host.startRun(DRIVER_CONFIG);
    // uneven steps, shuffled order: no lockstep
    const all = [driver, ...receivers];
    for (let step = 1; step <= 40; step++) {
      const order = step % 2 === 0 ? all : [...all].reverse();
      for (const [i, r] of order.entries()) advanceTo(r, 1.6 + step * 0.1 + i * 0.013);
    }
    for (const r of receivers) {
      const pulses = checkEdges(r, driver);
      // pulses every 0.25 s from the driver's start to the receiver's last rendered block
      assert.ok(pulses.length >= 14, `${pulses.length} pulses`);
      assert.deepEqual(pulses, pulses.map((_, i) => i), 'every pulse from 0 on, once, in order');
    }
    assert.equal(bus.truth.lateEdges, 0);
  });

  it('a driver starting in a receiver\'s past: the receiver gets the edges it rendered past, late, with exact indices', () => {
    const bus = new SyncBus('lab');
    const driver = rig(bus, 0, 0);
    const receiver = rig(bus, 0.2, 100);
    receiver.host.startRun(RECEIVER_CONFIG);
    advanceTo(receiver, 3);
    advanceTo(driver, 1);
    driver.host.startRun(DRIVER_CONFIG);
    advanceTo(driver, 4);
    advanceTo(receiver, 4);
    const pulses = checkEdges(receiver, driver);
    assert.deepEqual(pulses, pulses.map((_, i) => i));
    assert.ok(pulses.length >= 11);
    assert.ok(bus.truth.lateEdges >= 16, `${bus.truth.lateEdges} late edges`);
  });

  it('a rig without the bus line among its digital inputs sees no bus edge; a stopped driver sends no more pulses', () => {
    const bus = new SyncBus('lab');
    const driver = rig(bus, 0, 0);
    const deaf = rig(bus, 0, 0);
    const receiver = rig(bus, 0, 0);
    deaf.host.startRun(CONTINUOUS);
    receiver.host.startRun(RECEIVER_CONFIG);
    driver.host.startRun(DRIVER_CONFIG);
    for (const r of [driver, deaf, receiver]) advanceTo(r, 1.1);
    assert.equal(driver.host.request({ stop: {} }).body, 'ack');
    for (const r of [driver, deaf, receiver]) advanceTo(r, 2.5);
    assert.equal(edges(deaf).length, 0);
    const pulses = checkEdges(receiver, driver);
    assert.deepEqual(pulses, [0, 1, 2, 3, 4]);
    assert.equal(bus.truth.phantomEdges, 0);
  });

  it('sim:// URLs name the bus and the input line; rigs on one bus must share a speed', () => {
    assert.deepEqual(parseSimUrl('sim://linear?sync_bus=lab1&sync_in=1').syncBus, { name: 'lab1', inputLine: 1 });
    assert.deepEqual(parseSimUrl('sim://linear?sync_bus=lab1').syncBus, { name: 'lab1', inputLine: 0 });
    assert.throws(() => parseSimUrl('sim://linear?sync_in=1'), { code: 'E_SIM_URL' });
    assert.throws(() => parseSimUrl('sim://linear?sync_bus=a%20b'), { code: 'E_SIM_URL' });
    let now = 1000;
    const registry = new SyncBusRegistry(() => now);
    const a = registry.joinNow('lab1', 10, 0);
    now += 500;
    const b = registry.joinNow('lab1', 10, 0);
    assert.equal(a.bus, b.bus);
    now += 200;
    // asked when the bus first needs it, with the rig's world time then: true time = wall since the bus began x speed
    assert.equal((a.originS as (w: number) => number)(7), 0);
    assert.equal((b.originS as (w: number) => number)(1.5), 5.5, '0.7 s of wall clock at speed 10, less 1.5 s the rig ran');
    assert.throws(() => registry.joinNow('lab1', 1, 0), { code: 'E_SIM_OPTIONS' });
  });

  it('served devices (fiberrig sim) and sim:// ports of one process join the bus their URL names', () => {
    const name = `served${process.pid}`;
    const a = servedDevice(simServeOptionsFromUrl(`sim://linear?seed=1&speed=5&sync_bus=${name}`));
    const b = servedDevice(simServeOptionsFromUrl(`sim://linear?seed=2&speed=5&sync_bus=${name}&sync_in=1`));
    const other = servedDevice(simServeOptionsFromUrl(`sim://linear?seed=3&speed=5&sync_bus=${name}x`));
    const ports = new SimPorts();
    const c = ports.createPort(`sim://linear?seed=4&speed=5&sync_bus=${name}`);
    assert.ok(a.device.syncBus);
    assert.equal(b.device.syncBus, a.device.syncBus);
    assert.equal(c.device.syncBus, a.device.syncBus);
    assert.notEqual(other.device.syncBus, a.device.syncBus);
    assert.equal(servedDevice(simServeOptionsFromUrl('sim://linear')).device.syncBus, null);
    assert.throws(() => servedDevice(simServeOptionsFromUrl(`sim://linear?speed=1&sync_bus=${name}`)), { code: 'E_SIM_OPTIONS' });
    // a discarded rig leaves the bus
    const bus = a.device.syncBus!;
    const members = bus.members.size;
    ports.reset();
    assert.equal(bus.members.size, members - 1);
    for (const s of [a, b, other]) s.device.leaveSyncBus();
  });
});
