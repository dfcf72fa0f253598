// The LightTracker (which samples were taken with every configured LED dark, and why) and the
// LightKeeper (relights after a watchdog trip once heartbeats are answered), without a device.
import assert from 'node:assert/strict';
import { DarkReason, LogLevel, type Status } from '../../../protocol/index.ts';
import type { AcquisitionConfigInit } from '../../../protocol/index.ts';
import { LightKeeper } from '../../../host/rig/light-keeper.ts';
import { darkSpanOf, describeLight, LightTracker, type RigLight } from '../../../host/rig/light.ts';

const status = (darkReason: number): Status => ({ darkReason } as Status);

function tracker(channels = [0, 1, 2]): { t: LightTracker; marks: RigLight[] } {
  const marks: RigLight[] = [];
  const t = new LightTracker((m) => marks.push(m), () => 0);
  t.configured(channels);
  return { t, marks };
}

describe('host/rig: light tracking', () => {
  it('marks dark from the sample where the last configured LED went to 0 mA, and lit where any came back', () => {
    const { t, marks } = tracker();
    t.log(LogLevel.LOG_LEVEL_WARN, 'heartbeat timeout (2000 ms): LEDs dark from sample 500');
    for (const c of [0, 1]) t.led(c, 0, 500);
    assert.equal(marks.length, 0, 'one LED still lit');
    t.led(2, 0, 500);
    t.led(7, 0, 520); // not configured: ignored
    assert.deepEqual(marks, [{ kind: 'light', source: 'detector', sessionIndex: 500, lit: false, cause: 'watchdog', segment: 0 }]);
    for (const c of [0, 1, 2]) t.led(c, 20, 900);
    assert.equal(marks.length, 2);
    assert.deepEqual(marks[1], { kind: 'light', source: 'detector', sessionIndex: 900, lit: true, cause: 'watchdog', darkFromIndex: 500, segment: 0 });
    assert.deepEqual(darkSpanOf(marks[1]!, 100), { source: 'detector', sessionIndex: 500, count: 400, startS: 5, durationS: 4, cause: 'watchdog', label: 'LEDs dark: watchdog' });
    assert.equal(darkSpanOf(marks[1]!, 100, 700)?.count, 200, 'limited by a cutoff');
    assert.match(describeLight(marks[0]!, 100), /^LEDs dark from 5\.000 s \(the device watchdog/);
  });

  it('learns the cause from a Status that arrives while dark, and reports it on the span', () => {
    const { t, marks } = tracker([0]);
    t.led(0, 0, 10);
    assert.equal(marks[0]!.cause, 'unexplained');
    assert.equal(t.state.cause, 'unexplained');
    t.status(status(DarkReason.DARK_REASON_HEARTBEAT_TIMEOUT));
    assert.deepEqual(t.state, { dark: true, fromIndex: 10, cause: 'watchdog' });
    t.led(0, 5, 30);
    assert.equal(marks[1]!.cause, 'watchdog');
  });

  it('a cause seen in an earlier span does not name the next one; Start and Stop close an open span', () => {
    const { t, marks } = tracker([0]);
    t.status(status(DarkReason.DARK_REASON_HEARTBEAT_TIMEOUT));
    t.led(0, 0, 10);
    t.led(0, 5, 20);
    t.led(0, 0, 40);
    assert.equal(marks[2]!.cause, 'unexplained', 'commanded dark after a restore is not a watchdog trip');
    t.restarted(60);
    assert.deepEqual([marks[3]!.lit, marks[3]!.darkFromIndex, marks[3]!.sessionIndex], [true, 40, 60]);
    t.led(0, 0, 70);
    t.stopped(100);
    assert.deepEqual([marks[5]!.lit, marks[5]!.darkFromIndex, marks[5]!.sessionIndex], [true, 70, 100]);
    t.stopped(120);
    assert.equal(marks.length, 6, 'nothing open: nothing to close');
  });
});

describe('host/rig: LightKeeper', () => {
  const config: AcquisitionConfigInit = { leds: [{ channel: 0, currentMa: 20 }, { channel: 2, powerUw: 35 }] };

  it('after a watchdog trip, the next answered heartbeat sends the configured drive of every LED, once', async () => {
    const sent: unknown[] = [];
    let light: { dark: boolean; fromIndex: number; cause: 'watchdog' } = { dark: true, fromIndex: 40, cause: 'watchdog' };
    const keeper = new LightKeeper({ config: () => config, light: () => light, setLed: async (channel, drive) => { sent.push([channel, drive]); return 0; } });
    keeper.heartbeatAnswered();
    keeper.heartbeatAnswered(); // still restoring: no second round
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent, [[0, { currentMa: 20 }], [2, { powerUw: 35 }]]);
    keeper.heartbeatAnswered(); // done, but the restore's LedEvents have not arrived yet: not sent twice
    await new Promise((r) => setImmediate(r));
    assert.equal(sent.length, 2);
    light = { dark: false, fromIndex: 40, cause: 'watchdog' };
    keeper.heartbeatAnswered();
    await new Promise((r) => setImmediate(r));
    assert.equal(sent.length, 2);
  });

  it('leaves LEDs dark for another reason alone, and retries at the next heartbeat after a refusal', async () => {
    let calls = 0;
    let light: { dark: boolean; cause: 'watchdog' | 'unexplained' } = { dark: true, cause: 'unexplained' };
    const keeper = new LightKeeper({ config: () => config, light: () => light, setLed: async () => { calls++; throw new Error('link down'); } });
    keeper.heartbeatAnswered();
    await new Promise((r) => setImmediate(r));
    assert.equal(calls, 0);
    light = { dark: true, cause: 'watchdog' };
    keeper.heartbeatAnswered();
    await new Promise((r) => setImmediate(r));
    keeper.heartbeatAnswered();
    await new Promise((r) => setImmediate(r));
    assert.equal(calls, 2, 'one attempt per heartbeat, stopped at the first failure');
    assert.equal(keeper.lastError?.message, 'link down');
  });
});
