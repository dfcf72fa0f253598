import assert from 'node:assert/strict';
import { ClockFit } from '../../../host/dsp/clock.ts';
import { decodeRecord, encodeEntry } from '../../../host/record/rawlog-format.ts';
import { AcquisitionAssembler, type AcquisitionItem, type Intent, type RigGap } from '../../../host/rig/assembler.ts';
import { estimateResetInstant, placeResumedRun } from '../../../host/rig/placement.ts';
import { ReconnectSchedule } from '../../../host/rig/reconnect.ts';

const FS = 1000;
const config = { sampleRateHz: FS, aux: { inputIds: [0], rateHz: 100 } };

function ack(requestId: number, a: { configId?: number; sampleIndex?: number; deviceTimeUs?: number }): never {
  return { requestId, body: 'ack', ack: { configId: 7, sampleIndex: 0, deviceTimeUs: 0, ...a } } as never;
}

function detectorBlock(first: number, count: number, configId = 7): never {
  return { requestId: 0, body: 'sampleBlock', sampleBlock: { configId, source: 1, firstSampleIndex: first, sampleCount: count, channelIds: [0], format: 1, samples: new Uint8Array(count * 2) } } as never;
}

/** A run of 100 delivered samples that started at device uptime 5 s. */
function started(): { a: AcquisitionAssembler; items: AcquisitionItem[] } {
  const items: AcquisitionItem[] = [];
  const a = new AcquisitionAssembler({ item: (i) => items.push(i) });
  a.intent({ requestId: 1, command: 'configure', config });
  a.message(ack(1, {}));
  a.intent({ requestId: 2, command: 'start' });
  a.message(ack(2, { deviceTimeUs: 5_000_000 }));
  a.message(detectorBlock(0, 100));
  return { a, items };
}

function resume(a: AcquisitionAssembler, start: Extract<Intent, { command: 'start' }>['resume'], startUptimeUs: number): void {
  a.intent({ requestId: 4, command: 'configure', config });
  a.message(ack(4, { configId: 8 }));
  a.intent({ requestId: 5, command: 'start', resume: start! });
  a.message(ack(5, { configId: 8, deviceTimeUs: startUptimeUs }));
  a.message(detectorBlock(0, 10, 8));
}

describe('host/rig: placement of a resumed run', () => {
  it('device-timed (device kept running): new sample 0 at N_stop + (U_start − U_stop) × fs, ±1 sample; the host estimate is ignored', () => {
    const { a, items } = started();
    a.intent({ requestId: 3, command: 'stop' });
    a.message(ack(3, { sampleIndex: 1500, deviceTimeUs: 5_000_000 + 1_500_000 })); // 1400 samples never arrived
    resume(a, { reason: 'reconnect', missingDetectorSamples: 99_999 }, 5_000_000 + 1_500_000 + 2_345_600);
    const gaps = items.filter((i) => i.kind === 'gap');
    assert.deepEqual(gaps.filter((g) => g.source === 'detector').map((g) => [g.sessionIndex, g.count, g.uncertaintySamples, g.placement ?? null]), [
      [100, 1400, 0, null], [1500, 2346, 1, 'device-time'],
    ]);
    const first = items.filter((i) => i.kind === 'block' && i.segment === 1 && i.source === 'detector')[0]!;
    assert.equal(first.sessionIndex, 1500 + 2346);
  });

  it('across a reset (Stop Ack says 0): old-run index at the reset from the intent + U_start × fs; uncertainty carried', () => {
    const { a, items } = started();
    a.intent({ requestId: 3, command: 'stop' });
    a.message(ack(3, { sampleIndex: 0, deviceTimeUs: 0 })); // a rebooted device: no run to stop
    resume(a, { reason: 'device-reset', missingDetectorSamples: 73, reset: { resetSessionIndex: 389.4, uncertaintySamples: 2.2 } }, 120_000);
    const gap = items.find((i) => i.kind === 'gap' && i.source === 'detector')!;
    assert.ok(gap.kind === 'gap');
    assert.deepEqual([gap.sessionIndex, gap.count, gap.uncertaintySamples, gap.placement, gap.estimated], [100, 389 + 120 - 100, 3, 'reset-clock', true]);
    // aux sample k goes with detector sample k * 10: the aux segment starts at 509 / 10 -> 51
    const auxGap = items.find((i): i is RigGap => i.kind === 'gap' && i.source === 'aux')!;
    assert.equal(auxGap.sessionIndex + auxGap.count, 51);
  });

  it('without device time (old logs, old firmware): the host estimate, with an uncertainty as large as itself', () => {
    const { a, items } = started();
    resume(a, { reason: 'reconnect', missingDetectorSamples: 250 }, 0);
    const gap = items.find((i) => i.kind === 'gap' && i.source === 'detector')!;
    assert.deepEqual(gap.kind === 'gap' && [gap.sessionIndex, gap.count, gap.uncertaintySamples, gap.placement], [100, 250, 250, 'host-estimate']);
  });

  it('never places a new run before samples already delivered, and a Stop from another boot (uptime went back) is not device time', () => {
    assert.deepEqual(placeResumedRun({
      rateHz: FS, nextSessionIndex: 500, oldOffset: 0, stop: undefined, startDeviceTimeUs: 1000, reset: { resetSessionIndex: 200, uncertaintySamples: 1 }, hostEstimateSamples: 0,
    }), { offset: 500, uncertaintySamples: 2, method: 'reset-clock' });
    assert.equal(placeResumedRun({
      rateHz: FS, nextSessionIndex: 500, oldOffset: 0, stop: { deviceIndex: 500, deviceTimeUs: 9_000_000 }, startDeviceTimeUs: 1000, reset: undefined, hostEstimateSamples: 7,
    }).method, 'host-estimate');
  });

  it('estimateResetInstant: reset at host time mid − uptime (1 kS/s device at 0 ppm), uncertainty = rtt/2 + floor + 3 rms, in samples', () => {
    const fit = new ClockFit({ deviceTicksHz: FS });
    const t0 = 1.7e15;
    for (let i = 0; i < 20; i++) fit.add({ deviceTicks: i * 100, hostSendUs: t0 + i * 100_000 - 500, hostRecvUs: t0 + i * 100_000 + 500 });
    // device reset at host t0 + 2.5 s (session index 2500); probe answered 0.3 s after the reset
    const e = estimateResetInstant(fit.fit, { hostSendUs: t0 + 2_800_000 - 1000, hostRecvUs: t0 + 2_800_000 + 1000, deviceTimeUs: 300_000 }, FS, 1900)!;
    assert.ok(Math.abs(e.resetSessionIndex - 2500) < 1e-6, `${e.resetSessionIndex}`);
    assert.ok(Math.abs(e.uncertaintySamples - (1000 + 20 + 3 * fit.fit!.rmsResidualUs) / 1000) < 1e-6, `${e.uncertaintySamples}`);
    // the probe's ack waited 1.2 ms on the device (told): the event is at the midpoint of [send, recv - 1.2 ms]
    const held = estimateResetInstant(fit.fit, { hostSendUs: t0 + 2_800_000 - 1000, hostRecvUs: t0 + 2_800_000 + 1000 + 1200, deviceTimeUs: 300_000, deviceQueuedUs: 1200 }, FS, 1900)!;
    assert.ok(Math.abs(held.resetSessionIndex - 2500) < 1e-6, `${held.resetSessionIndex}`);
    assert.ok(Math.abs(held.uncertaintySamples - e.uncertaintySamples) < 1e-6);
    // a lower bound wins over an earlier estimate; no fit, no estimate
    assert.equal(estimateResetInstant(fit.fit, { hostSendUs: t0, hostRecvUs: t0, deviceTimeUs: 0 }, FS, 2600)!.resetSessionIndex, 2600);
    assert.equal(estimateResetInstant(null, { hostSendUs: t0, hostRecvUs: t0, deviceTimeUs: 0 }, FS, 0), undefined);
  });

  it('estimateResetInstant: a device whose clock ran 10x the host (speed=10) widens the uncertainty by the uptime rate hypothesis and back to the lower bound', () => {
    const fit = new ClockFit({ deviceTicksHz: FS });
    for (let i = 0; i < 20; i++) fit.add({ deviceTicks: i * 1000, hostSendUs: i * 100_000, hostRecvUs: i * 100_000 + 100 });
    const e = estimateResetInstant(fit.fit, { hostSendUs: 3_000_000, hostRecvUs: 3_000_100, deviceTimeUs: 1_000_000 }, FS, 0)!;
    // uptime 1 s at 10x = 0.1 s of host time before the probe: reset at host 2.90005 s, where the fit (mid 50 µs) puts index 29000
    assert.ok(Math.abs(e.resetSessionIndex - 29_000) < 0.01, `${e.resetSessionIndex}`);
    assert.ok(e.uncertaintySamples >= 0.9e6 / 100, `${e.uncertaintySamples}`);
    // -900 000 ppm is no crystal: the pace before the reset is unknown, so the interval reaches back to the lower bound
    assert.ok(e.uncertaintySamples >= 29_000, `${e.uncertaintySamples}`);
    const e2 = estimateResetInstant(fit.fit, { hostSendUs: 3_000_000, hostRecvUs: 3_000_100, deviceTimeUs: 1_000_000 }, FS, 28_000)!;
    assert.ok(e2.uncertaintySamples < e.uncertaintySamples - 27_000, 'a tighter lower bound, a tighter interval');
  });

  it('the raw log keeps the reset estimate in the Start intent, and reads Start intents written before it existed', () => {
    const intent: Intent = { requestId: 9, command: 'start', resume: { reason: 'device-reset', missingDetectorSamples: 73, reset: { resetSessionIndex: 389.25, uncertaintySamples: 2.5 } } };
    const { type, payload } = encodeEntry({ type: 'intent', hostTimeUs: 1, intent });
    const back = decodeRecord(type, 1, payload);
    assert.deepEqual(back?.kind === 'entry' && back.entry.type === 'intent' && back.entry.intent, intent);
    const old = decodeRecord(type, 1, payload.subarray(0, 14)); // the 14-byte layout of earlier versions
    assert.deepEqual(old?.kind === 'entry' && old.entry.type === 'intent' && old.entry.intent, { requestId: 9, command: 'start', resume: { reason: 'device-reset', missingDetectorSamples: 73 } });
    const none = encodeEntry({ type: 'intent', hostTimeUs: 1, intent: { requestId: 3, command: 'start', resume: { reason: 'reconnect', missingDetectorSamples: 5 } } });
    const noneBack = decodeRecord(none.type, 1, none.payload);
    assert.deepEqual(noneBack?.kind === 'entry' && noneBack.entry.type === 'intent' && noneBack.entry.intent, { requestId: 3, command: 'start', resume: { reason: 'reconnect', missingDetectorSamples: 5 } });
  });
});

describe('host/rig: reconnect schedule', () => {
  it('polls every <= 200 ms from the start by default (no back-off towards 5 s)', () => {
    const s = new ReconnectSchedule();
    const delays = Array.from({ length: 50 }, () => s.nextDelayMs());
    assert.deepEqual(delays.slice(0, 3), [100, 200, 200]);
    assert.ok(delays.every((d) => d <= 200));
  });

  it('honours explicit options', () => {
    const s = new ReconnectSchedule({ reconnectInitialDelayMs: 10, reconnectMaxDelayMs: 40 });
    assert.deepEqual(Array.from({ length: 5 }, () => s.nextDelayMs()), [10, 20, 40, 40, 40]);
  });
});
